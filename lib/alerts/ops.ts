import { newId } from "../_id.ts";
import { recordAudit } from "../audit.ts";
import { VcError } from "../errors.ts";
import { conditionSql, describeCondition, thresholdDefaults, type Rule } from "../rules/define.ts";
import { renderSql, sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import type { AlertRow } from "./lifecycle.ts";
import { silenceMatches } from "./mutes.ts";

/** An alert as front ends show it (JSON columns parsed). */
export interface AlertView {
  alert_id: string;
  rule: string;
  severity: string;
  title: string | null;
  state: string;
  machine_id: string | null;
  labels: Record<string, string>;
  value: unknown;
  message: string | null;
  expected: string | null;
  received: string | null;
  first_seen_at: string;
  last_seen_at: string;
  fired_at: string | null;
  resolved_at: string | null;
  acked: { by: string; at: string; note: string | null } | null;
  flapping: boolean;
  silenced_by: string | null;
  actions: { title: string; command?: string }[];
}

const parse = <T>(s: string | null, fallback: T): T => (s ? (JSON.parse(s) as T) : fallback);

export function alertView(a: AlertRow, silencedBy: string | null = null): AlertView {
  return {
    alert_id: a.alert_id,
    rule: a.rule_id,
    severity: a.severity,
    title: a.title,
    state: a.state,
    machine_id: a.machine_id,
    labels: parse(a.labels_json, {}),
    value: parse(a.value_json, null),
    message: a.message,
    expected: a.expected,
    received: a.received,
    first_seen_at: a.first_seen_at,
    last_seen_at: a.last_seen_at,
    fired_at: a.fired_at,
    resolved_at: a.resolved_at,
    acked: a.acked_by ? { by: a.acked_by, at: a.acked_at!, note: a.ack_note } : null,
    flapping: a.flapping,
    silenced_by: silencedBy,
    actions: parse(a.suggested_actions_json, []),
  };
}

/** Finds one alert by its id or an unambiguous prefix of it. */
export async function findAlert(store: Store, id: string): Promise<AlertRow> {
  const rows = await store.query<AlertRow>(sql`SELECT * FROM alerts WHERE alert_id = ${id} OR starts_with(alert_id, ${id}) ORDER BY alert_id`);
  const exact = rows.find((r) => r.alert_id === id);
  if (exact) return exact;
  if (rows.length === 1) return rows[0]!;
  if (rows.length === 0) throw new VcError("not_found", `no alert "${id}"`, { hint: "`vc alerts list` shows their ids" });
  throw new VcError(
    "invalid_input",
    `"${id}" matches ${rows.length} alerts: ${rows
      .slice(0, 5)
      .map((r) => r.alert_id)
      .join(", ")}…`,
    { hint: "give more of the id" },
  );
}

/** Active alerts (pending and firing), most severe and newest first; `all` adds resolved ones. As they were at `at`. */
export async function listAlerts(store: Store, o: { all?: boolean; at: string }): Promise<AlertView[]> {
  const rows = await alertsAt(store, o.at);
  const rank: Record<string, number> = { critical: 0, high: 1, medium: 2 };
  const shown = o.all
    ? rows.sort((a, b) => b.updated_at.localeCompare(a.updated_at))
    : rows.filter((a) => a.state !== "resolved").sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3) || (b.fired_at ?? "").localeCompare(a.fired_at ?? ""));
  const silences = await store.query<{ silence_id: string; matchers_json: string }>(sql`SELECT silence_id, matchers_json FROM silences
      WHERE created_at <= ${o.at}::TIMESTAMP AND (expired_at IS NULL OR expired_at > ${o.at}::TIMESTAMP) AND (ends_at IS NULL OR ends_at > ${o.at}::TIMESTAMP)`);
  return shown.map((a) => {
    const s = silences.find((x) => silenceMatches(JSON.parse(x.matchers_json), a.rule_id, parse(a.labels_json, {})));
    return alertView(a, s?.silence_id ?? null);
  });
}

type Row = AlertRow & { updated_at: string };

/**
 * Every alert as it was at `at`: one that changed since is rebuilt from its history (its state,
 * when it fired or resolved, its message and value then, an ack made by then); one first seen
 * after `at` did not exist yet. At the present this is the alerts table itself.
 */
export async function alertsAt(store: Store, at: string): Promise<Row[]> {
  const rows = await store.query<Row>(sql`SELECT * FROM alerts WHERE first_seen_at <= ${at}::TIMESTAMP`);
  const t = Date.parse(at);
  const later = rows.filter((r) => Date.parse(r.updated_at) > t);
  if (later.length === 0) return rows;
  const all = await store.query<{ alert_id: string; ts: string; event: string; to_state: string | null; value_json: string | null; message: string | null }>(
    sql`SELECT alert_id, ts, event, to_state, value_json, message FROM alert_history
        WHERE alert_id IN (${sql.join(later.map((r) => sql`${r.alert_id}`))}) ORDER BY alert_id, ts, event_id`,
  );
  // An alert with no history at all (written by hand, or by an old vc) is taken as it is.
  const recorded = new Set(all.map((h) => h.alert_id));
  const history = all.filter((h) => Date.parse(h.ts) <= t);
  const byAlert = new Map<string, typeof history>();
  for (const h of history) (byAlert.get(h.alert_id) ?? byAlert.set(h.alert_id, []).get(h.alert_id)!).push(h);
  const out: Row[] = rows.filter((r) => Date.parse(r.updated_at) <= t || !recorded.has(r.alert_id));
  for (const r of later) {
    if (!recorded.has(r.alert_id)) continue;
    const events = byAlert.get(r.alert_id) ?? [];
    const states = events.filter((e) => e.to_state === "pending" || e.to_state === "firing" || e.to_state === "resolved");
    const last = states.at(-1);
    if (!last) continue;
    const firing = events.filter((e) => e.event === "firing").at(-1);
    const acked = events.filter((e) => e.event === "acked" && (!firing || e.ts >= firing.ts)).at(-1);
    const said = [...events].reverse().find((e) => e.message !== null && e.event !== "acked");
    const valued = [...events].reverse().find((e) => e.value_json !== null);
    out.push({
      ...r,
      state: last.to_state as Row["state"],
      fired_at: firing?.ts ?? null,
      resolved_at: last.to_state === "resolved" ? last.ts : null,
      pending_since: last.to_state === "pending" ? last.ts : null,
      last_seen_at: r.last_seen_at > at ? at : r.last_seen_at,
      message: said?.message ?? r.message,
      value_json: valued?.value_json ?? r.value_json,
      acked_by: acked && r.acked_by && r.acked_at && r.acked_at <= at ? r.acked_by : null,
      acked_at: acked && r.acked_at && r.acked_at <= at ? r.acked_at : null,
      ack_note: acked && r.acked_at && r.acked_at <= at ? r.ack_note : null,
      updated_at: events.at(-1)!.ts,
    });
  }
  return out;
}

/** Acknowledges an alert: who and why; it stays firing but is not re-notified until it resolves. */
export async function ackAlert(store: Store, id: string, o: { by: string; note?: string; at: Date }): Promise<AlertView> {
  const a = await findAlert(store, id);
  if (a.state === "resolved") throw new VcError("invalid_input", `alert ${a.alert_id} is resolved; nothing to acknowledge`);
  const at = o.at.toISOString();
  await store.transaction(async (tx) => {
    await tx.run(
      sql`UPDATE alerts SET acked_by = ${o.by}, acked_at = ${at}::TIMESTAMP, ack_note = ${o.note ?? null}, updated_at = ${at}::TIMESTAMP WHERE alert_id = ${a.alert_id}`,
    );
    await tx.run(sql`INSERT INTO alert_history(event_id, alert_id, ts, rule_id, machine_id, event, from_state, to_state, message, notified, suppressed_by)
      VALUES (${newId()}, ${a.alert_id}, ${at}::TIMESTAMP, ${a.rule_id}, ${a.machine_id}, 'acked', ${a.state}, ${a.state}, ${o.note ?? null}, false, NULL)`);
    await recordAudit(tx, {
      ts: o.at,
      eventType: "user_command",
      actor: o.by,
      machineId: a.machine_id,
      action: `alerts ack ${a.alert_id}`,
      result: "ok",
      details: { note: o.note ?? null, before: { acked_by: a.acked_by ?? null, ack_note: a.ack_note ?? null }, after: { acked_by: o.by, ack_note: o.note ?? null } },
    });
  });
  return alertView({ ...a, acked_by: o.by, acked_at: at, ack_note: o.note ?? null });
}

export interface SilenceInput {
  /** Label matchers; `rule` matches the rule id; `*` is a wildcard. */
  matchers: Record<string, string>;
  /** When it ends (absent with untilResolved). */
  endsAt?: Date;
  /** Ends when a matched alert resolves. */
  untilResolved?: boolean;
  comment?: string;
  by: string;
  at: Date;
}

/** Silences matching alerts: they keep their state but are not notified. */
export async function silenceAlerts(store: Store, o: SilenceInput): Promise<{ silence_id: string; matches: number }> {
  if (Object.keys(o.matchers).length === 0) throw new VcError("invalid_input", "a silence needs at least one matcher (e.g. rule=disk_low or machine_id=orko)");
  if (!o.endsAt && !o.untilResolved) throw new VcError("invalid_input", "a silence needs an end: a duration (--for 2h) or --until-resolved");
  if (o.endsAt && o.endsAt.getTime() <= o.at.getTime()) throw new VcError("invalid_input", "a silence must end in the future");
  const id = `silence-${newId()}`;
  const at = o.at.toISOString();
  await store.transaction(async (tx) => {
    await tx.run(sql`INSERT INTO silences(silence_id, matchers_json, created_at, created_by, comment, ends_at, until_resolved)
      VALUES (${id}, ${JSON.stringify(o.matchers)}, ${at}::TIMESTAMP, ${o.by}, ${o.comment ?? null}, ${o.endsAt?.toISOString() ?? null}::TIMESTAMP, ${o.untilResolved ?? false})`);
    await recordAudit(tx, {
      ts: o.at,
      eventType: "user_command",
      actor: o.by,
      action: `alerts silence ${id}`,
      result: "ok",
      details: {
        matchers: o.matchers,
        ends_at: o.endsAt ?? null,
        comment: o.comment ?? null,
        before: null,
        after: { silence_id: id, matchers: o.matchers, ends_at: o.endsAt ?? null },
      },
    });
  });
  const active = await listAlerts(store, { at });
  return { silence_id: id, matches: active.filter((a) => a.silenced_by === id).length };
}

/** Why an alert is what it is: the rule, its query, thresholds, the values that fired, its history. */
export async function explainAlert(store: Store, rules: readonly Rule[], id: string) {
  const a = await findAlert(store, id);
  const rule = rules.find((r) => r.id === a.rule_id);
  const history = await store.query(
    sql`SELECT ts, event, from_state, to_state, notified, suppressed_by, message FROM alert_history WHERE alert_id = ${a.alert_id} ORDER BY ts, event_id`,
  );
  const thresholds = rule ? { ...thresholdDefaults(rule), ...rule.thresholds } : {};
  const query = rule ? renderSql(sql`SELECT * FROM (${rule.source.sql(a.last_seen_at)}) AS src WHERE ${conditionSql(rule.when, rule.thresholds ?? {})}`) : null;
  return {
    alert: alertView(a),
    rule: rule
      ? {
          id: rule.id,
          title: rule.title,
          severity: rule.severity,
          source: { name: rule.source.name, description: rule.source.description },
          when: describeCondition(rule.when, rule.thresholds ?? {}),
          resolve_when: rule.resolveWhen ? describeCondition(rule.resolveWhen, rule.thresholds ?? {}) : null,
          for: rule.for ?? "0s",
          keep_firing_for: rule.keepFiringFor ?? null,
          labels: rule.labels,
          thresholds,
          query: query ? { sql: query.text.replace(/\s+/g, " ").trim(), params: query.params } : null,
        }
      : null,
    values: { expected: a.expected, received: a.received, value: parse(a.value_json, null), evidence: parse(a.evidence_json, null) },
    history,
  };
}
