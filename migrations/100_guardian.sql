-- The guardian (issue 18, plan §6.3, §8.3): every protocol run is a record — suggested, pending a
-- person's approval, or executed — with each step's command, machine, exit code, output excerpt
-- and timing, and how its verification ended.
CREATE TABLE guardian_runs(
    run_id VARCHAR PRIMARY KEY,
    protocol VARCHAR NOT NULL,
    target_key VARCHAR NOT NULL,       -- unique within the protocol: one run at a time per target
    machine_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,             -- the autopilot mode the run was made in
    status VARCHAR NOT NULL,           -- suggested | pending | denied | expired | running | verified | blocked | failed | rolled_back | escalated
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    expires_at TIMESTAMP,              -- a pending approval's end
    decided_by VARCHAR,                -- who approved or denied
    decided_at TIMESTAMP,
    facts_json JSON NOT NULL,          -- what the trigger and the diagnosis reads saw
    plan_json JSON NOT NULL,           -- every step, its argv fixed: what a person approves is what runs
    verification_json JSON,            -- each check: when, ok, detail
    reason VARCHAR,                    -- why it ended so (the refusal, the failed step, the escalation)
    incident_id VARCHAR
);
CREATE INDEX guardian_runs_target ON guardian_runs(protocol, target_key);
CREATE INDEX guardian_runs_created ON guardian_runs(created_at);

CREATE TABLE guardian_steps(
    run_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    phase VARCHAR NOT NULL,            -- diagnosis | treatment | rollback
    step VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,             -- read | command | suggest | wait
    machine_id VARCHAR,
    argv_json JSON,
    status VARCHAR NOT NULL,           -- ok | failed | refused | skipped | suggested
    exit_code INTEGER,
    output_excerpt VARCHAR,
    started_at TIMESTAMP NOT NULL,
    duration_ms DOUBLE,
    detail VARCHAR,
    audit_id VARCHAR,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX guardian_steps_machine ON guardian_steps(machine_id, started_at);

-- One active run per (protocol, target): the insert that claims it is what two racers contend for.
CREATE TABLE guardian_active(
    protocol VARCHAR NOT NULL,
    target_key VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (protocol, target_key)
);
