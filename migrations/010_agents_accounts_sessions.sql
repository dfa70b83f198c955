-- Agents (ntm), accounts (caut, caam) and sessions (cass): plan §3.1–3.4 and §5.2, with the
-- columns the real tools print (see test/fixtures/<tool>/). Every table has a natural key: a
-- snapshot table keys on (machine_id, collected_at, the item's identity), an event table on the
-- event's own identity, so the same rows twice add nothing.
-- Times are UTC TIMESTAMPs; upstream units are converted by the collectors (Go nanosecond
-- durations, local-offset times, epoch milliseconds). Upstream "zero" times are NULL.
-- `schema_version` is vc's collector schema (stamped); the tool's own is in <tool>_schema_version.

-- ─── ntm ─────────────────────────────────────────────────────────────────────────────────────
-- One row per tmux session per collection, merged from `ntm --robot-status` (headers, or the
-- legacy per-agent shape) and `ntm list --json` (work dir, windows, panes, agent counts).
CREATE TABLE ntm_sessions_snapshot(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    session_name VARCHAR NOT NULL,
    attached BOOLEAN,
    agent_count INTEGER,            -- status agent_count, else the legacy agents[] length, else list agents.total
    health_status VARCHAR,          -- status v2 health.status (healthy | warning | …)
    health_reason VARCHAR,
    session_exists BOOLEAN,         -- legacy status `exists`
    windows INTEGER,
    pane_count INTEGER,
    work_dir VARCHAR,               -- list working_directory
    base_project VARCHAR,
    label VARCHAR,
    git_branch VARCHAR,             -- plan column; no ntm output carries it yet
    created_at TIMESTAMP,           -- legacy status created_at
    agent_counts_json JSON,         -- list agents {claude, codex, …, user, total}
    panes_json JSON,                -- legacy status agents[] as printed
    in_status BOOLEAN,              -- seen by --robot-status
    in_list BOOLEAN,                -- seen by list --json
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,                  -- {"status": <session as printed>, "list": <session as printed>}
    PRIMARY KEY (machine_id, collected_at, session_name)
);

-- One row per collection: the fleet totals of `ntm --robot-status` (summary).
CREATE TABLE ntm_activity_snapshot(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    total_sessions INTEGER,
    total_agents INTEGER,
    attached_count INTEGER,
    by_type_json JSON,              -- agents_by_type, or the legacy *_count fields that are non-zero
    by_state_json JSON,             -- agents_by_state (v2 only)
    overall_status VARCHAR,
    health_score DOUBLE,
    alerts_active INTEGER,
    alert_counts_json JSON,
    ready_work INTEGER,
    in_progress INTEGER,
    mail_unread INTEGER,
    mail_urgent INTEGER,
    tmux_available BOOLEAN,
    ntm_version VARCHAR,
    ntm_schema_version VARCHAR,     -- e.g. ntm.robot.status.v2; NULL for the legacy shape
    ntm_generated_at TIMESTAMP,
    derived_from VARCHAR,           -- status | list (status failed: totals counted from list)
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at)
);

-- One row per agent pane per collection, when the output has per-agent data (legacy status).
CREATE TABLE ntm_agents_snapshot(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    session_name VARCHAR NOT NULL,
    pane_id VARCHAR NOT NULL,       -- tmux pane id (%3), else window.pane_idx
    agent_type VARCHAR,
    variant VARCHAR,
    window_index INTEGER,
    pane_index INTEGER,
    is_active BOOLEAN,
    pid BIGINT,
    child_pid BIGINT,
    last_output_at TIMESTAMP,
    seconds_since_output BIGINT,
    process_state VARCHAR,
    process_state_name VARCHAR,
    memory_mb DOUBLE,
    output_lines_since_last BIGINT,
    context_tokens BIGINT,
    context_limit BIGINT,
    context_percent DOUBLE,
    context_model VARCHAR,
    rate_limit_detected BOOLEAN,
    rate_limit_match VARCHAR,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, session_name, pane_id)
);

-- ─── caut ────────────────────────────────────────────────────────────────────────────────────
-- One row per provider/account/window per collection, from `caut usage --json` (caut.v1).
CREATE TABLE account_usage_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    provider VARCHAR NOT NULL,
    account VARCHAR NOT NULL,       -- caut `account`, else identity.accountEmail, else ''
    window_name VARCHAR NOT NULL,   -- primary | secondary | tertiary
    used_percent DOUBLE,            -- 0..100
    remaining_percent DOUBLE,       -- max(0, 100 − used), as caut computes it
    window_minutes INTEGER,
    resets_at TIMESTAMP,
    reset_description VARCHAR,
    credits_remaining DOUBLE,       -- credits.remaining (Codex)
    status VARCHAR,                 -- provider status indicator (none | minor | major | critical | maintenance | unknown), with --status
    status_description VARCHAR,
    auth_warning VARCHAR,
    account_email VARCHAR,
    account_organization VARCHAR,
    login_method VARCHAR,
    fetch_source VARCHAR,           -- caut `source`: oauth | cli | web | …
    provider_version VARCHAR,
    updated_at TIMESTAMP,           -- usage.updatedAt
    caut_generated_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,                  -- the provider payload as printed
    PRIMARY KEY (machine_id, collected_at, provider, account, window_name)
);

-- Provider errors and status changes (caut), one row per change: a provider starts failing,
-- recovers, gets an auth warning, or its status page indicator changes.
CREATE TABLE account_status_events(
    machine_id VARCHAR NOT NULL,
    event_id VARCHAR NOT NULL,      -- sha256 of (ts, provider, account, event_type, message)
    ts TIMESTAMP NOT NULL,          -- caut generatedAt
    provider VARCHAR NOT NULL,
    account VARCHAR,
    event_type VARCHAR NOT NULL,    -- fetch_error | recovered | auth_warning | auth_warning_cleared | provider_status
    message VARCHAR,
    details_json JSON,
    collected_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, event_id)
);

-- caut's own history (~/.local/share/caut/usage-history.sqlite, table usage_snapshots), read
-- incrementally by id when the file exists. One row per upstream row.
CREATE TABLE caut_usage_history(
    machine_id VARCHAR NOT NULL,
    history_id BIGINT NOT NULL,
    provider VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    fetch_source VARCHAR,
    primary_used_pct DOUBLE,
    primary_window_minutes INTEGER,
    primary_resets_at TIMESTAMP,
    secondary_used_pct DOUBLE,
    secondary_window_minutes INTEGER,
    secondary_resets_at TIMESTAMP,
    tertiary_used_pct DOUBLE,
    tertiary_window_minutes INTEGER,
    tertiary_resets_at TIMESTAMP,
    cost_today_usd DOUBLE,
    cost_mtd_usd DOUBLE,
    credits_remaining DOUBLE,
    account_email VARCHAR,
    account_org VARCHAR,
    account_id VARCHAR,
    trigger_type VARCHAR,
    fetch_duration_ms BIGINT,
    collected_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    -- fetched_at too: a recreated history file restarts its ids
    PRIMARY KEY (machine_id, history_id, provider, fetched_at)
);

-- ─── caam ────────────────────────────────────────────────────────────────────────────────────
-- One row per provider/profile/window per collection, from `caam limits --format json`.
CREATE TABLE account_limits_snapshot(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    provider VARCHAR NOT NULL,
    profile VARCHAR NOT NULL,
    window_name VARCHAR NOT NULL,   -- primary | secondary | tertiary | model:<name>
    utilization DOUBLE,             -- 0..1 as caam prints it
    utilization_pct DOUBLE,         -- utilization × 100 (caam's used_percent truncates)
    used_percent INTEGER,
    resets_at TIMESTAMP,
    window_minutes INTEGER,         -- window_duration (Go ns) / 60e9
    plan_type VARCHAR,
    fetched_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,                  -- the window as printed
    PRIMARY KEY (machine_id, collected_at, provider, profile, window_name)
);

-- One row per provider/profile per collection, from the same output: what a profile holds
-- beside its windows (plan, credits, burn rate, depletion forecast, fetch error).
CREATE TABLE caam_profile_limits_snapshot(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    provider VARCHAR NOT NULL,
    profile VARCHAR NOT NULL,
    plan_type VARCHAR,
    rate_limit_tier VARCHAR,
    fetched_at TIMESTAMP,
    error VARCHAR,
    window_count INTEGER,
    max_utilization_pct DOUBLE,
    credits_has BOOLEAN,
    credits_unlimited BOOLEAN,
    credits_balance DOUBLE,
    burn_tokens_per_minute DOUBLE,
    burn_tokens_per_hour DOUBLE,
    burn_percent_per_hour DOUBLE,
    burn_sample_seconds DOUBLE,     -- sample_period (Go ns) / 1e9
    burn_sample_size INTEGER,
    burn_confidence DOUBLE,
    burn_total_tokens BIGINT,
    burn_by_model_json JSON,
    estimated_depletion TIMESTAMP,  -- NULL when caam prints the zero time
    depletion_confidence DOUBLE,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, provider, profile)
);

-- One row per tool per collection, from `caam status --json`.
CREATE TABLE account_profile_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    tool VARCHAR NOT NULL,
    logged_in BOOLEAN,
    active_profile VARCHAR,
    error VARCHAR,
    health_status VARCHAR,          -- healthy | warning | critical | unknown
    health_reason VARCHAR,
    health_expires_at TIMESTAMP,
    health_error_count INTEGER,
    cooldown_remaining VARCHAR,
    identity_email VARCHAR,
    identity_organization VARCHAR,
    identity_plan_type VARCHAR,
    identity_account_id VARCHAR,
    identity_expires_at TIMESTAMP,
    warnings_json JSON,             -- status warnings that name this tool ("claude/work: …")
    recommendations_json JSON,      -- status recommendations that name this tool
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, tool)
);

-- ─── cass ────────────────────────────────────────────────────────────────────────────────────
-- One row per collection, from `cass health --json`.
CREATE TABLE cass_index_status(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    state VARCHAR,                  -- status: healthy | rebuilding | stalled | unhealthy | degraded | not_initialized
    healthy BOOLEAN,
    health_level VARCHAR,
    initialized BOOLEAN,
    index_status VARCHAR,           -- state.index.status: ready | stale | building | missing | stalled
    index_exists BOOLEAN,
    index_fresh BOOLEAN,
    index_stale BOOLEAN,
    rebuilding BOOLEAN,
    last_index_at TIMESTAMP,
    freshness_seconds BIGINT,       -- state.index.age_seconds
    documents BIGINT,
    total_sessions BIGINT,          -- db.conversations
    total_messages BIGINT,
    pending_sessions BIGINT,
    db_exists BOOLEAN,
    errors_json JSON,
    warnings_json JSON,
    explanation VARCHAR,
    recommended_action VARCHAR,
    latency_ms DOUBLE,
    data_dir VARCHAR,
    db_path VARCHAR,
    exit_code INTEGER,              -- cass exits non-zero when unhealthy, and still prints the JSON
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at)
);

-- One row per metric (and dimension) per collection, from `cass stats --json`.
CREATE TABLE cass_stats_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    metric_name VARCHAR NOT NULL,
    dimension_key VARCHAR NOT NULL, -- '' or e.g. agent=codex: the dimensions as a key
    metric_value DOUBLE,
    dimensions_json JSON,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, metric_name, dimension_key)
);

-- One row per time bucket (hour or day, UTC) of `cass timeline --json`, written when the bucket
-- is new or changed since the last collection (the cursor remembers each bucket's counts).
CREATE TABLE session_timeline_buckets(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    bucket_start TIMESTAMP NOT NULL,
    bucket_end TIMESTAMP,
    granularity VARCHAR,            -- hour | day
    conversation_count INTEGER,
    message_count BIGINT,
    open_sessions INTEGER,          -- sessions without ended_at
    by_agent_json JSON,             -- {agent: sessions}
    range_start TIMESTAMP,          -- the timeline's range (epoch ms upstream)
    range_end TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,                  -- the bucket's sessions as printed
    PRIMARY KEY (machine_id, collected_at, bucket_start)
);
