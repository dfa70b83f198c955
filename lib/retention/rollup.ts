// Numeric samples rolled up into the 1-minute and 1-hour tiers (min, max, avg, count, last per
// machine, metric and series), kept longer than the raw rows. Raw rows are rolled up as they pass
// their span, just before a vacuum deletes them: the tiers hold what the raw rows no longer do, and
// nothing twice. A tier is written slice by slice, each slice in one transaction with its watermark.
import { realFilesystemSql } from "../health/filesystems.ts";
import { sql, type SqlQuery } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import { TIER_SECONDS, TIER_TABLE, TIERS, inRange, iso, startOfDay, type Reader, type TableMeta, type Tier } from "./_tables.ts";

/** A raw table whose numeric columns are rolled up. */
export interface RollupSource {
  table: string;
  /** Rows `(machine_id, t, series, metric, v)` of the table for one tier, for the rows `where` selects. */
  values(where: SqlQuery, tier: Tier): SqlQuery;
}

/** Days each tier is kept (null: for ever). */
export type RollupDays = Record<Tier, number | null>;

/**
 * How much raw time one transaction rolls up: enough rows that DuckDB writes them straight to the
 * file (not through the WAL), few enough that the aggregate stays small.
 */
const SLICE_MS: Record<Tier, number> = { "1m": 3 * 86_400_000, "1h": 30 * 86_400_000 };

/**
 * The machine's samples, as numbers (memory and swap as % used). `minute`: in the 1-minute tier too
 * (what the charts draw); the others are in the 1-hour tier only. At vc's usual poll of one sample
 * every minute or two, a minute bucket holds a single sample: a minute tier of every metric would
 * be a second copy of the raw rows (`bun run bench memory`).
 */
const SAMPLE_METRICS: Record<string, { expr: string; needs: string[]; minute?: boolean }> = {
  cpu_total: { expr: "cpu_total", needs: ["cpu_total"], minute: true },
  load1: { expr: "load1", needs: ["load1"], minute: true },
  load5: { expr: "load5", needs: ["load5"], minute: true },
  load15: { expr: "load15", needs: ["load15"] },
  mem_used_pct: { expr: "100.0 * mem_used_bytes / nullif(mem_total_bytes, 0)", needs: ["mem_used_bytes", "mem_total_bytes"], minute: true },
  swap_used_pct: { expr: "100.0 * swap_used_bytes / nullif(swap_total_bytes, 0)", needs: ["swap_used_bytes", "swap_total_bytes"], minute: true },
  mem_available_bytes: { expr: "mem_available_bytes", needs: ["mem_available_bytes"] },
  disk_read_mbps: { expr: "disk_read_mbps", needs: ["disk_read_mbps"] },
  disk_write_mbps: { expr: "disk_write_mbps", needs: ["disk_write_mbps"] },
  net_rx_mbps: { expr: "net_rx_mbps", needs: ["net_rx_mbps"] },
  net_tx_mbps: { expr: "net_tx_mbps", needs: ["net_tx_mbps"] },
  procs_running: { expr: "procs_running", needs: ["procs_running"] },
  gpu_util_max: { expr: "gpu_util_max", needs: ["gpu_util_max"] },
  temp_max_c: { expr: "temp_max_c", needs: ["temp_max_c"] },
};

/** Per mount, for real filesystems (not tmpfs, snaps…); the 1-minute tier keeps used_pct only. */
const MOUNT_METRICS = ["used_pct", "used_bytes", "avail_bytes"];
const MOUNT_MINUTE = ["used_pct"];

/** The metric the charts' disk line reads: the fullest real filesystem of each sample. */
export const FULLEST_DISK_METRIC = "fullest_used_pct";

/** Columns of a table of Prometheus samples (one numeric value per metric name and label set). */
const SAMPLE_SHAPE = ["machine_id", "metric_name", "labels", "value"];

const unpivot = (table: TableMeta, exprs: [string, string][], series: string, where: SqlQuery) => {
  const t = sql.identifier(table.time!);
  const cols = exprs.map(([name, expr]) => `CAST(${expr} AS DOUBLE) AS "${name}"`).join(", ");
  return sql`SELECT machine_id, t, ${sql.raw(series)} AS series, metric, v FROM (UNPIVOT (
      SELECT machine_id, ${t} AS t${sql.raw(series === "''" ? "" : `, ${series}`)}, ${sql.raw(cols)} FROM ${sql.identifier(table.name)} WHERE ${where}
    ) ON ${sql.raw(exprs.map(([name]) => `"${name}"`).join(", "))} INTO NAME metric VALUE v)`;
};

/**
 * The tables vc rolls up, as this store has them: the machine samples and filesystems of vc's core,
 * and any table shaped like Prometheus samples (machine_id, metric_name, labels, value).
 */
export function rollupSources(tables: ReadonlyMap<string, TableMeta>): RollupSource[] {
  const out: RollupSource[] = [];
  const has = (t: TableMeta, cols: string[]) => cols.every((c) => t.columns.some((x) => x.name === c));
  const samples = tables.get("sys_samples");
  if (samples?.time) {
    const exprs = (tier: Tier) =>
      Object.entries(SAMPLE_METRICS)
        .filter(([, m]) => has(samples, m.needs) && (tier === "1h" || m.minute))
        .map(([name, m]): [string, string] => [name, m.expr]);
    if (exprs("1h").length) out.push({ table: samples.name, values: (where, tier) => unpivot(samples, exprs(tier), "''", where) });
  }
  const fs = tables.get("filesystems");
  if (fs?.time && has(fs, ["mount", "fs_type", "filesystem", ...MOUNT_METRICS])) {
    const real = realFilesystemSql();
    out.push({
      table: fs.name,
      values: (where, tier) => {
        const t = sql.identifier(fs.time!);
        return sql`${unpivot(
          fs,
          (tier === "1m" ? MOUNT_MINUTE : MOUNT_METRICS).map((m): [string, string] => [m, m]),
          "mount",
          sql`${where} AND ${real}`,
        )}
          UNION ALL
          SELECT machine_id, ${t} AS t, '' AS series, ${FULLEST_DISK_METRIC} AS metric, max(CAST(used_pct AS DOUBLE)) AS v
          FROM ${sql.identifier(fs.name)} WHERE ${where} AND ${real} GROUP BY machine_id, ${t}`;
      },
    });
  }
  for (const t of tables.values()) {
    if (t.tier || !t.time || !has(t, SAMPLE_SHAPE) || t.columns.find((c) => c.name === "value")?.type !== "DOUBLE") continue;
    const time = sql.identifier(t.time);
    out.push({
      table: t.name,
      values: (where) => sql`SELECT machine_id, ${time} AS t, labels AS series, metric_name AS metric, value AS v FROM ${sql.identifier(t.name)} WHERE ${where}`,
    });
  }
  return out;
}

/** What one tier of one source holds: [from, to). */
export interface RollupRange {
  table: string;
  tier: Tier;
  from: string;
  to: string;
}

/** The work a rollup would do: raw rows of [from, to) into one tier. */
export interface RollupPlan extends RollupRange {
  /** Raw rows in the range. */
  rows: number;
}

interface StateRow {
  source_table: string;
  tier: Tier;
  rolled_from: string;
  rolled_to: string;
}

/** Each tier's range per source, as `rollup_state` records it. */
export async function rollupRanges(read: Reader): Promise<RollupRange[]> {
  const rows = await read<StateRow>(sql`SELECT source_table, tier, rolled_from, rolled_to FROM rollup_state ORDER BY source_table, tier`);
  return rows.map((r) => ({ table: r.source_table, tier: r.tier, from: r.rolled_from, to: r.rolled_to }));
}

const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;

/** What a rollup reads: the store's tables, the instant, each tier's span and each table's cutoff. */
export interface RollupOptions {
  tables: ReadonlyMap<string, TableMeta>;
  now: Date;
  days: RollupDays;
  /**
   * Per raw table, where its raw rows stop being kept (the vacuum's cutoff, epoch ms): rows before it
   * are rolled up, as they pass their span. A table not named is not rolled up: its raw rows stay.
   */
  upto: ReadonlyMap<string, number>;
}

/**
 * What a rollup would do: for each source with a cutoff, each tier from where it stopped (the first
 * time: the source's first row, or the start of the tier's own span) to the cutoff, and the raw rows that reads.
 */
export async function planRollups(read: Reader, o: RollupOptions): Promise<RollupPlan[]> {
  const state = await rollupRanges(read);
  const plans: RollupPlan[] = [];
  for (const source of rollupSources(o.tables)) {
    const end = o.upto.get(source.table);
    if (end === undefined) continue;
    const meta = o.tables.get(source.table)!;
    let first: number | null = null;
    for (const tier of TIERS) {
      const days = o.days[tier];
      const spanStart = days === null ? Number.NEGATIVE_INFINITY : startOfDay(o.now.getTime() - days * 86_400_000);
      const had = state.find((s) => s.table === source.table && s.tier === tier);
      let from: number;
      if (had) from = Math.max(Date.parse(had.to), spanStart);
      else {
        if (first === null) {
          const [row] = await read<{ first: string | null }>(sql`SELECT min(${sql.identifier(meta.time!)}) AS first FROM ${sql.identifier(meta.name)}`);
          first = row?.first ? Date.parse(row.first) : Number.NaN;
        }
        if (Number.isNaN(first)) continue;
        from = Math.max(floorTo(first, 3_600_000), spanStart);
      }
      if (from >= end) continue;
      const [n] = await read<{ n: number }>(sql`SELECT count(*)::BIGINT AS n FROM ${sql.identifier(meta.name)} WHERE ${inRange(meta, from, end)}`);
      plans.push({ table: source.table, tier, from: iso(from), to: iso(end), rows: Number(n?.n ?? 0) });
    }
  }
  return plans;
}

/** Told as a rollup goes: slices of one source's tier done out of the total. */
export type RollupProgress = { table: string; tier: Tier; done: number; total: number };

/**
 * Rolls the raw rows past their span into both tiers (see planRollups), a slice per transaction
 * with its watermark, so a rollup stopped midway goes on from there and none is counted twice.
 * Returns what was done.
 * @example await runRollups(store, { tables, now, days: { "1m": 30, "1h": null }, upto: new Map([["sys_samples", cutoff]]) })
 */
export async function runRollups(store: Store, o: RollupOptions & { onProgress?: (p: RollupProgress) => void }): Promise<RollupPlan[]> {
  const read = store.query.bind(store) as Reader;
  const plans = await planRollups(read, o);
  const sources = new Map(rollupSources(o.tables).map((s) => [s.table, s]));
  const stopped = new Map((await rollupRanges(read)).map((r) => [`${r.table}|${r.tier}`, Date.parse(r.to)]));
  for (const plan of plans) {
    const source = sources.get(plan.table)!;
    const meta = o.tables.get(plan.table)!;
    const tier = sql.identifier(TIER_TABLE[plan.tier]);
    const unit = TIER_SECONDS[plan.tier] === 60 ? "minute" : "hour";
    const [from, to] = [Date.parse(plan.from), Date.parse(plan.to)];
    const total = Math.ceil((to - from) / SLICE_MS[plan.tier]);
    // Buckets before where the tier stopped are written already: a slice there replaces them.
    const written = stopped.get(`${plan.table}|${plan.tier}`) ?? Number.NEGATIVE_INFINITY;
    for (let i = 0, s = from; s < to; i++, s += SLICE_MS[plan.tier]) {
      const e = Math.min(to, s + SLICE_MS[plan.tier]);
      await store.transaction(async (tx) => {
        if (s < written) await tx.run(sql`DELETE FROM ${tier} WHERE source_table = ${plan.table} AND bucket_start >= ${iso(s)}::TIMESTAMP AND bucket_start < ${iso(e)}::TIMESTAMP`);
        // A bucket of one sample keeps its value once (min, max and last are null: they equal avg), and
        // rows go in bucket order: with the store's small blocks DuckDB compresses neither doubles nor
        // timestamps, but a column of nulls costs nothing and runs of one bucket_start little.
        await tx.run(sql`INSERT INTO ${tier} (source_table, machine_id, metric, series, bucket_start, sample_count, min_value, max_value, avg_value, last_value)
          SELECT ${plan.table}, machine_id, metric, series, date_trunc(${sql.raw(`'${unit}'`)}, t) AS b, count(*) AS n,
                 CASE WHEN n > 1 THEN min(v) END, CASE WHEN n > 1 THEN max(v) END, avg(v), CASE WHEN n > 1 THEN arg_max(v, t) END
          FROM (${source.values(inRange(meta, s, e), plan.tier)}) WHERE v IS NOT NULL AND NOT isnan(v)
          GROUP BY machine_id, metric, series, b ORDER BY b, machine_id, metric, series`);
        // A tier that starts again after a gap (its span passed it by) holds from the new start.
        await tx.run(sql`INSERT INTO rollup_state (source_table, tier, rolled_from, rolled_to, updated_at)
          VALUES (${plan.table}, ${plan.tier}, ${iso(from)}::TIMESTAMP, ${iso(e)}::TIMESTAMP, ${o.now.toISOString()}::TIMESTAMP)
          ON CONFLICT (source_table, tier) DO UPDATE SET
            rolled_from = CASE WHEN excluded.rolled_from > rollup_state.rolled_to THEN excluded.rolled_from ELSE least(rollup_state.rolled_from, excluded.rolled_from) END,
            rolled_to = excluded.rolled_to, updated_at = excluded.updated_at`);
      });
      o.onProgress?.({ table: plan.table, tier: plan.tier, done: i + 1, total });
    }
  }
  return plans;
}
