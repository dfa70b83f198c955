// `vc robot audit` (plan §9.4): everything a person or vc did that changed something — acks,
// silences, approvals, denials, protocol steps, fleet commands, trusted host keys, incidents,
// retention — with who, what, where, the result and the details (before and after where they apply).
import { VcError } from "../errors.ts";
import { sql } from "../store/sql.ts";
import { arg, defineView, parseDuration } from "./define.ts";
import { requireMachine } from "./read.ts";

/** One audited event. */
export interface AuditRow {
  event_id: string;
  ts: string;
  event_type: string;
  actor: string;
  machine_id: string | null;
  action: string | null;
  result: string | null;
  error: string | null;
  duration_ms: number | null;
  details: unknown;
}

/** The `data` of `vc robot audit` (vc.robot.audit.v1). */
export interface AuditData {
  events: AuditRow[];
}

export default defineView({
  name: "audit",
  summary: "The audit log: who did what, where, with what result — acks, silences, approvals, guardian steps, fleet commands, trusted host keys (--all adds collector runs)",
  args: {
    since: arg.string("events at or after this time: ISO 8601, or a span ago (30m, 6h, 7d)", { hint: "TIME|SPAN", max: 100 }),
    machine: arg.string("events on this machine", { hint: "ID", max: 200 }),
    type: arg.list("these event types only (user_command, autopilot_action, guardian_run, host_key_trusted, collector_run …)", { hint: "TYPE,…" }),
    actor: arg.string("events by this actor", { hint: "NAME", max: 200 }),
    all: arg.flag("include collector runs (left out by default: one per collector per cycle)"),
    limit: arg.int("at most this many events, newest first", { min: 1, max: 10_000, default: 100, hint: "N" }),
  },
  async run(vc, args) {
    if (args.machine !== undefined) requireMachine(vc.config, args.machine);
    const now = vc.clock.now();
    const since = args.since === undefined ? undefined : sinceOf(args.since, now);
    const types = args.type ?? [];
    const rows = await vc.store.query<Omit<AuditRow, "details"> & { details_json: string | null }>(sql`
      SELECT event_id, ts::VARCHAR AS ts, event_type, actor, machine_id, action, result, error, duration_ms, details_json::VARCHAR AS details_json
      FROM audit_events
      WHERE ts <= ${now.toISOString()}::TIMESTAMP
        AND ${since ? sql`ts >= ${since.toISOString()}::TIMESTAMP` : sql`true`}
        AND ${args.machine ? sql`machine_id = ${args.machine}` : sql`true`}
        AND ${args.actor ? sql`actor = ${args.actor}` : sql`true`}
        AND ${types.length ? sql`event_type IN (${sql.join(types.map((t) => sql`${t}`))})` : args.all ? sql`true` : sql`event_type <> 'collector_run'`}
      ORDER BY ts DESC, event_id LIMIT ${args.limit}`);
    return {
      data: {
        events: rows.map(({ details_json, ...r }) => ({ ...r, details: details_json === null ? null : safeParse(details_json) })),
      } satisfies AuditData,
    };
  },
});

/** `--since`: an ISO time, or a span before now. */
function sinceOf(value: string, now: Date): Date {
  const span = parseDuration(value);
  const t = Number.isFinite(span) ? new Date(now.getTime() - span * 1000) : /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(t.getTime()))
    throw new VcError("invalid_argument", `since: "${value}" is neither an ISO 8601 time (2026-01-25T03:00:00Z) nor a span (30m, 6h, 7d)`, {
      details: { view: "audit", field: "since" },
    });
  if (t.getTime() > now.getTime()) throw new VcError("invalid_argument", `since: ${t.toISOString()} is in the future`, { details: { view: "audit", field: "since" } });
  return t;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
