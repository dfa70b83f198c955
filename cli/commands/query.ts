import { defineCommand } from "citty";
import { guard, openApiFromArgs, printJson, storeArgs } from "../_common.ts";
import { renderCsv, renderTable } from "../_format.ts";

export default defineCommand({
  meta: {
    name: "query",
    description: "Run one read-only SQL statement (SELECT or EXPLAIN) on the store. Writes, files, extensions and several statements are refused.",
  },
  args: {
    ...storeArgs,
    sql: { type: "positional", description: "the SQL, quoted", required: true },
    format: { type: "enum", options: ["table", "json", "csv"], default: "table", description: "output format" },
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: true });
      const result = await vc.query(args.sql);
      if (args.format === "json") printJson(result.rows);
      else if (args.format === "csv") process.stdout.write(`${renderCsv(result.columns, result.rows)}\n`);
      else process.stdout.write(`${renderTable(result.columns, result.rows)}\n(${result.rows.length} row${result.rows.length === 1 ? "" : "s"}${result.truncated ? ", truncated" : ""})\n`);
    }),
});
