import type { Cockpit } from "./cockpit.ts";
import type { CycleReport } from "./collect/scheduler.ts";
import type { RunRecord } from "./collect/run.ts";
import { errorMessage } from "./errors.ts";
import { removeDaemonLock, writeDaemonLock } from "./store/_lock.ts";

export interface DaemonOptions {
  /** Aborting it stops the loop after the current cycle's transactions finish. */
  signal: AbortSignal;
  onCycle?: (report: CycleReport, n: number) => void;
  onRun?: (record: RunRecord) => void;
  onError?: (err: unknown) => void;
  /** Stop after this many cycles (tests, one-shot replays). */
  maxCycles?: number;
}

/**
 * The poll loop of `vc up`: a cycle every `polling.interval_seconds`, until `signal` aborts.
 * Records itself beside the store so other commands can say who holds it.
 */
export async function runDaemon(vc: Cockpit, o: DaemonOptions): Promise<number> {
  writeDaemonLock(vc.store.path, vc.clock.now());
  let n = 0;
  try {
    while (!o.signal.aborted) {
      const started = performance.now();
      try {
        const report = await vc.collect({ signal: o.signal, onRun: o.onRun });
        n++;
        o.onCycle?.(report, n);
      } catch (err) {
        o.onError?.(err instanceof Error ? err : new Error(errorMessage(err)));
      }
      if (o.maxCycles !== undefined && n >= o.maxCycles) break;
      const wait = vc.config.polling.interval_seconds * 1000 - (performance.now() - started);
      await sleep(Math.max(0, wait), o.signal);
    }
  } finally {
    removeDaemonLock(vc.store.path);
  }
  return n;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
