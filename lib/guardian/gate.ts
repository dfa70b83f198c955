// The one gate every action passes (plan §8.3, §9.3): the autopilot's mode, the machine's
// `allow_autopilot` and `allow_write_commands`, and the allowlist — argv patterns matched on parsed
// arguments, never on a shell string. Pure: the property test drives it with random configs.
import type { VcConfig } from "../config/define.ts";
import { VcError } from "../errors.ts";

export type AutopilotMode = VcConfig["autopilot"]["mode"];

/** Who asks: the autopilot (with the person who approved its run, in approval mode), or a person at a command line. */
export type Actor = { kind: "autopilot"; approvedBy?: string | null } | { kind: "person"; name: string };

/** Why the gate said no. */
export type RefusalCode = "bad_argv" | "unknown_machine" | "writes_not_allowed" | "autopilot_not_allowed" | "autopilot_off" | "suggest_only" | "not_allowlisted" | "needs_approval";

export type GateDecision = { ok: true; why: string } | { ok: false; code: RefusalCode; reason: string };

export interface GateInput {
  config: Pick<VcConfig, "autopilot" | "machines">;
  machine: string;
  argv: readonly string[];
  /** The command changes something on the machine. */
  writes: boolean;
  actor: Actor;
}

/** Characters a shell would act on: never in an allowlist pattern, never matched by its wildcards. */
const SHELL_META = /[;&|$`<>(){}[\]'"\\!#~*?\s]/;
/** What one argument matched by a wildcard may hold: a name, a number, a path, key=value. */
const WILDCARD_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** One allowlist entry, parsed: literal words, `*` (one argument), a trailing `**` (any more). */
export interface AllowPattern {
  readonly source: string;
  readonly words: readonly string[];
  /** Ends with `**`: any number of further arguments (each as a wildcard would take it). */
  readonly rest: boolean;
}

/**
 * Parses an allowlist entry such as `mytool restart *` or `mytool plan **`. Refuses one that
 * holds a shell metacharacter (a `;`, a quote, a `$` …): entries are argv patterns, not shell strings.
 */
export function parseAllowPattern(source: string, where = "autopilot.safe_commands.allow"): AllowPattern {
  const words = source.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new VcError("config_invalid", `${where ? `${where}: ` : ""}an empty entry`, { hint: 'an argv pattern such as "mytool restart *"' });
  words.forEach((w, i) => {
    if (w === "*" || (w === "**" && i === words.length - 1)) return;
    if (w === "**") throw new VcError("config_invalid", `${where ? `${where}: ` : ""}"${source}": ** may only end a pattern`);
    const bad = SHELL_META.exec(w) ?? CONTROL.exec(w);
    if (bad)
      throw new VcError("config_invalid", `${where ? `${where}: ` : ""}"${source}" holds the shell metacharacter ${JSON.stringify(bad[0])}`, {
        hint: "allowlist entries are argv patterns matched on parsed arguments (words, * for one argument, a final ** for the rest), never shell strings",
      });
  });
  if (words[0] === "*" || words[0] === "**")
    throw new VcError("config_invalid", `${where ? `${where}: ` : ""}"${source}" must name its program (a wildcard cannot be the command)`);
  const rest = words.at(-1) === "**";
  return { source, words: rest ? words.slice(0, -1) : words, rest };
}

/** What is wrong with an allowlist entry, in a sentence (null: nothing). */
export function allowPatternProblem(source: string): string | null {
  try {
    parseAllowPattern(source, "");
    return null;
  } catch (err) {
    return err instanceof VcError ? `${err.message}${err.hint ? ` (${err.hint})` : ""}` : String(err);
  }
}

/** A wildcard takes an argument only when it is a plain word: no metacharacter, no option, no `..`. */
export function wildcardTakes(arg: string): boolean {
  return WILDCARD_ARG.test(arg) && !arg.startsWith("-") && !arg.split("/").includes("..");
}

/** Whether `argv` matches the pattern, argument by argument. */
export function matchesPattern(p: AllowPattern, argv: readonly string[]): boolean {
  if (argv.length < p.words.length || (!p.rest && argv.length !== p.words.length)) return false;
  for (let i = 0; i < argv.length; i++) {
    const w = p.words[i];
    const a = argv[i]!;
    if (w === undefined || w === "*") {
      if (!wildcardTakes(a)) return false;
    } else if (w !== a) return false;
  }
  return true;
}

/** The entry of the allowlist that covers `argv`, if any. */
export function allowedBy(allow: readonly string[], argv: readonly string[]): string | null {
  for (const source of allow) if (matchesPattern(parseAllowPattern(source), argv)) return source;
  return null;
}

/**
 * Decides whether a command may reach a machine's executor. A person's command needs only the
 * machine (and its `allow_write_commands` when it writes); the autopilot's needs its mode, the
 * machine's `allow_autopilot`, and the allowlist (execute-safe) or a person's approval
 * (execute-with-approval).
 */
export function gate(i: GateInput): GateDecision {
  if (i.argv.length === 0 || i.argv.some((a) => CONTROL.test(a)) || i.argv[0] === "")
    return { ok: false, code: "bad_argv", reason: "the command is empty or holds control characters" };
  const m = i.config.machines.find((x) => x.id === i.machine);
  if (!m) return { ok: false, code: "unknown_machine", reason: `machine "${i.machine}" is not in the config` };
  if (i.writes && !m.allow_write_commands) return { ok: false, code: "writes_not_allowed", reason: `${i.machine} does not allow write commands (allow_write_commands: false)` };
  if (i.actor.kind === "person") return { ok: true, why: `${i.actor.name} ran it${i.writes ? `; ${i.machine} allows write commands` : ""}` };
  const mode = i.config.autopilot.mode;
  if (mode === "off") return { ok: false, code: "autopilot_off", reason: "the autopilot is off" };
  if (mode === "suggest") return { ok: false, code: "suggest_only", reason: "the autopilot only suggests (mode: suggest)" };
  if (!m.allow_autopilot) return { ok: false, code: "autopilot_not_allowed", reason: `${i.machine} does not allow the autopilot (allow_autopilot: false)` };
  if (mode === "execute-safe") {
    const by = allowedBy(i.config.autopilot.safe_commands.allow, i.argv);
    return by ? { ok: true, why: `allowlisted by "${by}"` } : { ok: false, code: "not_allowlisted", reason: "no entry of autopilot.safe_commands.allow covers it" };
  }
  return i.actor.approvedBy ? { ok: true, why: `approved by ${i.actor.approvedBy}` } : { ok: false, code: "needs_approval", reason: "it waits for a person's approval" };
}
