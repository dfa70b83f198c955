// `vc robot series` on the demo fleet: the buckets cover the window, each one the average of the
// store's samples in it (bucketed here from the raw rows, not by the view's SQL), the disk line
// the fullest real filesystem per sample, gaps null; bad arguments and unknown machines refused
// by name, in the library and on the command line.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, openCockpit, resolveConfig, sql, type Cockpit } from "../../lib/index.ts";
import { isPseudoFilesystem } from "../../lib/health/filesystems.ts";
import type { SeriesData, SeriesPoint } from "../../lib/views/series.ts";
import { sysprobe, toolPlugins } from "../../plugins/index.ts";
import { isolatedEnv, vc as runVc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { END, createTuiFleet } from "../tui/_fixture.ts";

setDefaultTimeout(120_000);

const dir = tempDir("vc-series-");
const to = END.getTime() / 1000;
const iso = (s: number) => new Date(s * 1000).toISOString();
let vc: Cockpit;
let db: string;
let ids: string[];

beforeAll(async () => {
  const fleet = await createTuiFleet(dir, { machines: 3, days: 1 });
  ({ db, machines: ids } = fleet);
  const config = await resolveConfig(
    { db, data_dir: dir, machines: ids.map((id) => ({ id, ssh: `demo@${id}.invalid` })), collectors: [sysprobe()], plugins: [...toolPlugins] },
    { source: "series-test", env: {} },
  );
  vc = await openCockpit({ config, clock: createFixedClock(END) });
  await vc.store.transaction(async (tx) => {
    // node-02: a full /dev/shm beside its disks 10 minutes ago (not a disk), and no samples for 20 minutes before that.
    await tx.run(sql`INSERT INTO filesystems (machine_id, collected_at, mount, filesystem, fs_type, size_bytes, used_bytes, avail_bytes, used_pct, source)
      SELECT machine_id, collected_at, '/dev/shm', 'tmpfs', 'tmpfs', 1000, 1000, 0, 100, 'sysprobe' FROM filesystems
      WHERE machine_id = 'node-02' AND collected_at = ${iso(to - 600)}::TIMESTAMP AND mount = '/'`);
    for (const table of ["sys_samples", "filesystems"])
      await tx.run(
        sql`DELETE FROM ${sql.identifier(table)} WHERE machine_id = 'node-02' AND collected_at > ${iso(to - 1800)}::TIMESTAMP AND collected_at <= ${iso(to - 600 - 120)}::TIMESTAMP`,
      );
  });
});
afterAll(async () => vc?.close());

const series = async (args: Record<string, unknown>) => (await vc.view("series", args)).data as SeriesData;

/** The raw rows of one machine in [from, to], averaged per bucket here. */
async function expected(machine: string, s: SeriesData) {
  const samples = await vc.store.query<{
    collected_at: string;
    cpu_total: number;
    load5: number;
    mem_used_bytes: number;
    mem_total_bytes: number;
    swap_used_bytes: number;
    swap_total_bytes: number;
  }>(sql`SELECT * FROM sys_samples WHERE machine_id = ${machine} AND collected_at >= ${iso(s.from)}::TIMESTAMP AND collected_at <= ${iso(s.to)}::TIMESTAMP`);
  const fs = await vc.store.query<{ collected_at: string; mount: string; fs_type: string; filesystem: string; used_pct: number }>(
    sql`SELECT collected_at, mount, fs_type, filesystem, used_pct FROM filesystems WHERE machine_id = ${machine} AND collected_at >= ${iso(s.from)}::TIMESTAMP AND collected_at <= ${iso(s.to)}::TIMESTAMP`,
  );
  const fullest = new Map<string, number>();
  for (const f of fs.filter((f) => !isPseudoFilesystem(f))) fullest.set(f.collected_at, Math.max(fullest.get(f.collected_at) ?? 0, f.used_pct));
  const bucketOf = (at: string) => Math.floor(Date.parse(at) / 1000 / s.bucket_s) * s.bucket_s;
  const line = (points: [string, number][]) => {
    const sums = new Map<number, number[]>();
    for (const [at, v] of points) sums.set(bucketOf(at), [...(sums.get(bucketOf(at)) ?? []), v]);
    return s.cpu.map(([t]): SeriesPoint => {
      const vs = sums.get(t);
      return [t, vs ? vs.reduce((a, b) => a + b, 0) / vs.length : null];
    });
  };
  return {
    cpu: line(samples.map((r) => [r.collected_at, r.cpu_total])),
    load: line(samples.map((r) => [r.collected_at, r.load5])),
    mem: line(samples.map((r) => [r.collected_at, (100 * r.mem_used_bytes) / r.mem_total_bytes])),
    swap: line(samples.map((r) => [r.collected_at, (100 * r.swap_used_bytes) / r.swap_total_bytes])),
    disk: line([...fullest]),
    samples: samples.length,
  };
}

const near = (a: SeriesPoint[], b: SeriesPoint[]) =>
  a.length === b.length && a.every(([t, v], i) => t === b[i]![0] && (v === null || b[i]![1] === null ? v === b[i]![1] : Math.abs(v - b[i]![1]!) <= 0.006));

describe("vc robot series", () => {
  it("covers the window in whole buckets ending at now, each the average of the samples in it", async () => {
    for (const machine of ids) {
      const s = await series({ machine, window: "1h", points: 10 });
      expect([s.machine, s.to, s.bucket_s]).toEqual([machine, to, 360]);
      expect(s.cpu.map(([t]) => t)).toEqual(Array.from({ length: 10 }, (_, i) => s.from + i * 360));
      expect(s.from % 360).toBe(0);
      expect(to - s.from).toBeGreaterThan(3600 - 360);
      expect(to - s.from).toBeLessThanOrEqual(3600);
      const want = await expected(machine, s);
      expect(want.samples).toBeGreaterThan(0);
      for (const k of ["cpu", "load", "mem", "swap", "disk"] as const) expect({ machine, k, ok: near(s[k], want[k]) }).toEqual({ machine, k, ok: true });
    }
  });

  it("leaves the full /dev/shm out of the disk line and shows a gap as null", async () => {
    // Buckets of 120 s over samples every 120 s: one sample each, but for the 9 deleted ones.
    const s = await series({ machine: "node-02", window: "1h", points: 30 });
    expect(s.bucket_s).toBe(120);
    const [shm] = await vc.store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM filesystems WHERE machine_id = 'node-02' AND mount = '/dev/shm'`);
    expect(shm!.n).toBe(1);
    expect(Math.max(...s.disk.map(([, v]) => v ?? 0))).toBeLessThan(100);
    const gone = Array.from({ length: 9 }, (_, i) => Math.floor((to - 120 * (14 - i)) / 120) * 120);
    for (const k of ["cpu", "load", "mem", "swap", "disk"] as const) {
      const nulls = s[k].filter(([, v]) => v === null).map(([t]) => t);
      expect({ k, nulls }).toEqual({ k, nulls: gone });
    }
    expect(near(s.disk, (await expected("node-02", s)).disk)).toBe(true);
  });

  it("is null before the store's first sample", async () => {
    const s = await series({ machine: "node-01", window: "2d", points: 48 });
    expect([s.bucket_s, s.cpu.length]).toEqual([3600, 48]);
    const [{ first }] = (await vc.store.query(sql`SELECT min(collected_at) AS first FROM sys_samples WHERE machine_id = 'node-01'`)) as [{ first: string }];
    const firstBucket = Math.floor(Date.parse(first) / 1000 / 3600) * 3600;
    expect(s.cpu.filter(([, v]) => v === null).map(([t]) => t)).toEqual(s.cpu.map(([t]) => t).filter((t) => t < firstBucket));
    expect(s.cpu.filter(([, v]) => v === null).length).toBeGreaterThan(20);
  });

  it("gives the newest sample as latest", async () => {
    const s = await series({ machine: "node-01" });
    expect([s.bucket_s, s.cpu.length]).toEqual([180, 120]);
    const [row] = await vc.store.query<{ collected_at: string; cpu_total: number; load5: number; cpu_cores: number; mem_used_bytes: number; mem_total_bytes: number }>(
      sql`SELECT * FROM sys_samples WHERE machine_id = 'node-01' ORDER BY collected_at DESC LIMIT 1`,
    );
    const [disk] = await vc.store.query<{ used_pct: number }>(
      sql`SELECT max(used_pct) AS used_pct FROM filesystems WHERE machine_id = 'node-01' AND collected_at = ${row!.collected_at}::TIMESTAMP`,
    );
    expect(s.latest).toMatchObject({ at: row!.collected_at, load5: row!.load5, cpu_cores: row!.cpu_cores, disk_pct: disk!.used_pct });
    expect(Math.abs(s.latest.cpu! - row!.cpu_total)).toBeLessThanOrEqual(0.006);
    expect(Math.abs(s.latest.mem_pct! - (100 * row!.mem_used_bytes) / row!.mem_total_bytes)).toBeLessThanOrEqual(0.006);
  });

  it("refuses a bad window or point count, and names the closest machine for an unknown one", async () => {
    const fail = (args: Record<string, unknown>) =>
      vc.view("series", args).then(
        () => null,
        (e: unknown) => e as { code: string; message: string; hint?: string },
      );
    expect(await fail({ machine: "node-01", window: "31d" })).toMatchObject({
      code: "invalid_argument",
      message: 'window: "31d" is not a duration from 60s to 30d (like 90s, 30m, 6h, 7d)',
    });
    expect(await fail({ machine: "node-01", points: 5 })).toMatchObject({ code: "invalid_argument", message: "points: 5 is not a whole number from 10 to 1000" });
    expect(await fail({ window: "1h" })).toMatchObject({ code: "invalid_argument", message: "series: machine is required (machine id)" });
    const unknown = await fail({ machine: "node-1" });
    expect(unknown).toMatchObject({ code: "not_found", message: 'no machine "node-1" in series-test' });
    expect(unknown!.hint).toStartWith("did you mean node-01?");
  });

  it("on the command line: --window abc and an unknown machine are error envelopes", async () => {
    const config = join(dir, "vc.config.ts");
    writeFileSync(
      config,
      `import { defineConfig } from "vibe-cockpit";
export default defineConfig({ db: ${JSON.stringify(db)}, machines: ${JSON.stringify(ids.map((id) => ({ id, ssh: `demo@${id}.invalid` })))} });
`,
    );
    await vc.close();
    const env = isolatedEnv(dir, { VC_NOW: END.toISOString() });
    const bad = await runVc(["robot", "series", "x", "--window", "abc", "--config", config], { env });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      schema_version: "vc.robot.error.v1",
      error: { code: "invalid_argument", message: '--window: "abc" is not a duration from 60s to 30d (like 90s, 30m, 6h, 7d)' },
    });
    const unknown = await runVc(["robot", "series", "node-3", "--config", config], { env });
    expect(unknown.code).not.toBe(0);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ error: { code: "not_found", message: `no machine "node-3" in ${config}` } });
    expect(JSON.parse(unknown.stdout).error.hint).toStartWith("did you mean node-03?");
    const ok = await runVc(["robot", "series", "node-03", "--window", "30m", "--points", "10", "--config", config], { env });
    expect(ok.code).toBe(0);
    const s = JSON.parse(ok.stdout).data as SeriesData;
    expect([s.machine, s.bucket_s, s.to, s.cpu.length]).toEqual(["node-03", 180, to, 10]);
  });
});
