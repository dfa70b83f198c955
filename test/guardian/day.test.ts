// Issue 18's check: a replayed morning with a filling disk, an account racing to its limit and a
// stuck agent, on a machine whose tools record every command they receive, in each autopilot
// mode. suggest: nothing runs. execute-safe: only allowlisted commands run, each verified and
// audited. execute-with-approval: nothing runs until a person approves in the CLI (through the
// cockpit serving the store), then exactly the approved steps.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, createLocalExecutor, openCockpit, resolveConfig, serveStore, sql, type Cockpit, type GuardianRun, type VcConfig } from "../../lib/index.ts";
import { caam } from "../../plugins/caam/index.ts";
import { ntmAttention } from "../../plugins/ntm/attention.ts";
import { sysprobe } from "../../plugins/index.ts";
import { isolatedEnv, vc as cli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { covered } from "./_allow.ts";
import { at, makeOrko, STEPS } from "./_day.ts";

setDefaultTimeout(180_000);

const root = tempDir("vc-guardian-day-");
const open: Cockpit[] = [];
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
});

/** What a person would allowlist: the reads, the cache cleaner, the account swap, Ctrl+C to one pane — not a prompt typed into an agent. */
const ALLOW = ["du -skx **", "npm cache clean --force", "caam limits * --format json", "caam activate * *", "ntm --robot-interrupt * --panes *"];
const PROTOCOLS = ["disk_space_recovery", "rate_limit_recovery", "stuck_agent_recovery"];

/** Replays the morning in `mode`: collect, then the guardian's check, every 10 minutes. */
async function replay(mode: VcConfig["autopilot"]["mode"]) {
  const dir = join(root, mode);
  const orko = makeOrko(join(dir, "orko"));
  const db = join(dir, "vc.duckdb");
  const config = await resolveConfig(
    {
      db,
      data_dir: dir,
      machines: [{ id: "orko", ssh: "local", allow_autopilot: true, allow_write_commands: true }],
      collectors: [sysprobe({ cpuSampleMs: 10 }), caam(), ntmAttention()],
      autopilot: { mode, safe_commands: { allow: ALLOW }, verify_within_seconds: 240, verify_every_seconds: 60, approval_minutes: 600 },
    },
    { source: "day", env: {} },
  );
  const clock = createFixedClock(at(0));
  const env = { ...process.env, PATH: `${orko.bin}:/usr/bin:/bin`, HOME: orko.home };
  const vc = await openCockpit({ config, clock, executorFor: (m) => createLocalExecutor({ machineId: m.id, env, home: orko.home }) });
  open.push(vc);
  const checks = [];
  for (let i = 0; i < STEPS; i++) {
    orko.step(i);
    // A verification's pauses moved the pinned clock on; time never runs backwards.
    clock.set(new Date(Math.max(at(i).getTime(), clock.now().getTime())));
    const report = await vc.collect();
    for (const r of report.machines.flatMap((m) => m.runs)) expect(`${r.collector} ${r.result} ${r.error ?? ""}`).toBe(`${r.collector} ok `);
    checks.push(await vc.guardianCheck());
  }
  const runs = (await vc.robotGuardian({ limit: 100 })).data.runs;
  const autopilot = await vc.store.query<{ action: string; result: string; actor: string }>(
    sql`SELECT action, result, actor FROM audit_events WHERE event_type = 'autopilot_action' ORDER BY ts, event_id`,
  );
  return { vc, orko, dir, db, clock, checks, runs, autopilot };
}

const byProtocol = (runs: GuardianRun[]) => Object.fromEntries(PROTOCOLS.map((p) => [p, runs.filter((r) => r.protocol === p)]));

describe("a replayed morning", () => {
  test("suggest: every trouble gets a suggestion with its plan; nothing reaches the machine", async () => {
    const day = await replay("suggest");
    const runs = byProtocol(day.runs);
    for (const p of PROTOCOLS) {
      expect(runs[p]!.length).toBeGreaterThan(0);
      expect(runs[p]!.every((r) => r.status === "suggested")).toBe(true);
    }
    expect(runs.disk_space_recovery![0]!.plan.filter((s) => s.argv).map((s) => s.argv![0])).toEqual(expect.arrayContaining(["du", "npm"]));
    expect(runs.rate_limit_recovery![0]!.plan.find((s) => s.step === "activate")?.argv).toEqual(["caam", "activate", "claude", "spare"]);
    expect(day.orko.calls()).toEqual([]);
    expect(day.autopilot).toEqual([]);
  });

  test("execute-safe: only allowlisted commands run; each run is verified after a fresh collection; every command is audited", async () => {
    const day = await replay("execute-safe");
    const runs = byProtocol(day.runs);
    // Each trouble was healed once, and stayed healed.
    for (const p of PROTOCOLS) expect(runs[p]!.map((r) => r.status)).toEqual(["verified"]);
    for (const p of PROTOCOLS) expect(runs[p]![0]!.verification.at(-1)!.ok).toBe(true);
    const calls = day.orko.calls();
    expect(calls).toContain("npm cache clean --force");
    expect(calls).toContain("caam activate claude spare");
    expect(calls.some((c) => c.startsWith("ntm --robot-interrupt corpus-session-1 --panes 0.3"))).toBe(true);
    // The prompt typed into the agent is not allowlisted: refused, never sent; the interrupt alone healed it.
    expect(calls.some((c) => c.startsWith("ntm send"))).toBe(false);
    const stuck = runs.stuck_agent_recovery![0]!;
    expect(stuck.steps.find((s) => s.step === "recovery_prompt")).toMatchObject({ status: "refused" });
    expect(stuck.reason).toContain("the treatment stopped early: recovery_prompt was refused");
    // What the machine received is exactly what the audit log says ran, and all of it is allowlisted.
    const ran = day.autopilot.filter((a) => a.result !== "refused");
    expect(ran.map((a) => a.action).sort()).toEqual([...calls].sort());
    const argvs = await day.vc.store.query<{ argv: string }>(
      sql`SELECT json_extract(details_json, '$.argv')::VARCHAR AS argv FROM audit_events WHERE event_type = 'autopilot_action' AND result <> 'refused'`,
    );
    for (const a of argvs) expect(covered(ALLOW, JSON.parse(a.argv))).toBe(true);
    expect(day.autopilot.filter((a) => a.result === "refused").map((a) => a.action.split(" ").slice(0, 2).join(" "))).toEqual(["ntm send"]);
    // The disk, the account and the agent are fine at the end: no trigger holds.
    expect((await day.vc.guardianCheck({ dryRun: true })).items).toEqual([]);
  });

  test("execute-with-approval: nothing runs until approved in the CLI; then exactly the approved steps", async () => {
    const day = await replay("execute-with-approval");
    const pending = day.runs.filter((r) => r.status === "pending");
    expect(pending.map((r) => r.protocol).sort()).toEqual([...PROTOCOLS].sort());
    expect(day.orko.calls()).toEqual([]);
    expect(day.autopilot).toEqual([]);

    // A person approves through the CLI; the cockpit that holds the store runs them.
    const served = serveStore(day.vc);
    try {
      const cfg = join(day.dir, "vc.config.ts");
      writeFileSync(cfg, `export default { db: ${JSON.stringify(day.db)}, data_dir: ${JSON.stringify(day.dir)}, machines: [{ id: "orko", ssh: "local" }] };\n`);
      const env = isolatedEnv(day.dir, { USER: "erin", VC_NOW: day.clock.now().toISOString() });
      for (const run of pending) {
        const before = day.orko.calls().length;
        const r = await cli(["guardian", "approve", run.run_id, "--config", cfg, "--json"], { env, timeoutMs: 120_000 });
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("approving") });
        const done = JSON.parse(r.stdout) as GuardianRun;
        expect(done).toMatchObject({ status: "verified", decided_by: "erin" });
        // Exactly the approved steps: the commands that ran are the plan's (a step may be skipped by its own condition, never added).
        const planned = run.plan.filter((s) => s.phase !== "rollback" && s.argv).map((s) => `${s.argv!.join(" ")}`);
        const ran = day.orko.calls().slice(before);
        for (const c of ran) expect(planned).toContain(c);
        expect(done.steps.filter((s) => s.kind === "command" && s.status === "ok").map((s) => s.argv!.join(" "))).toEqual(ran);
      }
    } finally {
      await served.close();
    }
    const audit = await day.vc.store.query<{ actor: string }>(sql`SELECT DISTINCT actor FROM audit_events WHERE event_type = 'autopilot_action'`);
    expect(audit.map((a) => a.actor)).toEqual(["autopilot (approved by erin)"]);
    expect(day.orko.calls().some((c) => c.startsWith("ntm send"))).toBe(true);
  });
});
