// What push must survive, with a real nats-server: the server stopped while a node collects (the
// spool holds the batches, then drains them in order), a node restarted (its cursors resume where
// the server acknowledged), and a pushed machine that falls silent (stale, then unreachable, like a
// polled one).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, sql } from "../../lib/index.ts";
import { HUB, nodeUser, startNats, type NatsServer } from "../helpers/nats.ts";
import { tempDir } from "../helpers/tmp.ts";
import { T0, committed, makeMachine, nodeOnce, startHub, tableRows, type Machine } from "./_push.ts";

setDefaultTimeout(120_000);
const dir = tempDir("vc-push-resilience-");
let nats: NatsServer;
let orko: Machine;
let hub: Awaited<ReturnType<typeof startHub>>;
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

beforeAll(async () => {
  nats = await startNats({ users: [HUB, nodeUser("orko")] });
  orko = makeMachine(dir, "orko");
  hub = await startHub(dir, "hub", nats, ["orko"]);
});
afterAll(async () => {
  await hub?.ingest.close();
  await hub?.vc.close();
  await nats?.stop();
});

describe("the server goes away", () => {
  test("the spool holds the batches while the server is down, and drains them in order when it is back; the cursors follow the acknowledgements", async () => {
    const clock = createFixedClock(T0);
    orko.denies(2, T0);
    const first = await nodeOnce(dir, nats, orko, clock);
    expect(first.runs.map((r) => r.sent)).toEqual(["acked", "acked"]);

    await nats.stop();
    for (const n of [1, 2, 3]) {
      clock.set(minutes(n));
      orko.denies(1, minutes(n));
      const r = await nodeOnce(dir, nats, orko, clock);
      expect(r.connected).toBe(false);
      expect(r.runs.map((x) => x.sent)).toEqual(["spooled", "spooled"]);
      // Cursors stay where the server last acknowledged: each spooled dcg batch holds every line since.
      expect(r.runs.find((x) => x.collector === "dcg")!.rows).toBe(n);
      expect(r.spooled).toBe(2 * n);
    }
    const spoolDir = join(dir, "orko", "node", "node-orko.spool");
    expect(readdirSync(spoolDir).filter((f) => f.endsWith(".json")).length).toBe(6);

    await nats.start();
    clock.set(minutes(4));
    const back = await nodeOnce(dir, nats, orko, clock);
    expect(back.connected).toBe(true);
    expect(back.drained).toBe(6);
    expect(back.spooled).toBe(0);
    // After the drain the cursor is the last spooled batch's: nothing new to send for dcg.
    expect(back.runs.find((x) => x.collector === "dcg")!.rows).toBe(0);
    await committed(hub, 2 + 6 + 2);
    // In order: the stream holds them as they were collected.
    const order = await hub.vc.store.query<{ run_at: string }>(sql`SELECT run_at::VARCHAR AS run_at FROM ingest_batches WHERE collector = 'caam' ORDER BY stream_seq`);
    expect(order.map((r) => r.run_at)).toEqual([...order.map((r) => r.run_at)].sort());
    expect(order).toHaveLength(5);

    // Every deny once (a spooled batch repeats the lines of the ones before it; their keys keep one).
    const hubDcg = (await tableRows(hub.vc.store)).dcg_events!;
    expect(hubDcg.length).toBe(5);
    expect(new Set(hubDcg).size).toBe(5);
  });

  test("a node restarted resumes from its cursors: only what is new goes", async () => {
    const clock = createFixedClock(minutes(10));
    orko.denies(4, minutes(10));
    const r = await nodeOnce(dir, nats, orko, clock);
    expect(r.runs.find((x) => x.collector === "dcg")).toMatchObject({ rows: 4, sent: "acked" });
    clock.set(minutes(11));
    const again = await nodeOnce(dir, nats, orko, clock);
    expect(again.runs.find((x) => x.collector === "dcg")).toMatchObject({ rows: 0, sent: "acked" });
    await committed(hub, 10 + 4);
    expect((await tableRows(hub.vc.store)).dcg_events!.length).toBe(9);
  });
});

describe("a pushed machine that falls silent", () => {
  test("reads unreachable after silent_after_seconds, as a polled machine that cannot be reached does", async () => {
    const at = new Date(minutes(11).getTime() + 10 * 60_000);
    (hub.vc.clock as ReturnType<typeof createFixedClock>).set(at);
    hub.vc.config.ingest!.silent_after_seconds = 300;
    const report = await hub.vc.collect();
    const runs = report.machines.flatMap((m) => m.runs);
    expect(runs.map((r) => [r.collector, r.result])).toEqual([
      ["dcg", "failed"],
      ["caam", "failed"],
    ]);
    expect(runs[0]!.error).toContain("machine orko unreachable: its vc node has sent nothing since");
    const machines = await hub.vc.machines();
    expect(machines.map((m) => [m.id, m.mode])).toEqual([["orko", "pushed"]]);
  });
});

describe("a hub started while the server is down", () => {
  test("starts, waits for the server, then consumes", async () => {
    await nats.stop();
    let late: Awaited<ReturnType<typeof startHub>> | undefined;
    try {
      late = await startHub(dir, "late-hub", nats, ["orko"]);
      expect((await late.ingest.status()).connected).toBe(false);
      await nats.start();
      await committed(late, 1, 60_000);
      expect((await late.ingest.status()).connected).toBe(true);
    } finally {
      await late?.ingest.close();
      await late?.vc.close();
    }
  });
});
