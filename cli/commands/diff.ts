import { defineCommand } from "citty";
import type { DiffData } from "../../lib/index.ts";
import { bold, dim, formatArgs, guard, openApiFromArgs, outputFormat, printRows, storeArgs } from "../_common.ts";
import { renderTable } from "../_format.ts";

/** `vc diff --from T1 [--to T2] [--machine ID]`: what changed, as a table per section (the view is `vc robot diff`). */
export default defineCommand({
  meta: {
    name: "diff",
    description:
      "What changed between two moments: alerts opened and closed, health factors that moved, machines that appeared or went quiet, repos, accounts, new dcg rules, new agents (JSON and TOON: vc robot diff)",
  },
  args: {
    ...storeArgs,
    from: { type: "string", description: "the earlier moment, ISO 8601 (like 2026-01-25T03:00:00Z)", required: true },
    to: { type: "string", description: "the later moment (default: now)" },
    machine: { type: "string", description: "only this machine" },
    ...formatArgs(["table", "json", "csv", "jsonl"]),
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: true });
      const r = await vc.view("diff", { from: args.from, to: args.to, machine: args.machine });
      const data = r.data as DiffData;
      const format = outputFormat(args);
      const rows = data.sections.flatMap((s) => s.entries.map((e) => ({ section: s.name, change: e.change, machine: e.machine_id, subject: e.subject, at: e.at, what: e.text })));
      if (printRows(format, ["section", "change", "machine", "subject", "at", "what"], rows)) return;
      process.stdout.write(`${bold(`changes from ${data.from} to ${data.to}`)}${data.machine ? ` on ${data.machine}` : ""}\n`);
      for (const s of data.sections) {
        if (s.entries.length === 0) continue;
        process.stdout.write(`\n${bold(`${s.title} (${s.entries.length})`)}\n`);
        process.stdout.write(
          `${renderTable(
            ["change", "machine", "what"],
            s.entries.map((e) => ({ change: e.change, machine: e.machine_id ?? "", what: e.text })),
            90,
          )}\n`,
        );
      }
      if (rows.length === 0) process.stdout.write(dim("nothing changed\n"));
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    }),
});
