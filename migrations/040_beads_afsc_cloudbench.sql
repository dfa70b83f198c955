-- Tables of plan §3.12–3.14 / §5.2: beads (bv + br), afsc (automated_flywheel_setup_checker) and
-- cloud_benchmarker. Column names follow the plan; columns the real tools add are added.
-- Every table has a natural key: the same rows twice add nothing.

-- ── beads ───────────────────────────────────────────────────────────────────────────────────────

-- One row per repository per collection: bv --robot-triage plus br ready --json.
CREATE TABLE beads_triage_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    repo_id VARCHAR NOT NULL,          -- repoId(): the remote when ru names one, else machine + path
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    repo_path VARCHAR,
    repo_name VARCHAR,                 -- ru's owner/name, else the folder name
    repo_url VARCHAR,                  -- ru's url as written (may be owner/name)
    bv_version VARCHAR,
    generated_at TIMESTAMP,            -- bv's generated_at (UTC)
    data_hash VARCHAR,
    issue_count INTEGER,
    ready_count INTEGER,               -- ready issues: br ready (all of them), else bv quick_ref.actionable_count
    ready_source VARCHAR,              -- br | bv
    open_count INTEGER,
    actionable_count INTEGER,
    blocked_count INTEGER,
    in_progress_count INTEGER,
    top_pick_id VARCHAR,
    top_pick_title VARCHAR,
    top_pick_score DOUBLE,
    quick_ref_json JSON,
    recommendations_json JSON,
    quick_wins_json JSON,
    blockers_json JSON,                -- triage.blockers_to_clear
    project_health_json JSON,
    alerts_json JSON,
    commands_json JSON,
    ready_json JSON,                   -- br ready --json as received
    raw_json JSON,                     -- bv --robot-triage as received
    PRIMARY KEY (machine_id, collected_at, repo_id)
);

-- Versions of issues from .beads/issues.jsonl. Inserts never update, so the key holds a hash of the
-- JSONL line: an edited issue adds a row, the same line read again adds nothing. collected_at is
-- when a version was first read; beads_issues_latest is the current state.
CREATE TABLE beads_issues(
    repo_id VARCHAR NOT NULL,
    issue_id VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,     -- sha256 (first 32 hex) of the JSONL line
    machine_id VARCHAR,
    collected_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    repo_path VARCHAR,
    title VARCHAR,
    status VARCHAR,                    -- open | in_progress | blocked | deferred | closed | tombstone | pinned
    priority INTEGER,                  -- 0 (highest) .. 4
    type VARCHAR,                      -- issue_type
    assignee VARCHAR,
    owner VARCHAR,
    created_by VARCHAR,
    estimated_minutes INTEGER,
    labels_json JSON,
    deps_json JSON,                    -- dependencies[] as received
    blocked_by_json JSON,              -- depends_on_id of the "blocks" dependencies
    comments_count INTEGER,
    external_ref VARCHAR,
    created_at TIMESTAMP,
    updated_at TIMESTAMP,
    closed_at TIMESTAMP,
    close_reason VARCHAR,
    deleted_at TIMESTAMP,
    raw_json JSON,
    PRIMARY KEY (repo_id, issue_id, content_hash)
);

CREATE VIEW beads_issues_latest AS
    SELECT * FROM beads_issues
    QUALIFY row_number() OVER (PARTITION BY repo_id, issue_id ORDER BY updated_at DESC NULLS LAST, collected_at DESC, content_hash) = 1;

-- Graph health per repository per collection, from the triage's project_health.
CREATE TABLE beads_graph_metrics(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    repo_id VARCHAR NOT NULL,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    repo_path VARCHAR,
    node_count INTEGER,
    edge_count INTEGER,
    density DOUBLE,
    has_cycles BOOLEAN,
    phase2_ready BOOLEAN,
    total_count INTEGER,
    open_count INTEGER,
    closed_count INTEGER,
    blocked_count INTEGER,
    actionable_count INTEGER,
    in_progress_count INTEGER,
    not_closed_count INTEGER,
    dependency_blocked_count INTEGER,
    closed_last_7_days INTEGER,
    closed_last_30_days INTEGER,
    avg_days_to_close DOUBLE,
    stale_count INTEGER,
    stalest_issue_id VARCHAR,
    stalest_issue_days INTEGER,
    stale_threshold_days INTEGER,
    by_status_json JSON,
    by_type_json JSON,
    by_priority_json JSON,
    velocity_json JSON,
    pagerank_json JSON,                -- {issue_id: pagerank} for the recommended issues (the triage has no more)
    betweenness_json JSON,             -- {issue_id: betweenness}, likewise
    raw_json JSON,                     -- project_health as received
    PRIMARY KEY (machine_id, collected_at, repo_id)
);

-- ── afsc ────────────────────────────────────────────────────────────────────────────────────────

-- One row per run (a results_YYYYMMDD_HHMMSS.jsonl file; its last line is the run summary).
CREATE TABLE afsc_run_facts(
    machine_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,           -- the summary's run_id (a UUID), else the results file's name
    collected_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    results_file VARCHAR,
    ts TIMESTAMP,                      -- timestamp_start (UTC)
    ts_end TIMESTAMP,                  -- timestamp_end (UTC)
    status VARCHAR,                    -- failed when any installer failed or timed out, skipped when all skipped, else passed
    total INTEGER,
    passed INTEGER,
    failed INTEGER,                    -- afsc counts timed-out installers as failed
    skipped INTEGER,
    timedout INTEGER,                  -- from the result lines
    duration_ms BIGINT,                -- duration_total_ms: the sum of the installers' durations
    wall_ms BIGINT,                    -- timestamp_end - timestamp_start
    error_category VARCHAR,            -- the most frequent error category of the failed installers
    failed_installers_json JSON,
    raw_json JSON,                     -- the summary line as received (null when the file has none)
    PRIMARY KEY (machine_id, run_id)
);

-- One row per installer result line of a run.
CREATE TABLE afsc_event_logs(
    machine_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    installer_name VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,             -- when the installer finished (UTC)
    collected_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    event_type VARCHAR,                -- installer_result
    status VARCHAR,                    -- passed | failed | skipped | timedout
    severity VARCHAR,                  -- error_classification.severity as afsc prints it (Transient, Configuration, …)
    error_category VARCHAR,
    retryable BOOLEAN,
    confidence DOUBLE,
    duration_ms BIGINT,
    exit_code INTEGER,
    retry_count INTEGER,
    sha256_verified BOOLEAN,
    message VARCHAR,                   -- stderr_excerpt
    results_file VARCHAR,
    raw_json JSON,
    PRIMARY KEY (machine_id, run_id, installer_name, ts)
);

-- ── cloud_benchmarker ───────────────────────────────────────────────────────────────────────────

-- One row per host, benchmark run and benchmark (the long form of GET /data/raw/).
CREATE TABLE cloud_bench_raw(
    machine_id VARCHAR NOT NULL,       -- the machine whose benchmarker server was read
    hostname VARCHAR NOT NULL,         -- the benchmarked host
    bench_datetime VARCHAR NOT NULL,   -- the run's datetime as the server prints it (naive, server local time)
    benchmark_type VARCHAR NOT NULL,   -- the upstream field: cpu_speed_test__events_per_second, …
    collected_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    ts TIMESTAMP,                      -- bench_datetime read in the server's UTC offset, as UTC
    utc_offset VARCHAR,                -- the offset used (+02:00)
    ip_address VARCHAR,                -- may be UNKNOWN
    value DOUBLE,
    higher_is_better BOOLEAN,          -- false for latencies
    upstream_id BIGINT,
    raw_json JSON,                     -- the whole record as received
    PRIMARY KEY (machine_id, hostname, bench_datetime, benchmark_type)
);

-- The latest benchmark run's overall scores, one row per host per collection.
CREATE TABLE cloud_bench_overall(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    hostname VARCHAR NOT NULL,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    bench_datetime VARCHAR,
    ts TIMESTAMP,
    utc_offset VARCHAR,
    ip_address VARCHAR,
    overall_score DOUBLE,              -- 0..100, relative to the other hosts of the same run
    rank INTEGER,                      -- 1 = best of that run
    hosts_in_run INTEGER,
    subscores_json JSON,               -- that host's /data/raw/ benchmarks of the same run
    upstream_id BIGINT,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, hostname)
);
