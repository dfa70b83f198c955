import { VcError } from "../errors.ts";
import { healthAt } from "../cycle.ts";
import type { FleetHealth, MachineHealth } from "../health/index.ts";
import { arg, defineView, type ViewResult } from "./define.ts";

/** Health now (machines without their factors), or as snapshotted (with the alerts firing then). */
export interface HealthData {
  overall: FleetHealth["overall"];
  machines: Omit<MachineHealth, "factors">[];
  firing?: unknown[];
  snapshot_at?: string;
}

/** `vc robot health`: fleet and per-machine health now, or as snapshotted at or before `at`. */
export default defineView({
  name: "health",
  summary: "Fleet and per-machine health; --at T answers from the snapshot at or before T",
  args: { at: arg.time("an ISO 8601 time: the fleet as it was then") },
  async run(vc, { at }): Promise<ViewResult<HealthData>> {
    if (at) {
      const snap = await healthAt(vc.store, at);
      if (!snap) throw new VcError("not_found", `no fleet snapshot at or before ${at.toISOString()}`, { hint: "snapshots are written at the end of each poll cycle" });
      const { overall, machines, firing, staleness, warnings } = snap.summary;
      return { data: { overall, machines: machines as HealthData["machines"], firing, snapshot_at: snap.collected_at }, staleness: staleness ?? {}, warnings: warnings ?? [] };
    }
    const h = await vc.health();
    return { data: { overall: h.overall, machines: h.machines.map(({ factors: _f, ...m }) => m) }, staleness: h.staleness, warnings: h.warnings };
  },
});
