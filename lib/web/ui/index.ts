// The web dashboard, served by the daemon's HTTP server (lib/web/server.ts, its `ui` option): the
// page in browser/ is bundled by Bun (Bun.build on its HTML, at the first request or at start) into
// memory — a script, uPlot's script apart (loaded by the first chart), a stylesheet, an icon — and
// answered from there, gzipped when the browser takes it. Nothing is fetched from outside: the
// page talks only to the daemon's /api on its own origin.
import { join } from "node:path";
import type { Cockpit } from "../../cockpit.ts";
import { isVcError } from "../../errors.ts";
import { STATUS, errorBody } from "../../serve/api.ts";

/**
 * The Content-Security-Policy of the page: scripts, styles, images and connections from the
 * daemon only; no inline script, no plugins, no framing, no base or form elsewhere.
 */
export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Where the bundle's files are served (the HTML names them under it). */
export const ASSET_PREFIX = "/assets/";

export interface DashboardOptions {
  /** Minify the scripts and stylesheet (default true). */
  minify?: boolean;
  /**
   * The cockpit whose alerts the Alerts page explains: with it, the dashboard also answers
   * `GET /api/alerts/:id/explain` (the rule, thresholds, values and history of one alert).
   */
  cockpit?: Pick<Cockpit, "explain">;
}

/** One file of the built dashboard. */
export interface DashboardFile {
  /** Its URL path: `/` for the page, `/assets/…` for the rest. */
  path: string;
  type: string;
  bytes: number;
  /** Its size gzipped, as sent to a browser that accepts gzip. */
  gzip_bytes: number;
}

export interface DashboardBuild {
  files: DashboardFile[];
  /** How long Bun.build took. */
  ms: number;
}

export interface Dashboard {
  /**
   * The answer to `GET`/`HEAD /` (the page), `/index.html`, `/assets/…` (its files) and, with a
   * cockpit, `/api/alerts/:id/explain`; null for any other request, which the server answers
   * itself. A build that failed answers 500 saying why.
   */
  fetch(req: Request): Promise<Response | null>;
  /** Builds the bundle now (the server may call it at start), or returns the build done. */
  ready(): Promise<DashboardBuild>;
}

interface Built {
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/** Headers every answer of the dashboard carries (the server may set its own over them). */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

const EXPLAIN = /^\/api\/alerts\/([^/]+)\/explain$/;

const text = (status: number, body: string) => new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS } });
const json = (status: number, body: unknown) =>
  new Response(
    JSON.stringify(body, (_k, x) => (typeof x === "bigint" ? x.toString() : x)),
    {
      status,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...SECURITY_HEADERS },
    },
  );

/**
 * The dashboard, built once per process on demand.
 * @example createWebServer(vc, { address: "127.0.0.1:8787", ui: createDashboard({ cockpit: vc }) })
 */
export function createDashboard(o: DashboardOptions = {}): Dashboard {
  let building: Promise<{ files: Map<string, Built>; build: DashboardBuild }> | null = null;
  const build = () =>
    (building ??= bundle(o.minify ?? true).catch((err: unknown) => {
      building = null; // the next request tries again
      throw err;
    }));

  async function explain(id: string): Promise<Response> {
    try {
      return json(200, await o.cockpit!.explain(id));
    } catch (err) {
      return json(isVcError(err) ? (STATUS[err.code] ?? 500) : 500, errorBody(err));
    }
  }

  return {
    async ready() {
      return (await build()).build;
    },
    async fetch(req) {
      if (req.method !== "GET" && req.method !== "HEAD") return null;
      const path = new URL(req.url).pathname;
      const alert = o.cockpit ? EXPLAIN.exec(path) : null;
      if (alert) {
        try {
          return await explain(decodeURIComponent(alert[1]!));
        } catch {
          return json(400, { error: { code: "invalid_input", message: "the alert id is not a valid URL path segment" } });
        }
      }
      const key = path === "/" || path === "/index.html" ? "/" : path.startsWith(ASSET_PREFIX) ? path : null;
      if (key === null) return null;
      let files: Map<string, Built>;
      try {
        files = (await build()).files;
      } catch (err) {
        return text(500, `the dashboard could not be built: ${err instanceof Error ? err.message : String(err)}`);
      }
      const file = files.get(key);
      if (!file) return text(404, "no such file");
      const headers: Record<string, string> = {
        ...SECURITY_HEADERS,
        "content-type": file.type,
        etag: file.etag,
        vary: "accept-encoding",
        // The page is small and names its files by their hash: ask for it each time, keep the files.
        "cache-control": key === "/" ? "no-cache" : "public, max-age=31536000, immutable",
      };
      if (req.headers.get("if-none-match") === file.etag) return new Response(null, { status: 304, headers });
      const gzip = /\bgzip\b/.test(req.headers.get("accept-encoding") ?? "");
      const body = gzip ? file.gzip : file.body;
      if (gzip) headers["content-encoding"] = "gzip";
      headers["content-length"] = String(body.byteLength);
      return new Response(req.method === "HEAD" ? null : body, { status: 200, headers });
    },
  };
}

async function bundle(minify: boolean): Promise<{ files: Map<string, Built>; build: DashboardBuild }> {
  const started = performance.now();
  const out = await Bun.build({
    entrypoints: [join(import.meta.dir, "browser/index.html")],
    target: "browser",
    minify,
    // uPlot in its own file, loaded by the first chart: the Overview's script stays small.
    splitting: true,
    publicPath: ASSET_PREFIX,
    naming: { entry: "[name].[ext]", chunk: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]" },
    throw: false,
  });
  if (!out.success) throw new Error(out.logs.map((l) => String(l.message ?? l)).join("; ") || "Bun.build failed");
  const files = new Map<string, Built>();
  for (const a of out.outputs) {
    const name = a.path.replace(/^.*\//, "");
    const key = name.endsWith(".html") ? "/" : `${ASSET_PREFIX}${name}`;
    const body = new Uint8Array(await a.arrayBuffer());
    files.set(key, { body, gzip: new Uint8Array(Bun.gzipSync(body, { level: 9 })), type: a.type, etag: `"${Bun.hash(body).toString(36)}"` });
  }
  if (!files.has("/")) throw new Error("Bun.build gave no HTML page");
  const ms = performance.now() - started;
  return {
    files,
    build: { ms, files: [...files].map(([path, f]) => ({ path, type: f.type, bytes: f.body.byteLength, gzip_bytes: f.gzip.byteLength })) },
  };
}
