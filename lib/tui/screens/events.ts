// Events: what happened in the window (alerts, and every plugin's events through the `events`
// view), newest first per source. A source that failed is an ERR row, not a missing group. An alert
// that belongs to an incident shows the incident's id (read through the `incidents` view).
import type { VcEvent } from "../../events.ts";
import type { IncidentsData } from "../../views/incidents.ts";
import { emptyLines, alertEvent, EVENT_COLUMNS, eventItem, eventLines } from "./common.ts";
import { defineScreen, has } from "../screen.ts";
import type { TuiEvent } from "../types.ts";
import { num } from "../text.ts";

export interface EventsData {
  events: VcEvent[];
  sources: { name: string; group: string; count: number }[];
  errors: { source: string; error: string }[];
  /** The incident each alert belongs to (an open one first), by alert id. */
  incidents?: Record<string, string>;
}

/** Alert id → incident id, open incidents winning over closed ones (the view lists open ones first). */
function incidentOf(data: IncidentsData | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of data?.incidents ?? []) for (const a of i.alerts) out[a.alert_id] ??= i.incident_id;
  return out;
}

/** Hours the Events screen looks back (the filter's `window:`). */
export const eventsWindow = (hours: number | undefined) => hours ?? 24;

export default defineScreen<EventsData>({
  id: "events",
  title: "Events",
  short: "Evnt",
  key: "e",
  columns: () => ({ "*": EVENT_COLUMNS }),
  dataKey: (s) => `${eventsWindow(s.filter.windowHours)}:${s.filter.machine ?? ""}`,
  async load({ view, state }) {
    const [r, incidents] = await Promise.all([
      view("events", { window: `${eventsWindow(state.filter.windowHours)}h`, ...(state.filter.machine ? { machine: state.filter.machine } : {}) }),
      view("incidents", { limit: 200 }).then(
        (x) => x.data as IncidentsData,
        () => null, // no incident ids is no reason to lose the events
      ),
    ]);
    return { ...(r.data as EventsData), incidents: incidentOf(incidents) };
  },
  errors: (_s, d) => (d?.errors ?? []).map((e) => `${e.source}: ${e.error}`),
  items(s, d) {
    const alerts = s.data.alerts.filter((a) => a.state !== "resolved" && has(a.machine_id, s.filter.machine)).map(alertEvent);
    return [...alerts, ...(d?.events ?? [])].map((e: TuiEvent) => {
      const incident = e.alert ? d?.incidents?.[e.alert.alert_id] : undefined;
      if (!incident) return eventItem(e, s);
      const item = eventItem({ ...e, fields: [["incident", incident], ...e.fields] }, s);
      const [text, style] = item.cells.title!;
      return { ...item, cells: { ...item.cells, title: [`${incident} · ${text}`, style] } };
    });
  },
  detail(s, d, item, w) {
    if (item?.event) return eventLines(item.event, s, w, false);
    const groups = (d?.sources ?? []).map((x) => x.group.toLowerCase()).join(", ");
    return emptyLines("EVENTS", `no alerts${groups ? ` or ${groups}` : ""} in the last ${num(eventsWindow(s.filter.windowHours))} h`);
  },
});
