// rano's connections to hosts no provider claims, as events: one per machine and host in the window.
import { eventTime, sql } from "vibe-cockpit";
import { inWindow, onMachine, queryEventSource, str } from "../_events.ts";

/** Connections to hosts rano attributes to no provider, per machine and host (domain, else address), busiest first. */
export const ranoEvents = queryEventSource({
  name: "rano",
  group: "RANO UNKNOWN HOSTS",
  scope: ["fleet"],
  query: (q) =>
    sql`SELECT machine_id, coalesce(domain, remote_ip) AS host, count(*)::INTEGER AS connects, max(ts) AS last_ts, any_value(comm) AS process
        FROM rano_events
        WHERE event = 'connect' AND (provider IS NULL OR provider = 'unknown') AND ${inWindow("ts", q)}${onMachine(q)}
        GROUP BY ALL ORDER BY connects DESC, host, machine_id LIMIT ${q.limit}`,
  event: (r) => ({
    key: `rano:${r.machine_id}:${r.host}`,
    machine_id: str(r.machine_id),
    at: eventTime(r.last_ts),
    severity: "medium",
    title: `unknown host ${str(r.host)}: ${str(r.connects)} connection${Number(r.connects) === 1 ? "" : "s"}`,
    fields: [
      ["host", r.host],
      ["connections", r.connects],
      ["process", r.process],
      ["last", eventTime(r.last_ts)],
    ],
  }),
});
