// The hub's commit window (ingest.window_ms), with a real nats-server: batches published one by one
// within the window commit in one transaction; a backlog commits as it arrives, without waiting the
// window out.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createFixedClock } from "../../lib/index.ts";
import { statementTrace } from "../../lib/store/store.ts";
import { HUB, createStream, nodeUser, startNats, type NatsServer } from "../helpers/nats.ts";
import { tempDir } from "../helpers/tmp.ts";
import { T0, committed, makeMachine, nodeOnce, startHub, type Machine } from "./_push.ts";

setDefaultTimeout(120_000);
const dir = tempDir("vc-push-window-");
let nats: NatsServer;
let machines: Machine[];

beforeAll(async () => {
  nats = await startNats({ users: [HUB, nodeUser("orko"), nodeUser("sydney")] });
  machines = [makeMachine(dir, "orko"), makeMachine(dir, "sydney")];
  // The stream as an operator makes it before the first node publishes (no hub runs yet).
  await createStream(nats);
  statementTrace.on = true;
});
afterAll(async () => {
  statementTrace.on = false;
  statementTrace.counts.clear();
  await nats?.stop();
});

/** Transactions that wrote the hub's record of batches (one per commit of a group). */
const commits = () => statementTrace.counts.get("insert ingest_batches (append, insert, clear stage)")?.n ?? 0;

describe("the commit window", () => {
  test("a backlog commits as it arrives, in one transaction, without waiting a window of a minute", async () => {
    const clock = createFixedClock(T0);
    for (const m of machines) await nodeOnce(dir, nats, m, clock);
    statementTrace.counts.clear();
    const hub = await startHub(dir, "hub-backlog", nats, ["orko", "sydney"], { windowMs: 60_000 });
    try {
      // Well inside the minute: a hub that waited the window out would time out here.
      await committed(hub, 4, 15_000);
      expect(commits()).toBe(1);
    } finally {
      await hub.ingest.close();
      await hub.vc.close();
    }
  });

  test("live batches published one by one within the window commit together", async () => {
    const hub = await startHub(dir, "hub-live", nats, ["orko", "sydney"], { windowMs: 3000 });
    try {
      await committed(hub, 4); // the backlog of the test before
      statementTrace.counts.clear();
      const clock = createFixedClock(new Date(T0.getTime() + 60_000));
      for (const m of machines) await nodeOnce(dir, nats, m, clock);
      await committed(hub, 8);
      expect(commits()).toBe(1);
      expect(hub.outcomes.filter((x) => x.kind === "committed").length).toBe(8);
    } finally {
      await hub.ingest.close();
      await hub.vc.close();
    }
  });
});
