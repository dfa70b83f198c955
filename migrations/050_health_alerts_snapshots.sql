-- Health per cycle, alerts with their history, silences and deliveries, and the time-travel
-- snapshots (plan §5.2, §5.4, Part VIII).

CREATE TABLE health_factors(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    factor_id VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    value DOUBLE,
    details_json JSON,
    PRIMARY KEY (machine_id, collected_at, factor_id)
);

CREATE TABLE health_summary(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    overall_score DOUBLE NOT NULL,
    severity VARCHAR NOT NULL,
    worst_factor_id VARCHAR,
    details_json JSON,
    PRIMARY KEY (machine_id, collected_at)
);

-- One row per alert (a rule and its labels); its state changes in place, its history below.
CREATE TABLE alerts(
    alert_id VARCHAR PRIMARY KEY,         -- rule:hash(labels)
    rule_id VARCHAR NOT NULL,
    alert_type VARCHAR NOT NULL,          -- the plan's name for rule_id
    machine_id VARCHAR,
    labels_json JSON NOT NULL,
    severity VARCHAR NOT NULL,
    title VARCHAR,
    state VARCHAR NOT NULL,               -- pending | firing | resolved
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,      -- last evaluation that found it
    pending_since TIMESTAMP,
    fired_at TIMESTAMP,
    resolved_at TIMESTAMP,
    value_json JSON,
    message VARCHAR,
    expected VARCHAR,
    received VARCHAR,
    evidence_json JSON,                   -- the row(s) behind the finding
    suggested_actions_json JSON,
    acked_by VARCHAR,
    acked_at TIMESTAMP,
    ack_note VARCHAR,
    flapping BOOLEAN NOT NULL DEFAULT false,
    transitions_json JSON,                -- recent firing/resolved instants, for flap detection
    updated_at TIMESTAMP NOT NULL
);

-- Append-only: every state change of every alert, and whether it was notified (and if not, why).
CREATE TABLE alert_history(
    event_id VARCHAR PRIMARY KEY,
    alert_id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    rule_id VARCHAR NOT NULL,
    machine_id VARCHAR,
    event VARCHAR NOT NULL,               -- pending | firing | resolved | flapping | acked | silenced | expired
    from_state VARCHAR,
    to_state VARCHAR,
    value_json JSON,
    message VARCHAR,
    notified BOOLEAN NOT NULL,
    suppressed_by VARCHAR                 -- silence:<id> | inhibited:<alert> | acked | flapping
);
CREATE INDEX alert_history_alert ON alert_history(alert_id);

CREATE TABLE silences(
    silence_id VARCHAR PRIMARY KEY,
    matchers_json JSON NOT NULL,          -- {"rule": "disk_low", "machine_id": "orko", "mount": "/data*"}
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    comment VARCHAR,
    ends_at TIMESTAMP,                    -- null: until the matched alerts resolve
    until_resolved BOOLEAN NOT NULL DEFAULT false,
    expired_at TIMESTAMP
);

CREATE TABLE alert_deliveries(
    delivery_id VARCHAR PRIMARY KEY,
    event_id VARCHAR NOT NULL,
    alert_id VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    attempt INTEGER NOT NULL,
    status VARCHAR NOT NULL,              -- ok | failed
    error VARCHAR
);

CREATE TABLE fleet_state_snapshots(
    collected_at TIMESTAMP PRIMARY KEY,
    hash VARCHAR NOT NULL,
    fleet_health_score DOUBLE,
    risk_level VARCHAR,
    summary_json JSON
);

CREATE TABLE machine_state_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    hash VARCHAR NOT NULL,
    health_score DOUBLE,
    summary_json JSON,
    PRIMARY KEY (machine_id, collected_at)
);
