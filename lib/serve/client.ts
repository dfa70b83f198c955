// The other end of lib/serve/api.ts: the cockpit's methods, answered by the daemon that holds
// the store. Kept light (no DuckDB, no config loading) so a command that finds the daemon starts fast.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { clockFromEnv, sleepOrAbort, type Clock } from "../clock.ts";
import type { Cockpit } from "../cockpit.ts";
import { VcError, errorMessage, type VcErrorCode } from "../errors.ts";
import type { RunRecord } from "../collect/run.ts";
import { viewCalls, type ViewCalls } from "../views/calls.ts";
import type { ArgsSpec } from "../views/define.ts";
import type { ApiErrorBody, DaemonInfo, WatchEvent } from "./api.ts";
import type { Incident, IncidentNote } from "../incidents/read.ts";
import type { ReportResult } from "../mcp/records.ts";

/** The cockpit's methods that answer the same in-process and through the daemon. */
export type CockpitApi = Pick<
  Cockpit,
  | keyof ViewCalls
  | "collect"
  | "health"
  | "alerts"
  | "ack"
  | "silence"
  | "explain"
  | "query"
  | "machines"
  | "probeMachines"
  | "doctor"
  | "search"
  | "act"
  | "guardianCheck"
  | "approveRun"
  | "denyRun"
  | "clock"
  | "close"
  | typeof Symbol.asyncDispose
>;

/** What the daemon says of a view: its name, summary and argument specs. */
export interface ViewListing {
  name: string;
  summary: string;
  args: ArgsSpec;
}

export interface WatchOptions {
  /** Seconds between heartbeat lines (default 15). */
  heartbeatSeconds?: number;
  /** Aborting it ends the stream (watch then resolves with "aborted"). */
  signal?: AbortSignal;
  /**
   * Keep watching across daemon restarts: when the stream ends or the socket stops answering,
   * reconnect with backoff (0.25 s doubling to 5 s) until the signal aborts. Without it, the
   * first end resolves "closed" (or throws if the daemon cannot be reached).
   */
  reconnect?: boolean;
  /** Told when the stream drops ("reconnecting", with the error) and when it is back ("connected"). */
  onStatus?: (status: "connected" | "reconnecting", err?: unknown) => void;
}

/** The cockpit as reached through the daemon's socket. */
export interface RemoteCockpit extends CockpitApi {
  readonly remote: true;
  readonly socketPath: string;
  /** This process's clock (`$VC_NOW` or the wall clock), for what a command computes itself. */
  readonly clock: Clock;
  /** Who serves: pid, store, data dir, since when. */
  info(): Promise<DaemonInfo>;
  /** The daemon's registered views (its plugins' included). */
  listViews(): Promise<ViewListing[]>;
  /** A note on an incident, written by the daemon (lib/incidents/ops.ts noteIncident). */
  noteIncident(id: string, o: { by: string; text: string }): Promise<IncidentNote & { incident_id: string }>;
  /** An agent's task report, stored by the daemon (lib/mcp/records.ts): once per task id. */
  reportCompletion(input: unknown): Promise<ReportResult>;
  /** A resource request and the advice given, recorded by the daemon. */
  recordRequest(input: unknown): Promise<{ request_id: string }>;
  /** Closes an incident with its resolution, in the daemon (lib/incidents/ops.ts closeIncident). */
  closeIncident(id: string, o: { by: string; resolution: string }): Promise<Incident>;
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

/**
 * The daemon's cockpit if one answers on the socket within the timeout, else null (no socket,
 * a stale socket file, another store).
 * @example const vc = (await connectDaemon(socketPathFor(config.db))) ?? (await openCockpit({ config }))
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

  /**
   * A request whose answer is JSON lines, each handed to `onLine` as it arrives. A dropped or
   * unreachable connection throws StreamDropped; an error answer throws the daemon's error.
   */
  async function stream(path: string, o: { method: "GET" | "POST"; body?: unknown; signal?: AbortSignal }, onLine: (value: unknown) => void): Promise<void> {
    const ac = new AbortController();
    const abort = () => ac.abort();
    if (o.signal?.aborted) return;
    o.signal?.addEventListener("abort", abort, { once: true });
    streams.add(ac);
    try {
      let res: Response;
      try {
        res = await fetch(`${BASE}${path}`, {
          method: o.method,
          unix: socketPath,
          signal: ac.signal,
          timeout: false,
          ...(o.body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(o.body) }),
        } as RequestInit);
      } catch (err) {
        if (ac.signal.aborted) return;
        throw new StreamDropped(err);
      }
      if (!res.ok) throw remoteError(await res.json().catch(() => null), res.status);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (ac.signal.aborted) return;
          throw new StreamDropped(err);
        }
        if (chunk.done) break;
        buffer += chunk.value;
        for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
          const line = buffer.slice(0, i).trim();
          buffer = buffer.slice(i + 1);
          if (line) onLine(JSON.parse(line));
        }
      }
    } finally {
      o.signal?.removeEventListener("abort", abort);
      streams.delete(ac);
      ac.abort(); // drop the connection: the daemon unsubscribes
    }
  }

  const remote: RemoteCockpit = {
    remote: true,
    socketPath,
    clock,
    info: () => call("GET", "/v1/info"),
    listViews: async () => (await call<{ views: ViewListing[] }>("GET", "/v1/views")).views,
    ...viewCalls((name, args = {}) => call("POST", `/v1/views/${seg(name)}`, args)),
    health: () => call("GET", "/v1/health"),
    alerts: (o = {}) => call("GET", `/v1/alerts${q({ all: o.all })}`),
    ack: (id, o) => call("POST", `/v1/alerts/${seg(id)}/ack`, { by: o.by, note: o.note }),
    silence: (input) => call("POST", "/v1/silences", { ...input, endsAt: input.endsAt?.toISOString() }),
    explain: (id) => call("GET", `/v1/alerts/${seg(id)}/explain`),
    noteIncident: (id, o) => call("POST", `/v1/incidents/${seg(id)}/notes`, { by: o.by, text: o.text }),
    closeIncident: (id, o) => call("POST", `/v1/incidents/${seg(id)}/close`, { by: o.by, resolution: o.resolution }),
    query: (text) => call("POST", "/v1/query", { sql: text }),
    reportCompletion: (input) => call("POST", "/v1/agents/reports", input),
    recordRequest: (input) => call("POST", "/v1/agents/requests", input),
    machines: () => call("GET", "/v1/machines"),
    probeMachines: (ids) => call("POST", "/v1/machines/probe", ids === undefined ? {} : { ids }),
    doctor: () => call("GET", "/v1/doctor"),
    search: (query, o = {}) => call("POST", "/v1/search", { query, ...o }),
    act: (request) => call("POST", "/v1/actions", request),
    guardianCheck: (o = {}) => call("POST", "/v1/guardian/check", o),
    approveRun: (id, o) => call("POST", `/v1/guardian/runs/${seg(id)}/approve`, o),
    denyRun: (id, o) => call("POST", `/v1/guardian/runs/${seg(id)}/deny`, o),

    /** A cycle run by the daemon now: each run record as it ends, then the report. */
    async collect(o = {}) {
      const { onRun, signal, ...rest } = o;
      let report: Awaited<ReturnType<Cockpit["collect"]>> | undefined;
      await stream("/v1/collect", { method: "POST", body: rest, signal }, (line) => {
        const x = line as { type: string; record?: RunRecord; report?: typeof report } & Partial<ApiErrorBody>;
        if (x.type === "run" && x.record) onRun?.(x.record);
        else if (x.type === "report") report = x.report;
        else if (x.type === "error") throw remoteError(x, 500);
      });
      if (!report) throw unreachable(socketPath, new Error("the stream ended before the cycle's report"));
      return report;
    },

    async watch(onEvent, o = {}) {
      if (closed) throw new VcError("invalid_input", "this connection to the daemon is closed");
      const path = `/v1/watch${q({ heartbeat: o.heartbeatSeconds })}`;
      let delay = 250;
      for (;;) {
        if (o.signal?.aborted) return { ended: "aborted" };
        let err: unknown;
        let heard = false;
        try {
          await stream(path, { method: "GET", signal: o.signal }, (e) => {
            if (!heard) {
              heard = true;
              delay = 250;
              o.onStatus?.("connected");
            }
            onEvent(e as WatchEvent);
          });
        } catch (e) {
          // A listener's own error ends the watch as it is; so does a refusal from the daemon.
          if (!(e instanceof StreamDropped)) throw e;
          err = e.cause;
        }
        if (o.signal?.aborted) return { ended: "aborted" };
        if (!o.reconnect) {
          if (err !== undefined && !heard) throw unreachable(socketPath, err);
          return { ended: "closed" };
        }
        o.onStatus?.("reconnecting", err);
        await sleepOrAbort(delay, o.signal);
        delay = Math.min(5000, delay * 2);
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

/** The stream's connection dropped or never came up (as opposed to an error the daemon answered). */
class StreamDropped extends Error {
  constructor(override readonly cause: unknown) {
    super(errorMessage(cause));
  }
}

function unreachable(socketPath: string, err: unknown): VcError {
  return new VcError("store_open_failed", `the daemon stopped answering on ${socketPath}: ${errorMessage(err)}`, {
    hint: "is `vc up` still running? Without it, vc opens the store itself",
    cause: err,
  });
}
