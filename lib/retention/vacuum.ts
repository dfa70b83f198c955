// `vc vacuum`: rolls up, then per table exports what is past its span (when a folder is set),
// counts it back, and deletes it — in an order, and with a record (retention_runs), such that a
// process killed at any point leaves the store whole and the next vacuum finishes the job:
//
//   planned   the run's cutoff and kept rows are fixed; files may be half-written (staged, or some
//             moved into place): the next vacuum removes this run's files and exports again
//   exported  every row to delete is in files counted back and moved into place
//   done      deleted, in one transaction with this state: never a row deleted and not exported
import { newId } from "../_id.ts";
import { recordAudit } from "../audit.ts";
import type { VcConfig } from "../config/define.ts";
import { VcError, errorMessage } from "../errors.ts";
import { sql, type SqlQuery } from "../store/sql.ts";
import { memorySizeBytes, type Store, type StoreTx } from "../store/store.ts";
import { totalmem } from "node:os";
import { loadTables, type Reader, type TableMeta, type Tier } from "./_tables.ts";
import { createParquetSink, removeRunFiles, withSnapshot } from "./parquet.ts";
import { exportRange, pastSpan, planVacuum, retentionOf, type KeepRange, type TablePlan, type VacuumPlan } from "./plan.ts";
import { runRollups, type RollupPlan } from "./rollup.ts";

/** Where a vacuum is. */
export type VacuumProgress =
  | { step: "rollup"; table: string; tier: Tier; done: number; total: number }
  | { step: "export"; table: string; rows: number; total: number }
  | { step: "published"; table: string; files: number }
  | { step: "delete"; table: string; rows: number; compact: boolean }
  | { step: "done"; table: string };

export interface VacuumOptions {
  store: Store;
  config: Pick<VcConfig, "retention" | "source">;
  now: Date;
  /** Only plan: nothing is rolled up, written or deleted. */
  dryRun?: boolean;
  /** Who asked, for the audit log (`user`, `vc up`). */
  actor?: string;
  onProgress?: (p: VacuumProgress) => void;
}

/** What one table's run did. */
export interface TableOutcome {
  table: string;
  run_id: string;
  state: "done" | "planned" | "exported" | "cancelled";
  rows_exported: number;
  rows_deleted: number;
  compacted: boolean;
  files: string[];
  /** Said of the run when it went otherwise than planned (a rewrite that did not fit in memory). */
  note: string | null;
  error: string | null;
}

export interface VacuumReport extends VacuumPlan {
  dry_run: boolean;
  /** This vacuum's id (runs it finished for an earlier one keep theirs). */
  run_id: string | null;
  /** Rolled up now (empty on a dry run: `rollups` says what would be). */
  rolled_up: RollupPlan[];
  outcomes: TableOutcome[];
  /** The store's used bytes (blocks in use x block size) before and after, measured. */
  store_bytes: { before: number; after: number } | null;
  ok: boolean;
}

const usedBytes = async (read: Reader) => {
  const [r] = await read<{ b: number }>(sql`SELECT (block_size * used_blocks)::BIGINT AS b FROM pragma_database_size() WHERE database_name = current_database()`);
  return Number(r?.b ?? 0);
};

interface Run {
  run_id: string;
  table: TableMeta;
  cutoff: string;
  keep: KeepRange[];
  mode: "delete" | "export";
  export_from: string | null;
  export_dir: string | null;
  state: "planned" | "exported" | "done";
  rows_exported: number;
  compact: boolean;
  files: string[];
  /** Why the table was not rewritten after all, if it was to be. */
  note?: string;
}

const runPrefix = (runId: string) => `vacuum-${runId}`;

async function setRun(tx: Pick<StoreTx, "run">, run: Run, now: Date, o: { state: Run["state"]; rows_deleted?: number; error?: string | null }) {
  await tx.run(sql`UPDATE retention_runs SET state = ${o.state}, rows_exported = ${run.rows_exported}, files_json = ${JSON.stringify(run.files)},
      rows_deleted = coalesce(${o.rows_deleted ?? null}, rows_deleted), compacted = ${run.compact}, error = ${o.error ?? null}, updated_at = ${now.toISOString()}::TIMESTAMP
    WHERE run_id = ${run.run_id} AND table_name = ${run.table.name}`);
}

/** Records a failure on a run, its state as the store has it. */
async function setRunError(store: Store, run: Run, now: Date, error: string) {
  await store.run(sql`UPDATE retention_runs SET error = ${error}, updated_at = ${now.toISOString()}::TIMESTAMP WHERE run_id = ${run.run_id} AND table_name = ${run.table.name}`);
}

/** What a table's rewrite may use for a moment (its new primary key is built in memory): 1 GB, or half the RAM when less, or the store's own limit when more. */
async function withMemoryForRewrite<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  const [row] = await store.query<{ limit: string }>(sql`SELECT current_setting('memory_limit') AS "limit"`);
  const was = String(row?.limit ?? "").replace(/\s+/g, "");
  const now = memorySizeBytes(was) ?? 0;
  const want = Math.min(REWRITE_MEMORY_BYTES, Math.floor(totalmem() / 2));
  if (!was || want <= now) return fn();
  await store.run(`SET memory_limit = '${Math.floor(want / 2 ** 20)}MiB'`);
  try {
    return await fn();
  } finally {
    await store.run(`SET memory_limit = '${was}'`).catch(() => {});
  }
}

const REWRITE_MEMORY_BYTES = 2 ** 30;

/** Rewrites a table without the rows `where` selects: its CREATE statement and indexes again, the rest copied, in the caller's transaction. */
async function compactTable(tx: StoreTx, table: string, where: SqlQuery): Promise<void> {
  const [def] = await tx.query<{ sql: string }>(sql`SELECT sql FROM duckdb_tables() WHERE table_name = ${table} AND schema_name = 'main' AND database_name = current_database()`);
  const indexes = await tx.query<{ sql: string }>(
    sql`SELECT sql FROM duckdb_indexes() WHERE table_name = ${table} AND schema_name = 'main' AND database_name = current_database() AND sql IS NOT NULL`,
  );
  const temp = `_vc_compact_${table}`;
  const ddl = def?.sql.replace(/^CREATE TABLE\s+(?:main\.)?("(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*)/i, `CREATE TABLE ${sql.identifier(temp).text}`);
  if (!ddl || ddl === def?.sql) throw new VcError("query_failed", `cannot rewrite ${table}: its CREATE statement is not one vc reads`, { details: { sql: def?.sql } });
  await tx.run(ddl);
  await tx.run(sql`INSERT INTO ${sql.identifier(temp)} SELECT * FROM ${sql.identifier(table)} WHERE (${where}) IS NOT TRUE`);
  await tx.run(sql`DROP TABLE ${sql.identifier(table)}`);
  await tx.run(sql`ALTER TABLE ${sql.identifier(temp)} RENAME TO ${sql.identifier(table)}`);
  for (const i of indexes) await tx.run(i.sql);
}

/** Export (when a folder is set) then delete one table's rows past its span; see the file's head. */
async function finishRun(store: Store, run: Run, o: VacuumOptions): Promise<TableOutcome> {
  const t = run.table;
  const deleting = pastSpan(t.time!, run.cutoff, run.keep);
  const exporting = run.mode === "delete" ? deleting : exportRange(t.time!, run.export_from, run.cutoff);
  let rowsDeleted = 0;
  for (let attempt = 0; ; attempt++) {
    if (run.export_dir && run.state === "planned") {
      // What an interrupted attempt left (staged or already in place) goes first: then nothing is there twice.
      removeRunFiles(run.export_dir, runPrefix(run.run_id), t.name);
      const sink = await createParquetSink(run.export_dir, runPrefix(run.run_id));
      try {
        run.rows_exported = await withSnapshot(store, async (conn, count) => {
          const total = await count(exporting, t.name);
          const streamed =
            total === 0 ? 0 : await sink.stage({ conn, table: t, where: exporting, onRows: (rows) => o.onProgress?.({ step: "export", table: t.name, rows, total }) });
          const staged = await sink.countStaged(t.name);
          if (streamed !== total || staged !== total) throw new VcError("query_failed", `exporting ${t.name}: ${total} rows to export, ${streamed} read, ${staged} in the files`);
          return total;
        });
        run.files = sink.publish(t.name);
      } catch (err) {
        sink.discard(t.name);
        throw err;
      } finally {
        await sink.close();
      }
      o.onProgress?.({ step: "published", table: t.name, files: run.files.length });
      await store.transaction((tx) => setRun(tx, run, o.now, { state: "exported" }));
      run.state = "exported";
    }
    if (run.mode === "export") {
      await store.transaction(async (tx) => {
        await setRun(tx, run, o.now, { state: "done" });
        await tx.run(sql`INSERT INTO retention_state (table_name, exported_to, updated_at) VALUES (${t.name}, ${run.cutoff}::TIMESTAMP, ${o.now.toISOString()}::TIMESTAMP)
          ON CONFLICT (table_name) DO UPDATE SET exported_to = greatest(coalesce(retention_state.exported_to, excluded.exported_to), excluded.exported_to), updated_at = excluded.updated_at`);
      });
      run.state = "done";
      break;
    }
    const deleteIn = (compact: boolean) =>
      store.transaction(async (tx) => {
        const [row] = await tx.query<{ n: number }>(sql`SELECT count(*)::BIGINT AS n FROM ${sql.identifier(t.name)} WHERE ${deleting}`);
        const n = Number(row?.n ?? 0);
        // Rows came in past the cutoff since they were exported (late samples): export again first.
        if (run.export_dir && n !== run.rows_exported) return n;
        o.onProgress?.({ step: "delete", table: t.name, rows: n, compact });
        if (n > 0) {
          if (compact) await compactTable(tx, t.name, deleting);
          else await tx.run(sql`DELETE FROM ${sql.identifier(t.name)} WHERE ${deleting}`);
        }
        rowsDeleted = n;
        await setRun(tx, { ...run, compact }, o.now, { state: "done", rows_deleted: n });
        await tx.run(sql`INSERT INTO retention_state (table_name, kept_from, dead_rows, compacted_at, updated_at)
            VALUES (${t.name}, ${run.cutoff}::TIMESTAMP, ${compact || !t.indexed ? 0 : n}, ${compact ? o.now.toISOString() : null}::TIMESTAMP, ${o.now.toISOString()}::TIMESTAMP)
          ON CONFLICT (table_name) DO UPDATE SET kept_from = greatest(coalesce(retention_state.kept_from, excluded.kept_from), excluded.kept_from),
            dead_rows = ${compact || !t.indexed ? sql`0` : sql`retention_state.dead_rows + excluded.dead_rows`},
            compacted_at = coalesce(excluded.compacted_at, retention_state.compacted_at), updated_at = excluded.updated_at`);
        if (t.tier) {
          await tx.run(
            sql`UPDATE rollup_state SET rolled_from = greatest(rolled_from, ${run.cutoff}::TIMESTAMP), updated_at = ${o.now.toISOString()}::TIMESTAMP WHERE tier = ${t.tier}`,
          );
        }
        return null;
      });
    const deleteRows = (compact: boolean) => (compact ? withMemoryForRewrite(store, () => deleteIn(true)) : deleteIn(false));
    let changed: number | null;
    try {
      changed = await deleteRows(run.compact);
    } catch (err) {
      // A rewrite that does not fit in memory: delete in place (the space is reused at a later rewrite).
      if (!run.compact || !/out of memory|failed to allocate/i.test(errorMessage(err))) throw err;
      run.compact = false;
      run.note = `not rewritten (${errorMessage(err).split("\n")[0]}): deleted in place`;
      changed = await deleteRows(false);
    }
    if (changed === null) {
      run.state = "done";
      break;
    }
    const why = `${changed} rows past the cutoff now, ${run.rows_exported} exported: rows came in meanwhile`;
    await store.transaction((tx) => setRun(tx, run, o.now, { state: "planned", error: why }));
    run.state = "planned";
    if (attempt >= 1) throw new VcError("query_failed", `${t.name}: ${why}; the next vacuum tries again`);
  }
  o.onProgress?.({ step: "done", table: t.name });
  return {
    table: t.name,
    run_id: run.run_id,
    state: run.state,
    rows_exported: run.rows_exported,
    rows_deleted: rowsDeleted,
    compacted: run.compact && rowsDeleted > 0,
    files: run.files,
    note: run.note ?? null,
    error: null,
  };
}

/**
 * Rolls up, then exports and deletes what is past its span per the config's `retention` (deletion
 * only with `delete: true`), finishing first what an interrupted vacuum left. With `dryRun`, only
 * says what it would do. Not dry, it is audited (`retention_vacuum`).
 * @example const report = await runVacuum({ store, config, now: new Date(), dryRun: true })
 */
export async function runVacuum(o: VacuumOptions): Promise<VacuumReport> {
  const { store } = o;
  const read = store.query.bind(store) as Reader;
  const retention = retentionOf(o.config);
  if (o.dryRun) {
    const plan = await planVacuum(read, { config: o.config, tables: await loadTables(read), now: o.now });
    return { ...plan, dry_run: true, run_id: null, rolled_up: [], outcomes: [], store_bytes: null, ok: true };
  }
  const started = performance.now();
  const before = await usedBytes(read);
  const runId = newId();
  let plan: VacuumPlan | null = null;
  let rolled: RollupPlan[] = [];
  const outcomes: TableOutcome[] = [];
  let failure: unknown = null;
  try {
    let tables = await loadTables(read);
    plan = await planVacuum(read, { config: o.config, tables, now: o.now });
    // The rows each deletion removes are rolled up first (a deletion never passes what the tiers hold).
    rolled = await runRollups(store, {
      tables,
      now: o.now,
      days: retention.rollup_days,
      upto: new Map(plan.tables.filter((p) => p.mode === "delete").map((p) => [p.table, Date.parse(p.cutoff)])),
      onProgress: (p) => o.onProgress?.({ step: "rollup", ...p }),
    });
    for (const p of plan.tables) {
      if (p.resume && p.mode === "none") {
        // Deletion was turned off since that run was planned: it stops here (its files stay, its rows too).
        await store.run(
          sql`UPDATE retention_runs SET state = 'cancelled', updated_at = ${o.now.toISOString()}::TIMESTAMP WHERE run_id = ${p.resume.run_id} AND table_name = ${p.table}`,
        );
        outcomes.push({ table: p.table, run_id: p.resume.run_id, state: "cancelled", rows_exported: 0, rows_deleted: 0, compacted: false, files: [], note: null, error: null });
        continue;
      }
      if (!p.resume && (p.mode === "none" || (p.mode === "delete" ? p.past_span : p.export_rows) === 0)) continue;
      const run = await startRun(store, p, tables.get(p.table)!, runId, o.now, retention.export_before_delete);
      try {
        outcomes.push(await finishRun(store, run, o));
      } catch (err) {
        const error = errorMessage(err);
        await setRunError(store, run, o.now, error).catch(() => {});
        outcomes.push({
          table: p.table,
          run_id: run.run_id,
          state: run.state,
          rows_exported: run.rows_exported,
          rows_deleted: 0,
          compacted: false,
          files: run.files,
          note: null,
          error,
        });
      }
      // A rewritten table is a new table: read the catalog again for the next ones.
      if (run.compact) tables = await loadTables(read);
    }
    await store.run("CHECKPOINT").catch(() => {});
  } catch (err) {
    failure = err;
  }
  const after = await usedBytes(read);
  const ok = failure === null && outcomes.every((x) => x.error === null);
  await store.transaction((tx) =>
    recordAudit(tx, {
      ts: o.now,
      eventType: "retention_vacuum",
      actor: o.actor ?? "user",
      action: "vacuum",
      result: ok ? "ok" : "failed",
      durationMs: performance.now() - started,
      rowsInserted: rolled.length,
      error: failure ? errorMessage(failure) : (outcomes.find((x) => x.error)?.error ?? null),
      details: {
        run_id: runId,
        delete: retention.delete,
        export_dir: retention.export_before_delete,
        store_bytes: { before, after },
        tables: outcomes.map((x) => ({
          table: x.table,
          run_id: x.run_id,
          state: x.state,
          exported: x.rows_exported,
          deleted: x.rows_deleted,
          compacted: x.compacted,
          error: x.error,
        })),
      },
    }),
  );
  if (failure) throw failure;
  return { ...plan!, dry_run: false, run_id: runId, rolled_up: rolled, outcomes, store_bytes: { before, after }, ok };
}

/** The run of one table: an interrupted one resumed as recorded, or a new one recorded as planned. */
async function startRun(store: Store, p: TablePlan, table: TableMeta, runId: string, now: Date, exportDir: string | null): Promise<Run> {
  if (p.resume) {
    const [r] = await store.query<{
      export_dir: string | null;
      export_from: string | null;
      mode: "delete" | "export";
      rows_exported: number | null;
      files_json: string | null;
      compacted: boolean | null;
    }>(sql`SELECT export_dir, export_from, mode, rows_exported, files_json, compacted FROM retention_runs WHERE run_id = ${p.resume.run_id} AND table_name = ${p.table}`);
    return {
      run_id: p.resume.run_id,
      table,
      cutoff: p.cutoff,
      keep: p.keep,
      mode: r!.mode,
      export_from: r!.export_from,
      export_dir: r!.export_dir,
      state: p.resume.state as Run["state"],
      rows_exported: Number(r!.rows_exported ?? 0),
      compact: p.compact,
      files: r!.files_json ? (JSON.parse(r!.files_json) as string[]) : [],
    };
  }
  const mode = p.mode as "delete" | "export";
  const exportFrom =
    mode === "export" ? ((await store.query<{ e: string | null }>(sql`SELECT exported_to AS e FROM retention_state WHERE table_name = ${p.table}`))[0]?.e ?? null) : null;
  const run: Run = {
    run_id: runId,
    table,
    cutoff: p.cutoff,
    keep: p.keep,
    mode,
    export_from: exportFrom,
    export_dir: exportDir,
    state: "planned",
    rows_exported: 0,
    compact: p.compact,
    files: [],
  };
  await store.transaction((tx) =>
    tx.run(sql`INSERT INTO retention_runs (run_id, table_name, planned_at, time_column, cutoff, keep_json, mode, export_from, export_dir, state, rows_planned, compacted, updated_at)
      VALUES (${runId}, ${p.table}, ${now.toISOString()}::TIMESTAMP, ${p.time_column}, ${p.cutoff}::TIMESTAMP, ${JSON.stringify(p.keep)}, ${mode}, ${exportFrom}::TIMESTAMP,
        ${exportDir}, 'planned', ${mode === "delete" ? p.past_span : p.export_rows}, ${p.compact}, ${now.toISOString()}::TIMESTAMP)`),
  );
  return run;
}
