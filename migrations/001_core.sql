-- Core tables of plan §5.2 used by the first slice: inventory, tool capabilities, system samples,
-- filesystems (df), ingestion cursors, run records and the audit log.
-- Every ingest table has a natural key (PRIMARY KEY): inserting the same rows twice adds nothing.
-- No sequences: DuckDB sequences are not transactional, so a read-only SELECT could advance one;
-- ids are hyperids made by vc instead.

CREATE TABLE machines(
    machine_id VARCHAR PRIMARY KEY,
    ssh_target VARCHAR NOT NULL,
    tags_json JSON,
    roles_json JSON,
    allow_write_commands BOOLEAN NOT NULL DEFAULT false,
    allow_autopilot BOOLEAN NOT NULL DEFAULT false,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    last_ok_at TIMESTAMP
);

CREATE TABLE machine_tool_capabilities(
    machine_id VARCHAR NOT NULL,
    tool_name VARCHAR NOT NULL,
    available BOOLEAN NOT NULL,
    path VARCHAR,
    version VARCHAR,
    checked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (machine_id, tool_name)
);

CREATE TABLE sys_samples(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    source_version VARCHAR,
    schema_version INTEGER,
    cpu_total DOUBLE,              -- percent busy over the sample window, 0..100
    cpu_cores INTEGER,
    load1 DOUBLE,
    load5 DOUBLE,
    load15 DOUBLE,
    mem_used_bytes BIGINT,
    mem_total_bytes BIGINT,
    mem_available_bytes BIGINT,
    swap_used_bytes BIGINT,
    swap_total_bytes BIGINT,
    uptime_seconds DOUBLE,
    procs_running INTEGER,
    procs_total INTEGER,
    disk_read_mbps DOUBLE,
    disk_write_mbps DOUBLE,
    net_rx_mbps DOUBLE,
    net_tx_mbps DOUBLE,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, source)
);

CREATE TABLE filesystems(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    mount VARCHAR NOT NULL,
    filesystem VARCHAR,
    fs_type VARCHAR,
    size_bytes BIGINT,
    used_bytes BIGINT,
    avail_bytes BIGINT,
    used_pct DOUBLE,               -- as df prints it: used / (used + available) x 100
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    PRIMARY KEY (machine_id, collected_at, mount)
);

CREATE TABLE ingestion_cursors(
    machine_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    cursor_key VARCHAR NOT NULL,
    cursor_kind VARCHAR NOT NULL,  -- timestamp | file_offset | pk | opaque
    cursor_value JSON NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (machine_id, source, cursor_key)
);

-- Every collector run, autopilot action and user command (plan §9.4).
CREATE TABLE audit_events(
    event_id VARCHAR PRIMARY KEY,  -- hyperid: unique across processes without a shared counter
    ts TIMESTAMP NOT NULL,
    event_type VARCHAR NOT NULL,   -- collector_run | autopilot_action | user_command | ...
    actor VARCHAR NOT NULL,
    machine_id VARCHAR,
    action VARCHAR,
    result VARCHAR,                -- ok | failed | skipped | ...
    duration_ms DOUBLE,
    rows_inserted BIGINT,
    bytes_read BIGINT,
    warnings_count INTEGER,
    error VARCHAR,
    details_json JSON
);
CREATE INDEX audit_events_ts ON audit_events(ts);

-- The latest run of each (machine, collector): what staleness and `vc doctor` read.
CREATE TABLE collector_state(
    machine_id VARCHAR NOT NULL,
    collector VARCHAR NOT NULL,
    last_run_at TIMESTAMP NOT NULL,
    last_result VARCHAR NOT NULL,
    last_ok_at TIMESTAMP,
    last_error VARCHAR,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (machine_id, collector)
);
