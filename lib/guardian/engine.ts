// The guardian (plan §6.3, §8.3): each check evaluates every protocol's trigger, and per target
// makes a run as the autopilot's mode says — a suggestion, a pending approval, or an execution —
// planned once (argv fixed), executed step by step through the one gate (act.ts), verified after a
// fresh collection, rolled back and escalated when it fails. Every run and step is a record.
import { randomBytes } from "node:crypto";
import { recordAudit } from "../audit.ts";
import { VcError } from "../errors.ts";
import { sql } from "../store/sql.ts";
import { act, showArgv, type ActDeps, type ActionResult } from "./act.ts";
import type { CommandStep, Facts, GuardianTarget, Protocol, Step, StepContext } from "./define.ts";
import { gate, type Actor } from "./gate.ts";

/** A run's status. Final: verified, blocked, failed, rolled_back, escalated, denied, expired (and suggested, which never acts). */
export type RunStatus = "suggested" | "pending" | "denied" | "expired" | "running" | "verified" | "blocked" | "failed" | "rolled_back" | "escalated";

/** One step of a run's plan: what runs where (the argv fixed), or the advice, or the pause. */
export interface PlannedStep {
  seq: number;
  phase: "diagnosis" | "treatment" | "rollback";
  step: string;
  kind: Step["kind"];
  machine?: string;
  argv?: string[];
  /** The command as a person would type it. */
  command?: string;
  writes?: boolean;
  advice?: string;
  seconds?: number;
  /** The facts a read added (reads run when the run is planned: they only read vc's data). */
  facts?: Facts;
  /** What the gate says of the command in the run's mode (before any approval). */
  gate?: { ok: boolean; detail: string };
}

/** A run as the views show it. */
export interface GuardianRun {
  run_id: string;
  protocol: string;
  target_key: string;
  machine_id: string;
  title: string;
  mode: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  expires_at: string | null;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  incident_id: string | null;
  facts: Facts;
  plan: PlannedStep[];
  verification: { at: string; ok: boolean; detail: string }[];
  steps: RunStep[];
}

/** A step as it happened. */
export interface RunStep {
  seq: number;
  phase: string;
  step: string;
  kind: string;
  machine_id: string | null;
  argv: string[] | null;
  status: "ok" | "failed" | "refused" | "skipped" | "suggested";
  exit_code: number | null;
  output_excerpt: string | null;
  started_at: string;
  duration_ms: number | null;
  detail: string | null;
}

/** What a check did for one target. */
export interface CheckItem {
  protocol: string;
  target: string;
  machine: string;
  title: string;
  /** suggested · pending (waits for approval) · ran (its final status in `status`) · skipped (why in `why`) · planned (dry run). */
  action: "suggested" | "pending" | "ran" | "skipped" | "planned";
  why: string;
  run_id: string | null;
  status: RunStatus | null;
  plan: PlannedStep[];
}

export interface CheckReport {
  at: string;
  mode: string;
  dry_run: boolean;
  items: CheckItem[];
  /** Protocols whose trigger failed, with the error. */
  errors: { protocol: string; error: string }[];
}

/** What the guardian needs beyond acting: the protocols, a fresh collection of a machine, and a way to wait. */
export interface GuardianDeps extends ActDeps {
  protocols: readonly Protocol[];
  /** Collects a machine now (the verification reads what this brings). */
  refresh(machine: string): Promise<void>;
  sleep?(ms: number): Promise<void>;
}

/** Defaults of the autopilot's caps when the config says nothing. */
export const GUARDIAN_DEFAULTS = {
  max_actions_per_hour: 10,
  cooldown_minutes: 30,
  approval_minutes: 60,
  suggest_every_minutes: 60,
  failures_window_hours: 24,
} as const;

/** A TIMESTAMP as DuckDB prints it (UTC, no zone) in epoch ms. */
const tsMs = (s: string) => Date.parse(`${s.replace(" ", "T")}Z`);

const FINAL: RunStatus[] = ["verified", "blocked", "failed", "rolled_back", "escalated", "denied", "expired"];
const FAILED: RunStatus[] = ["failed", "rolled_back", "escalated"];

/**
 * The guardian of one cockpit: `check` runs triggers now, `approve` and `deny` decide pending runs.
 * Calls are serialized: one check or decision at a time in a process, and each target is claimed
 * in the store (`guardian_active`) so a run on it excludes any other.
 */
export function createGuardian(deps: GuardianDeps) {
  const { store, config, clock } = deps;
  const auto = { ...GUARDIAN_DEFAULTS, ...config.autopilot };
  // On a pinned clock (a replay, $VC_NOW) nothing waits: a pause moves the clock instead.
  const sleep =
    deps.sleep ??
    ((ms: number) => {
      const c = clock as typeof clock & { advance?: (ms: number) => void };
      if (clock.fixed && c.advance) return void c.advance(ms);
      return Bun.sleep(ms);
    });
  let chain: Promise<unknown> = Promise.resolve();
  // A run left `running` by a process that stopped mid-run (this process holds the store now):
  // it ends as failed, saying so, and frees its target — never a half-state hidden.
  let recovered = false;
  const recover = async () => {
    if (recovered || store.readOnly) return;
    recovered = true;
    const stale = await store.query<{ run_id: string }>(sql`SELECT run_id FROM guardian_runs WHERE status = 'running'`);
    for (const r of stale) await setStatus(r.run_id, "failed", { reason: "vc stopped during the run; the steps recorded are all that ran" });
  };
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(recover).then(fn);
    chain = run.catch(() => {});
    return run;
  };
  const now = () => clock.now();
  const iso = () => now().toISOString();
  const protocolNamed = (name: string) => deps.protocols.find((p) => p.name === name);

  /** Every protocol's trigger now; per target, what the mode says (nothing written with dryRun). */
  async function check(o: { dryRun?: boolean; protocol?: string } = {}): Promise<CheckReport> {
    if (o.protocol !== undefined && !protocolNamed(o.protocol))
      throw new VcError("not_found", `no protocol "${o.protocol}"`, { hint: `protocols: ${deps.protocols.map((p) => p.name).join(", ") || "(none)"}` });
    const report: CheckReport = { at: iso(), mode: config.autopilot.mode, dry_run: !!o.dryRun, items: [], errors: [] };
    if (!o.dryRun && !store.readOnly) await expirePending();
    if (config.autopilot.mode === "off" && !o.dryRun) return report;
    for (const p of deps.protocols) {
      if (o.protocol !== undefined && p.name !== o.protocol) continue;
      let targets: GuardianTarget[];
      try {
        targets = await p.trigger.find({ store, config, at: now() });
      } catch (err) {
        report.errors.push({ protocol: p.name, error: err instanceof Error ? err.message : String(err) });
        continue;
      }
      for (const t of targets) report.items.push(await handle(p, t, !!o.dryRun));
    }
    return report;
  }

  async function handle(p: Protocol, t: GuardianTarget, dryRun: boolean): Promise<CheckItem> {
    const base = { protocol: p.name, target: t.key, machine: t.machine, title: t.title };
    const { plan, facts } = await planRun(p, t);
    if (dryRun) return { ...base, action: "planned", why: `mode ${config.autopilot.mode}: the gate's answer is beside each command`, run_id: null, status: null, plan };
    if (store.readOnly) throw new VcError("store_locked", "the guardian needs the store writable", { hint: "run it through `vc up`, or stop what holds the store" });
    const skip = await skipReason(p, t);
    if (skip) return { ...base, action: "skipped", why: skip, run_id: null, status: null, plan };
    const mode = config.autopilot.mode;
    if (mode === "suggest") {
      const run_id = await insertRun(p, t, facts, plan, "suggested", { claim: false });
      return { ...base, action: "suggested", why: "mode suggest: recommendations only, nothing runs", run_id, status: "suggested", plan };
    }
    const claimed = await insertRun(p, t, facts, plan, mode === "execute-with-approval" ? "pending" : "running", { claim: true });
    if (!claimed) return { ...base, action: "skipped", why: "another run of this protocol holds the target", run_id: null, status: null, plan };
    if (mode === "execute-with-approval")
      return { ...base, action: "pending", why: `waits for a person: vc guardian approve ${claimed}`, run_id: claimed, status: "pending", plan };
    const status = await execute(claimed, p, t, facts, plan, { kind: "autopilot" });
    return { ...base, action: "ran", why: `mode execute-safe: allowlisted commands ran`, run_id: claimed, status, plan };
  }

  /** Why not act on this target now: a run holds it, a failure is cooling down, the same suggestion is recent, or escalated and unresolved. */
  async function skipReason(p: Protocol, t: GuardianTarget): Promise<string | null> {
    const [active] = await store.query<{ run_id: string }>(sql`SELECT run_id FROM guardian_active WHERE protocol = ${p.name} AND target_key = ${t.key}`);
    if (active) return `run ${active.run_id} holds this target`;
    const [last] = await store.query<{ run_id: string; status: RunStatus; finished_at: string | null; created_at: string }>(
      sql`SELECT run_id, status, finished_at::VARCHAR AS finished_at, created_at::VARCHAR AS created_at FROM guardian_runs WHERE protocol = ${p.name} AND target_key = ${t.key} ORDER BY created_at DESC LIMIT 1`,
    );
    if (!last) return null;
    const ageMin = (now().getTime() - tsMs(last.finished_at ?? last.created_at)) / 60_000;
    if (last.status === "escalated") return `run ${last.run_id} escalated to a person; the guardian waits for them (vc guardian show ${last.run_id})`;
    const cooldown = p.cooldownMinutes ?? auto.cooldown_minutes;
    if (FAILED.includes(last.status) && ageMin < cooldown) return `run ${last.run_id} ${last.status} ${Math.round(ageMin)} min ago; cooling down for ${cooldown} min`;
    if (last.status === "blocked" && ageMin < cooldown) return `run ${last.run_id} was blocked ${Math.round(ageMin)} min ago (${cooldown} min before the next try)`;
    if (config.autopilot.mode === "suggest" && last.status === "suggested" && ageMin < auto.suggest_every_minutes)
      return `suggested ${Math.round(ageMin)} min ago (run ${last.run_id})`;
    return null;
  }

  /** Reads run, advice is written, commands are fixed: the plan a dry run shows and a person approves. */
  async function planRun(p: Protocol, t: GuardianTarget): Promise<{ plan: PlannedStep[]; facts: Facts }> {
    const facts: Facts = { ...t.facts };
    const plan: PlannedStep[] = [];
    const ctx = (): StepContext => ({ store, config, at: now(), target: t, facts });
    const phases: [PlannedStep["phase"], readonly Step[] | undefined][] = [
      ["diagnosis", p.diagnosis],
      ["treatment", p.treatment],
      ["rollback", p.rollback],
    ];
    for (const [phase, steps] of phases)
      for (const s of steps ?? []) {
        const seq = plan.length + 1;
        if (s.kind === "read") {
          const got = (await s.read(ctx())) ?? {};
          Object.assign(facts, got);
          plan.push({ seq, phase, step: s.name, kind: "read", facts: got });
        } else if (s.kind === "suggest") {
          const advice = s.suggest(ctx());
          if (advice) plan.push({ seq, phase, step: s.name, kind: "suggest", advice });
        } else if (s.kind === "wait") {
          plan.push({ seq, phase, step: s.name, kind: "wait", seconds: waitSeconds(s.seconds) });
        } else {
          const c = s.command(ctx());
          if (!c) continue;
          const machine = c.machine ?? t.machine;
          const g = gate({ config, machine, argv: c.argv, writes: s.writes, actor: { kind: "autopilot" } });
          plan.push({
            seq,
            phase,
            step: s.name,
            kind: "command",
            machine,
            argv: [...c.argv],
            command: showArgv(c.argv),
            writes: s.writes,
            gate: g.ok ? { ok: true, detail: g.why } : { ok: false, detail: g.reason },
          });
        }
      }
    plan.forEach((s, i) => {
      s.seq = i + 1;
    });
    return { plan, facts };
  }

  const waitSeconds = (s: number) => Math.min(s, config.autopilot.max_wait_seconds ?? s);

  async function newRunId(): Promise<string> {
    for (;;) {
      const id = `g-${randomBytes(4).toString("hex")}`;
      const [hit] = await store.query(sql`SELECT 1 FROM guardian_runs WHERE run_id = ${id}`);
      if (!hit) return id;
    }
  }

  function runRow(id: string, p: Protocol, t: GuardianTarget, facts: Facts, plan: PlannedStep[], status: RunStatus, at: string) {
    return {
      run_id: id,
      protocol: p.name,
      target_key: t.key,
      machine_id: t.machine,
      title: t.title,
      mode: config.autopilot.mode,
      status,
      created_at: at,
      updated_at: at,
      expires_at: status === "pending" ? new Date(Date.parse(at) + auto.approval_minutes * 60_000).toISOString() : null,
      facts_json: JSON.stringify(facts),
      plan_json: JSON.stringify(plan),
    };
  }

  /**
   * Inserts a run and audits its making, in one transaction. With `claim`, the target is claimed
   * in the same transaction: of two racers, the second's insert conflicts and it steps back (null).
   */
  async function insertRun(p: Protocol, t: GuardianTarget, facts: Facts, plan: PlannedStep[], status: RunStatus, o: { claim: boolean }): Promise<string | null> {
    const id = await newRunId();
    const at = iso();
    try {
      await store.transaction(async (tx) => {
        if (o.claim) await tx.run(sql`INSERT INTO guardian_active(protocol, target_key, run_id, since) VALUES (${p.name}, ${t.key}, ${id}, ${at}::TIMESTAMP)`);
        await tx.insert("guardian_runs", [runRow(id, p, t, facts, plan, status, at)]);
        await recordAudit(tx, {
          ts: now(),
          eventType: "guardian_run",
          actor: "autopilot",
          machineId: t.machine,
          action: `guardian ${status} ${p.name} ${id}`,
          result: "ok",
          details: { run_id: id, protocol: p.name, target: t.key, after: status, commands: plan.filter((s) => s.argv).map((s) => s.command) },
        });
      });
    } catch (err) {
      if (o.claim && /constraint|duplicate key|conflict/i.test(err instanceof Error ? err.message : String(err))) return null;
      throw err;
    }
    // A suggestion keeps its advice and reads as steps (an executed run records them as they run).
    if (status === "suggested")
      await recordSteps(
        id,
        plan.filter((s) => s.kind === "suggest" || s.kind === "read").map((s) => stepRow(id, s, s.kind === "suggest" ? "suggested" : "ok", at, { detail: s.advice ?? null })),
      );
    return id;
  }

  function stepRow(runId: string, s: PlannedStep, status: RunStep["status"], at: string, o: { r?: ActionResult; detail?: string | null; duration?: number } = {}) {
    return {
      run_id: runId,
      seq: s.seq,
      phase: s.phase,
      step: s.step,
      kind: s.kind,
      machine_id: s.machine ?? null,
      argv_json: s.argv ? JSON.stringify(s.argv) : null,
      status,
      exit_code: o.r?.exit_code ?? null,
      output_excerpt: o.r ? o.r.output_excerpt : null,
      started_at: at,
      duration_ms: o.r?.duration_ms ?? o.duration ?? null,
      detail: o.detail ?? o.r?.error ?? null,
      audit_id: o.r?.audit_id ?? null,
    };
  }

  async function recordSteps(_runId: string, rows: ReturnType<typeof stepRow>[]) {
    if (rows.length) await store.transaction((tx) => tx.insert("guardian_steps", rows));
  }

  async function setStatus(id: string, status: RunStatus, o: { reason?: string | null; verification?: unknown; final?: boolean; decidedBy?: string } = {}) {
    const at = iso();
    const final = o.final ?? FINAL.includes(status);
    await store.transaction(async (tx) => {
      await tx.run(sql`UPDATE guardian_runs SET status = ${status}, updated_at = ${at}::TIMESTAMP,
          finished_at = ${final ? at : null}::TIMESTAMP,
          reason = coalesce(${o.reason ?? null}, reason),
          verification_json = coalesce(${o.verification === undefined ? null : JSON.stringify(o.verification)}::JSON, verification_json),
          decided_by = coalesce(${o.decidedBy ?? null}, decided_by),
          decided_at = coalesce(${o.decidedBy ? at : null}::TIMESTAMP, decided_at)
        WHERE run_id = ${id}`);
      if (final) await tx.run(sql`DELETE FROM guardian_active WHERE run_id = ${id}`);
    });
  }

  /** Runs the plan: diagnosis and treatment, then verification; rollback and escalation when it fails. Returns the final status. */
  async function execute(id: string, p: Protocol, t: GuardianTarget, facts: Facts, plan: PlannedStep[], actor: Actor): Promise<RunStatus> {
    const ctx = (): StepContext => ({ store, config, at: now(), target: t, facts });
    const defs = new Map<string, Step>();
    for (const [phase, steps] of [
      ["diagnosis", p.diagnosis],
      ["treatment", p.treatment],
      ["rollback", p.rollback],
    ] as const)
      for (const s of steps ?? []) defs.set(`${phase}\u0000${s.name}`, s);
    const touched = new Set<string>([t.machine]);
    let wrote = false;

    const runSteps = async (phase: PlannedStep["phase"]): Promise<{ ok: true } | { ok: false; status: "blocked" | "failed"; reason: string }> => {
      for (const s of plan.filter((x) => x.phase === phase)) {
        const at = iso();
        if (s.kind === "read") {
          await recordSteps(id, [stepRow(id, s, "ok", at)]);
          continue;
        }
        if (s.kind === "suggest") {
          // The advice again, with what the commands before it found.
          const def = defs.get(`${phase}\u0000${s.step}`);
          const advice = (def?.kind === "suggest" ? def.suggest(ctx()) : null) ?? s.advice ?? null;
          await recordSteps(id, [stepRow(id, s, "suggested", at, { detail: advice })]);
          continue;
        }
        if (s.kind === "wait") {
          await sleep((s.seconds ?? 0) * 1000);
          await recordSteps(id, [stepRow(id, s, "ok", at, { duration: (s.seconds ?? 0) * 1000 })]);
          continue;
        }
        const def = defs.get(`${phase}\u0000${s.step}`) as CommandStep | undefined;
        const skip = def?.when?.(ctx()) ?? null;
        if (skip) {
          await recordSteps(id, [stepRow(id, s, "skipped", at, { detail: skip })]);
          continue;
        }
        const machine = s.machine!;
        const cap = await capReached(machine);
        if (cap) {
          await recordSteps(id, [stepRow(id, s, "refused", at, { detail: cap })]);
          return { ok: false, status: "blocked", reason: `${s.step}: ${cap}` };
        }
        const r = await act(deps, {
          machine,
          argv: s.argv!,
          writes: !!s.writes,
          actor,
          purpose: `guardian ${p.name}/${s.step}`,
          timeoutMs: def?.timeoutMs,
          okExitCodes: def?.okExitCodes,
          details: { run_id: id, protocol: p.name, target: t.key, phase, seq: s.seq, before: t.facts },
        });
        if (!r.ran) {
          await recordSteps(id, [stepRow(id, s, "refused", at, { r })]);
          return { ok: false, status: "blocked", reason: `${s.step} was refused: ${r.refused!.reason}` };
        }
        touched.add(machine);
        if (s.writes) wrote = true;
        await recordSteps(id, [stepRow(id, s, r.ok ? "ok" : "failed", at, { r })]);
        if (!r.ok) return { ok: false, status: "failed", reason: `${s.step} on ${machine} failed: ${r.error}` };
        if (def?.parse) Object.assign(facts, def.parse(r.stdout, ctx()) ?? {});
      }
      return { ok: true };
    };

    let stopped = "";
    for (const phase of ["diagnosis", "treatment"] as const) {
      const r = await runSteps(phase);
      if (!r.ok) {
        // Nothing written yet: the run stops as it is. A step refused after a write: what ran may
        // have healed it, so the verification decides. A step failed after a write: undo.
        if (!wrote) {
          await setStatus(id, r.status, { reason: r.reason });
          return r.status;
        }
        if (r.status === "failed") return fail(id, p, t, facts, r.reason, runSteps);
        stopped = ` (the treatment stopped early: ${r.reason})`;
        break;
      }
    }

    // Verification: after a fresh collection of the machines the run touched, until it holds or the window ends.
    const within = (config.autopilot.verify_within_seconds ?? p.verification.withinSeconds) * 1000;
    const every = Math.max(1000, (config.autopilot.verify_every_seconds ?? p.verification.everySeconds ?? p.verification.withinSeconds / 6) * 1000);
    const deadline = now().getTime() + within;
    const checks: { at: string; ok: boolean; detail: string }[] = [];
    // Bounded by count as well as by the clock (a clock that stands still must not hold a run for ever).
    const most = Math.ceil(within / every) + 1;
    for (;;) {
      for (const m of touched) {
        try {
          await deps.refresh(m);
        } catch (err) {
          checks.push({ at: iso(), ok: false, detail: `collecting ${m} failed: ${err instanceof Error ? err.message : String(err)}` });
        }
      }
      let c: { ok: boolean; detail: string };
      try {
        c = await p.verification.check(ctx());
      } catch (err) {
        c = { ok: false, detail: `the check failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      checks.push({ at: iso(), ...c });
      if (c.ok) {
        await setStatus(id, "verified", { reason: `verified: ${c.detail}${stopped}`, verification: checks });
        return "verified";
      }
      if (now().getTime() + every > deadline || checks.length >= most) break;
      await sleep(every);
    }
    await setStatus(id, "running", { verification: checks, final: false });
    return fail(id, p, t, facts, `not verified within ${Math.round(within / 1000)} s (${p.verification.describe}): ${checks.at(-1)?.detail ?? "no check"}${stopped}`, runSteps);
  }

  /** A failed run: its rollback (when it has one), then escalation when failures add up or the protocol says at once. */
  async function fail(
    id: string,
    p: Protocol,
    t: GuardianTarget,
    facts: Facts,
    reason: string,
    runSteps: (phase: "rollback") => Promise<{ ok: true } | { ok: false; status: string; reason: string }>,
  ): Promise<RunStatus> {
    let status: RunStatus = "failed";
    let why = reason;
    if (p.rollback?.length) {
      const rb = await runSteps("rollback");
      if (rb.ok) status = "rolled_back";
      else why = `${reason}; the rollback did not complete: ${rb.reason}`;
    }
    const [{ n }] = (await store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM guardian_runs
        WHERE protocol = ${p.name} AND target_key = ${t.key} AND run_id <> ${id} AND status IN ('failed', 'rolled_back', 'escalated')
          AND created_at > ${new Date(now().getTime() - auto.failures_window_hours * 3_600_000).toISOString()}::TIMESTAMP`)) as [{ n: number }];
    const immediate = p.escalation.immediate?.({ store, config, at: now(), target: t, facts }) ?? null;
    if (immediate || n + 1 >= p.escalation.afterFailures) {
      const because = immediate ?? `${n + 1} failed run(s) within ${auto.failures_window_hours} h (escalates after ${p.escalation.afterFailures})`;
      await setStatus(id, "escalated", { reason: `${why}; escalated: ${because}` });
      await escalate(id, t);
      return "escalated";
    }
    await setStatus(id, status, { reason: why });
    return status;
  }

  /** A person is called: a fresh cycle fires the guardian_escalation alert (critical: it opens an incident), linked back to the run. */
  async function escalate(id: string, t: GuardianTarget) {
    try {
      await deps.refresh(t.machine);
    } catch {
      // the next cycle fires the alert all the same
    }
    const [inc] = await store.query<{ incident_id: string }>(sql`SELECT ia.incident_id FROM incident_alerts ia
        WHERE ia.rule_id = 'guardian_escalation' AND json_extract_string(ia.labels_json, '$.run_id') = ${id} LIMIT 1`);
    if (inc) await store.run(sql`UPDATE guardian_runs SET incident_id = ${inc.incident_id} WHERE run_id = ${id}`);
  }

  /** A machine's autopilot commands in the last hour against the cap. */
  async function capReached(machine: string): Promise<string | null> {
    const since = new Date(now().getTime() - 3_600_000).toISOString();
    const [{ n }] = (await store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM guardian_steps
        WHERE machine_id = ${machine} AND kind = 'command' AND status IN ('ok', 'failed') AND started_at > ${since}::TIMESTAMP`)) as [{ n: number }];
    return n >= auto.max_actions_per_hour ? `${machine} had ${n} autopilot commands in the last hour (max_actions_per_hour: ${auto.max_actions_per_hour})` : null;
  }

  /** Pending runs past their approval's end become expired (and free their target). */
  async function expirePending() {
    const due = await store.query<{ run_id: string; machine_id: string; protocol: string }>(
      sql`SELECT run_id, machine_id, protocol FROM guardian_runs WHERE status = 'pending' AND expires_at <= ${iso()}::TIMESTAMP`,
    );
    for (const r of due) {
      await setStatus(r.run_id, "expired", { reason: "no one approved it in time" });
      await store.transaction((tx) =>
        recordAudit(tx, {
          ts: now(),
          eventType: "guardian_run",
          actor: "autopilot",
          machineId: r.machine_id,
          action: `guardian expire ${r.run_id}`,
          result: "ok",
          details: { run_id: r.run_id, before: "pending", after: "expired" },
        }),
      );
    }
  }

  /** A pending run by id, or the error a person should read. */
  async function pendingRun(id: string, verb: "approve" | "deny") {
    const run = await loadRun(store, id);
    if (run.status !== "pending") {
      const who = run.decided_by ? ` by ${run.decided_by} at ${run.decided_at}` : "";
      throw new VcError("invalid_input", `run ${run.run_id} is ${run.status}${who}; only a pending run can be ${verb === "approve" ? "approved" : "denied"}`);
    }
    if (run.expires_at && tsMs(run.expires_at) <= now().getTime()) {
      await expirePending();
      throw new VcError("invalid_input", `run ${run.run_id} expired at ${run.expires_at}: no one approved it in time`, {
        hint: "vc guardian check makes a new one while the trigger still holds",
      });
    }
    return run;
  }

  return {
    check: (o?: { dryRun?: boolean; protocol?: string }) => (o?.dryRun ? check(o) : serial(() => check(o))),
    /** Approves a pending run and executes exactly its planned steps, as the autopilot approved by `by`. Resolves with the run at its end. */
    approve: (id: string, o: { by: string }) =>
      serial(async () => {
        const run = await pendingRun(id, "approve");
        const p = protocolNamed(run.protocol);
        if (!p) throw new VcError("not_found", `run ${run.run_id} is of protocol "${run.protocol}", which no plugin in this config contributes`);
        await setStatus(run.run_id, "running", { decidedBy: o.by, final: false });
        await store.transaction((tx) =>
          recordAudit(tx, {
            ts: now(),
            eventType: "user_command",
            actor: o.by,
            machineId: run.machine_id,
            action: `guardian approve ${run.run_id}`,
            result: "ok",
            details: { run_id: run.run_id, protocol: run.protocol, before: "pending", after: "running", commands: run.plan.filter((s) => s.command).map((s) => s.command) },
          }),
        );
        const target: GuardianTarget = { key: run.target_key, machine: run.machine_id, title: run.title, facts: run.facts };
        await execute(run.run_id, p, target, { ...run.facts }, run.plan, { kind: "autopilot", approvedBy: o.by });
        return loadRun(store, run.run_id);
      }),
    /** Denies a pending run: nothing of it runs. */
    deny: (id: string, o: { by: string; reason?: string }) =>
      serial(async () => {
        const run = await pendingRun(id, "deny");
        await setStatus(run.run_id, "denied", { decidedBy: o.by, reason: o.reason ? `denied: ${o.reason}` : "denied" });
        await store.transaction((tx) =>
          recordAudit(tx, {
            ts: now(),
            eventType: "user_command",
            actor: o.by,
            machineId: run.machine_id,
            action: `guardian deny ${run.run_id}`,
            result: "ok",
            details: { run_id: run.run_id, protocol: run.protocol, before: "pending", after: "denied", reason: o.reason ?? null },
          }),
        );
        return loadRun(store, run.run_id);
      }),
  };
}

export type Guardian = ReturnType<typeof createGuardian>;

const parse = <T>(text: string | null | undefined, fallback: T): T => {
  if (text === null || text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

type RunRow = Omit<GuardianRun, "facts" | "plan" | "verification" | "steps"> & { facts_json: string; plan_json: string; verification_json: string | null };

const RUN_COLUMNS = sql`run_id, protocol, target_key, machine_id, title, mode, status, created_at::VARCHAR AS created_at, updated_at::VARCHAR AS updated_at,
  finished_at::VARCHAR AS finished_at, expires_at::VARCHAR AS expires_at, decided_by, decided_at::VARCHAR AS decided_at, reason, incident_id,
  facts_json, plan_json, verification_json`;

function toRun(r: RunRow, steps: RunStep[]): GuardianRun {
  const { facts_json, plan_json, verification_json, ...rest } = r;
  return { ...rest, facts: parse(facts_json, {}), plan: parse(plan_json, []), verification: parse(verification_json, []), steps };
}

async function stepsOf(store: ActDeps["store"], ids: readonly string[]): Promise<Map<string, RunStep[]>> {
  const out = new Map<string, RunStep[]>();
  if (ids.length === 0) return out;
  const rows = await store.query<RunStep & { run_id: string; argv_json: string | null }>(
    sql`SELECT run_id, seq, phase, step, kind, machine_id, argv_json, status, exit_code, output_excerpt, started_at::VARCHAR AS started_at, duration_ms, detail
        FROM guardian_steps WHERE run_id IN (${sql.join(ids.map((i) => sql`${i}`))}) ORDER BY run_id, started_at, seq`,
  );
  for (const { run_id, argv_json, ...s } of rows) {
    const list = out.get(run_id) ?? [];
    list.push({ ...s, argv: parse(argv_json, null) });
    out.set(run_id, list);
  }
  return out;
}

/** One run in full, by its id or a unique prefix: `not_found` naming the id otherwise. */
export async function loadRun(store: ActDeps["store"], id: string): Promise<GuardianRun> {
  const rows = await store.query<RunRow>(sql`SELECT ${RUN_COLUMNS} FROM guardian_runs WHERE starts_with(run_id, ${id}) ORDER BY created_at DESC LIMIT 2`);
  const exact = rows.find((r) => r.run_id === id);
  if (!exact && rows.length !== 1) {
    throw new VcError("not_found", rows.length === 0 ? `no guardian run "${id}"` : `"${id}" is the start of more than one run's id`, {
      hint: "vc guardian runs lists them",
    });
  }
  const row = exact ?? rows[0]!;
  return toRun(row, (await stepsOf(store, [row.run_id])).get(row.run_id) ?? []);
}

/** Runs, newest first: by status, machine and since, with their steps. */
export async function loadRuns(store: ActDeps["store"], o: { status?: readonly string[]; machine?: string; since?: string; limit: number; at?: string }): Promise<GuardianRun[]> {
  const rows = await store.query<RunRow>(sql`SELECT ${RUN_COLUMNS} FROM guardian_runs
    WHERE ${o.status?.length ? sql`status IN (${sql.join(o.status.map((s) => sql`${s}`))})` : sql`true`}
      AND ${o.machine ? sql`machine_id = ${o.machine}` : sql`true`}
      AND ${o.since ? sql`created_at >= ${o.since}::TIMESTAMP` : sql`true`}
      AND ${o.at ? sql`created_at <= ${o.at}::TIMESTAMP` : sql`true`}
    ORDER BY created_at DESC, run_id LIMIT ${o.limit}`);
  const steps = await stepsOf(
    store,
    rows.map((r) => r.run_id),
  );
  return rows.map((r) => toRun(r, steps.get(r.run_id) ?? []));
}
