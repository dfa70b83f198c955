// Each collector's state on each machine as it was at an instant: collector_state holds only the
// latest run, so a state whose last run came after `at` is rebuilt from the run records
// (audit_events, one per run) at or before it. At the present this is collector_state itself.
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";

export interface CollectorStateAt {
  machine_id: string;
  collector: string;
  last_run_at: string;
  last_result: string;
  last_ok_at: string | null;
  last_error: string | null;
  consecutive_failures: number;
}

/** The collectors' states at `at` (of one machine, when given). */
export async function collectorStatesAt(store: Store, at: string, machineId?: string): Promise<CollectorStateAt[]> {
  const mine = machineId === undefined ? sql`` : sql` AND machine_id = ${machineId}`;
  const rows = await store.query<CollectorStateAt>(
    sql`SELECT machine_id, collector, last_run_at, last_result, last_ok_at, last_error, consecutive_failures FROM collector_state WHERE true${mine}`,
  );
  const t = Date.parse(at);
  const later = rows.filter((r) => Date.parse(r.last_run_at) > t);
  if (later.length === 0) return rows;
  const past = await store.query<CollectorStateAt>(
    sql`SELECT machine_id, actor AS collector, max(ts) AS last_run_at, arg_max(result, ts) AS last_result,
               max(ts) FILTER (WHERE result = 'ok') AS last_ok_at, arg_max(error, ts) AS last_error, 0 AS consecutive_failures
        FROM audit_events
        WHERE event_type = 'collector_run' AND ts <= ${at}::TIMESTAMP
          AND (machine_id, actor) IN (${sql.join(later.map((r) => sql`(${r.machine_id}, ${r.collector})`))})
        GROUP BY machine_id, actor`,
  );
  return [...rows.filter((r) => Date.parse(r.last_run_at) <= t), ...past];
}
