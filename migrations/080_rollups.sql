-- Retention (plan §5.3): numeric samples rolled up into a 1-minute and a 1-hour tier, kept longer
-- than the raw rows; what has been rolled up; and each vacuum's work per table, step by step, so a
-- vacuum killed at any point is finished by the next one (lib/retention/vacuum.ts).

-- One row per (raw table, machine, metric, series, bucket). `series` tells apart the series of one
-- metric on one machine ('' when there is one: a mount, a label set). A bucket of one sample has
-- min, max and last null (they equal avg: a null costs nothing to store); the view `rollups` below
-- fills them in. No primary key: an index over tens of millions of rows would cost more memory than
-- the tier saves; a rollup replaces its buckets (delete, then insert, in one transaction), which is
-- what makes running it twice harmless. The 1-minute tier holds what the charts draw (CPU, load,
-- memory, swap, disks' used %); the 1-hour tier every metric rolled up.
CREATE TABLE rollups_1m(
    source_table VARCHAR NOT NULL,
    machine_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    series VARCHAR NOT NULL,
    bucket_start TIMESTAMP NOT NULL,
    sample_count BIGINT NOT NULL,
    min_value DOUBLE,
    max_value DOUBLE,
    avg_value DOUBLE,
    last_value DOUBLE                     -- the value of the bucket's newest sample
);

CREATE TABLE rollups_1h(
    source_table VARCHAR NOT NULL,
    machine_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    series VARCHAR NOT NULL,
    bucket_start TIMESTAMP NOT NULL,
    sample_count BIGINT NOT NULL,
    min_value DOUBLE,
    max_value DOUBLE,
    avg_value DOUBLE,
    last_value DOUBLE
);

-- Both tiers, min, max and last filled in: what to query.
CREATE VIEW rollups AS
SELECT '1m' AS tier, source_table, machine_id, metric, series, bucket_start, sample_count,
       coalesce(min_value, avg_value) AS min_value, coalesce(max_value, avg_value) AS max_value, avg_value, coalesce(last_value, avg_value) AS last_value
FROM rollups_1m
UNION ALL
SELECT '1h', source_table, machine_id, metric, series, bucket_start, sample_count,
       coalesce(min_value, avg_value), coalesce(max_value, avg_value), avg_value, coalesce(last_value, avg_value)
FROM rollups_1h;

-- Which buckets of each raw table a tier holds: [rolled_from, rolled_to).
CREATE TABLE rollup_state(
    source_table VARCHAR NOT NULL,
    tier VARCHAR NOT NULL,                -- 1m | 1h
    rolled_from TIMESTAMP NOT NULL,
    rolled_to TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source_table, tier)
);

-- Per table: raw rows before kept_from were deleted (but the newest of a machine gone quiet, and
-- rows that arrived late); exported_to: rows before it were exported when deletion is off.
CREATE TABLE retention_state(
    table_name VARCHAR PRIMARY KEY,
    kept_from TIMESTAMP,
    exported_to TIMESTAMP,
    dead_rows BIGINT NOT NULL DEFAULT 0,  -- rows deleted since the table was last rebuilt (their space is not reused until then)
    compacted_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

-- One row per table a vacuum works on. state: planned → exported → done; cancelled when deletion
-- was turned off before an interrupted run was finished; error: the last attempt's failure.
-- `cutoff` and `keep_json` are fixed when planned: an interrupted run is finished with them.
CREATE TABLE retention_runs(
    run_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    planned_at TIMESTAMP NOT NULL,
    time_column VARCHAR NOT NULL,
    cutoff TIMESTAMP NOT NULL,            -- rows with time_column before it are deleted (and exported first)
    keep_json JSON,                       -- [{machine_id, from}]: the newest rows of a machine gone quiet, kept
    mode VARCHAR NOT NULL,                -- delete | export (export only: deletion is off)
    export_from TIMESTAMP,                -- export only: the lower bound (the previous export's cutoff)
    export_dir VARCHAR,
    state VARCHAR NOT NULL,               -- planned | exported | done | cancelled
    rows_planned BIGINT,
    rows_exported BIGINT,
    rows_deleted BIGINT,
    files_json JSON,                      -- the Parquet files written, relative to export_dir
    compacted BOOLEAN,
    error VARCHAR,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, table_name)
);
