import { newId } from "./_id.ts";
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
export async function recordAudit(tx: Pick<StoreTx, "insert">, e: AuditEvent): Promise<string> {
  return (await recordAudits(tx, [e]))[0]!;
}

/** `recordAudit` for several events, in one statement; returns their ids in order. */
export async function recordAudits(tx: Pick<StoreTx, "insert">, events: readonly AuditEvent[]): Promise<string[]> {
  const ids = events.map(() => newId());
  if (events.length === 0) return ids;
  await tx.insert(
    "audit_events",
    events.map((e, i) => ({
      event_id: ids[i],
      ts: e.ts.toISOString(),
      event_type: e.eventType,
      actor: e.actor,
      machine_id: e.machineId ?? null,
      action: e.action ?? null,
      result: e.result ?? null,
      duration_ms: e.durationMs ?? null,
      rows_inserted: e.rowsInserted ?? null,
      bytes_read: e.bytesRead ?? null,
      warnings_count: e.warningsCount ?? null,
      error: e.error ?? null,
      details_json: e.details === undefined ? null : (jsonText(e.details) ?? null),
    })),
  );
  return ids;
}
