import { recordAudit } from "../audit.ts";
import type { Clock } from "../clock.ts";
import { DEFAULT_CURSOR_KEY, loadCursors, parseCursor, saveCursors, type Cursor } from "../cursor/index.ts";
import { VcError, errorMessage } from "../errors.ts";
import type { Executor, RunOptions } from "../exec/types.ts";
import { sql } from "../store/sql.ts";
import type { Store, StoreTx } from "../store/store.ts";
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

/**
 * Runs one collector on one machine within its limits, then commits its rows, cursor(s) and run
 * record in one transaction. Never throws for the collector's faults: they become a failed record.
 */
export async function runCollector(o: RunCollectorOptions): Promise<RunRecord> {
  const { store, clock, collector, machine, limits } = o;
  const now = clock.now();
  const t0 = performance.now();
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
    const rec = record({ result: "failed", error: errorMessage(err) });
    await writeRunRecord(store, rec, now, collector);
    return rec;
  }

  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new VcError("exec_timeout", `timed out after ${limits.timeoutMs / 1000} s`)), limits.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, deadline.signal]) : deadline.signal;
  const warn = (m: string) => {
    if (warnings.length < 200) warnings.push(m);
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
    const rowsByTable: Record<string, number> = {};
    let total = 0;
    const rec = await store.transaction(async (tx) => {
      for (const [table, list] of Object.entries(rows)) {
        if (!list || list.length === 0) continue;
        const columns = new Set(await tx.columns(table));
        const added = await tx.insert(table, list.map((r) => stamp(r, columns, fill)));
        rowsByTable[table] = added;
        total += added;
      }
      await saveCursors(tx, machine.id, collector.name, newCursors, now);
      const r = record({ result: "ok", rows: total, rowsByTable });
      await writeRecordIn(tx, r, now, collector);
      return r;
    });
    return rec;
  } catch (err) {
    if (err instanceof VcError && err.code === "collector_skipped") return await skip(err.message);
    const message = errorMessage(err);
    const rec = record({ result: "failed", error: message });
    await writeRunRecord(store, rec, now, collector);
    return rec;
  } finally {
    clearTimeout(timer);
  }
}

function checkResult(result: CollectResult, collector: Collector, limits: CollectorLimits) {
  if (typeof result !== "object" || result === null || typeof result.rows !== "object" || result.rows === null) {
    throw new VcError("collector_failed", `${collector.name} returned ${JSON.stringify(result)?.slice(0, 80)} instead of { rows: { table: [...] } }`);
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
  for (const [k, c] of Object.entries(cursors)) parseCursor(c, `${collector.name} cursor ${k}`);
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

/** Writes a run record (audit event + collector state) in its own transaction. */
export async function writeRunRecord(store: Store, rec: RunRecord, now: Date, collector: Collector) {
  await store.transaction((tx) => writeRecordIn(tx, rec, now, collector));
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
