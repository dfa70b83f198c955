// The push side of the scale benchmark: a simulator that publishes as N vc nodes through the node's
// publishing code (toBatches on prepared runs, one subject per machine and collector, a message id
// per part), to a real nats-server; the hub is a real `vc up` with `ingest: { nats }` and N machines
// `ssh: "push"`. The runs are real: the fallback probe, caam and caut run once on a fake machine
// through runCycle's sink (as `vc node` runs them), then each is re-stamped with a node's id and instant.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { AckPolicy, DeliverPolicy, jetstream, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { commitRuns, type PreparedRun } from "../../lib/collect/run.ts";
import type { NatsConfig } from "../../lib/config/schema.ts";
import { connectDaemon, createFixedClock, openCockpit, resolveConfig, runCycle, toBatches, type RemoteCockpit } from "../../lib/index.ts";
import { streamOf, subjectOf } from "../../lib/ingest/names.ts";
import { connectNats, ensureStream, managerOf } from "../../lib/ingest/nats.ts";
import { GROUP, MAX_ACK_PENDING, inWaves } from "../../lib/ingest/hub.ts";
import type { FakeMachine } from "../../lib/testkit.ts";
import { socketPathFor } from "../../lib/store/files.ts";
import { caam, caut, sysprobe } from "../../plugins/index.ts";
import { HUB, startNats, type NatsServer } from "../helpers/nats.ts";
import { spawnUp, writeScaleConfig } from "./_scale-pull.ts";
import { TICK, follow, sampleTree, stopDaemon, type TreeSample } from "./_vc-up.ts";

const VC_VERSION = "0.1.0";
const MAX_PAYLOAD = 1024 * 1024;
const DURABLE = "vc-hub";

/** A node's cycle as it is after the first (caut's history already sent): the runs `vc node` publishes every interval. */
export async function templateRuns(dir: string, remote: FakeMachine): Promise<PreparedRun[]> {
  const config = await resolveConfig(
    { db: join(dir, "template.duckdb"), data_dir: dir, machines: [{ id: "template", ssh: "local" }], collectors: [sysprobe(), caam(), caut()] },
    { source: "scale template", env: {} },
  );
  const clock = createFixedClock(new Date());
  const vc = await openCockpit({ config, clock, executorFor: () => remote.exec });
  try {
    let runs: PreparedRun[] = [];
    for (let cycle = 0; cycle < 2; cycle++) {
      runs = [];
      await runCycle({
        store: vc.store,
        config: vc.config,
        clock,
        executorFor: () => remote.exec,
        force: true,
        // As the node's sink does once the server has acknowledged: the cursors and the run's time are kept, never the rows.
        sink: async (prepared) => {
          runs.push(...prepared);
          return commitRuns(
            vc.store,
            prepared.map((r) => ({ ...r, batches: {} })),
          );
        },
      });
    }
    const failed = runs.filter((r) => r.record.result !== "ok");
    if (failed.length) throw new Error(`the template runs failed: ${failed.map((r) => `${r.collector.name}: ${r.record.error ?? r.record.reason}`).join("; ")}`);
    return runs;
  } finally {
    await vc.close();
  }
}

/** A run as node `machine` would have made it at `at`: its rows stamped with that machine and instant. */
export function restamp(run: PreparedRun, machine: string, at: Date): PreparedRun {
  const batches = Object.fromEntries(
    Object.entries(run.batches).map(([t, rows]) => [
      t,
      rows.map((r) => ({ ...r, ...("machine_id" in r ? { machine_id: machine } : {}), ...("collected_at" in r ? { collected_at: at } : {}) })),
    ]),
  );
  return { ...run, now: at, batches, record: { ...run.record, machine, startedAt: at.toISOString() } };
}

const rowsOf = (run: PreparedRun) => Object.values(run.batches).reduce((n, r) => n + r.length, 0);

/**
 * The backlog (`cycles` node cycles of `ids`, in publishing order) committed by commitRuns into a
 * fresh store as the hub commits it — GROUP runs at a time, in waves of one run per machine and
 * collector — with nothing else running: rows per second.
 */
async function storeFloor(dir: string, templates: readonly PreparedRun[], ids: readonly string[], cycles: number, base: number): Promise<number> {
  const config = await resolveConfig(
    { db: join(dir, "floor.duckdb"), data_dir: join(dir, "floor"), machines: ids.map((id) => ({ id, ssh: "push" })), collectors: [sysprobe(), caam(), caut()] },
    { source: "scale store floor", env: {} },
  );
  const vc = await openCockpit({ config, clock: createFixedClock(new Date()) });
  try {
    const runs: PreparedRun[] = [];
    for (let c = 0; c < cycles; c++) ids.forEach((id, i) => runs.push(...templates.map((t) => restamp(t, id, new Date(base + c * 1000 + i)))));
    const rows = runs.reduce((n, r) => n + rowsOf(r), 0);
    const t0 = performance.now();
    for (let g = 0; g < runs.length; g += GROUP) {
      const waves = inWaves(runs.slice(g, g + GROUP), (r) => [r.record.machine, r.collector.name]);
      for (const wave of waves) await commitRuns(vc.store, wave, { seen: [...new Set(wave.map((r) => r.record.machine))].map((machine) => ({ machine, at: new Date() })) });
    }
    return rows / ((performance.now() - t0) / 1000);
  } finally {
    await vc.close();
  }
}

/** Publishes one node's cycle (every template run, re-stamped) as `vc node` does: toBatches, its subject, its message ids. */
async function publishCycle(js: JetStreamClient, runs: readonly PreparedRun[], machine: string, at: Date): Promise<{ messages: number; rows: number; seq: number }> {
  let messages = 0;
  let rows = 0;
  let seq = 0;
  for (const template of runs) {
    const run = restamp(template, machine, at);
    rows += rowsOf(run);
    for (const part of toBatches(run, { vcVersion: VC_VERSION, maxPayload: MAX_PAYLOAD })) {
      const ack = await js.publish(subjectOf(machine, run.collector.name), part.data, { msgID: part.id, timeout: 10_000 });
      seq = Math.max(seq, ack.seq);
      messages++;
    }
  }
  return { messages, rows, seq };
}

export interface PushResult {
  machines: number;
  /** The backlog: messages, the rows in them, node cycles per machine. */
  backlog: { messages: number; rows: number; cycles: number };
  /** Rows per second: the hub (its first delivery to its last acknowledgement, as the server reports them) and a bare consumer that only acks (median of 3 drains). */
  hubRowsPerSec: number;
  bareRowsPerSec: number;
  /** The same backlog committed straight into a fresh store by the hub's commit code, in the hub's groups and waves (no NATS, no parsing): what the store alone allows. */
  storeRowsPerSec: number;
  hubDrainSeconds: number;
  bareDrainSeconds: number[];
  /** Publish → the row answered by a query through the daemon's socket, ms, one batch at a time. */
  latencyMs: number[];
  /** The hub while draining: CPU % of one core, max RSS MB. */
  drainCpuPct: number;
  drainRssMb: number;
  /** The longest time between two commits while draining, ms (the hub waiting, not working). */
  longestPauseMs: number;
  /** The hub's rows/s with the pauses over a second left out: what its commits alone would give. */
  hubWorkingRowsPerSec: number;
  /** How long the daemon's socket took to answer its first request (/v1/info) while draining, ms. */
  firstAnswerMs: number;
  /** Committed by the hub, parked (must be 0). */
  committedRows: number;
  parked: number;
}

/** A fresh nats-server with JetStream and the stream made by vc's own ensureStream, and a client of the hub's user. */
async function natsWithStream(): Promise<{
  nats: NatsServer;
  cfg: NatsConfig;
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
  stream: string;
  close(): Promise<void>;
}> {
  const nats = await startNats({ users: [HUB], maxPayload: MAX_PAYLOAD });
  const resolved = await resolveConfig({ ingest: { nats: { servers: [nats.url], user: HUB.user, password: HUB.password } } }, { source: "scale nats", env: {} });
  const cfg = resolved.ingest!.nats;
  const nc = await connectNats(cfg, { name: "vc scale simulator" });
  const jsm = await managerOf(nc);
  await ensureStream(jsm, cfg);
  return {
    nats,
    cfg,
    nc,
    jsm,
    js: jetstream(nc),
    stream: streamOf(cfg).name,
    async close() {
      await nc.drain().catch(() => {});
      await nats.stop();
      rmSync(nats.dir, { recursive: true, force: true });
    },
  };
}

/** The hub's config and `vc up`: N machines `ssh: "push"`, ingest from this server; waits until it serves its socket. */
async function startHub(dir: string, n: number, cfg: NatsConfig) {
  const ids = machineIds(n);
  const config = writeScaleConfig(
    dir,
    ids.map((id) => ({ id, ssh: "push" })),
    { ingest: { nats: { servers: cfg.servers, user: cfg.user, password: cfg.password }, durable: DURABLE } },
  );
  const p = spawnUp(dir, config);
  const f = follow(p);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the hub did not serve within 60 s:\n${f.lines.join("\n")}`)), 60_000);
    void p.exited.then((code) => reject(new Error(`the hub exited with ${code}:\n${f.lines.join("\n")}`)));
  });
  await Promise.race([f.next((l) => /\bserving .* on /.test(l)), timeout]).finally(() => clearTimeout(timer));
  // The ingest starts right after the socket serves: the hub's CPU and RSS are read from here.
  const serving = sampleTree(p.pid);
  const socket = socketPathFor(join(dir, "vc.duckdb"));
  // A hub busy with its first cycle and a backlog may answer slowly: how slowly is worth a figure.
  const remote = await connectDaemon(socket, { timeoutMs: 120_000 });
  if (!remote) throw new Error(`no daemon answers on ${socket}`);
  return { p, f, remote, serving, connectMs: performance.now() - serving.t };
}

export const machineIds = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i + 1).padStart(3, "0")}`);

async function scalar<T>(remote: RemoteCockpit, text: string): Promise<T> {
  const r = await remote.query(text);
  return (r.rows[0] as Record<string, T>)[r.columns[0]!]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const sqlTime = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");

/**
 * For `n` nodes: a backlog of `cycles` node cycles per machine published, drained 3 times by a bare
 * consumer (ack only) and once by the hub; then `samples` single batches, publish → visible.
 */
export async function measurePush(templates: readonly PreparedRun[], n: number, o: { dir: string; cycles: number; samples: number }): Promise<PushResult> {
  const s = await natsWithStream();
  const ids = machineIds(n);
  try {
    // The backlog: each machine's cycles a minute apart, distinct instants per machine (no natural key shared).
    const base = Date.now() - o.cycles * 1000;
    let messages = 0;
    let rows = 0;
    let lastSeq = 0;
    for (let c = 0; c < o.cycles; c++) {
      const sent = await Promise.all(ids.map((id, i) => publishCycle(s.js, templates, id, new Date(base + c * 1000 + i))));
      for (const x of sent) {
        messages += x.messages;
        rows += x.rows;
        lastSeq = Math.max(lastSeq, x.seq);
      }
    }

    // A bare consumer on the same stream, configured as the hub's: it only acknowledges.
    const bareDrainSeconds: number[] = [];
    for (let k = 1; k <= 3; k++) {
      const durable = `bare-${k}`;
      await s.jsm.consumers.add(s.stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_ack_pending: MAX_ACK_PENDING,
      });
      const it = await (await s.js.consumers.get(s.stream, durable)).consume({ max_messages: GROUP });
      let seen = 0;
      let first = 0;
      for await (const m of it) {
        if (seen === 0) first = performance.now();
        // The last acknowledgement waits for the server's answer (the ones before it went first on the same connection).
        if (++seen === messages) {
          await m.ackAck();
          break;
        }
        m.ack();
      }
      const ms = performance.now() - first;
      await it.close();
      const info = await s.jsm.consumers.info(s.stream, durable);
      if (info.ack_floor.stream_seq < lastSeq) throw new Error(`the bare consumer acknowledged up to ${info.ack_floor.stream_seq} of ${lastSeq}`);
      bareDrainSeconds.push(ms / 1000);
    }
    const bareSeconds = median(bareDrainSeconds);
    const storeRowsPerSec = await storeFloor(o.dir, templates, ids, o.cycles, base);

    // The hub: started on the backlog, drains it.
    const hub = await startHub(o.dir, n, s.cfg);
    const samples: TreeSample[] = [hub.serving];
    const sampler = setInterval(() => samples.push(sampleTree(hub.p.pid)), 1000);
    let latencyMs: number[] = [];
    let drained: TreeSample;
    let hubSeconds: number;
    let committedRows: number;
    let parked: number;
    let longestPause: number;
    let waited: number;
    try {
      // The hub's drain as the server sees it, like the bare consumer's: its first delivery to its last acknowledgement.
      const until = performance.now() + 600_000;
      let firstDelivery = 0;
      for (;;) {
        const info = await s.jsm.consumers.info(s.stream, DURABLE).catch(() => null);
        if (!firstDelivery && info && info.delivered.stream_seq > 0) firstDelivery = performance.now();
        if (info && info.ack_floor.stream_seq >= lastSeq) break;
        if (performance.now() > until)
          throw new Error(`the hub acknowledged ${info?.ack_floor.stream_seq ?? 0} of ${lastSeq} messages in 600 s:\n${hub.f.lines.slice(-20).join("\n")}`);
        await Bun.sleep(5);
      }
      drained = sampleTree(hub.p.pid);
      hubSeconds = (drained.t - firstDelivery) / 1000;
      committedRows = Number(await scalar<number | string>(hub.remote, "SELECT coalesce(sum(rows), 0)::BIGINT AS r FROM ingest_batches"));
      parked = Number(await scalar<number | string>(hub.remote, "SELECT count(*)::BIGINT AS c FROM ingest_parked"));
      // Pauses between commits: the longest, and all those over a second together (the hub waiting for messages, not working).
      const pauses = await hub.remote.query(
        "SELECT coalesce(max(gap), 0)::DOUBLE AS longest, coalesce(sum(gap) FILTER (WHERE gap > 1000), 0)::DOUBLE AS waited FROM (SELECT epoch_ms(committed_at) - epoch_ms(lag(committed_at) OVER (ORDER BY committed_at)) AS gap FROM ingest_batches)",
      );
      ({ longest: longestPause, waited } = pauses.rows[0] as { longest: number; waited: number });

      // Latency: one node's probe batch at a time, publish → the row answered through the socket.
      const probe = templates.find((t) => t.collector.name === "sysprobe")!;
      latencyMs = [];
      for (let j = 0; j < o.samples; j++) {
        const id = ids[j % n]!;
        const at = new Date();
        const t0 = performance.now();
        await publishCycle(s.js, [probe], id, at);
        const q = `SELECT count(*)::INTEGER AS c FROM sys_samples WHERE machine_id = '${id}' AND collected_at = TIMESTAMP '${sqlTime(at)}'`;
        for (let tries = 0; (await scalar<number>(hub.remote, q)) < 1; tries++) {
          if (tries > 2000) throw new Error(`the probe batch of ${id} at ${at.toISOString()} never showed`);
          await Bun.sleep(5);
        }
        latencyMs.push(performance.now() - t0);
      }
    } finally {
      clearInterval(sampler);
      await hub.remote.close();
      await stopDaemon(hub.p);
    }
    // CPU and RSS while draining: from the hub serving to the last message acknowledged.
    const a = samples[0]!;
    const drain = [...samples.filter((x) => x.t <= drained.t), drained];
    return {
      machines: n,
      backlog: { messages, rows, cycles: o.cycles },
      hubRowsPerSec: rows / hubSeconds,
      bareRowsPerSec: rows / bareSeconds,
      storeRowsPerSec,
      hubDrainSeconds: hubSeconds,
      bareDrainSeconds,
      latencyMs,
      drainCpuPct: ((drained.ticks - a.ticks) / TICK / ((drained.t - a.t) / 1000)) * 100,
      drainRssMb: Math.max(...drain.map((x) => x.rssKb)) / 1024,
      firstAnswerMs: hub.connectMs,
      longestPauseMs: longestPause,
      hubWorkingRowsPerSec: rows / Math.max(0.001, hubSeconds - waited / 1000),
      committedRows,
      parked,
    };
  } finally {
    await s.close();
  }
}

export interface SteadyResult {
  machines: number;
  seconds: number;
  messages: number;
  rows: number;
  cpuPct: number;
  maxRssMb: number;
  hwmMb: number;
  /** Publish instant → the hub's commit, ms (from the hub's own ingest_batches). */
  commitLatencyMs: { p50: number; p95: number; max: number };
  parked: number;
}

/**
 * `n` nodes at one cycle per machine per minute, in real time over `seconds`: each machine publishes
 * its cycle at its own offset in each minute. The hub's CPU and RSS over the window (its own poll
 * cycle at start included), and each batch's publish → commit time.
 */
export async function measureSteady(templates: readonly PreparedRun[], n: number, o: { dir: string; seconds: number }): Promise<SteadyResult> {
  const s = await natsWithStream();
  const ids = machineIds(n);
  try {
    const hub = await startHub(o.dir, n, s.cfg);
    try {
      const from = hub.serving;
      const samples: TreeSample[] = [from];
      const sampler = setInterval(() => samples.push(sampleTree(hub.p.pid)), 1000);
      const t0 = performance.now();
      let messages = 0;
      let rows = 0;
      let lastSeq = 0;
      const pending: Promise<void>[] = [];
      // Machine i publishes at i/n of each minute.
      const slots = Array.from({ length: Math.floor((o.seconds / 60) * n) }, (_, k) => ({ id: ids[k % n]!, at: (k / n) * 60_000 }));
      for (const slot of slots) {
        const wait = t0 + slot.at - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        pending.push(
          publishCycle(s.js, templates, slot.id, new Date()).then((x) => {
            messages += x.messages;
            rows += x.rows;
            lastSeq = Math.max(lastSeq, x.seq);
          }),
        );
      }
      await Promise.all(pending);
      const rest = t0 + o.seconds * 1000 - performance.now();
      if (rest > 0) await Bun.sleep(rest);
      const to = sampleTree(hub.p.pid);
      clearInterval(sampler);
      samples.push(to);
      const seconds = (to.t - from.t) / 1000;
      // Everything committed (the window's backlog, if any, drained) before reading the latencies.
      const until = performance.now() + 300_000;
      while (((await s.jsm.consumers.info(s.stream, DURABLE)).ack_floor.stream_seq ?? 0) < lastSeq) {
        if (performance.now() > until) throw new Error("the hub did not catch up within 300 s of the window's end");
        await Bun.sleep(100);
      }
      const lat = await hub.remote.query("SELECT (epoch_ms(committed_at) - epoch_ms(run_at))::DOUBLE AS ms FROM ingest_batches");
      const ms = lat.rows.map((r) => Number((r as { ms: number }).ms));
      const parked = Number(await scalar<number | string>(hub.remote, "SELECT count(*)::BIGINT AS c FROM ingest_parked"));
      return {
        machines: n,
        seconds,
        messages,
        rows,
        cpuPct: ((to.ticks - from.ticks) / TICK / seconds) * 100,
        maxRssMb: Math.max(...samples.map((x) => x.rssKb)) / 1024,
        hwmMb: to.hwmKb / 1024,
        commitLatencyMs: { p50: percentile(ms, 50), p95: percentile(ms, 95), max: Math.max(...ms) },
        parked,
      };
    } finally {
      await hub.remote.close();
      await stopDaemon(hub.p);
    }
  } finally {
    await s.close();
  }
}
