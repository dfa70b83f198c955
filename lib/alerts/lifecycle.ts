import { newId } from "../_id.ts";
import { parseDuration, type Rule } from "../rules/define.ts";
import type { Finding, RuleResult } from "../rules/evaluate.ts";
import { sql } from "../store/sql.ts";
import type { StoreTx } from "../store/store.ts";

/** A change of an alert's state, as channels and `vc watch` receive it. */
export interface AlertEvent {
  type: "alert";
  /** firing (new or again), resolved, escalated (severity rose), flapping (changing state too often to notify each time). */
  event: "firing" | "resolved" | "escalated" | "flapping";
  event_id: string;
  alert_id: string;
  rule: string;
  severity: string;
  title: string;
  machine_id: string | null;
  labels: Record<string, string>;
  value: unknown;
  message: string;
  expected: string;
  received: string;
  actions: { title: string; command?: string }[];
  at: string;
  /** Why it was not notified (silence:<id>, inhibited:<alert>, flapping), or null when it was. */
  suppressed_by: string | null;
}

/** An alert as stored. */
export interface AlertRow {
  alert_id: string;
  rule_id: string;
  machine_id: string | null;
  labels_json: string;
  severity: string;
  title: string | null;
  state: "pending" | "firing" | "resolved";
  first_seen_at: string;
  last_seen_at: string;
  pending_since: string | null;
  fired_at: string | null;
  resolved_at: string | null;
  value_json: string | null;
  message: string | null;
  expected: string | null;
  received: string | null;
  evidence_json: string | null;
  suggested_actions_json: string | null;
  acked_by: string | null;
  acked_at: string | null;
  ack_note: string | null;
  flapping: boolean;
  transitions_json: string | null;
}

export interface SilenceRow {
  silence_id: string;
  matchers_json: string;
  ends_at: string | null;
  until_resolved: boolean;
}

export interface LifecycleOptions {
  at: Date;
  /** State changes within this window count towards flapping (default 1 h). */
  flapWindowMs?: number;
  /** This many firing/resolved changes within the window make an alert flap (default 4). */
  flapTransitions?: number;
}

const SEVERITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };

/** True when every matcher matches (`rule` matches the rule id; `*` is a wildcard). */
export function silenceMatches(matchers: Record<string, string>, ruleId: string, labels: Record<string, string>): boolean {
  return Object.entries(matchers).every(([k, pattern]) => {
    const actual = k === "rule" || k === "alertname" ? ruleId : labels[k];
    if (actual === undefined) return false;
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, ".*")}$`);
    return re.test(actual);
  });
}

function toEvent(a: { id: string; rule: Rule; f: Finding | null; row: AlertRow | null }, event: AlertEvent["event"], at: string, suppressed: string | null): AlertEvent {
  const labels = a.f?.labels ?? (a.row ? (JSON.parse(a.row.labels_json) as Record<string, string>) : {});
  return {
    type: "alert",
    event,
    event_id: newId(),
    alert_id: a.id,
    rule: a.rule.id,
    severity: a.f?.severity ?? a.row?.severity ?? a.rule.severity,
    title: a.rule.title,
    machine_id: a.f?.machine_id ?? a.row?.machine_id ?? null,
    labels,
    value: a.f ? a.f.value : a.row?.value_json ? JSON.parse(a.row.value_json) : null,
    message: a.f?.message ?? a.row?.message ?? "",
    expected: a.f?.expected ?? a.row?.expected ?? "",
    received: a.f?.received ?? a.row?.received ?? "",
    actions: a.f?.actions ?? (a.row?.suggested_actions_json ? JSON.parse(a.row.suggested_actions_json) : []),
    at,
    suppressed_by: suppressed,
  };
}

/**
 * Moves alerts through pending → firing → resolved for one evaluation: `for` before firing,
 * hysteresis (keepFiringFor, resolveWhen) before resolving, dedup by labels, flapping, silences,
 * acks and inhibition. Writes state and history in the caller's transaction and returns the
 * state changes (suppressed ones say why).
 */
export async function applyFindings(tx: StoreTx, results: readonly RuleResult[], o: LifecycleOptions): Promise<AlertEvent[]> {
  const at = o.at.toISOString();
  const now = o.at.getTime();
  const flapWindow = o.flapWindowMs ?? 3_600_000;
  const flapLimit = o.flapTransitions ?? 4;
  const existing = new Map((await tx.query<AlertRow>("SELECT * FROM alerts")).map((a) => [a.alert_id, a]));
  const silences = (await tx.query<SilenceRow>(sql`SELECT silence_id, matchers_json, ends_at, until_resolved FROM silences
      WHERE expired_at IS NULL AND (ends_at IS NULL OR ends_at > ${at}::TIMESTAMP)`)).map((s) => ({ ...s, matchers: JSON.parse(s.matchers_json) as Record<string, string> }));

  const events: { e: AlertEvent; fromState: string | null; toState: string }[] = [];
  const writes: { row: AlertRow; isNew: boolean }[] = [];
  const history: { id: string; row: AlertRow; event: string; from: string | null; to: string }[] = [];

  const rowFor = (f: Finding, rule: Rule, prev: AlertRow | undefined): AlertRow => ({
    alert_id: f.fingerprint,
    rule_id: rule.id,
    machine_id: f.machine_id,
    labels_json: JSON.stringify(f.labels),
    severity: f.severity,
    title: rule.title,
    state: prev?.state ?? "pending",
    first_seen_at: prev?.first_seen_at ?? at,
    last_seen_at: at,
    pending_since: prev?.pending_since ?? null,
    fired_at: prev?.fired_at ?? null,
    resolved_at: prev?.resolved_at ?? null,
    value_json: JSON.stringify(f.value ?? null),
    message: f.message,
    expected: f.expected,
    received: f.received,
    evidence_json: JSON.stringify(f.row),
    suggested_actions_json: JSON.stringify(f.actions),
    acked_by: prev?.acked_by ?? null,
    acked_at: prev?.acked_at ?? null,
    ack_note: prev?.ack_note ?? null,
    flapping: prev?.flapping ?? false,
    transitions_json: prev?.transitions_json ?? "[]",
  });

  /** Records a firing/resolved change for flap detection; returns whether the alert flaps now. */
  const transition = (row: AlertRow): { flapping: boolean; started: boolean } => {
    const recent = (JSON.parse(row.transitions_json ?? "[]") as string[]).filter((t) => now - Date.parse(t) < flapWindow);
    recent.push(at);
    row.transitions_json = JSON.stringify(recent);
    const was = row.flapping;
    row.flapping = recent.length >= flapLimit;
    return { flapping: row.flapping, started: row.flapping && !was };
  };

  const emit = (a: { id: string; rule: Rule; f: Finding | null; row: AlertRow }, event: AlertEvent["event"], from: string | null) => {
    events.push({ e: toEvent(a, event, at, null), fromState: from, toState: a.row.state });
  };

  for (const result of results) {
    const rule = result.rule;
    // A rule that failed to evaluate leaves its alerts exactly as they were.
    if (result.error) continue;
    const forMs = parseDuration(rule.for);
    const keepMs = parseDuration(rule.keepFiringFor);
    const seen = new Set<string>();
    for (const f of result.findings) {
      if (seen.has(f.fingerprint)) continue; // dedup by labels
      seen.add(f.fingerprint);
      const prev = existing.get(f.fingerprint);
      const row = rowFor(f, rule, prev);
      const a = { id: f.fingerprint, rule, f, row };
      if (!prev || prev.state === "resolved") {
        row.pending_since = at;
        row.resolved_at = null;
        row.acked_by = row.acked_at = row.ack_note = null; // an ack covers one episode
        row.state = "pending";
        if (forMs === 0) {
          row.state = "firing";
          row.fired_at = at;
          const flap = transition(row);
          emit(a, flap.started ? "flapping" : "firing", prev?.state ?? null);
        } else history.push({ id: newId(), row, event: "pending", from: prev?.state ?? null, to: "pending" });
      } else if (prev.state === "pending") {
        if (now - Date.parse(prev.pending_since ?? at) >= forMs) {
          row.state = "firing";
          row.fired_at = at;
          const flap = transition(row);
          emit(a, flap.started ? "flapping" : "firing", "pending");
        }
      } else if ((SEVERITY_RANK[f.severity] ?? 0) > (SEVERITY_RANK[prev.severity] ?? 0)) {
        emit(a, "escalated", "firing");
      }
      writes.push({ row, isNew: !prev });
    }
    // Alerts of this rule it did not find this time.
    for (const prev of existing.values()) {
      if (prev.rule_id !== rule.id || seen.has(prev.alert_id) || prev.state === "resolved") continue;
      const row: AlertRow = { ...prev };
      if (prev.state === "pending") {
        row.state = "resolved";
        row.resolved_at = at;
        history.push({ id: newId(), row, event: "inactive", from: "pending", to: "resolved" });
        writes.push({ row, isNew: false });
        continue;
      }
      if (keepMs > 0 && now - Date.parse(prev.last_seen_at) < keepMs) continue;
      // Hysteresis: stay firing until the resolve condition holds (or the source no longer has the row at all).
      if (result.resolvable && !result.resolvable.has(prev.alert_id) && result.present?.has(prev.alert_id)) continue;
      row.state = "resolved";
      row.resolved_at = at;
      const flap = transition(row);
      events.push({ e: toEvent({ id: row.alert_id, rule, f: null, row }, flap.started ? "flapping" : "resolved", at, null), fromState: "firing", toState: "resolved" });
      writes.push({ row, isNew: false });
    }
  }

  // Suppression: silences, inhibition by an unreachable machine, flapping.
  const final = new Map(existing);
  for (const w of writes) final.set(w.row.alert_id, w.row);
  const inhibitors = new Map<string, string>();
  const inhibiting = new Set(results.filter((r) => r.rule.inhibitsMachine).map((r) => r.rule.id));
  for (const a of final.values()) if (a.state === "firing" && a.machine_id && inhibiting.has(a.rule_id)) inhibitors.set(a.machine_id, a.alert_id);
  const expire: string[] = [];
  for (const ev of events) {
    const e = ev.e;
    const silence = silences.find((s) => silenceMatches(s.matchers, e.rule, e.labels));
    const inhibitor = e.machine_id ? inhibitors.get(e.machine_id) : undefined;
    const row = final.get(e.alert_id)!;
    if (silence) {
      e.suppressed_by = `silence:${silence.silence_id}`;
      if (silence.until_resolved && e.event === "resolved") expire.push(silence.silence_id);
    } else if (inhibitor && inhibitor !== e.alert_id) e.suppressed_by = `inhibited:${inhibitor}`;
    else if (row.flapping && e.event !== "flapping") e.suppressed_by = "flapping";
    else if (row.acked_by && e.event === "escalated") e.suppressed_by = "acked";
    history.push({ id: e.event_id, row, event: e.event, from: ev.fromState, to: ev.toState });
  }

  for (const { row, isNew } of writes) {
    if (isNew) {
      await tx.run(sql`INSERT INTO alerts(alert_id, rule_id, alert_type, machine_id, labels_json, severity, title, state, first_seen_at, last_seen_at, pending_since,
          fired_at, resolved_at, value_json, message, expected, received, evidence_json, suggested_actions_json, flapping, transitions_json, updated_at)
        VALUES (${row.alert_id}, ${row.rule_id}, ${row.rule_id}, ${row.machine_id}, ${row.labels_json}, ${row.severity}, ${row.title}, ${row.state},
          ${row.first_seen_at}::TIMESTAMP, ${row.last_seen_at}::TIMESTAMP, ${row.pending_since}::TIMESTAMP, ${row.fired_at}::TIMESTAMP, ${row.resolved_at}::TIMESTAMP,
          ${row.value_json}, ${row.message}, ${row.expected}, ${row.received}, ${row.evidence_json}, ${row.suggested_actions_json}, ${row.flapping}, ${row.transitions_json}, ${at}::TIMESTAMP)`);
    } else {
      await tx.run(sql`UPDATE alerts SET severity = ${row.severity}, state = ${row.state}, last_seen_at = ${row.last_seen_at}::TIMESTAMP,
          pending_since = ${row.pending_since}::TIMESTAMP, fired_at = ${row.fired_at}::TIMESTAMP, resolved_at = ${row.resolved_at}::TIMESTAMP,
          value_json = ${row.value_json}, message = ${row.message}, expected = ${row.expected}, received = ${row.received}, evidence_json = ${row.evidence_json},
          suggested_actions_json = ${row.suggested_actions_json}, acked_by = ${row.acked_by}, acked_at = ${row.acked_at}::TIMESTAMP, ack_note = ${row.ack_note},
          flapping = ${row.flapping}, transitions_json = ${row.transitions_json}, updated_at = ${at}::TIMESTAMP
        WHERE alert_id = ${row.alert_id}`);
    }
  }
  for (const h of history) {
    const e = events.find((x) => x.e.event_id === h.id)?.e;
    await tx.run(sql`INSERT INTO alert_history(event_id, alert_id, ts, rule_id, machine_id, event, from_state, to_state, value_json, message, notified, suppressed_by)
      VALUES (${h.id}, ${h.row.alert_id}, ${at}::TIMESTAMP, ${h.row.rule_id}, ${h.row.machine_id}, ${h.event}, ${h.from}, ${h.to}, ${h.row.value_json},
        ${h.row.message}, ${e ? e.suppressed_by === null : false}, ${e?.suppressed_by ?? null})`);
  }
  for (const id of new Set(expire)) await tx.run(sql`UPDATE silences SET expired_at = ${at}::TIMESTAMP WHERE silence_id = ${id}`);
  return events.map((x) => x.e);
}
