import { defineCommand } from "citty";
import { formatArgs, guard, openApiFromArgs, outputFormat, printRows, storeArgs } from "../_common.ts";
import { renderTable } from "../_format.ts";

export default defineCommand({
  meta: {
    name: "query",
    description: "Run one read-only SQL statement (SELECT or EXPLAIN) on the store. Writes, files, extensions and several statements are refused.",
  },
  args: {
    ...storeArgs,
    sql: { type: "positional", description: "the SQL, quoted", required: true },
    ...formatArgs(["table", "json", "csv", "jsonl"]),
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: true });
      const result = await vc.query(args.sql);
      if (!printRows(outputFormat(args), result.columns, result.rows))
        process.stdout.write(
          `${renderTable(result.columns, result.rows)}\n(${result.rows.length} row${result.rows.length === 1 ? "" : "s"}${result.truncated ? ", truncated" : ""})\n`,
        );
    }),
});
