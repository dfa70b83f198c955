// The dashboard as the server sees it (lib/web/ui): Bun.build bundles the page into memory; the
// page has no inline script and names nothing outside the daemon; its files are answered with the
// CSP, cached by hash, gzipped when asked, 304 on a matching ETag; other paths are left to the
// server; an alert is explained through the cockpit, an unknown one is a 404 JSON error.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { createFixedClock, openCockpit, resolveConfig, type Cockpit } from "../../lib/index.ts";
import { ASSET_PREFIX, createDashboard, type DashboardBuild } from "../../lib/web/ui/index.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-web-ui-");
const ui = createDashboard();
let build: DashboardBuild;
const get = async (path: string, headers: Record<string, string> = {}, method = "GET") => (await ui.fetch(new Request(`http://127.0.0.1:8787${path}`, { method, headers })))!;
const files = (ext: string) => build.files.filter((f) => f.path.endsWith(ext));

beforeAll(async () => {
  build = await ui.ready();
});

describe("the bundle", () => {
  it("is a page, its scripts (uPlot's apart), a stylesheet and an icon, all under /assets/", () => {
    expect(build.files.map((f) => f.path).filter((p) => p !== "/" && !p.startsWith(ASSET_PREFIX))).toEqual([]);
    expect(files(".js").length).toBe(2);
    expect(files(".css").length).toBe(1);
    expect(files(".svg").length).toBe(1);
    for (const f of build.files) expect(f.gzip_bytes).toBeLessThan(f.bytes);
  });

  it("loads uPlot only with the first chart: the page's own script is the smaller one", async () => {
    const html = await (await get("/")).text();
    const entry = files(".js").find((f) => html.includes(f.path))!;
    const chart = files(".js").find((f) => f !== entry)!;
    expect(entry.bytes).toBeLessThan(chart.bytes);
    expect(await (await get(entry.path)).text()).toContain(`import("${chart.path}")`);
  });

  it("has no inline script, no inline handler and no outside address in the page", async () => {
    const html = await (await get("/")).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBe(1);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(new RegExp(`src="${ASSET_PREFIX}[^"]+\\.js"`));
      expect(body!.trim()).toBe("");
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).not.toMatch(/\bstyle=/i);
    expect([...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((u) => !u!.startsWith(ASSET_PREFIX))).toEqual([]);
  });

  it("names no other origin in its scripts and styles (nothing is fetched from outside)", async () => {
    for (const f of [...files(".js"), ...files(".css")]) {
      const body = await (await get(f.path)).text();
      const urls = [...body.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)].map((m) => m[0]);
      // The SVG namespace is a name, not a request.
      expect({ file: f.path, urls: urls.filter((u) => u !== "http://www.w3.org/2000/svg") }).toEqual({ file: f.path, urls: [] });
    }
  });
});

describe("answering", () => {
  it("serves the page with the CSP, asked for each time", async () => {
    for (const path of ["/", "/index.html"]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toContain("unsafe");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("serves its files cached for good, gzipped when the browser takes it, 304 on a matching ETag, HEAD without a body", async () => {
    const js = files(".js")[0]!;
    const plain = await get(js.path);
    expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(plain.headers.get("content-type")).toMatch(/javascript/);
    expect(plain.headers.get("content-encoding")).toBeNull();
    const body = new Uint8Array(await plain.arrayBuffer());
    expect(body.byteLength).toBe(js.bytes);
    const zipped = await get(js.path, { "accept-encoding": "gzip, deflate, br" });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.headers.get("vary")).toBe("accept-encoding");
    expect(Bun.gunzipSync(new Uint8Array(await zipped.arrayBuffer()))).toEqual(body);
    const again = await get(js.path, { "if-none-match": plain.headers.get("etag")! });
    expect(again.status).toBe(304);
    const head = await get(js.path, {}, "HEAD");
    expect([head.status, head.headers.get("content-length"), (await head.arrayBuffer()).byteLength]).toEqual([200, String(js.bytes), 0]);
  });

  it("leaves every other request to the server, and says 404 for a file it does not have", async () => {
    expect(await ui.fetch(new Request("http://127.0.0.1:8787/api/health"))).toBeNull();
    expect(await ui.fetch(new Request("http://127.0.0.1:8787/metrics"))).toBeNull();
    expect(await ui.fetch(new Request("http://127.0.0.1:8787/", { method: "POST", body: "{}" }))).toBeNull();
    // Without a cockpit it explains nothing.
    expect(await ui.fetch(new Request("http://127.0.0.1:8787/api/alerts/a/explain"))).toBeNull();
    const missing = await get(`${ASSET_PREFIX}nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-security-policy")).toContain("script-src 'self'");
  });
});

describe("explaining an alert", () => {
  let vc: Cockpit;
  beforeAll(async () => {
    const config = await resolveConfig({ db: join(dir, "vc.duckdb"), machines: [{ id: "here", ssh: "local" }] }, { source: "test/web/ui-dashboard" });
    vc = await openCockpit({ config, clock: createFixedClock(new Date("2026-08-20T15:15:00Z")) });
  });
  afterAll(async () => {
    await vc?.close();
  });

  it("answers the cockpit's explanation, and a 404 JSON error for an alert it does not know", async () => {
    const explaining = createDashboard({ cockpit: vc });
    await vc.store.run(`INSERT INTO alerts (alert_id, rule_id, alert_type, machine_id, labels_json, severity, title, state, first_seen_at, last_seen_at, fired_at,
        message, flapping, transitions_json, updated_at)
      VALUES ('gone:1', 'gone', 'gone', 'here', '{"machine_id":"here"}', 'high', 'Gone', 'firing', TIMESTAMP '2026-08-20 15:00:00', TIMESTAMP '2026-08-20 15:15:00',
        TIMESTAMP '2026-08-20 15:00:00', 'it went', false, '[]', TIMESTAMP '2026-08-20 15:15:00')`);
    const ok = (await explaining.fetch(new Request("http://127.0.0.1:8787/api/alerts/gone%3A1/explain")))!;
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { alert: { alert_id: string; message: string }; rule: unknown; history: unknown[] };
    expect([body.alert.alert_id, body.alert.message, body.rule]).toEqual(["gone:1", "it went", null]);
    const unknown = (await explaining.fetch(new Request("http://127.0.0.1:8787/api/alerts/nope/explain")))!;
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
    const bad = (await explaining.fetch(new Request("http://127.0.0.1:8787/api/alerts/%E0%A4%A/explain")))!;
    expect(bad.status).toBe(400);
  });
});
