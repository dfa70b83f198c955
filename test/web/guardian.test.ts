// The guardian over HTTP (issue 18.4): GET /api/guardian answers the view (pending runs with their
// exact commands and the gate's answers, protocols); POST /api/guardian/runs/:id/approve runs the
// run's commands on the machine (the fake tool's argv.log shows them) and answers the run at its
// end; /deny runs nothing; both record who, through the web; a POST from another origin is refused
// with 403 and changes nothing; bad bodies and unknown ids are JSON errors.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { sql } from "../../lib/index.ts";
import type { GuardianRun } from "../../lib/guardian/engine.ts";
import type { GuardianData } from "../../lib/views/guardian.ts";
import { tankLog } from "../guardian/_tank.ts";
import { tempDir } from "../helpers/tmp.ts";
import { startGuardianDaemon, type GuardianDaemon } from "./_guardian.ts";
import { rawRequest } from "./_fleet.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-web-guardian-");
let d: GuardianDaemon;
const url = (path: string) => new URL(path, d.url);
const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url(path), { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const statusOf = async (id: string) =>
  (await d.vc.store.query<{ status: string; decided_by: string | null; reason: string | null }>(sql`SELECT status, decided_by, reason FROM guardian_runs WHERE run_id = ${id}`))[0];

beforeAll(async () => {
  d = await startGuardianDaemon(dir, ["here", "there", "yonder"]);
});
afterAll(async () => {
  await d?.stop();
});

describe("GET /api/guardian", () => {
  it("answers the guardian view: the pending runs with their commands and the gate's answers, the protocols", async () => {
    const r = await fetch(url("/api/guardian"));
    expect(r.status).toBe(200);
    const env = (await r.json()) as { schema_version: string; data: GuardianData };
    expect(env.schema_version).toBe("vc.robot.guardian.v1");
    expect(env.data.mode).toBe("execute-with-approval");
    expect(env.data.pending.map((p) => p.run_id).sort()).toEqual(Object.values(d.pending).sort());
    const here = env.data.pending.find((p) => p.machine_id === "here")!;
    expect(here.plan.filter((s) => s.kind === "command").map((s) => [s.phase, s.command, s.gate])).toEqual([
      ["diagnosis", `${d.bin} inspect`, { ok: false, detail: "it waits for a person's approval" }],
      ["treatment", `${d.bin} drain 50`, { ok: false, detail: "it waits for a person's approval" }],
      ["rollback", `${d.bin} refill 95`, { ok: false, detail: "it waits for a person's approval" }],
    ]);
    expect(env.data.protocols.map((p) => [p.name, p.trigger])).toEqual([["tank_drain", "a tank above 90 %"]]);
    // One run in full by its id.
    const one = (await (await fetch(url(`/api/guardian?id=${here.run_id}`))).json()) as { data: GuardianData };
    expect(one.data.runs.map((x) => x.run_id)).toEqual([here.run_id]);
  });

  it("lists the two actions in GET /api", async () => {
    const listing = (await (await fetch(url("/api"))).json()) as { actions: { method: string; path: string }[] };
    expect(listing.actions.filter((a) => a.path.startsWith("/api/guardian/"))).toEqual([
      expect.objectContaining({ method: "POST", path: "/api/guardian/runs/:id/approve" }),
      expect.objectContaining({ method: "POST", path: "/api/guardian/runs/:id/deny" }),
    ]);
  });
});

describe("POST /api/guardian/runs/:id/approve and /deny", () => {
  it("refuses a POST from another origin with 403: nothing runs, the run still waits", async () => {
    const id = d.pending.here!;
    for (const [verb, origin] of [
      ["approve", "http://evil.example"],
      ["approve", "null"],
      ["deny", "http://evil.example"],
    ] as const) {
      const r = await rawRequest(d.port, `POST /api/guardian/runs/${id}/${verb} HTTP/1.1\nHost: 127.0.0.1:${d.port}\nContent-Type: application/json\nOrigin: ${origin}`, "{}");
      expect({ verb, origin, status: r.status }).toEqual({ verb, origin, status: 403 });
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: "forbidden" } });
    }
    // A page that says it is cross-site, whatever its Origin.
    const site = await postJson(`/api/guardian/runs/${id}/approve`, {}, { "sec-fetch-site": "cross-site" });
    expect(site.status).toBe(403);
    expect(tankLog(d.tool)).toEqual([]);
    expect(await statusOf(id)).toMatchObject({ status: "pending", decided_by: null });
  });

  it("approves from this origin: exactly its commands run, the answer is the run at its end, who approved is recorded", async () => {
    const id = d.pending.here!;
    const r = await postJson(`/api/guardian/runs/${id}/approve`, { by: "alice" }, { origin: `http://127.0.0.1:${d.port}` });
    expect(r.status).toBe(200);
    const run = (await r.json()) as GuardianRun;
    expect(run).toMatchObject({ run_id: id, status: "verified", decided_by: "alice (web, loopback 127.0.0.1)" });
    expect(run.steps.filter((s) => s.kind === "command").map((s) => [s.step, s.status, s.exit_code])).toEqual([
      ["inspect", "ok", 0],
      ["drain", "ok", 0],
    ]);
    expect(tankLog(d.tool)).toEqual(["inspect", "drain 50"]);
    const audit = await d.vc.store.query<{ actor: string; action: string }>(
      sql`SELECT actor, action FROM audit_events WHERE event_type = 'user_command' AND action LIKE 'guardian %'`,
    );
    expect(audit).toEqual([{ actor: "alice (web, loopback 127.0.0.1)", action: `guardian approve ${id}` }]);
    // Approved once: a second approval is refused, naming who approved.
    const again = await postJson(`/api/guardian/runs/${id}/approve`, {});
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { message: string } }).error.message).toBe(
      `run ${id} is verified by alice (web, loopback 127.0.0.1) at ${run.decided_at}; only a pending run can be approved`,
    );
  });

  it("denies: none of its commands runs; without a name, the run says it came through the web", async () => {
    const id = d.pending.there!;
    const before = tankLog(d.tool);
    const r = await postJson(`/api/guardian/runs/${id}/deny`, { reason: "not now" });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ run_id: id, status: "denied", decided_by: "(web, loopback 127.0.0.1)", reason: "denied: not now" });
    expect(tankLog(d.tool)).toEqual(before);
    expect(await statusOf(id)).toEqual({ status: "denied", decided_by: "(web, loopback 127.0.0.1)", reason: "denied: not now" });
  });

  it("answers bad bodies and unknown ids with a JSON error", async () => {
    const id = d.pending.yonder!;
    const bad = await fetch(url(`/api/guardian/runs/${id}/approve`), { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_input" } });
    const stray = await postJson(`/api/guardian/runs/${id}/deny`, { by: "x", when: "now" });
    expect(stray.status).toBe(400);
    const unknown = await postJson("/api/guardian/runs/g-nope/approve", {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "not_found", message: 'no guardian run "g-nope"' } });
    const get = await fetch(url(`/api/guardian/runs/${id}/approve`));
    expect(get.status).toBe(405);
    expect(await statusOf(id)).toMatchObject({ status: "pending" });
    expect(d.errors).toEqual([]);
  });
});

describe("an approval that outlasts the idle timeout", () => {
  const slowDir = tempDir("vc-web-guardian-slow-");
  let slow: GuardianDaemon;
  beforeAll(async () => {
    // The server drops a connection quiet for 8 s; the run waits 12 s before it drains.
    slow = await startGuardianDaemon(slowDir, ["here"], { http: { idleTimeoutSeconds: 8 }, plugin: { wait: 12 } });
  });
  afterAll(async () => {
    await slow?.stop();
  });

  it("still gets its answer: the run at its end", async () => {
    const id = slow.pending.here!;
    // No body: Bun's idle timer runs for such a request (a POST with a body it leaves alone).
    const r = await fetch(new URL(`/api/guardian/runs/${id}/approve`, slow.url), { method: "POST" });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ run_id: id, status: "verified" });
    expect(tankLog(slow.tool)).toEqual(["inspect", "drain 50"]);
  }, 60_000);
});
