import { defineCommand } from "citty";
import { runWatch } from "../../lib/watch.ts";
import { serveStore, type Cockpit } from "../../lib/index.ts";
import { safeJson } from "../../lib/text.ts";
import { guard, logger, openApiFromArgs, secondsArg, storeArgs } from "../_common.ts";

export default defineCommand({
  meta: {
    name: "watch",
    description:
      "Stream events as JSON lines: alert (firing, resolved, escalated, flapping), prediction, opportunity, heartbeat. Watched local files (dcg, mail) are collected as soon as they change.",
  },
  args: {
    ...storeArgs,
    format: { type: "enum", options: ["jsonl"], default: "jsonl", description: "output format (JSON lines)" },
    interval: { type: "string", description: "seconds between full polls (default: polling.interval_seconds)", valueHint: "SECONDS" },
  },
  run: ({ args }) =>
    guard(async () => {
      const interval = secondsArg("interval", args.interval);
      const log = await logger();
      const stop = new AbortController();
      process.on("SIGINT", () => stop.abort());
      process.on("SIGTERM", () => stop.abort());
      process.stdout.on("error", () => stop.abort()); // the reader went away
      const write = (e: unknown) => process.stdout.write(`${safeJson(e)}\n`);
      const api = await openApiFromArgs(args);
      if ("remote" in api) {
        // The daemon polls and watches files; this relays its stream, across daemon restarts.
        await api.watch(write, {
          heartbeatSeconds: interval ?? 15,
          signal: stop.signal,
          reconnect: true,
          onStatus: (s, err) => s === "reconnecting" && log.warn(`the daemon stopped answering (${err instanceof Error ? err.message : "closed"}); reconnecting…`),
        });
        return;
      }
      // No daemon: this process holds the store while it watches, and serves it to every other
      // command meanwhile (robot views, alerts, query …), as `vc up` would.
      await using vc = api as Cockpit;
      const served = serveStore(vc, { onError: (err) => log.warn(err instanceof Error ? err.message : String(err)) });
      try {
        const seconds = interval ?? vc.config.polling.interval_seconds;
        await runWatch(vc, {
          intervalMs: seconds * 1000,
          signal: stop.signal,
          emit: (e) => process.stdout.write(`${safeJson(e)}\n`),
          onError: (err) => log.warn(err instanceof Error ? err.message : String(err)),
        });
      } finally {
        await served.close();
      }
    }),
});
