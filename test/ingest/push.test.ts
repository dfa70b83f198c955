// vc node → NATS JetStream → the hub, with a real nats-server: the rows a hub builds from pushed
// batches equal a direct local collection of the same machines; two hubs build equal stores.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createFixedClock, type Cockpit } from "../../lib/index.ts";
import { HUB, nodeUser, startNats, type NatsServer } from "../helpers/nats.ts";
import { tempDir } from "../helpers/tmp.ts";
import { T0, committed, direct, makeMachine, nodeOnce, startHub, tableRows, type Machine } from "./_push.ts";

setDefaultTimeout(120_000);
const dir = tempDir("vc-push-");
let nats: NatsServer;
let machines: Machine[];
const hubs: Awaited<ReturnType<typeof startHub>>[] = [];
let local: Cockpit;

beforeAll(async () => {
  nats = await startNats({ users: [HUB, nodeUser("orko"), nodeUser("sydney")] });
  machines = [makeMachine(dir, "orko"), makeMachine(dir, "sydney")];
});
afterAll(async () => {
  for (const h of hubs) {
    await h.ingest.close();
    await h.vc.close();
  }
  await local?.close();
  await nats?.stop();
});

describe("push", () => {
  test("node → hub rows equal a direct local collection; a second hub builds an equal store", async () => {
    hubs.push(await startHub(dir, "hub-a", nats, ["orko", "sydney"]));
    const clock = createFixedClock(T0);
    for (const [i, m] of machines.entries()) m.denies(3 + i, T0);
    const reports = [];
    for (const m of machines) reports.push(await nodeOnce(dir, nats, m, clock));
    expect(reports.flatMap((r) => r.runs.map((x) => [r.machine, x.collector, x.result, x.sent]))).toEqual([
      ["orko", "dcg", "ok", "acked"],
      ["orko", "caam", "ok", "acked"],
      ["sydney", "dcg", "ok", "acked"],
      ["sydney", "caam", "ok", "acked"],
    ]);
    await committed(hubs[0]!, 4);
    local = await direct(dir, machines);
    await local.collect();
    const want = await tableRows(local.store);
    expect(want.dcg_events!.length).toBe(7);
    expect(await tableRows(hubs[0]!.vc.store)).toEqual(want);
    // The runs land as polled ones do: collector_state per machine and collector.
    const states = await hubs[0]!.vc.store.query<{ machine_id: string; collector: string; last_result: string }>(
      "SELECT machine_id, collector, last_result FROM collector_state ORDER BY machine_id, collector",
    );
    expect(states).toEqual([
      { machine_id: "orko", collector: "caam", last_result: "ok" },
      { machine_id: "orko", collector: "dcg", last_result: "ok" },
      { machine_id: "sydney", collector: "caam", last_result: "ok" },
      { machine_id: "sydney", collector: "dcg", last_result: "ok" },
    ]);
    // A new hub with its own durable consumer catches up from the stream.
    hubs.push(await startHub(dir, "hub-b", nats, ["orko", "sydney"]));
    await committed(hubs[1]!, 4);
    expect(await tableRows(hubs[1]!.vc.store)).toEqual(want);
  });
});
