// The JSON API of `vc up` over HTTP, on the demo fleet with the real collectors' data: every view
// answers GET /api/<view> with the envelope `vc robot <view>` prints; the plan's named routes reach
// their views; GET /api lists the views with their arguments as JSON Schema; bad input is a JSON
// error naming what was wrong; ack and silence land in the store and the audit log with who;
// GET /api/events streams the watch lines as Server-Sent Events; every response carries the CSP.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { sql } from "../../lib/index.ts";
import type { ArgsSpec } from "../../lib/views/define.ts";
import { vc as runVc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { VIEW_ASK, stableAnswer } from "../helpers/views.ts";
import { END, TOOLS_MACHINE, readEvents, startWebDaemon, type WebDaemon } from "./_fleet.ts";

setDefaultTimeout(240_000);

const dir = tempDir("vc-web-api-");
let d: WebDaemon;
const get = (path: string, init?: RequestInit) => fetch(new URL(path, d.url), init);
const getJson = async (path: string) => {
  const r = await get(path);
  return { status: r.status, body: (await r.json()) as Record<string, unknown>, headers: r.headers };
};

const ASK = VIEW_ASK;
const query = (args: Record<string, string | number | boolean>) => new URLSearchParams(Object.entries(args).map(([k, x]) => [k, String(x)])).toString();

const stable = stableAnswer;

beforeAll(async () => {
  d = await startWebDaemon(dir, { fleet: 3 });
});

afterAll(async () => {
  await d?.stop();
});

describe("GET /api/<view>", () => {
  it("asks every registered view here (a new view must be added to ASK)", () => {
    expect(d.vc.views.views.map((x) => x.name).sort()).toEqual(Object.keys(ASK).sort());
  });

  it("answers each view with the envelope `vc robot <view>` prints (through the daemon)", async () => {
    const views = d.vc.views.views;
    const positional = (view: string, k: string) => (d.vc.views.get(view)?.args[k] as { positional?: boolean } | undefined)?.positional === true;
    const flags = (view: string) => Object.entries(ASK[view]!).flatMap(([k, x]) => (positional(view, k) ? [String(x)] : x === true ? [`--${k}`] : [`--${k}`, String(x)]));
    // Three command lines at a time: each is a process of its own.
    for (let i = 0; i < views.length; i += 3) {
      await Promise.all(
        views.slice(i, i + 3).map(async (view) => {
          const [http, cli] = await Promise.all([
            getJson(`/api/${view.name}?${query(ASK[view.name]!)}`),
            runVc(["robot", view.name, ...flags(view.name), "--config", d.config], { env: d.env }),
          ]);
          expect({ view: view.name, status: http.status, schema: http.body.schema_version }).toEqual({ view: view.name, status: 200, schema: `vc.robot.${view.name}.v1` });
          expect({ view: view.name, code: cli.code, stderr: cli.stderr }).toEqual({ view: view.name, code: 0, stderr: "" });
          expect(stable(http.body)).toEqual(stable(JSON.parse(cli.stdout)));
        }),
      );
    }
  });

  it("answers the plan's named routes (§7.2) with their views", async () => {
    const same = async (path: string, view: string, args: Record<string, unknown> = {}) => {
      const http = await getJson(path);
      expect({ path, status: http.status }).toEqual({ path, status: 200 });
      expect(stable(http.body)).toEqual(stable(await d.vc.view(view, args)));
    };
    await same("/api/health", "health");
    await same("/api/machines", "machines");
    await same(`/api/machines/${TOOLS_MACHINE}/overview`, "machine", { id: TOOLS_MACHINE });
    await same("/api/repos", "repos");
    await same("/api/accounts", "accounts");
    await same("/api/alerts", "alerts");
    await same("/api/events/dcg", "events", { source: ["dcg"] });
    await same("/api/events/rano?window=7d", "events", { source: ["rano"], window: "7d" });
    await same("/api/beads/r1/triage", "beads", { repo: "r1" });
    await same(`/api/oracle/forecasts?machine=${TOOLS_MACHINE}`, "oracle", { machine: TOOLS_MACHINE });
    // The routes carry data, not empty answers.
    const dcg = (await getJson("/api/events/dcg")).body as { data: { events: { source: string }[] } };
    expect(dcg.data.events.length).toBeGreaterThan(0);
    expect(new Set(dcg.data.events.map((e) => e.source))).toEqual(new Set(["dcg"]));
    const beads = (await getJson("/api/beads/r1/triage")).body as { data: { repos: { repo_id: string }[] } };
    expect(beads.data.repos.map((r) => r.repo_id)).toEqual(["r1"]);
  });

  it("answers a machine's series for charts, one metric or several", async () => {
    const whole = (await d.vc.view("series", { machine: TOOLS_MACHINE, window: "6h" })).data as Record<string, unknown>;
    const one = await getJson(`/api/machines/${TOOLS_MACHINE}/series?metric=load&window=6h`);
    expect(one.status).toBe(200);
    const data = (one.body as { data: Record<string, unknown> }).data;
    expect(Object.keys(data).sort()).toEqual(["bucket_s", "from", "latest", "load", "machine", "to"]);
    expect(data.load).toEqual(whole.load);
    expect((data.load as unknown[]).length).toBeGreaterThan(10);
    const two = (await getJson(`/api/machines/${TOOLS_MACHINE}/series?metric=cpu,disk&window=6h`)).body as { data: Record<string, unknown> };
    expect([two.data.cpu, two.data.disk]).toEqual([whole.cpu, whole.disk]);
    const all = (await getJson(`/api/machines/${TOOLS_MACHINE}/series?window=6h`)).body as { data: unknown };
    expect(all.data).toEqual(whole);
  });
});

describe("bad requests", () => {
  it("answers an unknown route or view with 404 and a JSON body", async () => {
    const view = await getJson("/api/helth");
    expect(view.status).toBe(404);
    expect(view.body.error).toMatchObject({ code: "not_found", message: 'no view "helth"' });
    expect((view.body.error as { hint: string }).hint).toContain("did you mean health?");
    for (const path of ["/nothing/here", "/api/health/extra/segments", "/metrics/x"]) {
      const r = await getJson(path);
      expect({ path, status: r.status, code: (r.body.error as { code: string }).code }).toEqual({ path, status: 404, code: "not_found" });
      expect(r.headers.get("content-type")).toContain("application/json");
    }
    const machine = await getJson("/api/machines/nope-01/overview");
    expect(machine.status).toBe(404);
    expect(machine.body.error).toMatchObject({ code: "unknown_machine" });
  });

  it("answers bad query arguments with 400 naming the argument (as parseArgs names it everywhere)", async () => {
    const cases: [string, string, string][] = [
      ["/api/triage?limit=-5", "limit", 'limit: "-5" is not a whole number from 1 to 1000'],
      ["/api/triage?limit=abc", "limit", 'limit: "abc" is not a whole number from 1 to 1000'],
      ["/api/health?at=yesterday", "at", 'at: "yesterday" is not an ISO 8601 time (like 2026-01-25T03:00:00Z)'],
      ["/api/alerts?every=1", "every", 'alerts: no argument "every"'],
      ["/api/triage?limit=1&limit=2", "limit", "limit: given 2 times; it takes one value"],
      [`/api/machines/${TOOLS_MACHINE}/series?metric=temperature`, "metric", 'metric: "temperature" is not a series; the series are cpu, load, mem, swap, disk'],
      [`/api/machines/${TOOLS_MACHINE}/overview?id=node-01`, "id", "id: given in the path and the query"],
      ["/api/events/nosuchtool", "source", 'source: no event source "nosuchtool"'],
    ];
    for (const [path, field, message] of cases) {
      const r = await getJson(path);
      expect({ path, status: r.status, error: r.body.error }).toMatchObject({ path, status: 400, error: { code: "invalid_argument", message, details: { field } } });
    }
  });

  it("answers a wrong method with 405 and a body that is not JSON with 400", async () => {
    const r = await get("/api/health", { method: "POST" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET");
    const bad = await get("/api/alerts/x/ack", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_input" } });
    const field = await get("/api/alerts/x/ack", { method: "POST", body: JSON.stringify({ note: 5 }) });
    expect(await field.json()).toMatchObject({ error: { code: "invalid_argument", details: { field: "note" } } });
  });
});

describe("GET /api", () => {
  it("lists every view with its arguments as JSON Schema", async () => {
    const { body } = await getJson("/api");
    const views = body.views as { name: string; path: string; args: { type: string; properties: Record<string, Record<string, unknown>>; required?: string[] } }[];
    expect(views.map((x) => x.name)).toEqual(d.vc.views.views.map((x) => x.name));
    for (const view of d.vc.views.views) {
      const listed = views.find((x) => x.name === view.name)!;
      expect(listed.path).toBe(`/api/${view.name}`);
      expect(listed.args.type).toBe("object");
      expect(Object.keys(listed.args.properties).sort()).toEqual(Object.keys(view.args).sort());
    }
    const triage = views.find((x) => x.name === "triage")!;
    expect(triage.args.properties.limit).toMatchObject({ type: "integer", minimum: 1, maximum: 1000 });
    expect(views.find((x) => x.name === "series")!.args.required).toEqual(["machine"]);
    expect(body.routes).toEqual(
      expect.arrayContaining([
        { path: "/api/machines/:id/overview", view: "machine" },
        { path: "/api/events/:source", view: "events" },
        { path: "/api/oracle/forecasts", view: "oracle" },
        { path: "/api/beads/:repo/triage", view: "beads" },
      ]),
    );
  });

  it("gives each argument the JSON type parseArgs takes, and marks the required ones", async () => {
    const { body } = await getJson("/api");
    const TYPE = { int: "integer", flag: "boolean", string: "string", time: "string", duration: "string", list: "array" } as const;
    for (const listed of body.views as { name: string; args: { properties: Record<string, { type: string }>; required?: string[] } }[]) {
      const view = d.vc.views.get(listed.name)!;
      for (const [k, spec] of Object.entries(view.args as ArgsSpec))
        expect({ view: listed.name, arg: k, type: listed.args.properties[k]!.type }).toEqual({ view: listed.name, arg: k, type: TYPE[spec.kind] });
      const required = Object.entries(view.args as ArgsSpec).flatMap(([k, spec]) => (spec.kind === "string" && spec.required ? [k] : []));
      expect(listed.args.required ?? []).toEqual(required);
    }
  });
});

describe("ack and silence", () => {
  it("acks an alert: the store and the audit log say who (the person, through the web, from loopback)", async () => {
    const alert = (await d.vc.alerts()).find((a) => a.state === "firing" && !a.acked)!;
    const r = await get(`/api/alerts/${alert.alert_id}/ack`, {
      method: "POST",
      body: JSON.stringify({ by: "alice", note: "looking" }),
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(200);
    const who = "alice (web, loopback 127.0.0.1)";
    expect(await r.json()).toMatchObject({ alert_id: alert.alert_id, acked: { by: who, note: "looking" } });
    const [row] = await d.vc.store.query<{ acked_by: string; ack_note: string }>(sql`SELECT acked_by, ack_note FROM alerts WHERE alert_id = ${alert.alert_id}`);
    expect(row).toEqual({ acked_by: who, ack_note: "looking" });
    const audit = await d.vc.store.query<{ actor: string; result: string }>(sql`SELECT actor, result FROM audit_events WHERE action = ${`alerts ack ${alert.alert_id}`}`);
    expect(audit).toEqual([{ actor: who, result: "ok" }]);
  });

  it("silences one alert for a while, and by matchers: both audited with who", async () => {
    const alert = (await d.vc.alerts()).find((a) => a.state === "firing" && !a.silenced_by)!;
    const one = await get(`/api/alerts/${alert.alert_id}/silence`, { method: "POST", body: JSON.stringify({ duration: "2h", comment: "maintenance" }) });
    expect(one.status).toBe(200);
    const { silence_id, matches } = (await one.json()) as { silence_id: string; matches: number };
    expect(matches).toBeGreaterThanOrEqual(1);
    const [s] = await d.vc.store.query<{ created_by: string; ends_at: string; matchers_json: string }>(
      sql`SELECT created_by, ends_at, matchers_json FROM silences WHERE silence_id = ${silence_id}`,
    );
    expect(s!.created_by).toBe("(web, loopback 127.0.0.1)");
    expect(Date.parse(s!.ends_at) - END.getTime()).toBe(2 * 3600_000);
    expect(JSON.parse(s!.matchers_json)).toMatchObject({ rule: alert.rule });
    expect((await d.vc.alerts()).find((a) => a.alert_id === alert.alert_id)!.silenced_by).toBe(silence_id);
    const by = await get("/api/silences", { method: "POST", body: JSON.stringify({ matchers: { machine_id: "node-02" }, until_resolved: true, by: "bob" }) });
    expect(by.status).toBe(200);
    const audit = await d.vc.store.query<{ actor: string }>(sql`SELECT actor FROM audit_events WHERE starts_with(action, 'alerts silence') ORDER BY ts, actor`);
    expect(audit.map((a) => a.actor).sort()).toEqual(["(web, loopback 127.0.0.1)", "bob (web, loopback 127.0.0.1)"]);
    const bad = await get("/api/silences", { method: "POST", body: JSON.stringify({ matchers: { rule: "x" }, duration: "soon" }) });
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_argument", details: { field: "duration" } } });
  });
});

describe("GET /api/events (Server-Sent Events)", () => {
  it("streams the watch lines: a heartbeat once subscribed, then a cycle's lines after a collect", async () => {
    const ac = new AbortController();
    const r = await get("/api/events", { headers: { accept: "text/event-stream" }, signal: ac.signal });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/event-stream");
    expect(r.headers.get("content-security-policy")).toContain("script-src 'self'");
    const reader = r.body!.getReader();
    const first = await readEvents(reader, (e) => e.type === "heartbeat");
    expect(first.at(-1)).toEqual({ type: "heartbeat", at: END.toISOString() });
    await d.vc.collect({ machine: "node-01", collector: "sysprobe" });
    const lines = await readEvents(reader, (e) => e.type === "cycle");
    expect(lines.at(-1)).toMatchObject({ type: "cycle", at: END.toISOString() });
    ac.abort();
    // Without the stream's Accept, /api/events is the events view.
    expect((await getJson("/api/events")).body.schema_version).toBe("vc.robot.events.v1");
  });
});

describe("every response", () => {
  it("carries a Content-Security-Policy that forbids inline script, and / is the dashboard's page", async () => {
    for (const path of ["/", "/api", "/api/health", "/api/nope", "/metrics", "/nothing"]) {
      const r = await get(path);
      const csp = r.headers.get("content-security-policy") ?? "";
      expect({
        path,
        csp: csp.includes("script-src 'self'") && !csp.includes("unsafe-inline") && (csp.includes("object-src 'none'") || csp.includes("default-src 'none'")),
      }).toEqual({ path, csp: true });
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      await r.arrayBuffer();
    }
    // The dashboard's page at / (lib/web/ui, bundled on the first request): HTML with no inline script.
    const home = await get("/");
    expect(home.headers.get("content-type")).toContain("text/html");
    const page = await home.text();
    expect(page).toContain("<script");
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
    const head = await get("/api/health", { method: "HEAD" });
    expect([head.status, (await head.arrayBuffer()).byteLength, head.headers.get("content-security-policy") !== null]).toEqual([200, 0, true]);
  });
});

describe("the dashboard's seam", () => {
  it("asks `ui` for what no API route takes and serves extra routes, keeping a stricter policy of their own", async () => {
    const { createWebServer } = await import("../../lib/web/server.ts");
    const web = createWebServer(d.vc, {
      address: "127.0.0.1:0",
      ui: {
        fetch: (req) =>
          new URL(req.url).pathname === "/"
            ? new Response("<!doctype html><title>vc</title>", { headers: { "content-type": "text/html", "content-security-policy": "default-src 'none'" } })
            : null,
      },
      routes: [{ method: "GET", path: "/assets/*", handle: ({ params }) => ({ asset: params["*"] }) }],
    });
    try {
      const page = await fetch(web.url);
      expect([page.status, page.headers.get("content-security-policy"), await page.text()]).toEqual([200, "default-src 'none'", "<!doctype html><title>vc</title>"]);
      expect(await (await fetch(new URL("/assets/app-1.js", web.url))).json()).toEqual({ asset: "app-1.js" });
      expect((await fetch(new URL("/api/health", web.url))).status).toBe(200);
      expect((await fetch(new URL("/other", web.url))).status).toBe(404);
    } finally {
      await web.close();
    }
  });
});
