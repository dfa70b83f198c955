// The oracle's events (issue 14.8): `prediction` — a forecast crossed 60 / 30 / 10 minutes before
// a limit, or its action changed — and `opportunity` — a swap that frees capacity, with its
// command. Written by the oracle's step of each cycle (oracle_events); `vc watch` streams them as
// `{type:"prediction"}` and `{type:"opportunity"}` lines, the Events screen lists them.
import { eventTime, sql } from "vibe-cockpit";
import { inWindow, queryEventSource, str } from "../_events.ts";

const oracleSource = (source: "prediction" | "opportunity", group: string) =>
  queryEventSource({
    name: source,
    group,
    scope: ["fleet"],
    query: (q) =>
      // An account's event names a machine only when one machine uses it; the others are fleet-wide and kept by a machine filter.
      sql`SELECT * FROM oracle_events WHERE kind = ${source} AND ${inWindow("event_at", q)}${q.machine ? sql` AND (machine_id IS NULL OR contains(lower(machine_id), ${q.machine.toLowerCase()}))` : sql``}
          ORDER BY event_at DESC, target LIMIT ${q.limit}`,
    event: (r) => ({
      key: `${source}:${str(r.target)}:${eventTime(r.event_at)}`,
      machine_id: r.machine_id === null ? null : str(r.machine_id),
      at: eventTime(r.event_at),
      severity: str(r.severity),
      title: str(r.title),
      fields: (typeof r.fields_json === "string" ? JSON.parse(r.fields_json) : (r.fields_json ?? [])) as [string, unknown][],
      command: r.command === null || r.command === undefined ? undefined : str(r.command),
    }),
    watchLine: (e) => {
      const field = (name: string) => e.fields.find(([k]) => k === name)?.[1];
      const num = (v: unknown) => (typeof v === "number" ? v : null);
      const at = e.at ?? new Date().toISOString();
      const kind = "account_limit";
      return source === "prediction"
        ? {
            type: "prediction",
            at,
            kind,
            machine_id: e.machine_id,
            horizon_minutes: num(field("time to limit min")),
            confidence: num(field("confidence")),
            message: e.title,
            event: e,
          }
        : {
            type: "opportunity",
            at,
            kind: "account_swap",
            machine_id: e.machine_id,
            message: e.title,
            suggested: [{ title: `switch to ${String(field("to"))}`, command: e.command }],
            event: e,
          };
    },
  });

/** A forecast that crossed 60 / 30 / 10 minutes before its limit, or changed its action. */
export const predictionEvents = oracleSource("prediction", "ORACLE FORECASTS");
/** A swap to an account with headroom, before the limit, with the command. */
export const opportunityEvents = oracleSource("opportunity", "SWAP OPPORTUNITIES");
