// The daemon's local API: the cockpit over HTTP on a Unix socket, so other processes reach the
// store that `vc up` holds (DuckDB lets no other process open it meanwhile). One interface, two
// transports: lib/serve/client.ts is the other end.
import { chmodSync, lstatSync, mkdirSync, rmSync, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import * as v from "valibot";
import type { Cockpit } from "../cockpit.ts";
import { runView } from "../views/define.ts";
import { VcError, errorMessage, isVcError, type VcErrorCode } from "../errors.ts";

import { watchStream, type HeartbeatEvent, type WatchEvent } from "../watch.ts";
import { closeIncident, noteIncident } from "../incidents/ops.ts";
import { recordRequest, reportCompletion } from "../mcp/records.ts";
export type { HeartbeatEvent, WatchEvent };

/** What `GET /v1/info` answers: who serves, over which store. */
export interface DaemonInfo {
  service: "vc";
  api: 1;
  pid: number;
  db: string;
  data_dir: string;
  started_at: string;
  now: string;
}

/** The error body of every failed request. */
export interface ApiErrorBody {
  error: { code: string; message: string; hint?: string; details?: Record<string, unknown>; machine?: string; collector?: string };
}

export interface ApiServerOptions {
  /** Called with errors that are not VcErrors (bugs) as they are answered with a 500. */
  onError?: (err: unknown, route: string) => void;
  /** Seconds a connection may sit idle before the server closes it (default 120; Bun's max 255). Streams send heartbeats well inside it. */
  idleTimeoutSeconds?: number;
  /** Largest request body taken, in bytes (default 1 MiB): larger ones get 413. */
  maxBodyBytes?: number;
  /** Requests answered at once (default 64; streams not counted): more get 503. */
  maxInFlight?: number;
}

export interface ApiServer {
  readonly socketPath: string;
  /** Ends every watch stream, stops listening and removes the socket file. */
  close(): Promise<void>;
}

/** Default seconds between heartbeats on the watch stream. */
export const DEFAULT_HEARTBEAT_SECONDS = 15;

/** Most sockets take at most 108 bytes of path (104 on macOS), the terminating NUL included. */
const MAX_SOCKET_PATH = 103;

/** The HTTP status of each error code vc answers with (any other: 500); the web API's too. */
export const STATUS: Partial<Record<VcErrorCode, number>> = {
  invalid_input: 400,
  invalid_argument: 400,
  usage: 400,
  payload_too_large: 413,
  request_timeout: 408,
  busy: 503,
  query_failed: 400,
  query_refused: 403,
  not_found: 404,
  unknown_machine: 404,
  unknown_collector: 404,
  store_locked: 409,
  exec_failed: 502,
  exec_timeout: 504,
};

const Ack = v.object({ by: v.pipe(v.string(), v.nonEmpty()), note: v.optional(v.string()) });
const Silence = v.object({
  matchers: v.record(v.string(), v.string()),
  endsAt: v.optional(v.pipe(v.string(), v.isoTimestamp())),
  untilResolved: v.optional(v.boolean()),
  comment: v.optional(v.string()),
  by: v.pipe(v.string(), v.nonEmpty()),
});
const IncidentNote = v.object({ by: v.pipe(v.string(), v.nonEmpty()), text: v.string() });
const IncidentClose = v.object({ by: v.pipe(v.string(), v.nonEmpty()), resolution: v.string() });
const Query = v.object({ sql: v.pipe(v.string(), v.maxLength(100_000)) });
const Probe = v.object({ ids: v.optional(v.array(v.pipe(v.string(), v.maxLength(200)))) });
const Search = v.object({
  query: v.pipe(v.string(), v.nonEmpty(), v.maxLength(1000)),
  machines: v.optional(v.array(v.pipe(v.string(), v.maxLength(200)))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(600_000))),
});
const Collect = v.object({
  machine: v.optional(v.pipe(v.string(), v.maxLength(200))),
  collector: v.optional(v.pipe(v.string(), v.maxLength(200))),
  force: v.optional(v.boolean()),
});
const ViewArgs = v.record(v.string(), v.unknown());
const GuardianCheck = v.strictObject({ dryRun: v.optional(v.boolean()), protocol: v.optional(v.pipe(v.string(), v.maxLength(200))) });
const Decide = v.strictObject({ by: v.pipe(v.string(), v.nonEmpty(), v.maxLength(200)), reason: v.optional(v.pipe(v.string(), v.maxLength(2000))) });
const Act = v.strictObject({
  machine: v.pipe(v.string(), v.nonEmpty(), v.maxLength(200)),
  argv: v.pipe(v.array(v.pipe(v.string(), v.maxLength(100_000))), v.minLength(1), v.maxLength(1000)),
  writes: v.boolean(),
  purpose: v.pipe(v.string(), v.maxLength(500)),
  by: v.pipe(v.string(), v.nonEmpty(), v.maxLength(200)),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(3_600_000))),
  details: v.optional(v.record(v.string(), v.unknown())),
});

type Route = { method: "GET" | "POST"; pattern: RegExp; handle: (ctx: { req: Request; url: URL; params: string[]; text: string }) => unknown };

/**
 * Serves the cockpit on a Unix socket only its owner may use (0600). A stale socket file is
 * replaced; anything else at that path is left alone and refused.
 * @example const api = createApiServer(vc, socketPathFor(vc.config.data_dir)); … await api.close()
 */
export function createApiServer(cockpit: Cockpit, socketPath: string, options: ApiServerOptions = {}): ApiServer {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new VcError("invalid_input", `the socket path ${socketPath} is longer than a Unix socket allows (${MAX_SOCKET_PATH} bytes)`, {
      hint: "use a shorter data_dir in vc.config.ts",
    });
  }
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
  const existing = lstatOrNull(socketPath);
  if (existing) {
    if (!existing.isSocket()) {
      throw new VcError("invalid_input", `${socketPath} exists and is not a socket; vc left it untouched`, { hint: "move it away or use another data_dir" });
    }
    rmSync(socketPath, { force: true });
  }

  const startedAt = cockpit.clock.now().toISOString();
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  // Bun checks idle connections in ticks of about 4 s, and closes one at the next tick after a
  // timeout of one tick even while it writes: two ticks is the shortest that holds.
  const idleTimeout = Math.min(255, Math.max(8, Math.round(options.idleTimeoutSeconds ?? 120)));
  const read = <S extends v.GenericSchema>(text: string, schema: S) => parseBody(text, schema);
  const streams = new Set<{ end(): void }>();
  const now = () => cockpit.clock.now().toISOString();
  const flag = (url: URL, name: string) => ["1", "true", "yes"].includes(url.searchParams.get(name) ?? "");

  const routes: Route[] = [
    {
      method: "GET",
      pattern: /^\/v1\/info$/,
      handle: (): DaemonInfo => ({ service: "vc", api: 1, pid: process.pid, db: cockpit.store.path, data_dir: cockpit.config.data_dir, started_at: startedAt, now: now() }),
    },
    { method: "GET", pattern: /^\/v1\/health$/, handle: () => cockpit.health() },
    {
      method: "GET",
      pattern: /^\/v1\/views$/,
      handle: () => ({ views: cockpit.views.views.map((x) => ({ name: x.name, summary: x.summary, args: x.args })) }),
    },
    // A view's arguments: as query parameters (GET) or a JSON object (POST); either way checked against its spec.
    { method: "GET", pattern: /^\/v1\/views\/([^/]+)$/, handle: ({ url, params }) => runView(cockpit, cockpit.views.require(params[0]!), Object.fromEntries(url.searchParams)) },
    { method: "POST", pattern: /^\/v1\/views\/([^/]+)$/, handle: async ({ text, params }) => runView(cockpit, cockpit.views.require(params[0]!), await read(text, ViewArgs)) },
    { method: "GET", pattern: /^\/v1\/alerts$/, handle: ({ url }) => cockpit.alerts({ all: flag(url, "all") }) },
    {
      method: "POST",
      pattern: /^\/v1\/alerts\/([^/]+)\/ack$/,
      handle: async ({ text, params }) => cockpit.ack(params[0]!, await read(text, Ack)),
    },
    { method: "GET", pattern: /^\/v1\/alerts\/([^/]+)\/explain$/, handle: ({ params }) => cockpit.explain(params[0]!) },
    {
      method: "POST",
      pattern: /^\/v1\/silences$/,
      handle: async ({ text }) => {
        const { endsAt, ...rest } = await read(text, Silence);
        return cockpit.silence({ ...rest, ...(endsAt ? { endsAt: new Date(endsAt) } : {}) });
      },
    },
    {
      method: "POST",
      pattern: /^\/v1\/incidents\/([^/]+)\/notes$/,
      handle: async ({ text, params }) => noteIncident(cockpit.store, params[0]!, { ...(await read(text, IncidentNote)), at: cockpit.clock.now() }),
    },
    {
      method: "POST",
      pattern: /^\/v1\/incidents\/([^/]+)\/close$/,
      handle: async ({ text, params }) => closeIncident(cockpit.store, cockpit.config, params[0]!, { ...(await read(text, IncidentClose)), at: cockpit.clock.now() }),
    },
    // What agents report through MCP (lib/mcp/records.ts checks the body).
    { method: "POST", pattern: /^\/v1\/agents\/reports$/, handle: async ({ text }) => reportCompletion(cockpit.store, JSON.parse(text || "{}"), cockpit.clock.now()) },
    { method: "POST", pattern: /^\/v1\/agents\/requests$/, handle: async ({ text }) => recordRequest(cockpit.store, JSON.parse(text || "{}"), cockpit.clock.now()) },
    // A person's command on a machine (fleet commands), through the gate and the audit log.
    { method: "POST", pattern: /^\/v1\/actions$/, handle: async ({ req, text }) => (server.timeout(req, 0), cockpit.act(await read(text, Act))) },
    // The guardian: a check now, a pending run approved (it runs to its end: no idle timeout) or denied.
    { method: "POST", pattern: /^\/v1\/guardian\/check$/, handle: async ({ req, text }) => (server.timeout(req, 0), cockpit.guardianCheck(await read(text, GuardianCheck))) },
    {
      method: "POST",
      pattern: /^\/v1\/guardian\/runs\/([^/]+)\/approve$/,
      handle: async ({ req, text, params }) => (server.timeout(req, 0), cockpit.approveRun(params[0]!, { by: (await read(text, Decide)).by })),
    },
    { method: "POST", pattern: /^\/v1\/guardian\/runs\/([^/]+)\/deny$/, handle: async ({ text, params }) => cockpit.denyRun(params[0]!, await read(text, Decide)) },
    { method: "POST", pattern: /^\/v1\/query$/, handle: async ({ text }) => cockpit.query((await read(text, Query)).sql) },
    { method: "GET", pattern: /^\/v1\/machines$/, handle: () => cockpit.machines() },
    { method: "POST", pattern: /^\/v1\/machines\/probe$/, handle: async ({ text }) => cockpit.probeMachines((await read(text, Probe)).ids) },
    {
      method: "POST",
      pattern: /^\/v1\/search$/,
      handle: async ({ text }) => {
        const { query, ...rest } = await read(text, Search);
        return cockpit.search(query, rest);
      },
    },
    { method: "GET", pattern: /^\/v1\/doctor$/, handle: () => cockpit.doctor() },
    { method: "POST", pattern: /^\/v1\/collect$/, handle: async ({ req, text }) => collect(req, await read(text, Collect)) },
    { method: "GET", pattern: /^\/v1\/watch$/, handle: ({ req, url }) => watch(req, url) },
  ];

  /**
   * A cycle now, in the daemon, streamed back: one `{"type":"run"}` line per collector run as it
   * ends, then `{"type":"report"}` with the whole report (or `{"type":"error"}`).
   */
  function collect(req: Request, o: v.InferOutput<typeof Collect>): Response {
    server.timeout(req, 0);
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (x: unknown) => {
          try {
            controller.enqueue(encoder.encode(`${stringify(x)}\n`));
          } catch {
            // the client left; the cycle still finishes and is stored
          }
        };
        try {
          const report = await cockpit.collect({ ...o, onRun: (record) => send({ type: "run", record }) });
          send({ type: "report", report });
        } catch (err) {
          if (!isVcError(err)) options.onError?.(err, "POST /v1/collect");
          send({ type: "error", ...errorBody(err) });
        }
        try {
          controller.close();
        } catch {
          // already closed
        }
      },
    });
    return new Response(stream, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
  }

  function watch(req: Request, url: URL): Response {
    const hb = url.searchParams.get("heartbeat");
    const seconds = hb === null || hb === "" ? DEFAULT_HEARTBEAT_SECONDS : Number(hb);
    if (!Number.isFinite(seconds) || seconds < 0.05 || seconds > 86_400) {
      throw new VcError("invalid_input", `heartbeat: "${hb}" is not a number of seconds between 0.05 and 86400`);
    }
    server.timeout(req, 0); // a quiet stream is not an idle connection
    const stream = watchStream(cockpit, req, {
      frame: (e) => `${JSON.stringify(e)}\n`,
      // Never quieter than half the idle timeout, or the server would close the stream.
      heartbeatMs: Math.min(seconds, idleTimeout / 2) * 1000,
      streams,
      onError: (err) => options.onError?.(err, "GET /v1/watch"),
    });
    return new Response(stream, { headers: { "content-type": "application/x-ndjson", "cache-control": "no-store" } });
  }

  const maxInFlight = options.maxInFlight ?? 64;
  let inFlight = 0;
  let reading = 0;
  const busy = (what: string, n: number) => errorResponse(new VcError("busy", `the daemon is ${what} ${n} requests already`, { hint: "retry in a moment" }));

  /**
   * Bodies are read before a request counts as in flight, bounded in size, in number and in time:
   * a client that sends half a body holds one reading slot for at most BODY_TIMEOUT_MS, never the
   * slots that answer (GETs keep answering meanwhile).
   */
  async function fetch(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const route = `${req.method} ${url.pathname}`;
    let text = "";
    if (req.method === "POST" || req.method === "PUT") {
      const length = Number(req.headers.get("content-length") ?? 0);
      if (length > maxBody) return errorResponse(new VcError("payload_too_large", `the request body is ${length} bytes; the daemon takes at most ${maxBody}`));
      if (reading >= maxInFlight) return busy("reading", reading);
      reading++;
      try {
        text = await boundedText(req, maxBody, BODY_TIMEOUT_MS);
      } catch (err) {
        return errorResponse(err);
      } finally {
        reading--;
      }
    }
    if (inFlight >= maxInFlight) return busy("answering", inFlight);
    inFlight++;
    try {
      return await answer(req, url, route, text);
    } finally {
      inFlight--;
    }
  }

  async function answer(req: Request, url: URL, route: string, text: string): Promise<Response> {
    try {
      const matching = routes.map((r) => ({ r, m: r.pattern.exec(url.pathname) })).filter((x) => x.m);
      if (matching.length === 0) throw new VcError("not_found", `no route ${url.pathname}`, { hint: "GET /v1/info answers when the daemon serves" });
      const hit = matching.find((x) => x.r.method === req.method);
      if (!hit) return errorResponse(new VcError("invalid_input", `${url.pathname} takes ${matching.map((x) => x.r.method).join(", ")}, not ${req.method}`), 405);
      const params = hit.m!.slice(1).map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          throw new VcError("invalid_input", `"${p}" is not a valid URL path segment`);
        }
      });
      const out = await hit.r.handle({ req, url, params, text });
      return out instanceof Response ? out : json(out, 200);
    } catch (err) {
      if (!isVcError(err)) options.onError?.(err, route);
      return errorResponse(err);
    }
  }

  const previous = process.umask(0o177); // the socket is created 0600, with no window before the chmod
  let server: ReturnType<typeof Bun.serve>;
  try {
    // (Bun's types leave idleTimeout out for Unix sockets; it applies there too: 10 s unless set.)
    server = Bun.serve({
      unix: socketPath,
      fetch,
      // Long enough for a slow view; streams answer inside it with heartbeats (and unset it per request).
      idleTimeout,
      // A hard cap for what slips past the checks below (they answer 413 with an error body first).
      maxRequestBodySize: maxBody * 4,
      error: (err: unknown) => errorResponse(err),
    } as unknown as Parameters<typeof Bun.serve>[0]);
  } finally {
    process.umask(previous);
  }
  chmodSync(socketPath, 0o600);
  const inode = statSync(socketPath).ino;

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    close() {
      closing ??= (async () => {
        for (const s of [...streams]) s.end();
        // Graceful first, so ended streams flush their last chunk; then whatever still hangs on.
        const graceful = server.stop(false);
        const late = await Promise.race([graceful.then(() => false), Bun.sleep(1000).then(() => true)]);
        if (late) await server.stop(true);
        // Bun removes the socket itself; make sure, but never remove another server's socket.
        try {
          if (statSync(socketPath).ino === inode) rmSync(socketPath, { force: true });
        } catch {
          // gone already
        }
      })();
      return closing;
    },
  };
}

/** The body of an error answer: a VcError keeps its code, message and hint; anything else is internal. */
export function errorBody(err: unknown): ApiErrorBody {
  if (!isVcError(err)) return { error: { code: "internal", message: errorMessage(err) } };
  const error: ApiErrorBody["error"] = { code: err.code, message: err.message };
  if (err.hint) error.hint = err.hint;
  if (err.machine) error.machine = err.machine;
  if (err.collector) error.collector = err.collector;
  if (err.details) {
    try {
      error.details = JSON.parse(stringify(err.details)) as Record<string, unknown>;
    } catch {
      // details that cannot travel stay behind
    }
  }
  return { error };
}

function errorResponse(err: unknown, status?: number): Response {
  return json(errorBody(err), status ?? (isVcError(err) ? (STATUS[err.code] ?? 500) : 500));
}

/** JSON with bigints as strings (DuckDB hands out the ones beyond 2^53 that way already). */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) ?? "null";
}

function json(value: unknown, status: number): Response {
  return new Response(stringify(value), { status, headers: { "content-type": "application/json" } });
}

/** A request's JSON body checked against `schema`: `invalid_input` when it is not JSON, `invalid_argument` naming the field when it does not fit. */
export function parseBody<S extends v.GenericSchema>(text: string, schema: S): v.InferOutput<S> {
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw new VcError("invalid_input", "the request body is not JSON");
    }
  }
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = issue.path?.map((p) => String(p.key)).join(".") || "(body)";
    throw new VcError("invalid_argument", `${field}: ${issue.message}`, { details: { field } });
  }
  return parsed.output;
}

/** How long a request's body may take to arrive. */
const BODY_TIMEOUT_MS = 10_000;

/** The body as text, refused (413) once it passes `maxBytes` — also when it came without a length — or (408) when it is too slow. */
async function boundedText(req: Request, maxBytes: number, timeoutMs: number): Promise<string> {
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new VcError("request_timeout", `the request body did not arrive within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    for (;;) {
      const { value, done } = await Promise.race([reader.read(), late]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new VcError("payload_too_large", `the request body passed ${maxBytes} bytes`, { hint: "send less" });
      chunks.push(value);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
