// `vc robot guardian`: what the guardian may do and did (plan §6.3, §8.3) — the autopilot's mode
// and caps, every protocol with its trigger, the runs waiting for a person, and the recent runs
// with each step's command, exit code and output; --id for one run in full.
import type { Cockpit } from "../cockpit.ts";
import { VcError } from "../errors.ts";
import { GUARDIAN_DEFAULTS, loadRun, loadRuns, type GuardianRun, type RunStatus } from "../guardian/engine.ts";
import { sql } from "../store/sql.ts";
import { arg, defineView } from "./define.ts";
import { requireMachine } from "./read.ts";

/** A protocol as the guardian view lists it. */
export interface ProtocolListing {
  name: string;
  plugin: string;
  /** false: autopilot.protocols turned it off. */
  enabled: boolean;
  summary: string;
  trigger: string;
  verification: string;
  escalation: string;
  can_roll_back: boolean;
  /** The steps by phase: name and kind. */
  steps: { phase: string; name: string; kind: string; writes?: boolean }[];
  last_run: { run_id: string; status: string; at: string } | null;
}

/** The `data` of `vc robot guardian` (vc.robot.guardian.v1). */
export interface GuardianData {
  mode: string;
  allowlist: string[];
  caps: { max_actions_per_hour: number; cooldown_minutes: number; approval_minutes: number };
  /** Machines the autopilot may act on (allow_autopilot), and those it may write on too. */
  machines: { id: string; allow_autopilot: boolean; allow_write_commands: boolean }[];
  protocols: ProtocolListing[];
  /** Runs waiting for a person's approval (execute-with-approval), oldest first. */
  pending: GuardianRun[];
  /** Recent runs, newest first (--status, --machine narrow them). */
  runs: GuardianRun[];
}

const STATUSES: RunStatus[] = ["suggested", "pending", "denied", "expired", "running", "verified", "blocked", "failed", "rolled_back", "escalated"];

export default defineView({
  name: "guardian",
  summary:
    "The guardian: the autopilot's mode and caps, its protocols and triggers, runs waiting for approval, recent runs with every command, exit code and output; --id ID for one run",
  args: {
    id: arg.string("one run in full (its id or a unique prefix)", { hint: "ID", max: 200 }),
    status: arg.list(`runs with these statuses (${STATUSES.join(", ")})`, { hint: "STATUS,…" }),
    machine: arg.string("runs on this machine", { hint: "ID", max: 200 }),
    limit: arg.int("at most this many recent runs", { min: 1, max: 1000, default: 20, hint: "N" }),
  },
  async run(vc, args) {
    const now = vc.clock.now().toISOString();
    if (args.machine !== undefined) requireMachine(vc.config, args.machine);
    for (const s of args.status ?? [])
      if (!STATUSES.includes(s as RunStatus))
        throw new VcError("invalid_argument", `status: "${s}" is not one of ${STATUSES.join(", ")}`, { details: { view: "guardian", field: "status" } });
    const auto = { ...GUARDIAN_DEFAULTS, ...vc.config.autopilot };
    const base = {
      mode: vc.config.autopilot.mode,
      allowlist: vc.config.autopilot.safe_commands.allow,
      caps: { max_actions_per_hour: auto.max_actions_per_hour, cooldown_minutes: auto.cooldown_minutes, approval_minutes: auto.approval_minutes },
      machines: vc.config.machines.map((m) => ({ id: m.id, allow_autopilot: m.allow_autopilot, allow_write_commands: m.allow_write_commands })),
    };
    const protocols = await listProtocols(vc, now);
    if (args.id !== undefined) return { data: { ...base, protocols, pending: [], runs: [await loadRun(vc.store, args.id)] } satisfies GuardianData };
    const pending = (await loadRuns(vc.store, { status: ["pending"], limit: 1000, at: now, machine: args.machine }))
      .filter((r) => !r.expires_at || r.expires_at.replace(" ", "T") > now.slice(0, 23))
      .reverse();
    const runs = await loadRuns(vc.store, { status: args.status, machine: args.machine, limit: args.limit, at: now });
    return { data: { ...base, protocols, pending, runs } satisfies GuardianData };
  },
});

async function listProtocols(vc: Cockpit, now: string): Promise<ProtocolListing[]> {
  const last = new Map(
    (
      await vc.store.query<{ protocol: string; run_id: string; status: string; at: string }>(
        sql`SELECT protocol, arg_max(run_id, created_at) AS run_id, arg_max(status, created_at) AS status, max(created_at)::VARCHAR AS at
            FROM guardian_runs WHERE created_at <= ${now}::TIMESTAMP GROUP BY protocol`,
      )
    ).map((r) => [r.protocol, r]),
  );
  return vc.config.plugins.flatMap((plugin) =>
    (plugin.protocols ?? []).map((p) => {
      const l = last.get(p.name);
      return {
        name: p.name,
        plugin: plugin.name,
        enabled: vc.config.autopilot.protocols?.[p.name]?.enabled !== false,
        summary: p.summary,
        trigger: p.trigger.describe,
        verification: `${p.verification.describe} within ${p.verification.withinSeconds} s`,
        escalation: vc.config.autopilot.protocols?.[p.name]?.escalate_after_failures
          ? `at failed run ${vc.config.autopilot.protocols[p.name]!.escalate_after_failures} (autopilot.protocols)`
          : p.escalation.describe,
        can_roll_back: (p.rollback?.length ?? 0) > 0,
        steps: (
          [
            ["diagnosis", p.diagnosis],
            ["treatment", p.treatment],
            ["rollback", p.rollback],
          ] as const
        ).flatMap(([phase, steps]) => (steps ?? []).map((s) => ({ phase, name: s.name, kind: s.kind, ...(s.kind === "command" ? { writes: s.writes } : {}) }))),
        last_run: l ? { run_id: l.run_id, status: l.status, at: l.at } : null,
      };
    }),
  );
}
