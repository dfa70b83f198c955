import { describe, expect, it } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, createLocalExecutor, defineCollector, openStore, resolveConfig, runCycle, type Collector, type VcConfigInput } from "../../lib/index.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir();
const bin = join(dir, "bin");
mkdirSync(bin);
const probeLog = join(dir, "probe.log");
// A fake upstream tool on PATH: it logs each call, so probing can be counted.
writeFileSync(join(bin, "faketool"), `#!/bin/sh\necho "$@" >> ${probeLog}\necho "faketool 2.3.4"\n`);
chmodSync(join(bin, "faketool"), 0o755);
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` } as Record<string, string>;
let n = 0;

async function setup(input: VcConfigInput, clockAt = "2026-01-25T03:00:00Z") {
  const config = await resolveConfig({ polling: { collector_timeout_seconds: 2, max_bytes: 1000, max_rows: 50 }, ...input }, { source: "test", env: {} });
  const store = await openStore({ path: join(dir, `s${n++}.duckdb`) });
  const clock = createFixedClock(clockAt);
  const executorFor = (m: { id: string }) => createLocalExecutor({ machineId: m.id, env });
  return { config, store, clock, executorFor };
}

const row = (machine: string, i = 0) => ({ machine_id: machine, collected_at: new Date(Date.UTC(2026, 0, 25, 3, 0, i)), source: "x", load1: i });

const good = defineCollector({
  name: "good",
  version: "1.0.0",
  schemaVersion: 1,
  async collect() {
    return { rows: { sys_samples: [{ load1: 1.5 }] } };
  },
});

describe("scheduler", () => {
  it("fails soft: a collector that throws, hangs, floods or returns junk costs only its own run", async () => {
    const thrower = defineCollector({
      name: "thrower",
      version: "1",
      schemaVersion: 1,
      collect: async () => {
        throw new Error("upstream exploded");
      },
    });
    const hanger = defineCollector({ name: "hanger", version: "1", schemaVersion: 1, collect: () => new Promise(() => {}) });
    const flooder = defineCollector({
      name: "flooder",
      version: "1",
      schemaVersion: 1,
      async collect(ctx) {
        const r = await ctx.exec.run({ script: "head -c 10000 /dev/zero | tr '\\0' 'x'; printf '\\377'" });
        return { rows: { filesystems: [{ mount: `/len-${r.stdout.length}`, used_pct: 1 }] } };
      },
    });
    const garbled = defineCollector({
      name: "garbled",
      version: "1",
      schemaVersion: 1,
      async collect(ctx) {
        const r = await ctx.exec.run({ script: "printf '/ok\\377\\376'" });
        return { rows: { filesystems: [{ mount: r.stdout, used_pct: 2 }] } };
      },
    });
    const junk = defineCollector({ name: "junk", version: "1", schemaVersion: 1, collect: async () => ({ rows: { sys_samples: "nope" } }) as never });
    const junkCursor = defineCollector({ name: "junkcursor", version: "1", schemaVersion: 1, collect: async () => ({ rows: {}, cursor: { kind: "pk", id: "x" } }) as never });
    const unknownTable = defineCollector({ name: "notable", version: "1", schemaVersion: 1, collect: async () => ({ rows: { no_such_table: [{ a: 1 }] } }) });
    const tooMany = defineCollector({
      name: "toomany",
      version: "1",
      schemaVersion: 1,
      collect: async () => ({ rows: { sys_samples: Array.from({ length: 51 }, (_, i) => row("m1", i)) } }),
    });
    const { store, ...o } = await setup({ machines: [{ id: "m1", ssh: "local" }], collectors: [thrower, hanger, flooder, garbled, junk, junkCursor, unknownTable, tooMany, good] });
    const report = await runCycle({ store, ...o });
    const byName = Object.fromEntries(report.machines[0]!.runs.map((r) => [r.collector, r]));
    expect(byName.good!.result).toBe("ok");
    expect(byName.good!.rows).toBe(1);
    expect(byName.thrower).toMatchObject({ result: "failed", error: "upstream exploded" });
    expect(byName.hanger!.result).toBe("failed");
    expect(byName.hanger!.error).toContain("timed out after 2 s");
    expect(byName.flooder!.result).toBe("ok");
    expect(byName.flooder!.warnings.join(" ")).toContain("cut at 1000 bytes");
    expect(byName.junk!.error).toContain("not an array");
    expect(byName.junkcursor!.error).toContain("cursor");
    expect(byName.notable!.error).toContain("no_such_table");
    expect(byName.toomany!.error).toContain("max_rows 50");
    expect(byName.garbled!.result).toBe("ok");
    expect(byName.garbled!.warnings.join(" ")).toContain("not valid UTF-8");
    const fs = await store.query<{ mount: string }>("select mount from filesystems order by mount");
    expect(fs).toEqual([{ mount: "/len-1000" }, { mount: "/ok\uFFFD\uFFFD" }]);
    // every run left a record; failures mark their collector, nothing else
    const audit = await store.query<{ actor: string; result: string }>("select actor, result from audit_events where event_type = 'collector_run' order by actor");
    expect(audit).toHaveLength(9);
    const state = await store.query<{ collector: string; last_result: string; consecutive_failures: number }>(
      "select collector, last_result, consecutive_failures from collector_state order by collector",
    );
    expect(state.find((s) => s.collector === "good")).toMatchObject({ last_result: "ok", consecutive_failures: 0 });
    expect(state.find((s) => s.collector === "thrower")).toMatchObject({ last_result: "failed", consecutive_failures: 1 });
    await store.close();
  });

  it("stamps machine_id, collected_at, source and versions on the rows", async () => {
    const { store, ...o } = await setup({ machines: [{ id: "m1", ssh: "local" }], collectors: [good] });
    await runCycle({ store, ...o });
    const rows = await store.query("select machine_id, collected_at, source, source_version, schema_version, load1 from sys_samples");
    expect(rows).toEqual([{ machine_id: "m1", collected_at: "2026-01-25T03:00:00.000Z", source: "good", source_version: "1.0.0", schema_version: 1, load1: 1.5 }]);
    await store.close();
  });

  it("skips a collector whose tool is missing, with the reason, and probes tools once per TTL", async () => {
    const needsTool = defineCollector({
      name: "needs",
      version: "1",
      schemaVersion: 1,
      requires: { commands: ["faketool"] },
      collect: async (ctx) => ({ rows: { sys_samples: [{ load1: ctx.tools.faketool?.available ? 1 : 0 }] } }),
    });
    const needsMissing = defineCollector({
      name: "needsmissing",
      version: "1",
      schemaVersion: 1,
      requires: { commands: ["definitely-not-installed-tool"] },
      collect: async () => ({ rows: {} }),
    });
    const { store, clock, ...o } = await setup({ machines: [{ id: "m1", ssh: "local" }], collectors: [needsTool, needsMissing] });
    const r1 = await runCycle({ store, clock, ...o, force: true });
    const runs = Object.fromEntries(r1.machines[0]!.runs.map((r) => [r.collector, r]));
    expect(runs.needs!.result).toBe("ok");
    expect(runs.needsmissing).toMatchObject({ result: "skipped", reason: "definitely-not-installed-tool not found on m1's PATH" });
    const caps = await store.query("select tool_name, available, version from machine_tool_capabilities order by tool_name");
    expect(caps).toEqual([
      { tool_name: "definitely-not-installed-tool", available: false, version: null },
      { tool_name: "faketool", available: true, version: "faketool 2.3.4" },
    ]);
    expect(readFileSync(probeLog, "utf8").trim().split("\n")).toEqual(["--version"]);
    (clock as ReturnType<typeof createFixedClock>).advance(3600_000);
    await runCycle({ store, clock, ...o, force: true });
    expect(readFileSync(probeLog, "utf8").trim().split("\n")).toHaveLength(1); // cached
    (clock as ReturnType<typeof createFixedClock>).advance(24 * 3600_000);
    await runCycle({ store, clock, ...o, force: true });
    expect(readFileSync(probeLog, "utf8").trim().split("\n")).toHaveLength(2); // 24 h later: probed again
    await store.close();
  });

  it("holds max machines in flight and max collectors per machine", async () => {
    let machinesNow = 0;
    let machinesPeak = 0;
    const perMachine = new Map<string, number>();
    let perMachinePeak = 0;
    const active = new Map<string, number>();
    const make = (name: string): Collector =>
      defineCollector({
        name,
        version: "1",
        schemaVersion: 1,
        async collect(ctx) {
          const id = ctx.machine.id;
          active.set(id, (active.get(id) ?? 0) + 1);
          if (active.get(id) === 1) machinesPeak = Math.max(machinesPeak, ++machinesNow);
          perMachine.set(id, (perMachine.get(id) ?? 0) + 1);
          perMachinePeak = Math.max(perMachinePeak, perMachine.get(id)!);
          await ctx.exec.run(["sleep", "0.05"]);
          perMachine.set(id, perMachine.get(id)! - 1);
          active.set(id, active.get(id)! - 1);
          if (active.get(id) === 0) machinesNow--;
          return { rows: {} };
        },
      });
    const machines = Array.from({ length: 12 }, (_, i) => ({ id: `m${i}`, ssh: "local" }));
    const { store, ...o } = await setup({
      polling: { max_machines_in_flight: 3, max_collectors_in_flight_per_machine: 2 },
      machines,
      collectors: ["a", "b", "c", "d", "e"].map(make),
    });
    const report = await runCycle({ store, ...o });
    expect(report.machines.flatMap((m) => m.runs).filter((r) => r.result === "ok")).toHaveLength(60);
    expect(machinesPeak).toBe(3);
    expect(perMachinePeak).toBe(2);
    await store.close();
  });

  it("marks only the unreachable machine's data stale", async () => {
    const { store, config, clock } = await setup({
      machines: [
        { id: "up", ssh: "local" },
        { id: "down", ssh: "ubuntu@127.0.0.1:1" },
      ],
      collectors: [good],
    });
    const executorFor = (m: { id: string; ssh: string }) => {
      if (m.ssh !== "local") throw new Error("connection refused");
      return createLocalExecutor({ machineId: m.id });
    };
    const report = await runCycle({ store, config, clock, executorFor });
    const down = report.machines.find((m) => m.machine === "down")!;
    expect(down.reachable).toBe(false);
    expect(down.runs[0]!.result).toBe("failed");
    expect(down.runs[0]!.error).toContain("connection refused");
    expect(report.machines.find((m) => m.machine === "up")!.runs[0]!.result).toBe("ok");
    await store.close();
  });

  it("rejects an unknown machine or collector, listing the known ones", async () => {
    const { store, ...o } = await setup({
      machines: [
        { id: "alpha", ssh: "local" },
        { id: "beta", ssh: "local" },
      ],
      collectors: [good],
    });
    const e1 = await runCycle({ store, ...o, machine: "gamma" }).catch((e) => e);
    expect(e1.code).toBe("unknown_machine");
    expect(e1.hint).toBe("known machines: alpha, beta");
    const e2 = await runCycle({ store, ...o, collector: "ntm" }).catch((e) => e);
    expect(e2.code).toBe("unknown_collector");
    expect(e2.hint).toBe("known collectors: good");
    await store.close();
  });

  it("keeps each machine in the machines table with first and last seen", async () => {
    const { store, clock, ...o } = await setup({ machines: [{ id: "m1", ssh: "local", tags: ["gpu"] }], collectors: [good] });
    await runCycle({ store, clock, ...o });
    (clock as ReturnType<typeof createFixedClock>).advance(120_000);
    await runCycle({ store, clock, ...o });
    const [m] = await store.query("select machine_id, tags_json, first_seen_at, last_seen_at, last_ok_at from machines");
    expect(m).toEqual({
      machine_id: "m1",
      tags_json: '["gpu"]',
      first_seen_at: "2026-01-25T03:00:00.000Z",
      last_seen_at: "2026-01-25T03:02:00.000Z",
      last_ok_at: "2026-01-25T03:02:00.000Z",
    });
    await store.close();
  });
});

describe("requirements and skips", () => {
  it("skips a collector whose required file is missing (honouring the per-machine path), or that says it skipped", async () => {
    const home = join(dir, "reqhome");
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "present.db"), "x");
    const needsFile = defineCollector({
      name: "needsfile",
      version: "1",
      schemaVersion: 1,
      requires: { files: [{ key: "db", path: "~/absent.db" }] },
      collect: async () => ({ rows: { sys_samples: [{ load1: 1 }] } }),
    });
    const needsOther = defineCollector({ name: "needsother", version: "1", schemaVersion: 1, requires: { files: ["~/absent.db"] }, collect: async () => ({ rows: {} }) });
    const saysSkip = defineCollector({ name: "saysskip", version: "1", schemaVersion: 1, collect: async () => ({ rows: {}, skipped: "no mailbox configured" }) });
    const config = await resolveConfig(
      { machines: [{ id: "m1", ssh: "local", paths: { "needsfile.db": "~/present.db" } }], collectors: [needsFile, needsOther, saysSkip] },
      { source: "test", env: {} },
    );
    await using store = await openStore({ path: join(dir, `s${n++}.duckdb`) });
    const report = await runCycle({ store, config, clock: createFixedClock("2026-01-25T03:00:00Z"), executorFor: (m) => createLocalExecutor({ machineId: m.id, home }) });
    const by = Object.fromEntries(report.machines[0]!.runs.map((r) => [r.collector, r]));
    expect(by.needsfile).toMatchObject({ result: "ok", rows: 1 });
    expect(by.needsother).toMatchObject({ result: "skipped", reason: "~/absent.db not found on m1" });
    expect(by.saysskip).toMatchObject({ result: "skipped", reason: "no mailbox configured" });
  });
});
