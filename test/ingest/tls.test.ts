// A node publishing to a NATS server that speaks TLS only: with the CA in node.nats.tls it connects
// and its runs reach the hub; without it, the error says so.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createFixedClock, sql } from "../../lib/index.ts";
import { HUB, nodeUser, startNats, type NatsServer } from "../helpers/nats.ts";
import { tempDir } from "../helpers/tmp.ts";
import { T0, committed, makeMachine, nodeOnce, startHub } from "./_push.ts";

setDefaultTimeout(120_000);
const dir = tempDir("vc-push-tls-");
let nats: NatsServer & { ca?: string };

beforeAll(async () => {
  nats = await startNats({ users: [HUB, nodeUser("orko")], tls: true });
});
afterAll(async () => {
  await nats?.stop();
});

describe("TLS", () => {
  test("with the CA the node and the hub connect; without it, a clear error", async () => {
    const hub = await startHub(dir, "hub", nats, ["orko"], { tls: { ca_file: nats.ca! } });
    try {
      const orko = makeMachine(dir, "orko");
      orko.denies(2, T0);
      const r = await nodeOnce(dir, nats, orko, createFixedClock(T0), { tls: { ca_file: nats.ca! } });
      expect(r.runs.map((x) => x.sent)).toEqual(["acked", "acked"]);
      await committed(hub, 2);
      expect((await hub.vc.store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM dcg_events`))[0]!.n).toBe(2);
      // Without the CA: the node stops at once, saying what to set (retrying would not help).
      await expect(nodeOnce(dir, nats, orko, createFixedClock(T0))).rejects.toThrow(/NATS at tls:\/\/127\.0\.0\.1:\d+: TLS: unable to verify the first certificate/);
    } finally {
      await hub.ingest.close();
      await hub.vc.close();
    }
  });
});
