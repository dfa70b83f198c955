// The daemon is the one door: while `vc up` holds a store, every command works through it; two
// stores never share a socket or alerts file; streams outlast the idle timeout and survive a
// daemon restart; bad requests get an error body and the daemon keeps serving.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, defineCollector, openCockpit, resolveConfig, type Cockpit } from "../../lib/index.ts";
import { createApiServer } from "../../lib/serve/api.ts";
import { connectDaemon, type RemoteCockpit } from "../../lib/serve/client.ts";
import type { WatchEvent } from "../../lib/watch.ts";
import { isolatedEnv, vc as runVc, vcSpawn } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000);

const dir = tempDir("vc-door-");

async function until<T>(f: () => T | Promise<T>, what: string, ms = 20_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const x = await f();
    if (x) return x as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

function writeConfig(name: string, interval = 3600): { config: string; db: string } {
  const config = join(dir, `${name}.config.ts`);
  const db = join(dir, "data", `${name}.duckdb`);
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
import { sysprobe, alertsJsonl } from "vibe-cockpit/plugins";
export default defineConfig({ db: ${JSON.stringify(db)}, data_dir: ${JSON.stringify(join(dir, "data"))}, polling: { interval_seconds: ${interval} },
  machines: [{ id: "here", ssh: "local" }], collectors: [sysprobe()], channels: [alertsJsonl()] });
`,
  );
  return { config, db };
}

describe("while vc up holds the store", () => {
  const env = isolatedEnv(dir);
  const a = writeConfig("a");
  const b = writeConfig("b");
  let upA: ReturnType<typeof vcSpawn>;
  let upB: ReturnType<typeof vcSpawn>;

  beforeAll(async () => {
    upA = vcSpawn(["up", "--config", a.config], { env });
    upB = vcSpawn(["up", "--config", b.config], { env });
    await until(() => existsSync(join(dir, "data", "a.sock")) && existsSync(join(dir, "data", "b.sock")), "both daemons' sockets");
    // Each has finished its first cycle once its collector state is readable through it.
    for (const cfg of [a.config, b.config]) {
      await until(async () => (await runVc(["robot", "machines", "--config", cfg], { env })).stdout.includes('"last_ok_at": "'), "the first cycle");
    }
  });

  afterAll(async () => {
    upA?.kill("SIGTERM");
    upB?.kill("SIGTERM");
    await Promise.all([upA?.exited, upB?.exited]);
  });

  it("doctor, machines list|probe|show, collect --once, alerts, query and robot views all work through it", async () => {
    const run = (args: string[]) => runVc([...args, "--config", a.config], { env });
    const doctor = await run(["doctor", "--json"]);
    expect(doctor.stderr).not.toContain("store_locked");
    const report = JSON.parse(doctor.stdout);
    expect(report.checks.find((c: { check: string }) => c.check === "daemon").detail).toBe(
      `vc (pid ${upA.pid}) serves ${a.db} on ${join(dir, "data", "a.sock")} since ${report.checks.find((c: { check: string }) => c.check === "daemon").detail.split(" since ")[1]}`,
    );
    for (const args of [
      ["machines", "list", "--json"],
      ["machines", "probe", "--json"],
      ["machines", "show", "here", "--json"],
      ["alerts", "list"],
      ["robot", "triage"],
    ]) {
      const r = await run(args);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: "" });
    }
    const before = JSON.parse((await run(["query", "select count(*)::INT as n from sys_samples", "--format", "json"])).stdout)[0].n;
    const collect = await run(["collect", "--once", "--json"]);
    expect({ code: collect.code, stderr: collect.stderr }).toEqual({ code: 0, stderr: "" });
    const cycle = JSON.parse(collect.stdout);
    expect(cycle.machines[0].runs.map((r: { collector: string; result: string }) => [r.collector, r.result])).toEqual([["sysprobe", "ok"]]);
    expect(cycle).toHaveProperty("duration_ms"); // snake_case, as every machine-readable output
    // The daemon ran the cycle and wrote it: the next query through it sees the new sample.
    const after = JSON.parse((await run(["query", "select count(*)::INT as n from sys_samples", "--format", "json"])).stdout)[0].n;
    expect(after).toBe(before + 1);
    // The table form says who ran it.
    const table = await run(["collect", "--once"]);
    expect(table.stdout).toContain(`run by vc up (${join(dir, "data", "a.sock")})`);
  });

  it("a second vc up on the same store refuses, naming the first's pid and socket", async () => {
    const second = await runVc(["up", "--config", a.config], { env, timeoutMs: 30_000 });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`vc (pid ${upA.pid}) holds ${a.db} and serves it on ${join(dir, "data", "a.sock")}`);
  });

  it("two stores in one data dir never meet: own socket, own alerts file", async () => {
    const [ia, ib] = await Promise.all([connectDaemon(join(dir, "data", "a.sock")), connectDaemon(join(dir, "data", "b.sock"))]);
    expect((await ia!.info()).db).toBe(a.db);
    expect((await ib!.info()).db).toBe(b.db);
    expect((await ia!.info()).pid).not.toBe((await ib!.info()).pid);
    await ia!.close();
    await ib!.close();
    // A store's files are named after it (alerts.jsonl comes from the channel default).
    expect(existsSync(join(dir, "data", "vc.sock"))).toBe(false);
  });
});

// In-process servers for the stream and abuse tests: a cockpit over a fresh store with one gauge.
const load = 1;
const gauge = defineCollector({
  name: "gauge",
  version: "1.0.0",
  schemaVersion: 1,
  async collect() {
    return { rows: { sys_samples: [{ load1: load, load5: load, load15: load }] } };
  },
});
let vc: Cockpit;
const T0 = "2026-03-01T12:00:00.000Z";
const clock = createFixedClock(new Date(T0));

beforeAll(async () => {
  const config = await resolveConfig(
    { db: join(dir, "mem", "vc.duckdb"), data_dir: join(dir, "mem"), machines: [{ id: "here", ssh: "local" }], collectors: [gauge] },
    { source: "test", env: { HOME: dir, USER: "t" } },
  );
  vc = await openCockpit({ config, clock, env: { HOME: dir, USER: "t" } });
  await vc.collect();
});
afterAll(async () => {
  await vc?.close();
});

describe("streams", () => {
  it("hold for more than three idle-timeout periods, and carry every heartbeat and cycle", async () => {
    const sock = join(dir, "s1.sock");
    const api = createApiServer(vc, sock, { idleTimeoutSeconds: 8 });
    const remote = (await connectDaemon(sock))!;
    const events: WatchEvent[] = [];
    const ac = new AbortController();
    const done = remote.watch((e) => events.push(e), { heartbeatSeconds: 2, signal: ac.signal });
    await until(() => events.length > 0, "the first heartbeat");
    const cycles: string[] = [];
    for (let i = 0; i < 4; i++) {
      await Bun.sleep(6100); // four pauses: 24.4 s, over three idle timeouts
      clock.advance(60_000);
      cycles.push((await vc.collect()).outcome.at);
    }
    await until(() => events.filter((e) => e.type === "cycle").length === 4, "four cycle events", 3000);
    ac.abort();
    expect(await done).toEqual({ ended: "aborted" });
    await api.close();
    await remote.close();
    expect(events.filter((e) => e.type === "cycle").map((e) => e.at)).toEqual(cycles);
    // 24.4 s at one heartbeat every 2 s: none missed.
    const beats = events.filter((e) => e.type === "heartbeat");
    expect(beats.length).toBeGreaterThanOrEqual(12);
    // A client asking for quieter heartbeats than the idle timeout allows still gets them at half of it.
    const slow: WatchEvent[] = [];
    const ac2 = new AbortController();
    const api2 = createApiServer(vc, join(dir, "s1b.sock"), { idleTimeoutSeconds: 8 });
    const r2 = (await connectDaemon(join(dir, "s1b.sock")))!;
    const done2 = r2.watch((e) => slow.push(e), { heartbeatSeconds: 600, signal: ac2.signal });
    await Bun.sleep(9000);
    ac2.abort();
    expect(await done2).toEqual({ ended: "aborted" });
    expect(slow.length).toBeGreaterThanOrEqual(3); // at 0, 4 and 8 s
    await api2.close();
    await r2.close();
  });

  it("reconnect after the daemon restarts: reconnecting, then connected, and events resume", async () => {
    const sock = join(dir, "s2.sock");
    let api = createApiServer(vc, sock);
    const remote = (await connectDaemon(sock))!;
    const statuses: string[] = [];
    const events: WatchEvent[] = [];
    const ac = new AbortController();
    const done = remote.watch((e) => events.push(e), { heartbeatSeconds: 0.2, signal: ac.signal, reconnect: true, onStatus: (s) => statuses.push(s) });
    await until(() => statuses.includes("connected"), "connected");
    await api.close(); // the daemon stops…
    await until(() => statuses.includes("reconnecting"), "reconnecting");
    await Bun.sleep(600); // …stays away across a few retries…
    const seen = events.length;
    api = createApiServer(vc, sock); // …and comes back on the same socket
    await until(() => statuses.filter((s) => s === "connected").length === 2, "connected again");
    clock.advance(60_000);
    const at = (await vc.collect()).outcome.at;
    await until(() => events.slice(seen).some((e) => e.type === "cycle" && e.at === at), "the cycle after the restart");
    ac.abort();
    expect(await done).toEqual({ ended: "aborted" });
    expect(statuses[0]).toBe("connected");
    await api.close();
    await remote.close();
  });

  it("without reconnect, a daemon that is gone is a clear error, not a hang", async () => {
    const sock = join(dir, "s3.sock");
    const api = createApiServer(vc, sock);
    const remote = (await connectDaemon(sock))!;
    await api.close();
    const err = await remote
      .watch(() => {})
      .then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
    expect(err).toMatchObject({ code: "store_open_failed" });
    expect(err!.message).toContain(`the daemon stopped answering on ${sock}`);
  });
});

describe("a daemon that dies mid-request", () => {
  it("fails the call with a clear error, no hang", async () => {
    const sock = join(dir, "dying.sock");
    // A vc-like server that answers /v1/info and never answers anything else, then is killed.
    const child = Bun.spawn([
      process.execPath,
      "-e",
      `Bun.serve({ unix: ${JSON.stringify(sock)}, idleTimeout: 0, fetch: (req) => new URL(req.url).pathname === "/v1/info" ? Response.json({ service: "vc", api: 1, pid: process.pid, db: "x", data_dir: "x", started_at: "", now: "" }) : new Promise(() => {}) });`,
    ]);
    try {
      await until(() => existsSync(sock), "the child's socket");
      const remote = (await until(() => connectDaemon(sock), "connect"))!;
      const pending = remote.robotHealth().then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
      await Bun.sleep(200);
      child.kill("SIGKILL");
      const err = await pending;
      expect(err).toMatchObject({ code: "store_open_failed" });
      expect(err!.message).toContain(`the daemon stopped answering on ${sock}`);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });
});

describe("bad requests to the socket", () => {
  let remote: RemoteCockpit;
  let sock: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    sock = join(dir, "abuse.sock");
    const api = createApiServer(vc, sock, { maxBodyBytes: 64 * 1024, maxInFlight: 4 });
    close = () => api.close();
    remote = (await connectDaemon(sock))!;
  });
  afterAll(async () => {
    await remote.close();
    await close();
  });
  const raw = (path: string, init: RequestInit = {}) => fetch(`http://vc${path}`, { unix: sock, ...init } as RequestInit);

  it("not JSON, too large, an unknown view, bad numbers: an error body each, and the daemon keeps serving", async () => {
    const cases: [RequestInit & { path: string }, number, Record<string, unknown>][] = [
      [{ path: "/v1/query", method: "POST", body: "{nope" }, 400, { code: "invalid_input", message: "the request body is not JSON" }],
      [{ path: "/v1/views/triage", method: "POST", body: "[1,2]" }, 400, { code: "invalid_argument" }],
      [{ path: "/v1/query", method: "POST", body: JSON.stringify({ sql: "x".repeat(200_000) }) }, 413, { code: "payload_too_large" }],
      [{ path: "/v1/views/nope" }, 404, { code: "not_found", message: 'no view "nope"' }],
      [{ path: "/v1/search", method: "POST", body: JSON.stringify({ query: "x", timeoutMs: 1e308 }) }, 400, { code: "invalid_argument" }],
      [{ path: "/v1/search", method: "POST", body: JSON.stringify({ query: "x", timeoutMs: -1 }) }, 400, { code: "invalid_argument" }],
      [{ path: "/v1/views/triage?limit=-5" }, 400, { code: "invalid_argument", message: 'limit: "-5" is not a whole number from 1 to 1000' }],
    ];
    for (const [{ path, ...init }, status, error] of cases) {
      const res = await raw(path, init);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect({ path, status: res.status, error: body.error }).toMatchObject({ path, status, error });
    }
    const search = (await (await raw("/v1/search", { method: "POST", body: JSON.stringify({ query: "x", timeoutMs: 1e308 }) })).json()) as { error: { message: string } };
    expect(search.error.message).toStartWith("timeoutMs:");
    // A body sent without a length (chunked) is bounded too.
    const chunked = new ReadableStream({
      start(c) {
        for (let i = 0; i < 100; i++) c.enqueue(new TextEncoder().encode("x".repeat(1024)));
        c.close();
      },
    });
    const big = await raw("/v1/query", { method: "POST", body: chunked });
    expect([413]).toContain(big.status);
    expect((await remote.info()).service).toBe("vc");
  });

  it("more requests at once than it takes: 503 busy with a body, the rest answered, then it serves again", async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => raw("/v1/views/triage")));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(4);
    for (const r of answers.filter((x) => x.status === 503)) expect(((await r.json()) as { error: { code: string } }).error.code).toBe("busy");
    expect((await remote.robotTriage()).schema_version).toBe("vc.robot.triage.v1");
  });

  it("the query guard holds through the socket: EXPLAIN ANALYZE of a write and writing functions are refused, nothing changes", async () => {
    const count = async () => (await vc.query("select count(*)::INT as n from sys_samples")).rows[0]!.n;
    const before = await count();
    const size = statSync(join(dir, "mem", "vc.duckdb")).size;
    for (const sql of [
      "EXPLAIN ANALYZE DELETE FROM sys_samples",
      "explain /* c */ analyse UPDATE sys_samples SET load1 = 0",
      "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
      "EXPLAIN (FORMAT json) DROP TABLE sys_samples",
      "SELECT * FROM checkpoint()",
      "select 1 where 1 in (select count(*) from force_checkpoint())",
      "SELECT * FROM query('SELECT * FROM checkpoint()')",
    ]) {
      const err = await remote.query(sql).then(
        () => null,
        (e: unknown) => e as { code: string },
      );
      expect({ sql, code: err?.code }).toEqual({ sql, code: "query_refused" });
    }
    expect((await remote.query("EXPLAIN ANALYZE SELECT count(*) FROM sys_samples")).rows.length).toBeGreaterThan(0);
    expect(await count()).toBe(before);
    expect(statSync(join(dir, "mem", "vc.duckdb")).size).toBe(size);
  });
});
