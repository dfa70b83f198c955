import { afterAll, describe, expect, it } from "bun:test";
import { chmodSync, readFileSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector } from "../../lib/testkit.ts";
import { createFixedClock } from "../../lib/index.ts";
import { sysmoni } from "../../plugins/sysmoni/index.ts";
import { INOTIFY_PROBE, isUnmeasured, mapSample, parseGoTime, parseInotifyProbe, readSample } from "../../plugins/sysmoni/parse.ts";

// Real `sysmoni --json` and `--json-stream` outputs (system_resource_protection_script @9474924).
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/sysmoni", name), "utf8");
const real = fx("json.json");
const stream = fx("json-stream.ndjson");
const realObj = JSON.parse(real) as Record<string, any>;
const variant = (patch: (s: Record<string, any>) => void) => {
  const s = structuredClone(realObj);
  patch(s);
  return `${JSON.stringify(s)}\n`;
};

testCollector({
  collector: sysmoni({ inotifyProbe: false }),
  fixtures: { tools: { sysmoni: { "--json": real } } },
  rows: { sys_samples: 1, sys_top_processes: 64, sys_temp_samples: 2 },
  junk: { tools: { sysmoni: { "--json": "{oops\n\u0000\u00ff" } } },
  async check(store) {
    expect(
      await store.query(`SELECT machine_id, collected_at, source, sampled_at, sample_interval_s, cpu_total, cpu_cores, load1, load5, load15,
        mem_used_bytes, mem_total_bytes, mem_available_bytes, mem_cached_bytes, mem_buffers_bytes, swap_used_bytes, swap_total_bytes,
        disk_read_mbps, disk_write_mbps, net_rx_mbps, net_tx_mbps, gpu_count, gpu_util_max, temp_max_c, throttled_count,
        inotify_watches, inotify_instances, inotify_max_user_watches, inotify_max_user_instances, raw_json->>'$.Timestamp' AS raw_ts
        FROM sys_samples`),
    ).toEqual([
      {
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
        source: "sysmoni",
        sampled_at: "2026-08-20T15:11:09.218Z",
        sample_interval_s: 1,
        cpu_total: 52.8527582444736,
        cpu_cores: 32,
        load1: 14.21,
        load5: 12.87,
        load15: 11.03,
        mem_used_bytes: 94804875662,
        mem_total_bytes: 134950113280,
        mem_available_bytes: null,
        mem_cached_bytes: 27918360576,
        mem_buffers_bytes: 1372286976,
        swap_used_bytes: 1288437760,
        swap_total_bytes: 8589930496,
        disk_read_mbps: 20.678505008402702,
        disk_write_mbps: 108.06894373819596,
        net_rx_mbps: 46.14968108921875,
        net_tx_mbps: 5.218627392194048,
        gpu_count: 0,
        gpu_util_max: null,
        temp_max_c: 44,
        throttled_count: 6,
        inotify_watches: null,
        inotify_instances: null,
        inotify_max_user_watches: 524288,
        inotify_max_user_instances: 512,
        raw_ts: "2026-08-20T15:11:09.218004507Z",
      },
    ]);
    expect(
      await store.query(
        "SELECT pid, rank, comm, nice, cpu_pct, mem_pct, mem_bytes, fd_count, fd_diff, io_read_kib_s, io_write_kib_s FROM sys_top_processes WHERE rank IN (1, 2, 64) ORDER BY rank",
      ),
    ).toEqual([
      {
        pid: 365421,
        rank: 1,
        comm: "gemini",
        nice: 0,
        cpu_pct: 137.8193919197059,
        mem_pct: 3.5805301666259766,
        mem_bytes: 4831929516,
        fd_count: 381,
        fd_diff: 12,
        io_read_kib_s: 0,
        io_write_kib_s: 0,
      },
      {
        pid: 348823,
        rank: 2,
        comm: "ld.lld",
        nice: 5,
        cpu_pct: 83.57175537077319,
        mem_pct: 0.609584629535675,
        mem_bytes: Math.round(0.00609584629535675 * 134950113280),
        fd_count: 101,
        fd_diff: 0,
        io_read_kib_s: 0,
        io_write_kib_s: 770.0843940394114,
      },
      {
        pid: 363746,
        rank: 64,
        comm: "gemini",
        nice: 0,
        cpu_pct: 0.06381064916087444,
        mem_pct: 2.22721791267395,
        mem_bytes: Math.round(0.0222721791267395 * 134950113280),
        fd_count: 169,
        fd_diff: 0,
        io_read_kib_s: 0,
        io_write_kib_s: 0,
      },
    ]);
    expect(await store.query("SELECT zone, temp_c FROM sys_temp_samples ORDER BY zone")).toEqual([
      { zone: "thermal_zone0", temp_c: 44 },
      { zone: "thermal_zone1", temp_c: 27.8 },
    ]);
    const [raw] = await store.query<{ raw: string }>("SELECT raw_json::VARCHAR AS raw FROM sys_top_processes WHERE pid = 302269");
    expect(JSON.parse(raw!.raw)).toEqual(realObj.Top.find((p: { PID: number }) => p.PID === 302269));
  },
});

describe("sysmoni parser", () => {
  it("reads Go times with any offset, to the millisecond, without rounding up", () => {
    expect(parseGoTime("2026-08-20T15:11:09.218004507Z")!.toISOString()).toBe("2026-08-20T15:11:09.218Z");
    expect(parseGoTime("2026-08-20T11:11:09.9999999-04:00")!.toISOString()).toBe("2026-08-20T15:11:09.999Z");
    expect(parseGoTime("2026-08-20T17:11:09+02:00")!.toISOString()).toBe("2026-08-20T15:11:09.000Z");
    expect(parseGoTime("2026-08-20 15:11:09.5+0530")!.toISOString()).toBe("2026-08-20T09:41:09.500Z");
    expect(parseGoTime("yesterday")).toBeNull();
    expect(parseGoTime(undefined)).toBeNull();
  });

  it("takes the last sample of a --json-stream output", () => {
    const { sample } = readSample(stream);
    expect(sample.Timestamp).toBe("2026-08-20T15:11:12.225533897Z");
  });

  it("maps a sample with a local offset, GPUs, no Top and unknown fields", () => {
    const out = variant((s) => {
      s.Timestamp = "2026-08-20T11:11:09.218004507-04:00";
      s.Interval = 2_500_000_000;
      s.GPUs = [
        { Name: "NVIDIA RTX 4090", Util: 97, MemUsedMB: 20110, MemTotalMB: 24564, TempC: 71, Fan: 80 },
        { Name: "NVIDIA RTX 4090", Util: 12.5, MemUsedMB: 1000, MemTotalMB: 24564, TempC: 45 },
      ];
      s.Top = null;
      s.Throttled = null;
      s.Temps = null;
      s.Inotify = { MaxUserWatches: 65536, MaxUserInstances: 128, NrWatches: 60000 };
      s.NewSection = { Anything: 1 };
      s.CPU.Frequency = 3.2;
    });
    const warnings: string[] = [];
    const { raw, sample } = readSample(out);
    const rows = mapSample(raw, sample, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    expect(rows.sample).toMatchObject({
      sampled_at: new Date("2026-08-20T15:11:09.218Z"),
      sample_interval_s: 2.5,
      gpu_count: 2,
      gpu_util_max: 97,
      temp_max_c: null,
      throttled_count: 0,
      inotify_watches: 60000,
      inotify_max_user_watches: 65536,
    });
    expect(rows.top).toEqual([]);
    expect(rows.temps).toEqual([]);
    expect(rows.gpus.map(({ raw_json: _r, ...g }) => g)).toEqual([
      { gpu_index: 0, name: "NVIDIA RTX 4090", util_pct: 97, mem_used_mb: 20110, mem_total_mb: 24564, temp_c: 71 },
      { gpu_index: 1, name: "NVIDIA RTX 4090", util_pct: 12.5, mem_used_mb: 1000, mem_total_mb: 24564, temp_c: 45 },
    ]);
    expect((rows.sample.raw_json as Record<string, unknown>).NewSection).toEqual({ Anything: 1 });
  });

  it("skips a bad Top entry with a warning and keeps the rest", () => {
    const out = variant((s) => {
      s.Top[3] = { Nice: 0, Command: "no pid" };
      s.Top[5].PID = s.Top[4].PID;
      delete s.IO;
    });
    const warnings: string[] = [];
    const { raw, sample } = readSample(out);
    const rows = mapSample(raw, sample, (m) => warnings.push(m));
    expect(rows.top).toHaveLength(62);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("Top[3]");
    expect(warnings[1]).toContain("repeats pid");
    expect(rows.sample).toMatchObject({ disk_read_mbps: null, net_tx_mbps: null, cpu_total: 52.8527582444736 });
  });

  it("takes a one-shot first tick's zero CPU and rates as not measured, and a later tick's zeros as zeros", () => {
    // What `sysmoni --json` really prints: its first tick, with nothing earlier to measure against.
    const first = variant((s) => {
      s.CPU.Total = 0;
      s.CPU.PerCore = s.CPU.PerCore.map(() => 0);
      s.IO = { DiskReadMBs: 0, DiskWriteMBs: 0, NetRxMbps: 0, NetTxMbps: 0, PerDevice: null };
      for (const p of s.Top) Object.assign(p, { ReadKBs: 0, WriteKBs: 0, FDDiff: p.FDCount });
    });
    const one = readSample(first);
    expect(one.tick).toBe(1);
    expect(isUnmeasured(one.sample, one.tick)).toBe(true);
    const rows = mapSample(one.raw, one.sample, () => {}, one.tick);
    expect(rows.sample).toMatchObject({ cpu_total: null, disk_read_mbps: null, disk_write_mbps: null, net_rx_mbps: null, net_tx_mbps: null, cpu_cores: 32, load1: 14.21 });
    expect(rows.top[0]).toMatchObject({ pid: 365421, cpu_pct: 137.8193919197059, fd_count: 381, fd_diff: null, io_read_kib_s: null, io_write_kib_s: null });
    // The same zeros on a second tick are measurements.
    const second = mapSample(one.raw, one.sample, () => {}, 2);
    expect(second.sample).toMatchObject({ cpu_total: 0, disk_read_mbps: 0, net_tx_mbps: 0 });
    expect(second.top[0]).toMatchObject({ fd_diff: 381, io_read_kib_s: 0 });
    // A first tick that did measure something (the real fixture) is kept as it is.
    const real1 = readSample(real);
    expect(isUnmeasured(real1.sample, real1.tick)).toBe(false);
  });

  it("refuses output that is not a sample, saying what it got", () => {
    expect(() => readSample("")).toThrow(/no sample \(no output\)/);
    expect(() => readSample('{"Timestamp": 5}\n')).toThrow(/Timestamp/);
    expect(() => readSample("flag provided but not defined: -json\n")).toThrow(/not JSON/);
  });
});

describe("sysmoni collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });

  it("reads a second machine's sample at a later time as new rows", async () => {
    const collector = sysmoni({ inotifyProbe: false });
    const store = await createTestStore([collector]);
    const a = createFakeMachine({ id: "orko", tools: { sysmoni: { "--json": real } } });
    const b = createFakeMachine({ id: "trj", tools: { sysmoni: { "--json": variant((s) => (s.Top = s.Top.slice(0, 3))) } } });
    cleanup.push(
      () => a.close(),
      () => b.close(),
      () => store.close(),
    );
    const clock = createFixedClock("2026-01-25T03:00:00Z");
    expect((await runOnce({ store, collector, machine: a, clock })).rowsByTable).toEqual({ sys_samples: 1, sys_top_processes: 64, sys_temp_samples: 2 });
    expect((await runOnce({ store, collector, machine: b, clock })).rowsByTable).toEqual({ sys_samples: 1, sys_top_processes: 3, sys_temp_samples: 2 });
    clock.advance(120_000);
    expect((await runOnce({ store, collector, machine: a, clock })).rows).toBe(67);
    expect(await store.query("SELECT machine_id, count(*)::INTEGER AS n FROM sys_top_processes GROUP BY 1 ORDER BY 1")).toEqual([
      { machine_id: "orko", n: 128 },
      { machine_id: "trj", n: 3 },
    ]);
  });

  it("reads the second tick of --json-stream, and falls back to --json where there is no stream", async () => {
    const collector = sysmoni({ inotifyProbe: false });
    const store = await createTestStore([collector]);
    const streaming = createFakeMachine({ id: "a", tools: { sysmoni: { "--json-stream": stream } } });
    const oneShot = createFakeMachine({ id: "b", tools: { sysmoni: { "--json": real } } });
    cleanup.push(
      () => streaming.close(),
      () => oneShot.close(),
      () => store.close(),
    );
    expect((await runOnce({ store, collector, machine: streaming })).result).toBe("ok");
    expect((await runOnce({ store, collector, machine: oneShot })).result).toBe("ok");
    expect(streaming.calls("sysmoni")).toEqual(["--version", "--json-stream"]); // --version: the tool probe
    expect(oneShot.calls("sysmoni")).toEqual(["--version", "--json-stream", "--json"]);
    expect(await store.query("SELECT machine_id, sampled_at FROM sys_samples ORDER BY machine_id")).toEqual([
      { machine_id: "a", sampled_at: "2026-08-20T15:11:11.225Z" },
      { machine_id: "b", sampled_at: "2026-08-20T15:11:09.218Z" },
    ]);
  });

  it("stops a sysmoni that streams forever after two ticks", async () => {
    // Like the real one: a line per tick until the pipe closes (then SIGPIPE ends it).
    const m = createFakeMachine({ home: { "tick.json": real } });
    writeFileSync(join(m.bin, "sysmoni"), `#!/bin/sh\n[ "$1" = "--json-stream" ] || exit 2\nwhile cat "$HOME/tick.json"; do sleep 0.2; done\n`);
    chmodSync(join(m.bin, "sysmoni"), 0o755);
    const collector = sysmoni({ inotifyProbe: false });
    const store = await createTestStore([collector]);
    cleanup.push(
      () => m.close(),
      () => store.close(),
    );
    const t0 = performance.now();
    const run = await runOnce({ store, collector, machine: m, limits: { timeoutMs: 10_000 } });
    expect(run.result).toBe("ok");
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(run.rowsByTable.sys_samples).toBe(1);
  });

  it("fails readably when sysmoni exits non-zero", async () => {
    const collector = sysmoni({ inotifyProbe: false });
    const store = await createTestStore([collector]);
    const m = createFakeMachine({ tools: { sysmoni: { "--json": { stderr: "sampler: permission denied", exit: 1 } } } });
    cleanup.push(
      () => m.close(),
      () => store.close(),
    );
    const run = await runOnce({ store, collector, machine: m });
    expect(run.result).toBe("failed");
    expect(run.error).toBe("sysmoni --json exited with 1: sampler: permission denied");
  });

  it("counts the user's inotify watches from /proc", async () => {
    // A live watch held by this process: Bun's fs.watch uses inotify on Linux.
    const m = createFakeMachine({ tools: { sysmoni: { "--json": real } } });
    const w = watch(m.home);
    cleanup.push(
      () => w.close(),
      () => m.close(),
    );
    const probe = await m.exec.run({ script: INOTIFY_PROBE });
    const counted = parseInotifyProbe(probe.stdout);
    if (process.platform !== "linux") return expect(counted).toBeNull();
    expect(counted!.instances).toBeGreaterThanOrEqual(1);
    expect(counted!.watches).toBeGreaterThanOrEqual(1);

    const collector = sysmoni();
    const store = await createTestStore([collector]);
    cleanup.push(() => store.close());
    const run = await runOnce({ store, collector, machine: m });
    expect(run.warnings).toEqual([]);
    const [row] = await store.query<{ w: number; i: number }>("SELECT inotify_watches AS w, inotify_instances AS i FROM sys_samples");
    expect(row!.w).toBeGreaterThanOrEqual(1);
    expect(row!.i).toBeGreaterThanOrEqual(1);
  });

  it("parses the probe's answer and nothing else", () => {
    expect(parseInotifyProbe("inotify 3 41\n")).toEqual({ instances: 3, watches: 41 });
    expect(parseInotifyProbe("")).toBeNull();
    expect(parseInotifyProbe("find: oops")).toBeNull();
  });
});
