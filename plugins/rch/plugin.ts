// What rch adds beyond its collector: the machine view's rch section and the queue factor.
import { definePlugin, latestAt, minus, parseJson, ramp, readings, sql, type AreaFactor, type MachineSection } from "vibe-cockpit";
import { rchBottleneck } from "./protocols.ts";

export const rchSection: MachineSection = {
  name: "rch",
  async load(q) {
    const [snap] = await q.store.query<Record<string, unknown>>(sql`SELECT * EXCLUDE (machine_id, raw_json, source, source_version, schema_version)
        FROM rch_status_snapshots WHERE machine_id = ${q.machineId} AND collected_at = ${latestAt("rch_status_snapshots", q)}`);
    if (!snap) return null;
    const workers = await q.store.query(sql`SELECT worker_id, host, status, circuit_state, used_slots, total_slots, speed_score, consecutive_failures,
          recovery_in_s, last_error, pressure_state, pressure_disk_free_gb, drift_state
        FROM rch_worker_snapshots WHERE machine_id = ${q.machineId} AND collected_at = ${snap.collected_at as string}::TIMESTAMP ORDER BY worker_id`);
    const { remediation_hints_json: hints, ...rest } = snap;
    return { ...rest, remediation_hints: parseJson(hints) ?? [], workers };
  },
};

/** Health factor rchQueue. */
export const rchQueueFactor: AreaFactor = {
  id: "rch_queue",
  read: (store, at) =>
    readings(
      store,
      sql`SELECT machine_id, CASE WHEN coalesce(workers_available, 0) = 0 THEN queue_depth ELSE 0 END AS value, queue_depth, workers_available
            FROM rch_status_snapshots WHERE collected_at <= ${at}::TIMESTAMP AND collected_at > ${minus(at, 30 * 60_000)}::TIMESTAMP
            QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1`,
      (r) => `rch queue ${r.queue_depth} with ${r.workers_available ?? 0} workers available`,
    ),
  score: ramp(0, 20, 0.3),
};

export const rchPlugin = definePlugin({ name: "rch", machineSections: [rchSection], healthFactors: [rchQueueFactor], protocols: [rchBottleneck] });
