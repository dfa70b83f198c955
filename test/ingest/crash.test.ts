// The hub killed (SIGKILL) in the middle of a backlog, then started again: a real `vc up` process
// consuming from a real nats-server. Nothing is lost (what was not acknowledged is delivered again)
// and nothing is doubled (a part already committed is acknowledged without a second commit).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, openStore } from "../../lib/index.ts";
import { isolatedEnv, repoRoot, startUp, vc as cli } from "../helpers/cli.ts";
import { HUB, createStream, nodeUser, startNats, type NatsServer } from "../helpers/nats.ts";
import { tempDir } from "../helpers/tmp.ts";
import { T0, direct, makeMachine, nodeOnce, tableRows, type Machine } from "./_push.ts";

setDefaultTimeout(180_000);
const dir = tempDir("vc-push-crash-");
let nats: NatsServer;
let machines: Machine[];
/** The hub process of the moment: killed after the test whatever happened (no stray daemon). */
let up: Awaited<ReturnType<typeof startUp>> | undefined;

beforeAll(async () => {
  nats = await startNats({ users: [HUB, nodeUser("orko"), nodeUser("sydney")], maxPayload: 16 * 1024 });
  machines = [makeMachine(dir, "orko"), makeMachine(dir, "sydney")];
  await createStream(nats);
});
afterAll(async () => {
  up?.kill("SIGKILL");
  await up?.exited;
  await nats?.stop();
});

describe("the hub killed mid-backlog", () => {
  test("no loss, no duplicate", async () => {
    // A backlog: every machine's denies in runs of many parts each (the server takes 16 KiB a message).
    const clock = createFixedClock(T0);
    for (let i = 0; i < 4; i++) {
      clock.set(new Date(T0.getTime() + i * 60_000));
      for (const m of machines) {
        m.denies(400, clock.now());
        const r = await nodeOnce(dir, nats, m, clock);
        expect(r.runs.map((x) => x.sent)).toEqual(["acked", "acked"]);
      }
    }
    const hubDir = join(dir, "hub");
    mkdirSync(hubDir, { recursive: true });
    const cfg = join(hubDir, "vc.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig } from "vibe-cockpit";
import { caam } from ${JSON.stringify(join(repoRoot, "plugins/caam/index.ts"))};
import { dcg } from ${JSON.stringify(join(repoRoot, "plugins/dcg/index.ts"))};
export default defineConfig({
  db: ${JSON.stringify(join(hubDir, "vc.duckdb"))},
  data_dir: ${JSON.stringify(hubDir)},
  polling: { interval_seconds: 3600 },
  machines: [{ id: "orko", ssh: "push" }, { id: "sydney", ssh: "push" }],
  collectors: [dcg(), caam()],
  ingest: { nats: { servers: [${JSON.stringify(nats.url)}], user: "${HUB.user}", password: "${HUB.password}" }, durable: "hub", ack_wait_seconds: 2 },
});
`,
    );
    const env = isolatedEnv(hubDir, { VC_NOW: new Date(T0.getTime() + 3_600_000).toISOString() });
    const socket = join(hubDir, "vc.sock");
    const count = async () => {
      const r = await cli(["query", "SELECT count(*) AS n FROM ingest_batches", "--config", cfg, "--json"], { env });
      return r.code === 0 ? Number(JSON.parse(r.stdout)[0].n) : -1;
    };

    up = await startUp(["--config", cfg], { env, socket });
    let seen = 0;
    for (const until = Date.now() + 60_000; Date.now() < until && seen <= 0; ) seen = await count();
    up.kill("SIGKILL");
    await up.exited;
    if (seen <= 0)
      throw new Error(
        `the hub committed nothing within 60 s: ${await new Response(up.stderr).text()} ${JSON.stringify(await cli(["query", "SELECT count(*) AS n FROM ingest_batches", "--config", cfg, "--json"], { env }))}`,
      );
    // Killed with part of the backlog committed, not all of it.
    const total = await (async () => {
      const store = await openStore({ path: join(hubDir, "vc.duckdb"), readOnly: true });
      try {
        return Number((await store.query<{ n: number }>("SELECT count(*)::INTEGER AS n FROM ingest_batches"))[0]!.n);
      } finally {
        await store.close();
      }
    })();
    expect(total).toBeGreaterThan(0);

    up = await startUp(["--config", cfg], { env, socket });
    let pending = -1;
    let last = "";
    for (const until = Date.now() + 90_000; Date.now() < until; await Bun.sleep(300)) {
      const doctor = await cli(["doctor", "--json", "--config", cfg], { env });
      if (!doctor.stdout.trim()) throw new Error(`vc doctor printed nothing: ${doctor.stderr}`);
      last = doctor.stdout;
      const c = JSON.parse(doctor.stdout).checks.find((x: { check: string }) => x.check === "nats consumer");
      pending = c
        ? Number(
            /(\d+) batch\(es\) behind, (\d+) being committed/
              .exec(c.detail)!
              .slice(1)
              .reduce((a, b) => `${Number(a) + Number(b)}`),
          )
        : -1;
      if (pending === 0) break;
    }
    if (pending !== 0) throw new Error(`the hub did not catch up: ${last}`);
    up.kill("SIGTERM");
    await up.exited;

    const store = await openStore({ path: join(hubDir, "vc.duckdb"), readOnly: true });
    const local = await direct(dir, machines);
    try {
      // The direct collection reads every line once; the hub has each once too.
      await local.collect();
      const hub = await tableRows(store);
      const want = await tableRows(local.store);
      expect(hub.dcg_events!.length).toBe(3200);
      expect(new Set(hub.dcg_events).size).toBe(3200);
      expect(hub.dcg_events!.map((r) => JSON.parse(r as string).command).sort()).toEqual(want.dcg_events!.map((r) => JSON.parse(r as string).command).sort());
      // One run record per run: redelivery never committed a run twice.
      const runs = await store.query<{ machine_id: string; n: number }>(
        "SELECT machine_id, count(*)::INTEGER AS n FROM audit_events WHERE event_type = 'collector_run' AND actor = 'dcg' GROUP BY machine_id ORDER BY machine_id",
      );
      expect(runs).toEqual([
        { machine_id: "orko", n: 4 },
        { machine_id: "sydney", n: 4 },
      ]);
      // It was killed mid-backlog: part of it had been committed before, the rest after.
      const [{ n: final }] = (await store.query<{ n: number }>("SELECT count(*)::INTEGER AS n FROM ingest_batches")) as [{ n: number }];
      expect(total).toBeLessThan(final);
      const parts = await store.query<{ dup: number }>("SELECT count(*)::INTEGER - count(DISTINCT (batch_id, part))::INTEGER AS dup FROM ingest_batches");
      expect(parts[0]!.dup).toBe(0);
    } finally {
      await local.close();
      await store.close();
    }
  });
});
