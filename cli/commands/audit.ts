import { defineCommand } from "citty";
import type { AuditData } from "../../lib/index.ts";
import { dim, formatArgs, guard, openApiFromArgs, outputFormat, printRows, storeArgs } from "../_common.ts";
import { oneLine, renderTable } from "../_format.ts";

export default defineCommand({
  meta: {
    name: "audit",
    description:
      "The audit log (plan §9.4): who did what, where, with what result — acks, silences, approvals, guardian steps, fleet commands, trusted host keys; newest first (vc robot audit for the envelope)",
  },
  args: {
    ...storeArgs,
    since: { type: "string", description: "events at or after this time: ISO 8601, or a span ago (30m, 6h, 7d)", valueHint: "TIME" },
    machine: { type: "string", description: "events on this machine", valueHint: "ID" },
    type: { type: "string", description: "these event types only, comma-separated (user_command, autopilot_action, guardian_run …)", valueHint: "TYPE,…" },
    actor: { type: "string", description: "events by this actor", valueHint: "NAME" },
    all: { type: "boolean", description: "include collector runs (one per collector per cycle)" },
    limit: { type: "string", description: "at most this many (default 100)", valueHint: "N" },
    ...formatArgs(["table", "json", "csv", "jsonl"]),
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: true });
      const r = await vc.view("audit", {
        since: args.since,
        machine: args.machine,
        type: args.type,
        actor: args.actor,
        all: args.all,
        ...(args.limit !== undefined ? { limit: args.limit } : {}),
      });
      const events = (r.data as AuditData).events;
      const format = outputFormat(args);
      if (format === "json" || format === "jsonl") return void printRows(format, [], events as unknown as Record<string, unknown>[]);
      const rows = events.map((e) => ({
        when: e.ts.slice(0, 19),
        type: e.event_type,
        actor: oneLine(e.actor),
        machine: e.machine_id ?? "",
        action: oneLine(e.action ?? ""),
        result: `${e.result ?? ""}${e.error ? `: ${oneLine(e.error)}` : ""}`,
      }));
      const columns = ["when", "type", "actor", "machine", "action", "result"];
      if (printRows(format, columns, rows)) return;
      if (rows.length === 0) return void process.stdout.write(dim("no audited events\n"));
      process.stdout.write(`${renderTable(columns, rows, 60)}\n`);
    }),
});
