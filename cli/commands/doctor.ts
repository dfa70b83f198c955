import { defineCommand } from "citty";
import { green, guard, openApiFromArgs, printJson, red, storeArgs, yellow } from "../_common.ts";
import { oneLine, renderTable } from "../_format.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Check the config, the store, each machine's tools and each collector's last run. Exits 1 if a check fails." },
  args: { ...storeArgs, json: { type: "boolean", description: "print the report as JSON" } },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      const report = await vc.doctor();
      if (args.json) {
        printJson(report);
        return report.ok ? 0 : 1;
      }
      const out = process.stdout;
      // A detail may quote a machine's answer or error: one line, escapes stripped.
      for (const c of report.checks) out.write(`${!c.ok ? red("✗") : c.warning ? yellow("!") : green("✓")} ${c.check}: ${oneLine(c.detail)}\n`);
      for (const m of report.machines) {
        const tools = Object.entries(m.tools);
        if (tools.length === 0) continue;
        out.write(`\ntools on ${m.id}:\n`);
        out.write(
          `${renderTable(
            ["tool", "found", "version"],
            tools.map(([tool, t]) => ({ tool, found: t.available ? "yes" : "no", version: t.version })),
          )}\n`,
        );
      }
      out.write(`\ncollectors:\n${renderTable(["machine", "collector", "last_run_at", "last_result", "last_ok_at", "last_error"], report.collectors)}\n`);
      return report.ok ? 0 : 1;
    }),
});
