import { defineCommand } from "citty";
import { runDaemon } from "../../lib/index.ts";
import { oneLine, stripControl } from "../../lib/text.ts";
import { guard, logger, openFromArgs, secondsArg, storeArgs } from "../_common.ts";

export default defineCommand({
  meta: {
    name: "up",
    description: "Run the daemon: poll every machine at the configured interval and keep the store. SIGINT/SIGTERM stop it after the current transaction.",
  },
  args: {
    ...storeArgs,
    interval: { type: "string", description: "seconds between cycles (overrides polling.interval_seconds)", valueHint: "SECONDS" },
  },
  run: ({ args }) =>
    guard(async () => {
      const interval = secondsArg("interval", args.interval, { integer: true });
      const log = await logger();
      const vc = await openFromArgs(args);
      if (interval !== undefined) vc.config.polling.interval_seconds = interval;
      const stop = new AbortController();
      let stoppingSince = 0;
      const onSignal = (sig: string) => {
        // A second signal means "leave now" — unless it is the same Ctrl-C, delivered again by a
        // wrapper such as `bun run`, within the same second.
        if (stoppingSince) {
          if (performance.now() - stoppingSince > 1000) process.exit(130);
          return;
        }
        stoppingSince = performance.now();
        log.info(`${sig}: stopping after the current transaction…`);
        stop.abort();
      };
      process.on("SIGINT", () => onSignal("SIGINT"));
      process.on("SIGTERM", () => onSignal("SIGTERM"));

      const tty = process.stderr.isTTY;
      let ok = 0;
      let failed = 0;
      log.start(`vc up: ${vc.config.machines.length} machine(s), ${vc.config.collectors.length} collector(s), every ${vc.config.polling.interval_seconds} s → ${vc.store.path}`);
      try {
        await runDaemon(vc, {
          signal: stop.signal,
          onRun: (r) => (r.result === "failed" ? failed++ : r.result === "ok" && ok++),
          onCycle: (report, n) => {
            const runs = report.machines.flatMap((m) => m.runs);
            const bad = runs.filter((r) => r.result === "failed");
            const line = `cycle ${n} · ${runs.length} runs in ${(report.durationMs / 1000).toFixed(1)} s · ${bad.length} failed · totals ${ok} ok ${failed} failed · next in ${vc.config.polling.interval_seconds} s`;
            if (tty) process.stderr.write(`\r\x1b[2K${line}`);
            else log.info(line);
            // A run's error may carry a tool's own stderr: escapes and controls never reach the terminal.
            for (const r of bad) log.warn(oneLine(`${r.machine}/${r.collector}: ${r.error}`));
          },
          onError: (err) => log.error(stripControl(err instanceof Error ? (err.stack ?? err.message) : String(err))),
        });
      } finally {
        if (tty) process.stderr.write("\n");
        await vc.close();
        log.success("stopped; store closed cleanly");
      }
    }),
});
