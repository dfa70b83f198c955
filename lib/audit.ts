import { newId } from "./_id.ts";
import { sql } from "./store/sql.ts";
import type { StoreTx } from "./store/store.ts";
import { jsonText } from "./store/_values.ts";

/** One line of the audit log (plan §9.4): who did what, where, when, with what result. */
export interface AuditEvent {
  ts: Date;
  /** collector_run | host_key_trusted | autopilot_action | user_command | … */
  eventType: string;
  actor: string;
  machineId?: string | null;
  action?: string | null;
  result?: string | null;
  durationMs?: number | null;
  rowsInserted?: number | null;
  bytesRead?: number | null;
  warningsCount?: number | null;
  error?: string | null;
  details?: unknown;
}

/**
 * Appends an event to `audit_events` inside the caller's transaction; returns its id. Details that
 * are not valid JSON for DuckDB (lone surrogates, nesting too deep) are repaired, never refused.
 */
export async function recordAudit(tx: Pick<StoreTx, "run">, e: AuditEvent): Promise<string> {
  return (await recordAudits(tx, [e]))[0]!;
}

/** `recordAudit` for several events, in one statement; returns their ids in order. */
export async function recordAudits(tx: Pick<StoreTx, "run">, events: readonly AuditEvent[]): Promise<string[]> {
  const ids = events.map(() => newId());
  if (events.length === 0) return ids;
  const values = events.map(
    (
      e,
      i,
    ) => sql`(${ids[i]}, ${e.ts.toISOString()}::TIMESTAMP, ${e.eventType}, ${e.actor}, ${e.machineId ?? null}, ${e.action ?? null}, ${e.result ?? null}, ${e.durationMs ?? null},
            ${e.rowsInserted ?? null}, ${e.bytesRead ?? null}, ${e.warningsCount ?? null}, ${e.error ?? null}, ${e.details === undefined ? null : (jsonText(e.details) ?? null)})`,
  );
  await tx.run(sql`INSERT INTO audit_events(event_id, ts, event_type, actor, machine_id, action, result, duration_ms, rows_inserted, bytes_read, warnings_count, error, details_json)
    VALUES ${sql.join(values)}`);
  return ids;
}
