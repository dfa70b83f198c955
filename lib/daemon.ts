import { sleepOrAbort } from "./clock.ts";
import type { Cockpit } from "./cockpit.ts";
import type { CycleReport } from "./collect/scheduler.ts";
import type { CheckReport } from "./guardian/engine.ts";
import type { IngestOutcome } from "./ingest/hub.ts";
import type { RunRecord } from "./collect/run.ts";
import { errorMessage } from "./errors.ts";
import { removeDaemonLock, writeDaemonLock } from "./store/_lock.ts";
import { socketPathFor } from "./store/files.ts";
import { createApiServer, type ApiServer, type ApiServerOptions } from "./serve/api.ts";
import type { WebServer, WebServerOptions } from "./web/server.ts";
import { checkRetention } from "./retention/plan.ts";
import { vacuumAtQuietHour } from "./retention/schedule.ts";
import { watchLocalSources } from "./watch.ts";

export interface DaemonOptions {
  /** Aborting it stops the loop after the current cycle's transactions finish. */
  signal: AbortSignal;
  onCycle?: (report: CycleReport, n: number) => void;
  onRun?: (record: RunRecord) => void;
  onError?: (err: unknown) => void;
  /** Stop after this many cycles (tests, one-shot replays). */
  maxCycles?: number;
  /** Where to serve the local API for other commands (default: derived from the store, see socketPathFor); false: none. */
  socketPath?: string | false;
  /** Socket server bounds (idle timeout, body size, requests in flight). */
  serve?: Omit<ApiServerOptions, "onError">;
  /** Poll on the interval (default true); false: only serve the store (a cycle runs when a client asks for one). */
  poll?: boolean;
  /** Told once the socket serves (its path). */
  onServing?: (socketPath: string) => void;
  /** HTTP (lib/web): the server's options beyond the config's `serve` (address, token, bounds); false: none, whatever the config says. */
  http?: Partial<WebServerOptions> | false;
  /** Told once HTTP serves (its URL). */
  onHttp?: (url: string) => void;
  /** Told what happened to each pushed batch (committed, a duplicate, parked with its reason). */
  onIngest?: (x: IngestOutcome) => void;
  /** Told what each guardian check after a cycle did. */
  onGuardian?: (report: CheckReport) => void;
}

/**
 * Serves the store this process holds to every other command: writes the lock beside the store
 * (naming this process and the socket) and listens on the socket until `close()`.
 * `vc watch` and `vc tui` use it when no daemon runs; runDaemon always does.
 */
export function serveStore(
  vc: Cockpit,
  o: { socketPath?: string; serve?: DaemonOptions["serve"]; onError?: (err: unknown) => void } = {},
): { socketPath: string; close(): Promise<void> } {
  const socketPath = o.socketPath ?? socketPathFor(vc.store.path);
  writeDaemonLock(vc.store.path, vc.clock.now(), socketPath);
  let api: ApiServer;
  try {
    api = createApiServer(vc, socketPath, { ...o.serve, onError: o.onError });
  } catch (err) {
    removeDaemonLock(vc.store.path);
    throw err;
  }
  vc.serving = { socket: socketPath, since: vc.clock.now().toISOString() };
  return {
    socketPath,
    async close() {
      await api.close();
      vc.serving = undefined;
      removeDaemonLock(vc.store.path);
    },
  };
}

/**
 * The poll loop of `vc up`: a cycle every `polling.interval_seconds`, until `signal` aborts.
 * Records itself beside the store so other commands can say who holds it.
 */
export async function runDaemon(vc: Cockpit, o: DaemonOptions): Promise<number> {
  let served: ReturnType<typeof serveStore> | undefined;
  let web: WebServer | undefined;
  let stopWatching = () => {};
  let following: Promise<void> = Promise.resolve();
  // Ends the follows when the loop ends for another reason than the signal (maxCycles).
  const stopFollowing = new AbortController();
  let n = 0;
  let guarding: Promise<void> | undefined;
  if (o.socketPath === false) writeDaemonLock(vc.store.path, vc.clock.now());
  try {
    // Other commands reach the store through this socket while the daemon holds it.
    if (o.socketPath !== false) {
      served = serveStore(vc, { socketPath: o.socketPath, serve: o.serve, onError: o.onError });
      o.onServing?.(served.socketPath);
    }
    // HTTP when configured: loaded only then (its server, prom-client and the JSON Schemas).
    const http = o.http === false ? undefined : { address: vc.config.serve?.http ?? undefined, token: vc.config.serve?.token, ...o.http };
    if (http?.address) {
      const [{ createWebServer }, { createDashboard }] = await Promise.all([import("./web/server.ts"), import("./web/ui/index.ts")]);
      // The dashboard at / (bundled from lib/web/ui on its first request); a test may pass its own `ui`.
      web = createWebServer(vc, { onError: o.onError, ui: createDashboard({ cockpit: vc }), ...http, address: http.address });
      // The MCP server over Streamable HTTP at /mcp, behind the same guard as every route.
      const [{ mcpRoutes }, { ask }, { default: pkg }] = await Promise.all([
        import("./mcp/http.ts"),
        import("./ask/ask.ts"),
        import("../package.json", { with: { type: "json" } }),
      ]);
      web.route(...mcpRoutes(vc, pkg.version, (q) => ask(vc, q)));
      o.onHttp?.(web.url);
    }
    // Push ingest: nodes' batches from NATS JetStream, committed as they come (wrong credentials stop `vc up` here).
    if (vc.config.ingest) {
      const { startIngest } = await import("./ingest/hub.ts");
      vc.ingest = await startIngest(vc, { onOutcome: o.onIngest, onError: o.onError });
    }
    if (o.poll === false) {
      await sleepOrAbort(Number.POSITIVE_INFINITY, o.signal);
      return 0;
    }
    // A retention span naming a table the store does not have stops `vc up` now, not at the quiet hour.
    await checkRetention(vc);
    // New dcg lines or mail are collected within about a second, not at the next poll.
    stopWatching = await watchLocalSources(vc, (name) => void vc.collect({ collector: name, signal: o.signal }).catch((err) => o.onError?.(err)), { onError: o.onError });
    // …and an agent that starts waiting for a person within seconds: the tools that can be followed are.
    following = vc.follow({ signal: AbortSignal.any([o.signal, stopFollowing.signal]), onError: o.onError });
    while (!o.signal.aborted) {
      const started = performance.now();
      try {
        const report = await vc.collect({ signal: o.signal, onRun: o.onRun });
        n++;
        o.onCycle?.(report, n);
        // The guardian after each cycle, beside the loop (its verification collects again); one check at a time.
        if (vc.config.autopilot.mode !== "off" && !guarding)
          guarding = vc
            .guardianCheck()
            .then((r) => o.onGuardian?.(r))
            .catch((err) => o.onError?.(err instanceof Error ? err : new Error(errorMessage(err))))
            .finally(() => {
              guarding = undefined;
            });
      } catch (err) {
        o.onError?.(err instanceof Error ? err : new Error(errorMessage(err)));
      }
      // Once a day at retention.quiet_hour: rollups, and exports and deletions when configured (audited).
      await vacuumAtQuietHour(vc).catch((err) => o.onError?.(err instanceof Error ? err : new Error(errorMessage(err))));
      if (o.maxCycles !== undefined && n >= o.maxCycles) break;
      const wait = vc.config.polling.interval_seconds * 1000 - (performance.now() - started);
      await sleepOrAbort(Math.max(0, wait), o.signal);
    }
  } finally {
    stopWatching();
    stopFollowing.abort();
    // A guardian run in flight gets a moment to end; one still running is marked interrupted at the next start.
    if (guarding) await Promise.race([guarding, Bun.sleep(5000)]);
    await following;
    await web?.close();
    await vc.ingest?.close();
    vc.ingest = undefined;
    if (served) await served.close();
    else removeDaemonLock(vc.store.path);
  }
  return n;
}
