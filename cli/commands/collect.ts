import { defineCommand } from "citty";
import type { RunRecord } from "../../lib/index.ts";
import { dim, green, guard, openFromArgs, printJson, red, storeArgs, yellow } from "../_common.ts";
import { renderTable } from "../_format.ts";

export default defineCommand({
  meta: {
    name: "collect",
    description: "Run one poll cycle now: every collector on every machine (or the ones named). Exits 1 if any run failed.",
  },
  args: {
    ...storeArgs,
    once: { type: "boolean", description: "one cycle, then exit (the only mode; `vc up` polls)", default: true },
    machine: { type: "string", description: "only this machine", valueHint: "ID" },
    collector: { type: "string", description: "only this collector", valueHint: "NAME" },
    json: { type: "boolean", description: "print the cycle report as JSON" },
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openFromArgs(args);
      const tty = process.stderr.isTTY;
      const report = await vc.collect({
        machine: args.machine,
        collector: args.collector,
        force: true,
        onRun: (r) => tty && process.stderr.write(`${dim(`  ${r.machine}/${r.collector}: ${r.result}`)}\n`),
      });
      const runs = report.machines.flatMap((m) => m.runs);
      if (args.json) printJson(report);
      else {
        const mark = (r: RunRecord) => (r.result === "ok" ? green("ok") : r.result === "failed" ? red("failed") : yellow("skipped"));
        const rows = runs.map((r) => ({
          machine: r.machine,
          collector: r.collector,
          result: mark(r),
          rows: r.rows,
          ms: Math.round(r.durationMs),
          note: r.error ?? r.reason ?? r.warnings.join("; "),
        }));
        process.stdout.write(`${renderTable(["machine", "collector", "result", "rows", "ms", "note"], rows, 80)}\n`);
        process.stdout.write(`${dim(`store: ${vc.store.path}`)}\n`);
      }
      return runs.some((r) => r.result === "failed") ? 1 : 0;
    }),
});
