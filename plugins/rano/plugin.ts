// What rano adds beyond its collector: the machine view's connections section and the Events
// screen's unknown hosts.
import { definePlugin, minus, sql, type MachineSection } from "vibe-cockpit";
import { ranoEvents } from "./events.ts";

const WINDOW_HOURS = 6;

/** rano on this machine over the last 6 h: connections by provider and host, busiest first (8). */
export const connectionsSection: MachineSection = {
  name: "connections",
  async load(q) {
    const rows = await q.store.query<{ provider: string | null; domain: string | null; connects: number }>(
      sql`SELECT provider, coalesce(domain, remote_ip) AS domain, count(*)::INTEGER AS connects FROM rano_events
          WHERE machine_id = ${q.machineId} AND event = 'connect'
            AND ts > ${minus(q.at, WINDOW_HOURS * 3_600_000)}::TIMESTAMP AND ts <= ${q.at}::TIMESTAMP
          GROUP BY ALL ORDER BY connects DESC, provider NULLS FIRST, domain LIMIT 8`,
    );
    return rows.length ? { window_hours: WINDOW_HOURS, connections: rows } : null;
  },
};

export const ranoPlugin = definePlugin({ name: "rano", machineSections: [connectionsSection], events: [ranoEvents] });
