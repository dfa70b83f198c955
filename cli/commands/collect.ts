import { defineCommand } from "citty";
import type { RunRecord } from "../../lib/index.ts";
import { dim, formatArgs, green, guard, openApiFromArgs, outputFormat, printJson, printRows, red, snakeKeys, storeArgs, yellow } from "../_common.ts";
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
    ...formatArgs(["table", "json", "jsonl", "csv"]),
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      const tty = process.stderr.isTTY;
      const report = await vc.collect({
        machine: args.machine,
        collector: args.collector,
        force: true,
        onRun: (r) => tty && process.stderr.write(`${dim(`  ${r.machine}/${r.collector}: ${r.result}`)}\n`),
      });
      const runs = report.machines.flatMap((m) => m.runs);
      const format = outputFormat(args);
      const columns = ["machine", "collector", "result", "rows", "ms", "note"];
      const rows = runs.map((r) => ({
        machine: r.machine,
        collector: r.collector,
        result: r.result,
        rows: r.rows,
        ms: Math.round(r.durationMs),
        note: r.error ?? r.reason ?? r.warnings.join("; "),
      }));
      // Machine-readable output is snake_case: the report's durationMs, rowsByTable… are renamed.
      if (format === "json") printJson(snakeKeys(report));
      else if (format === "jsonl")
        printRows(
          format,
          [],
          runs.map((r) => snakeKeys(r) as Record<string, unknown>),
        );
      else if (!printRows(format, columns, rows)) {
        const mark = (result: RunRecord["result"]) => (result === "ok" ? green("ok") : result === "failed" ? red("failed") : yellow("skipped"));
        process.stdout.write(
          `${renderTable(
            columns,
            rows.map((row) => ({ ...row, result: mark(row.result) })),
            80,
          )}\n`,
        );
        process.stdout.write(`${dim("remote" in vc ? `run by vc up (${vc.socketPath})` : `store: ${vc.store.path}`)}\n`);
      }
      return runs.some((r) => r.result === "failed") ? 1 : 0;
    }),
});
