import { userInfo } from "node:os";
import { defineCommand } from "citty";
import { VcError } from "../../lib/index.ts";
import { bold, dim, durationArg, formatArgs, guard, openApiFromArgs, outputFormat, printJson, printRows, red, storeArgs, yellow } from "../_common.ts";
import { renderTable, stripControl } from "../_format.ts";

const json = { type: "boolean", description: "print JSON" } as const;
const me = () => process.env.USER ?? userInfo().username;

const list = defineCommand({
  meta: { name: "list", description: "Active alerts (pending and firing), most severe first; --all adds resolved ones" },
  args: { ...storeArgs, all: { type: "boolean", description: "include resolved alerts" }, ...formatArgs(["table", "json", "csv", "jsonl"]) },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: true });
      const alerts = await vc.alerts({ all: Boolean(args.all) });
      const format = outputFormat(args);
      if (format === "json" || format === "jsonl") return void printRows(format, [], alerts as unknown as Record<string, unknown>[]);
      const rows = alerts.map((a) => ({
        id: a.alert_id,
        severity: a.severity,
        state: `${a.state}${a.flapping ? " (flapping)" : ""}${a.acked ? " (acked)" : ""}${a.silenced_by ? " (silenced)" : ""}`,
        machine: a.machine_id,
        since: a.fired_at ?? a.first_seen_at,
        message: a.message,
      }));
      const columns = ["id", "severity", "state", "machine", "since", "message"];
      if (printRows(format, columns, rows)) return;
      if (alerts.length === 0) return void process.stdout.write(dim("no active alerts\n"));
      process.stdout.write(`${renderTable(columns, rows, 70)}\n`);
    }),
});

const ack = defineCommand({
  meta: { name: "ack", description: "Acknowledge an alert (id or unique prefix): it stays firing but is not re-notified until it resolves" },
  args: {
    ...storeArgs,
    id: { type: "positional", description: "alert id or a unique prefix", required: true },
    note: { type: "string", description: "why, or who is on it" },
    by: { type: "string", description: "who acknowledges (default: $USER)" },
    json,
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      const a = await vc.ack(args.id, { by: args.by ?? me(), note: args.note });
      if (args.json) return printJson(a);
      process.stdout.write(`acked ${a.alert_id} (${a.rule} on ${a.machine_id ?? "fleet"}) as ${a.acked!.by}\n`);
    }),
});

/** "k=v,k2=v2" → { k: v, k2: v2 }. */
function matchers(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const i = part.indexOf("=");
    if (i <= 0) throw new VcError("invalid_argument", `--match: expected label=value[,label=value], got "${part}"`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

const silence = defineCommand({
  meta: { name: "silence", description: "Silence alerts matching labels for a while (--for 2h) or until they resolve; they keep their state but are not notified" },
  args: {
    ...storeArgs,
    rule: { type: "string", description: "the rule id (e.g. disk_low)" },
    machine: { type: "string", description: "the machine id" },
    match: { type: "string", description: "more label matchers: label=value[,label=value]; * is a wildcard", valueHint: "LABELS" },
    for: { type: "string", description: "how long: 30m, 2h, 1d", valueHint: "DURATION" },
    "until-resolved": { type: "boolean", description: "until the matched alerts resolve" },
    comment: { type: "string", description: "why" },
    by: { type: "string", description: "who silences (default: $USER)" },
    json,
  },
  run: ({ args }) =>
    guard(async () => {
      const m = { ...matchers(args.match), ...(args.rule ? { rule: args.rule } : {}), ...(args.machine ? { machine_id: args.machine } : {}) };
      const forMs = durationArg("for", args.for);
      await using vc = await openApiFromArgs(args);
      const endsAt = forMs !== undefined ? new Date(vc.clock.now().getTime() + forMs) : undefined;
      const r = await vc.silence({ matchers: m, endsAt, untilResolved: Boolean(args["until-resolved"]), comment: args.comment, by: args.by ?? me() });
      if (args.json) return printJson(r);
      process.stdout.write(
        `${r.silence_id}: ${Object.entries(m)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")} until ${endsAt?.toISOString() ?? "resolved"}; matches ${r.matches} active alert(s)\n`,
      );
    }),
});

const explain = defineCommand({
  meta: { name: "explain", description: "Why an alert fired: its rule, query, thresholds, the values it fired with, its history" },
  args: { ...storeArgs, id: { type: "positional", description: "alert id or a unique prefix", required: true }, json },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: true });
      const x = await vc.explain(args.id);
      if (args.json) return printJson(x);
      const a = x.alert;
      const out = process.stdout;
      out.write(`${bold(a.alert_id)}  ${a.severity === "critical" ? red(a.severity) : yellow(a.severity)}  ${a.state}${a.flapping ? " (flapping)" : ""}\n`);
      out.write(`${stripControl(a.message ?? "")}\n\n`);
      if (x.rule) {
        out.write(`rule        ${x.rule.id}: ${x.rule.title}\n`);
        out.write(`source      ${x.rule.source.name}: ${x.rule.source.description}\n`);
        out.write(`fires when  ${x.rule.when}${x.rule.for !== "0s" ? ` for ${x.rule.for}` : ""}\n`);
        if (x.rule.resolve_when) out.write(`resolves    when ${x.rule.resolve_when}\n`);
        if (x.rule.keep_firing_for) out.write(`keeps firing ${x.rule.keep_firing_for} after the condition clears\n`);
        out.write(
          `thresholds  ${
            Object.entries(x.rule.thresholds)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ") || "(none)"
          }\n`,
        );
        out.write(`query       ${x.rule.query?.sql}\n            params ${JSON.stringify(x.rule.query?.params)}\n`);
      } else out.write(dim("(its rule is no longer configured)\n"));
      out.write(
        `\nexpected    ${x.values.expected}\nreceived    ${stripControl(x.values.received ?? "")}\nevidence    ${stripControl(JSON.stringify(x.values.evidence))}\n\nhistory:\n`,
      );
      out.write(`${renderTable(["ts", "event", "from_state", "to_state", "notified", "suppressed_by"], x.history as Record<string, unknown>[])}\n`);
      if (a.actions.length) out.write(`\nsuggested:\n${a.actions.map((s) => stripControl(`  ${s.title}${s.command ? `: ${s.command}` : ""}`)).join("\n")}\n`);
    }),
});

export default defineCommand({
  meta: { name: "alerts", description: "Alerts: list, ack, silence, explain" },
  subCommands: { list, ack, silence, explain },
});
