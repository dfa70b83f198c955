// `vc robot series <machine>`: a machine's CPU, load, memory, swap and disk over a window,
// averaged per bucket in SQL — the sparklines of the cockpit's machine screen.
import { realFilesystemSql } from "../health/filesystems.ts";
import { seriesTier, tieredSeriesSql } from "../retention/tiers.ts";
import { sql } from "../store/sql.ts";
import { arg, defineView, type ViewResult } from "./define.ts";
import { fullestDisks, latestSamples } from "./fleet.ts";
import { requireMachine } from "./read.ts";

/** One bucket: its start (epoch seconds) and the average over it, null where nothing was sampled. */
export type SeriesPoint = [t: number, value: number | null];

export interface SeriesData {
  machine: string;
  /** The first bucket's start and the view's instant, epoch seconds: the window rounded to whole buckets. */
  from: number;
  to: number;
  bucket_s: number;
  /** CPU busy %, load5, memory used %, swap used %, the fullest real filesystem's used %: one point per bucket, oldest first. */
  cpu: SeriesPoint[];
  load: SeriesPoint[];
  mem: SeriesPoint[];
  swap: SeriesPoint[];
  disk: SeriesPoint[];
  /** The newest sample at or before `to` (whatever its age: `at` says when). */
  latest: { at: string | null; cpu: number | null; load5: number | null; cpu_cores: number | null; mem_pct: number | null; disk_pct: number | null };
}

interface BucketRow {
  t: number;
  cpu: number | null;
  load: number | null;
  mem: number | null;
  swap: number | null;
  disk: number | null;
}

const iso = (epochS: number) => new Date(epochS * 1000).toISOString();

export default defineView({
  name: "series",
  summary: "One machine's CPU, load, memory, swap and fullest disk over a window, averaged per bucket (the sparklines)",
  args: {
    machine: arg.string("machine id", { positional: true, required: true, max: 200 }),
    window: arg.duration("how far back from now", { default: 6 * 3600, min: 60, max: 30 * 86_400 }),
    points: arg.int("how many buckets at most", { min: 10, max: 1000, default: 120, hint: "N" }),
  },
  async run(vc, { machine, window, points }): Promise<ViewResult<SeriesData>> {
    requireMachine(vc.config, machine);
    const now = vc.clock.now();
    const at = now.toISOString();
    // Buckets are aligned to the epoch (a refresh moves the sparkline by whole buckets) and the
    // last one holds `to`: at most `points` of them, covering at least the window but its last bucket.
    const to = Math.floor(now.getTime() / 1000);
    const bucket = Math.max(1, Math.ceil(window / points));
    const last = Math.floor(to / bucket) * bucket;
    const first = last - (Math.ceil(window / bucket) - 1) * bucket;
    const b = (n: number) => sql.raw(String(n));
    const bucketOf = sql`CAST(floor(epoch(collected_at) / ${b(bucket)}) AS BIGINT) * ${b(bucket)}`;
    const inWindow = sql`machine_id = ${machine} AND collected_at >= ${iso(first)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP`;
    // Past the raw retention (rows deleted by `vc vacuum`), the rollup tier that fits the window.
    const tier = await seriesTier(vc, { tables: ["sys_samples", "filesystems"], from: first, to, bucket });
    const [rows, [sample], [disk]] = await Promise.all([
      vc.store.query<BucketRow>(
        tier
          ? tieredSeriesSql({ machine, first, last, bucket, at, tier })
          : sql`WITH buckets AS (SELECT range AS t FROM range(${b(first)}, ${b(last + 1)}, ${b(bucket)})),
        sys AS (
          SELECT ${bucketOf} AS t, avg(cpu_total) AS cpu, avg(load5) AS load,
                 avg(100.0 * mem_used_bytes / nullif(mem_total_bytes, 0)) AS mem, avg(100.0 * swap_used_bytes / nullif(swap_total_bytes, 0)) AS swap
          FROM sys_samples WHERE ${inWindow} GROUP BY 1),
        fullest AS (SELECT collected_at, max(used_pct) AS used_pct FROM filesystems WHERE ${inWindow} AND ${realFilesystemSql()} GROUP BY collected_at),
        disk AS (SELECT ${bucketOf} AS t, avg(used_pct) AS disk FROM fullest GROUP BY 1)
        SELECT t, round(cpu, 2) AS cpu, round(load, 2) AS load, round(mem, 2) AS mem, round(swap, 2) AS swap, round(disk, 2) AS disk
        FROM buckets LEFT JOIN sys USING (t) LEFT JOIN disk USING (t) ORDER BY t`,
      ),
      latestSamples(vc.store, [machine], at),
      fullestDisks(vc.store, [machine], at),
    ]);
    const line = (k: keyof Omit<BucketRow, "t">) => rows.map((r): SeriesPoint => [Number(r.t), r[k] === null ? null : Number(r[k])]);
    return {
      data: {
        machine,
        from: first,
        to,
        bucket_s: bucket,
        cpu: line("cpu"),
        load: line("load"),
        mem: line("mem"),
        swap: line("swap"),
        disk: line("disk"),
        latest: {
          at: sample?.collected_at ?? null,
          cpu: sample?.cpu_total ?? null,
          load5: sample?.load5 ?? null,
          cpu_cores: sample?.cpu_cores ?? null,
          mem_pct: sample?.mem_pct ?? null,
          disk_pct: disk?.used_pct ?? null,
        },
      },
    };
  },
});
