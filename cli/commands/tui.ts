import { defineCommand } from "citty";
import { userInfo } from "node:os";
import { VcError, collectPlugins, connectDaemon, loadConfig, runDaemon, socketPathFor } from "../../lib/index.ts";
import { runTui, screensFor } from "../../lib/tui/index.ts";
import { configArgs, guard, openApiFromArgs, secondsArg, storeArgs } from "../_common.ts";

export default defineCommand({
  meta: {
    name: "tui",
    description:
      "The terminal cockpit: health, alerts, the machine table, events, and each plugin's pane (repos, accounts, agents, mail, beads …); Enter drills machine → repos → repo → event, / searches (cass for content). Attaches to `vc up` when it runs, else becomes the daemon while it runs (polls and serves the socket, so robot commands keep working). ? for keys, q to quit.",
  },
  args: {
    ...storeArgs,
    interval: { type: "string", description: "seconds between in-process polls (default: polling.interval_seconds)", valueHint: "SECONDS" },
    poll: { type: "boolean", default: true, description: "poll in-process when no daemon runs (--no-poll: serve and read the store, collect only on r)" },
  },
  run: ({ args }) =>
    guard(async () => {
      const intervalArg = secondsArg("interval", args.interval);
      if (!process.stdout.isTTY || !process.stdin.isTTY)
        throw new VcError("invalid_input", "needs a terminal (stdin and stdout must be a TTY)", { hint: "for scripts and agents: vc robot triage, vc watch" });
      // The config once, for the poll interval and the stale threshold (the daemon does not send them).
      const config = await loadConfig(configArgs(args));
      const interval = intervalArg ?? config.polling.interval_seconds;
      const opened = await openApiFromArgs(args, { config });
      const staleAfter = config.polling.interval_seconds * config.polling.stale_after_intervals;
      // The core's screens and each plugin's (a plugin's pane comes with it, as its views do).
      const screens = screensFor(collectPlugins(config.plugins ?? [], config.collectors));
      const tui = (api: Parameters<typeof runTui>[0]["api"], inProcess = false) =>
        runTui({ api, poll: false, inProcess, intervalSeconds: interval, staleAfterSeconds: staleAfter, by: `tui:${process.env.USER ?? safeUser()}`, screens });
      if ("remote" in opened) {
        try {
          return await tui(opened);
        } finally {
          await opened.close();
        }
      }
      // No daemon serves this store: for as long as the TUI runs, this process is one — it polls
      // (unless --no-poll) and serves the socket, so agents keep their robot API meanwhile.
      const vc = opened;
      vc.config.polling.interval_seconds = interval;
      const stop = new AbortController();
      let failure: unknown;
      const daemon = runDaemon(vc, { signal: stop.signal, poll: args.poll !== false, onError: (err) => (failure ??= err) });
      try {
        const self = await attach(vc.store.path);
        if (!self) throw failure ?? new VcError("store_open_failed", `could not serve ${vc.store.path} to this TUI`);
        try {
          return await tui(self, true);
        } finally {
          await self.close();
        }
      } finally {
        stop.abort();
        await daemon.catch(() => 0);
        await vc.close();
      }
    }),
});

/** The socket this process serves, once it answers. */
async function attach(db: string) {
  for (let i = 0; i < 100; i++) {
    const self = await connectDaemon(socketPathFor(db), { db });
    if (self) return self;
    await Bun.sleep(20);
  }
  return null;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
