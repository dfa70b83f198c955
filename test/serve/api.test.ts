import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createFixedClock, defineCollector, defineRule, defineSource, gt, openCockpit, resolveConfig, sql, threshold, VcError, type Cockpit } from "../../lib/index.ts";
import { createApiServer, type ApiServer, type WatchEvent } from "../../lib/serve/api.ts";
import { connectDaemon, type RemoteCockpit } from "../../lib/serve/client.ts";
import { accountsPlugin } from "../../plugins/accounts/index.ts";
import { ruPlugin } from "../../plugins/ru/plugin.ts";
import { socketPathFor } from "../../lib/store/files.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(30_000);

const root = resolve(import.meta.dir, "../..");
const dir = tempDir("vc-serve-");
const T0 = "2026-01-25T03:00:00.000Z";
const clock = createFixedClock(T0);

// A collector whose load1 the test sets, and a rule that fires above 100.
let load = 150;
const gauge = defineCollector({
  name: "gauge",
  version: "1",
  schemaVersion: 1,
  collect: async () => ({ rows: { sys_samples: [{ load1: load, cpu_cores: 4 }] } }),
});
const loadNow = defineSource({
  name: "load_now",
  description: "load1 of each machine at the evaluation instant",
  sql: (at) => sql`SELECT machine_id, load1, cpu_cores FROM sys_samples WHERE collected_at = ${at}::TIMESTAMP`,
});
const hot = defineRule({
  id: "load_hot",
  severity: "high",
  title: "Load hot",
  source: loadNow,
  when: gt("load1", threshold("max", 100)),
  labels: ["machine_id"],
  value: "load1",
  message: "load {load1} on {machine_id}",
  actions: [{ title: "Look", command: "vc robot machine {machine_id}" }],
});

const dataDir = join(dir, "data");
const db = join(dataDir, "vc.duckdb");
const sock = socketPathFor(db);
let vc: Cockpit;
let api: ApiServer;
let remote: RemoteCockpit;
let subscribers = 0;
let alertId: string;
const internalErrors: string[] = [];

/** What the cockpit answers, as it reads after a trip through JSON. */
const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Direct and remote calls must fail alike: same class, code, message and hint. */
async function sameError(direct: () => Promise<unknown>, viaSocket: () => Promise<unknown>, code: string): Promise<VcError> {
  const a = await direct().then(
    () => null,
    (e: unknown) => e,
  );
  const b = await viaSocket().then(
    () => null,
    (e: unknown) => e,
  );
  expect(a).toBeInstanceOf(VcError);
  expect(b).toBeInstanceOf(VcError);
  const [x, y] = [a as VcError, b as VcError];
  expect(x.code as string).toBe(code);
  expect({ code: y.code, message: y.message, hint: y.hint }).toEqual({ code: x.code, message: x.message, hint: x.hint });
  return y;
}

beforeAll(async () => {
  const env = { HOME: dir, USER: "tester" };
  const config = await resolveConfig(
    { db, data_dir: dataDir, machines: [{ id: "here", ssh: "local" }], collectors: [gauge], plugins: [ruPlugin, accountsPlugin], rules: [hot] },
    { source: "test", env },
  );
  vc = await openCockpit({ config, env, clock });
  await vc.collect(); // load 150 at T0: load_hot fires
  alertId = (await vc.alerts())[0]!.alert_id;
  // The served cockpit counts its watch subscriptions, so the test sees them end.
  const served: Cockpit = {
    ...vc,
    subscribe(listener) {
      subscribers++;
      const off = vc.subscribe(listener);
      return () => {
        subscribers--;
        off();
      };
    },
  };
  api = createApiServer(served, sock, { onError: (err) => internalErrors.push(String(err)) });
  remote = (await connectDaemon(sock, { db }))!;
});

afterAll(async () => {
  await remote?.close();
  await api?.close();
  await vc?.close();
});

describe("the daemon's socket", () => {
  it("is created owner-only (0600) in a folder made for it, leaving the umask as it was", () => {
    const umask = process.umask();
    const st = lstatSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(process.umask()).toBe(umask);
    expect(sock).toBe(join(dataDir, "vc.sock"));
  });

  it("answers every route with what the cockpit answers directly", async () => {
    expect(remote).not.toBeNull();
    expect(await remote.info()).toMatchObject({ service: "vc", pid: process.pid, db, data_dir: dataDir, now: T0 });
    expect(await remote.health()).toEqual(plain(await vc.health()));
    expect(await remote.robotHealth()).toEqual(plain(await vc.robotHealth()));
    expect(await remote.robotHealthAt(new Date(T0))).toEqual(plain(await vc.robotHealthAt(new Date(T0))));
    expect(await remote.robotMachine("here")).toEqual(plain(await vc.robotMachine("here")));
    expect(await remote.view("repos")).toEqual(plain(await vc.view("repos")));
    expect(await remote.view("accounts")).toEqual(plain(await vc.view("accounts")));
    expect(await remote.robotTriage()).toEqual(plain(await vc.robotTriage()));
    expect(await remote.robotTriage({ limit: 1 })).toEqual(plain(await vc.robotTriage({ limit: 1 })));
    expect(await remote.robotAlerts()).toEqual(plain(await vc.robotAlerts()));
    expect(await remote.robotAlerts({ all: true })).toEqual(plain(await vc.robotAlerts({ all: true })));
    expect(await remote.alerts()).toEqual(plain(await vc.alerts()));
    expect(await remote.alerts({ all: true })).toEqual(plain(await vc.alerts({ all: true })));
    expect(await remote.explain(alertId)).toEqual(plain(await vc.explain(alertId)));
    const q = "SELECT machine_id, load1, collected_at, source FROM sys_samples ORDER BY collected_at";
    expect(await remote.query(q)).toEqual(plain(await vc.query(q)));
    expect(await remote.machines()).toEqual(plain(await vc.machines()));
    // Probing measures latency afresh each time; everything else must match.
    const noLatency = <T extends { latency_ms: number | null }>(ms: T[]) => ms.map((m) => ({ ...m, latency_ms: typeof m.latency_ms }));
    expect(noLatency(await remote.probeMachines())).toEqual(noLatency(plain(await vc.probeMachines())));
    expect(noLatency(await remote.probeMachines(["here"]))).toEqual(noLatency(plain(await vc.probeMachines(["here"]))));
    const [d, r] = [plain(await vc.doctor()), await remote.doctor()];
    const noTimes = (x: typeof d) => ({ ...x, checks: x.checks.map((c) => ({ ...c, detail: c.detail.replace(/\d+ ms/, "N ms") })), machines: noLatency(x.machines) });
    expect(noTimes(r)).toEqual(noTimes(d));
    // No collector here can search content: both say so the same way.
    expect(await remote.search("flock")).toEqual(plain(await vc.search("flock")));
    expect((await remote.search("flock")).errors[0]?.error).toContain("no configured collector can search");
    // The live alert is in there, so the comparisons above compared something.
    expect((await remote.alerts()).map((a) => a.rule)).toEqual(["load_hot"]);
    expect((await remote.robotTriage()).data.items.length).toBeGreaterThan(0);
  });

  it("writes acks and silences through the daemon's store", async () => {
    const acked = await remote.ack(alertId.slice(0, 8), { by: "remote-user", note: "on it" });
    expect(acked.alert_id).toBe(alertId);
    expect(acked.acked).toEqual({ by: "remote-user", at: T0, note: "on it" });
    expect((await vc.alerts())[0]!.acked).toEqual({ by: "remote-user", at: T0, note: "on it" });

    const endsAt = new Date(Date.parse(T0) + 2 * 3600_000);
    const s = await remote.silence({ matchers: { rule: "load_hot" }, endsAt, comment: "maintenance", by: "remote-user" });
    expect(s.matches).toBe(1);
    const [row] = await vc.store.query<{ ends_at: string; created_by: string; comment: string }>(
      sql`SELECT ends_at, created_by, comment FROM silences WHERE silence_id = ${s.silence_id}`,
    );
    expect(row).toEqual({ ends_at: endsAt.toISOString(), created_by: "remote-user", comment: "maintenance" });
    expect((await remote.alerts())[0]!.silenced_by).toBe(s.silence_id);
  });

  it("hands a VcError to the client with its code, message and hint intact", async () => {
    const unknown = await sameError(
      () => vc.robotMachine("nope"),
      () => remote.robotMachine("nope"),
      "unknown_machine",
    );
    expect(unknown.hint).toBeTruthy();
    await sameError(
      () => vc.query("DELETE FROM sys_samples"),
      () => remote.query("DELETE FROM sys_samples"),
      "query_refused",
    );
    await sameError(
      () => vc.query("SELECT 1; SELECT 2"),
      () => remote.query("SELECT 1; SELECT 2"),
      "query_refused",
    );
    await sameError(
      () => vc.query("SELEC nothing"),
      () => remote.query("SELEC nothing"),
      "query_failed",
    );
    await sameError(
      () => vc.explain("no-such-alert"),
      () => remote.explain("no-such-alert"),
      "not_found",
    );
    const before = new Date("2020-01-01T00:00:00Z");
    await sameError(
      () => vc.robotHealthAt(before),
      () => remote.robotHealthAt(before),
      "not_found",
    );
    const silence = { matchers: {}, untilResolved: true, by: "x" };
    await sameError(
      () => vc.silence(silence),
      () => remote.silence(silence),
      "invalid_input",
    );
    await sameError(
      () => vc.probeMachines(["nope"]),
      () => remote.probeMachines(["nope"]),
      "unknown_machine",
    );
    await sameError(
      () => vc.search("  "),
      () => remote.search("  "),
      "invalid_input",
    );
    await sameError(
      () => vc.search("x", { machines: ["nope"] }),
      () => remote.search("x", { machines: ["nope"] }),
      "unknown_machine",
    );
    // The refused write did nothing.
    expect((await vc.query("SELECT count(*)::INTEGER AS n FROM sys_samples")).rows).toEqual([{ n: 1 }]);
  });

  it("answers bad requests with 4xx and an error body, and a bug with 500 and code internal", async () => {
    const raw = (path: string, init: RequestInit = {}) => fetch(`http://vc${path}`, { unix: sock, ...init });
    const notJson = await raw("/v1/query", { method: "POST", body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: { code: "invalid_input", message: "the request body is not JSON" } });
    const noSql = await raw("/v1/query", { method: "POST", body: JSON.stringify({ text: "SELECT 1" }) });
    expect(noSql.status).toBe(400);
    expect(((await noSql.json()) as { error: { message: string } }).error.message).toStartWith("sql:");
    const refused = await raw("/v1/query", { method: "POST", body: JSON.stringify({ sql: "DROP TABLE alerts" }) });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("query_refused");
    expect((await raw("/v1/nothing")).status).toBe(404);
    expect((await raw("/v1/views/machine?id=nope")).status).toBe(404);
    expect((await raw("/v1/views/helth")).status).toBe(404);
    expect((await raw("/v1/query")).status).toBe(405);
    const yesterday = await raw("/v1/views/health?at=yesterday");
    expect(yesterday.status).toBe(400);
    expect(await yesterday.json()).toMatchObject({ error: { code: "invalid_argument", message: 'at: "yesterday" is not an ISO 8601 time (like 2026-01-25T03:00:00Z)' } });
    const badBeat = await remote
      .watch(() => {}, { heartbeatSeconds: 0 })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(badBeat).toBeInstanceOf(VcError);
    expect((badBeat as VcError).code).toBe("invalid_input");

    // A cockpit that hits a bug: the body says internal, the client gets a plain Error, the server reports it.
    const buggySock = join(dir, "buggy", "vc.sock");
    const buggy = createApiServer({ ...vc, health: () => Promise.reject(new TypeError("boom")) }, buggySock, {
      onError: (err, route) => internalErrors.push(`${route}: ${String(err)}`),
    });
    try {
      const res = await fetch("http://vc/v1/views/health", { unix: buggySock });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: { code: "internal", message: "boom" } });
      const c = (await connectDaemon(buggySock))!;
      const err = await c.robotHealth().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(VcError);
      expect((err as Error & { code: string }).code).toBe("internal");
      expect((err as Error).message).toContain("boom");
      expect(internalErrors).toContain("GET /v1/views/health: TypeError: boom");
    } finally {
      await buggy.close();
    }
  });

  it("streams each cycle's alert events and heartbeats until the client goes, then unsubscribes", async () => {
    const events: WatchEvent[] = [];
    const ac = new AbortController();
    let subscribed!: () => void;
    const ready = new Promise<void>((r) => (subscribed = r));
    const done = remote.watch(
      (e) => {
        events.push(e);
        if (events.length === 1) subscribed();
      },
      { heartbeatSeconds: 0.1, signal: ac.signal },
    );
    await ready;
    expect(events[0]).toEqual({ type: "heartbeat", at: T0 });
    expect(subscribers).toBe(1);

    clock.advance(60_000);
    load = 1;
    const resolved = (await vc.collect()).outcome.events;
    clock.advance(60_000);
    load = 500;
    const fired = (await vc.collect()).outcome.events;
    expect(resolved.map((e) => e.event)).toEqual(["resolved"]);
    expect(fired.map((e) => e.event)).toEqual(["firing"]);

    await waitFor(() => events.filter((e) => e.type === "alert").length >= 2 && events.filter((e) => e.type === "heartbeat").length >= 3);
    expect(events.filter((e) => e.type === "alert")).toEqual(plain([...resolved, ...fired]));
    expect(events.filter((e) => e.type === "alert")[1]).toMatchObject({ rule: "load_hot", machine_id: "here", event: "firing", value: 500 });

    ac.abort();
    expect(await done).toEqual({ ended: "aborted" });
    await waitFor(() => subscribers === 0);
  });

  it("a second process gets answers through the socket while this one holds the store read-write", async () => {
    const script = `
      import { connectDaemon } from ${JSON.stringify(join(root, "lib/serve/client.ts"))};
      import { openStore } from ${JSON.stringify(join(root, "lib/store/store.ts"))};
      const direct = await openStore({ path: ${JSON.stringify(db)}, readOnly: true }).then(async (s) => (await s.close(), "opened"), (e) => e.code);
      const vc = await connectDaemon(${JSON.stringify(sock)});
      const out = {
        direct,
        health: await vc.robotHealth(),
        alerts: await vc.alerts({ all: true }),
        query: await vc.query("SELECT count(*)::INTEGER AS n FROM sys_samples"),
        error: await vc.robotMachine("nope").catch((e) => ({ name: e.name, code: e.code, hint: e.hint })),
      };
      await vc.close();
      process.stdout.write(JSON.stringify(out));
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { cwd: root, stdout: "pipe", stderr: "pipe", env: { ...process.env, VC_NOW: T0 } });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.direct).toBe("store_locked"); // DuckDB keeps it out of the file itself…
    expect(out.health).toEqual(plain(await vc.robotHealth())); // …and the daemon answers for it
    expect(out.alerts).toEqual(plain(await vc.alerts({ all: true })));
    expect(out.query.rows).toEqual([{ n: 3 }]);
    const direct = await vc.robotMachine("nope").catch((e: VcError) => e);
    expect(out.error).toEqual({ name: "VcError", code: "unknown_machine", hint: (direct as VcError).hint });
  });
});

describe("finding the daemon", () => {
  it("returns null when there is no socket", async () => {
    expect(await connectDaemon(join(dir, "nowhere", "vc.sock"))).toBeNull();
  });

  it("returns null within the timeout for a stale socket nobody listens on, and a new server replaces it", async () => {
    const staleDir = join(dir, "stale");
    mkdirSync(staleDir);
    const stale = socketPathFor(join(staleDir, "vc.duckdb"));
    // A process that listened and died without cleaning up (SIGKILL) leaves its socket file.
    const child = Bun.spawn([process.execPath, "-e", `Bun.serve({ unix: ${JSON.stringify(stale)}, fetch: () => new Response("") }); process.kill(process.pid, "SIGKILL");`]);
    await child.exited;
    expect(lstatSync(stale).isSocket()).toBe(true);
    const t = performance.now();
    expect(await connectDaemon(stale)).toBeNull();
    expect(performance.now() - t).toBeLessThan(1000);

    const fresh = createApiServer(vc, stale);
    try {
      const c = await connectDaemon(stale);
      expect(await c!.info()).toMatchObject({ service: "vc", pid: process.pid });
    } finally {
      await fresh.close();
    }
  });

  it("returns null for a daemon serving another store", async () => {
    expect(await connectDaemon(sock, { db: join(dir, "other.duckdb") })).toBeNull();
    expect(await connectDaemon(sock, { db })).not.toBeNull();
  });

  it("refuses to replace a file that is not a socket", () => {
    const d = join(dir, "notsock");
    mkdirSync(d);
    const path = socketPathFor(join(d, "vc.duckdb"));
    writeFileSync(path, "keep me");
    expect(() => createApiServer(vc, path)).toThrow(/is not a socket/);
    expect(readFileSync(path, "utf8")).toBe("keep me");
  });

  it("close() ends watch streams and removes the socket file", async () => {
    const d = join(dir, "closing");
    const path = socketPathFor(join(d, "vc.duckdb"));
    const server = createApiServer(vc, path);
    expect(statSync(join(d)).mode & 0o777).toBe(0o700);
    const c = (await connectDaemon(path))!;
    let beats = 0;
    let first!: () => void;
    const ready = new Promise<void>((r) => (first = r));
    const watching = c.watch(() => (beats++, first()), { heartbeatSeconds: 60 });
    await ready;
    await server.close();
    expect(await watching).toEqual({ ended: "closed" });
    expect(beats).toBe(1);
    expect(existsSync(path)).toBe(false);
    expect(await connectDaemon(path)).toBeNull();
    const err = await c.robotHealth().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VcError);
    expect((err as VcError).code).toBe("store_open_failed");
  });
});

async function waitFor(ok: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!ok()) {
    if (performance.now() > end) throw new Error("timed out waiting");
    await Bun.sleep(10);
  }
}
