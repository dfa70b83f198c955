-- Tables of plan §3.7 (mcp_agent_mail), §3.9 (dcg) and §3.11 (rano), shaped by the real tools
-- (test/fixtures/{mcp_agent_mail,dcg,rano}). Every table has a natural key, so reading the same
-- source twice adds nothing. machine_id, collected_at, source, source_version and schema_version
-- are stamped by the store.

-- ─── mcp_agent_mail ─────────────────────────────────────────────────────────────────────────
-- project_id is the project's slug (stable across machines and across a re-created mailbox);
-- project_key its human key (the repo path). Upstream ids are local to one storage.sqlite3, so
-- keys carry machine_id, and created_ts too: a wiped and re-created mailbox restarts its ids at 1,
-- and message 1 of the new mailbox must not be taken for message 1 of the old one.

CREATE TABLE mail_messages(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    project_id VARCHAR NOT NULL,
    project_key VARCHAR,
    message_id BIGINT NOT NULL,
    created_ts TIMESTAMP NOT NULL,     -- Rust server: INTEGER µs; Python server: naive UTC text
    thread_id VARCHAR,
    topic VARCHAR,                     -- Python server only
    sender VARCHAR,                    -- agent name
    sender_id BIGINT,
    importance VARCHAR,                -- low | normal | high | urgent
    ack_required BOOLEAN,
    subject VARCHAR,
    to_recipients_json JSON,           -- ["BlueLake", …]
    recipients_json JSON,              -- {"to":[…],"cc":[…],"bcc":[…]} (built from message_recipients on the Python server)
    attachments_count INTEGER,
    db_schema VARCHAR,                 -- rust | python
    raw_json JSON,
    PRIMARY KEY (machine_id, project_id, message_id, created_ts)
);

-- One row per observed read/ack state of a delivery: a later read_ts or ack_ts adds a row with the
-- new state, the same state read again adds nothing. The delivery's current state is its newest row
-- (or bool_or over read_ts/ack_ts not null).
CREATE TABLE mail_recipients(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    project_id VARCHAR NOT NULL,
    message_id BIGINT NOT NULL,
    message_created_ts TIMESTAMP NOT NULL,
    recipient VARCHAR NOT NULL,        -- agent name (agent #id when the agent row is gone)
    agent_id BIGINT,
    kind VARCHAR,                      -- to | cc | bcc
    state VARCHAR NOT NULL,            -- unread | read | unread+acked | read+acked
    read_ts TIMESTAMP,
    ack_ts TIMESTAMP,
    raw_json JSON,
    PRIMARY KEY (machine_id, project_id, message_id, message_created_ts, recipient, state)
);

-- One row per observed state of a reservation (its expiry, renewed in place, and its release).
CREATE TABLE mail_file_reservations(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    project_id VARCHAR NOT NULL,
    reservation_id BIGINT NOT NULL,
    created_ts TIMESTAMP NOT NULL,
    state_key VARCHAR NOT NULL,        -- "<expires epoch ms>|<released epoch ms or empty>"
    path_pattern VARCHAR,
    holder VARCHAR,                    -- agent name
    agent_id BIGINT,
    exclusive BOOLEAN,
    reason VARCHAR,
    expires_ts TIMESTAMP,
    released_ts TIMESTAMP,             -- file_reservations.released_ts, else file_reservation_releases (Rust)
    raw_json JSON,
    PRIMARY KEY (machine_id, project_id, reservation_id, created_ts, state_key)
);

-- ─── dcg ────────────────────────────────────────────────────────────────────────────────────
-- From the history database (~/.config/dcg/history.db, table commands) and/or the JSON decision
-- log ([logging] format = "json"). event_key identifies one evaluation whichever source told us:
-- sha256 of (ts to the second, command_hash, n-th such event in that second), so an event logged
-- by both sources is stored once. The command itself is kept only inside raw_json, exactly as dcg
-- wrote it (redacted when dcg redacts).
CREATE TABLE dcg_events(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    event_key VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    decision VARCHAR NOT NULL,         -- deny | warn | log | allow | bypass
    mode VARCHAR,                      -- decision log: the pack's mode (deny | warn | log)
    rule_id VARCHAR,                   -- "<pack_id>:<pattern_name>"
    pack_id VARCHAR,
    pattern_name VARCHAR,
    severity VARCHAR,                  -- neither real source records it; kept for the plan's queries
    cwd VARCHAR,                       -- history database only (working_dir)
    command_hash VARCHAR,              -- sha256 hex of the command as dcg recorded it
    reason VARCHAR,
    agent_type VARCHAR,
    session_id VARCHAR,
    allowlist_layer VARCHAR,           -- project | user | system when an allowlist let it through
    eval_duration_us BIGINT,
    budget_skip BOOLEAN,
    exit_code INTEGER,
    hostname VARCHAR,
    history_id BIGINT,                 -- commands.id in the history database
    origin VARCHAR NOT NULL,           -- history_db | decision_log
    raw_json JSON,
    PRIMARY KEY (machine_id, event_key)
);
CREATE INDEX dcg_events_ts ON dcg_events(ts);

-- ─── rano ───────────────────────────────────────────────────────────────────────────────────
-- `rano export --format jsonl`: one row per connect/close event. event_key is sha256 of the
-- event's identity (ts, run_id, event, pid, proto, local and remote address), so the events at
-- the cursor's second, which the next `--since` window returns again, add nothing.
CREATE TABLE rano_events(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    event_key VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,             -- second precision
    run_id VARCHAR,                    -- "<pid>-<epoch ms>" of the rano run
    event VARCHAR NOT NULL,            -- connect | close
    provider VARCHAR,                  -- anthropic | openai | google | unknown
    pid INTEGER,
    comm VARCHAR,
    cmdline VARCHAR,
    proto VARCHAR,
    local_ip VARCHAR,
    local_port INTEGER,
    remote_ip VARCHAR,
    remote_port INTEGER,
    domain VARCHAR,
    ancestry_path VARCHAR,
    duration_ms BIGINT,                -- on close events
    raw_json JSON,
    PRIMARY KEY (machine_id, event_key)
);
CREATE INDEX rano_events_ts ON rano_events(ts);

-- The plan's name and columns for the same rows.
CREATE VIEW net_events AS
SELECT machine_id, ts, event AS event_type, provider, pid, comm, remote_ip, remote_port, domain, duration_ms,
       run_id, proto, local_ip, local_port, collected_at, raw_json
FROM rano_events;

-- Per rano run and provider, derived from the events. A view, not a table: a poll sees only a
-- window of events, so a stored aggregate would be either partial (a window's sums) or repeated
-- (a snapshot each poll, which a second run with nothing new must not add), and the store only
-- inserts, never updates. The view is exact, always current, and adds no rows.
-- rano records no byte counts: bytes_transferred is NULL.
CREATE VIEW net_session_summary AS
SELECT machine_id,
       run_id,
       provider,
       max(collected_at) AS collected_at,
       count(*) FILTER (WHERE event = 'connect') AS connection_count,
       count(*) FILTER (WHERE event = 'close') AS close_count,
       CAST(NULL AS BIGINT) AS bytes_transferred,
       avg(duration_ms) FILTER (WHERE event = 'close') AS avg_duration_ms,
       max(duration_ms) AS max_duration_ms,
       count(DISTINCT pid) AS pid_count,
       count(DISTINCT domain) AS domain_count,
       min(ts) AS first_ts,
       max(ts) AS last_ts
FROM rano_events
GROUP BY machine_id, run_id, provider;
