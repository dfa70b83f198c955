// An incident's timeline, reconstructed across sources for its window (from a lead before its first
// alert fired to its close, or now): alert changes, health factors whose severity moved, collector
// runs that started or stopped failing, people's commands from the audit log, and every plugin's
// events through the event sources. The root-cause hypothesis is what moved first.
import type { VcConfig } from "../config/define.ts";
import type { VcEvent } from "../events.ts";
import { sql, type SqlQuery } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import { eventSources, loadEvents } from "../views/events.ts";
import { DEFAULT_INCIDENTS, rankOf } from "./open.ts";
import type { Incident } from "./read.ts";

/** Minutes before an incident's first alert its timeline starts (where causes are looked for). */
export const DEFAULT_LEAD_MINUTES = 30;

/** One thing that happened in an incident's window. */
export interface TimelineEntry {
  /** ISO 8601 UTC. */
  at: string;
  /** alert, health, collector, audit, or the event source's name (its plugin's events). */
  source: string;
  /** firing, resolved, pending … (alert); the factor's id (health); failed or recovered (collector); the event group. */
  kind: string;
  machine_id: string | null;
  severity: string;
  /** One line: what happened. */
  summary: string;
  /** Before the incident's first alert fired: where a cause is looked for. */
  lead: boolean;
  /** One of the incident's own alerts. */
  own: boolean;
  /** Stable across reads: the source and its row's key. */
  key: string;
  /** The row behind it (values as stored). */
  details: Record<string, unknown>;
}

/** What moved first, and why that is taken for the cause. */
export interface RootCause {
  /** One line: the hypothesis. */
  hypothesis: string;
  /** How it was reached, in words. */
  reasoning: string;
  /** The entry taken for the cause (null when the window held nothing). */
  first: TimelineEntry | null;
  /** The entries that support it: the signals that moved before the first alert, then that alert. */
  evidence: TimelineEntry[];
}

/** An incident's window, its entries in time order and the root-cause hypothesis. */
export interface IncidentTimeline {
  from: string;
  to: string;
  /** When its first alert fired. */
  first_alert_at: string;
  entries: TimelineEntry[];
  root_cause: RootCause;
  /** Event sources that failed (the rest of the timeline stands). */
  errors: { source: string; error: string }[];
}

/** What `incidentTimeline` reads from, for which incident, as of when. */
export interface TimelineOptions {
  store: Store;
  /** The plugins (event sources), the rules (factors) and the incidents window. */
  config: Pick<VcConfig, "plugins" | "rules"> & Partial<Pick<VcConfig, "incidents">>;
  incident: Incident;
  /** The instant asked (the end of an open incident's window). */
  now: Date;
  leadMinutes?: number;
  /** Events per event source and machine (default 200). */
  limit?: number;
}

/** Sources in the order they are listed when they share an instant: a cause before its effect. */
const ORDER: Record<string, number> = { health: 0, collector: 1, alert: 9, audit: 10 };
const orderOf = (source: string) => ORDER[source] ?? 2;
const inList = (column: string, values: readonly string[]): SqlQuery => (values.length ? sql`${sql.raw(column)} IN (${sql.join(values.map((v) => sql`${v}`))})` : sql`false`);
const iso = (v: unknown) => (typeof v === "string" ? v : v instanceof Date ? v.toISOString() : String(v));
const hhmm = (t: string) => t.slice(11, 16);

/**
 * Reconstructs an incident's timeline: its window runs from `leadMinutes` before its first alert
 * fired to its close (or `now`). Machines are the incident's; alerts are its own and any other on
 * its machines or accounts. A source whose table is missing gives nothing; one that fails is named
 * in `errors`.
 * @example const t = await incidentTimeline({ store, config, incident, now: new Date() }); t.root_cause.hypothesis
 */
export async function incidentTimeline(o: TimelineOptions): Promise<IncidentTimeline> {
  const { store, incident: inc } = o;
  const { machines, accounts } = inc;
  const leadMs = (o.leadMinutes ?? DEFAULT_LEAD_MINUTES) * 60_000;
  const windowMs = (o.config.incidents?.window_minutes ?? DEFAULT_INCIDENTS.window_minutes) * 60_000;
  const own = inc.alerts.map((a) => a.alert_id);
  const triggers = inc.alerts.filter((a) => a.role === "trigger").map((a) => a.alert_id);
  const opened = inc.opened_at;
  const [first] = await store.query<{ t: string | null }>(
    sql`SELECT min(ts) AS t FROM alert_history WHERE ${inList("alert_id", triggers)} AND event IN ('firing', 'escalated')
        AND ts <= ${opened}::TIMESTAMP AND ts >= ${new Date(Date.parse(opened) - windowMs).toISOString()}::TIMESTAMP`,
  );
  const firstAlertAt = first?.t ?? opened;
  const from = new Date(Date.parse(firstAlertAt) - leadMs).toISOString();
  const end = inc.closed_at && Date.parse(inc.closed_at) < o.now.getTime() ? inc.closed_at : o.now.toISOString();
  const to = end < from ? from : end;
  // Rows before the window that tell whether the first one in it is a change.
  const lookback = new Date(Date.parse(from) - 6 * 3_600_000).toISOString();
  const firstMs = Date.parse(firstAlertAt);
  const entry = (e: Omit<TimelineEntry, "lead" | "own"> & { own?: boolean }): TimelineEntry => ({ ...e, lead: Date.parse(e.at) < firstMs, own: e.own ?? false });

  const [alerts, factors, runs, audits, events] = await Promise.all([
    store.query(
      sql`SELECT h.event_id, h.ts, h.alert_id, h.rule_id, h.machine_id, h.event, h.from_state, h.to_state, h.message, h.suppressed_by,
                 coalesce(a.severity, 'medium') AS severity, a.title
          FROM alert_history h LEFT JOIN alerts a ON a.alert_id = h.alert_id
          WHERE h.ts >= ${from}::TIMESTAMP AND h.ts <= ${to}::TIMESTAMP AND h.event <> 'inactive'
            AND (${inList("h.alert_id", own)} OR ${inList("h.machine_id", machines)} OR ${inList("json_extract_string(a.labels_json, '$.account')", accounts)})
          ORDER BY h.ts, h.rule_id, h.alert_id, h.event_id`,
    ),
    store.query(
      sql`SELECT * FROM (
            SELECT machine_id, collected_at, factor_id, severity, score, value, json_extract_string(details_json, '$.detail') AS detail,
                   lag(severity) OVER w AS previous_severity, lag(score) OVER w AS previous_score
            FROM health_factors
            WHERE ${inList("machine_id", machines)} AND collected_at > ${lookback}::TIMESTAMP AND collected_at <= ${to}::TIMESTAMP
            WINDOW w AS (PARTITION BY machine_id, factor_id ORDER BY collected_at))
          WHERE collected_at >= ${from}::TIMESTAMP AND severity IS DISTINCT FROM previous_severity AND NOT (previous_severity IS NULL AND severity = 'ok')
          ORDER BY collected_at, machine_id, factor_id`,
    ),
    // Per-run records: a collector that started failing, and one that recovered.
    store.query(
      sql`SELECT * FROM (
            SELECT event_id, ts, actor AS collector, machine_id, result, error, lag(result) OVER (PARTITION BY machine_id, actor ORDER BY ts) AS previous_result
            FROM audit_events
            WHERE event_type = 'collector_run' AND result <> 'skipped' AND ${inList("machine_id", machines)}
              AND ts > ${lookback}::TIMESTAMP AND ts <= ${to}::TIMESTAMP)
          WHERE ts >= ${from}::TIMESTAMP AND ((result = 'failed' AND previous_result IS DISTINCT FROM 'failed') OR (result = 'ok' AND previous_result = 'failed'))
          ORDER BY ts, machine_id, collector`,
    ),
    store.query(
      sql`SELECT event_id, ts, event_type, actor, machine_id, action, result, error FROM audit_events
          WHERE event_type <> 'collector_run' AND ts >= ${from}::TIMESTAMP AND ts <= ${to}::TIMESTAMP
            AND (machine_id IS NULL OR ${inList("machine_id", machines)})
            -- another incident's opening, notes and close are that one's story
            AND (action IS NULL OR NOT starts_with(action, 'incident ') OR action LIKE ${`% ${inc.incident_id}`})
          ORDER BY ts, event_id`,
    ),
    pluginEvents(o, machines, from, to),
  ]);

  const entries: TimelineEntry[] = [
    ...alerts.map((r) =>
      entry({
        at: iso(r.ts),
        source: "alert",
        kind: String(r.event),
        machine_id: (r.machine_id as string | null) ?? null,
        severity: r.event === "resolved" ? "ok" : String(r.severity),
        summary: `${r.event} ${r.rule_id}${r.message ? `: ${r.message}` : ""}${r.suppressed_by ? ` (not notified: ${r.suppressed_by})` : ""}`,
        key: `alert:${r.event_id}`,
        own: own.includes(String(r.alert_id)),
        details: r,
      }),
    ),
    ...factors.map((r) =>
      entry({
        at: iso(r.collected_at),
        source: "health",
        kind: String(r.factor_id),
        machine_id: String(r.machine_id),
        severity: String(r.severity),
        summary: `${r.factor_id} ${r.previous_severity ?? "(new)"} → ${r.severity}${r.detail ? `: ${r.detail}` : ""}`,
        key: `health:${r.machine_id}:${r.factor_id}:${iso(r.collected_at)}`,
        details: r,
      }),
    ),
    ...runs.map((r) =>
      entry({
        at: iso(r.ts),
        source: "collector",
        kind: r.result === "failed" ? "failed" : "recovered",
        machine_id: String(r.machine_id),
        severity: r.result === "failed" ? "medium" : "ok",
        summary: r.result === "failed" ? `collector ${r.collector} failed: ${r.error ?? "unknown error"}` : `collector ${r.collector} ok again`,
        key: `collector:${r.event_id}`,
        details: r,
      }),
    ),
    ...audits.map((r) =>
      entry({
        at: iso(r.ts),
        source: "audit",
        kind: String(r.event_type),
        machine_id: (r.machine_id as string | null) ?? null,
        severity: "info",
        summary: `${r.actor}: ${r.action ?? r.event_type}${r.result && r.result !== "ok" ? ` (${r.result})` : ""}`,
        key: `audit:${r.event_id}`,
        details: r,
      }),
    ),
    ...events.events.map((e) =>
      entry({
        at: e.at!,
        source: e.source,
        kind: e.group,
        machine_id: e.machine_id,
        severity: e.severity,
        summary: e.title,
        key: e.key,
        details: Object.fromEntries(e.fields),
      }),
    ),
  ].sort((a, b) => (a.at === b.at ? orderOf(a.source) - orderOf(b.source) : a.at < b.at ? -1 : 1));

  return { from, to, first_alert_at: firstAlertAt, entries, root_cause: rootCause(entries, inc, o.config.rules ?? [], o.leadMinutes), errors: events.errors };
}

/** Every plugin's events in the window on the incident's machines (the whole fleet's when it names none). */
async function pluginEvents(
  o: TimelineOptions,
  machines: readonly string[],
  from: string,
  to: string,
): Promise<{ events: VcEvent[]; errors: { source: string; error: string }[] }> {
  const sources = eventSources(o.config.plugins ?? []);
  if (sources.length === 0) return { events: [], errors: [] };
  const ask = (machine?: string) => loadEvents(sources, { store: o.store, from, to, limit: o.limit ?? 200, ...(machine ? { machine } : {}) });
  const answers = machines.length ? await Promise.all(machines.map((m) => ask(m))) : [await ask()];
  const seen = new Set<string>();
  const events: VcEvent[] = [];
  for (const a of answers)
    for (const e of a.events) {
      // The machine filter matches ids by substring: keep the incident's machines exactly.
      if (e.at === null || seen.has(e.key) || (machines.length && !machines.includes(e.machine_id ?? ""))) continue;
      seen.add(e.key);
      events.push(e);
    }
  const errors = [...new Map(answers.flatMap((a) => a.errors).map((e) => [e.source, e])).values()];
  return { events, errors };
}

/** Whether an entry is a signal going bad (not a recovery, not a note). */
function worsening(e: TimelineEntry): boolean {
  if (e.source === "alert" || e.source === "audit") return false;
  if (e.source === "health") return rankOf(e.severity) > rankOf(e.details.previous_severity as string | null);
  if (e.source === "collector") return e.kind === "failed";
  return rankOf(e.severity) >= rankOf("low");
}

/**
 * What moved first among the incident's machines and accounts: the earliest signal going bad at or
 * before its first alert (a health factor worsening, a collector failing, a plugin's event), else
 * its first alert. The rule's own factors, when the signal is one, are named in the reasoning.
 */
export function rootCause(
  entries: readonly TimelineEntry[],
  inc: Pick<Incident, "alerts">,
  rules: readonly { id: string; factors?: readonly string[] }[],
  leadMinutes = DEFAULT_LEAD_MINUTES,
): RootCause {
  const firstAlert =
    entries.find((e) => e.source === "alert" && e.own && (e.kind === "firing" || e.kind === "escalated")) ?? entries.find((e) => e.source === "alert" && e.kind !== "resolved");
  const cutoff = firstAlert ? firstAlert.at : (entries.at(-1)?.at ?? "");
  const before = entries.filter((e) => e.at <= cutoff && worsening(e));
  if (before.length > 0) {
    const cause = before[0]!;
    const rule = firstAlert ? String(firstAlert.details.rule_id) : null;
    const factors = rule ? (rules.find((r) => r.id === rule)?.factors ?? []) : [];
    const lead = firstAlert ? Math.round((Date.parse(firstAlert.at) - Date.parse(cause.at)) / 60_000) : 0;
    const where = cause.machine_id ? `${cause.machine_id}: ` : "";
    const others = before.slice(1, 6).map((e) => `${hhmm(e.at)} ${e.machine_id ? `${e.machine_id} ` : ""}${e.summary}`);
    const reasoning = [
      `The earliest signal to go bad in the ${leadMinutes} min before ${rule ? `${rule} fired` : "the first alert"} was ${cause.source === "health" ? `the ${cause.kind} health factor` : cause.source === "collector" ? "a collector run" : `a ${cause.source} event`} on ${cause.machine_id ?? "the fleet"} at ${hhmm(cause.at)}${lead > 0 ? `, ${lead} min before` : ", in the same cycle"}.`,
      cause.source === "health" && factors.includes(cause.kind) ? `It is the factor ${rule} watches (${factors.join(", ")}).` : "",
      others.length ? `Then: ${others.join("; ")}.` : "Nothing else moved before it.",
      firstAlert ? `The first alert: ${firstAlert.summary} at ${hhmm(firstAlert.at)}.` : "",
    ]
      .filter(Boolean)
      .join(" ");
    return {
      hypothesis: `${where}${cause.summary}${lead > 0 && rule ? ` (${lead} min before ${rule})` : ""}`,
      reasoning,
      first: cause,
      evidence: [...before.slice(0, 10), ...(firstAlert ? [firstAlert] : [])],
    };
  }
  if (firstAlert) {
    const others = inc.alerts.length > 1 ? ` ${inc.alerts.length - 1} more alert(s) joined.` : "";
    return {
      hypothesis: `${firstAlert.machine_id ? `${firstAlert.machine_id}: ` : ""}${firstAlert.summary}`,
      reasoning: `No health factor, collector run or plugin event went bad before the first alert on the incident's machines and accounts: the alert itself is the first sign (${hhmm(firstAlert.at)}).${others}`,
      first: firstAlert,
      evidence: [firstAlert],
    };
  }
  return { hypothesis: "unknown", reasoning: "the window holds nothing from any source", first: null, evidence: [] };
}
