import { defineView } from "./define.ts";

/** `vc robot doctor`: config, store, each machine probed, each collector's last run. */
export default defineView({
  name: "doctor",
  summary: "Config, store and daemon; each machine probed (reachable, auth, host key, tools); each collector's last run",
  live: "probes the machines now",
  args: {},
  async run(vc) {
    const report = await vc.doctor();
    return { data: report, warnings: report.checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`) };
  },
});
