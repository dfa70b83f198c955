// The JSON API, generated from the view registry: `GET /api/<view>` for every view with its
// arguments as query parameters and the robot envelope as the answer; named routes onto views (the
// plan's §7.2 paths: vc's own here, a plugin's in its `apiRoutes`); a machine's series for charts;
// ack and silence; approving and denying a guardian run; `GET /api` listing every view with its
// arguments as JSON Schema.
import * as v from "valibot";
import { alertView, findAlert } from "../alerts/ops.ts";
import type { Cockpit } from "../cockpit.ts";
import { VcError } from "../errors.ts";
import { parseBody } from "../serve/api.ts";
import type { RobotEnvelope } from "../robot/envelope.ts";
import { stripControl } from "../text.ts";
import { parseDuration, runView, type AnyView } from "../views/define.ts";
import { argsJsonSchema } from "../views/schema.ts";
import type { SeriesData } from "../views/series.ts";
import { actorOf, type Who } from "./guard.ts";

/**
 * A named path onto a view (`apiRoutes` in definePlugin): each `:name` segment fills the view's
 * argument of that name, query parameters the others.
 * @example { path: "/api/machines/:id/overview", view: "machine" }
 */
export interface ApiRoute {
  path: string;
  view: string;
}

/** What a route's handler is given. */
export interface WebContext {
  req: Request;
  url: URL;
  /** The path's `:name` segments (and `*`, the rest of a path ending in `/*`), decoded. */
  params: Record<string, string>;
  who: Who;
  /** Lifts the idle timeout for this request: its answer takes as long as it takes (an approved run's commands and verification). */
  keepOpen(): void;
}

/**
 * One route of the HTTP server. `path` is exact, or has `:name` segments, or ends in `/*`. The
 * handler returns a Response, or a value answered as JSON.
 */
export interface WebRoute {
  method: "GET" | "POST";
  path: string;
  handle(ctx: WebContext): unknown;
}

/** vc's own named routes (the plan's §7.2 paths onto vc's views; `/api/<view>` covers the rest). */
export const CORE_API_ROUTES: readonly ApiRoute[] = [
  { path: "/api/machines/:id/overview", view: "machine" },
  { path: "/api/events/:source", view: "events" },
];

/** The series a chart may ask for by `metric` (the keys of the series view's data). */
const SERIES = ["cpu", "load", "mem", "swap", "disk"] as const;

/** A compiled path: its pattern and the names of its parameters in order. */
export function compilePath(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const wild = path.endsWith("/*");
  const body = (wild ? path.slice(0, -2) : path)
    .split("/")
    .map((seg) => {
      if (!seg.startsWith(":")) return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(seg.slice(1));
      return "([^/]+)";
    })
    .join("/");
  if (wild) names.push("*");
  return { pattern: new RegExp(`^${body}${wild ? "(?:/(.*))?" : ""}$`), names };
}

/** A view's raw arguments from a URL's query: a list argument may repeat, any other only once. */
export function queryArgs(url: URL, view: AnyView): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(k);
    if (all.length > 1 && view.args[k]?.kind !== "list") {
      throw new VcError("invalid_argument", `${k}: given ${all.length} times; it takes one value`, { details: { view: view.name, field: k } });
    }
    out[k] = all.join(",");
  }
  return out;
}

const name = v.pipe(v.string(), v.maxLength(100), v.transform(stripControl));
const note = v.pipe(v.string(), v.maxLength(2000));
const duration = v.union([v.number(), v.string()]);
const AckBody = v.strictObject({ by: v.optional(name), note: v.optional(note) });
const SilenceOneBody = v.strictObject({ duration: v.optional(duration), until_resolved: v.optional(v.boolean()), comment: v.optional(note), by: v.optional(name) });
const SilenceBody = v.strictObject({
  matchers: v.record(v.pipe(v.string(), v.maxLength(200)), v.pipe(v.string(), v.maxLength(500))),
  duration: v.optional(duration),
  ends_at: v.optional(v.pipe(v.string(), v.isoTimestamp())),
  until_resolved: v.optional(v.boolean()),
  comment: v.optional(note),
  by: v.optional(name),
});
const DecideBody = v.strictObject({ by: v.optional(name), reason: v.optional(note) });

/** A request's JSON body checked against `schema` (as the socket checks its bodies). */
const bodyOf = async <S extends v.GenericSchema>(req: Request, schema: S): Promise<v.InferOutput<S>> => parseBody(await req.text(), schema);

/** When a silence ends: `duration` from now (90s, 2h, 1d …), or `ends_at`. */
function endOf(now: Date, o: { duration?: number | string; ends_at?: string }): Date | undefined {
  if (o.ends_at !== undefined) return new Date(o.ends_at);
  if (o.duration === undefined) return undefined;
  const s = parseDuration(o.duration);
  if (Number.isNaN(s) || s <= 0)
    throw new VcError("invalid_argument", `duration: ${JSON.stringify(o.duration)} is not a duration (like 30m, 2h, 1d)`, { details: { field: "duration" } });
  return new Date(now.getTime() + s * 1000);
}

/**
 * The API's routes for a cockpit, in the order they are tried: the listing, the series, ack and
 * silence, the named routes, then `/api/<view>`. `events` answers `GET /api/events` for a client
 * that accepts `text/event-stream` (the watch stream); others get the events view.
 * Named routes onto an unknown view, or naming an argument the view does not take, are refused.
 */
export function apiRoutes(cockpit: Cockpit, o: { events(req: Request): Response }): WebRoute[] {
  const named = [...CORE_API_ROUTES, ...(cockpit.config.plugins ?? []).flatMap((p) => p.apiRoutes ?? [])];
  const seen = new Set<string>();
  for (const r of named) {
    const target = cockpit.views.get(r.view);
    const stray = compilePath(r.path).names.find((n) => !target || !(n in target.args));
    const bad = !r.path.startsWith("/api/")
      ? "its path must start with /api/"
      : !target
        ? `no view "${r.view}"`
        : stray
          ? `${r.view} takes no argument "${stray}"`
          : seen.has(r.path)
            ? "the path is named twice"
            : null;
    if (bad) throw new VcError("config_invalid", `HTTP route ${r.path}: ${bad}`);
    seen.add(r.path);
  }
  // Identical requests in flight at once share one answer (a page's refresh and a scraper's, many tabs).
  const inFlight = new Map<string, Promise<RobotEnvelope<unknown>>>();
  const view = (name: string, url: URL, params: Record<string, string> = {}) => {
    const found = cockpit.views.require(name);
    const query = queryArgs(url, found);
    for (const k of Object.keys(params))
      if (k in query) throw new VcError("invalid_argument", `${k}: given in the path and the query`, { details: { view: found.name, field: k } });
    const args = { ...query, ...params };
    const key = JSON.stringify([found.name, Object.entries(args).sort(([a], [b]) => (a < b ? -1 : 1))]);
    let answer = inFlight.get(key);
    if (!answer) {
      answer = runView(cockpit, found, args).finally(() => inFlight.delete(key));
      inFlight.set(key, answer);
    }
    return answer;
  };

  return [
    { method: "GET", path: "/api", handle: () => listing(cockpit, named) },
    {
      method: "GET",
      path: "/api/events",
      handle: ({ req, url }) => ((req.headers.get("accept") ?? "").includes("text/event-stream") ? o.events(req) : view("events", url)),
    },
    {
      method: "GET",
      path: "/api/machines/:id/series",
      handle: async ({ url, params }) => {
        const metric = url.searchParams.get("metric");
        const wanted = metric === null ? [...SERIES] : metric.split(",").map((m) => m.trim());
        const unknown = wanted.filter((m) => !(SERIES as readonly string[]).includes(m));
        if (unknown.length) {
          throw new VcError("invalid_argument", `metric: ${JSON.stringify(unknown[0])} is not a series; the series are ${SERIES.join(", ")}`, {
            details: { view: "series", field: "metric" },
          });
        }
        const query = new URL(url);
        query.searchParams.delete("metric");
        const env = await view("series", query, { machine: params.id! });
        const { cpu: _c, load: _l, mem: _m, swap: _s, disk: _d, ...rest } = env.data as SeriesData;
        return { ...env, data: { ...rest, ...Object.fromEntries(wanted.map((m) => [m, (env.data as SeriesData)[m as (typeof SERIES)[number]]])) } };
      },
    },
    {
      method: "POST",
      path: "/api/alerts/:id/ack",
      handle: async ({ req, params, who }) => {
        const b = await bodyOf(req, AckBody);
        return cockpit.ack(params.id!, { by: actorOf(who, b.by), note: b.note });
      },
    },
    {
      method: "POST",
      path: "/api/alerts/:id/silence",
      handle: async ({ req, params, who }) => {
        const b = await bodyOf(req, SilenceOneBody);
        const alert = alertView(await findAlert(cockpit.store, params.id!));
        return cockpit.silence({
          matchers: { rule: alert.rule, ...alert.labels },
          endsAt: endOf(cockpit.clock.now(), b),
          untilResolved: b.until_resolved,
          comment: b.comment,
          by: actorOf(who, b.by),
        });
      },
    },
    {
      method: "POST",
      path: "/api/silences",
      handle: async ({ req, who }) => {
        const b = await bodyOf(req, SilenceBody);
        return cockpit.silence({ matchers: b.matchers, endsAt: endOf(cockpit.clock.now(), b), untilResolved: b.until_resolved, comment: b.comment, by: actorOf(who, b.by) });
      },
    },
    // A pending guardian run decided by a person: approved, its planned commands run to the end (no idle timeout), then its verification.
    {
      method: "POST",
      path: "/api/guardian/runs/:id/approve",
      handle: async ({ req, params, who, keepOpen }) => {
        const b = await bodyOf(req, DecideBody);
        keepOpen();
        return cockpit.approveRun(params.id!, { by: actorOf(who, b.by) });
      },
    },
    {
      method: "POST",
      path: "/api/guardian/runs/:id/deny",
      handle: async ({ req, params, who }) => {
        const b = await bodyOf(req, DecideBody);
        return cockpit.denyRun(params.id!, { by: actorOf(who, b.by), reason: b.reason });
      },
    },
    ...named.map((r): WebRoute => ({ method: "GET", path: r.path, handle: ({ url, params }) => view(r.view, url, params) })),
    { method: "GET", path: "/api/:view", handle: ({ url, params }) => view(params.view!, url) },
  ];
}

/** `GET /api`: every view with its path and its arguments as JSON Schema, the named routes, the stream and the actions. */
function listing(cockpit: Cockpit, named: readonly ApiRoute[]) {
  return {
    service: "vc",
    api: 1,
    views: cockpit.views.views.map((x) => ({ name: x.name, summary: x.summary, path: `/api/${x.name}`, ...(x.live ? { live: x.live } : {}), args: argsJsonSchema(x.args) })),
    routes: [...named, { path: "/api/machines/:id/series", view: "series", query: "metric=cpu,load,mem,swap,disk&window=6h&points=120" }],
    stream: { path: "/api/events", accept: "text/event-stream", lines: "vc watch's, one JSON object per data: line" },
    actions: [
      { method: "POST", path: "/api/alerts/:id/ack", body: { by: "your name (optional)", note: "why (optional)" } },
      { method: "POST", path: "/api/alerts/:id/silence", body: { duration: "2h", until_resolved: false, comment: "", by: "" } },
      { method: "POST", path: "/api/silences", body: { matchers: { rule: "disk_low", machine_id: "orko" }, duration: "2h", comment: "", by: "" } },
      { method: "POST", path: "/api/guardian/runs/:id/approve", body: { by: "your name (optional)" } },
      { method: "POST", path: "/api/guardian/runs/:id/deny", body: { by: "your name (optional)", reason: "why (optional)" } },
    ],
    metrics: "/metrics",
  };
}
