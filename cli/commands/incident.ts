import { writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { createInterface } from "node:readline";
import { defineCommand } from "citty";
import { postMortem, VcError, writeIncidentClose, writeIncidentNote, type Incident, type IncidentDetail, type IncidentsData, type ReplayStep } from "../../lib/index.ts";
import { bold, dim, formatArgs, guard, openApiFromArgs, outputFormat, printJson, printRows, red, storeArgs, yellow } from "../_common.ts";
import { oneLine, renderTable, stripControl } from "../_format.ts";

const me = () => process.env.USER ?? userInfo().username;
const id = { type: "positional", description: "incident id or a unique prefix (vc incident list shows them)", required: true } as const;
const time = (t: string | null) => (t ? t.slice(0, 16).replace("T", " ") : "");
const paint = (severity: string, s: string) => (severity === "critical" ? red(s) : severity === "high" ? yellow(s) : s);

/** One incident in full, through the daemon when one runs (the `incidents` view with an id). */
async function detail(args: { config?: string; db?: string; id: string }, replay = false): Promise<{ d: IncidentDetail; now: Date }> {
  await using vc = await openApiFromArgs(args, { readOnly: true });
  const r = await vc.view("incidents", { id: args.id, ...(replay ? { replay: true } : {}) });
  for (const w of r.warnings) process.stderr.write(`${yellow("warning:")} ${oneLine(w)}\n`);
  return { d: (r.data as IncidentsData).incidents[0] as IncidentDetail, now: vc.clock.now() };
}

const list = defineCommand({
  meta: { name: "list", description: "Incidents, open ones first, then newest: severity, state, machines and accounts, alerts" },
  args: {
    ...storeArgs,
    state: { type: "enum", options: ["open", "closed", "all"], default: "all", description: "which incidents", valueHint: "STATE" },
    limit: { type: "string", description: "at most this many (default 50)", valueHint: "N" },
    ...formatArgs(["table", "json", "csv", "jsonl"]),
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: true });
      const r = await vc.view("incidents", { state: args.state, ...(args.limit !== undefined ? { limit: args.limit } : {}) });
      const incidents = (r.data as IncidentsData).incidents as Incident[];
      const format = outputFormat(args);
      if (format === "json" || format === "jsonl") return void printRows(format, [], incidents as unknown as Record<string, unknown>[]);
      const rows = incidents.map((i) => ({
        id: i.incident_id,
        severity: i.severity,
        state: `${i.state}${i.state === "open" && i.all_alerts_resolved ? " (all alerts resolved)" : ""}`,
        opened: time(i.opened_at),
        where: [...i.machines, ...i.accounts].join(", "),
        alerts: i.alerts.length,
        title: i.title,
      }));
      const columns = ["id", "severity", "state", "opened", "where", "alerts", "title"];
      if (printRows(format, columns, rows)) return;
      if (incidents.length === 0) return void process.stdout.write(dim(`no ${args.state === "all" ? "" : `${args.state} `}incidents\n`));
      process.stdout.write(`${renderTable(columns, rows, 70)}\n`);
    }),
});

const show = defineCommand({
  meta: { name: "show", description: "One incident in full: its alerts, the root-cause hypothesis, the timeline across every source, notes and actions" },
  args: { ...storeArgs, id, json: { type: "boolean", description: "print JSON" } },
  run: ({ args }) =>
    guard(async () => {
      const { d } = await detail(args);
      if (args.json) return printJson(d);
      const out = process.stdout;
      out.write(`${bold(d.incident_id)}  ${paint(d.severity, d.severity)}  ${d.state}${d.state === "open" && d.all_alerts_resolved ? " (all its alerts resolved)" : ""}\n`);
      out.write(`${stripControl(d.title)}\n`);
      out.write(`opened ${time(d.opened_at)}${d.closed_at ? `, closed ${time(d.closed_at)} by ${oneLine(d.closed_by ?? "")}: ${oneLine(d.resolution ?? "")}` : ""}\n`);
      out.write(`machines ${d.machines.join(", ") || "—"}; accounts ${d.accounts.join(", ") || "—"}; repos ${d.repos.map(oneLine).join(", ") || "—"}\n\n`);
      out.write(
        `${renderTable(
          ["alert", "rule", "machine", "severity", "role", "state"],
          d.alerts.map((a) => ({ alert: a.alert_id, rule: a.rule, machine: a.machine_id, severity: a.severity, role: a.role, state: a.state })),
        )}\n\n`,
      );
      out.write(
        `${bold("root cause")}${d.root_cause_kept ? "" : dim(" (as the timeline stands now)")}: ${oneLine(d.root_cause.hypothesis)}\n${dim(oneLine(d.root_cause.reasoning))}\n\n`,
      );
      out.write(`${bold("timeline")} ${time(d.window.from)} – ${time(d.window.to)} (◀ before the first alert)\n`);
      for (const e of d.timeline)
        out.write(
          `${time(e.at).slice(11)} ${e.lead ? "◀" : e.own ? "●" : " "} ${e.source.padEnd(9)} ${(e.machine_id ?? "").padEnd(10)} ${paint(e.severity, oneLine(e.summary))}\n`,
        );
      if (d.notes.length) out.write(`\n${bold("notes")}\n${d.notes.map((n) => `${time(n.at)} ${oneLine(n.author)}: ${stripControl(n.text)}`).join("\n")}\n`);
    }),
});

const note = defineCommand({
  meta: { name: "note", description: "Add a note to an incident (through the daemon when one runs)" },
  args: {
    ...storeArgs,
    id,
    text: { type: "positional", description: "the note", required: true },
    by: { type: "string", description: "who writes it (default: $USER)" },
    json: { type: "boolean", description: "print JSON" },
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      const n = await writeIncidentNote(vc, args.id, { by: args.by ?? me(), text: args.text });
      if (args.json) return printJson(n);
      process.stdout.write(`noted on ${n.incident_id} as ${oneLine(n.author)}\n`);
    }),
});

const close = defineCommand({
  meta: { name: "close", description: "Close an incident with its resolution; its root-cause hypothesis is kept as it stands (through the daemon when one runs)" },
  args: {
    ...storeArgs,
    id,
    resolution: { type: "string", description: "what fixed it", required: true, valueHint: "TEXT" },
    by: { type: "string", description: "who closes it (default: $USER)" },
    json: { type: "boolean", description: "print JSON" },
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      const i = await writeIncidentClose(vc, args.id, { by: args.by ?? me(), resolution: args.resolution });
      if (args.json) return printJson(i);
      process.stdout.write(`closed ${i.incident_id} (${oneLine(i.title)}) as ${oneLine(i.closed_by ?? "")}\n`);
    }),
});

function printStep(s: ReplayStep, n: number, total: number): void {
  const out = process.stdout;
  out.write(`${bold(`[${n}/${total}] ${time(s.at)}`)}  fleet ${s.fleet.score.toFixed(2)} ${paint(s.fleet.severity, s.fleet.severity)}\n`);
  for (const m of s.machines) {
    const bad = m.factors.filter((f) => f.severity !== "ok").map((f) => `${f.id} ${f.severity}`);
    out.write(
      `  ${m.id.padEnd(12)} ${m.score === null ? "—" : m.score.toFixed(2)} ${paint(m.severity ?? "", m.severity ?? "no data")}${bad.length ? `  (${bad.join(", ")})` : ""}\n`,
    );
  }
  const firing = s.firing.filter((a) => a.in_incident || s.machines.some((m) => m.id === a.machine_id));
  if (firing.length === 0) out.write(dim("  no alert firing\n"));
  for (const a of firing) out.write(`  ${a.in_incident ? "●" : "○"} ${paint(a.severity, a.severity.padEnd(8))} ${a.rule} on ${a.machine_id ?? "fleet"}\n`);
}

const replay = defineCommand({
  meta: {
    name: "replay",
    description:
      "Step through the incident's window cycle by cycle: the fleet's and its machines' health and the alerts firing, as the snapshots kept them (--step: wait for Enter between steps)",
  },
  args: {
    ...storeArgs,
    id,
    step: { type: "boolean", description: "wait for Enter between steps (on a terminal)" },
    json: { type: "boolean", description: "print the steps as JSON" },
  },
  run: ({ args }) =>
    guard(async () => {
      const { d } = await detail(args, true);
      const steps = d.replay ?? [];
      if (args.json) return printJson(steps);
      process.stdout.write(`${bold(d.incident_id)} ${oneLine(d.title)}: ${steps.length} step(s) from ${time(d.window.from)} to ${time(d.window.to)}\n\n`);
      if (steps.length === 0) return void process.stdout.write(dim("no snapshots in its window\n"));
      const wait = args.step && process.stdin.isTTY ? createInterface({ input: process.stdin, output: process.stderr }) : null;
      try {
        for (const [i, s] of steps.entries()) {
          printStep(s, i + 1, steps.length);
          process.stdout.write("\n");
          if (wait && i < steps.length - 1) await new Promise<void>((resolve) => wait.question(dim("Enter: next step "), () => resolve()));
        }
      } finally {
        wait?.close();
      }
    }),
});

const exportCommand = defineCommand({
  meta: { name: "export", description: "The incident's post-mortem: summary, root cause, timeline, evidence, notes, actions taken (to stdout or --out FILE)" },
  args: {
    ...storeArgs,
    id,
    format: { type: "enum", options: ["md", "json"], default: "md", description: "md (Markdown) or json", valueHint: "FORMAT" },
    out: { type: "string", description: "write it to this file instead of stdout", valueHint: "FILE" },
  },
  run: ({ args }) =>
    guard(async () => {
      const { d, now } = await detail(args);
      const text = args.format === "json" ? `${JSON.stringify(d, null, 2)}\n` : postMortem(d, now);
      if (!args.out) return void process.stdout.write(text);
      try {
        writeFileSync(args.out, text);
      } catch (err) {
        throw new VcError("invalid_input", `--out: cannot write ${args.out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      process.stderr.write(`${d.incident_id}: post-mortem written to ${args.out}\n`);
    }),
});

export default defineCommand({
  meta: { name: "incident", description: "Incidents: list, show, note, close, replay, export" },
  subCommands: { list, show, note, close, replay, export: exportCommand },
});
