import { VcError } from "../errors.ts";
import { remoteReapScript, RUN_TOKEN_VAR } from "./_reap.ts";
import { shellQuote } from "./quote.ts";
import type { Command } from "./types.ts";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The argv a command runs as: an argv as is; a script as `sh -c SCRIPT sh ARGS…`. */
export function commandArgv(command: Command): string[] {
  return "script" in command ? ["sh", "-c", command.script, "sh", ...(command.args ?? [])] : [...command];
}

/**
 * A command line for a remote shell: every word quoted, the environment passed through `env`.
 * The shell prints its pid first on stderr (`@@vc:pid:N`): sshd starts each session's shell as a
 * session and process-group leader (setsid), so that pid is the group a timeout kills. The exit
 * status is printed last on stderr too (`@@vc:exit:N`): ssh2 can lose a channel's exit-status
 * message (seen on the first channel of a ProxyJump connection), and a status must never be lost.
 * With a run token, the command and everything it starts carry it in their environment, and once
 * the command exits whatever still carries it (a daemonized grandchild holding the channel's
 * pipes) is killed before the status is printed.
 */
export function remoteCommandLine(command: Command, env: Record<string, string> = {}, token?: string): string {
  const argv = commandArgv(command);
  if (argv.length === 0) throw new VcError("invalid_input", "empty command");
  for (const k of Object.keys(env)) if (!ENV_NAME.test(k)) throw new VcError("invalid_input", `bad environment variable name ${JSON.stringify(k)}`);
  const pairs = Object.entries({ ...env, ...(token ? { [RUN_TOKEN_VAR]: token } : {}) }).map(([k, v]) => `${k}=${v}`);
  const cmd = [...(pairs.length ? ["env", ...pairs] : []), ...argv].map(shellQuote).join(" ");
  const reap = token ? ` ${remoteReapScript(token)};` : "";
  return `printf '@@vc:pid:%s\\n' "$$" >&2; ${cmd}; s=$?;${reap} printf '@@vc:exit:%s\\n' "$s" >&2; exit "$s"`;
}

/** The process-group id and exit status a wrapped command printed on stderr, and stderr without them. */
export function splitMarks(stderr: string): { pid: number | null; exit: number | null; rest: string } {
  let rest = stderr;
  const p = /^@@vc:pid:(\d+)\n/.exec(rest);
  if (p) rest = rest.slice(p[0].length);
  const e = /@@vc:exit:(\d+)\n$/.exec(rest);
  if (e) rest = rest.slice(0, e.index);
  return { pid: p ? Number(p[1]) : null, exit: e ? Number(e[1]) : null, rest };
}
