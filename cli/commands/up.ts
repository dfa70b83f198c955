import { defineCommand } from "citty";
import { runDaemon, type AlertEvent, type CheckItem, type CycleReport, type RunRecord } from "../../lib/index.ts";
import { oneLine, stripControl } from "../../lib/text.ts";
import { parseHttpAddress } from "../../lib/web/address.ts";
import { guard, logger, openFromArgs, secondsArg, storeArgs } from "../_common.ts";

export default defineCommand({
  meta: {
    name: "up",
    description: "Run the daemon: poll every machine at the configured interval and keep the store. SIGINT/SIGTERM stop it after the current transaction.",
  },
  args: {
    ...storeArgs,
    interval: { type: "string", description: "seconds between cycles (overrides polling.interval_seconds)", valueHint: "SECONDS" },
    http: {
      type: "string",
      description: "serve the JSON API, events and /metrics over HTTP on ADDR (overrides serve.http; off loopback it needs VC_WEB_TOKEN or serve.token)",
      valueHint: "ADDR",
    },
  },
  run: ({ args }) =>
    guard(async () => {
      const interval = secondsArg("interval", args.interval, { integer: true });
      if (args.http !== undefined) parseHttpAddress(args.http, "--http"); // before the store opens
      const log = await logger();
      const vc = await openFromArgs(args);
      if (interval !== undefined) vc.config.polling.interval_seconds = interval;
      if (args.http !== undefined) vc.config.serve = { token: vc.config.serve?.token ?? null, http: args.http };
      const tty = Boolean(process.stderr.isTTY);
      // On a terminal: consola, the cycle line redrawn in place. Otherwise (a log file, journald):
      // one line per event with an ISO timestamp.
      const say = (level: Level, text: string) => {
        if (!tty) return void process.stderr.write(`${logLine(level, text, new Date())}\n`);
        process.stderr.write("\r\x1b[2K");
        log[level](oneLine(text)); // alert messages and machine errors quote collected text
      };
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
        say("info", `${sig}: stopping after the current transaction…`);
        stop.abort();
      };
      process.on("SIGINT", () => onSignal("SIGINT"));
      process.on("SIGTERM", () => onSignal("SIGTERM"));

      const totals = { ok: 0, failed: 0, skipped: 0 };
      const reach = createReachability();
      say("info", `vc up: ${vc.config.machines.length} machine(s), ${vc.config.collectors.length} collector(s), every ${vc.config.polling.interval_seconds} s → ${vc.store.path}`);
      // Every cycle's alert changes, the file-triggered ones too.
      const unsubscribe = vc.subscribe((outcome) => {
        for (const e of outcome.events) say(e.event === "resolved" ? "info" : e.severity === "critical" || e.severity === "high" ? "warn" : "info", alertLine(e));
        for (const d of outcome.deriveErrors ?? []) say("warn", `${d.derivation} failed: ${d.error}`);
        for (const d of outcome.deriveWarnings ?? []) say("warn", `${d.derivation}: ${d.warning}`);
        for (const r of outcome.ruleErrors) say("warn", `rule ${r.rule} could not be evaluated: ${r.error}`);
        for (const w of outcome.ruleWarnings ?? []) say("warn", `rule ${w.rule}: ${w.warning}`);
        // A channel that could not deliver (alerts.jsonl a planted symlink, a webhook down) says so.
        for (const d of outcome.deliveries) if (!d.ok) say("warn", `alert channel ${d.channel} failed after ${d.attempts} attempt(s): ${d.error}`);
      });
      try {
        await runDaemon(vc, {
          signal: stop.signal,
          onServing: (socket) => say("info", `serving ${vc.store.path} on ${socket}`),
          onHttp: (url) => say("info", `serving HTTP on ${url}${vc.config.serve?.token ? " (token required)" : ""}`),
          onRun: (r) => totals[r.result]++,
          onCycle: (report, n) => {
            for (const change of reach.update(report)) say(change.reachable ? "info" : "warn", change.line);
            const line = cycleLine(report, n, totals, vc.config.polling.interval_seconds);
            if (tty) process.stderr.write(`\r\x1b[2K${line}`);
            else say("info", line);
            // A run's error may carry a tool's own stderr: escapes and controls never reach the terminal.
            for (const r of report.machines.flatMap((m) => m.runs).filter((r) => r.result === "failed")) say("warn", oneLine(`${r.machine}/${r.collector}: ${r.error}`));
          },
          onError: (err) => say("error", stripControl(err instanceof Error ? (err.stack ?? err.message) : String(err))),
          // A pushed batch the hub could not take says why (committed ones count in the cycle's rows).
          onIngest: (x) => {
            if (x.kind === "parked") say("warn", `ingest: parked ${x.batch ?? "a message"} on ${x.subject}: ${x.reason}`);
          },
          // What the guardian did: a suggestion, an approval waiting, a run and how it ended.
          onGuardian: (r) => {
            for (const i of r.items.filter((x) => x.action !== "skipped"))
              say(i.status === "escalated" || i.status === "failed" || i.status === "blocked" ? "warn" : "info", guardianLine(i));
            for (const e of r.errors) say("warn", `guardian: protocol ${e.protocol}'s trigger failed: ${e.error}`);
          },
        });
      } finally {
        unsubscribe();
        if (tty) process.stderr.write("\n");
        await vc.close();
        say("success", "stopped; store closed cleanly");
      }
    }),
});

type Level = "info" | "warn" | "error" | "success";

/** A log line for a file or a pipe: `<ISO time> <LEVEL> <text>`, the text made one safe line. */
export function logLine(level: Level, text: string, at: Date): string {
  return `${at.toISOString()} ${(level === "success" ? "info" : level).toUpperCase().padEnd(5)} ${oneLine(text)}`;
}

/** `cycle 3 · 14 runs in 2.1 s · 12 ok 1 failed 1 skipped · totals … · next in 120 s` */
export function cycleLine(report: CycleReport, n: number, totals: Record<RunRecord["result"], number>, nextSeconds: number): string {
  const runs = report.machines.flatMap((m) => m.runs);
  const count = (r: RunRecord["result"]) => runs.filter((x) => x.result === r).length;
  return `cycle ${n} · ${runs.length} runs in ${(report.durationMs / 1000).toFixed(1)} s · ${count("ok")} ok ${count("failed")} failed ${count("skipped")} skipped · totals ${totals.ok} ok ${totals.failed} failed ${totals.skipped} skipped · next in ${nextSeconds} s`;
}

/** `guardian disk_space_recovery on orko:/data (/data on orko is 93 % used): ran → verified (run g-1a2b3c4d)` */
export function guardianLine(i: CheckItem): string {
  const what = i.action === "ran" ? `ran → ${i.status}` : i.action === "pending" ? `waits for approval: vc guardian approve ${i.run_id}` : i.action;
  return `guardian ${i.protocol} on ${i.target} (${i.title}): ${what}${i.run_id && i.action !== "pending" ? ` (run ${i.run_id})` : ""}`;
}

/** `alert firing [high] load_high on here: load5 11.5 on 2 cores` */
export function alertLine(e: AlertEvent): string {
  const where = e.machine_id ? ` on ${e.machine_id}` : "";
  const muted = e.suppressed_by ? ` (not notified: ${e.suppressed_by})` : "";
  return `alert ${e.event} [${e.severity}] ${e.rule}${where}: ${e.message}${muted}`;
}

/** Tells when a machine becomes unreachable and when it comes back (once each, not every cycle). */
export function createReachability() {
  const down = new Map<string, boolean>();
  return {
    update(report: CycleReport): { machine: string; reachable: boolean; line: string }[] {
      const out: { machine: string; reachable: boolean; line: string }[] = [];
      for (const m of report.machines) {
        const was = down.get(m.machine) ?? false;
        if (!m.reachable && !was) out.push({ machine: m.machine, reachable: false, line: `machine ${m.machine} unreachable: ${m.error ?? "no answer"}` });
        if (m.reachable && was) out.push({ machine: m.machine, reachable: true, line: `machine ${m.machine} reachable again` });
        down.set(m.machine, !m.reachable);
      }
      return out;
    },
  };
}
