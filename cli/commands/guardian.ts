import { userInfo } from "node:os";
import { defineCommand } from "citty";
import type { CheckReport, GuardianData, GuardianRun, PlannedStep } from "../../lib/index.ts";
import { bold, dim, green, guard, openApiFromArgs, printJson, red, storeArgs, yellow } from "../_common.ts";
import { oneLine, renderTable, stripControl } from "../_format.ts";

const me = () => process.env.USER ?? userInfo().username;
const id = { type: "positional", description: "run id or a unique prefix (vc guardian runs shows them)", required: true } as const;
const time = (t: string | null) => (t ? t.slice(0, 16).replace("T", " ") : "");
const paint = (status: string) =>
  status === "verified" ? green(status) : ["failed", "escalated", "blocked", "rolled_back"].includes(status) ? red(status) : status === "pending" ? yellow(status) : status;

async function guardianView(args: { config?: string; db?: string }, o: Record<string, unknown> = {}): Promise<GuardianData> {
  await using vc = await openApiFromArgs(args, { readOnly: true });
  return (await vc.view("guardian", o)).data as GuardianData;
}

function runRows(runs: readonly GuardianRun[]) {
  return runs.map((r) => ({
    id: r.run_id,
    status: paint(r.status),
    protocol: r.protocol,
    machine: r.machine_id,
    made: time(r.created_at),
    target: oneLine(r.title),
    why: oneLine(r.reason ?? (r.status === "pending" ? `expires ${time(r.expires_at)}` : "")),
  }));
}

/** A plan as a person reads it: each step, the argv and what the gate says. */
export function planLines(plan: readonly PlannedStep[]): string[] {
  return plan.map((s) => {
    const head = `${String(s.seq).padStart(2)}. ${s.phase.padEnd(9)} ${s.step}`;
    if (s.kind === "command")
      return `${head}: ${bold(`[${s.machine}] ${stripControl(s.command ?? "")}`)}${s.writes ? dim(" (writes)") : ""} ${s.gate?.ok ? green(`✓ ${s.gate.detail}`) : yellow(`✗ ${s.gate?.detail ?? ""}`)}`;
    if (s.kind === "suggest") return `${head}: ${dim("advice:")} ${oneLine(s.advice ?? "")}`;
    if (s.kind === "wait") return `${head}: wait ${s.seconds} s`;
    return `${head}: ${dim(`read ${oneLine(JSON.stringify(s.facts ?? {})).slice(0, 160)}`)}`;
  });
}

function printRun(r: GuardianRun): void {
  const out = process.stdout;
  out.write(`${bold(r.run_id)}  ${paint(r.status)}  ${r.protocol} on ${r.machine_id} (mode ${r.mode})\n${oneLine(r.title)}\n`);
  out.write(
    `made ${time(r.created_at)}${r.decided_by ? `; decided by ${oneLine(r.decided_by)} at ${time(r.decided_at)}` : ""}${r.finished_at ? `; ended ${time(r.finished_at)}` : ""}\n`,
  );
  if (r.reason) out.write(`${oneLine(r.reason)}\n`);
  if (r.incident_id) out.write(`incident ${r.incident_id}\n`);
  out.write(`\n${bold("plan")}\n${planLines(r.plan).join("\n")}\n`);
  if (r.steps.length) {
    out.write(`\n${bold("what happened")}\n`);
    for (const s of r.steps) {
      const cmd = s.argv ? ` [${s.machine_id}] ${oneLine(s.argv.join(" "))}` : "";
      const exit = s.exit_code !== null ? ` exit ${s.exit_code}` : "";
      out.write(
        `${String(s.seq).padStart(2)}. ${s.phase.padEnd(9)} ${s.step}${cmd}: ${paint(s.status)}${exit}${s.duration_ms !== null ? dim(` ${Math.round(s.duration_ms)} ms`) : ""}\n`,
      );
      if (s.detail) out.write(`    ${dim(oneLine(s.detail))}\n`);
      if (s.output_excerpt)
        out.write(
          `${stripControl(s.output_excerpt)
            .split("\n")
            .slice(0, 8)
            .map((l) => `    │ ${l}`)
            .join("\n")}\n`,
        );
    }
  }
  if (r.verification.length) {
    out.write(`\n${bold("verification")}\n`);
    for (const c of r.verification) out.write(`${time(c.at)} ${c.ok ? green("ok") : red("not yet")} ${oneLine(c.detail)}\n`);
  }
}

const status = defineCommand({
  meta: { name: "status", description: "The autopilot's mode and caps, its protocols and their triggers, runs waiting for approval, the latest runs" },
  args: { ...storeArgs, json: { type: "boolean", description: "print JSON" } },
  run: ({ args }) =>
    guard(async () => {
      const d = await guardianView(args, { limit: 10 });
      if (args.json) return printJson(d);
      const out = process.stdout;
      const allowed = d.machines.filter((m) => m.allow_autopilot).map((m) => `${m.id}${m.allow_write_commands ? " (writes)" : ""}`);
      out.write(`${bold("autopilot")} ${d.mode} · allowlist ${d.allowlist.length ? d.allowlist.map((a) => `"${a}"`).join(", ") : dim("(empty)")}\n`);
      out.write(`machines it may act on: ${allowed.join(", ") || dim("none (allow_autopilot is false everywhere)")}\n`);
      out.write(
        dim(
          `caps: ${d.caps.max_actions_per_hour} commands per machine per hour · ${d.caps.cooldown_minutes} min cool-down after a failure · approvals expire after ${d.caps.approval_minutes} min\n`,
        ),
      );
      out.write(`\n${bold("protocols")}\n`);
      out.write(
        `${renderTable(
          ["protocol", "plugin", "trigger", "last"],
          d.protocols.map((p) => ({ protocol: p.name, plugin: p.plugin, trigger: p.trigger, last: p.last_run ? `${p.last_run.status} ${time(p.last_run.at)}` : "—" })),
          70,
        )}\n`,
      );
      out.write(`\n${bold("pending approval")}\n`);
      if (d.pending.length === 0) out.write(dim("none\n"));
      for (const r of d.pending) out.write(`${r.run_id}  ${r.protocol} on ${oneLine(r.title)} · expires ${time(r.expires_at)} · vc guardian approve ${r.run_id}\n`);
      out.write(`\n${bold("recent runs")}\n`);
      if (d.runs.length === 0) out.write(dim("none\n"));
      else out.write(`${renderTable(["id", "status", "protocol", "machine", "made", "target", "why"], runRows(d.runs), 60)}\n`);
    }),
});

const pending = defineCommand({
  meta: { name: "pending", description: "Runs waiting for a person's approval (autopilot mode execute-with-approval), each with its exact commands" },
  args: { ...storeArgs, json: { type: "boolean", description: "print JSON" } },
  run: ({ args }) =>
    guard(async () => {
      const d = await guardianView(args);
      if (args.json) return printJson(d.pending);
      if (d.pending.length === 0) return void process.stdout.write(dim(`no run waits for approval (mode ${d.mode})\n`));
      for (const r of d.pending) {
        process.stdout.write(`${bold(r.run_id)}  ${r.protocol} on ${oneLine(r.title)} · made ${time(r.created_at)} · expires ${time(r.expires_at)}\n`);
        process.stdout.write(`${planLines(r.plan).join("\n")}\n${dim(`vc guardian approve ${r.run_id}  ·  vc guardian deny ${r.run_id}`)}\n\n`);
      }
    }),
});

const runs = defineCommand({
  meta: { name: "runs", description: "Recent guardian runs, newest first" },
  args: {
    ...storeArgs,
    status: { type: "string", description: "only these statuses (comma-separated: verified,failed,escalated …)", valueHint: "STATUS,…" },
    machine: { type: "string", description: "only runs on this machine", valueHint: "ID" },
    limit: { type: "string", description: "at most this many (default 20)", valueHint: "N" },
    json: { type: "boolean", description: "print JSON" },
  },
  run: ({ args }) =>
    guard(async () => {
      const d = await guardianView(args, { status: args.status, machine: args.machine, ...(args.limit !== undefined ? { limit: args.limit } : {}) });
      if (args.json) return printJson(d.runs);
      if (d.runs.length === 0) return void process.stdout.write(dim("no runs\n"));
      process.stdout.write(`${renderTable(["id", "status", "protocol", "machine", "made", "target", "why"], runRows(d.runs), 60)}\n`);
    }),
});

const show = defineCommand({
  meta: { name: "show", description: "One run in full: its plan, every step's command, machine, exit code, output and timing, its verification" },
  args: { ...storeArgs, id, json: { type: "boolean", description: "print JSON" } },
  run: ({ args }) =>
    guard(async () => {
      const d = await guardianView(args, { id: args.id });
      if (args.json) return printJson(d.runs[0]);
      printRun(d.runs[0]!);
    }),
});

const by = { type: "string", description: "who decides (default: $USER)", valueHint: "NAME" } as const;

const approve = defineCommand({
  meta: { name: "approve", description: "Approve a pending run: exactly its planned commands run now, then its verification (through the daemon when one runs)" },
  args: { ...storeArgs, id, by, json: { type: "boolean", description: "print JSON" } },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      process.stderr.write(dim(`approving ${args.id}: its commands run now, then its verification (this may take a while)…\n`));
      const r = await vc.approveRun(args.id, { by: args.by ?? me() });
      if (args.json) return printJson(r);
      printRun(r);
      return r.status === "verified" ? 0 : 1;
    }),
});

const deny = defineCommand({
  meta: { name: "deny", description: "Deny a pending run: nothing of it runs (through the daemon when one runs)" },
  args: {
    ...storeArgs,
    id,
    by,
    reason: { type: "string", description: "why (kept in the run and the audit log)", valueHint: "TEXT" },
    json: { type: "boolean", description: "print JSON" },
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      const r = await vc.denyRun(args.id, { by: args.by ?? me(), reason: args.reason });
      if (args.json) return printJson(r);
      process.stdout.write(`denied ${r.run_id} (${r.protocol} on ${oneLine(r.title)}) as ${oneLine(r.decided_by ?? "")}\n`);
    }),
});

const check = defineCommand({
  meta: {
    name: "check",
    description:
      "Run every protocol's trigger now and act as the autopilot's mode says (suggest, wait for approval, or run allowlisted commands); --dry-run shows exactly what would run and what the gate says, changing nothing",
  },
  args: {
    ...storeArgs,
    "dry-run": { type: "boolean", description: "show the plans and the gate's answer for each command; run and write nothing" },
    protocol: { type: "string", description: "only this protocol", valueHint: "NAME" },
    json: { type: "boolean", description: "print JSON" },
  },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: !!args["dry-run"] });
      const r: CheckReport = await vc.guardianCheck({ dryRun: !!args["dry-run"], protocol: args.protocol });
      if (args.json) return printJson(r);
      const out = process.stdout;
      out.write(`${bold("guardian")} mode ${r.mode}${r.dry_run ? yellow(" · dry run: nothing runs, nothing is written") : ""}\n`);
      for (const e of r.errors) out.write(`${red("trigger failed:")} ${e.protocol}: ${oneLine(e.error)}\n`);
      if (r.items.length === 0) return void out.write(dim("no protocol's trigger holds now\n"));
      for (const i of r.items) {
        out.write(
          `\n${bold(i.protocol)} on ${oneLine(i.title)} → ${i.action}${i.status && i.action === "ran" ? ` ${paint(i.status)}` : ""}${i.run_id ? ` (run ${i.run_id})` : ""}\n${dim(oneLine(i.why))}\n`,
        );
        out.write(`${planLines(i.plan).join("\n")}\n`);
      }
    }),
});

export default defineCommand({
  meta: {
    name: "guardian",
    description:
      "The guardian: healing protocols gated by the autopilot (off, suggest, execute-safe, execute-with-approval), their runs, approvals and audit (vc robot guardian for JSON)",
  },
  subCommands: { status, check, pending, runs, show, approve, deny },
});
