// The guardian end to end on this machine: a real store, the real local executor, a fake tool
// that records every argv it receives; each autopilot mode, the gate's refusals, verification,
// rollback, escalation into an alert and an incident, approvals and their expiry.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createFixedClock, openCockpit, resolveConfig, sql, type Cockpit, type VcConfig } from "../../lib/index.ts";
import { tempDir } from "../helpers/tmp.ts";
import { jamValve, makeTank, tankLog, tankPlugin } from "./_tank.ts";

const root = tempDir("vc-guardian-");
let n = 0;
const open: Cockpit[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/** The autopilot's config; `allow` gets the tank's path (its commands are allowlisted by it). */
type Auto = Partial<Omit<VcConfig["autopilot"], "safe_commands">> & { mode: VcConfig["autopilot"]["mode"]; allow?: (bin: string) => string[] };

async function setup(o: {
  auto: Auto;
  level?: number;
  machine?: { allow_autopilot?: boolean; allow_write_commands?: boolean };
  plugin?: Parameters<typeof tankPlugin>[1];
  clock?: ReturnType<typeof createFixedClock>;
}) {
  const dir = join(root, `case-${++n}`);
  const bin = makeTank(join(dir, "tool"), o.level ?? 95);
  const config = await resolveConfig(
    {
      db: join(dir, "vc.duckdb"),
      data_dir: dir,
      machines: [{ id: "here", ssh: "local", allow_autopilot: true, allow_write_commands: true, ...o.machine }],
      plugins: [tankPlugin(bin, o.plugin)],
      autopilot: { ...Object.fromEntries(Object.entries(o.auto).filter(([k]) => k !== "allow")), safe_commands: { allow: o.auto.allow?.(bin) ?? [] } },
    },
    { source: "guardian-test", env: {} },
  );
  const vc = await openCockpit({ config, ...(o.clock ? { clock: o.clock } : {}) });
  open.push(vc);
  await vc.collect();
  return { vc, dir, tool: join(dir, "tool"), bin };
}

const audits = (vc: Cockpit, type: string) =>
  vc.store.query<{ actor: string; action: string; result: string; machine_id: string; details_json: string }>(
    sql`SELECT actor, action, result, machine_id, details_json::VARCHAR AS details_json FROM audit_events WHERE event_type = ${type} ORDER BY ts, event_id`,
  );

describe("modes", () => {
  test("off: no trigger is even read, nothing is written or run", async () => {
    const { vc, tool } = await setup({ auto: { mode: "off" } });
    const r = await vc.guardianCheck();
    expect(r.items).toEqual([]);
    expect(tankLog(tool)).toEqual([]);
    expect(await vc.store.query("SELECT * FROM guardian_runs")).toEqual([]);
  });

  test("suggest: one suggestion with its plan, nothing runs; the same suggestion is not repeated", async () => {
    const { vc, tool, bin } = await setup({ auto: { mode: "suggest", allow: (bin) => [`${bin} **`] } });
    const r = await vc.guardianCheck();
    expect(r.items).toHaveLength(1);
    const item = r.items[0]!;
    expect(item.action).toBe("suggested");
    expect(item.plan.filter((s) => s.kind === "command").map((s) => s.argv)).toEqual([
      [bin, "inspect"],
      [bin, "drain", "50"],
      [bin, "refill", "95"],
    ]);
    expect(item.plan.find((s) => s.step === "drain")!.gate).toEqual({ ok: false, detail: "the autopilot only suggests (mode: suggest)" });
    expect(tankLog(tool)).toEqual([]);
    const again = await vc.guardianCheck();
    expect(again.items[0]!.action).toBe("skipped");
    expect(again.items[0]!.why).toContain("suggested");
    expect((await vc.store.query("SELECT run_id FROM guardian_runs")).length).toBe(1);
    expect(await audits(vc, "autopilot_action")).toEqual([]);
  });

  test("execute-safe: allowlisted commands run, the fresh collection verifies, every command is audited", async () => {
    const { vc, tool, bin } = await setup({ auto: { mode: "execute-safe", allow: (bin) => [`${bin} inspect`, `${bin} drain *`] } });
    const r = await vc.guardianCheck();
    expect(r.items.map((i) => [i.action, i.status])).toEqual([["ran", "verified"]]);
    expect(tankLog(tool)).toEqual(["inspect", "drain 50"]);
    const run = (await vc.robotGuardian({ id: r.items[0]!.run_id! })).data.runs[0]!;
    expect(run.status).toBe("verified");
    expect(run.steps.map((s) => [s.phase, s.step, s.status, s.exit_code])).toEqual([
      ["diagnosis", "history", "ok", null],
      ["diagnosis", "inspect", "ok", 0],
      ["treatment", "drain", "ok", 0],
      ["treatment", "review", "suggested", null],
    ]);
    expect(run.steps[1]!.output_excerpt).toContain('"level": 95');
    expect(run.verification.at(-1)).toMatchObject({ ok: true, detail: "level 50 %" });
    const acts = await audits(vc, "autopilot_action");
    expect(acts.map((a) => [a.actor, a.action, a.result, a.machine_id])).toEqual([
      ["autopilot", `${bin} inspect`, "ok", "here"],
      ["autopilot", `${bin} drain 50`, "ok", "here"],
    ]);
    expect(JSON.parse(acts[1]!.details_json)).toMatchObject({ run_id: run.run_id, why: `allowlisted by "${bin} drain *"`, before: { level: 95 } });
    // The target is free again, and healthy: the next check finds nothing to do.
    expect(await vc.store.query("SELECT * FROM guardian_active")).toEqual([]);
    expect((await vc.guardianCheck()).items).toEqual([]);
  });

  test("execute-safe: a command outside the allowlist is refused and never reaches the machine; the run is blocked", async () => {
    const { vc, tool, bin } = await setup({ auto: { mode: "execute-safe", allow: (bin) => [`${bin} inspect`] } });
    const r = await vc.guardianCheck();
    expect(r.items[0]).toMatchObject({ action: "ran", status: "blocked" });
    expect(tankLog(tool)).toEqual(["inspect"]);
    const run = (await vc.robotGuardian({ id: r.items[0]!.run_id! })).data.runs[0]!;
    expect(run.reason).toBe("drain was refused: no entry of autopilot.safe_commands.allow covers it");
    expect((await audits(vc, "autopilot_action")).map((a) => [a.action, a.result])).toEqual([
      [`${bin} inspect`, "ok"],
      [`${bin} drain 50`, "refused"],
    ]);
    // Blocked: cooling down, not retried at the next check.
    expect((await vc.guardianCheck()).items[0]).toMatchObject({ action: "skipped" });
  });

  test("a machine without allow_write_commands: the write is refused, the read runs", async () => {
    const { vc, tool } = await setup({ auto: { mode: "execute-safe", allow: (bin) => [`${bin} **`] }, machine: { allow_write_commands: false } });
    const r = await vc.guardianCheck();
    expect(r.items[0]!.status).toBe("blocked");
    expect(tankLog(tool)).toEqual(["inspect"]);
    expect((await vc.robotGuardian({ id: r.items[0]!.run_id! })).data.runs[0]!.reason).toContain("does not allow write commands");
  });

  test("a machine's cap of commands per hour: past it, the next command is refused and the run blocked", async () => {
    const { vc, tool } = await setup({ auto: { mode: "execute-safe", allow: (bin) => [`${bin} **`], max_actions_per_hour: 1 } });
    const r = await vc.guardianCheck();
    expect(r.items[0]!.status).toBe("blocked");
    expect(tankLog(tool)).toEqual(["inspect"]);
    const run = (await vc.robotGuardian({ id: r.items[0]!.run_id! })).data.runs[0]!;
    expect(run.reason).toBe("drain: here had 1 autopilot commands in the last hour (max_actions_per_hour: 1)");
  });

  test("a machine without allow_autopilot: nothing runs at all", async () => {
    const { vc, tool } = await setup({ auto: { mode: "execute-safe", allow: (bin) => [`${bin} **`] }, machine: { allow_autopilot: false } });
    const r = await vc.guardianCheck();
    expect(r.items[0]!.status).toBe("blocked");
    expect(tankLog(tool)).toEqual([]);
  });
});

describe("failure", () => {
  test("verification fails → rollback; the second failure escalates: a critical alert and an incident, linked to the run", async () => {
    const { vc, tool } = await setup({ auto: { mode: "execute-safe", allow: (bin) => [`${bin} **`], cooldown_minutes: 1 }, plugin: { withinSeconds: 2 } });
    jamValve(tool);
    const first = await vc.guardianCheck();
    expect(first.items[0]!.status).toBe("rolled_back");
    expect(tankLog(tool)).toEqual(["inspect", "drain 50", "refill 95"]);
    const run1 = (await vc.robotGuardian({ id: first.items[0]!.run_id! })).data.runs[0]!;
    expect(run1.reason).toContain("not verified within 2 s (the tank below 80 %): level 95 %");
    expect(run1.verification.length).toBeGreaterThanOrEqual(2);
    expect(run1.steps.at(-1)).toMatchObject({ phase: "rollback", step: "refill", status: "ok" });
    // Cooling down: no second run right away.
    expect((await vc.guardianCheck()).items[0]!.why).toContain("cooling down");
    await vc.store.run(sql`UPDATE guardian_runs SET finished_at = finished_at - INTERVAL 2 MINUTE, created_at = created_at - INTERVAL 2 MINUTE`);
    const second = await vc.guardianCheck();
    expect(second.items[0]!.status).toBe("escalated");
    const run2 = (await vc.robotGuardian({ id: second.items[0]!.run_id! })).data.runs[0]!;
    expect(run2.reason).toContain("escalated: 2 failed run(s) within 24 h (escalates after 2)");
    const alerts = await vc.alerts();
    const alert = alerts.find((a) => a.rule === "guardian_escalation");
    expect(alert).toMatchObject({ severity: "critical", state: "firing", machine_id: "here" });
    expect(run2.incident_id).toMatch(/^inc-/);
    // Escalated: the guardian waits for a person instead of trying again.
    expect((await vc.guardianCheck()).items[0]!.why).toContain("escalated to a person");
  });

  test("a step whose command is missing on the machine: the run fails, saying so", async () => {
    const { vc, tool } = await setup({
      auto: { mode: "execute-safe", allow: (bin) => [`${bin} **`, "vc-no-such-tool **"] },
      plugin: { extraCommand: ["vc-no-such-tool", "status"] },
    });
    const r = await vc.guardianCheck();
    expect(r.items[0]!.status).toBe("failed");
    const run = (await vc.robotGuardian({ id: r.items[0]!.run_id! })).data.runs[0]!;
    expect(run.reason).toContain("vc-no-such-tool is not installed on here");
    expect(tankLog(tool)).toEqual(["inspect"]);
  });
});

describe("approval", () => {
  test("nothing runs until approved; then exactly the approved steps; a second approval is refused naming who approved", async () => {
    const { vc, tool } = await setup({ auto: { mode: "execute-with-approval" } });
    const r = await vc.guardianCheck();
    expect(r.items[0]).toMatchObject({ action: "pending", status: "pending" });
    expect(tankLog(tool)).toEqual([]);
    const pending = (await vc.robotGuardian()).data.pending;
    expect(pending.map((p) => p.run_id)).toEqual([r.items[0]!.run_id!]);
    const done = await vc.approveRun(r.items[0]!.run_id!.slice(0, 6), { by: "alice" });
    expect(done).toMatchObject({ status: "verified", decided_by: "alice" });
    expect(tankLog(tool)).toEqual(["inspect", "drain 50"]);
    const acts = await audits(vc, "autopilot_action");
    expect(acts.map((a) => a.actor)).toEqual(["autopilot (approved by alice)", "autopilot (approved by alice)"]);
    expect((await audits(vc, "user_command")).map((a) => [a.actor, a.action])).toEqual([["alice", `guardian approve ${done.run_id}`]]);
    await expect(vc.approveRun(done.run_id, { by: "bob" })).rejects.toThrow(`run ${done.run_id} is verified by alice`);
    expect(tankLog(tool)).toEqual(["inspect", "drain 50"]);
  });

  test("deny: nothing runs, the target is free, who denied is kept", async () => {
    const { vc, tool } = await setup({ auto: { mode: "execute-with-approval" } });
    const r = await vc.guardianCheck();
    const denied = await vc.denyRun(r.items[0]!.run_id!, { by: "carol", reason: "not now" });
    expect(denied).toMatchObject({ status: "denied", decided_by: "carol", reason: "denied: not now" });
    expect(tankLog(tool)).toEqual([]);
    expect(await vc.store.query("SELECT * FROM guardian_active")).toEqual([]);
  });

  test("an approval expires; approving an expired or unknown id is refused", async () => {
    const clock = createFixedClock(new Date());
    const { vc, tool } = await setup({ auto: { mode: "execute-with-approval", approval_minutes: 30 }, clock });
    const r = await vc.guardianCheck();
    const id = r.items[0]!.run_id!;
    clock.set(new Date(clock.now().getTime() + 31 * 60_000));
    await expect(vc.approveRun(id, { by: "alice" })).rejects.toThrow(/expired at .*no one approved it in time/);
    expect((await vc.robotGuardian({ id })).data.runs[0]!.status).toBe("expired");
    await expect(vc.approveRun("g-nope", { by: "alice" })).rejects.toThrow('no guardian run "g-nope"');
    expect(tankLog(tool)).toEqual([]);
  });
});

describe("config", () => {
  test("autopilot.protocols turns a protocol off or escalates it sooner; a name no plugin has is refused", async () => {
    const off = await setup({ auto: { mode: "execute-safe", allow: (bin) => [`${bin} **`], protocols: { tank_drain: { enabled: false } } } });
    expect((await off.vc.guardianCheck()).items).toEqual([]);
    expect(tankLog(off.tool)).toEqual([]);
    expect((await off.vc.robotGuardian()).data.protocols).toContainEqual(expect.objectContaining({ name: "tank_drain", enabled: false }));

    const sooner = await setup({
      auto: { mode: "execute-safe", allow: (bin) => [`${bin} **`], protocols: { tank_drain: { enabled: true, escalate_after_failures: 1 } } },
      plugin: { withinSeconds: 1 },
    });
    jamValve(sooner.tool);
    expect((await sooner.vc.guardianCheck()).items[0]!.status).toBe("escalated");

    await expect(setup({ auto: { mode: "suggest", protocols: { tank_drian: { enabled: false } } } })).rejects.toThrow(
      'autopilot.protocols.tank_drian: no plugin contributes a protocol "tank_drian"',
    );
  });
});

describe("races", () => {
  test("two guardians on one store racing for one target: one runs", async () => {
    const { vc, tool } = await setup({ auto: { mode: "execute-safe", allow: (bin) => [`${bin} **`] } });
    const { createGuardian } = await import("../../lib/guardian/engine.ts");
    const deps = {
      store: vc.store,
      config: vc.config,
      clock: vc.clock,
      executorFor: (await import("../../lib/index.ts")).createExecutorFactory(vc.config),
      protocols: vc.config.plugins.flatMap((p) => p.protocols ?? []),
      refresh: async (m: string) => void (await vc.collect({ machine: m, force: true })),
    };
    const [a, b] = [createGuardian(deps), createGuardian(deps)];
    const [ra, rb] = await Promise.all([a.check(), b.check()]);
    const actions = [...ra.items, ...rb.items].map((i) => i.action).sort();
    expect(actions).toEqual(["ran", "skipped"]);
    expect(tankLog(tool).filter((l) => l.startsWith("drain"))).toEqual(["drain 50"]);
    expect((await vc.store.query("SELECT run_id FROM guardian_runs")).length).toBe(1);
  });
});
