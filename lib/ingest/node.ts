// `vc node`: this machine's collectors, run here with the local executor on their own schedule,
// each run published to JetStream as a batch (lib/ingest/batch.ts) under vc.batch.<machine>.<collector>
// with a message id JetStream de-duplicates on. The run's cursors advance only once the server has
// acknowledged it; while the server cannot be reached, batches wait in a bounded spool on disk and
// go, in order, before anything new when it is back. A small store of its own (beside vc's) keeps the
// tables' shapes, the cursors and the runs' times — never the rows.
import { join } from "node:path";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { sleepOrAbort, systemClock, type Clock } from "../clock.ts";
import { createExecutorFactory, openCockpit, type Cockpit } from "../cockpit.ts";
import { commitRuns, type PreparedRun, type RunRecord } from "../collect/run.ts";
import { runCycle, type ExecutorFactory } from "../collect/scheduler.ts";
import type { VcConfig } from "../config/define.ts";
import type { Collector } from "../collect/define.ts";
import { saveCursors, type Cursor } from "../cursor/index.ts";
import { VcError, errorMessage, isVcError } from "../errors.ts";
import { toBatches } from "./batch.ts";
import { nodeMachine, subjectOf } from "./names.ts";
import { connectNats, natsError } from "./nats.ts";
import { openSpool, type Spool, type SpoolEntry } from "./spool.ts";

/** What one cycle of the node did. */
export interface NodeCycleReport {
  at: string;
  machine: string;
  runs: { collector: string; result: RunRecord["result"]; rows: number; sent: "acked" | "spooled" | "failed"; parts: number; error?: string }[];
  /** Spooled messages sent this cycle (in order, before the new ones). */
  drained: number;
  /** Messages waiting in the spool after the cycle, and those the bound dropped. */
  spooled: number;
  dropped: number;
  connected: boolean;
  /** Why batches could not be sent (the server unreachable, no stream yet). */
  error?: string;
}

export interface NodeOptions {
  /** The node's config: its `node` section says where batches go. */
  config: VcConfig;
  clock?: Clock;
  signal?: AbortSignal;
  /** One cycle (cron): publish, or spool what cannot be sent, and return. */
  once?: boolean;
  /** vc's version, sent with each batch. */
  vcVersion: string;
  executorFor?: ExecutorFactory;
  /** Collectors that run whatever the config lists (the CLI's fallback probe, as on the hub). */
  alwaysOn?: readonly Collector[];
  onCycle?: (r: NodeCycleReport) => void;
  onError?: (err: unknown) => void;
}

/** The message size the server takes, when it has not said (NATS's default). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Runs the node until the signal aborts (or one cycle with `once`). Wrong credentials and a
 * permission the server refuses stop it with that error (retrying would not help); a server that
 * cannot be reached does not — batches wait in the spool.
 */
export async function runNode(o: NodeOptions): Promise<NodeCycleReport[]> {
  const nodeCfg = o.config.node;
  if (!nodeCfg) throw new VcError("config_invalid", `${o.config.source}: no "node" section: vc node needs node.nats.servers (where to publish)`);
  const machine = nodeMachine(o.config);
  const clock = o.clock ?? systemClock;
  const here = o.config.machines.find((m) => m.id === machine);
  const config: VcConfig = {
    ...o.config,
    db: join(o.config.data_dir, `node-${machine}.duckdb`),
    machines: [
      {
        ...(here ?? { tags: [], roles: [], allow_write_commands: false, allow_autopilot: false, paths: {}, trust_on_first_use: false }),
        id: machine,
        ssh: "local",
      } as VcConfig["machines"][number],
    ],
    rules: [],
    channels: [],
    ingest: undefined,
    autopilot: { ...o.config.autopilot, mode: "off" },
  };
  const vc = await openCockpit({ config, clock, alwaysOn: o.alwaysOn });
  const spool = openSpool(join(o.config.data_dir, `node-${machine}.spool`), nodeCfg.spool_max_bytes);
  const executorFor = o.executorFor ?? createExecutorFactory(vc.config);
  let nc: NatsConnection | null = null;
  let js: JetStreamClient | null = null;
  let maxPayload = DEFAULT_MAX_PAYLOAD;
  const reports: NodeCycleReport[] = [];
  try {
    while (!o.signal?.aborted) {
      if (!nc || nc.isClosed()) {
        nc = null;
        js = null;
        try {
          nc = await connectNats(nodeCfg.nats, { name: `vc node ${machine}`, reconnect: !o.once });
          js = jetstream(nc);
          maxPayload = nc.info?.max_payload ?? maxPayload;
        } catch (err) {
          if (isVcError(err) && err.code !== "nats_unreachable") throw err;
          o.onError?.(err);
        }
      }
      const report = await cycle({ vc, config: vc.config, clock, spool, js, maxPayload, machine, vcVersion: o.vcVersion, executorFor, signal: o.signal });
      reports.push(report);
      o.onCycle?.(report);
      if (o.once) break;
      await sleepOrAbort(tickMs(vc.config), o.signal);
    }
  } finally {
    await nc?.drain().catch(() => {});
    await vc.close();
  }
  return reports;
}

/** How often the node looks for due collectors: its shortest interval. */
const tickMs = (config: VcConfig) => Math.min(config.polling.interval_seconds, ...config.collectors.map((c) => c.intervalSeconds ?? Number.POSITIVE_INFINITY)) * 1000;

async function cycle(o: {
  vc: Cockpit;
  config: VcConfig;
  clock: Clock;
  spool: Spool;
  js: JetStreamClient | null;
  maxPayload: number;
  machine: string;
  vcVersion: string;
  executorFor: ExecutorFactory;
  signal?: AbortSignal;
}): Promise<NodeCycleReport> {
  const { vc, spool } = o;
  let js = o.js;
  const report: NodeCycleReport = { at: o.clock.now().toISOString(), machine: o.machine, runs: [], drained: 0, spooled: 0, dropped: 0, connected: js !== null };

  /** Publishes one message; false when the server cannot be reached (then nothing more is tried this cycle). */
  const publish = async (e: SpoolEntry): Promise<boolean> => {
    if (!js) return false;
    try {
      await js.publish(e.subject, e.data, { msgID: e.id, timeout: 10_000 });
      return true;
    } catch (err) {
      const v = natsError(err, o.config.node!.nats);
      // Refused (a permission, a payload the server will not take): stop, saying why; retrying the same message would not help.
      if (v.code === "nats_permission" || v.code === "nats_auth") throw v;
      js = null;
      report.connected = false;
      report.error = v.message;
      return false;
    }
  };
  const advance = (c: NonNullable<SpoolEntry["commit"]>) => vc.store.transaction((tx) => saveCursors(tx, o.machine, c.collector, c.cursors, new Date(c.at)));

  // What waits goes first, in order.
  for (const { file, entry } of spool.list()) {
    if (!(await publish(entry))) break;
    if (entry.commit) await advance(entry.commit);
    spool.remove(file);
    report.drained++;
  }

  const sink = async (runs: readonly PreparedRun[]): Promise<RunRecord[]> => {
    const out: RunRecord[] = [];
    for (const run of runs) {
      let parts: { id: string; data: Uint8Array }[];
      let local = run;
      try {
        parts = toBatches(run, { vcVersion: o.vcVersion, maxPayload: o.maxPayload });
      } catch (err) {
        // A row larger than the server takes: the run fails here, and the hub hears of the failure.
        local = { ...run, batches: {}, cursors: {}, record: { ...run.record, result: "failed", error: errorMessage(err) } };
        parts = toBatches(local, { vcVersion: o.vcVersion, maxPayload: o.maxPayload });
      }
      const subject = subjectOf(o.machine, run.collector.name);
      const entries: SpoolEntry[] = parts.map((p, i) => ({
        subject,
        id: p.id,
        data: new TextDecoder().decode(p.data),
        ...(i === parts.length - 1 && local.record.result === "ok"
          ? { commit: { collector: run.collector.name, cursors: local.cursors as Record<string, Cursor>, at: run.now.toISOString() } }
          : {}),
      }));
      let sent = 0;
      if (spool.size().entries === 0)
        for (const e of entries)
          if (await publish(e)) sent++;
          else break;
      const acked = sent === entries.length;
      if (!acked) report.dropped += spool.push(entries.slice(sent));
      // Cursors advance with the acknowledgement only; the run's time is kept either way (its schedule).
      const [rec] = await commitRuns(vc.store, [{ ...local, batches: {}, cursors: acked ? local.cursors : {} }]);
      out.push(rec!);
      report.runs.push({
        collector: run.collector.name,
        result: local.record.result,
        rows: Object.values(run.batches).reduce((n, r) => n + r.length, 0),
        sent: local.record.result === "failed" && local !== run ? "failed" : acked ? "acked" : "spooled",
        parts: parts.length,
        ...(local.record.error ? { error: local.record.error } : {}),
      });
    }
    return out;
  };
  await runCycle({ store: vc.store, config: o.config, clock: o.clock, executorFor: o.executorFor, sink, signal: o.signal });
  report.spooled = spool.size().entries;
  return report;
}
