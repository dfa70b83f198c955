// Fleet commands (plan §6.3) as ntm really takes them (@6cc4f0ba internal/cli): `ntm spawn`,
// `send`, `interrupt`, `kill`, `rebalance --apply` and `list`, each with ntm's global `--json` so
// a failure is data. Every command goes through the cockpit's one door (`act`: the gate, the
// machine's executor, the audit log), locally or through the daemon. An operation ntm does not
// have (moving a session to another machine) is `not_implemented`, never a pretend success.
import { showArgv, VcError, type ActionResult, type CockpitApi } from "vibe-cockpit";

export const FLEET_OPS = ["spawn", "stop", "send", "interrupt", "rebalance", "migrate", "emergency-stop"] as const;
export type FleetOp = (typeof FLEET_OPS)[number];

/** Agent types as `ntm spawn` and `ntm send` spell their flags (--cc=N, --cod …). */
export const AGENT_FLAGS = ["cc", "cod", "gmi", "agy"] as const;
export type AgentFlag = (typeof AGENT_FLAGS)[number];

/** The types `ntm rebalance --filter` takes (normalizeAgentTypeFilter). */
export const REBALANCE_FILTERS = ["claude", "cc", "codex", "cod", "gemini", "gmi", "antigravity", "agy", "cursor", "windsurf", "ws", "aider", "ollama"] as const;

/** What `vc fleet` asks for: one operation, its session and options. */
export type FleetRequest =
  | { op: "spawn"; session: string; counts: Partial<Record<AgentFlag, number>>; prompt?: string }
  | { op: "send"; session: string; prompt: string; pane?: string; types?: readonly AgentFlag[]; all?: boolean }
  | { op: "interrupt"; session: string }
  | { op: "stop"; session: string; pane?: string }
  | { op: "rebalance"; session: string; filter?: string; threshold?: number }
  | { op: "migrate"; session: string; to: string }
  | { op: "emergency-stop"; kill?: boolean };

/** How a step ended: `planned` in a dry run, `skipped` when there was nothing to act on. */
export type FleetStatus = "ok" | "failed" | "refused" | "planned" | "skipped";

/** One ntm command on one machine and what came of it. */
export interface FleetStepResult {
  /** The session it acts on; null for the session listing. */
  session: string | null;
  argv: string[];
  /** The argv as a person would type it. */
  command: string;
  writes: boolean;
  status: FleetStatus;
  /** It reached the machine's executor. */
  ran: boolean;
  exit_code: number | null;
  /** Why it was refused, failed or skipped (the gate's reason, ntm's stderr or JSON error). */
  error: string | null;
  /** The gate's code when refused (writes_not_allowed …). */
  refused: string | null;
  /** One line: what ntm did (delivered to 3 panes, killed …). */
  summary: string | null;
  /** ntm's JSON answer, when it printed one. */
  output: unknown;
  output_excerpt: string;
  duration_ms: number;
  audit_id: string | null;
}

export interface FleetMachineResult {
  machine: string;
  ok: boolean;
  steps: FleetStepResult[];
  warnings: string[];
}

export interface FleetResult {
  op: FleetOp;
  by: string;
  dry_run: boolean;
  ok: boolean;
  machines: FleetMachineResult[];
}

export interface RunFleetOptions {
  /** The machines it runs on (each must be in the config). */
  machines: readonly string[];
  /** Who runs it, for the audit log. */
  by: string;
  /** Print what would run; nothing reaches an executor, nothing is audited. */
  dryRun?: boolean;
}

/** The command that lists a machine's sessions (`--limit` defaults to 0: all of them). */
export const LIST_ARGV: readonly string[] = ["ntm", "list", "--json"];

/** tmux session names as ntm accepts them (tmux.ValidateSessionName), never starting with `-` (it would read as a flag). */
const SESSION = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
/** A pane as ntm selects one: N, W.P or %N. */
const PANE = /^(\d+|\d+\.\d+|%\d+)$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

const bad = (message: string, hint?: string) => new VcError("invalid_argument", message, hint ? { hint } : {});

/** A session name ntm accepts, or `invalid_argument`. */
export function checkSession(session: string): string {
  if (!SESSION.test(session) || session.length > 200)
    throw bad(`session "${session}": ntm session names are letters, digits, _ and - (no leading -, no . or :)`, "vc robot machines or ntm list shows the sessions");
  return session;
}

/** A count flag's value as a positive whole number, or `invalid_argument` naming the flag. */
export function parseCount(flag: string, text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw bad(`--${flag}: expected a positive whole number of agents, got "${text}"`);
  return n;
}

/** A pane selector (or a comma-separated list of them, `multi`) as ntm takes it, or `invalid_argument`. */
export function checkPane(text: string, multi = false): string {
  const parts = multi ? text.split(",") : [text];
  if (!parts.every((p) => PANE.test(p)))
    throw bad(`--pane: expected ${multi ? "pane selectors" : "a pane selector"} N, W.P or %N${multi ? " (comma-separated)" : ""}, got "${text}"`);
  return text;
}

/** A prompt ntm can take as an argument: one line (the gate refuses control characters), not empty. */
function checkPrompt(flag: string, text: string): string {
  if (text.trim() === "") throw bad(`${flag}: the prompt is empty`);
  if (CONTROL.test(text)) throw bad(`${flag}: the prompt must be one line without control characters`, "vc runs argv, never a shell string, and refuses control characters in it");
  return text;
}

/**
 * What ntm lacks to move a session between machines. It has `ntm checkpoint save|export` (an
 * archive on the source) and `ntm checkpoint import|restore` (from an archive on the target), but
 * nothing carries the archive or the project's working tree across, and a restore starts new agents
 * rather than moving the running ones.
 */
export function migrateNotImplemented(session: string, from: string, to: string): VcError {
  return new VcError(
    "not_implemented",
    `ntm cannot move session ${session} from ${from} to ${to}. ntm has no migrate operation: ` +
      "`ntm checkpoint save|export` writes an archive on the source machine and `ntm checkpoint import|restore` reads one on the target, " +
      "but ntm does not carry the archive or the project's working tree between machines, and a restore starts new agents instead of moving the running ones. " +
      "ntm would need a command that exports a session to another host and resumes its agents there (e.g. `ntm migrate <session> --to <host>`).",
    {
      hint: `by hand: ntm checkpoint save ${session} and ntm checkpoint export on ${from}, copy the archive and the project to ${to}, ntm checkpoint import and restore there, then vc fleet stop ${session} --machine ${from}`,
      details: { session, from, to },
    },
  );
}

/** The argv of a single-session operation, checked; `not_implemented` for migrate. */
export function fleetArgv(req: Exclude<FleetRequest, { op: "emergency-stop" }>, machine = "?"): string[] {
  const session = checkSession(req.session);
  switch (req.op) {
    case "spawn": {
      const counts = AGENT_FLAGS.flatMap((f) => {
        const n = req.counts[f];
        if (n === undefined) return [];
        if (!Number.isSafeInteger(n) || n < 1) throw bad(`--${f}: expected a positive whole number of agents, got ${n}`);
        return [`--${f}=${n}`];
      });
      if (counts.length === 0) throw bad("spawn needs at least one agent count: --cc, --cod, --gmi or --agy");
      if (session.includes("--")) throw bad(`session "${session}": ntm reserves -- in a new session's name for labels`);
      // --safety: a spawn never adds panes to a session that already runs (ntm would reuse it).
      return ["ntm", "spawn", session, ...counts, ...(req.prompt !== undefined ? [`--prompt=${checkPrompt("--prompt", req.prompt)}`] : []), "--safety", "--json"];
    }
    case "send": {
      const targets: string[] = [];
      if (req.pane !== undefined) {
        if (req.all || req.types?.length) throw bad("--pane picks one pane: it cannot be combined with --type or --all");
        targets.push(`--pane=${checkPane(req.pane)}`);
      } else if (req.all) {
        if (req.types?.length) throw bad("--all sends to every agent pane: it cannot be combined with --type");
        targets.push("--all");
      } else for (const t of new Set(req.types ?? [])) targets.push(`--${t}`);
      // --no-cass-check: a person's deliberate send is not held back by ntm's duplicate search
      // (in JSON mode a duplicate would fail it). `--` ends ntm's flags: a prompt may start with -.
      return ["ntm", "send", session, ...targets, "--no-cass-check", "--json", "--", checkPrompt("the prompt", req.prompt)];
    }
    case "interrupt":
      return ["ntm", "interrupt", session, "--json"];
    case "stop":
      return ["ntm", "kill", session, ...(req.pane !== undefined ? [`--pane=${checkPane(req.pane, true)}`] : []), "--force", "--json"];
    case "rebalance": {
      if (req.filter !== undefined && !(REBALANCE_FILTERS as readonly string[]).includes(req.filter))
        throw bad(`--filter: expected one of ${REBALANCE_FILTERS.join(", ")}, got "${req.filter}"`);
      if (req.threshold !== undefined && !(Number.isFinite(req.threshold) && req.threshold >= 0)) throw bad(`--threshold: expected a number ≥ 0, got ${req.threshold}`);
      // In JSON mode `--apply` applies the suggested transfers without ntm's confirmation prompt.
      return [
        "ntm",
        "rebalance",
        session,
        "--apply",
        ...(req.filter !== undefined ? [`--filter=${req.filter}`] : []),
        ...(req.threshold !== undefined ? [`--threshold=${req.threshold}`] : []),
        "--json",
      ];
    }
    case "migrate":
      throw migrateNotImplemented(session, machine, req.to);
  }
}

/** How emergency-stop stops one session: Ctrl+C to its agent panes, or (`kill`) the whole session. */
export const emergencyStopArgv = (session: string, kill = false): string[] => (kill ? ["ntm", "kill", session, "--force", "--json"] : ["ntm", "interrupt", session, "--json"]);

/** A session `ntm list --json` reports, with its agent count when it gives one. */
export interface ListedSession {
  name: string;
  agents: number | null;
}

/** The sessions of `ntm list --json` (ListResponse, parsed), or null when it holds no sessions array. */
export function listedSessions(parsed: unknown): { sessions: ListedSession[]; more: boolean } | null {
  const raw = parsed as { sessions?: unknown; has_more?: unknown } | null;
  if (!raw || typeof raw !== "object" || !Array.isArray(raw.sessions)) return null;
  const sessions: ListedSession[] = [];
  for (const s of raw.sessions as { name?: unknown; agents?: { total?: unknown } | null }[]) {
    if (typeof s?.name !== "string" || s.name === "") continue;
    const total = s.agents?.total;
    sessions.push({ name: s.name, agents: typeof total === "number" ? total : null });
  }
  return { sessions, more: raw.has_more === true };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** One line of what ntm says it did, from its JSON answer. */
function summarize(argv: readonly string[], out: Record<string, unknown> | null): string | null {
  if (!out) return null;
  const n = (k: string) => (typeof out[k] === "number" ? (out[k] as number) : null);
  switch (argv[1]) {
    case "spawn":
      return `${out.created === false ? "reused" : "created"} ${String(out.session ?? argv[2])}${Array.isArray(out.panes) ? `, ${out.panes.length} pane(s)` : ""}`;
    case "send":
      return `delivered to ${n("delivered") ?? "?"} pane(s)${n("failed") ? `, ${n("failed")} failed` : ""}`;
    case "interrupt":
      return `interrupted ${n("interrupted") ?? "?"} pane(s)${n("failed") ? `, ${n("failed")} failed` : ""}`;
    case "kill":
      return Array.isArray(out.removed) ? `removed ${out.removed.length} pane(s)` : out.killed === false ? "not killed" : "killed";
    case "rebalance":
      return `${Array.isArray(out.transfers) ? out.transfers.length : "?"} transfer(s)${out.applied ? " applied" : ""}, imbalance ${typeof out.imbalance_score === "number" ? out.imbalance_score.toFixed(2) : "?"} (${String(out.recommendation ?? "?")})`;
    case "list":
      return Array.isArray(out.sessions) ? `${out.sessions.length} session(s)` : null;
    default:
      return null;
  }
}

const blank = (session: string | null, argv: readonly string[], writes: boolean, status: FleetStatus, error: string | null = null): FleetStepResult => ({
  session,
  argv: [...argv],
  command: showArgv(argv),
  writes,
  status,
  ran: false,
  exit_code: null,
  error,
  refused: null,
  summary: null,
  output: null,
  output_excerpt: "",
  duration_ms: 0,
  audit_id: null,
});

/** An action's result as a step: ntm's JSON `success: false` is a failure even when it exits 0. */
function stepFrom(session: string | null, argv: readonly string[], writes: boolean, r: ActionResult): FleetStepResult {
  const step = { ...blank(session, argv, writes, "ok"), ran: r.ran, exit_code: r.exit_code, output_excerpt: r.output_excerpt, duration_ms: r.duration_ms, audit_id: r.audit_id };
  if (r.refused) return { ...step, status: "refused", refused: r.refused.code, error: r.refused.reason };
  const parsed = parseJson(r.stdout.trim());
  const out = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  const said =
    typeof out?.error === "string" && out.error !== ""
      ? `ntm: ${out.error}${typeof out.code === "string" || typeof out.error_code === "string" ? ` (${String(out.error_code ?? out.code)})` : ""}`
      : null;
  if (!r.ok || out?.success === false) {
    const error = [r.error, said && !r.error?.includes(String(out?.error)) ? said : null].filter(Boolean).join("; ") || "ntm reported a failure";
    return { ...step, status: "failed", error, output: out };
  }
  return { ...step, output: out, summary: summarize(argv, out) };
}

type Door = Pick<CockpitApi, "act" | "machines">;

/**
 * Runs a fleet operation on each machine through the cockpit's one door, or (dryRun) says what
 * would run. Machines not in the config are `unknown_machine`; migrate is `not_implemented`.
 * Emergency-stop lists each machine's sessions with `ntm list --json` and stops those with agents,
 * one by one, reporting each.
 * @example await runFleet(vc, { op: "interrupt", session: "proj" }, { machines: ["orko"], by: "alice" })
 */
export async function runFleet(vc: Door, req: FleetRequest, o: RunFleetOptions): Promise<FleetResult> {
  if (o.machines.length === 0) throw bad("no machine: name one with --machine");
  if (o.by.trim() === "") throw bad("--by: who runs it cannot be empty");
  const known = await vc.machines();
  for (const m of o.machines)
    if (!known.some((k) => k.id === m))
      throw new VcError("unknown_machine", `no machine "${m}" in the config`, { hint: `machines: ${known.map((k) => k.id).join(", ") || "(none)"}` });
  if (req.op === "migrate") throw migrateNotImplemented(checkSession(req.session), o.machines[0]!, req.to);
  // Checked once, before anything runs on any machine.
  const argv = req.op === "emergency-stop" ? null : fleetArgv(req);
  const purpose = `fleet ${req.op}`;
  const act = (machine: string, session: string | null, a: readonly string[], writes: boolean, what = purpose) =>
    vc
      .act({ machine, argv: [...a], writes, purpose: what, by: o.by, timeoutMs: a[1] === "spawn" ? 300_000 : 120_000, details: session ? { session } : {} })
      .then((r) => stepFrom(session, a, writes, r));

  const onMachine = async (machine: string): Promise<FleetMachineResult> => {
    const warnings: string[] = [];
    const steps: FleetStepResult[] = [];
    if (argv) {
      const session = (req as { session: string }).session;
      steps.push(o.dryRun ? blank(session, argv, true, "planned") : await act(machine, session, argv, true));
    } else {
      const kill = (req as { kill?: boolean }).kill ?? false;
      if (o.dryRun) {
        steps.push(blank(null, LIST_ARGV, false, "planned"), {
          ...blank("<session>", emergencyStopArgv("<session>", kill), true, "planned"),
          command: emergencyStopArgv("<session>", kill).join(" "),
          summary: "once for each session ntm list reports with agents",
        });
      } else {
        const list = await act(machine, null, LIST_ARGV, false, `${purpose} (list sessions)`);
        steps.push(list);
        if (list.status === "ok") {
          const listed = listedSessions(list.output);
          if (!listed) {
            list.status = "failed";
            list.error = "ntm list --json printed no sessions array";
            return { machine, ok: false, steps, warnings };
          }
          if (listed.more) warnings.push("ntm list says more sessions exist than it printed");
          if (listed.sessions.length === 0) warnings.push("no ntm sessions: nothing to stop");
          for (const s of listed.sessions) {
            const a = emergencyStopArgv(s.name, kill);
            if (s.agents === 0) steps.push({ ...blank(s.name, a, true, "skipped"), summary: "no agents in this session" });
            else if (!SESSION.test(s.name)) steps.push(blank(s.name, a, true, "skipped", "not a name ntm accepts back"));
            else steps.push(await act(machine, s.name, a, true));
          }
        }
      }
    }
    return { machine, ok: steps.every((s) => s.status === "ok" || s.status === "planned" || (s.status === "skipped" && s.error === null)), steps, warnings };
  };

  const machines = await Promise.all([...new Set(o.machines)].map(onMachine));
  return { op: req.op, by: o.by, dry_run: Boolean(o.dryRun), ok: machines.every((m) => m.ok), machines };
}
