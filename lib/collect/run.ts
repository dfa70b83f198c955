import { recordAudits } from "../audit.ts";
import type { Clock } from "../clock.ts";
import { DEFAULT_CURSOR_KEY, loadCursors, parseCursor, saveManyCursors, type Cursor } from "../cursor/index.ts";
import { VcError, errorMessage } from "../errors.ts";
import type { Executor, RunOptions } from "../exec/types.ts";
import { sql } from "../store/sql.ts";
import type { Store, StoreTx } from "../store/store.ts";
import { jsonText, preview, rowBytes, sanitizeRows, type ColumnInfo } from "../store/_values.ts";
import type { CollectContext, CollectResult, Collector, CollectorLimits, MachineInfo, ToolInfo } from "./define.ts";

/** The run record of one (machine, collector). */
export interface RunRecord {
  machine: string;
  collector: string;
  result: "ok" | "failed" | "skipped";
  startedAt: string;
  durationMs: number;
  rows: number;
  rowsByTable: Record<string, number>;
  bytes: number;
  warnings: string[];
  error?: string;
  /** Why a skipped collector did not run. */
  reason?: string;
}

export interface RunCollectorOptions {
  store: Store;
  clock: Clock;
  collector: Collector;
  machine: MachineInfo;
  exec: Executor;
  limits: CollectorLimits;
  tools: Record<string, ToolInfo>;
  since?: Date;
  /** Aborts the run from outside (daemon shutdown). */
  signal?: AbortSignal;
}

/** Columns the store fills in when a collector leaves them out. */
function stamp(row: Record<string, unknown>, columns: ReadonlySet<string>, fill: Record<string, unknown>) {
  const out = { ...row };
  for (const [k, v] of Object.entries(fill)) if (columns.has(k) && out[k] === undefined) out[k] = v;
  return out;
}

/** The longest warning or error text a run record keeps (a parser may quote megabytes of input). */
const MAX_TEXT = 2000;
const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

/**
 * Runs one collector on one machine within its limits, then commits its rows, cursor(s) and run
 * record in one transaction. Never throws: the collector's faults, a bad row and even a store that
 * refuses the run record become a failed record (or a warning), never an exception.
 */
export async function runCollector(o: RunCollectorOptions): Promise<RunRecord> {
  const [rec] = await commitRuns(o.store, [await prepareRun(o)]);
  return rec!;
}

/**
 * A run collected, checked and ready for the store: its rows (stamped, fitted to their columns) and
 * cursors to commit together, or only its record when it was skipped or failed before the store.
 */
export interface PreparedRun {
  readonly collector: Collector;
  /** The run's clock reading: its rows' collected_at, its cursors' and record's time. */
  readonly now: Date;
  /** "ok": its rows and rowsByTable are filled in when they commit. */
  readonly record: RunRecord;
  readonly batches: Readonly<Record<string, Record<string, unknown>[]>>;
  readonly cursors: Readonly<Record<string, Cursor>>;
  /**
   * More rows to write, by table, in the transaction that commits the run (the hub's record of a
   * pushed batch); not counted as the run's. Written with the other runs' in one insert per table.
   */
  readonly also?: Readonly<Record<string, Record<string, unknown>[]>>;
}

/**
 * The collecting half of `runCollector`: runs the collector within its limits and prepares what it
 * returned, writing nothing. `cursors`: this run's saved cursors when the caller read them already
 * (one query for all of a machine's collectors); else they are read here. Never throws.
 */
export async function prepareRun(o: RunCollectorOptions, cursors?: Record<string, Cursor>): Promise<PreparedRun> {
  const t0 = performance.now();
  let now: Date | undefined;
  try {
    now = o.clock.now();
    return await prepareGuarded(o, now, t0, cursors);
  } catch (err) {
    now ??= new Date();
    const rec: RunRecord = {
      machine: String(o.machine?.id),
      collector: String(o.collector?.name),
      result: "failed",
      startedAt: now.toISOString(),
      durationMs: performance.now() - t0,
      rows: 0,
      rowsByTable: {},
      bytes: 0,
      warnings: [],
      error: clip(errorMessage(err)),
    };
    return recordOnly(o.collector, now, rec);
  }
}

const recordOnly = (collector: Collector, now: Date, record: RunRecord): PreparedRun => ({ collector, now, record, batches: {}, cursors: {} });

async function prepareGuarded(o: RunCollectorOptions, now: Date, t0: number, saved?: Record<string, Cursor>): Promise<PreparedRun> {
  const { store, collector, machine, limits } = o;
  const warnings: string[] = [];
  let bytes = 0;
  const record = (r: Partial<RunRecord> & Pick<RunRecord, "result">): RunRecord => ({
    machine: machine.id,
    collector: collector.name,
    startedAt: now.toISOString(),
    durationMs: performance.now() - t0,
    rows: 0,
    rowsByTable: {},
    bytes,
    warnings,
    ...r,
  });
  const done = (r: Partial<RunRecord> & Pick<RunRecord, "result">) => recordOnly(collector, now, record(r));
  const skip = (reason: string) => done({ result: "skipped", reason });

  const missing = (collector.requires?.commands ?? []).filter((t) => !o.tools[t]?.available);
  if (missing.length > 0) return skip(`${missing.join(", ")} not found on ${machine.id}'s PATH`);
  try {
    for (const f of collector.requires?.files ?? []) {
      const path = typeof f === "string" ? f : (machine.paths[`${collector.name}.${f.key}`] ?? f.path);
      if (!(await o.exec.stat(path))) return skip(`${path} not found on ${machine.id}`);
    }
  } catch (err) {
    return done({ result: "failed", error: clip(errorMessage(err)) });
  }

  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new VcError("exec_timeout", `timed out after ${limits.timeoutMs / 1000} s`)), limits.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, deadline.signal]) : deadline.signal;
  const warn = warnInto(warnings);
  const exec = boundExecutor(o.exec, limits, signal, warn, (n) => (bytes += n));

  try {
    const cursors = saved ?? (await loadCursors(store, machine.id, collector.name));
    const ctx: CollectContext = {
      machine,
      exec,
      cursor: cursors[DEFAULT_CURSOR_KEY],
      cursors,
      now,
      since: o.since,
      limits,
      signal,
      tools: o.tools,
      warn,
      path: (key, fallback) => machine.paths[`${collector.name}.${key}`] ?? fallback,
    };
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(signal.reason instanceof Error ? signal.reason : new VcError("exec_timeout", "aborted"));
      if (signal.aborted) fail();
      signal.addEventListener("abort", fail, { once: true });
    });
    const result = await Promise.race([collector.collect(ctx), aborted]);
    const { rows, cursors: newCursors } = checkResult(result, collector, limits);
    for (const w of result.warnings ?? []) warn(String(w));
    if (typeof result.skipped === "string") return skip(result.skipped);

    const fill = {
      machine_id: machine.id,
      collected_at: now,
      source: collector.name,
      source_version: collector.version,
      schema_version: collector.schemaVersion,
    };
    const batches: Record<string, Record<string, unknown>[]> = {};
    for (const [table, list] of Object.entries(rows)) {
      if (!list || list.length === 0) continue;
      const info = await tableColumns(store, table);
      const columns = new Set(info.map((c) => c.name));
      const stamped = list.map((r) => stamp(r, columns, fill));
      for (const r of stamped) {
        for (const key of Object.keys(r)) {
          if (!columns.has(key)) throw new VcError("invalid_input", `table ${table} has no column "${key}"`, { hint: `its columns: ${[...columns].join(", ")}` });
        }
      }
      const { rows: fit, changes } = sanitizeRows(table, info, stamped);
      reportChanges(changes, warn);
      batches[table] = fit;
    }
    return { collector, now, record: record({ result: "ok" }), batches, cursors: newCursors };
  } catch (err) {
    if (err instanceof VcError && err.code === "collector_skipped") return skip(err.message);
    return done({ result: "failed", error: clip(errorMessage(err)) });
  } finally {
    clearTimeout(timer);
  }
}

/** A run's warn(): at most 200 warnings, each clipped. */
const warnInto = (warnings: string[]) => (m: string) => {
  if (warnings.length < 200) warnings.push(clip(String(m)));
};

export interface CommitRunsOptions {
  /** Machines reached in this cycle: their last_seen_at, written with the runs. */
  seen?: readonly { machine: string; at: Date }[];
}

/**
 * Commits prepared runs: each ok run's rows and cursors with its run record, the others' records.
 * Several runs go in one transaction, rows of one table from all of them in one insert, the
 * bookkeeping (run records, collector_state, cursors, machines) in one statement each: a cycle's
 * cost in statements grows with the tables written, not with the runs (DuckDB savepoints do not
 * exist). When that transaction fails (a row the store refuses, a bad warning text …), nothing of
 * it is kept: the runs commit machine by machine, and a machine's that fails run by run as
 * `runCollector` does, so a refused row costs its row and a refused run only itself. Never
 * throws; returns the records in the order of `runs`.
 */
export async function commitRuns(store: Store, runs: readonly PreparedRun[], o: CommitRunsOptions = {}): Promise<RunRecord[]> {
  const groups = byBytes(runs);
  if (groups.length > 1) {
    const out: RunRecord[] = [];
    for (const [i, group] of groups.entries()) out.push(...(await commitRuns(store, group, i === groups.length - 1 ? o : {})));
    return out;
  }
  if (runs.length > 1 || o.seen?.length) {
    try {
      return await store.transaction(async (tx) => {
        const added = await insertRows(tx, runs);
        const records = runs.map((r, i) => (added[i] ? counted(r.record, added[i]) : r.record));
        await finishRuns(tx, runs, records, o.seen);
        return records;
      });
    } catch {
      // Machine by machine, then one at a time: the run at fault fails (or loses its refused rows) alone.
    }
    const machines = [...new Set([...runs.map((r) => r.record.machine), ...(o.seen ?? []).map((s) => s.machine)])];
    if (machines.length > 1) {
      const out = new Array<RunRecord>(runs.length);
      for (const id of machines) {
        const mine = runs.flatMap((r, i) => (r.record.machine === id ? [i] : []));
        const records = await commitRuns(
          store,
          mine.map((i) => runs[i]!),
          { seen: o.seen?.filter((s) => s.machine === id) },
        );
        mine.forEach((i, k) => (out[i] = records[k]!));
      }
      return out;
    }
  }
  const records: RunRecord[] = [];
  for (const run of runs) records.push(await commitOne(store, run));
  if (o.seen?.length) {
    try {
      await store.transaction((tx) => updateMachines(tx, [], o.seen));
    } catch {
      // last_seen_at waits for the next cycle
    }
  }
  return records;
}

/**
 * Bytes of rows one transaction of several runs holds at most (a larger run commits alone): DuckDB
 * keeps them in memory until it commits, and the scheduler holds them until then.
 */
export const GROUP_BYTES = 8 * 1024 * 1024;

/** Bytes of a prepared run's rows (as rowBytes counts them). */
export function preparedBytes(run: PreparedRun): number {
  let n = 0;
  for (const list of Object.values(run.batches)) for (const row of list) n += rowBytes(row);
  return n;
}

/** Consecutive runs in groups of at most GROUP_BYTES of rows. */
function byBytes(runs: readonly PreparedRun[]): (readonly PreparedRun[])[] {
  const groups: PreparedRun[][] = [[]];
  let bytes = 0;
  for (const run of runs) {
    const n = preparedBytes(run);
    if (groups.at(-1)!.length > 0 && bytes + n > GROUP_BYTES) {
      groups.push([]);
      bytes = 0;
    }
    groups.at(-1)!.push(run);
    bytes += n;
  }
  return groups;
}

/** An ok record with the rows its run added. */
function counted(rec: RunRecord, rowsByTable: Record<string, number>): RunRecord {
  return { ...rec, rowsByTable, rows: Object.values(rowsByTable).reduce((a, n) => a + n, 0) };
}

/** One run in its own transaction; rows the store refuses are found and left out (commitBatches). */
async function commitOne(store: Store, run: PreparedRun): Promise<RunRecord> {
  if (run.record.result !== "ok") {
    await writeRunRecord(store, run.record, run.now, run.collector);
    return run.record;
  }
  const warn = warnInto(run.record.warnings);
  try {
    return await commitBatches(store, { ...run.batches }, warn, async (tx, rowsByTable) => {
      const rec = counted(run.record, rowsByTable);
      await finishRuns(tx, [run], [rec]);
      return rec;
    });
  } catch (err) {
    const rec: RunRecord = { ...run.record, result: "failed", error: clip(errorMessage(err)) };
    await writeRunRecord(store, rec, run.now, run.collector);
    return rec;
  }
}

/**
 * Every ok run's rows, a table at a time: one insert for all the runs that wrote it when the rows
 * tell their run apart (by machine_id, or machine_id and source, or source: what DuckDB added is
 * counted back to each run), else one per run. Returns each run's rows added by table (undefined for runs that are not ok).
 */
async function insertRows(tx: StoreTx, runs: readonly PreparedRun[]): Promise<(Record<string, number> | undefined)[]> {
  const added = runs.map((r) => (r.record.result === "ok" ? ({} as Record<string, number>) : undefined));
  const byTable = new Map<string, number[]>();
  runs.forEach((r, i) => {
    if (r.record.result !== "ok") return;
    for (const [table, list] of Object.entries(r.batches)) if (list.length > 0) byTable.set(table, [...(byTable.get(table) ?? []), i]);
  });
  for (const [table, writers] of byTable) {
    const owners = writers.length > 1 ? ownersOf(runs, writers, table) : null;
    if (!owners) {
      for (const i of writers) {
        let n = 0;
        for (const chunk of chunks(runs[i]!.batches[table]!)) n += await tx.insert(table, chunk);
        added[i]![table] = n;
      }
      continue;
    }
    for (const i of writers) added[i]![table] = 0;
    for (const chunk of chunks(writers.flatMap((i) => runs[i]!.batches[table]!))) {
      for (const [key, n] of await tx.insertCounted(table, chunk, owners.by)) {
        const i = owners.runs.get(key);
        if (i === undefined) throw new VcError("query_failed", `${table}: DuckDB added a row of no run (${key})`);
        added[i]![table]! += n;
      }
    }
  }
  return added;
}

/** Columns that may tell one run's rows from another's in a table written by several runs (the store stamps them), tried in this order. */
const OWNER_COLUMNS: readonly (readonly string[])[] = [["machine_id"], ["machine_id", "source"], ["source"]];

/**
 * Columns whose values tell which run each of a table's rows came from, and the run of each value
 * (keys as insertCounted makes them); null when no such columns exist (two runs share values).
 */
function ownersOf(runs: readonly PreparedRun[], writers: readonly number[], table: string): { by: readonly string[]; runs: Map<string, number> } | null {
  next: for (const by of OWNER_COLUMNS) {
    const owners = new Map<string, number>();
    for (const i of writers) {
      for (const row of runs[i]!.batches[table]!) {
        if (by.some((c) => typeof row[c] !== "string")) continue next;
        const key = by.map((c) => row[c]).join("\u0000");
        const had = owners.get(key);
        if (had !== undefined && had !== i) continue next;
        owners.set(key, i);
      }
    }
    return { by, runs: owners };
  }
  return null;
}

/**
 * Columns of a table as the catalog has them, cached per store (migrations run only at open): every
 * table's at once, in one query shared by the runs that ask at the same time (a table made since is
 * found by asking again).
 */
const columnCache = new WeakMap<Store, Promise<Map<string, ColumnInfo[]>>>();
async function tableColumns(store: Store, table: string): Promise<ColumnInfo[]> {
  let all = columnCache.get(store);
  if (!all) columnCache.set(store, (all = readColumns(store)));
  let info = (await all.catch(() => undefined))?.get(table);
  if (!info) {
    if (columnCache.get(store) === all) columnCache.set(store, readColumns(store));
    info = (await columnCache.get(store)!).get(table);
  }
  if (!info) throw new VcError("invalid_input", `no table "${table}" in the store`, { details: { table } });
  return info;
}

async function readColumns(store: Store): Promise<Map<string, ColumnInfo[]>> {
  const rows = await store.query<{ table_name: string; column_name: string; data_type: string; is_nullable: boolean }>(
    "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() WHERE schema_name = 'main' AND database_name = current_database() ORDER BY table_name, column_index",
  );
  const byTable = new Map<string, ColumnInfo[]>();
  for (const r of rows) {
    const list = byTable.get(r.table_name) ?? byTable.set(r.table_name, []).get(r.table_name)!;
    list.push({ name: r.column_name, type: r.data_type, nullable: r.is_nullable });
  }
  return byTable;
}

/** The first few changes as warnings, then how many more. */
function reportChanges(changes: readonly string[], warn: (m: string) => void, max = 10) {
  for (const c of changes.slice(0, max)) warn(c);
  if (changes.length > max) warn(`…and ${changes.length - max} more values or rows changed the same way`);
}

/** An insert that failed inside the run's transaction, with its table. */
class InsertFailed extends Error {
  constructor(
    readonly table: string,
    override readonly cause: unknown,
  ) {
    super(errorMessage(cause));
  }
}

/** Most probe transactions spent finding the rows DuckDB refuses in one table. */
const MAX_PROBES = 200;
const PROBE_OK = Symbol("probe ok");

/**
 * Commits every table's rows and then `finish` (cursors, run record) in one transaction. When
 * DuckDB refuses a table's batch for a value vc could not foresee, the rows it refuses are found by
 * bisection (probe inserts, each rolled back), left out with a warning, and the rest committed:
 * a bad row costs its row, never the batch.
 */
export async function commitBatches<T>(
  store: Store,
  batches: Record<string, Record<string, unknown>[]>,
  warn: (m: string) => void,
  finish: (tx: StoreTx, rowsByTable: Record<string, number>, total: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.transaction(async (tx) => {
        const rowsByTable: Record<string, number> = {};
        let total = 0;
        for (const [table, list] of Object.entries(batches)) {
          if (list.length === 0) continue;
          let added = 0;
          try {
            for (const chunk of chunks(list)) added += await tx.insert(table, chunk);
          } catch (err) {
            throw new InsertFailed(table, err);
          }
          rowsByTable[table] = added;
          total += added;
        }
        return finish(tx, rowsByTable, total);
      });
    } catch (err) {
      if (!(err instanceof InsertFailed) || attempt >= Object.keys(batches).length + 1) throw err instanceof InsertFailed ? err.cause : err;
      const list = batches[err.table]!;
      const bad = await refusedRows(store, err.table, list);
      if (bad.size === 0) throw err.cause; // not one row's fault: the run fails as a whole
      const reasons: string[] = [];
      for (const [i, why] of bad) reasons.push(`${err.table}: row ${i + 1} dropped, the store refused it (${why.split("\n")[0]})`);
      reportChanges(reasons, warn, 5);
      batches = { ...batches, [err.table]: list.filter((_, i) => !bad.has(i)) };
    }
  }
}

/** Bytes one insert statement takes at most: DuckDB's memory for the stage and its JSON casts stays small. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** Consecutive slices of rows taking at most CHUNK_BYTES each (a row larger than that alone). */
function chunks(list: readonly Record<string, unknown>[]): (readonly Record<string, unknown>[])[] {
  const out: (readonly Record<string, unknown>[])[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < list.length; i++) {
    const n = rowBytes(list[i]!);
    if (i > start && bytes + n > CHUNK_BYTES) {
      out.push(list.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += n;
  }
  out.push(start === 0 ? list : list.slice(start));
  return out;
}

/** The rows of `list` DuckDB refuses to insert into `table`, with why, found by bisection in rolled-back transactions. */
async function refusedRows(store: Store, table: string, list: readonly Record<string, unknown>[]): Promise<Map<number, string>> {
  const bad = new Map<number, string>();
  let probes = 0;
  const probe = async (idx: number[]): Promise<string | null> => {
    probes++;
    try {
      await store.transaction(async (tx) => {
        await tx.insert(
          table,
          idx.map((i) => list[i]!),
        );
        throw PROBE_OK;
      });
    } catch (err) {
      return err === PROBE_OK ? null : errorMessage(err);
    }
    return null;
  };
  const find = async (idx: number[]): Promise<void> => {
    if (probes >= MAX_PROBES) {
      for (const i of idx) bad.set(i, "not checked: too many refused rows");
      return;
    }
    const why = await probe(idx);
    if (why === null) return;
    if (idx.length === 1) {
      bad.set(idx[0]!, why);
      return;
    }
    const mid = idx.length >> 1;
    await find(idx.slice(0, mid));
    await find(idx.slice(mid));
  };
  await find(list.map((_, i) => i));
  return bad;
}

function checkResult(result: CollectResult, collector: Collector, limits: CollectorLimits) {
  if (typeof result !== "object" || result === null || typeof result.rows !== "object" || result.rows === null) {
    throw new VcError("collector_failed", `${collector.name} returned ${preview(result)} instead of { rows: { table: [...] } }`);
  }
  let total = 0;
  for (const [table, list] of Object.entries(result.rows)) {
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((r) => typeof r !== "object" || r === null || Array.isArray(r))) {
      throw new VcError("collector_failed", `${collector.name} returned rows.${table} that is not an array of objects`);
    }
    total += list.length;
  }
  if (total > limits.maxRows) {
    throw new VcError("collector_failed", `${collector.name} returned ${total} rows, more than max_rows ${limits.maxRows}`, {
      hint: "a collector reads at most ctx.limits.maxRows per run and resumes from its cursor",
    });
  }
  const cursors: Record<string, Cursor> = { ...(result.cursors ?? {}) };
  if (result.cursor) cursors[DEFAULT_CURSOR_KEY] = result.cursor;
  for (const [k, c] of Object.entries(cursors)) {
    parseCursor(c, `${collector.name} cursor ${k}`);
    // Saved as JSON: a lone surrogate in an opaque value or a path would make DuckDB refuse it.
    cursors[k] = parseCursor(JSON.parse(jsonText(c) ?? "null"), `${collector.name} cursor ${k}`);
  }
  return { rows: result.rows, cursors };
}

/** An executor that applies the run's limits and deadline and turns cut or garbled output into warnings. */
function boundExecutor(exec: Executor, limits: CollectorLimits, signal: AbortSignal, warn: (m: string) => void, count: (bytes: number) => void): Executor {
  return {
    ...exec,
    machineId: exec.machineId,
    kind: exec.kind,
    async run(command, options: RunOptions = {}) {
      const r = await exec.run(command, { timeoutMs: limits.timeoutMs, maxBytes: limits.maxBytes, signal, ...options });
      count(r.bytes);
      const what = Array.isArray(command) ? (command as string[])[0] : "script";
      if (r.truncated) warn(`output of ${what} cut at ${options.maxBytes ?? limits.maxBytes} bytes (it printed ${r.bytes}+)`);
      if (r.invalidUtf8) warn(`output of ${what} was not valid UTF-8; bad bytes replaced`);
      if (r.timedOut) throw new VcError("exec_timeout", `${what} timed out after ${(options.timeoutMs ?? limits.timeoutMs) / 1000} s`);
      return r;
    },
    async readRange(path, from, to) {
      const capped = Math.min(to, from + limits.maxBytes);
      if (capped < to) warn(`read of ${path} cut at ${limits.maxBytes} bytes`);
      const bytes = await exec.readRange(path, from, capped);
      count(bytes.byteLength);
      return bytes;
    },
    httpGet: (url, options = {}) => exec.httpGet(url, { timeoutMs: limits.timeoutMs, maxBytes: limits.maxBytes, signal, ...options }),
  };
}

/**
 * Writes a run record (audit event + collector state) in its own transaction; when the store
 * refuses it, writes it again without its warnings, and gives up silently only when even that fails
 * (the store is closed or broken): a run record never throws.
 */
export async function writeRunRecord(store: Store, rec: RunRecord, now: Date, collector: Collector) {
  const run = recordOnly(collector, now, rec);
  try {
    await store.transaction((tx) => finishRuns(tx, [run], [rec]));
  } catch (err) {
    const bare = { ...rec, warnings: [`the run record with its warnings could not be written: ${clip(errorMessage(err))}`] };
    try {
      await store.transaction((tx) => finishRuns(tx, [run], [bare]));
    } catch {
      // the store is closed or broken: the record is lost, the run's outcome is still returned
    }
  }
}

/**
 * Everything but the rows, in the caller's transaction, one statement per table for all the runs:
 * the ok runs' cursors, the run records (audit_events), collector_state, and machines' last_ok_at
 * (and last_seen_at of the machines in `seen`).
 */
async function finishRuns(tx: StoreTx, runs: readonly PreparedRun[], records: readonly RunRecord[], seen: CommitRunsOptions["seen"] = []) {
  const also = new Map<string, Record<string, unknown>[]>();
  for (const r of runs) for (const [table, rows] of Object.entries(r.also ?? {})) also.set(table, [...(also.get(table) ?? []), ...rows]);
  for (const [table, rows] of also) await tx.insert(table, rows);
  const ok = runs.filter((_, i) => records[i]!.result === "ok");
  await saveManyCursors(
    tx,
    ok.map((r) => ({ machineId: r.record.machine, source: r.collector.name, cursors: r.cursors as Record<string, Cursor>, now: r.now })),
  );
  await recordAudits(
    tx,
    records.map((rec, i) => ({
      ts: runs[i]!.now,
      eventType: "collector_run",
      actor: rec.collector,
      machineId: rec.machine,
      action: "collect",
      result: rec.result,
      durationMs: rec.durationMs,
      rowsInserted: rec.rows,
      bytesRead: rec.bytes,
      warningsCount: rec.warnings.length,
      error: rec.error ?? rec.reason ?? null,
      details: {
        collector_version: runs[i]!.collector.version,
        schema_version: runs[i]!.collector.schemaVersion,
        rows_by_table: rec.rowsByTable,
        warnings: rec.warnings.slice(0, 50),
        reason: rec.reason,
      },
    })),
  );
  const states = records.map((rec, i) => {
    const at = runs[i]!.now.toISOString();
    return sql`(${rec.machine}, ${rec.collector}, ${at}::TIMESTAMP, ${rec.result}, ${rec.result === "ok" ? at : null}::TIMESTAMP, ${rec.error ?? rec.reason ?? null}, ${rec.result === "failed" ? 1 : 0})`;
  });
  if (states.length > 0) {
    await tx.run(sql`INSERT INTO collector_state(machine_id, collector, last_run_at, last_result, last_ok_at, last_error, consecutive_failures)
    VALUES ${sql.join(states)}
    ON CONFLICT (machine_id, collector) DO UPDATE SET
      last_run_at = excluded.last_run_at,
      last_result = excluded.last_result,
      last_ok_at = coalesce(excluded.last_ok_at, collector_state.last_ok_at),
      last_error = excluded.last_error,
      consecutive_failures = CASE WHEN excluded.last_result = 'failed' THEN collector_state.consecutive_failures + 1 ELSE 0 END`);
  }
  await updateMachines(tx, ok, seen);
}

/** machines.last_ok_at (the latest ok run of each) and last_seen_at, in one statement. */
async function updateMachines(tx: StoreTx, ok: readonly PreparedRun[], seen: CommitRunsOptions["seen"] = []) {
  const by = new Map<string, { seen: string | null; ok: string | null }>();
  const entry = (id: string) => by.get(id) ?? by.set(id, { seen: null, ok: null }).get(id)!;
  for (const s of seen) entry(s.machine).seen = s.at.toISOString();
  for (const r of ok) {
    const e = entry(r.record.machine);
    const at = r.now.toISOString();
    if (e.ok === null || at > e.ok) e.ok = at;
  }
  if (by.size === 0) return;
  const values = [...by].map(([id, e]) => sql`(${id}, ${e.seen}::TIMESTAMP, ${e.ok}::TIMESTAMP)`);
  await tx.run(sql`UPDATE machines SET last_seen_at = coalesce(v.seen, machines.last_seen_at), last_ok_at = coalesce(v.ok, machines.last_ok_at)
    FROM (VALUES ${sql.join(values)}) AS v(id, seen, ok) WHERE machines.machine_id = v.id`);
}
