// The hub's push ingest: `vc up` with `ingest: { nats }` reads vc node's batches through a durable
// JetStream consumer, one at a time in stream order, and commits each in one transaction with its
// natural keys and a row in ingest_batches — acknowledging only after the commit. A crash anywhere
// loses nothing (what was not acknowledged comes again) and duplicates nothing (a batch part already
// in ingest_batches is acknowledged without a second commit; rows are keyed). A batch the hub
// cannot take is parked with the reason, and the rest go on. Pushed machines' runs land exactly as
// polled ones do (collector_state, run records), so health, rules, alerts and staleness read them alike.
import { AckPolicy, DeliverPolicy, jetstream, type ConsumerMessages, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { newId } from "../_id.ts";
import type { Cockpit } from "../cockpit.ts";
import { commitBatches, commitRuns, type PreparedRun, type RunRecord } from "../collect/run.ts";
import { PUSHED } from "../collect/scheduler.ts";
import { errorMessage, isVcError } from "../errors.ts";
import { sql } from "../store/sql.ts";
import { parseBatch, type Batch } from "./batch.ts";
import { machineOfSubject, streamOf, subjectOf } from "./names.ts";
import { connectNats, ensureStream, managerOf, natsError } from "./nats.ts";

/** What happened to one message. */
export type IngestOutcome =
  | { kind: "committed"; batch: string; part: number; rows: number; machine: string; collector: string }
  | { kind: "duplicate"; batch: string; part: number }
  | { kind: "parked"; batch: string | null; reason: string; subject: string };

/** Items in stream order, in waves of at most one per machine and collector (each wave in order). */
export function inWaves<T>(items: readonly T[], machineAndCollector: (x: T) => readonly [string, string]): T[][] {
  const waves: { keys: Set<string>; items: T[] }[] = [];
  for (const x of items) {
    const k = machineAndCollector(x).join("\u0000");
    const wave = waves.find((w) => !w.keys.has(k));
    if (wave) {
      wave.keys.add(k);
      wave.items.push(x);
    } else waves.push({ keys: new Set([k]), items: [x] });
  }
  return waves.map((w) => w.items);
}

export interface IngestStatus {
  connected: boolean;
  server: string | null;
  stream: { name: string; messages: number; bytes: number; max_age_hours: number; max_bytes: number } | null;
  consumer: { durable: string; pending: number; ack_pending: number; redelivered: number } | null;
  error: string | null;
}

export interface Ingest {
  status(): Promise<IngestStatus>;
  close(): Promise<void>;
}

/** Messages committed together at most (under load). */
export const GROUP = 256;
/** Messages delivered and not yet acknowledged at most: the next group arrives while one commits. */
export const MAX_ACK_PENDING = 2 * GROUP;

/** Seconds JetStream waits for an acknowledgement before it delivers a message again. */
const ACK_WAIT_SECONDS = 30;

/**
 * Starts consuming. Wrong credentials fail here, at once (`vc up` stops, saying so); a server down
 * at start or later is waited for (the client reconnects with backoff).
 */
export async function startIngest(vc: Cockpit, o: { onOutcome?: (x: IngestOutcome) => void; onError?: (err: unknown) => void; ackWaitSeconds?: number } = {}): Promise<Ingest> {
  const cfg = vc.config.ingest!;
  const durable = cfg.durable;
  /** How long the committer waits for more messages to commit with the first (the latency an idle hub adds). */
  const windowMs = cfg.window_ms;
  const stream = streamOf(cfg.nats).name;
  let nc: NatsConnection | null = null;
  let jsm: JetStreamManager | null = null;
  /** Connects, makes the stream and this hub's durable consumer (each once: they outlive a restart). */
  const setup = async () => {
    const conn = await connectNats(cfg.nats, { name: `vc hub ${durable}`, reconnect: true });
    try {
      const m = await managerOf(conn);
      await ensureStream(m, cfg.nats);
      const ackWait = nanos((o.ackWaitSeconds ?? cfg.ack_wait_seconds ?? ACK_WAIT_SECONDS) * 1000);
      const had = await m.consumers.info(stream, durable).catch(() => null);
      if (!had)
        await m.consumers.add(stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: ackWait,
          max_ack_pending: MAX_ACK_PENDING,
        });
      else if (had.config.max_ack_pending !== MAX_ACK_PENDING || had.config.ack_wait !== ackWait)
        await m.consumers.update(stream, durable, { max_ack_pending: MAX_ACK_PENDING, ack_wait: ackWait });
      nc = conn;
      jsm = m;
    } catch (err) {
      await conn.close().catch(() => {});
      throw natsError(err, cfg.nats);
    }
  };
  // Wrong credentials or a refused permission stop `vc up` here; a server not up yet is waited for.
  try {
    await setup();
  } catch (err) {
    if (!isVcError(err) || err.code !== "nats_unreachable") throw err;
    o.onError?.(err);
  }
  const tables = new Set((await vc.store.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables")).map((r) => r.t.toLowerCase()));
  let closing = false;
  let messages: ConsumerMessages | null = null;
  let lastError: string | null = null;
  let failures = 0;

  const loop = (async () => {
    while (!closing) {
      try {
        if (!nc) await setup();
        const c = await jetstream(nc!).consumers.get(stream, durable);
        messages = await c.consume({ max_messages: GROUP });
        // What has arrived commits together (one transaction, one insert per table): a reader fills
        // an inbox as messages come, the committer takes up to GROUP of them: a backlog as fast as it
        // arrives, live batches after windowMs, so that those published close together commit together.
        const inbox: JsMsg[] = [];
        const sig: { wake: (() => void) | null; space: (() => void) | null } = { wake: null, space: null };
        let ended: { err?: unknown } | null = null;
        const reader = (async () => {
          try {
            for await (const m of messages!) {
              inbox.push(m);
              sig.wake?.();
              // Past two groups waiting, stop pulling: the client asks the server for no more meanwhile.
              if (inbox.length >= 2 * GROUP) await new Promise<void>((r) => (sig.space = r));
            }
            ended = {};
          } catch (err) {
            ended = { err };
          }
          sig.wake?.();
        })();
        while (!closing) {
          if (inbox.length === 0 && !ended) await new Promise<void>((r) => (sig.wake = r));
          sig.wake = null;
          if (inbox.length === 0) break;
          if (inbox.length < GROUP) {
            // A message that came alone (nothing pending behind it) is live traffic: wait the window for
            // its neighbours. A backlog: take what the server still holds for us, then commit at once.
            const live = inbox[0]!.info.pending === 0;
            const until = performance.now() + windowMs;
            while (inbox.length < GROUP && !ended && !closing && performance.now() < until) {
              const more = inbox.at(-1)!.info.pending > 0;
              if (!more && !live) break;
              if (more) await Promise.race([new Promise<void>((r) => (sig.wake = r)), Bun.sleep(until - performance.now())]);
              else await Bun.sleep(until - performance.now());
              sig.wake = null;
            }
          }
          const group = inbox.splice(0, GROUP);
          sig.space?.();
          sig.space = null;
          const outcomes = await takeAll(group);
          for (const x of group) x.ack();
          for (const x of outcomes) o.onOutcome?.(x);
          lastError = null;
          failures = 0;
        }
        await reader;
        const end = ended as { err?: unknown } | null;
        if (end?.err) throw end.err;
      } catch (err) {
        if (closing) break;
        lastError = errorMessage(err);
        o.onError?.(natsError(err, cfg.nats));
        // Waits a little longer each time the server stays away (never a retry storm).
        await Bun.sleep(Math.min(30_000, 1000 * 2 ** Math.min(5, failures++)));
      }
    }
  })();

  /** Why the hub cannot take a batch (it is parked with that reason), or null. */
  function refusal(m: JsMsg, b: Batch): string | null {
    // A node may publish only under its own machine's subject (its NATS user's permission); the batch must say the same.
    if (machineOfSubject(m.subject) !== machineOfSubject(subjectOf(b.machine, b.collector)))
      return `forged: the subject ${m.subject} is machine "${machineOfSubject(m.subject)}"'s, the batch says "${b.machine}"`;
    const machine = vc.config.machines.find((x) => x.id === b.machine);
    if (!machine) return `machine "${b.machine}" is not in this hub's config (add it with ssh: "push")`;
    if (machine.ssh !== PUSHED) return `machine "${b.machine}" is polled by this hub (ssh: ${machine.ssh}), not pushed: set its ssh to "push"`;
    const collector = vc.config.collectors.find((c) => c.name === b.collector);
    if (!collector) return `this hub has no collector "${b.collector}" (the node runs ${b.collector} ${b.source_version})`;
    if (b.schema_version > collector.schemaVersion)
      return `the node's ${b.collector} is newer than the hub's: schema ${b.schema_version} (version ${b.source_version}, vc ${b.vc_version}) on ${b.machine}, schema ${collector.schemaVersion} (version ${collector.version}) here; upgrade the hub`;
    const unknown = Object.keys(b.rows).filter((t) => !tables.has(t.toLowerCase()));
    if (unknown.length) return `this hub has no table ${unknown.join(", ")} (rows for it from ${b.collector} ${b.source_version})`;
    return null;
  }

  /** A group of messages: each parked with a reason, skipped as already committed, or committed — the runs together. */
  async function takeAll(group: readonly JsMsg[]): Promise<IngestOutcome[]> {
    const out: IngestOutcome[] = [];
    const valid: { m: JsMsg; b: Batch }[] = [];
    for (const m of group) {
      const parsed = parseBatch(m.data);
      if ("invalid" in parsed) out.push(await park(m, null, `not a vc batch: ${parsed.invalid}`));
      else {
        const why = refusal(m, parsed);
        if (why) out.push(await park(m, parsed, why));
        else valid.push({ m, b: parsed });
      }
    }
    if (valid.length === 0) return out;
    const key = (b: Batch) => `${b.id}#${b.part}`;
    const done = new Set(
      (
        await vc.store.query<{ k: string }>(
          sql`SELECT batch_id || '#' || part AS k FROM ingest_batches WHERE batch_id IN (${sql.join([...new Set(valid.map((x) => x.b.id))].map((id) => sql`${id}`))})`,
        )
      ).map((r) => r.k),
    );
    /** The hub's record of a batch part it commits (its primary key keeps a part from committing twice). */
    const record = (m: JsMsg, b: Batch, n: number) => ({
      ingest_batches: [
        {
          batch_id: b.id,
          part: b.part,
          parts: b.parts,
          machine_id: b.machine,
          collector: b.collector,
          run_at: b.at,
          committed_at: vc.clock.now().toISOString(),
          stream_seq: m.info.streamSequence,
          rows: n,
        },
      ],
    });
    const runs: { m: JsMsg; b: Batch; run: PreparedRun }[] = [];
    for (const { m, b } of valid) {
      if (done.has(key(b))) {
        out.push({ kind: "duplicate", batch: b.id, part: b.part });
        continue;
      }
      done.add(key(b));
      const collector = vc.config.collectors.find((c) => c.name === b.collector)!;
      if (b.part < b.parts) {
        // An early part: its rows only, now (the run's record and cursors come with the last part, after it in the stream).
        try {
          const n = await commitBatches(
            vc.store,
            b.rows,
            () => {},
            async (tx, _by, total) => (await tx.insert("ingest_batches", record(m, b, total).ingest_batches), total),
          );
          out.push({ kind: "committed", batch: b.id, part: b.part, rows: n, machine: b.machine, collector: b.collector });
        } catch (err) {
          out.push(await park(m, b, `the hub could not commit it: ${errorMessage(err)}`));
        }
        continue;
      }
      const rows = Object.values(b.rows).reduce((n, r) => n + r.length, 0);
      runs.push({
        m,
        b,
        run: {
          collector: { ...collector, version: b.source_version },
          now: new Date(b.at),
          record: b.record as RunRecord,
          batches: b.rows,
          cursors: b.cursors ?? {},
          also: record(m, b, rows),
        },
      });
    }
    // In waves of at most one run per machine and collector: two runs of one collector in one insert
    // may carry the same keys (a backlog of a machine's cycles), which one statement cannot take.
    const waves = inWaves(runs, (r) => [r.b.machine, r.b.collector]);
    for (const wave of waves) {
      const seen = [...new Map(wave.map((r) => [r.b.machine, { machine: r.b.machine, at: new Date(r.b.at) }])).values()];
      const records = await commitRuns(
        vc.store,
        wave.map((r) => r.run),
        { seen },
      );
      for (const [i, { m, b }] of wave.entries()) {
        const rec = records[i]!;
        if (rec.result === "failed" && b.record?.result === "ok") out.push(await park(m, b, `the hub could not commit it: ${rec.error}`));
        else out.push({ kind: "committed", batch: b.id, part: b.part, rows: rec.rows, machine: b.machine, collector: b.collector });
      }
    }
    return out;
  }

  async function park(m: JsMsg, b: Batch | null, reason: string): Promise<IngestOutcome> {
    const text = new TextDecoder().decode(m.data);
    let payload: string | null = text.length <= 1024 * 1024 ? text : null;
    try {
      if (payload) JSON.parse(payload);
    } catch {
      payload = JSON.stringify({ raw: text.slice(0, 10_000) });
    }
    await vc.store.run(sql`INSERT INTO ingest_parked(parked_id, batch_id, subject, machine_id, collector, parked_at, reason, stream_seq, payload_json)
      VALUES (${newId()}, ${b?.id ?? null}, ${m.subject}, ${b?.machine ?? null}, ${b?.collector ?? null}, ${vc.clock.now().toISOString()}::TIMESTAMP, ${reason}, ${m.info.streamSequence}, ${payload}::JSON)`);
    return { kind: "parked", batch: b?.id ?? null, reason, subject: m.subject };
  }

  return {
    async status() {
      const conn = nc as NatsConnection | null;
      const out: IngestStatus = {
        connected: conn !== null && !conn.isClosed() && conn.info !== undefined,
        server: conn?.getServer() || null,
        stream: null,
        consumer: null,
        error: lastError,
      };
      if (!jsm) return out;
      try {
        const s = await jsm.streams.info(stream);
        out.stream = {
          name: stream,
          messages: s.state.messages,
          bytes: s.state.bytes,
          max_age_hours: Math.round(s.config.max_age / 3.6e12),
          max_bytes: s.config.max_bytes,
        };
        const c = await jsm.consumers.info(stream, durable);
        out.consumer = { durable, pending: c.num_pending, ack_pending: c.num_ack_pending, redelivered: c.num_redelivered };
      } catch (err) {
        out.error = errorMessage(err);
      }
      return out;
    },
    async close() {
      closing = true;
      messages?.stop();
      await loop;
      await (nc as NatsConnection | null)?.drain().catch(() => {});
    },
  };
}
