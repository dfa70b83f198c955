/**
 * Small helpers the collectors share to read what tools print: RFC 3339 times, a command's JSON,
 * valibot issues as one line of text, and the "run it, read its JSON, fail readably" steps.
 */
import * as v from "valibot";
import type { Executor, RunOptions, RunResult } from "../exec/types.ts";
import { MAX_EPOCH_MS, jsonText } from "../store/_values.ts";
import type { CollectContext } from "./define.ts";

/**
 * An RFC 3339 time (any fraction, `Z` or an offset) as a UTC ISO string with milliseconds; null for absent, unreadable or Go's zero time (year 1).
 * @example isoTime("2026-08-20T11:10:07.028417331-04:00") // "2026-08-20T15:10:07.028Z"; isoTime("0001-01-01T00:00:00Z") // null
 */
export function isoTime(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  if (Number(y) <= 1) return null;
  const ms = Number(((frac ?? "") + "000").slice(0, 3));
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  if (tz && tz.toUpperCase() !== "Z") {
    const sign = tz.startsWith("-") ? -1 : 1;
    const digits = tz.slice(1).replace(":", "");
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/**
 * Epoch milliseconds as a UTC ISO string; null for anything that is not a finite number of
 * milliseconds a Date can hold (an infinite or 1e300 epoch would make toISOString throw).
 * @example isoFromMs(1787238418488) // "2026-08-20T15:06:58.488Z"; isoFromMs(Infinity) // null
 */
export function isoFromMs(ms: unknown): string | null {
  return typeof ms === "number" && Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? new Date(ms).toISOString() : null;
}

/**
 * A short excerpt of any value for a message: a string as JSON, anything else as its JSON text
 * (depth-bounded, so a value nested 100,000 deep cannot throw), cut at `n` characters.
 * @example excerptOf({ a: 1 }) // '{"a":1}'; excerptOf("  two\nlines ") // '"two\\nlines"'
 */
export function excerptOf(value: unknown, n = 120): string {
  if (typeof value === "string") return JSON.stringify(value.trim().slice(0, n)).toWellFormed();
  const text = jsonText(value) ?? String(value);
  return text.length > n ? `${text.slice(0, n)}…` : text;
}

/**
 * The first JSON value in a command's stdout (a tool may print a line of noise before it); throws the parser's error when there is none.
 * @example parseJsonOutput('warning: config is old\n{"ok": true}') // { ok: true }
 */
export function parseJsonOutput(stdout: string): unknown {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = text.search(/^[[{]/m);
    if (at > 0) return JSON.parse(text.slice(at));
    throw err;
  }
}

/**
 * The first issue of a failed valibot parse as `path: message`; `root` names an issue at the top level (by default it has no prefix).
 * @example issueText(v.safeParse(Schema, raw)) // "tools: Invalid type: Expected Array but received 5"
 */
export function issueText(result: { issues: readonly v.BaseIssue<unknown>[] }, root?: string): string {
  const i = result.issues[0]!;
  const path = i.path?.map((p) => String(p.key)).join(".") || root;
  return path ? `${path}: ${i.message}` : i.message;
}

/**
 * Checks one value against a schema: `{ value }` when it fits, else `{ error }`, the first issue as text (after `what: ` when given).
 * @example const { value, error } = validate(LineSchema, json, "log line")
 */
export function validate<S extends v.GenericSchema>(schema: S, value: unknown, what?: string): { value?: v.InferOutput<S>; error?: string } {
  const r = v.safeParse(schema, value);
  if (r.success) return { value: r.output };
  return { error: what === undefined ? issueText(r) : `${what}: ${issueText(r)}` };
}

/**
 * Checks one record of many against a schema; one that does not fit is a warning `skipped <what>: <issue>` and null.
 * @example const s = checkRecord(SessionSchema, raw, `session #${i}`, ctx.warn); if (!s) continue;
 */
export function checkRecord<S extends v.GenericSchema>(schema: S, value: unknown, what: string, warn: (message: string) => void): v.InferOutput<S> | null {
  const r = v.safeParse(schema, value);
  if (r.success) return r.output;
  warn(`skipped ${what}: ${issueText(r)}`);
  return null;
}

/**
 * Checks a command's whole output against a schema; a different shape throws `<what> printed a different shape than expected (<issue>)`.
 * @example const health = checkOutput(HealthSchema, raw, "cass health --json")
 */
export function checkOutput<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const r = v.safeParse(schema, value);
  if (!r.success) throw new Error(`${what} printed a different shape than expected (${issueText(r)})`);
  return r.output;
}

/**
 * A command's whole stdout as strict JSON of one shape, or a thrown Error saying what it printed instead (`shape` names the expected one, e.g. "a plan").
 * @example const { raw, output } = parseJsonAs(r.stdout, PlanSchema, "pt robot plan", "a plan")
 */
export function parseJsonAs<S extends v.GenericSchema>(stdout: string, schema: S, what: string, shape: string): { raw: unknown; output: v.InferOutput<S> } {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch (err) {
    throw new Error(`${what} printed something that is not JSON (${(err as Error).message}): ${JSON.stringify(stdout.slice(0, 120))}`);
  }
  const r = v.safeParse(schema, raw);
  if (!r.success) throw new Error(`${what} printed JSON that is not ${shape}: ${issueText(r, "(top)")}`);
  return { raw, output: r.output };
}

/**
 * A readable Error for a command that failed: `<what> exited with <code or "a signal">: <the start of its stderr, else stdout>`.
 * @example if (r.exitCode !== 0) throw commandFailed("ru list --json", r)
 */
export function commandFailed(what: string, r: Pick<RunResult, "exitCode" | "stderr" | "stdout">): Error {
  return new Error(`${what} exited with ${r.exitCode ?? "a signal"}: ${(r.stderr.trim() || r.stdout.trim()).slice(0, 200)}`);
}

/** What `runJson` read: the first JSON value of a command's stdout and its exit code, or why there was none. */
export type JsonRun = { ok: true; raw: unknown; exitCode: number | null } | { ok: false; error: string };

/**
 * Runs an argv and reads the first JSON value of its stdout whatever the exit code; no JSON comes back as an error text (stderr's last lines), not thrown.
 * @example const r = await runJson(ctx.exec, ["cass", "health", "--json"]); if (!r.ok) throw new Error(r.error);
 */
export async function runJson(exec: Pick<Executor, "run">, argv: readonly string[], options?: RunOptions): Promise<JsonRun> {
  const r = await exec.run(argv, options);
  try {
    return { ok: true, raw: parseJsonOutput(r.stdout), exitCode: r.exitCode };
  } catch {
    const why = r.stderr.trim().split("\n").slice(-3).join(" ").slice(0, 300) || JSON.stringify(r.stdout.slice(0, 120));
    return { ok: false, error: `${argv.join(" ")} exited ${r.exitCode} without JSON: ${why}` };
  }
}

/** What `runJsonAs` read: the checked value with the JSON as printed, or why not. */
export type JsonRunAs<T> = { ok: true; value: T; raw: unknown } | { ok: false; error: string };

/**
 * Runs an argv, reads its JSON and checks it with `check` (which throws on a bad shape); every failure comes back as text, and JSON printed with a non-zero exit is read with a warning.
 * @example const s = await runJsonAs(ctx, ["cass", "stats", "--json"], (raw, what) => checkOutput(StatsSchema, raw, what))
 */
export async function runJsonAs<T>(ctx: Pick<CollectContext, "exec" | "warn">, argv: readonly string[], check: (raw: unknown, what: string) => T): Promise<JsonRunAs<T>> {
  const what = argv.join(" ");
  const r = await runJson(ctx.exec, argv);
  if (!r.ok) return r;
  let value: T;
  try {
    value = check(r.raw, what);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  if (r.exitCode !== 0) ctx.warn(`${what} exited ${r.exitCode} but printed its JSON; read it`);
  return { ok: true, value, raw: r.raw };
}
