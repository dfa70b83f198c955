// vc over HTTP (plan §7.2, §9.1), served by `vc up` beside its socket: the JSON API generated from
// the view registry, the watch stream as Server-Sent Events, Prometheus /metrics, and — from
// lib/web/ui, registered through `route()` — the dashboard. Loopback by default; any other address
// only with a token. Every response carries a Content-Security-Policy that forbids inline script.
import type { Server } from "bun";
import type { Cockpit } from "../cockpit.ts";
import { recordAudit } from "../audit.ts";
import { VcError, errorMessage, isVcError } from "../errors.ts";
import { STATUS, errorBody } from "../serve/api.ts";
import { parseHttpAddress } from "./address.ts";
import { apiRoutes, compilePath, type WebRoute } from "./api.ts";
import { createGuard, type AuthFailure, type Who } from "./guard.ts";
import { createMetrics } from "./metrics.ts";
import { createSseHub } from "./sse.ts";

export type { WebContext, WebRoute } from "./api.ts";

/** How `createWebServer` serves: where, the token, extra routes, and its bounds. */
export interface WebServerOptions {
  /** Where to listen: `127.0.0.1:8787`, `[::1]:8787`, `0.0.0.0:8787` (needs a token), a bare port for loopback. */
  address: string;
  /** The bearer token every request must carry; required off loopback. */
  token?: string | null;
  /** More routes (the dashboard's): tried after the API's, before the placeholder at `/`. */
  routes?: readonly WebRoute[];
  /**
   * The dashboard (lib/web/ui): asked for every GET or HEAD no API route takes, after the guard;
   * it answers its page and assets, or null (then the placeholder at `/`, or 404).
   */
  ui?: { fetch(req: Request): Promise<Response | null> | Response | null };
  /** Seconds a connection may stay quiet, a slow view's included (default 120; Bun allows 255). Streams beat at least twice within it. */
  idleTimeoutSeconds?: number;
  /** Seconds between heartbeats on the event stream (default 15, at most half the idle timeout). */
  heartbeatSeconds?: number;
  /** Bytes an event stream's client may leave unread before it is dropped (default 8 MiB: more than a cycle's lines); one that reads nothing is closed by the idle timeout too. */
  sseMaxBufferedBytes?: number;
  /** Event streams open at once (default 64): more get 503. */
  maxStreams?: number;
  /** Requests answered at once (default 16); up to `maxQueued` more wait for a turn (default 4096), the rest get 503. */
  maxInFlight?: number;
  maxQueued?: number;
  /** Largest request body, in bytes (default 64 KiB). */
  maxBodyBytes?: number;
  /** Failed token attempts per client address within `failureWindowSeconds` (default 10 per 60) before it is refused outright. */
  maxFailures?: number;
  failureWindowSeconds?: number;
  /** Errors that are not VcErrors (bugs), with the route that met them. */
  onError?: (err: unknown, route: string) => void;
}

export interface WebServer {
  /** `http://host:port/`, with the port the system chose for port 0. */
  readonly url: string;
  readonly port: number;
  /** Adds routes (the dashboard's pages and assets): tried after the API's, before the placeholder at `/`. */
  route(...routes: WebRoute[]): void;
  /** Ends the event streams and stops listening. */
  close(): Promise<void>;
}

/** The Content-Security-Policy of every response: nothing inline, nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-resource-policy": "same-origin",
};

/** The methods counted by name on /metrics (any other is "other": a label never takes what a client made up). */
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Tokens shorter than this are refused: a guessable token is no guard. */
export const MIN_TOKEN_LENGTH = 16;

const PLACEHOLDER =
  "vc serves its JSON API at /api (GET /api lists the views), the watch stream at /api/events and Prometheus metrics at /metrics.\nThis server was started without the dashboard.\n";

/**
 * Serves a cockpit over HTTP until `close()`. Refuses to start off loopback without a token, and
 * with a token shorter than 16 characters.
 * @example const web = createWebServer(vc, { address: "127.0.0.1:8787" }); console.log(web.url); … await web.close()
 */
export function createWebServer(cockpit: Cockpit, options: WebServerOptions): WebServer {
  const address = parseHttpAddress(options.address, "serve.http");
  const token = options.token || null;
  if (!address.loopback && !token) {
    throw new VcError("config_invalid", `refusing to serve HTTP on ${options.address} without a token: anyone who reaches it could read the fleet and ack its alerts`, {
      hint: "set VC_WEB_TOKEN in the daemon's environment or serve.token in vc.config.ts (e.g. `openssl rand -hex 32`), or serve on 127.0.0.1",
    });
  }
  if (token !== null && token.length < MIN_TOKEN_LENGTH) {
    throw new VcError("config_invalid", `the HTTP token is ${token.length} characters; vc takes one of at least ${MIN_TOKEN_LENGTH}`, {
      hint: "set VC_WEB_TOKEN or serve.token to a long random string (e.g. `openssl rand -hex 32`)",
    });
  }
  const idleTimeout = Math.min(255, Math.max(8, Math.round(options.idleTimeoutSeconds ?? 120)));
  const heartbeatMs = Math.min(options.heartbeatSeconds ?? 15, idleTimeout / 2) * 1000;
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const maxStreams = options.maxStreams ?? 64;
  const onError = options.onError;

  // The routes first: a named route onto no view is refused before anything listens or subscribes.
  type Compiled = WebRoute & { pattern: RegExp; names: string[] };
  const compile = (r: WebRoute): Compiled => ({ ...r, ...compilePath(r.path) });
  const api = apiRoutes(cockpit, {
    events(req) {
      if (sse.size >= maxStreams) throw new VcError("busy", `${sse.size} event streams are open already`, { hint: "close a page and retry" });
      const res = sse.open(req);
      metrics.sseClients(sse.size);
      return res;
    },
  }).map(compile);
  const metrics = createMetrics(cockpit, (err, part) => onError?.(err, `GET /metrics (${part})`));
  const sse = createSseHub(cockpit, {
    heartbeatMs,
    maxBufferedBytes: options.sseMaxBufferedBytes ?? 8 * 1024 * 1024,
    headers: { ...SECURITY_HEADERS },
    onError: (err) => onError?.(err, "GET /api/events"),
    onDrop: () => metrics.sseDropped(),
  });
  const audit = (f: AuthFailure) =>
    cockpit.store
      .transaction((tx) =>
        recordAudit(tx, {
          ts: cockpit.clock.now(),
          eventType: f.limited ? "web_auth_rate_limited" : "web_auth_failed",
          actor: `web ${f.ip}`,
          action: `${f.method} ${f.path}`,
          result: f.reason,
          details: f,
        }),
      )
      .then(
        () => metrics.authFailure(f.reason),
        (err) => onError?.(err, "audit of a failed token"),
      );

  const own: Compiled[] = [compile({ method: "GET", path: "/metrics", handle: metricsResponse })];
  const extra: Compiled[] = (options.routes ?? []).map(compile);
  const placeholder = compile({ method: "GET", path: "/", handle: () => new Response(PLACEHOLDER, { headers: { "content-type": "text/plain; charset=utf-8" } }) });

  async function metricsResponse(): Promise<Response> {
    metrics.sseClients(sse.size);
    return new Response(await metrics.text(), { headers: { "content-type": metrics.contentType, "cache-control": "no-store" } });
  }

  // Requests answered at once are bounded; the rest wait their turn in order, up to a bound.
  const maxInFlight = options.maxInFlight ?? 16;
  const maxQueued = options.maxQueued ?? 4096;
  let active = 0;
  const waiting: (() => void)[] = [];
  const admit = async (): Promise<boolean> => {
    if (active < maxInFlight) {
      active++;
      return true;
    }
    if (waiting.length >= maxQueued) return false;
    await new Promise<void>((resolve) => waiting.push(resolve));
    return true; // the slot passed on by release()
  };
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  let guard: ReturnType<typeof createGuard>;

  async function fetch(req: Request, srv: Server<undefined>): Promise<Response> {
    const url = new URL(req.url);
    const method = req.method === "HEAD" ? "GET" : req.method;
    const route = { label: "unmatched" };
    let res: Response;
    try {
      const checked = await guard.check(req, url, srv.requestIP(req)?.address ?? "unknown");
      if ("refused" in checked) {
        const r = checked.refused;
        res = json({ error: { code: r.code, message: r.message, ...(r.hint ? { hint: r.hint } : {}) } }, r.status, r.retryAfter ? { "retry-after": String(r.retryAfter) } : {});
      } else res = await answer(req, url, method, checked.who, route, () => srv.timeout(req, 0));
    } catch (err) {
      if (!isVcError(err)) onError?.(err, `${req.method} ${route.label}`);
      res = json(errorBody(err), isVcError(err) ? (STATUS[err.code] ?? 500) : 500);
    }
    metrics.request(route.label, METHODS.has(method) ? method : "other", res.status);
    return secured(req.method === "HEAD" ? new Response(null, res) : res);
  }

  /** A request that passed the guard: its route's answer, the dashboard's, or why not. */
  async function answer(req: Request, url: URL, method: string, who: Who, route: { label: string }, keepOpen: () => void): Promise<Response> {
    const { hit, params } = match(method, url.pathname);
    if (!hit || hit === placeholder) {
      const page = method === "GET" ? await options.ui?.fetch(req) : null;
      if (page) {
        route.label = "ui";
        return page;
      }
    }
    if (!hit) throw new VcError("not_found", `no route ${req.method} ${url.pathname.slice(0, 200)}`, { hint: "GET /api lists the views and routes" });
    route.label = hit.path === "/api/:view" && cockpit.views.get(params.view!) ? `/api/${params.view}` : hit.path;
    if (hit.method !== method) return json(errorBody(new VcError("invalid_input", `${url.pathname} takes ${hit.method}, not ${req.method}`)), 405, { allow: hit.method });
    if (!(await admit()))
      return json(errorBody(new VcError("busy", `vc is answering ${active} requests with ${waiting.length} waiting`, { hint: "retry in a moment" })), 503, { "retry-after": "1" });
    try {
      const out = await hit.handle({ req, url, params, who, keepOpen });
      return out instanceof Response ? out : json(out, 200);
    } finally {
      release();
    }
  }

  /** The first route whose path matches (with its method, or any, for a 405). */
  function match(method: string, pathname: string): { hit?: Compiled; params: Record<string, string> } {
    let other: { hit: Compiled; params: Record<string, string> } | undefined;
    for (const route of [...own, ...api, ...extra, placeholder]) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => {
        const raw = m[i + 1] ?? "";
        try {
          params[n] = decodeURIComponent(raw);
        } catch {
          throw new VcError("invalid_input", `"${raw.slice(0, 100)}" is not a valid URL path segment`);
        }
      });
      if (route.method === method) return { hit: route, params };
      other ??= { hit: route, params };
    }
    return other ?? { params: {} };
  }

  let server: Server<undefined>;
  try {
    server = Bun.serve({
      hostname: address.hostname,
      port: address.port,
      idleTimeout,
      maxRequestBodySize: maxBody,
      fetch,
      error: (err) => {
        onError?.(err, "http");
        return secured(json(errorBody(err), 500));
      },
    });
  } catch (err) {
    metrics.close();
    throw new VcError("invalid_input", `cannot serve HTTP on ${options.address}: ${errorMessage(err)}`, {
      cause: err,
      hint: "another process may listen there: choose another address with --http or serve.http",
    });
  }
  const port = server.port ?? address.port;
  guard = createGuard({
    token,
    hostname: address.hostname,
    port,
    maxFailures: options.maxFailures,
    failureWindowMs: (options.failureWindowSeconds ?? 60) * 1000,
    onFailure: audit,
  });
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/`,
    port,
    route(...routes) {
      extra.push(...routes.map(compile));
    },
    close() {
      closing ??= (async () => {
        metrics.close();
        sse.closeAll();
        const graceful = server.stop(false);
        if (await Promise.race([graceful.then(() => false), Bun.sleep(1000).then(() => true)])) await server.stop(true);
      })();
      return closing;
    },
  };
}

/** JSON with bigints as strings, and extra headers. */
function json(value: unknown, status: number, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(value, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) ?? "null";
  return new Response(text, { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers } });
}

/** The response with the security headers it lacks (a stricter policy of its own stays); a copy when its headers cannot be changed. */
function secured(res: Response): Response {
  const missing = Object.entries(SECURITY_HEADERS).filter(([k]) => !res.headers.has(k));
  try {
    for (const [k, v] of missing) res.headers.set(k, v);
    return res;
  } catch {
    const headers = new Headers(res.headers);
    for (const [k, v] of missing) headers.set(k, v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}
