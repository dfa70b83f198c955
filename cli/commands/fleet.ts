import { userInfo } from "node:os";
import { defineCommand } from "citty";
import { VcError } from "../../lib/index.ts";
import { AGENT_FLAGS, parseCount, runFleet, type AgentFlag, type FleetRequest, type FleetResult } from "../../plugins/ntm/fleet.ts";
import { dim, green, guard, openApiFromArgs, printJson, red, storeArgs, yellow } from "../_common.ts";
import { oneLine, renderTable } from "../_format.ts";

const me = () => process.env.USER ?? userInfo().username;

const session = { type: "positional", description: "the ntm session (ntm list shows them)", required: true } as const;
const machine = { type: "string", description: "the machine it runs on (vc machines list); it must allow write commands", valueHint: "MACHINE", required: true } as const;
const common = {
  ...storeArgs,
  by: { type: "string", description: "who runs it, for the audit log (default: $USER)" },
  "dry-run": { type: "boolean", description: "print the exact ntm command per machine and run nothing (nothing audited)" },
  json: { type: "boolean", description: "print one JSON object: per machine, each command and its result" },
} as const;

type Common = { config?: string; db?: string; by?: string; "dry-run"?: boolean; json?: boolean };

const paint = (status: string) =>
  status === "ok" ? green(status) : status === "planned" || status === "skipped" ? dim(status) : status === "refused" ? yellow(status) : red(status);

/** Prints the result (JSON or a table), says each refusal and failure on stderr; exit 1 unless every command did its part. */
function report(r: FleetResult, json: boolean | undefined): number {
  if (json) printJson(r);
  else {
    const rows = r.machines.flatMap((m) =>
      m.steps.map((s) => ({ machine: m.machine, session: s.session ?? "—", command: s.command, result: paint(s.status), detail: oneLine(s.error ?? s.summary ?? "") })),
    );
    process.stdout.write(`${renderTable(["machine", "session", "command", "result", "detail"], rows, 60)}\n`);
    for (const m of r.machines) for (const w of m.warnings) process.stdout.write(dim(`${m.machine}: ${oneLine(w)}\n`));
    if (r.dry_run) process.stdout.write(dim("dry run: nothing ran\n"));
  }
  for (const m of r.machines)
    for (const s of m.steps)
      if (s.status === "refused" || s.status === "failed")
        process.stderr.write(`${red(`vc fleet ${r.op}:`)} ${m.machine}${s.session ? ` ${s.session}` : ""}: ${s.status}: ${oneLine(s.error ?? "")}\n`);
  return r.ok ? 0 : 1;
}

/** Runs the request on `--machine`, or on every machine of the config (`everywhere`: emergency-stop --all). */
async function run(args: Common, req: FleetRequest, where: { machine?: string; everywhere?: boolean }): Promise<number> {
  if (where.everywhere && where.machine) throw new VcError("usage", "--machine and --all: name one machine or take them all, not both");
  if (!where.everywhere && !where.machine) throw new VcError("usage", "missing --machine MACHINE (or --all)");
  await using vc = await openApiFromArgs(args);
  const machines = where.everywhere ? (await vc.machines()).map((m) => m.id) : [where.machine!];
  if (machines.length === 0) throw new VcError("invalid_input", "--all: the config has no machines");
  return report(await runFleet(vc, req, { machines, by: args.by ?? me(), dryRun: Boolean(args["dry-run"]) }), args.json);
}

const spawn = defineCommand({
  meta: { name: "spawn", description: "Create an ntm session with agents: ntm spawn SESSION --cc=N … --safety (it never adds panes to a session that already runs)" },
  args: {
    session,
    machine,
    cc: { type: "string", description: "Claude Code agents", valueHint: "N" },
    cod: { type: "string", description: "Codex agents", valueHint: "N" },
    gmi: { type: "string", description: "Gemini CLI agents", valueHint: "N" },
    agy: { type: "string", description: "Antigravity agents", valueHint: "N" },
    prompt: { type: "string", description: "a one-line prompt the agents start with", valueHint: "TEXT" },
    ...common,
  },
  run: ({ args }) =>
    guard(() => {
      const counts: Partial<Record<AgentFlag, number>> = {};
      for (const f of AGENT_FLAGS) if (args[f] !== undefined) counts[f] = parseCount(f, args[f]!);
      return run(args, { op: "spawn", session: args.session, counts, ...(args.prompt !== undefined ? { prompt: args.prompt } : {}) }, args);
    }),
});

const send = defineCommand({
  meta: { name: "send", description: "Send a one-line prompt to a session's agents: ntm send SESSION [--pane=P | --cc … | --all] -- PROMPT" },
  args: {
    session,
    prompt: { type: "positional", description: "the prompt (quote it)", required: true },
    machine,
    pane: { type: "string", description: "only this pane (N, W.P or %N)", valueHint: "PANE" },
    type: { type: "string", description: "only these agent types, comma-separated: cc, cod, gmi, agy (default: every agent pane)", valueHint: "TYPES" },
    all: { type: "boolean", description: "every agent pane, overriding type filters (ntm --all)" },
    ...common,
  },
  run: ({ args }) =>
    guard(() => {
      const types = (args.type ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      for (const t of types)
        if (!(AGENT_FLAGS as readonly string[]).includes(t)) throw new VcError("invalid_argument", `--type: expected ${AGENT_FLAGS.join(", ")} (comma-separated), got "${t}"`);
      const req: FleetRequest = {
        op: "send",
        session: args.session,
        prompt: args.prompt,
        types: types as AgentFlag[],
        ...(args.pane !== undefined ? { pane: args.pane } : {}),
        all: Boolean(args.all),
      };
      return run(args, req, { machine: args.machine });
    }),
});

const interrupt = defineCommand({
  meta: { name: "interrupt", description: "Ctrl+C to every agent pane of a session (user panes untouched): ntm interrupt SESSION" },
  args: { session, machine, ...common },
  run: ({ args }) => guard(() => run(args, { op: "interrupt", session: args.session }, args)),
});

const stop = defineCommand({
  meta: { name: "stop", description: "Kill a session and its agents, or only some panes with --pane: ntm kill SESSION --force" },
  args: { session, machine, pane: { type: "string", description: "only these panes (N, W.P or %N, comma-separated); the session survives", valueHint: "PANES" }, ...common },
  run: ({ args }) => guard(() => run(args, { op: "stop", session: args.session, ...(args.pane !== undefined ? { pane: args.pane } : {}) }, args)),
});

const rebalance = defineCommand({
  meta: { name: "rebalance", description: "Move assigned work from overloaded to idle agents of a session: ntm rebalance SESSION --apply (ntm's own suggestions)" },
  args: {
    session,
    machine,
    filter: { type: "string", description: "only agents of this type (cc, cod, gmi, agy, cursor, ws, aider, ollama or the long names)", valueHint: "TYPE" },
    threshold: { type: "string", description: "only when ntm's imbalance score exceeds this (0 = balanced, 1+ = severe)", valueHint: "SCORE" },
    ...common,
  },
  run: ({ args }) =>
    guard(() => {
      const threshold = args.threshold === undefined ? undefined : /^\s*\d+(\.\d+)?\s*$/.test(args.threshold) ? Number(args.threshold) : Number.NaN;
      if (threshold !== undefined && Number.isNaN(threshold)) throw new VcError("invalid_argument", `--threshold: expected a number ≥ 0, got "${args.threshold}"`);
      return run(
        args,
        { op: "rebalance", session: args.session, ...(args.filter !== undefined ? { filter: args.filter } : {}), ...(threshold !== undefined ? { threshold } : {}) },
        args,
      );
    }),
});

const migrate = defineCommand({
  meta: { name: "migrate", description: "Move a session to another machine: ntm has no such operation, so this exits with not_implemented and says what ntm would need" },
  args: { session, machine, to: { type: "string", description: "the machine it would move to", valueHint: "MACHINE", required: true }, ...common },
  run: ({ args }) => guard(() => run(args, { op: "migrate", session: args.session, to: args.to }, args)),
});

const emergencyStop = defineCommand({
  meta: {
    name: "emergency-stop",
    description:
      "Stop every agent on a machine (--machine) or all of them (--all): ntm list, then ntm interrupt (or with --kill ntm kill --force) for each session with agents, reported per session",
  },
  args: {
    machine: { type: "string", description: "the machine (vc machines list)", valueHint: "MACHINE" },
    all: { type: "boolean", description: "every machine in the config" },
    kill: { type: "boolean", description: "kill the sessions (ntm kill --force) instead of interrupting their agents" },
    ...common,
  },
  run: ({ args }) => guard(() => run(args, { op: "emergency-stop", kill: Boolean(args.kill) }, { machine: args.machine, everywhere: Boolean(args.all) })),
});

export default defineCommand({
  meta: {
    name: "fleet",
    description:
      "Act on agents through ntm: spawn, send, interrupt, stop, rebalance, migrate, emergency-stop. Each runs the real ntm command on the machine (which must allow write commands), through vc up when it runs, and is written to the audit log; --dry-run prints the commands and runs nothing",
  },
  subCommands: { spawn, send, interrupt, stop, rebalance, migrate, "emergency-stop": emergencyStop },
});
