// Shared plumbing of the commands: common flags, opening the cockpit, printing errors.
// No logic of vc's own lives here.
import type { ConsolaInstance } from "consola";
import { colors, type ColorName } from "consola/utils";
import { connectCockpit, errorEnvelope, isVcError, openCockpit, VcError, type Cockpit, type OpenCockpitOptions, type RemoteCockpit } from "../lib/index.ts";
import { clockFromEnv } from "../lib/clock.ts";
import { safeJson, stripControl } from "../lib/text.ts";
import { parseDuration } from "../lib/rules/define.ts";
import { renderCsv } from "./_format.ts";
import { sysprobe } from "../plugins/index.ts";

/** Flags every command that touches the store takes. */
export const storeArgs = {
  config: {
    type: "string",
    description: "config file, .ts or .jsonc (default: $VC_CONFIG, ./vc.config.ts or .jsonc, $XDG_CONFIG_HOME/vc/vc.config.ts or .jsonc, then the embedded default)",
    valueHint: "FILE",
  },
  db: { type: "string", description: "DuckDB store (default: $VC_DB, the config's db, $XDG_DATA_HOME/vc/vc.duckdb)", valueHint: "PATH" },
} as const;

/** Logs go to stderr; stdout carries only the answer. Loaded on first use (robot commands never log). */
export async function logger(): Promise<ConsolaInstance> {
  const { createConsola } = await import("consola");
  return createConsola({ stdout: process.stderr, stderr: process.stderr, formatOptions: { colors: useColor(), date: false } });
}

/**
 * Whether to colour what goes to `stream`: a terminal, NO_COLOR unset or empty, TERM not dumb.
 * Without a stream, both stdout and stderr must be terminals (the helpers below paint text that
 * may go to either, so `vc collect | cat` and `vc up 2>log` stay plain).
 */
export function useColor(stream?: NodeJS.WriteStream): boolean {
  const tty = stream ? Boolean(stream.isTTY) : Boolean(process.stdout.isTTY && process.stderr.isTTY);
  return tty && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

/** consola's colour for text that may go to stdout or stderr: plain unless both are terminals (see useColor). */
const painter = (color: ColorName) => (s: string) => (useColor() ? colors[color](s) : s);
export const red = painter("red");
export const dim = painter("dim");
export const bold = painter("bold");
export const green = painter("green");
export const yellow = painter("yellow");
export const cyan = painter("cyan");

/** The config options every command passes: --config and --db, the embedded default, the bundled plugins (for a config's imports and a .jsonc's names). */
export const configArgs = (args: { config?: string; db?: string }) => ({
  file: args.config,
  db: args.db,
  fallback: { source: "(embedded default)", load: async () => (await import("../vc.config.ts")).default },
  modules: { "vibe-cockpit/plugins": () => import("../plugins/index.ts") },
  catalog: async () => (await import("../plugins/catalog.ts")).catalog,
});

/** Opens the cockpit the way every command does: config discovery, the embedded default, the fallback probe. */
export function openFromArgs(args: { config?: string; db?: string }, extra: Partial<OpenCockpitOptions> = {}): Promise<Cockpit> {
  return openCockpit({ ...configArgs(args), alwaysOn: [sysprobe()], ...extra });
}

/**
 * The cockpit's shared API: through `vc up` when it holds the store and answers on its socket,
 * else the store opened here. One interface, two transports.
 */
export function openApiFromArgs(args: { config?: string; db?: string }, extra: Partial<OpenCockpitOptions> = {}): Promise<Cockpit | RemoteCockpit> {
  return connectCockpit({ ...configArgs(args), alwaysOn: [sysprobe()], readOnly: false, ...extra });
}

let commandName = "vc";
/** Names the command being run ("vc up"), so its errors say which command failed. */
export function setCommandName(name: string): void {
  commandName = name;
}

/** The exit code of a failure: 2 for a command line that does not parse or a bad flag value, else 1. */
export function exitCodeFor(err: unknown): number {
  return isVcError(err) && (err.code === "usage" || err.code === "invalid_argument") ? 2 : 1;
}

/**
 * Tells the user about a failure and returns its exit code: one readable line and a hint for a
 * VcError (prefixed by the command it names in `details.command`, else the one running), a stack only for a
 * bug; for robot commands, first an error envelope on stdout.
 */
export function reportError(err: unknown, options: { robot?: boolean } = {}): number {
  if (options.robot) process.stdout.write(`${safeJson(errorEnvelope(err, safeNow()), 2)}\n`);
  if (isVcError(err)) {
    const who = typeof err.details?.command === "string" ? err.details.command : commandName;
    // A message may quote a tool's stderr or a remote answer: escapes and controls stripped.
    process.stderr.write(`${red(`${who}:`)} ${stripControl(err.message)}\n`);
    if (err.hint) process.stderr.write(`${dim(`  hint: ${stripControl(err.hint)}`)}\n`);
  } else {
    process.stderr.write(`${red("vc: internal error (a bug; please report it):")}\n${stripControl(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
  }
  return exitCodeFor(err);
}

/** What a command runs: resolves to its exit code, or to nothing for 0. */
// biome-ignore lint/suspicious/noConfusingVoidType: an async body that returns nothing resolves to void, not undefined
type CommandBody = () => Promise<number | void>;

/**
 * Runs a command body; an error becomes one readable line with a hint (a stack only for bugs),
 * or, for robot commands, an error envelope on stdout. Either way the exit code is non-zero:
 * 2 for a usage error or a bad flag value, 1 otherwise.
 */
export async function guard(body: CommandBody, options: { robot?: boolean } = {}): Promise<void> {
  let code: number;
  try {
    code = (await body()) ?? 0;
  } catch (err) {
    code = reportError(err, options);
  }
  process.exitCode = code;
}

/**
 * A flag's value as a number of seconds, or an `invalid_argument` error naming the flag and the
 * accepted form. Undefined stays undefined (the flag was not given).
 */
export function secondsArg(flag: string, value: string | undefined, o: { integer?: boolean; min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const min = o.min ?? (o.integer ? 1 : 0);
  const n = /^\s*$/.test(value) ? Number.NaN : Number(value);
  const ok = Number.isFinite(n) && (o.integer ? Number.isInteger(n) && n >= min : n > min);
  if (!ok) throw new VcError("invalid_argument", `--${flag}: expected ${o.integer ? `a whole number of seconds ≥ ${min}` : `a number of seconds > ${min}`}, got "${value}"`);
  return n;
}

/** The output formats a command offers; `--json` is kept as the short form of `--format json`. */
export function formatArgs<const F extends readonly [string, ...string[]]>(formats: F, fallback: F[number] = formats[0]) {
  return {
    format: { type: "enum", options: [...formats] as F[number][], default: fallback, description: `output format: ${formats.join(", ")}`, valueHint: "FORMAT" },
    json: { type: "boolean", description: "same as --format json" },
  } as const;
}

/** The format chosen with `--format`, or json when `--json` is given. */
export function outputFormat(args: { format?: string; json?: boolean }): string | undefined {
  return args.json ? "json" : args.format;
}

// Keys whose object values are maps keyed by names (tables, collectors, tools, labels…): their
// keys are data, never renamed.
const dataMaps = new Set(["rows_by_table", "staleness", "tools", "labels", "thresholds", "evidence", "params"]);

/** A copy of a JSON value with camelCase object keys as snake_case (machine-readable output is snake_case). */
export function snakeKeys(value: unknown, keepKeys = false): unknown {
  if (Array.isArray(value)) return value.map((v) => snakeKeys(v));
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key =
      keepKeys || !/[A-Z]/.test(k)
        ? k
        : k
            .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
            .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
            .toLowerCase();
    out[key] = snakeKeys(v, dataMaps.has(key));
  }
  return out;
}

function safeNow(): Date {
  try {
    return clockFromEnv().now();
  } catch {
    return new Date();
  }
}

/**
 * Prints rows in a machine-readable format (json: one array, jsonl: one object a line, csv) and
 * returns true; returns false for table, which each command draws its own way.
 */
export function printRows(format: string | undefined, columns: readonly string[], rows: readonly Record<string, unknown>[]): boolean {
  if (format === "json") printJson(rows);
  else if (format === "jsonl") process.stdout.write(rows.map((r) => `${safeJson(r)}\n`).join(""));
  else if (format === "csv") process.stdout.write(`${renderCsv(columns, rows)}\n`);
  else return false;
  return true;
}

/** A --flag's value as a duration (30s, 10m, 2h, 1d) in milliseconds, or `invalid_argument` naming the flag. */
export function durationArg(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch {
    throw new VcError("invalid_argument", `--${flag}: expected a duration such as 30s, 10m, 2h or 1d, got "${value}"`);
  }
}

/** Writes JSON to stdout, controls a terminal would act on as \u escapes (lib/text.ts). */
export function printJson(value: unknown): void {
  process.stdout.write(`${safeJson(value, 2)}\n`);
}
