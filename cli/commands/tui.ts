import { defineCommand } from "citty";
import { userInfo } from "node:os";
import { VcError, loadConfig } from "../../lib/index.ts";
import { runTui } from "../../lib/tui/app.ts";
import { guard, openApiFromArgs, secondsArg, storeArgs } from "../_common.ts";

export default defineCommand({
  meta: {
    name: "tui",
    description: "The terminal cockpit: health, alerts, machines, repos, accounts, agents & mail, events, beads; Enter drills machine → repos → repo → event, / searches (cass for content). Attaches to `vc up` when it runs, else polls in-process. ? for keys, q to quit.",
  },
  args: {
    ...storeArgs,
    interval: { type: "string", description: "seconds between in-process polls (default: polling.interval_seconds)", valueHint: "SECONDS" },
    poll: { type: "boolean", default: true, description: "run poll cycles in-process when no daemon runs (--no-poll: only read the store)" },
  },
  run: ({ args }) =>
    guard(async () => {
      const intervalArg = secondsArg("interval", args.interval);
      if (!process.stdout.isTTY || !process.stdin.isTTY) throw new VcError("invalid_input", "needs a terminal (stdin and stdout must be a TTY)", { hint: "for scripts and agents: vc robot triage, vc watch" });
      // The config once, for the poll interval and the stale threshold (the daemon does not send them).
      const config = await loadConfig({
        file: args.config,
        db: args.db,
        fallback: { source: "(embedded default)", load: async () => (await import("../../vc.config.ts")).default },
        modules: { "vibe-cockpit/plugins": () => import("../../plugins/index.ts") },
      });
      const interval = intervalArg ?? config.polling.interval_seconds;
      const api = await openApiFromArgs(args, { config });
      try {
        const staleAfter = config.polling.interval_seconds * config.polling.stale_after_intervals;
        return await runTui({ api, poll: args.poll !== false, intervalSeconds: interval, staleAfterSeconds: staleAfter, by: `tui:${process.env.USER ?? safeUser()}` });
      } finally {
        await api.close();
      }
    }),
});

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
