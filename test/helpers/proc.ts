import { readFileSync } from "node:fs";

/** True while a process runs. A zombie (killed, not yet reaped: PID 1 here may never reap it) counts as gone. */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
