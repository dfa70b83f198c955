-- Incidents (plan §5.4): alerts that belong together — a critical one, or several high ones on one
-- machine or account within a window — with the machines, accounts and repos involved, notes, and a
-- root-cause hypothesis. Opened at the end of a poll cycle (lib/incidents/open.ts); closed only by a
-- person (`vc incident close`). The timeline is reconstructed from the sources when asked, not stored.

CREATE TABLE incidents(
    incident_id VARCHAR PRIMARY KEY,      -- inc-YYYYMMDD-N (N: the day's count)
    title VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,            -- the worst of its alerts
    state VARCHAR NOT NULL,               -- open | closed
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    closed_by VARCHAR,
    resolution VARCHAR,
    machines_json JSON NOT NULL,          -- ["orko", …]
    accounts_json JSON NOT NULL,          -- the alerts' `account` labels
    repos_json JSON NOT NULL,             -- the alerts' `repo` / `repo_id` labels
    root_cause_json JSON,                 -- the hypothesis as it stood when closed (null while open: computed when asked)
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE incident_alerts(
    incident_id VARCHAR NOT NULL,
    alert_id VARCHAR NOT NULL,
    rule_id VARCHAR NOT NULL,
    machine_id VARCHAR,
    labels_json JSON NOT NULL,
    severity VARCHAR NOT NULL,
    joined_at TIMESTAMP NOT NULL,
    role VARCHAR NOT NULL,                -- trigger (opened it) | related (joined later)
    PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX incident_alerts_alert ON incident_alerts(alert_id);

CREATE TABLE incident_notes(
    note_id VARCHAR PRIMARY KEY,
    incident_id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,                -- when it was written (`at` is a keyword of DuckDB's)
    author VARCHAR NOT NULL,
    text VARCHAR NOT NULL
);
CREATE INDEX incident_notes_incident ON incident_notes(incident_id);
