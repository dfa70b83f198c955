import { healthAt } from "../cycle.ts";
import type { FleetHealth, MachineHealth } from "../health/index.ts";
import { sql } from "../store/sql.ts";
import { arg, defineView, type ViewResult } from "./define.ts";
import { checkAt, cockpitAt } from "./timemachine.ts";

/** Health now (machines without their factors), or as it was at `--at` (with the alerts firing then). */
export interface HealthData {
  overall: FleetHealth["overall"];
  machines: Omit<MachineHealth, "factors">[];
  firing?: unknown[];
  /** As of `--at`: the snapshot it came from, or null when it was computed from the raw rows. */
  snapshot_at?: string | null;
}

/** `vc robot health`: fleet and per-machine health now, or as it was at `at`. */
export default defineView({
  name: "health",
  summary: "Fleet and per-machine health; --at T answers from the snapshot of the cycle at T, else from the rows collected by T",
  args: { at: arg.time("an ISO 8601 time: the fleet as it was then") },
  async run(vc, { at }): Promise<ViewResult<HealthData>> {
    if (at) {
      await checkAt(vc, at, "health");
      // The snapshot holds the answer when a cycle ran near T (identical states are not repeated,
      // so the last snapshot before a cycle at T still says how the fleet stood).
      const near = 2 * vc.config.polling.interval_seconds * 1000;
      const [cycle] = await vc.store.query<{ n: bigint }>(
        sql`SELECT count(*) AS n FROM health_summary WHERE collected_at <= ${at.toISOString()}::TIMESTAMP AND collected_at > ${new Date(at.getTime() - near).toISOString()}::TIMESTAMP`,
      );
      const snap = Number(cycle?.n ?? 0) > 0 ? await healthAt(vc.store, at) : null;
      if (snap) {
        const { overall, machines, firing, staleness, warnings } = snap.summary;
        return { data: { overall, machines: machines as HealthData["machines"], firing, snapshot_at: snap.collected_at }, staleness: staleness ?? {}, warnings: warnings ?? [] };
      }
      // No cycle ran then: health from the samples and rows collected by T, alerts from their history.
      const then = cockpitAt(vc, at);
      const [h, alerts] = await Promise.all([then.health(), then.alerts()]);
      const firing = alerts.filter((a) => a.state === "firing").map((a) => ({ alert_id: a.alert_id, rule: a.rule, machine_id: a.machine_id, severity: a.severity }));
      return {
        data: { overall: h.overall, machines: h.machines.map(({ factors: _f, ...m }) => m), firing, snapshot_at: null },
        staleness: h.staleness,
        warnings: [`no poll cycle ran near ${at.toISOString()}: computed from the rows collected by then`, ...h.warnings],
      };
    }
    const h = await vc.health();
    return { data: { overall: h.overall, machines: h.machines.map(({ factors: _f, ...m }) => m) }, staleness: h.staleness, warnings: h.warnings };
  },
});
