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
      // The snapshot holds the answer when the last cycle at or before T saw every sample collected
      // by T (identical states are not repeated, so the snapshot before that cycle still says how the
      // fleet stood); samples that came after the last cycle (or no cycle at all) are read raw.
      const [last] = await vc.store.query<{ cycle: string | null; sample: string | null }>(
        sql`SELECT (SELECT max(collected_at) FROM health_summary WHERE collected_at <= ${at.toISOString()}::TIMESTAMP) AS cycle,
                   (SELECT max(collected_at) FROM sys_samples WHERE collected_at <= ${at.toISOString()}::TIMESTAMP) AS sample`,
      );
      const cycleSawAll = last?.cycle != null && (last.sample == null || Date.parse(last.cycle) >= Date.parse(last.sample));
      const snap = cycleSawAll ? await healthAt(vc.store, at) : null;
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
        warnings: [`no poll cycle saw the rows collected by ${at.toISOString()}: health computed from them`, ...h.warnings],
      };
    }
    const h = await vc.health();
    return { data: { overall: h.overall, machines: h.machines.map(({ factors: _f, ...m }) => m) }, staleness: h.staleness, warnings: h.warnings };
  },
});
