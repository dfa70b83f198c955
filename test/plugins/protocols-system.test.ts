// The guardian protocols the system plugins contribute (issue 18 point 2): disk_space_recovery
// (sysprobe), machine_load_high (pt), rch_bottleneck (rch) and dcg_spike (dcg). Each on a real
// DuckDB store filled by the real collectors from the tools' real outputs (test/fixtures), with the
// trigger, every step and the verification called as the guardian's engine calls them.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkPlugins,
  createFixedClock,
  resolveConfig,
  type CommandStep,
  type Facts,
  type GuardianTarget,
  type Protocol,
  type Step,
  type StepContext,
  type SuggestStep,
  type VcConfig,
} from "../../lib/index.ts";
import type { Store } from "../../lib/store/store.ts";
import { createFakeMachine, createTestStore, runOnce, type FakeMachine } from "../../lib/testkit.ts";
import { toolPlugins } from "../../plugins/index.ts";
import { dcg } from "../../plugins/dcg/index.ts";
import { commandHash } from "../../plugins/dcg/parse.ts";
import { dcgPlugin } from "../../plugins/dcg/plugin.ts";
import { dcgSpike } from "../../plugins/dcg/protocols.ts";
import { ptPlugin } from "../../plugins/pt/plugin.ts";
import { pt } from "../../plugins/pt/index.ts";
import { machineLoadHigh, planFacts } from "../../plugins/pt/protocols.ts";
import { rch } from "../../plugins/rch/index.ts";
import { rchPlugin } from "../../plugins/rch/plugin.ts";
import { rchBottleneck } from "../../plugins/rch/protocols.ts";
import { sysmoni } from "../../plugins/sysmoni/index.ts";
import { sysprobe } from "../../plugins/sysprobe/index.ts";
import { sysprobePlugin } from "../../plugins/sysprobe/plugin.ts";
import { KNOWN_CACHES, cachesOn, diskSpaceRecovery, diskSpaceRecoveryProtocol, kbText, mountOf, parseDuSizes } from "../../plugins/sysprobe/protocols.ts";

setDefaultTimeout(60_000);

const fx = (tool: string, name: string) => readFileSync(join(import.meta.dir, "../fixtures", tool, name), "utf8");

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});
const machine = (o: Parameters<typeof createFakeMachine>[0]) => {
  const m = createFakeMachine(o);
  cleanup.push(() => m.close());
  return m;
};
const store = async (collectors: Parameters<typeof createTestStore>[0]) => {
  const s = await createTestStore(collectors);
  cleanup.push(() => s.close());
  return s;
};

let config: VcConfig;
beforeAll(async () => {
  config = await resolveConfig(
    {
      machines: [
        { id: "orko", ssh: "local" },
        { id: "sparrow", ssh: "local" },
      ],
    },
    { source: "t", env: {} },
  );
});

/** What the engine hands a step: the target, and the facts so far (the trigger's, then the steps'). */
const stepCtx = (s: Store, at: string, target: GuardianTarget, facts: Facts = {}): StepContext => ({
  store: s,
  config,
  at: new Date(at),
  target,
  facts: { ...target.facts, ...facts },
});
const find = (p: Protocol, s: Store, at: string) => p.trigger.find({ store: s, config, at: new Date(at) });
const step = <K extends Step["kind"]>(steps: readonly Step[] | undefined, name: string, kind: K) => {
  const s = (steps ?? []).find((x) => x.name === name);
  if (!s || s.kind !== kind) throw new Error(`no ${kind} step ${name}`);
  return s as Extract<Step, { kind: K }>;
};
const suggestions = (p: Protocol, ctx: StepContext) =>
  p.treatment
    .filter((s): s is SuggestStep => s.kind === "suggest")
    .flatMap((s) => {
      const text = s.suggest(ctx);
      return text === null ? [] : [[s.name, text]];
    });

describe("the plugins contribute the protocols", () => {
  it("wires each protocol into its tool's plugin; sysprobe's collector now names its plugin", () => {
    expect(sysprobe().plugin).toBe(sysprobePlugin);
    expect(sysprobePlugin.protocols?.map((p) => p.name)).toEqual(["disk_space_recovery"]);
    expect(ptPlugin.protocols?.map((p) => p.name)).toEqual(["machine_load_high"]);
    expect(rchPlugin.protocols?.map((p) => p.name)).toEqual(["rch_bottleneck"]);
    expect(dcgPlugin.protocols?.map((p) => p.name)).toEqual(["dcg_spike"]);
    expect(toolPlugins.flatMap((p) => p.protocols ?? []).map((p) => p.name)).toEqual(
      expect.arrayContaining(["disk_space_recovery", "machine_load_high", "rch_bottleneck", "dcg_spike"]),
    );
    expect(() => checkPlugins(toolPlugins, [], { views: [], sections: [] })).not.toThrow();
  });

  it("names escalations, windows and rollbacks as the seed asks", () => {
    expect(
      ([diskSpaceRecovery, machineLoadHigh, rchBottleneck, dcgSpike] as Protocol[]).map((p) => [p.name, p.escalation.afterFailures, p.rollback ?? null, p.verification.describe]),
    ).toEqual([
      ["disk_space_recovery", 2, null, "disk below 80 %"],
      ["machine_load_high", 3, null, "load5 back under cores × 1.5"],
      ["rch_bottleneck", 3, null, "the queue draining: at most 10 builds queued, or a worker available and the queue shorter than at the trigger"],
      ["dcg_spike", 3, null, "denies decrease: at most 10 an hour over the last 15 min"],
    ]);
  });
});

// ─── disk_space_recovery ───────────────────────────────────────────────────────────────────────
describe("disk_space_recovery (sysprobe's df, the caches under HOME)", () => {
  const DF = fx("sysprobe", "df-P.txt");
  const ROOT = "/dev/vda                  264212084 23125324  83265588      22% /";
  /** df -P as captured, with `/` replaced (and more lines added). */
  const df = (root: string, ...more: string[]) => DF.replace(ROOT, root) + more.map((l) => `${l}\n`).join("");
  /** The machine's df: written once its HOME is known (a mount under HOME is named in it). */
  const setDf = (m: FakeMachine, text: string) => {
    writeFileSync(join(m.bin, "df"), `#!/bin/sh\n[ "$*" = "-P" ] || exit 64\ncat <<'EOF'\n${text}EOF\n`);
    chmodSync(join(m.bin, "df"), 0o755);
  };
  const probe = sysprobe({ cpuSampleMs: 20 });
  let s: Store;
  let orko: FakeMachine;
  let sparrow: FakeMachine;

  beforeAll(async () => {
    s = await store([probe]);
    orko = machine({ id: "orko" });
    sparrow = machine({ id: "sparrow" });
    // orko: npm's and bun's caches on `/`; uv's under ~/.cache, which df says is another filesystem.
    orko.writeFile(".npm/_cacache/content-v2/sha512/ab/cd", "n".repeat(64 * 1024));
    orko.writeFile(".bun/install/cache/react@19.0.0/package.json", "b".repeat(2 * 1024));
    orko.writeFile(".cache/uv/wheels-v5/pypi/x.whl", "u".repeat(8 * 1024));
    // sparrow: every known cache, on `/`.
    for (const c of KNOWN_CACHES) sparrow.writeFile(`${c.path}/entry`, "x".repeat(4 * 1024));
  });

  it("finds no target while every disk has room (the captured df: / at 22 %)", async () => {
    setDf(orko, DF);
    expect((await runOnce({ store: s, collector: probe, machine: orko, clock: createFixedClock("2026-08-20T14:00:00Z") })).result).toBe("ok");
    expect(await find(diskSpaceRecovery, s, "2026-08-20T14:01:00Z")).toEqual([]);
  });

  let target: GuardianTarget;
  let other: GuardianTarget;
  it("finds each real filesystem over 90 %, with the caches of HOME that exist on it", async () => {
    setDf(orko, df("/dev/vda 264212084 240000000 18000000 94% /", `/dev/vdb 52403200 10485760 41917440 21% ${orko.home}/.cache`));
    setDf(sparrow, df("/dev/sda1 100000000 97000000 3000000 97% /"));
    for (const m of [orko, sparrow]) expect((await runOnce({ store: s, collector: probe, machine: m, clock: createFixedClock("2026-08-20T15:00:00Z") })).result).toBe("ok");
    // sysprobe printed HOME and the caches it holds.
    const [raw] = await s.query<{ home: string; caches: string }>(
      "SELECT raw_json->>'$.home' AS home, CAST(raw_json->'$.caches' AS VARCHAR) AS caches FROM sys_samples WHERE machine_id = 'orko' ORDER BY collected_at DESC LIMIT 1",
    );
    expect({ home: raw!.home, caches: JSON.parse(raw!.caches) }).toEqual({ home: orko.home, caches: [".npm/_cacache", ".bun/install/cache", ".cache/uv"] });
    const targets = await find(diskSpaceRecovery, s, "2026-08-20T15:01:00Z");
    expect(targets.map((t) => [t.key, t.machine, t.title])).toEqual([
      ["orko:/", "orko", "/ on orko is 93.02 % full"],
      ["sparrow:/", "sparrow", "/ on sparrow is 97 % full"],
    ]);
    [target, other] = targets as [GuardianTarget, GuardianTarget];
    const { fs_type, ...facts } = target.facts;
    expect(typeof fs_type === "string" || fs_type === null).toBe(true);
    expect(facts).toEqual({
      mount: "/",
      filesystem: "/dev/vda",
      used_pct: 93.02,
      avail_gb: 17.17,
      size_gb: 251.97,
      collected_at: "2026-08-20T15:00:00.000Z",
      home: orko.home,
      // uv's cache lives under ~/.cache: another filesystem, nothing freed here; the others do not exist.
      caches: [
        { tool: "npm", path: `${orko.home}/.npm/_cacache` },
        { tool: "bun", path: `${orko.home}/.bun/install/cache` },
      ],
      caches_listed: true,
    });
    expect((other.facts.caches as { tool: string }[]).map((c) => c.tool)).toEqual(["npm", "bun", "uv", "pip", "go", "yarn", "pnpm", "cargo"]);
  });

  let measured: Facts;
  it("measures the caches on that filesystem with du -skx, and parses du's real output", async () => {
    const measure = step(diskSpaceRecovery.diagnosis, "measure_caches", "command");
    expect(measure.writes).toBe(false);
    const planned = measure.command(stepCtx(s, "2026-08-20T15:01:00Z", target));
    const home = orko.home;
    expect(planned).toEqual({ argv: ["du", "-skx", `${home}/.npm/_cacache`, `${home}/.bun/install/cache`] });
    const r = await orko.exec.run(planned!.argv);
    expect({ exit: r.exitCode, stderr: r.stderr }).toEqual({ exit: 0, stderr: "" });
    measured = measure.parse!(r.stdout, stepCtx(s, "2026-08-20T15:01:00Z", target))!;
    const sizes = measured.cache_sizes as { tool: string; path: string; kb: number }[];
    expect(sizes.map((x) => [x.tool, x.path])).toEqual([
      ["npm", `${home}/.npm/_cacache`],
      ["bun", `${home}/.bun/install/cache`],
    ]);
    expect(sizes[0]!.kb).toBeGreaterThanOrEqual(64);
    expect(sizes[1]!.kb).toBeGreaterThanOrEqual(2);
    expect(measured.caches_kb).toBe(sizes[0]!.kb + sizes[1]!.kb);
    // A line for a path du was not asked about is not a cache.
    expect(parseDuSizes(`12\t/etc\n9\t${home}/.npm/_cacache\nnot du\n`, target.facts.caches as never)).toEqual([{ tool: "npm", path: `${home}/.npm/_cacache`, kb: 9 }]);
    // Nothing to measure without a HOME on the filesystem.
    expect(measure.command(stepCtx(s, "2026-08-20T15:01:00Z", { ...target, facts: { ...target.facts, home: null, caches: [] } }))).toBeNull();
  });

  it("plans each tool's own clean command for its cache on the filesystem, and runs it only when the cache is large", () => {
    const ctx = stepCtx(s, "2026-08-20T15:02:00Z", target, measured);
    const cleans = diskSpaceRecovery.treatment.filter((x): x is CommandStep => x.kind === "command");
    expect(cleans.map((c) => [c.name, c.writes, c.command(ctx)?.argv ?? null])).toEqual([
      ["clean_npm_cache", true, ["npm", "cache", "clean", "--force"]],
      ["clean_bun_cache", true, ["bun", "pm", "cache", "rm"]],
      ["clean_uv_cache", true, null],
      ["clean_pip_cache", true, null],
      ["clean_go_cache", true, null],
      ["clean_yarn_cache", true, null],
      ["clean_pnpm_cache", true, null],
    ]);
    const why = (p: Protocol, name: string, c: StepContext) => step(p.treatment, name, "command").when!(c);
    const npmKb = (measured.cache_sizes as { kb: number }[])[0]!.kb;
    expect(why(diskSpaceRecovery, "clean_npm_cache", ctx)).toBe(`the npm cache holds only ${kbText(npmKb)} (less than 256 MiB)`);
    expect(why(diskSpaceRecovery, "clean_npm_cache", stepCtx(s, "2026-08-20T15:02:00Z", target))).toBe("the caches were not measured");
    // With "large" from 32 KiB on: npm's 64 KiB cache goes, bun's few KiB stay.
    const eager = diskSpaceRecoveryProtocol({ largeCacheMb: 1 / 32 });
    expect(why(eager, "clean_npm_cache", ctx)).toBeNull();
    expect(why(eager, "clean_bun_cache", ctx)).toMatch(/^the bun cache holds only \d+ KiB \(less than 32 KiB\)$/);
    expect(suggestions(diskSpaceRecovery, ctx)).toEqual([
      ["rotate_logs", "On orko: rotate and compress old logs (the systemd journal: journalctl --vacuum-size=500M; logrotate for the rest)"],
      ["compress_sessions", "On orko: compress or move old agent session transcripts off / on orko"],
      ["find_large_dirs", "On orko: see what else fills it: du -xh --max-depth=2 /"],
      ["pause_low_priority_agents", "If / on orko keeps filling: pause its low-priority agents until it is below 80 %"],
    ]);
  });

  it("plans every cache of sparrow's `/`; one gone by the time du runs is skipped", async () => {
    const plan = stepCtx(s, "2026-08-20T15:01:00Z", other);
    const cleans = diskSpaceRecovery.treatment.filter((x): x is CommandStep => x.kind === "command");
    expect(cleans.map((c) => c.command(plan)?.argv.join(" "))).toEqual([
      "npm cache clean --force",
      "bun pm cache rm",
      "uv cache clean",
      "pip cache purge",
      "go clean -cache",
      "yarn cache clean",
      "pnpm store prune",
    ]);
    const argv = step(diskSpaceRecovery.diagnosis, "measure_caches", "command").command(plan)!.argv;
    expect(argv).toEqual(["du", "-skx", ...KNOWN_CACHES.map((c) => `${sparrow.home}/${c.path}`)]);
    // cargo has no clean command of its own: advice, never an rm (written when the run is planned).
    const cargo = `${sparrow.home}/.cargo/registry/cache`;
    expect(step(diskSpaceRecovery.treatment, "cargo_cache", "suggest").suggest(plan)).toBe(
      `${cargo} on sparrow: cargo has no stable command that empties it; the cargo-cache subcommand does (cargo cache --autoclean) where it is installed`,
    );
    // pnpm's store removed since sysprobe looked: du says so on stderr and exits 1; the rest is measured.
    rmSync(join(sparrow.home, ".local/share/pnpm/store"), { recursive: true });
    const r = await sparrow.exec.run(argv);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(".local/share/pnpm/store");
    const sizes = step(diskSpaceRecovery.diagnosis, "measure_caches", "command").parse!(r.stdout, plan)!;
    expect((sizes.cache_sizes as { tool: string }[]).map((c) => c.tool)).toEqual(["npm", "bun", "uv", "pip", "go", "yarn", "cargo"]);
    const ran = stepCtx(s, "2026-08-20T15:02:00Z", other, sizes);
    expect(step(diskSpaceRecovery.treatment, "clean_pnpm_cache", "command").when!(ran)).toBe(`no pnpm cache at ${sparrow.home}/.local/share/pnpm/store`);
    expect(step(diskSpaceRecovery.treatment, "cargo_cache", "suggest").suggest(ran)).toBeNull(); // a few KiB
    const big = stepCtx(s, "2026-08-20T15:02:00Z", other, { cache_sizes: [{ tool: "cargo", path: cargo, kb: 3 * 1024 * 1024 }] });
    expect(step(diskSpaceRecovery.treatment, "cargo_cache", "suggest").suggest(big)).toBe(
      `${cargo} on sparrow holds 3.0 GiB: cargo has no stable command that empties it; the cargo-cache subcommand does (cargo cache --autoclean) where it is installed`,
    );
  });

  it("escalates at once over 95 %, else after two failures; nothing to roll back", () => {
    expect(diskSpaceRecovery.escalation.immediate!(stepCtx(s, "2026-08-20T15:03:00Z", target))).toBeNull();
    expect(diskSpaceRecovery.escalation.immediate!(stepCtx(s, "2026-08-20T15:03:00Z", other))).toBe("/ on sparrow is 97 % full (over 95 %)");
    expect(diskSpaceRecovery.rollback).toBeUndefined();
  });

  it("verifies on the fresh df: not while / is 93 % full, yes once it is below 80 %", async () => {
    const check = (at: string) => diskSpaceRecovery.verification.check(stepCtx(s, at, target, measured));
    expect(await check("2026-08-20T15:03:00Z")).toEqual({ ok: false, detail: "/ on orko is 93.02 % full (was 93.02 %; the aim: below 80 %)" });
    setDf(orko, df("/dev/vda 264212084 150000000 114212084 57% /", `/dev/vdb 52403200 10485760 41917440 21% ${orko.home}/.cache`));
    expect((await runOnce({ store: s, collector: probe, machine: orko, clock: createFixedClock("2026-08-20T15:05:00Z") })).result).toBe("ok");
    expect(await check("2026-08-20T15:06:00Z")).toEqual({ ok: true, detail: "/ on orko is 56.77 % full (was 93.02 %; the aim: below 80 %)" });
    expect((await find(diskSpaceRecovery, s, "2026-08-20T15:06:00Z")).map((t) => t.key)).toEqual(["sparrow:/"]);
    // Without a fresh df (the collector stopped), it cannot hold.
    expect(await check("2026-08-20T15:30:00Z")).toEqual({ ok: false, detail: "no df of / on orko within 15 min" });
  });

  it("places a path on the longest mount that holds it", () => {
    const mounts = ["/", "/home", "/home/u/.cache", "/homes"];
    expect(mountOf("/home/u/.npm/_cacache", mounts)).toBe("/home");
    expect(mountOf("/home/u/.cache/uv", mounts)).toBe("/home/u/.cache");
    expect(mountOf("/homesick/x", mounts)).toBe("/");
    expect(cachesOn("/home/u", "/home/u/.cache", mounts).map((c) => c.tool)).toEqual(["uv", "pip", "go", "yarn"]);
    expect(cachesOn("/home/u", "/home/u/.cache", mounts, [".cache/pip", ".npm/_cacache"]).map((c) => c.tool)).toEqual(["pip"]);
    expect(cachesOn("/", "/", ["/"])[0]).toEqual({ tool: "npm", path: "/.npm/_cacache" });
  });
});

// ─── machine_load_high ─────────────────────────────────────────────────────────────────────────
describe("machine_load_high (sysmoni's load and top processes, pt's plan)", () => {
  const SYSMONI = fx("sysmoni", "json.json");
  const PLAN = fx("pt", "robot-plan.format-json.json");
  const loaded = (load1: number, load5: number, load15: number) => {
    const j = JSON.parse(SYSMONI) as { CPU: Record<string, unknown> };
    Object.assign(j.CPU, { Load1: load1, Load5: load5, Load15: load15 });
    return JSON.stringify(j);
  };
  const mon = sysmoni({ inotifyProbe: false });
  const triage = pt();
  let s: Store;
  let target: GuardianTarget;

  beforeAll(async () => {
    s = await store([mon, triage]);
  });

  it("finds no target at the captured load (12.87 on 32 cores)", async () => {
    const m = machine({ id: "orko", tools: { sysmoni: { "--json": SYSMONI } } });
    expect((await runOnce({ store: s, collector: mon, machine: m, clock: createFixedClock("2026-08-20T14:00:00Z") })).result).toBe("ok");
    expect(await find(machineLoadHigh, s, "2026-08-20T14:01:00Z")).toEqual([]);
  });

  it("finds a machine whose load5 is above cores × 1.5", async () => {
    const m = machine({ id: "orko", tools: { sysmoni: { "--json": loaded(71.2, 64.9, 40.3) } } });
    expect((await runOnce({ store: s, collector: mon, machine: m, clock: createFixedClock("2026-08-20T15:00:00Z") })).result).toBe("ok");
    const targets = await find(machineLoadHigh, s, "2026-08-20T15:01:00Z");
    expect(targets).toEqual([
      {
        key: "orko",
        machine: "orko",
        title: "orko: load5 64.9 on 32 cores (2.03 per core)",
        facts: { load1: 71.2, load5: 64.9, load15: 40.3, cpu_cores: 32, load_per_core: 2.03, threshold: 48, source: "sysmoni", collected_at: "2026-08-20T15:00:00.000Z" },
      },
    ]);
    target = targets[0]!;
  });

  let facts: Facts;
  it("reads the busiest processes from vc's data and pt's plan from its real output", async () => {
    // Read when the run is planned: no plan of pt's collected yet, then the one pt's collector brought.
    const collected = step(machineLoadHigh.diagnosis, "pt_plan_collected", "read");
    expect(await collected.read(stepCtx(s, "2026-08-20T15:01:00Z", target))).toEqual({ pt_plan_note: "no pt plan of orko collected in the last 30 min" });
    const ptMachine = machine({ id: "orko", tools: { pt: { "robot plan --format json": { stdout: PLAN, exit: 1 } } } });
    expect((await runOnce({ store: s, collector: triage, machine: ptMachine, clock: createFixedClock("2026-08-20T14:55:00Z") })).result).toBe("ok");
    const fromStore = (await collected.read(stepCtx(s, "2026-08-20T15:01:00Z", target)))!;
    expect(fromStore.pt_plan_at).toBe("2026-08-20T14:55:00.000Z");
    expect(await collected.read(stepCtx(s, "2026-08-20T15:30:00Z", target))).toEqual({ pt_plan_note: "no pt plan of orko collected in the last 30 min" });

    const top = await step(machineLoadHigh.diagnosis, "top_processes", "read").read(stepCtx(s, "2026-08-20T15:01:00Z", target));
    expect(top!.top_processes_at).toBe("2026-08-20T15:00:00.000Z");
    expect((top!.top_processes as unknown[]).length).toBe(10);
    expect((top!.top_processes as unknown[]).slice(0, 2)).toEqual([
      { pid: 365421, comm: "gemini", cpu_pct: 137.8193919197059, mem_pct: 3.5805301666259766 },
      { pid: 348823, comm: "ld.lld", cpu_pct: 83.57175537077319, mem_pct: 0.609584629535675 },
    ]);

    const plan = step(machineLoadHigh.diagnosis, "pt_plan", "command");
    expect(plan.writes).toBe(false);
    const argv = plan.command(stepCtx(s, "2026-08-20T15:01:00Z", target))!.argv;
    expect(argv).toEqual(["pt", "robot", "plan", "--format", "json"]);
    // pt on the machine answers with its plan and exit 1 ("candidates found").
    const m = machine({ id: "orko", tools: { pt: { "robot plan --format json": { stdout: PLAN, exit: 1 } } } });
    const r = await m.exec.run(argv);
    expect(r.exitCode).toBe(1);
    const parsed = plan.parse!(r.stdout, stepCtx(s, "2026-08-20T15:03:00Z", target, { ...top, ...fromStore }))!;
    expect(m.calls("pt")).toEqual(["robot plan --format json"]);
    // The collected plan and the fresh one are read alike (the same output, stored or printed).
    expect(parsed).toEqual({ ...fromStore, pt_plan_at: "2026-08-20T15:03:00.000Z" });
    const { pt_candidates: candidates, ...plainFacts } = parsed;
    expect(plainFacts).toEqual({
      pt_plan_at: "2026-08-20T15:03:00.000Z",
      pt_session: "pt-20260820-151030-k3mq",
      pt_total_processes: 1412,
      pt_kill_pids: [418822, 402117],
      pt_review_pids: [391002, 1774],
      pt_expected_memory_freed_gb: 1.56,
    });
    expect((candidates as unknown[])[3]).toEqual({
      pid: 1774,
      comm: "postgres",
      command: "postgres: 16/main: checkpointer",
      classification: "abandoned",
      confidence: "low",
      score: 64,
      recommendation: "REVIEW",
      set: "review",
      cpu_pct: 0,
      memory_mb: 96,
      policy_blocked: true,
      policy_violation: "protected_pattern",
      supervisor_command: "systemctl restart postgresql@16-main.service",
    });
    expect(planFacts("<html>not a plan</html>")).toEqual({ pt_plan_error: expect.stringContaining("pt robot plan") });
    // The engine writes the advice when it plans the run: from the reads.
    facts = { ...top, ...fromStore };
  });

  it("advises from pt's plan with pt's own commands; runs nothing", () => {
    expect(machineLoadHigh.treatment.every((x) => x.kind === "suggest")).toBe(true);
    expect(suggestions(machineLoadHigh, stepCtx(s, "2026-08-20T15:02:00Z", target, facts))).toEqual([
      [
        "pt_kill_set",
        "pt recommends killing 2 process(es) on orko: 418822 node (abandoned, high confidence, 1184 MB), 402117 vc_collect-3f9a (abandoned, medium confidence, 412 MB); about 1.56 GB freed. " +
          "After checking them, apply pt's plan: pt robot apply --session pt-20260820-151030-k3mq --pids 418822,402117",
      ],
      [
        "pt_review_set",
        "pt asks a person to review 2 process(es) on orko: 391002 node (useful_bad, throttle, 99.6 % CPU), " +
          "1774 postgres (abandoned, review, blocked by pt's policy: protected_pattern, its supervisor: systemctl restart postgresql@16-main.service). " +
          "Why: pt robot explain --session pt-20260820-151030-k3mq --pids 391002,1774",
      ],
      [
        "busiest_processes",
        "The busiest processes on orko (sysmoni): 365421 gemini 137.8 % CPU, 348823 ld.lld 83.6 % CPU, 874454 zsh 22.1 % CPU, " +
          "972407 node /data/projects/frankentui/node_modules/jest-worker/b... 18.4 % CPU, 178654 bun run dev 17.1 % CPU",
      ],
    ]);
    // No plan of pt's within 30 min: said, with the busiest processes.
    expect(
      suggestions(
        machineLoadHigh,
        stepCtx(s, "2026-08-20T15:02:00Z", target, {
          top_processes: (facts.top_processes as unknown[]).slice(0, 1),
          pt_plan_note: "no pt plan of orko collected in the last 30 min",
        }),
      ),
    ).toEqual([["busiest_processes", "no pt plan of orko collected in the last 30 min. The busiest processes on orko (sysmoni): 365421 gemini 137.8 % CPU"]]);
    // A clean plan: the load is work.
    const clean = planFacts(JSON.stringify({ ...JSON.parse(PLAN), candidates: [], recommendations: { kill_set: [], review_set: [], spare_set: [] } }));
    expect(suggestions(machineLoadHigh, stepCtx(s, "2026-08-20T15:02:00Z", target, { top_processes: [], ...clean }))).toEqual([
      ["busiest_processes", "pt finds nothing stuck or abandoned on orko: the load is real work; move or pause some of its agents."],
    ]);
  });

  it("verifies on the fresh sample: not at load5 64.9, yes once it is back under 48", async () => {
    const check = (at: string) => machineLoadHigh.verification.check(stepCtx(s, at, target, facts));
    expect(await check("2026-08-20T15:02:00Z")).toEqual({ ok: false, detail: "orko: load5 64.9 on 32 cores (limit 48; was 64.9)" });
    const m = machine({ id: "orko", tools: { sysmoni: { "--json": SYSMONI } } });
    expect((await runOnce({ store: s, collector: mon, machine: m, clock: createFixedClock("2026-08-20T15:10:00Z") })).result).toBe("ok");
    expect(await check("2026-08-20T15:11:00Z")).toEqual({ ok: true, detail: "orko: load5 12.87 on 32 cores (limit 48; was 64.9)" });
    expect(await find(machineLoadHigh, s, "2026-08-20T15:11:00Z")).toEqual([]);
  });
});

// ─── rch_bottleneck ────────────────────────────────────────────────────────────────────────────
describe("rch_bottleneck (rch status --json)", () => {
  const STATUS = fx("rch", "status.json");
  type Status = { data: { daemon: { workers: Record<string, unknown>[]; queued_builds: unknown[] } } };
  const status = (queued: number, patch: (s: Status) => void = () => {}) => {
    const j = JSON.parse(STATUS) as Status;
    j.data.daemon.queued_builds = Array.from({ length: queued }, (_, i) => ({
      id: 88420 + i,
      project_id: i % 2 ? "frankentui" : "vibe_cockpit",
      command: "cargo test --workspace",
      queued_at: "2026-08-20T15:0" + (i % 10) + ":00+00:00",
      position: i + 1,
      slots_needed: 4,
      estimated_start: null,
      wait_time: `${i + 1}m 0s`,
    }));
    patch(j);
    return JSON.stringify(j);
  };
  // mmini's circuit opened, trj degraded: with ovh1 unreachable, no worker can take a build.
  const stuck = (s: Status) => {
    const [mmini, trj] = s.data.daemon.workers as [Record<string, unknown>, Record<string, unknown>];
    Object.assign(mmini, { circuit_state: "open", consecutive_failures: 3, last_error: "rsync: connection unexpectedly closed", recovery_in_secs: 30 });
    Object.assign(trj, { status: "degraded", consecutive_failures: 2, last_error: "disk pressure: 4.1 GB free" });
  };
  const col = rch({ metricsUrl: "off" });
  let s: Store;
  let target: GuardianTarget;
  const collect = async (answer: string, at: string) => {
    const m = machine({ id: "orko", tools: { rch: { "status --json": answer } } });
    expect((await runOnce({ store: s, collector: col, machine: m, clock: createFixedClock(at) })).result).toBe("ok");
  };

  beforeAll(async () => {
    s = await store([col]);
  });

  it("finds no target on the captured status (nothing queued, two workers available)", async () => {
    await collect(STATUS, "2026-08-20T14:00:00Z");
    expect(await find(rchBottleneck, s, "2026-08-20T14:01:00Z")).toEqual([]);
    // Queued deep but a worker free: not saturated either.
    await collect(status(14), "2026-08-20T14:30:00Z");
    expect(await find(rchBottleneck, s, "2026-08-20T14:31:00Z")).toEqual([]);
  });

  it("finds a queue deeper than 10 with no worker available", async () => {
    await collect(status(14, stuck), "2026-08-20T15:00:00Z");
    const targets = await find(rchBottleneck, s, "2026-08-20T15:01:00Z");
    expect(targets).toEqual([
      {
        key: "orko",
        machine: "orko",
        title: "orko: 14 rch builds queued and no worker available (2 of 3 healthy)",
        facts: {
          queue_depth: 14,
          builds_active: 2,
          workers_total: 3,
          workers_healthy: 2,
          workers_available: 0,
          slots_available: 52,
          posture: "degraded",
          daemon_state: "running",
          collected_at: "2026-08-20T15:00:00.000Z",
        },
      },
    ]);
    target = targets[0]!;
  });

  let facts: Facts;
  it("reads the workers and rch's hints, and advises rch's own commands", async () => {
    facts = (await step(rchBottleneck.diagnosis, "workers", "read").read(stepCtx(s, "2026-08-20T15:01:00Z", target)))!;
    expect(facts.flaky_workers).toEqual(["mmini", "ovh1", "trj"]);
    expect((facts.workers as unknown[])[1]).toEqual({
      worker_id: "ovh1",
      host: "51.75.12.88",
      status: "unreachable",
      circuit_state: "open",
      consecutive_failures: 5,
      recovery_in_s: 94,
      used_slots: 0,
      total_slots: 12,
      last_error: "ssh: connect to host 51.75.12.88 port 22: Connection timed out",
      pressure_state: "telemetry_gap",
    });
    expect((facts.rch_hints as unknown[]).slice(0, 2)).toEqual([
      { worker_id: "trj", severity: "warning", message: "Worker trj storage pressure elevated (118.9 GB free)" },
      { worker_id: "ovh1", severity: "critical", message: "Worker ovh1 circuit open after 5 consecutive failures" },
    ]);
    expect(rchBottleneck.treatment.every((x) => x.kind === "suggest")).toBe(true);
    const [probe, disable, capacity] = suggestions(rchBottleneck, stepCtx(s, "2026-08-20T15:02:00Z", target, facts));
    expect(probe).toEqual([
      "probe_flaky_workers",
      "On orko, check the workers rch cannot use: mmini (circuit open, 3 failures in a row, rsync: connection unexpectedly closed): rch workers probe mmini; " +
        "ovh1 (unreachable, circuit open, 5 failures in a row, ssh: connect to host 51.75.12.88 port 22: Connection timed out): rch workers probe ovh1; " +
        "trj (degraded, 2 failures in a row, disk pressure: 4.1 GB free): rch workers probe trj",
    ]);
    expect(disable![0]).toBe("disable_flaky_workers");
    expect(disable![1]).toStartWith(
      "If a worker stays unreachable, take it out of rotation so the queue goes to the others: rch workers disable mmini --reason 'flaky: circuit open, 3 failures in a row, rsync: connection unexpectedly closed' (back later: rch workers enable mmini); ",
    );
    expect(capacity![0]).toBe("capacity");
    expect(capacity![1]).toStartWith("rch says: Worker trj storage pressure elevated (118.9 GB free); Worker ovh1 circuit open after 5 consecutive failures;");
  });

  it("verifies the queue draining after a fresh status", async () => {
    const check = (at: string) => rchBottleneck.verification.check(stepCtx(s, at, target, facts));
    expect(await check("2026-08-20T15:02:00Z")).toEqual({ ok: false, detail: "orko: 14 builds queued (was 14), 0 worker(s) available" });
    // A worker back and the queue shorter: draining.
    const mminiBack = (j: Status) => {
      stuck(j);
      Object.assign(j.data.daemon.workers[0]!, { circuit_state: "closed", consecutive_failures: 0, last_error: null, recovery_in_secs: null });
    };
    await collect(status(12, mminiBack), "2026-08-20T15:04:00Z");
    expect(await check("2026-08-20T15:05:00Z")).toEqual({ ok: true, detail: "orko: 12 builds queued (was 14), 1 worker(s) available" });
    await collect(status(3, stuck), "2026-08-20T15:08:00Z");
    expect(await check("2026-08-20T15:09:00Z")).toEqual({ ok: true, detail: "orko: 3 builds queued (was 14), 0 worker(s) available" });
  });
});

// ─── dcg_spike ─────────────────────────────────────────────────────────────────────────────────
describe("dcg_spike (dcg's history database and decision log)", () => {
  const LOG = ".local/share/dcg/decisions.jsonl";
  const CONFIG = `[logging]\nenabled = true\nformat = "json"\nfile = "~/${LOG}"\n`;
  const HISTORY = fx("dcg", "history-db.sql");
  /** Agents retrying what dcg refuses, as dcg's history database records them (ids after the fixture's 8). */
  const retries = (rows: [ts: string, agent: string, cwd: string, command: string, pack: string, pattern: string][]) =>
    rows
      .map(
        ([ts, agent, cwd, command, pack, pattern], i) =>
          `INSERT INTO commands (id, timestamp, agent_type, working_dir, command, command_hash, outcome, pack_id, pattern_name, rule_id, eval_duration_us, allowlist_layer) VALUES (${9 + i}, '${ts}', '${agent}', '${cwd}', '${command}', '${commandHash(command)}', 'deny', '${pack}', '${pattern}', '${pack}:${pattern}', 900, NULL);`,
      )
      .join("\n");
  const spike = retries([
    ...Array.from(
      { length: 8 },
      (_, i) =>
        [`2026-08-20T15:${String(10 + 2 * i).padStart(2, "0")}:05.000Z`, "claude_code", "/data/projects/vibe_cockpit", "git reset --hard HEAD", "core.git", "reset-hard"] as const,
    ),
    ...Array.from(
      { length: 4 },
      (_, i) => [`2026-08-20T15:${String(12 + 3 * i).padStart(2, "0")}:41.000Z`, "codex", "/data/projects/frankentui", "git clean -fdx", "core.git", "clean-force"] as const,
    ),
  ] as never);
  const col = dcg();
  const collect = async (s: Store, history: string, at: string) => {
    const m = machine({ id: "orko", home: { ".config/dcg/history.db": { sqlite: history }, ".config/dcg/config.toml": CONFIG, [LOG]: fx("dcg", "decision-log.jsonl") } });
    expect((await runOnce({ store: s, collector: col, machine: m, clock: createFixedClock(at) })).result).toBe("ok");
  };
  let target: GuardianTarget;
  let s: Store;

  it("finds no target on the captured history (3 denies in the hour before 15:30)", async () => {
    const quiet = await store([col]);
    await collect(quiet, HISTORY, "2026-08-20T15:30:00Z");
    expect(await find(dcgSpike, quiet, "2026-08-20T15:30:00Z")).toEqual([]);
  });

  it("finds a machine with more than 10 denies in the hour", async () => {
    s = await store([col]);
    await collect(s, `${HISTORY}\n${spike}\n`, "2026-08-20T15:30:00Z");
    const targets = await find(dcgSpike, s, "2026-08-20T15:30:00Z");
    expect(targets).toEqual([
      {
        key: "orko",
        machine: "orko",
        title: "orko: dcg denied 15 commands in the last hour (most: core.git:reset-hard, 9×)",
        facts: { denies_1h: 15, rule_ids: 4, top_rule_id: "core.git:reset-hard", top_rule_denies: 9, last_deny_at: "2026-08-20T15:24:05.000Z" },
      },
    ]);
    target = targets[0]!;
  });

  let facts: Facts;
  it("correlates the rules that denied with the working directories, and advises a review", async () => {
    facts = (await step(dcgSpike.diagnosis, "rules_by_cwd", "read").read(stepCtx(s, "2026-08-20T15:30:00Z", target)))!;
    expect(facts).toEqual({
      correlation: [
        { rule_id: "core.git:reset-hard", pack_id: "core.git", cwd: "/data/projects/vibe_cockpit", agent_types: ["claude_code"], denies: 9, last_at: "2026-08-20T15:24:05.000Z" },
        { rule_id: "core.git:clean-force", pack_id: "core.git", cwd: "/data/projects/frankentui", agent_types: ["codex"], denies: 4, last_at: "2026-08-20T15:21:41.000Z" },
        {
          rule_id: "core.filesystem:rm-rf-general",
          pack_id: "core.filesystem",
          cwd: "/data/projects/frankentui",
          agent_types: ["claude_code"],
          denies: 1,
          last_at: "2026-08-20T14:56:57.855Z",
        },
        { rule_id: "core.git:push-force-long", pack_id: "core.git", cwd: null, agent_types: [], denies: 1, last_at: "2026-08-20T14:39:46.000Z" },
      ],
      denies_with_cwd: 14,
      top_cwds: [
        { cwd: "/data/projects/vibe_cockpit", denies: 9 },
        { cwd: "/data/projects/frankentui", denies: 5 },
      ],
    });
    expect(dcgSpike.treatment.every((x) => x.kind === "suggest")).toBe(true);
    expect(suggestions(dcgSpike, stepCtx(s, "2026-08-20T15:31:00Z", target, facts))).toEqual([
      [
        "show_correlation",
        "dcg's denies on orko in the last hour, by rule and working directory: core.git:reset-hard 9× in /data/projects/vibe_cockpit by claude_code; " +
          "core.git:clean-force 4× in /data/projects/frankentui by codex; core.filesystem:rm-rf-general 1× in /data/projects/frankentui by claude_code; " +
          "core.git:push-force-long 1× in (no cwd: decision log)",
      ],
      [
        "behaviour_review",
        "Review what the agents in /data/projects/vibe_cockpit keep attempting (core.git:reset-hard, 9× in the hour): tell them why dcg refuses it, or change their instructions; " +
          "see the rules: dcg pack info core.git, dcg pack info core.filesystem; per-rule history: dcg stats --rules; the agents on orko: ntm --robot-status",
      ],
    ]);
  });

  it("verifies the denies decreasing over the last 15 min", async () => {
    const check = (at: string) => dcgSpike.verification.check(stepCtx(s, at, target, facts));
    expect(await check("2026-08-20T15:30:00Z")).toEqual({ ok: false, detail: "orko: 8 denies in the last 15 min (32 an hour; was 15 in the hour)" });
    // A later collection with nothing new denied.
    await collect(s, `${HISTORY}\n${spike}\n`, "2026-08-20T15:50:00Z");
    expect(await check("2026-08-20T15:50:00Z")).toEqual({ ok: true, detail: "orko: 0 denies in the last 15 min (0 an hour; was 15 in the hour)" });
  });
});
