import { recordAudit } from "../audit.ts";
import type { Clock } from "../clock.ts";
import { DEFAULT_CURSOR_KEY, loadCursors, parseCursor, saveCursors, type Cursor } from "../cursor/index.ts";
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
  const t0 = performance.now();
  let now: Date;
  try {
    now = o.clock.now();
    return await runGuarded(o, now, t0);
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
    await writeRunRecord(o.store, rec, now, o.collector).catch(() => {});
    return rec;
  }
}

async function runGuarded(o: RunCollectorOptions, now: Date, t0: number): Promise<RunRecord> {
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

  const missing = (collector.requires?.commands ?? []).filter((t) => !o.tools[t]?.available);
  const skip = async (reason: string) => {
    const rec = record({ result: "skipped", reason });
    await writeRunRecord(store, rec, now, collector);
    return rec;
  };
  if (missing.length > 0) return skip(`${missing.join(", ")} not found on ${machine.id}'s PATH`);
  try {
    for (const f of collector.requires?.files ?? []) {
      const path = typeof f === "string" ? f : (machine.paths[`${collector.name}.${f.key}`] ?? f.path);
      if (!(await o.exec.stat(path))) return skip(`${path} not found on ${machine.id}`);
    }
  } catch (err) {
    const rec = record({ result: "failed", error: clip(errorMessage(err)) });
    await writeRunRecord(store, rec, now, collector);
    return rec;
  }

  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new VcError("exec_timeout", `timed out after ${limits.timeoutMs / 1000} s`)), limits.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, deadline.signal]) : deadline.signal;
  const warn = (m: string) => {
    if (warnings.length < 200) warnings.push(clip(String(m)));
  };
  const exec = boundExecutor(o.exec, limits, signal, warn, (n) => (bytes += n));

  try {
    const cursors = await loadCursors(store, machine.id, collector.name);
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
    if (typeof result.skipped === "string") return await skip(result.skipped);

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
    const rec = await commitBatches(store, batches, warn, async (tx, rowsByTable, total) => {
      await saveCursors(tx, machine.id, collector.name, newCursors, now);
      const r = record({ result: "ok", rows: total, rowsByTable });
      await writeRecordIn(tx, r, now, collector);
      return r;
    });
    return rec;
  } catch (err) {
    if (err instanceof VcError && err.code === "collector_skipped") return await skip(err.message);
    const message = clip(errorMessage(err));
    const rec = record({ result: "failed", error: message });
    await writeRunRecord(store, rec, now, collector);
    return rec;
  } finally {
    clearTimeout(timer);
  }
}

/** Columns of a table as the catalog has them, cached per store (migrations run only at open). */
const columnCache = new WeakMap<Store, Map<string, ColumnInfo[]>>();
async function tableColumns(store: Store, table: string): Promise<ColumnInfo[]> {
  let byTable = columnCache.get(store);
  if (!byTable) columnCache.set(store, (byTable = new Map()));
  const known = byTable.get(table);
  if (known) return known;
  const rows = await store.query<{ column_name: string; data_type: string; is_nullable: boolean }>(
    sql`SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE table_name = ${table} AND schema_name = 'main' AND database_name = current_database() ORDER BY column_index`,
  );
  if (rows.length === 0) throw new VcError("invalid_input", `no table "${table}" in the store`, { details: { table } });
  const info = rows.map((r) => ({ name: r.column_name, type: r.data_type, nullable: r.is_nullable }));
  byTable.set(table, info);
  return info;
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
async function commitBatches<T>(
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
        await tx.insert(table, idx.map((i) => list[i]!));
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
function boundExecutor(
  exec: Executor,
  limits: CollectorLimits,
  signal: AbortSignal,
  warn: (m: string) => void,
  count: (bytes: number) => void,
): Executor {
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
  try {
    await store.transaction((tx) => writeRecordIn(tx, rec, now, collector));
  } catch (err) {
    const bare = { ...rec, warnings: [`the run record with its warnings could not be written: ${clip(errorMessage(err))}`] };
    await store.transaction((tx) => writeRecordIn(tx, bare, now, collector)).catch(() => {});
  }
}

async function writeRecordIn(tx: StoreTx, rec: RunRecord, now: Date, collector: Collector) {
  const details = {
    collector_version: collector.version,
    schema_version: collector.schemaVersion,
    rows_by_table: rec.rowsByTable,
    warnings: rec.warnings.slice(0, 50),
    reason: rec.reason,
  };
  const at = now.toISOString();
  await recordAudit(tx, {
    ts: now,
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
    details,
  });
  const ok = rec.result === "ok";
  await tx.run(sql`INSERT INTO collector_state(machine_id, collector, last_run_at, last_result, last_ok_at, last_error, consecutive_failures)
    VALUES (${rec.machine}, ${rec.collector}, ${at}::TIMESTAMP, ${rec.result}, ${ok ? at : null}::TIMESTAMP, ${rec.error ?? rec.reason ?? null}, ${rec.result === "failed" ? 1 : 0})
    ON CONFLICT (machine_id, collector) DO UPDATE SET
      last_run_at = excluded.last_run_at,
      last_result = excluded.last_result,
      last_ok_at = coalesce(excluded.last_ok_at, collector_state.last_ok_at),
      last_error = excluded.last_error,
      consecutive_failures = CASE WHEN excluded.last_result = 'failed' THEN collector_state.consecutive_failures + 1 ELSE 0 END`);
  if (ok) await tx.run(sql`UPDATE machines SET last_ok_at = ${at}::TIMESTAMP WHERE machine_id = ${rec.machine}`);
}
