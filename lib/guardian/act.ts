// The only door through which vc changes anything on a machine: the autopilot's protocol steps
// and a person's fleet commands alike. The gate decides, the machine's executor runs the argv
// (SSH for remote machines) with a timeout and an output cap, and every attempt — refused, failed
// or done — is written to the audit log in the same breath.
import { recordAudit } from "../audit.ts";
import type { Clock } from "../clock.ts";
import { machineInfo, type ExecutorFactory } from "../collect/scheduler.ts";
import type { VcConfig } from "../config/define.ts";
import { errorMessage } from "../errors.ts";
import { shellQuote } from "../exec/quote.ts";
import type { Store } from "../store/store.ts";
import { stripControl } from "../text.ts";
import { gate, type Actor, type RefusalCode } from "./gate.ts";

/** What acting needs: the store (for the audit log), the config, a clock and the executors. */
export interface ActDeps {
  store: Store;
  config: VcConfig;
  clock: Clock;
  executorFor: ExecutorFactory;
}

export interface ActionRequest {
  machine: string;
  argv: readonly string[];
  writes: boolean;
  actor: Actor;
  /** What it is for, in the audit log: "guardian disk_space_recovery/clear_npm_cache", "fleet send". */
  purpose: string;
  /** Kill it after this long (default 60 s). */
  timeoutMs?: number;
  /** Exit codes that mean success (default: 0). */
  okExitCodes?: readonly number[];
  /** Further details for the audit log (a run's id, the state before). */
  details?: Record<string, unknown>;
}

export interface ActionResult {
  /** The command reached the machine's executor. */
  ran: boolean;
  refused?: { code: RefusalCode; reason: string };
  /** null: killed (timeout) or never ran. */
  exit_code: number | null;
  ok: boolean;
  /** The first bytes of stdout and stderr, control characters removed. */
  stdout: string;
  stderr: string;
  output_excerpt: string;
  duration_ms: number;
  timed_out: boolean;
  /** Why it could not run or failed (unreachable machine, missing command, non-zero exit). */
  error: string | null;
  audit_id: string;
}

/** Bytes of a command's output an action keeps. */
export const ACTION_MAX_BYTES = 256 * 1024;
const EXCERPT = 2000;

/** An argv as a person would type it (each argument shell-quoted when it needs to be). */
export const showArgv = (argv: readonly string[]): string => argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : shellQuote(a))).join(" ");

const actorName = (a: Actor) => (a.kind === "person" ? a.name : a.approvedBy ? `autopilot (approved by ${a.approvedBy})` : "autopilot");

/**
 * Runs one command through the gate, or refuses it; either way one audit event. A machine that
 * cannot be reached, a command that is missing there (exit 127) or fails is a failed result, never
 * an exception: the caller decides what the run does next.
 */
export async function act(deps: ActDeps, req: ActionRequest): Promise<ActionResult> {
  const started = deps.clock.now();
  const decision = gate({ config: deps.config, machine: req.machine, argv: req.argv, writes: req.writes, actor: req.actor });
  const base = { machineId: req.machine, action: showArgv(req.argv), actor: actorName(req.actor), eventType: req.actor.kind === "person" ? "user_command" : "autopilot_action" };
  if (!decision.ok) {
    const audit_id = await audit(deps, {
      ...base,
      ts: started,
      result: "refused",
      error: decision.reason,
      details: { ...req.details, purpose: req.purpose, argv: req.argv, refused: decision.code },
    });
    return {
      ran: false,
      refused: { code: decision.code, reason: decision.reason },
      exit_code: null,
      ok: false,
      stdout: "",
      stderr: "",
      output_excerpt: "",
      duration_ms: 0,
      timed_out: false,
      error: decision.reason,
      audit_id,
    };
  }
  const machine = deps.config.machines.find((m) => m.id === req.machine)!;
  let exit_code: number | null = null;
  let stdout = "";
  let stderr = "";
  let timed_out = false;
  let error: string | null = null;
  let duration_ms = 0;
  try {
    const exec = await deps.executorFor(machineInfo(machine));
    const r = await exec.run(req.argv, { timeoutMs: req.timeoutMs ?? 60_000, maxBytes: ACTION_MAX_BYTES });
    exit_code = r.exitCode;
    stdout = r.stdout;
    stderr = r.stderr;
    timed_out = r.timedOut;
    duration_ms = r.durationMs;
    if (r.timedOut) error = `timed out after ${Math.round((req.timeoutMs ?? 60_000) / 1000)} s`;
    else if (r.exitCode === 127) error = `${req.argv[0]} is not installed on ${req.machine} (exit 127)`;
    else if (!(req.okExitCodes ?? [0]).includes(r.exitCode ?? -1)) error = `exit ${r.exitCode}${r.stderr.trim() ? `: ${stripControl(r.stderr.trim()).slice(0, 300)}` : ""}`;
  } catch (err) {
    // Run here, a missing program is an exception of the spawn (over SSH, the shell's exit 127).
    const missing = machine.ssh === "local" && /Executable not found|ENOENT/.test(errorMessage(err));
    error = missing ? `${req.argv[0]} is not installed on ${req.machine} (not on its PATH)` : `${req.machine} could not be reached: ${errorMessage(err)}`;
    duration_ms = deps.clock.now().getTime() - started.getTime();
  }
  const ok = error === null;
  const output_excerpt = excerpt(stdout, stderr);
  const audit_id = await audit(deps, {
    ...base,
    ts: started,
    result: ok ? "ok" : "failed",
    error,
    durationMs: duration_ms,
    details: { ...req.details, purpose: req.purpose, argv: req.argv, why: decision.why, exit_code, output_excerpt },
  });
  return { ran: true, exit_code, ok, stdout, stderr, output_excerpt, duration_ms, timed_out, error, audit_id };
}

/** The start of stdout, then of stderr: what a person reads in the run record. */
function excerpt(stdout: string, stderr: string): string {
  const out = stripControl(stdout).trim();
  const err = stripControl(stderr).trim();
  const text = [out, err ? `[stderr] ${err}` : ""].filter(Boolean).join("\n");
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text;
}

function audit(deps: ActDeps, e: Parameters<typeof recordAudit>[1]): Promise<string> {
  return deps.store.transaction((tx) => recordAudit(tx, e));
}
