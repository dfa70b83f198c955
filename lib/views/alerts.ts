import { listAlerts } from "../alerts/ops.ts";
import { arg, defineView } from "./define.ts";

/** `vc robot alerts`: the active alerts (all: resolved ones too). */
export default defineView({
  name: "alerts",
  summary: "Active alerts with their state, values, acks and silences; --all adds resolved ones",
  args: { all: arg.flag("include resolved alerts") },
  async run(vc, { all }) {
    return { data: { alerts: await listAlerts(vc.store, { all, at: vc.clock.now().toISOString() }) } };
  },
});
