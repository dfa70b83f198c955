import { defineCommand } from "citty";
import { loadConfig, runNode, type NodeCycleReport } from "../../lib/index.ts";
import { oneLine } from "../../lib/text.ts";
import { sysprobe } from "../../plugins/index.ts";
import { configArgs, guard, printJson, storeArgs } from "../_common.ts";
import pkg from "../../package.json" with { type: "json" };

/** `node orko · 5 runs (4 acked, 1 spooled) · drained 3 · spool 1` */
export function nodeLine(r: NodeCycleReport): string {
  const count = (s: string) => r.runs.filter((x) => x.sent === s).length;
  const rows = r.runs.reduce((n, x) => n + x.rows, 0);
  return `node ${r.machine} · ${r.runs.length} runs, ${rows} rows (${count("acked")} acked, ${count("spooled")} spooled, ${count("failed")} failed) · drained ${r.drained} · spool ${r.spooled}${r.dropped ? ` · ${r.dropped} dropped past the spool's bound` : ""}${r.connected ? "" : ` · not sent: ${r.error ?? "NATS unreachable"}`}`;
}

export default defineCommand({
  meta: {
    name: "node",
    description:
      "Run this machine's collectors here and publish each run to NATS JetStream for the hubs (config: node.nats); what cannot be sent waits in a spool on disk. --once for cron.",
  },
  args: {
    ...storeArgs,
    once: { type: "boolean", description: "one cycle, then exit (non-zero when something could not be sent)" },
    json: { type: "boolean", description: "print each cycle's report as a JSON line" },
  },
  run: ({ args }) =>
    guard(async () => {
      const config = await loadConfig(configArgs(args));
      const stop = new AbortController();
      process.on("SIGINT", () => stop.abort());
      process.on("SIGTERM", () => stop.abort());
      let unsent = 0;
      await runNode({
        config,
        once: args.once,
        signal: stop.signal,
        vcVersion: pkg.version,
        alwaysOn: [sysprobe()],
        onCycle: (r) => {
          unsent = r.spooled + r.runs.filter((x) => x.sent === "failed").length;
          if (args.json) printJson(r);
          else process.stderr.write(`${new Date().toISOString()} ${oneLine(nodeLine(r))}\n`);
          for (const x of r.runs.filter((y) => y.error)) process.stderr.write(`  ${x.collector}: ${oneLine(x.error!)}\n`);
        },
        onError: (err) => process.stderr.write(`${new Date().toISOString()} ${oneLine(err instanceof Error ? err.message : String(err))}\n`),
      });
      return args.once && unsent > 0 ? 1 : 0;
    }),
});
