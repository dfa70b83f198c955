// Bad input on the push path, each with a real nats-server: a batch for a table the hub does not
// know, a node's collector newer than the hub's, a forged machine id, messages past the server's
// limit, wrong credentials. A batch the hub cannot take is parked with the reason; the rest go on.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { batchSubject, connectNats, createFixedClock, sql, toBatches, type PreparedRun } from "../../lib/index.ts";
import { caam } from "../../plugins/caam/index.ts";
import { HUB, nodeUser, startNats, type NatsServer } from "../helpers/nats.ts";
import { tempDir } from "../helpers/tmp.ts";
import { T0, VC_VERSION, committed, makeMachine, nodeOnce, startHub, tableRows, type Machine } from "./_push.ts";

setDefaultTimeout(120_000);
const dir = tempDir("vc-push-bad-");
let nats: NatsServer;
let orko: Machine;
let hub: Awaited<ReturnType<typeof startHub>>;

beforeAll(async () => {
  nats = await startNats({ users: [HUB, nodeUser("orko"), nodeUser("sydney")], maxPayload: 16 * 1024 });
  orko = makeMachine(dir, "orko");
  hub = await startHub(dir, "hub", nats, ["orko", "sydney"]);
});
afterAll(async () => {
  await hub?.ingest.close();
  await hub?.vc.close();
  await nats?.stop();
});

/** A run of caam as a node would prepare it, with these rows (and this collector's versions). */
function run(machine: string, rows: PreparedRun["batches"], o: { schemaVersion?: number; version?: string; at?: Date } = {}): PreparedRun {
  const c = caam();
  const at = o.at ?? T0;
  return {
    collector: { ...c, schemaVersion: o.schemaVersion ?? c.schemaVersion, version: o.version ?? c.version },
    now: at,
    record: { machine, collector: "caam", result: "ok", startedAt: at.toISOString(), durationMs: 1, rows: 0, rowsByTable: {}, bytes: 0, warnings: [] },
    batches: rows,
    cursors: {},
  };
}

/** Publishes a prepared run's parts with `user`'s credentials, on `machine`'s subject (or another). */
async function publish(r: PreparedRun, user: { user: string; password: string }, subjectMachine = r.record.machine) {
  const nc = await connectNats({ servers: [nats.url], user: user.user, password: user.password }, { name: "test" });
  try {
    for (const p of toBatches(r, { vcVersion: VC_VERSION, maxPayload: 16 * 1024 })) await jetstream(nc).publish(batchSubject(subjectMachine, "caam"), p.data, { msgID: p.id });
  } finally {
    await nc.close();
  }
}

const parked = () =>
  hub.vc.store.query<{ batch_id: string; reason: string; machine_id: string }>(sql`SELECT batch_id, reason, machine_id FROM ingest_parked ORDER BY parked_at, parked_id`);
async function waitParked(n: number) {
  for (const until = Date.now() + 20_000; Date.now() < until; await Bun.sleep(50)) if ((await parked()).length >= n) return parked();
  throw new Error(`expected ${n} parked: ${JSON.stringify(await parked())} ${JSON.stringify(hub.outcomes)}`);
}

describe("bad input", () => {
  test("rows for a table the hub does not know: parked with the reason; the next batch commits", async () => {
    await publish(run("orko", { no_such_table: [{ machine_id: "orko", x: 1 }] }, { at: new Date(T0.getTime() + 1000) }), nodeUser("orko"));
    const [p] = await waitParked(1);
    expect(p!.reason).toContain("this hub has no table no_such_table");
    orko.denies(2, T0);
    await nodeOnce(dir, nats, orko, createFixedClock(T0));
    await committed(hub, 2);
    expect((await tableRows(hub.vc.store)).dcg_events!.length).toBe(2);
  });

  test("a node whose collector is newer than the hub's: refused with both versions named", async () => {
    await publish(run("orko", {}, { schemaVersion: 99, version: "9.9.9", at: new Date(T0.getTime() + 2000) }), nodeUser("orko"));
    const list = await waitParked(2);
    expect(list[1]!.reason).toBe(
      `the node's caam is newer than the hub's: schema 99 (version 9.9.9, vc ${VC_VERSION}) on orko, schema ${caam().schemaVersion} (version ${caam().version}) here; upgrade the hub`,
    );
  });

  test("a forged machine id: the server refuses a node publishing as another machine; a batch that says another machine than its subject is parked", async () => {
    await expect(nodeOnce(dir, nats, orko, createFixedClock(T0), { as: "sydney" })).rejects.toThrow(
      /does not let user "node-orko" do that: .*Permissions Violation for Publish to "vc\.batch\.sydney\.dcg"/,
    );
    // The hub's own user could publish anywhere: the hub still checks the subject against the batch.
    await publish(run("sydney", {}, { at: new Date(T0.getTime() + 3000) }), HUB, "orko");
    const list = await waitParked(3);
    expect(list[2]!.reason).toBe(`forged: the subject vc.batch.orko.caam is machine "orko"'s, the batch says "sydney"`);
    const sydney = await hub.vc.store.query(sql`SELECT * FROM collector_state WHERE machine_id = 'sydney'`);
    expect(sydney).toEqual([]);
  });

  test("past the server's message limit: a run is split into parts that all commit; a single row too large fails the run, saying so", async () => {
    const at = new Date(T0.getTime() + 60_000);
    orko.denies(300, at);
    const r = await nodeOnce(dir, nats, orko, createFixedClock(at));
    const d = r.runs.find((x) => x.collector === "dcg")!;
    expect(d.sent).toBe("acked");
    expect(d.parts).toBeGreaterThan(2);
    await committed(hub, 4 + d.parts - 1);
    for (const until = Date.now() + 20_000; (await tableRows(hub.vc.store)).dcg_events!.length < 302 && Date.now() < until; ) await Bun.sleep(50);
    expect((await tableRows(hub.vc.store)).dcg_events!.length).toBe(302);

    const huge = "x".repeat(20_000);
    const big = run("orko", { account_limits_snapshot: [{ machine_id: "orko", provider: huge }] });
    expect(() => toBatches(big, { vcVersion: VC_VERSION, maxPayload: 16 * 1024 })).toThrow(
      /one row of account_limits_snapshot from caam on orko is \d+ bytes; the NATS server takes 16384/,
    );
  });

  test("wrong credentials: a clear error at once, and one attempt (no retry storm)", async () => {
    const before = readFileSync(join(nats.dir, "server.log"), "utf8").match(/authentication error/gi)?.length ?? 0;
    await expect(nodeOnce(dir, nats, orko, createFixedClock(T0), { password: "wrong" })).rejects.toThrow(/NATS at nats:\/\/127\.0\.0\.1:\d+ refused user "node-orko"/);
    await Bun.sleep(500);
    const after = readFileSync(join(nats.dir, "server.log"), "utf8").match(/authentication error/gi)?.length ?? 0;
    expect(after - before).toBe(1);
  });
});
