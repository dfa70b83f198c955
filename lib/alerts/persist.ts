import { VcError } from "../errors.ts";
import { sql } from "../store/sql.ts";
import type { StoreTx } from "../store/store.ts";
import type { Silence } from "./mutes.ts";
import type { AlertRow, TransitionResult } from "./transition.ts";

// The store's side of the alert state machine: what `transition` reads, and writing what it decided.

const ALERT_COLUMNS = [
  "alert_id",
  "rule_id",
  "machine_id",
  "labels_json",
  "severity",
  "title",
  "state",
  "first_seen_at",
  "last_seen_at",
  "pending_since",
  "fired_at",
  "resolved_at",
  "value_json",
  "message",
  "expected",
  "received",
  "evidence_json",
  "suggested_actions_json",
  "acked_by",
  "acked_at",
  "ack_note",
  "flapping",
  "transitions_json",
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

/** Alert ids per DELETE statement. */
const CHUNK = 500;

/**
 * Writes a transition in the caller's transaction: the alerts as decided (replaced whole: deleted,
 * then appended with the history — a statement per row costs DuckDB ~1-8 ms, the appender ~0.1),
 * their history, the silences it ended.
 */
export async function persistTransition(tx: StoreTx, t: TransitionResult): Promise<void> {
  const at = t.at;
  for (let i = 0; i < t.rows.length; i += CHUNK) {
    await tx.run(sql`DELETE FROM alerts WHERE alert_id IN (${sql.join(t.rows.slice(i, i + CHUNK).map((r) => sql`${r.alert_id}`))})`);
  }
  const written = await tx.insert(
    "alerts",
    t.rows.map((r) => ({ ...r, alert_type: r.rule_id, updated_at: at })),
  );
  if (written !== t.rows.length) throw new VcError("query_failed", `alerts: ${written} of ${t.rows.length} rows written`);
  await tx.insert("alert_history", t.history as unknown as Record<string, unknown>[]);
  for (const id of t.expiredSilences) await tx.run(sql`UPDATE silences SET expired_at = ${at}::TIMESTAMP WHERE silence_id = ${id}`);
}
