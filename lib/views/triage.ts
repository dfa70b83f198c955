import { listAlerts } from "../alerts/ops.ts";
import { triage } from "../triage.ts";
import { arg, defineView } from "./define.ts";

/** `vc robot triage`: what to do next, and why. */
export default defineView({
  name: "triage",
  summary:
    "What to do next: firing alerts and every unhealthy machine's factors (an alert and the factor it is about as one item) ranked by severity, recency and blast radius, each with why and suggested commands",
  args: { limit: arg.int("how many items", { min: 1, max: 1000, default: 20, hint: "N" }) },
  async run(vc, { limit }) {
    const now = vc.clock.now();
    const [h, alerts] = await Promise.all([vc.health(), listAlerts(vc.store, { at: now.toISOString() })]);
    const suggestions = (vc.config.plugins ?? []).flatMap((p) => (p.suggestions ? [p.suggestions] : []));
    return { data: { overall: h.overall, ...triage(alerts, h, now, { limit, suggestions, rules: vc.config.rules }) }, staleness: h.staleness, warnings: h.warnings };
  },
});
