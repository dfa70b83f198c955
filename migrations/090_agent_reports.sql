-- What agents tell vc through its MCP tools (issue 17): a task's completion report, and each
-- resource request with the advice vc gave. Later features learn from them.
CREATE TABLE task_reports(
    task_id VARCHAR PRIMARY KEY,       -- the agent's own id: a second report of it is not stored again
    reported_at TIMESTAMP NOT NULL,
    agent VARCHAR,
    machine_id VARCHAR,
    repo VARCHAR,
    duration_s DOUBLE,
    tokens BIGINT,
    outcome VARCHAR,                   -- success | failure | partial | … as the agent says
    metrics_json JSON NOT NULL         -- everything the agent sent
);

CREATE TABLE resource_requests(
    request_id VARCHAR PRIMARY KEY,
    requested_at TIMESTAMP NOT NULL,
    resource_type VARCHAR NOT NULL,    -- machine | account
    amount DOUBLE,
    agent VARCHAR,
    outcome VARCHAR NOT NULL,          -- advised | none_available
    advice_json JSON NOT NULL          -- what vc advised, with why
);
