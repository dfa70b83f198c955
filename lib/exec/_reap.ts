// Finding and ending everything one command started. A process group covers the command and its
// plain children; a descendant that calls setsid (a daemonized grandchild) leaves the group but
// keeps the environment, so every command carries a token unique to its run and whatever still
// holds that token afterwards is killed too.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

/** The environment variable that marks every process a command started, with a per-run value. */
export const RUN_TOKEN_VAR = "VC_EXEC_RUN";

/** A fresh token for one run (hex, safe in a shell word). */
export function newRunToken(): string {
  return randomBytes(12).toString("hex");
}

/** Pids of this machine's processes whose environment holds the run's token (Linux /proc; none elsewhere). */
export function processesWithToken(token: string): number[] {
  const needle = Buffer.from(`${RUN_TOKEN_VAR}=${token}`);
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      // Another user's process (or one that just ended) cannot be read: it is not ours to end.
      if (readFileSync(`/proc/${name}/environ`).includes(needle)) out.push(Number(name));
    } catch {}
  }
  return out;
}

/**
 * SIGKILLs a command's process group and every process carrying its token, a few rounds so that
 * a process forking meanwhile is caught too. Returns how many processes were signalled.
 */
export function killRun(pgid: number, token: string): number {
  let n = 0;
  try {
    process.kill(-pgid, "SIGKILL");
    n++;
  } catch {}
  for (let round = 0; round < 3; round++) {
    const left = processesWithToken(token).filter((p) => p !== process.pid);
    if (left.length === 0) break;
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
        n++;
      } catch {}
    }
  }
  return n;
}

/**
 * The same for a remote POSIX shell: kills every process of the SSH user whose environment holds
 * the token (nothing on machines without /proc, where the process group kill is all there is).
 */
export function remoteReapScript(token: string): string {
  if (!/^[0-9a-f]+$/.test(token)) throw new Error("a run token is hex");
  return `for p in $(grep -lsF '${RUN_TOKEN_VAR}=${token}' /proc/[0-9]*/environ 2>/dev/null); do p=\${p#/proc/}; kill -9 "\${p%/environ}" 2>/dev/null; done`;
}
