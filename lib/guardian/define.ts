// Healing protocols as data (plan §6.3): a trigger that finds targets in vc's data, diagnosis and
// treatment steps (reads of vc's own data, commands of the upstream tools, advice), a verification
// re-checked after a fresh collection, an optional rollback and an escalation. Plugins contribute
// them (`protocols`); lib/guardian/engine.ts runs them through one gate (lib/guardian/gate.ts).
import type { VcConfig } from "../config/define.ts";
import type { Store } from "../store/store.ts";

/** What steps learn and pass on: the trigger's facts, then each read's and each command's. */
export type Facts = Record<string, unknown>;

/** One thing a protocol acts on: a filesystem, an account, an agent. */
export interface GuardianTarget {
  /** Unique within the protocol (`orko:/data`, `claude/alice@example.com`): one run at a time per key. */
  key: string;
  /** The machine the protocol's commands run on unless a step names another. */
  machine: string;
  /** One line for a person: "/data on orko is 93 % full". */
  title: string;
  /** What the trigger saw (shown in the run record, read by the steps). */
  facts: Facts;
}

/** What a trigger and a verification read with: the store, the config and the instant. */
export interface ProtocolContext {
  store: Store;
  config: VcConfig;
  at: Date;
}

/** What a step sees: the target and the facts gathered so far. */
export interface StepContext extends ProtocolContext {
  target: GuardianTarget;
  facts: Facts;
}

/** A command a step runs: an argv (never a shell string), on the target's machine unless `machine` says otherwise. */
export interface PlannedCommand {
  machine?: string;
  argv: string[];
}

/** A read of vc's own data (no command runs): its facts join the run's. */
export interface ReadStep {
  readonly kind: "read";
  readonly name: string;
  read(ctx: StepContext): Promise<Facts | undefined> | Facts | undefined;
}

/**
 * A command of an upstream tool. Its argv is fixed when the run is planned (what a dry run shows
 * and a person approves is what runs); `when` may skip it at run time, never change it.
 */
export interface CommandStep {
  readonly kind: "command";
  readonly name: string;
  /** Changes something on the machine (needs the machine's `allow_write_commands`); reads do not. */
  readonly writes: boolean;
  /** The command, from the facts known when the run is planned; null: this step has nothing to do for this target. */
  command(ctx: StepContext): PlannedCommand | null;
  /** At run time, with the facts so far: a reason to skip the step, or null to run it. */
  when?(ctx: StepContext): string | null;
  /** Facts from its stdout (e.g. a plan's JSON), for later steps and the verification. */
  parse?(stdout: string, ctx: StepContext): Facts | undefined;
  /** Kill it after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** Exit codes that mean success (default 0 only): a tool whose exit code is an outcome (1: "found something") lists it here. */
  readonly okExitCodes?: readonly number[];
}

/** Advice for a person: shown in the run record and the suggestion, never run (written again, with every fact known by then, when a run reaches it). */
export interface SuggestStep {
  readonly kind: "suggest";
  readonly name: string;
  suggest(ctx: StepContext): string | null;
}

/** A pause between steps (the seed's "wait 30 s, then if still stuck …"). */
export interface WaitStep {
  readonly kind: "wait";
  readonly name: string;
  readonly seconds: number;
}

export type Step = ReadStep | CommandStep | SuggestStep | WaitStep;

/** How a run proves it worked: checked after a fresh collection of the target's machine, until it holds or the window ends. */
export interface Verification {
  /** "disk below 80 %". */
  readonly describe: string;
  /** The window: the run fails when the check has not held by then. */
  readonly withinSeconds: number;
  /** Seconds between checks (each after a fresh collection; default: a sixth of the window, at least 1). */
  readonly everySeconds?: number;
  check(ctx: StepContext): Promise<{ ok: boolean; detail: string }>;
}

/** When a failed run stops being retried and a person is called. */
export interface Escalation {
  readonly describe: string;
  /** The failed run (of the protocol on the target, within a day) that escalates: 1 at the first failure, 3 at the third. */
  readonly afterFailures: number;
  /** A reason to escalate at once, whatever the count (the seed's "immediate if disk > 95 %"). */
  immediate?(ctx: StepContext): string | null;
}

/** A healing protocol (plan §6.3 HealingProtocol), as data. */
export interface Protocol {
  readonly name: string;
  readonly summary: string;
  readonly trigger: { readonly describe: string; find(ctx: ProtocolContext): Promise<GuardianTarget[]> };
  readonly diagnosis?: readonly Step[];
  readonly treatment: readonly Step[];
  readonly verification: Verification;
  /** Steps that undo the treatment when verification fails (absent: it cannot be undone). */
  readonly rollback?: readonly Step[];
  readonly escalation: Escalation;
  /** Minutes after a failed run before the protocol acts on the same target again (default: the autopilot's cooldown). */
  readonly cooldownMinutes?: number;
}

/**
 * Declares a healing protocol. An identity function, so TypeScript checks the shape.
 * @example defineProtocol({ name: "disk_space_recovery", trigger: { describe: "disk > 90 %", find }, treatment: [...], verification, escalation })
 */
export function defineProtocol<const P extends Protocol>(protocol: P): P {
  return protocol;
}

/** A read of vc's data. */
export const readStep = (name: string, read: ReadStep["read"]): ReadStep => ({ kind: "read", name, read });
/** A command step. */
export const commandStep = (name: string, o: Omit<CommandStep, "kind" | "name">): CommandStep => ({ kind: "command", name, ...o });
/** Advice for a person, never run. */
export const suggestStep = (name: string, suggest: SuggestStep["suggest"]): SuggestStep => ({ kind: "suggest", name, suggest });
/** A pause. */
export const waitStep = (name: string, seconds: number): WaitStep => ({ kind: "wait", name, seconds });
