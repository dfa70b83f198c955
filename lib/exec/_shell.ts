import { VcError } from "../errors.ts";
import type { Command } from "./types.ts";

/**
 * One argument as a POSIX shell word: single-quoted, embedded quotes closed and escaped.
 * Every argument and path vc sends to a remote shell goes through here, and nothing else does.
 */
export function shellQuote(arg: string): string {
  if (arg.includes("\0")) throw new VcError("invalid_input", "an argument holds a NUL byte");
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The argv a command runs as: an argv as is; a script as `sh -c SCRIPT sh ARGS…`. */
export function commandArgv(command: Command): string[] {
  return "script" in command ? ["sh", "-c", command.script, "sh", ...(command.args ?? [])] : [...command];
}

/**
 * A command line for a remote shell: every word quoted, the environment passed through `env`,
 * and the command started in a process group of its own whose id is printed first on stderr
 * (`@@vc:pid:N`), so a timeout can kill the whole group.
 */
export function remoteCommandLine(command: Command, env: Record<string, string> = {}): string {
  const argv = commandArgv(command);
  if (argv.length === 0) throw new VcError("invalid_input", "empty command");
  for (const k of Object.keys(env)) if (!ENV_NAME.test(k)) throw new VcError("invalid_input", `bad environment variable name ${JSON.stringify(k)}`);
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const cmd = [...(pairs.length ? ["env", ...pairs] : []), ...argv].map(shellQuote).join(" ");
  const mark = `printf '@@vc:pid:%s\\n' "$$" >&2`;
  return `if command -v setsid >/dev/null 2>&1; then exec setsid -w sh -c ${shellQuote(`${mark}; exec "$@"`)} sh ${cmd}; else ${mark}; exec ${cmd}; fi`;
}

/** The process-group id a wrapped command printed on stderr, and stderr without that line. */
export function splitPidMark(stderr: string): { pid: number | null; rest: string } {
  const m = /^@@vc:pid:(\d+)\n/.exec(stderr);
  return m ? { pid: Number(m[1]), rest: stderr.slice(m[0].length) } : { pid: null, rest: stderr };
}
