-- Push ingest (issue 19): batches that vc node published through NATS JetStream and the hub
-- committed (one row per batch part, written in the same transaction as its rows: a batch
-- delivered again is acknowledged without a second commit), and batches parked with the reason the
-- hub could not take them (the rest go on).
CREATE TABLE ingest_batches(
    batch_id VARCHAR NOT NULL,         -- machine/collector/run instant
    part INTEGER NOT NULL,             -- 1-based part of a batch split under the server's message limit
    parts INTEGER NOT NULL,
    machine_id VARCHAR NOT NULL,
    collector VARCHAR NOT NULL,
    run_at TIMESTAMP NOT NULL,         -- when the node collected it
    committed_at TIMESTAMP NOT NULL,   -- when the hub committed it
    stream_seq BIGINT,
    rows INTEGER NOT NULL,
    PRIMARY KEY (batch_id, part)
);
CREATE INDEX ingest_batches_machine ON ingest_batches(machine_id, committed_at);

CREATE TABLE ingest_parked(
    parked_id VARCHAR PRIMARY KEY,
    batch_id VARCHAR,
    subject VARCHAR NOT NULL,
    machine_id VARCHAR,
    collector VARCHAR,
    parked_at TIMESTAMP NOT NULL,
    reason VARCHAR NOT NULL,
    stream_seq BIGINT,
    payload_json JSON                  -- the batch as it came (cut at 1 MiB), for a person to look at
);
