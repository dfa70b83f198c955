import type { Clock } from "../clock.ts";
import type { VcConfig } from "../config/define.ts";
import { VcError, errorMessage, isVcError } from "../errors.ts";
import type { Executor } from "../exec/types.ts";
import { mapPool } from "../_pool.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import type { Collector, CollectorLimits, MachineInfo, ToolInfo } from "./define.ts";
import { ensureTools } from "./probe.ts";
import { cursorsKey, loadAllCursors } from "../cursor/index.ts";
import { GROUP_BYTES, commitRuns, preparedBytes, prepareRun, type PreparedRun, type RunRecord } from "./run.ts";

/** Makes (or reuses) the executor of a machine. */
export type ExecutorFactory = (machine: MachineInfo) => Executor | Promise<Executor>;

export interface CycleOptions {
  store: Store;
  config: VcConfig;
  clock: Clock;
  executorFor: ExecutorFactory;
  /** Only this machine (by id). */
  machine?: string;
  /** Only these machines (by id). */
  machines?: readonly string[];
  /** Only this collector (by name). */
  collector?: string;
  /** Run every collector now, ignoring each one's own interval. */
  force?: boolean;
  signal?: AbortSignal;
  /** Called as each run ends (progress on a TTY, the daemon's status line). */
  onRun?: (record: RunRecord) => void;
  /**
   * Where a machine's prepared runs go instead of this store (`vc node` publishes them); answers
   * with their records. The store still gives schemas, cursors and the runs' times.
   */
  sink?: (runs: readonly PreparedRun[]) => Promise<RunRecord[]>;
}

export interface MachineReport {
  machine: string;
  reachable: boolean;
  error?: string;
  runs: RunRecord[];
}

export interface CycleReport {
  startedAt: string;
  durationMs: number;
  machines: MachineReport[];
}

/** Machines and collectors a cycle covers, after --machine / --collector filters. */
export function selectTargets(config: VcConfig, filters: { machine?: string; machines?: readonly string[]; collector?: string }) {
  for (const id of [...(filters.machine ? [filters.machine] : []), ...(filters.machines ?? [])]) {
    if (!config.machines.some((m) => m.id === id)) {
      throw new VcError("unknown_machine", `no machine "${id}" in ${config.source}`, {
        hint: `known machines: ${config.machines.map((m) => m.id).join(", ")}`,
      });
    }
  }
  const machines = config.machines.filter((m) => (!filters.machine || m.id === filters.machine) && (!filters.machines || filters.machines.includes(m.id)));
  const collectors = filters.collector ? config.collectors.filter((c) => c.name === filters.collector) : config.collectors;
  if (filters.collector && collectors.length === 0) {
    throw new VcError("unknown_collector", `no collector "${filters.collector}" in ${config.source}`, {
      hint: `known collectors: ${config.collectors.map((c) => c.name).join(", ") || "(none)"}`,
    });
  }
  return { machines, collectors };
}

/** A machine's `ssh` when its own `vc node` pushes its runs (the hub never polls it). */
export const PUSHED = "push";

/** How long a pushed machine may stay silent before it reads unreachable: the ingest's setting, else 3 poll intervals. */
export const silentAfterMs = (config: VcConfig) => (config.ingest?.silent_after_seconds ?? 3 * config.polling.interval_seconds) * 1000;

/**
 * Why each pushed machine reads unreachable now (nothing from its node for too long), by machine id;
 * absent when it is heard from. One query for all of them.
 */
async function pushSilences(store: Store, machines: readonly string[], now: Date, afterMs: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (machines.length === 0) return out;
  const rows = await store.query<{ id: string; last: string | null; first: string | null }>(
    sql`SELECT m.machine_id AS id, b.last::VARCHAR AS last, m.first_seen_at::VARCHAR AS first
        FROM machines m LEFT JOIN (SELECT machine_id, max(run_at) AS last FROM ingest_batches GROUP BY machine_id) b USING (machine_id)
        WHERE m.machine_id IN (${sql.join(machines.map((id) => sql`${id}`))})`,
  );
  for (const { id, last, first } of rows) {
    const since = last ?? first;
    if (!since || now.getTime() - Date.parse(`${since.replace(" ", "T")}Z`) < afterMs) continue;
    out.set(
      id,
      last
        ? `machine ${id} unreachable: its vc node has sent nothing since ${last.replace(" ", "T")}Z`
        : `machine ${id} unreachable: its vc node has sent nothing yet (expected through NATS since ${since.replace(" ", "T")}Z)`,
    );
  }
  return out;
}

/** A configured machine as collectors see it. */
export function machineInfo(m: VcConfig["machines"][number]): MachineInfo {
  return { id: m.id, ssh: m.ssh, tags: m.tags, roles: m.roles, paths: m.paths };
}

/** Records every configured machine in `machines` (first_seen_at kept, the rest refreshed). */
export async function syncMachines(store: Store, config: VcConfig, now: Date): Promise<void> {
  if (config.machines.length === 0) return;
  const at = now.toISOString();
  const values = config.machines.map(
    (m) => sql`(${m.id}, ${m.ssh}, ${JSON.stringify(m.tags)}, ${JSON.stringify(m.roles)}, ${m.allow_write_commands}, ${m.allow_autopilot}, ${at}::TIMESTAMP, ${at}::TIMESTAMP)`,
  );
  await store.run(sql`INSERT INTO machines(machine_id, ssh_target, tags_json, roles_json, allow_write_commands, allow_autopilot, first_seen_at, last_seen_at)
    VALUES ${sql.join(values)}
    ON CONFLICT (machine_id) DO UPDATE SET ssh_target = excluded.ssh_target, tags_json = excluded.tags_json, roles_json = excluded.roles_json,
      allow_write_commands = excluded.allow_write_commands, allow_autopilot = excluded.allow_autopilot`);
}

/**
 * One poll cycle: every selected collector on every selected machine, bounded by machines in
 * flight and collectors per machine. A machine that fails costs only its own runs. The runs
 * commit together when the cycle's collecting ends, or sooner once they hold GROUP_BYTES of rows
 * (commitRuns: one transaction, one insert per table for all the machines — a DuckDB statement
 * costs the same for 3 rows as for 30, and its allocator keeps what each one used; a run the store
 * refuses fails alone). `onRun` hears of each run as it commits.
 * @example const report = await runCycle({ store, config, clock, executorFor })
 */
export async function runCycle(o: CycleOptions): Promise<CycleReport> {
  const { store, config, clock } = o;
  const { machines, collectors } = selectTargets(config, o);
  const started = clock.now();
  const t0 = performance.now();
  await syncMachines(store, config, started);
  const { lastRuns, sinceOk } = await runTimes(store);
  if (o.force || o.collector) lastRuns.clear();
  // Every run's saved cursors in one query (a run reads its own when this fails, and fails if that does too).
  const cursors = await loadAllCursors(store, { source: o.collector }).catch(() => undefined);

  const silences = await pushSilences(
    store,
    machines.filter((m) => m.ssh === PUSHED).map((m) => m.id),
    started,
    silentAfterMs(config),
  );
  const commits = o.sink ? { add: o.sink, flush: async () => {} } : createCommitBatch(store, o.onRun);
  const pending = await mapPool(machines, config.polling.max_machines_in_flight, async (m): Promise<Omit<MachineReport, "runs"> & { runs: Promise<RunRecord[]> }> => {
    const machine = machineInfo(m);
    const mine = collectors.filter((c) => !m.collectors || m.collectors.includes(c.name));
    // A pushed machine is never polled: its vc node sends its runs (lib/ingest). Silent too long, it reads unreachable as a polled one would.
    if (m.ssh === PUSHED) {
      const silent = silences.get(m.id);
      return silent
        ? { machine: m.id, reachable: false, error: silent, runs: commits.add(mine.map((c) => failedRun(clock, c, machine, silent))) }
        : { machine: m.id, reachable: true, runs: Promise.resolve([]) };
    }
    const due = mine.filter((c) => isDue(c, lastRuns.get(`${m.id}\u0000${c.name}`), started, config));
    if (due.length === 0) return { machine: m.id, reachable: true, runs: Promise.resolve([]) };
    let tools: Record<string, ToolInfo>;
    let exec: Executor;
    try {
      exec = await o.executorFor(machine);
      await exec.connect?.();
      const wanted = due.flatMap((c) => c.requires?.commands ?? []);
      tools = await ensureTools(store, exec, wanted, { clock, ttlHours: config.polling.tool_probe_ttl_hours, signal: o.signal });
    } catch (err) {
      // An unreachable machine: every due collector gets a failed record, so its data reads stale.
      // The hint says what to do (an unknown host key: the exact ssh-keyscan command): keep it.
      const error = `machine ${m.id} unreachable: ${errorMessage(err)}${isVcError(err) && err.hint ? `; ${err.hint}` : ""}`;
      return { machine: m.id, reachable: false, error, runs: commits.add(due.map((c) => failedRun(clock, c, machine, error))) };
    }
    const prepared = await mapPool(due, config.polling.max_collectors_in_flight_per_machine, (collector) =>
      prepareRun(
        {
          store,
          clock,
          collector,
          machine,
          exec,
          tools,
          limits: limitsFor(config, collector),
          since: sinceOk.get(`${m.id}\u0000${collector.name}`),
          signal: o.signal,
        },
        cursors ? (cursors.get(cursorsKey(m.id, collector.name)) ?? {}) : undefined,
      ),
    );
    return { machine: m.id, reachable: true, runs: commits.add(prepared, { machine: m.id, at: started }) };
  });
  await commits.flush();
  const reports = await Promise.all(pending.map(async (r) => ({ ...r, runs: await r.runs })));
  return { startedAt: started.toISOString(), durationMs: performance.now() - t0, machines: reports };
}

/**
 * Prepared runs waiting to commit together: `add` answers with their records once they have
 * committed, which happens at `flush` or as soon as the waiting rows reach GROUP_BYTES. Commits run
 * one after another; commitRuns never throws, and what `onRun` throws reaches the caller of flush.
 */
function createCommitBatch(store: Store, onRun?: (record: RunRecord) => void) {
  let waiting: { runs: readonly PreparedRun[]; seen?: { machine: string; at: Date }; done: (records: RunRecord[]) => void }[] = [];
  let bytes = 0;
  let committed: Promise<void> = Promise.resolve();
  let failure: { err: unknown } | undefined;
  const flush = async (): Promise<void> => {
    const batch = waiting;
    waiting = [];
    bytes = 0;
    if (batch.length > 0) {
      committed = committed.then(async () => {
        const records = await commitRuns(
          store,
          batch.flatMap((b) => b.runs),
          { seen: batch.flatMap((b) => (b.seen ? [b.seen] : [])) },
        );
        let at = 0;
        const each = batch.map((b) => records.slice(at, (at += b.runs.length)));
        batch.forEach((b, i) => b.done(each[i]!));
        try {
          for (const r of records) onRun?.(r);
        } catch (err) {
          failure ??= { err };
        }
      });
    }
    await committed;
    if (failure) throw failure.err;
  };
  return {
    add(runs: readonly PreparedRun[], seen?: { machine: string; at: Date }): Promise<RunRecord[]> {
      const out = new Promise<RunRecord[]>((done) => waiting.push({ runs, seen, done }));
      bytes += runs.reduce((n, r) => n + preparedBytes(r), 0);
      if (bytes >= GROUP_BYTES) flush().catch(() => {}); // its failure, if any, reaches the last flush
      return out;
    },
    flush,
  };
}

/**
 * A collector's limits: its own (ru's 120 s timeout …) over vc's defaults, and what the user's
 * config sets over both.
 */
export function limitsFor(config: VcConfig, c: Collector): CollectorLimits {
  const p = config.polling;
  const given = new Set(config.polling_given ?? []);
  const defaults = { timeoutMs: p.collector_timeout_seconds * 1000, maxBytes: p.max_bytes, maxRows: p.max_rows };
  const limits = { ...defaults, ...c.limits };
  if (given.has("collector_timeout_seconds")) limits.timeoutMs = defaults.timeoutMs;
  if (given.has("max_bytes")) limits.maxBytes = defaults.maxBytes;
  if (given.has("max_rows")) limits.maxRows = defaults.maxRows;
  return limits;
}

function isDue(c: Collector, lastRun: number | undefined, now: Date, config: VcConfig): boolean {
  if (lastRun === undefined) return true;
  const every = (c.intervalSeconds ?? 0) * 1000;
  // Within one poll interval a collector without its own interval always runs.
  return every <= config.polling.interval_seconds * 1000 || now.getTime() - lastRun >= every;
}

/** Per (machine, collector): when it last ran (skipped runs aside) and when it last succeeded. */
async function runTimes(store: Store) {
  const rows = await store.query<{ machine_id: string; collector: string; last_run_at: string; last_result: string; last_ok_at: string | null }>(
    "SELECT machine_id, collector, last_run_at, last_result, last_ok_at FROM collector_state",
  );
  const lastRuns = new Map<string, number>();
  const sinceOk = new Map<string, Date>();
  for (const r of rows) {
    const key = `${r.machine_id}\u0000${r.collector}`;
    if (r.last_result !== "skipped") lastRuns.set(key, Date.parse(r.last_run_at));
    if (r.last_ok_at !== null) sinceOk.set(key, new Date(r.last_ok_at));
  }
  return { lastRuns, sinceOk };
}

function failedRun(clock: Clock, collector: Collector, machine: MachineInfo, error: string): PreparedRun {
  const now = clock.now();
  const record: RunRecord = {
    machine: machine.id,
    collector: collector.name,
    result: "failed",
    startedAt: now.toISOString(),
    durationMs: 0,
    rows: 0,
    rowsByTable: {},
    bytes: 0,
    warnings: [],
    error,
  };
  return { collector, now, record, batches: {}, cursors: {} };
}
