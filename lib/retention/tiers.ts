// Charts over windows whose start is past the raw retention: the raw rows after the horizon (the
// cutoff of the last deletion), a rollup tier before it — the 1-hour tier for a window longer than
// the raw span, the 1-minute tier for one mostly past it.
import type { VcConfig } from "../config/define.ts";
import { realFilesystemSql } from "../health/filesystems.ts";
import { sql, type SqlQuery } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import { TIER_TABLE, type Tier } from "./_tables.ts";
import { retentionOf } from "./plan.ts";
import { FULLEST_DISK_METRIC } from "./rollup.ts";

/** Where a chart switches from a tier to the raw rows (epoch seconds), and which tier. */
export interface SeriesTier {
  split: number;
  tier: Tier;
}

/** Days of raw rows the config keeps of a table, or null (for ever). */
export function rawDaysOf(config: Pick<VcConfig, "retention">, table: string): number | null {
  const r = retentionOf(config).raw_days;
  return r[table] ?? r.default ?? null;
}

/**
 * The tier a chart of [from, to] reads before the raw horizon of `tables`, or null when every raw
 * row of the window is still there (nothing deleted, or deleted only before `from`).
 */
export async function seriesTier(
  vc: { store: Pick<Store, "query">; config: Pick<VcConfig, "retention"> },
  o: { tables: readonly string[]; from: number; to: number; bucket: number },
): Promise<SeriesTier | null> {
  const list = sql.join(o.tables.map((t) => sql`${t}`));
  let kept: { kept_from: string | null }[];
  try {
    kept = await vc.store.query(sql`SELECT max(kept_from) AS kept_from FROM retention_state WHERE table_name IN (${list})`);
  } catch {
    return null; // a store from before retention
  }
  const horizon = kept[0]?.kept_from;
  if (!horizon) return null;
  const split = Math.floor(Date.parse(horizon) / 1000);
  if (split <= o.from) return null;
  const reach = await vc.store.query<{ tier: Tier; from: string }>(sql`SELECT tier, max(rolled_from) AS "from" FROM rollup_state WHERE source_table IN (${list}) GROUP BY tier`);
  const minuteFrom = reach.find((r) => r.tier === "1m")?.from;
  const minuteReaches = minuteFrom !== undefined && Date.parse(minuteFrom) / 1000 <= o.from;
  const days = o.tables.map((t) => rawDaysOf(vc.config, t)).filter((d): d is number => d !== null);
  const rawSpan = days.length ? Math.min(...days) * 86_400 : o.to - split;
  const longer = o.to - o.from > rawSpan;
  // Hourly buckets in a chart of finer buckets would leave every other one empty: the minute tier then, when it reaches.
  const tier: Tier = minuteReaches && (!longer || o.bucket < 3600) ? "1m" : "1h";
  return { split, tier };
}

/**
 * The chart query of `vc robot series` across the horizon: per bucket, the average of the raw
 * samples after `split` and of the tier's buckets before it, weighted by their sample counts.
 * Columns: t, cpu, load, mem, swap, disk.
 */
export function tieredSeriesSql(o: { machine: string; first: number; last: number; bucket: number; at: string; tier: SeriesTier }): SqlQuery {
  const b = sql.raw(String(o.bucket));
  const tierTable = sql.identifier(TIER_TABLE[o.tier.tier]);
  const from = new Date(o.first * 1000).toISOString();
  const split = new Date(o.tier.split * 1000).toISOString();
  const rawOf = (col: string) => sql`CAST(floor(epoch(${sql.raw(col)}) / ${b}) AS BIGINT) * ${b}`;
  const raw = sql`machine_id = ${o.machine} AND collected_at >= ${from}::TIMESTAMP AND collected_at >= ${split}::TIMESTAMP AND collected_at <= ${o.at}::TIMESTAMP`;
  const tier = (table: string) =>
    sql`source_table = ${table} AND machine_id = ${o.machine} AND bucket_start >= ${from}::TIMESTAMP AND bucket_start < ${split}::TIMESTAMP AND bucket_start <= ${o.at}::TIMESTAMP`;
  const weighted = (metric: string, name: string) =>
    sql`sum(avg_value * sample_count) FILTER (WHERE metric = ${metric}) AS ${sql.raw(`${name}_s`)}, sum(sample_count) FILTER (WHERE metric = ${metric}) AS ${sql.raw(`${name}_n`)}`;
  const avg = (name: string) => sql.raw(`(coalesce(r.${name}_s, 0) + coalesce(x.${name}_s, 0)) / nullif(coalesce(r.${name}_n, 0) + coalesce(x.${name}_n, 0), 0) AS ${name}`);
  return sql`WITH buckets AS (SELECT range AS t FROM range(${sql.raw(String(o.first))}, ${sql.raw(String(o.last + 1))}, ${b})),
    r AS (
      SELECT ${rawOf("collected_at")} AS t, sum(cpu_total) AS cpu_s, count(cpu_total) AS cpu_n, sum(load5) AS load_s, count(load5) AS load_n,
             sum(mem) AS mem_s, count(mem) AS mem_n, sum(swap) AS swap_s, count(swap) AS swap_n
      FROM (SELECT collected_at, cpu_total, load5, 100.0 * mem_used_bytes / nullif(mem_total_bytes, 0) AS mem, 100.0 * swap_used_bytes / nullif(swap_total_bytes, 0) AS swap
            FROM sys_samples WHERE ${raw}) GROUP BY 1),
    x AS (
      SELECT ${rawOf("bucket_start")} AS t, ${weighted("cpu_total", "cpu")}, ${weighted("load5", "load")}, ${weighted("mem_used_pct", "mem")}, ${weighted("swap_used_pct", "swap")}
      FROM ${tierTable} WHERE ${tier("sys_samples")} GROUP BY 1),
    sys AS (SELECT t, ${avg("cpu")}, ${avg("load")}, ${avg("mem")}, ${avg("swap")} FROM r FULL JOIN x USING (t)),
    fullest AS (SELECT collected_at, max(used_pct) AS used_pct FROM filesystems WHERE ${raw} AND ${realFilesystemSql()} GROUP BY collected_at),
    dr AS (SELECT ${rawOf("collected_at")} AS t, sum(used_pct) AS disk_s, count(used_pct) AS disk_n FROM fullest GROUP BY 1),
    dx AS (SELECT ${rawOf("bucket_start")} AS t, ${weighted(FULLEST_DISK_METRIC, "disk")} FROM ${tierTable} WHERE ${tier("filesystems")} GROUP BY 1),
    disk AS (SELECT t, ${sql.raw("(coalesce(dr.disk_s, 0) + coalesce(dx.disk_s, 0)) / nullif(coalesce(dr.disk_n, 0) + coalesce(dx.disk_n, 0), 0) AS disk")} FROM dr FULL JOIN dx USING (t))
    SELECT t, round(cpu, 2) AS cpu, round(load, 2) AS load, round(mem, 2) AS mem, round(swap, 2) AS swap, round(disk, 2) AS disk
    FROM buckets LEFT JOIN sys USING (t) LEFT JOIN disk USING (t) ORDER BY t`;
}
