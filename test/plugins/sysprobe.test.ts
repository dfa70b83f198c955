import { describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import { createFixedClock, createLocalExecutor, evaluateRule, openStore, resolveConfig, runCycle } from "../../lib/index.ts";
import { sysprobe, parseProbe } from "../../plugins/sysprobe/index.ts";
import { parseDf, parseFree, parseLoadavg, parseMeminfo, memoryFromMeminfo, parseUptime, parseMounts, parseCpuLine, cpuBusyPct } from "../../plugins/sysprobe/parse.ts";
import { oomKillsFromVmstat, parseVmstat } from "../../plugins/sysprobe/vmstat.ts";
import { oomKill } from "../../plugins/rules/index.ts";
import { tempDir } from "../helpers/tmp.ts";

// Real outputs captured on a Debian 12 machine (procps-ng 4.0.2, GNU coreutils 9.1).
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/sysprobe", name), "utf8");
const GiB = 1024 ** 3;

describe("sysprobe parsers on captured outputs", () => {
  it("reads /proc/loadavg and uptime", () => {
    expect(parseLoadavg(fx("proc-loadavg.txt"))).toEqual({ load1: 0, load5: 0.03, load15: 0, procs_running: 1, procs_total: 77 });
    expect(parseUptime(fx("uptime.txt"))).toEqual({ load1: 0, load5: 0.03, load15: 0, procs_running: null, procs_total: null });
    expect(parseUptime(" 10:14:02 up 12 days,  3:04,  2 users,  load average: 1.02, 0.98, 0.91")).toMatchObject({ load1: 1.02, load5: 0.98, load15: 0.91 });
    expect(parseUptime("10:14  up 3 days, 2 users, load averages: 2.10 1.95 1.80")).toMatchObject({ load1: 2.1, load5: 1.95, load15: 1.8 });
  });

  it("reads /proc/meminfo and free -b to the same totals", () => {
    const fromMeminfo = memoryFromMeminfo(parseMeminfo(fx("proc-meminfo.txt")))!;
    const fromFree = parseFree(fx("free-b.txt"))!;
    expect(fromMeminfo.mem_total_bytes).toBe(24683652 * 1024);
    expect(fromMeminfo.mem_available_bytes).toBe(24465040 * 1024);
    expect(fromMeminfo.mem_used_bytes).toBe((24683652 - 24465040) * 1024);
    expect(fromMeminfo.swap_total_bytes).toBe(0);
    expect(fromFree).toEqual({ mem_total_bytes: 25276059648, mem_used_bytes: 223907840, mem_available_bytes: 25052151808, swap_total_bytes: 0, swap_used_bytes: 0 });
    expect(fromFree.mem_total_bytes).toBe(fromMeminfo.mem_total_bytes);
  });

  it("reads df -P, mount points with spaces included", () => {
    const rows = parseDf(fx("df-P.txt"));
    expect(rows.map((r) => r.mount)).toEqual(["/dev", "/dev/shm", "/", "/mnt/sandboxing/model_tools_env/v1/python", "/sys/fs/cgroup"]);
    expect(rows[2]).toEqual({ filesystem: "/dev/vda", size_bytes: 264212084 * 1024, used_bytes: 23125324 * 1024, avail_bytes: 83265588 * 1024, used_pct: 21.74, mount: "/" });
    const spaced = parseDf("Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sdb1 100 91 9 91% /media/My Disk\n");
    expect(spaced[0]).toMatchObject({ mount: "/media/My Disk", used_pct: 91 });
    expect(parseMounts("/dev/sdb1 /media/My\\040Disk ext4 rw 0 0").get("/media/My Disk")).toBe("ext4");
  });

  it("computes CPU busy from two /proc/stat lines", () => {
    const a = parseCpuLine("cpu  3468 0 1696 112933 301 0 45 3 0 0")!;
    const b = parseCpuLine("cpu  3468 0 1697 113033 301 0 45 3 0 0")!;
    expect(a).toEqual([5212, 118446]);
    expect(cpuBusyPct(a, b)).toBe(0.99);
  });

  it("turns the whole probe output into one sample and the real filesystems", () => {
    const warnings: string[] = [];
    const { sample, filesystems } = parseProbe(fx("probe-output.txt"), (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    expect(sample).toMatchObject({
      load1: 0.25,
      load5: 0.12,
      load15: 0.03,
      procs_running: 1,
      procs_total: 85,
      cpu_cores: 2,
      cpu_total: 0.99,
      mem_total_bytes: 24683652 * 1024,
      mem_used_bytes: (24683652 - 24377000) * 1024,
      swap_used_bytes: 0,
      uptime_seconds: 593.76,
    });
    // devtmpfs is a pseudo filesystem: left out; tmpfs (/dev/shm can fill up) stays
    expect(filesystems.map((f) => [f.mount, f.fs_type])).toEqual([
      ["/dev/shm", "tmpfs"],
      ["/", "ext4"],
      ["/mnt/sandboxing/model_tools_env/v1/python", "tmpfs"],
      ["/sys/fs/cgroup", "tmpfs"],
    ]);
  });

  it("reads the OOM-kill counter from /proc/vmstat", () => {
    // Captured on a Linux 6.18 machine: 192 counters, oom_kill among them.
    const counters = parseVmstat(fx("proc-vmstat.txt"));
    expect(Object.keys(counters)).toHaveLength(192);
    expect(counters.oom_kill).toBe(0);
    expect(counters.nr_free_pages).toBeGreaterThan(0);
    expect(oomKillsFromVmstat(fx("proc-vmstat.txt"))).toBe(0);
    expect(oomKillsFromVmstat("nr_free_pages 12\noom_kill 3\n")).toBe(3);
    // a kernel before 4.13 has no counter: unknown, not zero
    expect(oomKillsFromVmstat("nr_free_pages 12\npgfault 99\n")).toBeNull();
    expect(oomKillsFromVmstat("")).toBeNull();
  });

  it("puts the OOM-kill counter into the sample, or null when the probe had no vmstat section", () => {
    const warnings: string[] = [];
    const withVmstat = fx("probe-output.txt").replace("@@vc:stat1", `@@vc:vmstat\n${fx("proc-vmstat.txt").replace("oom_kill 0", "oom_kill 4")}\n@@vc:stat1`);
    expect(parseProbe(withVmstat, (m) => warnings.push(m)).sample).toMatchObject({ oom_kills: 4, load5: 0.12, cpu_total: 0.99 });
    expect(parseProbe(fx("probe-output.txt"), (m) => warnings.push(m)).sample.oom_kills).toBeNull();
    expect(warnings).toEqual([]);
  });

  it("warns, not throws, on output it cannot read", () => {
    const warnings: string[] = [];
    const { sample, filesystems } = parseProbe("garbage\n\u0000\u00ff more garbage", (m) => warnings.push(m));
    expect(sample.load1).toBeNull();
    expect(filesystems).toEqual([]);
    expect(warnings.length).toBeGreaterThanOrEqual(3);
  });
});

describe("sysprobe live on this machine", () => {
  it("collects a sample and the filesystems into a fresh store", async () => {
    const dir = tempDir();
    const config = await resolveConfig({ machines: [{ id: "here", ssh: "local" }], collectors: [sysprobe({ cpuSampleMs: 100 })] }, { source: "t", env: {} });
    await using store = await openStore({ path: join(dir, "live.duckdb") });
    const report = await runCycle({ store, config, clock: createFixedClock("2026-01-25T03:00:00Z"), executorFor: (m) => createLocalExecutor({ machineId: m.id }) });
    expect(report.machines[0]!.runs[0]!.result).toBe("ok");
    const [s] = await store.query<Record<string, number>>("select * from sys_samples");
    expect(s!.cpu_cores).toBe(cpus().length);
    expect(s!.mem_total_bytes).toBeGreaterThan(0.1 * GiB);
    expect(s!.load5).toBeGreaterThanOrEqual(0);
    expect(s!.cpu_total).toBeGreaterThanOrEqual(0);
    const fs = await store.query<{ mount: string; size_bytes: number }>("select mount, size_bytes from filesystems");
    expect(fs.some((f) => f.mount === "/")).toBe(true);
    // the same cycle again at the same instant adds nothing
    const again = await runCycle({ store, config, clock: createFixedClock("2026-01-25T03:00:00Z"), executorFor: (m) => createLocalExecutor({ machineId: m.id }), force: true });
    expect(again.machines[0]!.runs[0]!.rows).toBe(0);
  });
});

describe("sysprobe's OOM-kill counter, end to end", () => {
  it("is collected on this machine, and the oom_kill rule fires when it grows", async () => {
    const dir = tempDir();
    const config = await resolveConfig({ machines: [{ id: "here", ssh: "local" }], collectors: [sysprobe({ cpuSampleMs: 50 })] }, { source: "t", env: {} });
    await using store = await openStore({ path: join(dir, "oom.duckdb") });
    const executorFor = (m: { id: string }) => createLocalExecutor({ machineId: m.id });
    await runCycle({ store, config, clock: createFixedClock("2026-01-25T03:00:00Z"), executorFor });
    await runCycle({ store, config, clock: createFixedClock("2026-01-25T03:02:00Z"), executorFor, force: true });
    const samples = await store.query<{ oom_kills: number | null }>("select oom_kills from sys_samples order by collected_at");
    const now = oomKillsFromVmstat(readFileSync("/proc/vmstat", "utf8"));
    expect(now).not.toBeNull();
    expect(samples).toHaveLength(2);
    for (const s of samples) expect(s.oom_kills).toBeNumber();
    expect(samples[1]!.oom_kills).toBeLessThanOrEqual(now!);
    // the two real samples, as the rule reads them (no kills between them on a healthy test machine)
    const quiet = await evaluateRule(store, oomKill, "2026-01-25T03:02:30.000Z");
    expect(quiet.error).toBeUndefined();
    expect(quiet.findings.map((f) => f.value)).toEqual(samples[1]!.oom_kills! > samples[0]!.oom_kills! ? [samples[1]!.oom_kills! - samples[0]!.oom_kills!] : []);
    // a later sample with two more kills
    await store.insert("sys_samples", [{ machine_id: "here", collected_at: "2026-01-25T03:04:00Z", source: "sysprobe", oom_kills: samples[1]!.oom_kills! + 2 }]);
    const fired = await evaluateRule(store, oomKill, "2026-01-25T03:04:30.000Z");
    expect(fired.findings.map((f) => [f.labels, f.value, f.received])).toEqual([[{ machine_id: "here" }, 2, "new_oom_kills = 2"]]);
  });
});
