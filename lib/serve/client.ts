// The other end of lib/serve/api.ts: the cockpit's methods, answered by the daemon that holds
// the store. Kept light (no DuckDB, no config loading) so a command that finds the daemon starts fast.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { clockFromEnv, type Clock } from "../clock.ts";
import type { Cockpit } from "../cockpit.ts";
import { VcError, errorMessage, type VcErrorCode } from "../errors.ts";
import type { ApiErrorBody, DaemonInfo, WatchEvent } from "./api.ts";

/** The cockpit's methods that answer the same in-process and through the daemon. */
export type CockpitApi = Pick<
  Cockpit,
  | "health"
  | "robotHealth"
  | "robotHealthAt"
  | "robotMachine"
  | "robotRepos"
  | "robotAccounts"
  | "robotTriage"
  | "robotAlerts"
  | "alerts"
  | "ack"
  | "silence"
  | "explain"
  | "query"
  | "machines"
  | "probeMachines"
  | "doctor"
  | "search"
  | "clock"
  | "close"
  | typeof Symbol.asyncDispose
>;

export interface WatchOptions {
  /** Seconds between heartbeat lines (default 15). */
  heartbeatSeconds?: number;
  /** Aborting it ends the stream (watch then resolves with "aborted"). */
  signal?: AbortSignal;
}

/** The cockpit as reached through the daemon's socket. */
export interface RemoteCockpit extends CockpitApi {
  readonly remote: true;
  readonly socketPath: string;
  /** This process's clock (`$VC_NOW` or the wall clock), for what a command computes itself. */
  readonly clock: Clock;
  /** Who serves: pid, store, data dir, since when. */
  info(): Promise<DaemonInfo>;
  /**
   * Alert events and heartbeats as the daemon's cycles produce them, one call per line; the
   * first line is a heartbeat sent once subscribed. Resolves when the signal aborts or the
   * daemon ends the stream (it stopped).
   */
  watch(onEvent: (event: WatchEvent) => void, options?: WatchOptions): Promise<{ ended: "aborted" | "closed" }>;
}

export interface ConnectDaemonOptions {
  /** How long the daemon has to answer (default 300 ms). */
  timeoutMs?: number;
  /** Only a daemon serving this store counts (null otherwise). */
  db?: string;
  clock?: Clock;
}

const BASE = "http://vc";

/** Where the daemon listens: `<data_dir>/vc.sock`. */
export function socketPathFor(dataDir: string): string {
  return join(dataDir, "vc.sock");
}

/**
 * The daemon's cockpit if one answers on the socket within the timeout, else null (no socket,
 * a stale socket file, another store).
 * @example const vc = (await connectDaemon(socketPathFor(config.data_dir))) ?? (await openCockpit({ config }))
 */
export async function connectDaemon(socketPath: string, options: ConnectDaemonOptions = {}): Promise<RemoteCockpit | null> {
  if (!existsSync(socketPath)) return null;
  let info: DaemonInfo;
  try {
    const res = await fetch(`${BASE}/v1/info`, { unix: socketPath, signal: AbortSignal.timeout(options.timeoutMs ?? 300) });
    if (!res.ok) return null;
    info = (await res.json()) as DaemonInfo;
  } catch {
    return null;
  }
  if (info?.service !== "vc") return null;
  if (options.db !== undefined && resolve(info.db) !== resolve(options.db)) return null;
  return createRemoteCockpit(socketPath, options.clock ?? clockFromEnv());
}

function createRemoteCockpit(socketPath: string, clock: Clock): RemoteCockpit {
  const streams = new Set<AbortController>();
  let closed = false;

  async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    if (closed) throw new VcError("invalid_input", "this connection to the daemon is closed");
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${BASE}${path}`, {
        method,
        unix: socketPath,
        ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      });
      text = await res.text();
    } catch (err) {
      throw unreachable(socketPath, err);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`the daemon answered ${path} with ${res.status} and no JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) throw remoteError(parsed, res.status);
    return parsed as T;
  }

  const seg = encodeURIComponent;
  const q = (params: Record<string, string | number | boolean | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== false) s.set(k, v === true ? "1" : String(v));
    const text = s.toString();
    return text ? `?${text}` : "";
  };

  const remote: RemoteCockpit = {
    remote: true,
    socketPath,
    clock,
    info: () => call("GET", "/v1/info"),
    health: () => call("GET", "/v1/health"),
    robotHealth: () => call("GET", "/v1/robot/health"),
    robotHealthAt: (at) => call("GET", `/v1/robot/health${q({ at: at.toISOString() })}`),
    robotMachine: (id) => call("GET", `/v1/robot/machine/${seg(id)}`),
    robotRepos: () => call("GET", "/v1/robot/repos"),
    robotAccounts: () => call("GET", "/v1/robot/accounts"),
    robotTriage: (o = {}) => call("GET", `/v1/robot/triage${q({ limit: o.limit })}`),
    robotAlerts: (o = {}) => call("GET", `/v1/robot/alerts${q({ all: o.all })}`),
    alerts: (o = {}) => call("GET", `/v1/alerts${q({ all: o.all })}`),
    ack: (id, o) => call("POST", `/v1/alerts/${seg(id)}/ack`, { by: o.by, note: o.note }),
    silence: (input) => call("POST", "/v1/silences", { ...input, endsAt: input.endsAt?.toISOString() }),
    explain: (id) => call("GET", `/v1/alerts/${seg(id)}/explain`),
    query: (text) => call("POST", "/v1/query", { sql: text }),
    machines: () => call("GET", "/v1/machines"),
    probeMachines: (ids) => call("POST", "/v1/machines/probe", ids === undefined ? {} : { ids }),
    doctor: () => call("GET", "/v1/doctor"),
    search: (query, o = {}) => call("POST", "/v1/search", { query, ...o }),

    async watch(onEvent, o = {}) {
      if (closed) throw new VcError("invalid_input", "this connection to the daemon is closed");
      const ac = new AbortController();
      const abort = () => ac.abort();
      if (o.signal?.aborted) return { ended: "aborted" };
      o.signal?.addEventListener("abort", abort, { once: true });
      streams.add(ac);
      try {
        let res: Response;
        try {
          res = await fetch(`${BASE}/v1/watch${q({ heartbeat: o.heartbeatSeconds })}`, { unix: socketPath, signal: ac.signal });
        } catch (err) {
          if (ac.signal.aborted) return { ended: "aborted" };
          throw unreachable(socketPath, err);
        }
        if (!res.ok) throw remoteError(await res.json().catch(() => null), res.status);
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        // An error of the listener (or a line that is not JSON) ends the stream and is thrown as is.
        let failed: { err: unknown } | undefined;
        try {
          read: for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
              const line = buffer.slice(0, i).trim();
              buffer = buffer.slice(i + 1);
              if (!line) continue;
              try {
                onEvent(JSON.parse(line) as WatchEvent);
              } catch (err) {
                failed = { err };
                break read;
              }
            }
          }
        } catch (err) {
          if (ac.signal.aborted) return { ended: "aborted" };
          throw unreachable(socketPath, err);
        }
        if (failed) throw failed.err;
        return { ended: ac.signal.aborted ? "aborted" : "closed" };
      } finally {
        o.signal?.removeEventListener("abort", abort);
        streams.delete(ac);
        ac.abort(); // drop the connection: the daemon unsubscribes
      }
    },

    async close() {
      closed = true;
      for (const ac of streams) ac.abort();
    },
    [Symbol.asyncDispose]() {
      return remote.close();
    },
  };
  return remote;
}

/** A server's error body as the error it was: a VcError with its code, message and hint intact. */
function remoteError(body: unknown, status: number): Error {
  const e = (body as Partial<ApiErrorBody> | null)?.error;
  if (!e || typeof e.code !== "string" || typeof e.message !== "string") return new Error(`the daemon answered ${status} without an error body`);
  if (e.code === "internal") return Object.assign(new Error(`the daemon failed: ${e.message}`), { code: "internal" });
  return new VcError(e.code as VcErrorCode, e.message, { hint: e.hint, details: e.details, machine: e.machine, collector: e.collector });
}

function unreachable(socketPath: string, err: unknown): VcError {
  return new VcError("store_open_failed", `the daemon stopped answering on ${socketPath}: ${errorMessage(err)}`, {
    hint: "is `vc up` still running? Without it, vc opens the store itself",
    cause: err,
  });
}
