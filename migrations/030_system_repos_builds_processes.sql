-- System (sysmoni), repos (ru), builds (rch) and processes (pt): plan §3.6, §3.8, §3.10, §5.2.
-- Every table has a natural key, so reading the same output twice adds nothing. Column units are
-- in their names; upstream units are converted in the plugins (plugins/<tool>/parse.ts).

-- sysmoni adds what its sample has beyond the fallback probe's columns of 001_core.sql.
-- inotify_watches: watches held by the collecting user's processes (the limit max_user_watches is
-- per user), counted from /proc/*/fdinfo by the sysmoni plugin; sysmoni's own NrWatches reads
-- /proc/sys/fs/inotify/nr_watches, which Linux does not have, so it is always 0 (kept in raw_json).
ALTER TABLE sys_samples ADD COLUMN sampled_at TIMESTAMP;           -- the tool's own sample time (UTC)
ALTER TABLE sys_samples ADD COLUMN sample_interval_s DOUBLE;       -- window the rates and CPU % cover
ALTER TABLE sys_samples ADD COLUMN mem_cached_bytes BIGINT;
ALTER TABLE sys_samples ADD COLUMN mem_buffers_bytes BIGINT;
ALTER TABLE sys_samples ADD COLUMN gpu_count INTEGER;
ALTER TABLE sys_samples ADD COLUMN gpu_util_max DOUBLE;            -- busiest GPU, percent
ALTER TABLE sys_samples ADD COLUMN temp_max_c DOUBLE;              -- hottest thermal zone, °C
ALTER TABLE sys_samples ADD COLUMN throttled_count INTEGER;        -- processes running niced (nice > 0)
ALTER TABLE sys_samples ADD COLUMN inotify_watches BIGINT;
ALTER TABLE sys_samples ADD COLUMN inotify_instances BIGINT;
ALTER TABLE sys_samples ADD COLUMN inotify_max_user_watches BIGINT;
ALTER TABLE sys_samples ADD COLUMN inotify_max_user_instances BIGINT;

-- sysmoni's Top[]: at most 64 processes, busiest CPU first.
CREATE TABLE sys_top_processes(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    pid INTEGER NOT NULL,
    rank INTEGER,                  -- 1 = busiest, as sysmoni sorted them
    comm VARCHAR,                  -- command line (sysmoni cuts it at 60 characters)
    nice INTEGER,
    cpu_pct DOUBLE,                -- percent of one core, so may pass 100
    mem_pct DOUBLE,                -- RSS as percent of RAM
    mem_bytes BIGINT,              -- mem_pct × the sample's total RAM, rounded
    fd_count INTEGER,
    fd_diff INTEGER,               -- change in open files since sysmoni's previous tick
    io_read_kib_s DOUBLE,          -- KiB/s over the sample interval
    io_write_kib_s DOUBLE,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, pid)
);

CREATE TABLE sys_gpu_samples(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    gpu_index INTEGER NOT NULL,    -- position in nvidia-smi's list
    name VARCHAR,
    util_pct DOUBLE,
    mem_used_mb DOUBLE,
    mem_total_mb DOUBLE,
    temp_c DOUBLE,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, gpu_index)
);

CREATE TABLE sys_temp_samples(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    zone VARCHAR NOT NULL,         -- thermal_zone0, …
    temp_c DOUBLE,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    PRIMARY KEY (machine_id, collected_at, zone)
);

-- ru: the repos a machine is configured for. repo_id is repoId() of lib/collect/ids.ts: the
-- normalised remote when ru knows one, else the path on that machine. First sighting wins.
CREATE TABLE repos(
    machine_id VARCHAR NOT NULL,
    repo_id VARCHAR NOT NULL,
    repo VARCHAR,                  -- ru's name for it: owner/repo or a custom name
    path VARCHAR,
    url VARCHAR,                   -- as written in ru's config (may be owner/repo shorthand)
    remote VARCHAR,                -- host/owner/repo
    collected_at TIMESTAMP,        -- first seen
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, repo_id)
);

-- ru status --no-fetch: one row per repo per collection. ahead/behind are as ru reports them:
-- -1 on both for a "diverged" repo whose histories git could not compare (unknown, not negative).
CREATE TABLE repo_status_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    repo_id VARCHAR NOT NULL,
    repo VARCHAR,
    path VARCHAR,
    status VARCHAR,                -- current | behind | ahead | diverged | no_upstream | missing | not_git
    branch VARCHAR,                -- null when detached, missing or not a git repo
    dirty BOOLEAN,
    ahead INTEGER,
    behind INTEGER,
    mismatch BOOLEAN,              -- origin differs from the URL in ru's config
    last_commit_at TIMESTAMP,      -- committer date of HEAD (git log -1), when readable
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, repo_id)
);

-- rch status --json. A daemon that does not answer is a row too (success false, daemon_state unreachable).
CREATE TABLE rch_status_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    reported_at TIMESTAMP,         -- the envelope's timestamp (epoch seconds)
    success BOOLEAN,
    error_code VARCHAR,
    error_message VARCHAR,
    daemon_state VARCHAR,          -- running | unreachable
    posture VARCHAR,               -- remote_ready | degraded | local_only
    posture_description VARCHAR,
    rch_schema_version VARCHAR,
    daemon_version VARCHAR,
    daemon_pid INTEGER,
    daemon_uptime_s BIGINT,
    daemon_started_at TIMESTAMP,
    workers_total INTEGER,
    workers_healthy INTEGER,
    workers_available INTEGER,     -- healthy with a circuit that is not open
    slots_total INTEGER,
    slots_available INTEGER,
    builds_active INTEGER,
    queue_depth INTEGER,
    issues_count INTEGER,
    alerts_active INTEGER,
    builds_total BIGINT,
    builds_succeeded BIGINT,
    builds_failed BIGINT,
    convergence_status VARCHAR,
    remediation_hints_json JSON,
    metrics_error VARCHAR,         -- why the /metrics scrape of this run failed, if it did
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at)
);

CREATE TABLE rch_worker_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    worker_id VARCHAR NOT NULL,
    host VARCHAR,
    user_name VARCHAR,
    status VARCHAR,                -- healthy | degraded | unreachable | draining | …
    circuit_state VARCHAR,         -- closed | half_open | open
    used_slots INTEGER,
    total_slots INTEGER,
    speed_score DOUBLE,
    consecutive_failures INTEGER,
    recovery_in_s BIGINT,
    last_error VARCHAR,
    pressure_state VARCHAR,
    pressure_disk_free_gb DOUBLE,
    pressure_disk_free_ratio DOUBLE,
    pressure_telemetry_fresh BOOLEAN,
    drift_state VARCHAR,           -- repo convergence: ready | drifting | stale | …
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, worker_id)
);

-- rchd's Prometheus /metrics, filtered to a tracked set of families (histogram buckets left out).
-- labels: the sample's labels as `{a="x",b="y"}` sorted by name ('' for none), the key's text form.
CREATE TABLE rch_metric_samples(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    ts TIMESTAMP,                  -- the sample's own timestamp, else the scrape's
    metric_name VARCHAR NOT NULL,  -- the sample's name (rch_worker_latency_ms_sum, …)
    family VARCHAR,                -- its metric family (rch_worker_latency_ms)
    metric_type VARCHAR,           -- counter | gauge | histogram | summary | untyped
    labels VARCHAR NOT NULL,
    labels_json JSON,
    value DOUBLE,                  -- NaN is stored as null
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    PRIMARY KEY (machine_id, collected_at, metric_name, labels)
);

-- pt robot plan: one row per collection, one finding per candidate process.
CREATE TABLE process_triage_snapshot(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    generated_at TIMESTAMP,
    session_id VARCHAR,
    pt_version VARCHAR,
    pt_schema_version VARCHAR,
    host_id VARCHAR,
    hostname VARCHAR,
    exit_code INTEGER,             -- 0 nothing to do, 1 candidates found (a plan, not a failure)
    total_processes INTEGER,
    candidates_found INTEGER,
    candidates_returned INTEGER,
    kill_count INTEGER,
    review_count INTEGER,
    spare_count INTEGER,
    policy_blocked_count INTEGER,
    expected_memory_freed_gb DOUBLE,
    threshold DOUBLE,
    findings_json JSON,            -- compact: pid, comm, classification, recommendation, score
    recommendations_json JSON,
    summary_json JSON,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at)
);

CREATE TABLE process_triage_findings(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    pid INTEGER NOT NULL,
    start_id VARCHAR,              -- <pid>:<start epoch s>: the process instance, safe against pid reuse
    started_at TIMESTAMP,
    ppid INTEGER,
    uid INTEGER,
    user_name VARCHAR,
    state VARCHAR,
    comm VARCHAR,                  -- pt's command_short
    command VARCHAR,
    classification VARCHAR,        -- useful | useful_bad | abandoned | zombie
    confidence VARCHAR,            -- high | medium | low
    score DOUBLE,
    posterior_useful DOUBLE,
    posterior_useful_bad DOUBLE,
    posterior_abandoned DOUBLE,
    posterior_zombie DOUBLE,
    age_s BIGINT,
    memory_mb DOUBLE,
    cpu_pct DOUBLE,
    recommendation VARCHAR,        -- KILL | REVIEW | THROTTLE | …
    recommended_action VARCHAR,
    recommendation_set VARCHAR,    -- kill | review | spare: the set of recommendations.* holding the pid
    reversibility VARCHAR,         -- irreversible | reversible | reversal | no_action
    policy_blocked BOOLEAN,
    policy_violation VARCHAR,
    supervisor_unit VARCHAR,
    signature_name VARCHAR,
    evidence_json JSON,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, pid)
);
