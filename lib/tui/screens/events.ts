// Events: what happened in the window (alerts, and every plugin's events through the `events`
// view), newest first per source. A source that failed is an ERR row, not a missing group.
import type { VcEvent } from "../../events.ts";
import { emptyLines, alertEvent, EVENT_COLUMNS, eventItem, eventLines } from "./common.ts";
import { defineScreen, has } from "../screen.ts";
import { num } from "../text.ts";

export interface EventsData {
  events: VcEvent[];
  sources: { name: string; group: string; count: number }[];
  errors: { source: string; error: string }[];
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
    const r = await view("events", { window: `${eventsWindow(state.filter.windowHours)}h`, ...(state.filter.machine ? { machine: state.filter.machine } : {}) });
    return r.data as EventsData;
  },
  errors: (_s, d) => (d?.errors ?? []).map((e) => `${e.source}: ${e.error}`),
  items(s, d) {
    const alerts = s.data.alerts.filter((a) => a.state !== "resolved" && has(a.machine_id, s.filter.machine)).map(alertEvent);
    return [...alerts, ...(d?.events ?? [])].map((e) => eventItem(e, s));
  },
  detail(s, d, item, w) {
    if (item?.event) return eventLines(item.event, s, w, false);
    const groups = (d?.sources ?? []).map((x) => x.group.toLowerCase()).join(", ");
    return emptyLines("EVENTS", `no alerts${groups ? ` or ${groups}` : ""} in the last ${num(eventsWindow(s.filter.windowHours))} h`);
  },
});
