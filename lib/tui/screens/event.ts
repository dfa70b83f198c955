// The event level: one event in full, scrolled with ↑↓ (no list).
import { L } from "../lines.ts";
import { defineScreen } from "../screen.ts";
import { styles } from "../theme.ts";
import { alertEvent, eventLines } from "./common.ts";

export default defineScreen({
  id: "event",
  title: "Event",
  level: true,
  noList: true,
  detail(s, _d, _item, w) {
    const e = s.event;
    if (!e) return [L("no event selected", styles.dim)];
    // An alert is shown as it is now (acked a moment ago, say), not as it was when drilled into.
    const alert = e.alert && (s.data.alerts.find((a) => a.alert_id === e.alert!.alert_id) ?? e.alert);
    // An alert's own event is redrawn from the alert; another event keeps its text, with the alert's state now.
    return eventLines(alert && e.source === "alerts" ? alertEvent(alert) : { ...e, alert }, s, w, true);
  },
});
