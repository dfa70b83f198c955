// `vc up` vacuums once a day, at the config's quiet hour (local time), audited like any vacuum.
import type { Cockpit } from "../cockpit.ts";
import { sql } from "../store/sql.ts";
import { retentionOf } from "./plan.ts";
import { runVacuum, type VacuumReport } from "./vacuum.ts";

/** A vacuum (of any kind, by anyone) this recent means today's is done. */
const ONCE_A_DAY_MS = 20 * 3_600_000;

/**
 * Runs the day's vacuum when `retention.quiet_hour` is set, the local hour is that one and no
 * vacuum ran in the last 20 hours; otherwise does nothing and returns null.
 * @example await vacuumAtQuietHour(vc) // in the daemon's loop, after each cycle
 */
export async function vacuumAtQuietHour(vc: Pick<Cockpit, "store" | "config" | "clock">, o: { actor?: string } = {}): Promise<VacuumReport | null> {
  const { quiet_hour } = retentionOf(vc.config);
  const now = vc.clock.now();
  if (quiet_hour === null || now.getHours() !== quiet_hour || vc.store.readOnly) return null;
  const [last] = await vc.store.query<{ at: string | null }>(sql`SELECT max(ts) AS at FROM audit_events WHERE event_type = 'retention_vacuum'`);
  if (last?.at && now.getTime() - Date.parse(last.at) < ONCE_A_DAY_MS) return null;
  return runVacuum({ store: vc.store, config: vc.config, now, actor: o.actor ?? "vc up" });
}
