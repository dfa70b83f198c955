// Overview: open alerts and the machine table on the left; the selected alert or machine and
// DO NEXT (triage, within the filter) on the right. Reads only the fleet views the app loads.
import { H, L } from "../lines.ts";
import { defineScreen } from "../screen.ts";
import { styles } from "../theme.ts";
import { ALERT_COLUMNS, alertItems, alertLines, doNext, machineColumns, machineHeader, machineItems } from "./common.ts";

export default defineScreen({
  id: "overview",
  title: "Overview",
  short: "Over",
  columns: (s) => ({ ALERTS: ALERT_COLUMNS, MACHINES: machineColumns(s) }),
  items: (s) => [...alertItems(s), ...machineItems(s)],
  detail(s, _data, item) {
    const lines = [];
    if (item?.alert) lines.push(H("ALERT"), ...alertLines(item.alert, s, s.data.triage?.suggestions[item.alert.alert_id] ?? []));
    else if (item?.machineId) lines.push(H("MACHINE"), ...machineHeader(s, item.machineId), ...doNext(s, 3, item.machineId), L("Enter: machine detail", styles.dim));
    lines.push(H("DO NEXT"), ...doNext(s, 8));
    return lines;
  },
});
