import { sql } from "../store/sql.ts";
import type { StoreTx } from "../store/store.ts";
import type { Silence } from "./mutes.ts";
import type { AlertRow, TransitionResult } from "./transition.ts";

// The store's side of the alert state machine: what `transition` reads, and writing what it decided.

const ALERT_COLUMNS = [
  "alert_id", "rule_id", "machine_id", "labels_json", "severity", "title", "state", "first_seen_at", "last_seen_at", "pending_since", "fired_at", "resolved_at",
  "value_json", "message", "expected", "received", "evidence_json", "suggested_actions_json", "acked_by", "acked_at", "ack_note", "flapping", "transitions_json",
] as const satisfies readonly (keyof AlertRow)[];

/** Every alert as stored (resolved ones too: an alert that comes back keeps its id, first sighting and flap history). */
export async function loadAlerts(tx: StoreTx): Promise<AlertRow[]> {
  return tx.query<AlertRow>(`SELECT ${ALERT_COLUMNS.join(", ")} FROM alerts`);
}

/** Silences in force at `at` (not expired, not ended). */
export async function loadSilences(tx: StoreTx, at: Date): Promise<Silence[]> {
  const rows = await tx.query<Omit<Silence, "matchers"> & { matchers_json: string }>(sql`SELECT silence_id, matchers_json, ends_at, until_resolved FROM silences
      WHERE expired_at IS NULL AND (ends_at IS NULL OR ends_at > ${at.toISOString()}::TIMESTAMP)`);
  return rows.map(({ matchers_json, ...s }) => ({ ...s, matchers: JSON.parse(matchers_json) as Record<string, string> }));
}

/** Writes a transition in the caller's transaction: the alerts as decided, their history, the silences it ended. */
export async function persistTransition(tx: StoreTx, t: TransitionResult): Promise<void> {
  const at = t.at;
  for (const row of t.rows) {
    await tx.run(sql`INSERT OR REPLACE INTO alerts(alert_id, rule_id, alert_type, machine_id, labels_json, severity, title, state, first_seen_at, last_seen_at, pending_since,
        fired_at, resolved_at, value_json, message, expected, received, evidence_json, suggested_actions_json, acked_by, acked_at, ack_note, flapping, transitions_json, updated_at)
      VALUES (${row.alert_id}, ${row.rule_id}, ${row.rule_id}, ${row.machine_id}, ${row.labels_json}, ${row.severity}, ${row.title}, ${row.state},
        ${row.first_seen_at}::TIMESTAMP, ${row.last_seen_at}::TIMESTAMP, ${row.pending_since}::TIMESTAMP, ${row.fired_at}::TIMESTAMP, ${row.resolved_at}::TIMESTAMP,
        ${row.value_json}, ${row.message}, ${row.expected}, ${row.received}, ${row.evidence_json}, ${row.suggested_actions_json},
        ${row.acked_by}, ${row.acked_at}::TIMESTAMP, ${row.ack_note}, ${row.flapping}, ${row.transitions_json}, ${at}::TIMESTAMP)`);
  }
  for (const h of t.history) {
    await tx.run(sql`INSERT INTO alert_history(event_id, alert_id, ts, rule_id, machine_id, event, from_state, to_state, value_json, message, notified, suppressed_by)
      VALUES (${h.event_id}, ${h.alert_id}, ${h.ts}::TIMESTAMP, ${h.rule_id}, ${h.machine_id}, ${h.event}, ${h.from_state}, ${h.to_state}, ${h.value_json},
        ${h.message}, ${h.notified}, ${h.suppressed_by})`);
  }
  for (const id of t.expiredSilences) await tx.run(sql`UPDATE silences SET expired_at = ${at}::TIMESTAMP WHERE silence_id = ${id}`);
}
