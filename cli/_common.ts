// Shared plumbing of the commands: common flags, opening the cockpit, printing errors.
// No logic of vc's own lives here.
import type { ConsolaInstance } from "consola";
import { connectCockpit, errorEnvelope, isVcError, openCockpit, type Cockpit, type OpenCockpitOptions, type RemoteCockpit } from "../lib/index.ts";
import { clockFromEnv } from "../lib/clock.ts";
import { sysprobe } from "../plugins/index.ts";

/** Flags every command that touches the store takes. */
export const storeArgs = {
  config: { type: "string", description: "config file (default: $VC_CONFIG, ./vc.config.ts, $XDG_CONFIG_HOME/vc/vc.config.ts, then the embedded default)", valueHint: "FILE" },
  db: { type: "string", description: "DuckDB store (default: $VC_DB, the config's db, $XDG_DATA_HOME/vc/vc.duckdb)", valueHint: "PATH" },
} as const;

/** Logs go to stderr; stdout carries only the answer. Loaded on first use (robot commands never log). */
export async function logger(): Promise<ConsolaInstance> {
  const { createConsola } = await import("consola");
  return createConsola({ stdout: process.stderr, stderr: process.stderr, formatOptions: { colors: useColor(), date: false } });
}

export function useColor(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

const paint = (code: number) => (s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
export const red = paint(31);
export const dim = paint(2);
export const bold = paint(1);
export const green = paint(32);
export const yellow = paint(33);

/** Opens the cockpit the way every command does: config discovery, the embedded default, the fallback probe. */
const configArgs = (args: { config?: string; db?: string }) => ({
  file: args.config,
  db: args.db,
  fallback: { source: "(embedded default)", load: async () => (await import("../vc.config.ts")).default },
  modules: { "vibe-cockpit/plugins": () => import("../plugins/index.ts") },
});

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

/**
 * Runs a command body; an error becomes one readable line with a hint (a stack only for bugs),
 * or, for robot commands, an error envelope on stdout. Either way the exit code is non-zero.
 */
export async function guard(body: () => Promise<number | void>, options: { robot?: boolean } = {}): Promise<void> {
  let code: number;
  try {
    code = (await body()) ?? 0;
  } catch (err) {
    code = 1;
    if (options.robot) {
      process.stdout.write(`${JSON.stringify(errorEnvelope(err, safeNow()), null, 2)}\n`);
    }
    if (isVcError(err)) {
      process.stderr.write(`${red("vc:")} ${err.message}\n`);
      if (err.hint) process.stderr.write(`${dim(`  hint: ${err.hint}`)}\n`);
    } else {
      process.stderr.write(`${red("vc: internal error (a bug; please report it):")}\n${err instanceof Error ? err.stack : String(err)}\n`);
    }
  }
  process.exitCode = code;
}

function safeNow(): Date {
  try {
    return clockFromEnv().now();
  } catch {
    return new Date();
  }
}

/** Writes JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
