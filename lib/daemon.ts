import type { Cockpit } from "./cockpit.ts";
import type { CycleReport } from "./collect/scheduler.ts";
import type { RunRecord } from "./collect/run.ts";
import { errorMessage } from "./errors.ts";
import { removeDaemonLock, writeDaemonLock } from "./store/_lock.ts";
import { createApiServer, type ApiServer } from "./serve/api.ts";
import { socketPathFor } from "./serve/client.ts";
import { watchLocalSources } from "./watch.ts";

export interface DaemonOptions {
  /** Aborting it stops the loop after the current cycle's transactions finish. */
  signal: AbortSignal;
  onCycle?: (report: CycleReport, n: number) => void;
  onRun?: (record: RunRecord) => void;
  onError?: (err: unknown) => void;
  /** Stop after this many cycles (tests, one-shot replays). */
  maxCycles?: number;
  /** Where to serve the local API for other commands (default <data_dir>/vc.sock); false: none. */
  socketPath?: string | false;
}

/**
 * The poll loop of `vc up`: a cycle every `polling.interval_seconds`, until `signal` aborts.
 * Records itself beside the store so other commands can say who holds it.
 */
export async function runDaemon(vc: Cockpit, o: DaemonOptions): Promise<number> {
  writeDaemonLock(vc.store.path, vc.clock.now());
  let api: ApiServer | undefined;
  let stopWatching = () => {};
  let n = 0;
  try {
    // Other commands reach the store through this socket while the daemon holds it.
    if (o.socketPath !== false) api = createApiServer(vc, o.socketPath ?? socketPathFor(vc.config.data_dir), { onError: o.onError });
    // New dcg lines or mail are collected within about a second, not at the next poll.
    stopWatching = await watchLocalSources(vc, (name) => void vc.collect({ collector: name, signal: o.signal }).catch((err) => o.onError?.(err)), { onError: o.onError });
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
    stopWatching();
    await api?.close();
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
