// Incidents as front ends show them, as of an instant: opened by then, closed only if closed by
// then, their alerts' states from the alerts' history, the notes written by then.
import { VcError } from "../errors.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import type { RootCause } from "./timeline.ts";

/** One alert of an incident, with its state as of the instant asked. */
export interface IncidentAlert {
  alert_id: string;
  rule: string;
  machine_id: string | null;
  labels: Record<string, string>;
  severity: string;
  /** trigger: it opened the incident; related: it joined later. */
  role: "trigger" | "related";
  joined_at: string;
  /** pending, firing or resolved (from its history); null when its history says nothing by then. */
  state: string | null;
  title: string | null;
  message: string | null;
  expected: string | null;
  received: string | null;
  actions: { title: string; command?: string }[];
}

/** A person's note on an incident. */
export interface IncidentNote {
  note_id: string;
  at: string;
  author: string;
  text: string;
}

/** An incident: what, how bad, where, when, its alerts and notes. */
export interface Incident {
  incident_id: string;
  title: string;
  severity: string;
  state: "open" | "closed";
  opened_at: string;
  closed_at: string | null;
  closed_by: string | null;
  resolution: string | null;
  machines: string[];
  accounts: string[];
  repos: string[];
  alerts: IncidentAlert[];
  /** Every alert of it has resolved (an open incident stays open until a person closes it). */
  all_alerts_resolved: boolean;
  notes: IncidentNote[];
  /** The root-cause hypothesis kept when it was closed (the `incidents` view with an id computes it while open). */
  root_cause: RootCause | null;
}

interface IncidentRow {
  incident_id: string;
  title: string;
  severity: string;
  state: string;
  opened_at: string;
  closed_at: string | null;
  closed_by: string | null;
  resolution: string | null;
  machines_json: string;
  accounts_json: string;
  repos_json: string;
  root_cause_json: string | null;
}

const parse = <T>(s: string | null | undefined, fallback: T): T => (s ? (JSON.parse(s) as T) : fallback);

/** Which incidents `loadIncidents` gives, as of when. */
export interface LoadIncidentsOptions {
  /** The instant: incidents opened by then, as they stood then. */
  at: string;
  /** open, closed or all (default all). */
  state?: "open" | "closed" | "all";
  /** Only these incidents. */
  ids?: readonly string[];
  /** At most this many, newest first (default 50). */
  limit?: number;
}

/** Incidents as of `at`, open ones first, then newest first. */
export async function loadIncidents(store: Pick<Store, "query">, o: LoadIncidentsOptions): Promise<Incident[]> {
  const at = o.at;
  const closedSql = sql`(closed_at IS NOT NULL AND closed_at <= ${at}::TIMESTAMP)`;
  const state = o.state ?? "all";
  const which = state === "open" ? sql` AND NOT ${closedSql}` : state === "closed" ? sql` AND ${closedSql}` : sql``;
  const ids = o.ids ? sql` AND incident_id IN (${sql.join(o.ids.map((id) => sql`${id}`))})` : sql``;
  if (o.ids && o.ids.length === 0) return [];
  const rows = await store.query<IncidentRow & { closed_then: boolean }>(
    sql`SELECT incident_id, title, severity, state, opened_at, closed_at, closed_by, resolution, machines_json, accounts_json, repos_json, root_cause_json,
               ${closedSql} AS closed_then
        FROM incidents WHERE opened_at <= ${at}::TIMESTAMP${which}${ids}
        ORDER BY closed_then, opened_at DESC, incident_id DESC LIMIT ${o.limit ?? 50}`,
  );
  if (rows.length === 0) return [];
  const chosen = sql.join(rows.map((r) => sql`${r.incident_id}`));
  const [alerts, notes] = await Promise.all([
    store.query<Omit<IncidentAlert, "rule" | "labels" | "actions"> & { incident_id: string; rule_id: string; labels_json: string; suggested_actions_json: string | null }>(
      sql`WITH h AS (SELECT alert_id, arg_max(to_state, ts) AS state FROM alert_history WHERE ts <= ${at}::TIMESTAMP GROUP BY alert_id)
          SELECT ia.incident_id, ia.alert_id, ia.rule_id, ia.machine_id, ia.labels_json, ia.severity, ia.role, ia.joined_at, h.state,
                 a.title, a.message, a.expected, a.received, a.suggested_actions_json
          FROM incident_alerts ia LEFT JOIN h ON h.alert_id = ia.alert_id LEFT JOIN alerts a ON a.alert_id = ia.alert_id
          WHERE ia.incident_id IN (${chosen}) AND ia.joined_at <= ${at}::TIMESTAMP
          ORDER BY ia.joined_at, ia.role DESC, ia.alert_id`,
    ),
    store.query<IncidentNote & { incident_id: string }>(
      sql`SELECT incident_id, note_id, ts AS "at", author, text FROM incident_notes WHERE incident_id IN (${chosen}) AND ts <= ${at}::TIMESTAMP ORDER BY ts, note_id`,
    ),
  ]);
  return rows.map((r) => {
    const mine = alerts
      .filter((a) => a.incident_id === r.incident_id)
      .map(
        ({ incident_id: _, rule_id, labels_json, suggested_actions_json, ...a }): IncidentAlert => ({
          ...a,
          rule: rule_id,
          labels: parse(labels_json, {}),
          actions: parse(suggested_actions_json, []),
        }),
      );
    return {
      incident_id: r.incident_id,
      title: r.title,
      severity: r.severity,
      state: r.closed_then ? "closed" : "open",
      opened_at: r.opened_at,
      closed_at: r.closed_then ? r.closed_at : null,
      closed_by: r.closed_then ? r.closed_by : null,
      resolution: r.closed_then ? r.resolution : null,
      machines: parse(r.machines_json, []),
      accounts: parse(r.accounts_json, []),
      repos: parse(r.repos_json, []),
      alerts: mine,
      all_alerts_resolved: mine.length > 0 && mine.every((a) => a.state === "resolved"),
      notes: notes.filter((n) => n.incident_id === r.incident_id).map(({ incident_id: _, ...n }) => n),
      root_cause: r.closed_then ? parse(r.root_cause_json, null) : null,
    };
  });
}

/**
 * The id of one incident from its id or an unambiguous prefix of it; `not_found` names the id and
 * how to list them.
 */
export async function resolveIncidentId(store: Pick<Store, "query">, id: string): Promise<string> {
  const rows = await store.query<{ incident_id: string }>(
    sql`SELECT incident_id FROM incidents WHERE incident_id = ${id} OR starts_with(incident_id, ${id}) ORDER BY incident_id LIMIT 6`,
  );
  if (rows.some((r) => r.incident_id === id)) return id;
  if (rows.length === 1) return rows[0]!.incident_id;
  if (rows.length === 0) throw new VcError("not_found", `no incident "${id}"`, { hint: "`vc incident list` shows their ids", details: { incident: id } });
  throw new VcError("invalid_input", `"${id}" matches several incidents: ${rows.map((r) => r.incident_id).join(", ")}…`, { hint: "give more of the id" });
}
