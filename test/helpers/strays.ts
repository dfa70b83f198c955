import { afterAll } from "bun:test";
import { processRunning } from "./proc.ts";

/** Pids a test leaves behind on purpose (a daemon vc may fail to find): SIGKILLed after the file's tests. */
export function trackStrays(): number[] {
  const strays: number[] = [];
  afterAll(() => {
    for (const pid of strays) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  });
  return strays;
}

/** True once `pid` has ended, polling for up to about 1.5 s (a kill is asynchronous). */
export async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 60 && processRunning(pid); i++) await Bun.sleep(25);
  return !processRunning(pid);
}

/**
 * A shell script that starts a daemonized grandchild (setsid, holding the script's stdout and
 * stderr) running `inner`, waits until it has written its pid to "$1", prints "started" and exits.
 */
export function daemonizeScript(inner = "sleep 100000"): string {
  return `setsid sh -c 'echo $$ > "$1"; exec ${inner}' sh "$1" & while [ ! -s "$1" ]; do sleep 0.01; done; echo started; exit 0`;
}
