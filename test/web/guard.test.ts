// Who may ask vc over HTTP: off loopback only with a token (else `vc up` refuses to start, saying
// how to set one); with a token, every request carries it (401 with a JSON body otherwise, failed
// attempts audited and, past a bound, refused outright with 429); on loopback without a token, a
// foreign Host (DNS rebinding) and a cross-origin POST are refused with 403.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, openCockpit, resolveConfig, runDaemon, sql } from "../../lib/index.ts";
import { createWebServer } from "../../lib/web/server.ts";
import { isolatedEnv, vc as runVc, vcSpawn } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { END, rawRequest, startWebDaemon, type WebDaemon } from "./_fleet.ts";

setDefaultTimeout(120_000);

const root = tempDir("vc-web-guard-");
const TOKEN = "s3cret-token-0123456789abcdef";
const sub = (name: string) => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};
let open: WebDaemon;
let locked: WebDaemon;

beforeAll(async () => {
  open = await startWebDaemon(sub("open"));
  locked = await startWebDaemon(sub("locked"), { http: { token: TOKEN, maxFailures: 5 } });
});

afterAll(async () => {
  await open?.stop();
  await locked?.stop();
});

describe("off loopback", () => {
  it("refuses to start without a token, naming VC_WEB_TOKEN and serve.token", async () => {
    let err: { code?: string; message?: string; hint?: string } | null = null;
    try {
      createWebServer(open.vc, { address: "0.0.0.0:0" });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err).toMatchObject({ code: "config_invalid" });
    expect(err!.message).toContain("refusing to serve HTTP on 0.0.0.0:0 without a token");
    expect(err!.hint).toContain("VC_WEB_TOKEN");
    expect(err!.hint).toContain("serve.token");
    // A token too short to guard anything is refused too.
    expect(() => createWebServer(open.vc, { address: "127.0.0.1:0", token: "short" })).toThrow("at least 16");
  });

  it("stops the daemon at start, and `vc up --http 0.0.0.0:…` exits saying how to set a token", async () => {
    const dir = sub("refused");
    const config = join(dir, "vc.config.ts");
    writeFileSync(config, `export default { db: ${JSON.stringify(join(dir, "vc.duckdb"))}, machines: [{ id: "here", ssh: "local" }], serve: { http: "0.0.0.0:8787" } };\n`);
    const env = isolatedEnv(dir, { VC_NOW: END.toISOString() });
    const vc = await openCockpit({ file: config, env, clock: createFixedClock(END) });
    const served: string[] = [];
    const result = await runDaemon(vc, { signal: new AbortController().signal, maxCycles: 1, onHttp: (u) => served.push(u) }).then(
      () => "ran",
      (e: Error) => e.message,
    );
    await vc.close();
    expect(result).toContain("without a token");
    expect(served).toEqual([]);
    const cli = await runVc(["up", "--config", config], { env });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain("VC_WEB_TOKEN");
    expect(cli.stderr).toContain("serve.token");
    const flag = await runVc(["up", "--http", "somewhere", "--config", config], { env });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--http: "somewhere" is not an address to serve HTTP on');
  });

  it("`vc up --http 127.0.0.1:0` serves the API, says where, and takes VC_WEB_TOKEN", async () => {
    const dir = sub("cli");
    const config = join(dir, "vc.config.ts");
    writeFileSync(config, `export default { db: ${JSON.stringify(join(dir, "vc.duckdb"))}, machines: [{ id: "here", ssh: "local" }], polling: { interval_seconds: 3600 } };\n`);
    const proc = vcSpawn(["up", "--http", "127.0.0.1:0", "--config", config], { env: isolatedEnv(dir, { VC_WEB_TOKEN: TOKEN }) });
    const reader = proc.stderr.getReader();
    let log = "";
    let url: string | undefined;
    while (!url) {
      const { value, done } = await reader.read();
      if (done) break;
      log += new TextDecoder().decode(value);
      url = /serving HTTP on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(log)?.[1];
    }
    expect(url, log).toBeDefined();
    expect(log).toContain("(token required)");
    expect((await fetch(new URL("/api/health", url))).status).toBe(401);
    const r = await fetch(new URL("/api/health", url), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { schema_version: string }).schema_version).toBe("vc.robot.health.v1");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});

describe("the config", () => {
  it("takes serve.http and serve.token ($VC_WEB_TOKEN wins), and names a bad one", async () => {
    const token = "a".repeat(20);
    expect((await resolveConfig({ serve: { http: "127.0.0.1:8787", token } }, { source: "vc.config.ts", env: {} })).serve).toEqual({ http: "127.0.0.1:8787", token });
    expect((await resolveConfig({ serve: { token } }, { source: "vc.config.ts", env: { VC_WEB_TOKEN: TOKEN } })).serve).toEqual({ http: null, token: TOKEN });
    expect((await resolveConfig({}, { source: "vc.config.ts", env: {} })).serve).toEqual({ http: null, token: null });
    await expect(resolveConfig({ serve: { http: "nowhere" } }, { source: "vc.config.ts", env: {} })).rejects.toThrow(
      'vc.config.ts: serve.http: an address such as "127.0.0.1:8787"',
    );
    await expect(resolveConfig({ serve: { token: "short" } }, { source: "vc.config.ts", env: {} })).rejects.toThrow("serve.token: a token of at least 16 characters");
  });
});

describe("with a token", () => {
  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, locked.url), { headers });
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it("answers every route to its bearer, whatever the Host", async () => {
    for (const path of ["/api/health", "/api", "/metrics", "/"]) expect({ path, status: (await get(path, bearer(TOKEN))).status }).toEqual({ path, status: 200 });
    const raw = await rawRequest(locked.port, `GET /api/health HTTP/1.1\nHost: vc.example.org\nAuthorization: Bearer ${TOKEN}`);
    expect(raw.status).toBe(200);
  });

  it("answers a missing, malformed, wrong or too long token with 401 and a JSON body; audits each; then refuses the address for a while (429)", async () => {
    const cases: [string, Record<string, string>][] = [
      ["missing", {}],
      ["malformed", { authorization: `Basic ${btoa(`vc:${TOKEN}`)}` }],
      ["wrong", bearer(`${TOKEN.slice(0, -1)}X`)], // the same length, the last character differs
      ["too_long", bearer(TOKEN.repeat(100))],
    ];
    for (const [reason, headers] of cases) {
      const r = await get("/api/health", headers);
      expect({ reason, status: r.status, type: r.headers.get("content-type") }).toEqual({ reason, status: 401, type: "application/json; charset=utf-8" });
      expect(r.headers.get("content-security-policy")).toContain("script-src 'self'");
      const body = (await r.json()) as { error: { code: string; message: string; hint: string } };
      expect(body.error.code).toBe("unauthorized");
      expect(body.error.hint).toContain("Authorization: Bearer");
      expect(JSON.stringify(body)).not.toContain(TOKEN.slice(0, 8));
    }
    // The fifth failure in the window uses up the allowance (maxFailures: 5)…
    expect((await get("/metrics", bearer("x".repeat(TOKEN.length)))).status).toBe(401);
    // …and from then on the address is refused without a look, the right token too.
    const limited = await get("/api/health", bearer(TOKEN));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: "too_many_requests" } });
    expect((await get("/api/health", bearer("y".repeat(40)))).status).toBe(429);

    const audit = await locked.vc.store.query<{ event_type: string; actor: string; action: string; result: string }>(
      sql`SELECT event_type, actor, action, result FROM audit_events WHERE starts_with(event_type, 'web_auth') ORDER BY ts, result`,
    );
    expect(audit.map((a) => [a.event_type, a.result]).sort()).toEqual(
      [
        ["web_auth_failed", "missing"],
        ["web_auth_failed", "malformed"],
        ["web_auth_failed", "wrong"],
        ["web_auth_failed", "too_long"],
        ["web_auth_rate_limited", "wrong"],
      ].sort(),
    );
    expect(new Set(audit.map((a) => a.actor))).toEqual(new Set(["web 127.0.0.1"]));
    expect(audit.find((a) => a.result === "missing")!.action).toBe("GET /api/health");
  });
});

describe("on loopback without a token", () => {
  const head = (line: string, host: string, more = "") => `${line}\nHost: ${host}${more ? `\n${more}` : ""}`;

  it("refuses a foreign Host (DNS rebinding) with 403, and takes the names of this server", async () => {
    const p = open.port;
    for (const host of [`evil.example:${p}`, "evil.example", `127.0.0.1:${p + 1}`, `localhost.evil.example:${p}`]) {
      const r = await rawRequest(p, head("GET /api/health HTTP/1.1", host));
      expect({ host, status: r.status }).toEqual({ host, status: 403 });
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: "forbidden" } });
      expect(r.headers["content-security-policy"]).toContain("script-src 'self'");
    }
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `LOCALHOST:${p}`, `[::1]:${p}`]) {
      expect({ host, status: (await rawRequest(p, head("GET /api/health HTTP/1.1", host))).status }).toEqual({ host, status: 200 });
    }
  });

  it("refuses a POST from another origin with 403; takes one from its own origin or from no browser", async () => {
    const p = open.port;
    const body = JSON.stringify({ matchers: { rule: "nothing_like_it" }, duration: "1h" });
    const post = (more: string) => rawRequest(p, head("POST /api/silences HTTP/1.1", `127.0.0.1:${p}`, `Content-Type: application/json${more ? `\n${more}` : ""}`), body);
    for (const more of [
      "Origin: http://evil.example",
      "Origin: null",
      `Origin: https://127.0.0.1:${p}`,
      "Sec-Fetch-Site: cross-site",
      `Origin: http://127.0.0.1:${p}\nSec-Fetch-Site: same-site`,
    ]) {
      const r = await post(more);
      expect({ more, status: r.status }).toEqual({ more, status: 403 });
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: "forbidden" } });
    }
    for (const more of [`Origin: http://127.0.0.1:${p}`, `Origin: http://localhost:${p}\nSec-Fetch-Site: same-origin`, ""]) {
      expect({ more, status: (await post(more)).status }).toEqual({ more, status: 200 });
    }
    const silences = await open.vc.store.query<{ n: bigint }>("SELECT count(*) AS n FROM silences");
    expect(Number(silences[0]!.n)).toBe(3);
    // Reads stay open to any page, but without CORS headers a page elsewhere cannot read the answer.
    const read = await rawRequest(p, head("GET /api/health HTTP/1.1", `127.0.0.1:${p}`, "Origin: http://evil.example"));
    expect(read.status).toBe(200);
    expect(read.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
