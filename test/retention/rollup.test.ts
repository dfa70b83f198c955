// Rollups: each tier's min, max, avg, count and last per machine, metric and series equal what is
// computed here from the raw rows past their span; running twice (or again a day later) counts
// nothing twice; a table of Prometheus samples is rolled up per label set; the 1-minute tier starts
// within its span.
// And charts past the raw retention: `vc robot series` after a vacuum answers as it did before it.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { createDemoFleet } from "../../examples/demo-fleet.ts";
import { createFixedClock, openCockpit, resolveConfig, runRollups, runVacuum, sql, type Store } from "../../lib/index.ts";
import { loadTables } from "../../lib/retention/_tables.ts";
import { seriesTier } from "../../lib/retention/tiers.ts";
import type { SeriesData } from "../../lib/views/series.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { sysprobe } from "../../plugins/index.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-rollup-");
const NOW = new Date("2026-01-25T03:00:00Z");
const days = { "1m": 3, "1h": null };
/** Where the raw rows stop being kept: what is before it is rolled up. */
const CUTOFF = Date.parse("2026-01-25T00:00:00Z");
let store: Store;

interface Tier {
  source_table: string;
  machine_id: string;
  metric: string;
  series: string;
  bucket_start: string;
  sample_count: number;
  min_value: number | null;
  max_value: number | null;
  avg_value: number;
  last_value: number | null;
}

/** Samples at irregular times (several in some minutes), a tmpfs beside the disks, Prometheus samples with a NaN. */
beforeAll(async () => {
  store = await createTestStore();
  await store.run(sql`INSERT INTO sys_samples (machine_id, collected_at, source, cpu_total, load5, load15, mem_used_bytes, mem_total_bytes, swap_used_bytes, swap_total_bytes)
    SELECT 'm' || (i % 2), TIMESTAMP '2026-01-20 00:00:00' + to_seconds(i * 37), 'sysprobe', (i * 7919) % 100, (i % 13) / 3.0, (i % 17) / 4.0,
           (i % 50) * 1000000, 64000000, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 7 END, 100
    FROM range(11000) r(i)`);
  await store.run(sql`INSERT INTO filesystems (machine_id, collected_at, mount, filesystem, fs_type, size_bytes, used_bytes, avail_bytes, used_pct, source)
    SELECT machine_id, collected_at, mount, fs, t, 1000, u, 1000 - u, u / 10.0, 'sysprobe' FROM (
      SELECT 'm' || (i % 2) AS machine_id, TIMESTAMP '2026-01-20 00:00:00' + to_seconds(i * 120) AS collected_at, m.mount, m.fs, m.t,
             CASE m.mount WHEN '/dev/shm' THEN 1000 ELSE (i * 31 + length(m.mount) * 100) % 900 END AS u
      FROM range(3000) r(i), (VALUES ('/', '/dev/sda1', 'ext4'), ('/data', '/dev/sdb', 'xfs'), ('/dev/shm', 'tmpfs', 'tmpfs')) m(mount, fs, t))`);
  await store.run(sql`INSERT INTO rch_metric_samples (machine_id, collected_at, metric_name, family, metric_type, labels, value)
    SELECT 'm0', TIMESTAMP '2026-01-24 00:00:00' + to_seconds(i * 90), 'rch_queue_depth', 'rch_queue_depth', 'gauge', l,
           CASE WHEN i = 7 THEN 'NaN'::DOUBLE ELSE (i % 11)::DOUBLE END
    FROM range(1000) r(i), (VALUES ('{worker="a"}'), ('{worker="b"}')) w(l)`);
});
afterAll(async () => store?.close());

const tier = (name: string) => store.query<Tier>(sql`SELECT * FROM ${sql.identifier(name)} ORDER BY source_table, machine_id, metric, series, bucket_start`);

/** The tier computed here from raw values. */
function expected(values: { machine: string; metric: string; series: string; at: string; v: number | null }[], step: number) {
  const groups = new Map<string, { at: string; v: number }[]>();
  for (const x of values) {
    if (x.v === null || Number.isNaN(x.v)) continue;
    const b = new Date(Math.floor(Date.parse(x.at) / step) * step).toISOString();
    const k = [x.machine, x.metric, x.series, b].join("|");
    groups.set(k, [...(groups.get(k) ?? []), { at: x.at, v: x.v }]);
  }
  return new Map(
    [...groups].map(([k, xs]) => {
      const vs = xs.map((x) => x.v);
      const last = xs.reduce((a, b) => (b.at >= a.at ? b : a));
      return [k, { n: vs.length, min: Math.min(...vs), max: Math.max(...vs), avg: vs.reduce((a, b) => a + b, 0) / vs.length, last: last.v }];
    }),
  );
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

function compare(rows: Tier[], want: ReturnType<typeof expected>, table: string) {
  const mine = rows.filter((r) => r.source_table === table);
  expect(mine.length).toBe(want.size);
  let bad = 0;
  for (const r of mine) {
    const w = want.get([r.machine_id, r.metric, r.series, r.bucket_start].join("|"));
    // A bucket of one sample keeps it once: min, max and last are null (the `rollups` view fills them in).
    const one = r.sample_count === 1 && r.min_value === null && r.max_value === null && r.last_value === null;
    const fill = (v: number | null) => v ?? r.avg_value;
    if (
      !w ||
      w.n !== r.sample_count ||
      (r.sample_count === 1 && !one) ||
      !close(w.min, fill(r.min_value)) ||
      !close(w.max, fill(r.max_value)) ||
      !close(w.avg, r.avg_value) ||
      !close(w.last, fill(r.last_value))
    )
      bad++;
  }
  expect(bad).toBe(0);
}

describe("rollups", () => {
  it("hold min, max, avg, count and last per machine, metric and series, as computed from the raw rows", async () => {
    const tables = await loadTables(store.query.bind(store));
    // The raw rows before each table's cutoff, as a vacuum rolls them up just before it deletes them.
    const done = await runRollups(store, { tables, now: NOW, days, upto: new Map(["sys_samples", "filesystems", "rch_metric_samples"].map((t) => [t, CUTOFF])) });
    expect(done.map((r) => `${r.table} ${r.tier} ${r.from} ${r.to}`).sort()).toEqual([
      "filesystems 1h 2026-01-20T00:00:00.000Z 2026-01-25T00:00:00.000Z",
      "filesystems 1m 2026-01-22T00:00:00.000Z 2026-01-25T00:00:00.000Z",
      "rch_metric_samples 1h 2026-01-24T00:00:00.000Z 2026-01-25T00:00:00.000Z",
      "rch_metric_samples 1m 2026-01-24T00:00:00.000Z 2026-01-25T00:00:00.000Z",
      "sys_samples 1h 2026-01-20T00:00:00.000Z 2026-01-25T00:00:00.000Z",
      "sys_samples 1m 2026-01-22T00:00:00.000Z 2026-01-25T00:00:00.000Z",
    ]);
    const sys = await store.query<{ machine_id: string; collected_at: string; cpu_total: number; load5: number; mem: number; swap: number | null }>(
      sql`SELECT machine_id, collected_at, cpu_total, load5, 100.0 * mem_used_bytes / mem_total_bytes AS mem, 100.0 * swap_used_bytes / swap_total_bytes AS swap FROM sys_samples`,
    );
    const sysValues = sys.flatMap((r) =>
      (["cpu_total", "load5", "mem_used_pct", "swap_used_pct"] as const).map((metric) => ({
        machine: r.machine_id,
        metric,
        series: "",
        at: r.collected_at,
        v: metric === "cpu_total" ? r.cpu_total : metric === "load5" ? r.load5 : metric === "mem_used_pct" ? r.mem : r.swap,
      })),
    );
    const fs = await store.query<{ machine_id: string; collected_at: string; mount: string; used_pct: number }>(
      sql`SELECT machine_id, collected_at, mount, used_pct FROM filesystems`,
    );
    const real = fs.filter((r) => r.mount !== "/dev/shm");
    const fullest = new Map<string, { machine: string; at: string; v: number }>();
    for (const r of real) {
      const k = `${r.machine_id}|${r.collected_at}`;
      if (!fullest.has(k) || fullest.get(k)!.v < r.used_pct) fullest.set(k, { machine: r.machine_id, at: r.collected_at, v: r.used_pct });
    }
    const fsValues = [
      ...real.map((r) => ({ machine: r.machine_id, metric: "used_pct", series: r.mount, at: r.collected_at, v: r.used_pct })),
      ...[...fullest.values()].map((f) => ({ ...f, metric: "fullest_used_pct", series: "" })),
    ];
    const metrics = await store.query<{ collected_at: string; labels: string; value: number | null }>(sql`SELECT collected_at, labels, value FROM rch_metric_samples`);
    const promValues = metrics
      .map((r) => ({ machine: "m0", metric: "rch_queue_depth", series: r.labels, at: r.collected_at, v: r.value }))
      .filter((x) => Date.parse(x.at) < CUTOFF);

    const hour = await tier("rollups_1h");
    const minute = await tier("rollups_1m");
    const only = (rows: Tier[], metrics: string[]) => rows.filter((r) => metrics.includes(r.metric));
    compare(only(hour, ["cpu_total", "load5", "mem_used_pct", "swap_used_pct"]), expected(sysValues, 3_600_000), "sys_samples");
    compare(only(hour, ["used_pct", "fullest_used_pct"]), expected(fsValues, 3_600_000), "filesystems");
    compare(hour, expected(promValues, 3_600_000), "rch_metric_samples");
    // The 1-minute tier starts at its span (3 days back, from the start of that day), not at the first sample.
    const inSpan = <T extends { at: string }>(xs: T[]) => xs.filter((x) => x.at >= "2026-01-22T00:00:00.000Z" && x.at < "2026-01-25T00:00:00.000Z");
    compare(only(minute, ["cpu_total", "load5", "mem_used_pct", "swap_used_pct"]), expected(inSpan(sysValues), 60_000), "sys_samples");
    compare(only(minute, ["used_pct", "fullest_used_pct"]), expected(inSpan(fsValues), 60_000), "filesystems");
    // The minute tier holds what the charts draw; the hour tier every metric.
    const metricsOf = (rows: Tier[], table: string) => [...new Set(rows.filter((r) => r.source_table === table).map((r) => r.metric))].sort();
    expect(metricsOf(minute, "sys_samples")).toEqual(["cpu_total", "load5", "mem_used_pct", "swap_used_pct"]);
    expect(metricsOf(hour, "sys_samples")).toEqual(["cpu_total", "load15", "load5", "mem_used_pct", "swap_used_pct"]);
    expect(metricsOf(minute, "filesystems")).toEqual(["fullest_used_pct", "used_pct"]);
    expect(metricsOf(hour, "filesystems")).toEqual(["avail_bytes", "fullest_used_pct", "used_bytes", "used_pct"]);
    // The view fills in a lone sample's min, max and last.
    const [lone] = await store.query<{ n: number }>(
      sql`SELECT count(*)::INTEGER AS n FROM rollups WHERE sample_count = 1 AND (min_value IS NULL OR min_value <> avg_value OR last_value <> avg_value)`,
    );
    expect(lone!.n).toBe(0);
    // No tmpfs, and a NaN leaves its bucket's other samples alone.
    expect(hour.some((r) => r.series === "/dev/shm")).toBe(false);
    expect(hour.filter((r) => r.source_table === "rch_metric_samples").every((r) => Number.isFinite(r.avg_value))).toBe(true);
  });

  it("counts nothing twice: run again at once, or a day later with new samples; rolls up only the tables it is given", async () => {
    const tables = await loadTables(store.query.bind(store));
    const before = { hour: await tier("rollups_1h"), minute: await tier("rollups_1m") };
    const upto = (at: number) => new Map(["sys_samples", "filesystems", "rch_metric_samples"].map((t) => [t, at]));
    expect(await runRollups(store, { tables, now: NOW, days, upto: upto(CUTOFF) })).toEqual([]);
    expect(await tier("rollups_1h")).toEqual(before.hour);
    expect(await tier("rollups_1m")).toEqual(before.minute);
    // A day later: the samples of the day that passed its span join, the rest stays as it was.
    await store.run(sql`INSERT INTO sys_samples (machine_id, collected_at, source, cpu_total) VALUES
      ('m0', TIMESTAMP '2026-01-25 02:10:00', 'sysprobe', 50), ('m0', TIMESTAMP '2026-01-25 02:40:00', 'sysprobe', 70), ('m0', TIMESTAMP '2026-01-26 01:00:00', 'sysprobe', 1)`);
    const next = CUTOFF + 86_400_000;
    const done = await runRollups(store, { tables, now: new Date(NOW.getTime() + 86_400_000), days, upto: new Map([["sys_samples", next]]) });
    expect(done.map((r) => `${r.table} ${r.tier} ${r.from} ${r.to} ${r.rows}`)).toEqual([
      "sys_samples 1m 2026-01-25T00:00:00.000Z 2026-01-26T00:00:00.000Z 2",
      "sys_samples 1h 2026-01-25T00:00:00.000Z 2026-01-26T00:00:00.000Z 2",
    ]);
    const [raw] = await store.query<{ n: number }>(
      sql`SELECT count(cpu_total)::INTEGER AS n FROM sys_samples WHERE machine_id = 'm0' AND collected_at < TIMESTAMP '2026-01-26 00:00:00'`,
    );
    const [rolled] = await store.query<{ n: number }>(
      sql`SELECT sum(sample_count)::INTEGER AS n FROM rollups_1h WHERE source_table = 'sys_samples' AND machine_id = 'm0' AND metric = 'cpu_total'`,
    );
    expect(rolled!.n).toBe(raw!.n);
    const hours = await store.query<{ bucket_start: string; sample_count: number; max_value: number; last_value: number }>(
      sql`SELECT bucket_start, sample_count, max_value, last_value FROM rollups WHERE tier = '1h' AND source_table = 'sys_samples' AND machine_id = 'm0' AND metric = 'cpu_total' AND bucket_start >= TIMESTAMP '2026-01-25 00:00:00' ORDER BY 1`,
    );
    expect(hours.map((h) => [h.bucket_start, h.sample_count, h.max_value, h.last_value])).toEqual([["2026-01-25T02:00:00.000Z", 2, 70, 70]]);
    expect((await tier("rollups_1h")).filter((r) => r.bucket_start < "2026-01-25T00:00:00.000Z")).toEqual(before.hour);
    expect((await tier("rollups_1h")).filter((r) => r.source_table !== "sys_samples")).toEqual(before.hour.filter((r) => r.source_table !== "sys_samples"));
  });
});

describe("charts past the raw retention", () => {
  it("answer `vc robot series` from the tiers as they did from the raw rows", async () => {
    const end = new Date("2026-01-25T03:00:00Z");
    const fleet = await createDemoFleet({ out: join(dir, "fleet"), machines: 2, days: 12, end });
    const open = async (retention?: Record<string, unknown>) =>
      openCockpit({
        config: await resolveConfig({ db: fleet.db, machines: fleet.machines.map((id) => ({ id, ssh: "local" })), collectors: [sysprobe()], retention } as never, {
          source: "t",
          env: {},
        }),
        clock: createFixedClock(end),
      });
    const windows = [
      { window: "10d", points: 120 }, // longer than the raw span, 2-hour buckets: the 1-hour tier
      { window: "3d", points: 72 }, // longer than the raw span, hourly buckets: the 1-hour tier
      { window: "3d", points: 120 }, // longer, 36-minute buckets: the 1-minute tier (it reaches back 5 days)
      { window: "12h", points: 60 }, // within the raw span: raw rows only
    ];
    let vc = await open();
    const before: SeriesData[] = [];
    for (const w of windows) before.push((await vc.view("series", { machine: "node-01", ...w })).data as SeriesData);
    await vc.close();
    vc = await open({ raw_days: { sys_samples: 2, filesystems: 2 }, rollup_days: { "1m": 5 }, delete: true });
    try {
      const report = await runVacuum({ store: vc.store, config: vc.config, now: end });
      expect(report.outcomes.map((o) => [o.table, o.error])).toEqual([
        ["filesystems", null],
        ["sys_samples", null],
      ]);
      const [oldest] = await vc.store.query<{ t: string }>(sql`SELECT min(collected_at) AS t FROM sys_samples`);
      expect(oldest!.t).toBe("2026-01-23T00:00:00.000Z");
      const tiers: (string | null)[] = [];
      for (const [i, w] of windows.entries()) {
        const s = (await vc.view("series", { machine: "node-01", ...w })).data as SeriesData;
        tiers.push((await seriesTier(vc, { tables: ["sys_samples", "filesystems"], from: s.from, to: s.to, bucket: s.bucket_s }))?.tier ?? null);
        for (const k of ["cpu", "load", "mem", "swap", "disk"] as const) {
          const diff = s[k].map(([t, v], j) => [t, v === null || before[i]![k][j]![1] === null ? v === before[i]![k][j]![1] : Math.abs(v - before[i]![k][j]![1]!) <= 0.006]);
          expect({ window: w, k, bad: diff.filter(([, ok]) => !ok) }).toEqual({ window: w, k, bad: [] });
        }
        expect(s.cpu.some(([, v]) => v !== null)).toBe(true);
      }
      expect(tiers).toEqual(["1h", "1h", "1m", null]);
    } finally {
      await vc.close();
    }
  });
});
