// Hive-partitioned Parquet out of the store: `DIR/table=<t>/date=<YYYY-MM-DD>/<prefix>-<uuid>.parquet`.
// The store's DuckDB has file access turned off (users run SQL on it), so rows travel as DuckDB data
// chunks into a second, in-memory DuckDB that may write only under DIR, and its COPY … TO writes
// them. Files are staged under a hidden folder with another extension, counted back, then moved into
// place one by one with link(2), which never replaces a file.
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import { VcError, errorMessage } from "../errors.ts";
import { quoteIdentifier, renderSql, sql, sqlLiteral, type SqlQuery } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import type { TableMeta } from "./_tables.ts";

/** Rows the scratch database holds before it writes them out (bounds its memory). */
const BATCH_ROWS = 200_000;
const STAGED = "partial";

/** Where a run's files wait until they are counted: hidden, and not `*.parquet`, so no reader globs them. */
const stagingDir = (dir: string, prefix: string) => join(dir, `.vc-staging-${prefix}`);

/** Writes tables' rows as Parquet under one folder; see the file's head. */
export interface ParquetSink {
  readonly dir: string;
  readonly prefix: string;
  /**
   * Stages the rows of `table` that `where` selects, read on `conn` (the caller's transaction, so a
   * count taken there agrees). Calls `onRows` with the running total.
   */
  stage(o: { conn: DuckDBConnection; table: TableMeta; where: SqlQuery; onRows?: (rows: number) => void }): Promise<number>;
  /** Rows of `table` in its staged files, read back by DuckDB's read_parquet. */
  countStaged(table: string): Promise<number>;
  /** Moves `table`'s staged files into place (never replacing one); returns their paths relative to the folder. */
  publish(table: string): string[];
  /** Drops what is staged (of one table, or all). */
  discard(table?: string): void;
  close(): Promise<void>;
}

/** Files under `root` (recursively), relative to it. */
function walk(root: string, rel = ""): string[] {
  const here = join(root, rel);
  if (!existsSync(here)) return [];
  return readdirSync(here, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(root, join(rel, e.name)) : [join(rel, e.name)]));
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes what an interrupted run left of one table: its staged files and the files it had moved
 * into place (named `<prefix>-…`). Only that run's own files: everything else in the folder stays.
 */
export function removeRunFiles(dir: string, prefix: string, table: string): string[] {
  rmSync(join(stagingDir(dir, prefix), `table=${table}`), { recursive: true, force: true });
  const base = join(dir, `table=${table}`);
  const mine = walk(base).filter((f) => f.split("/").pop()!.startsWith(`${prefix}-`) && f.endsWith(".parquet"));
  for (const f of mine) unlinkSync(join(base, f));
  return mine.map((f) => join(`table=${table}`, f));
}

/**
 * Opens a sink writing under `dir` (created if missing), its files named `<prefix>-<uuid>.parquet`.
 * @example const sink = await createParquetSink("/backup/vc", "export-1"); try { … } finally { await sink.close() }
 */
export async function createParquetSink(dir: string, prefix: string): Promise<ParquetSink> {
  const root = resolve(dir);
  const stage = stagingDir(root, prefix);
  mkdirSync(stage, { recursive: true, mode: 0o700 });
  const instance = await DuckDBInstance.create(":memory:", {
    threads: "1",
    memory_limit: "512MB",
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const db = await instance.connect();
  try {
    // This database may touch files only under the folder it writes.
    await db.run(`SET allowed_directories = [${sqlLiteral(`${root}/`)}]`);
    await db.run("SET enable_external_access = false");
  } catch (err) {
    db.closeSync();
    instance.closeSync();
    throw err;
  }
  let n = 0;

  async function stageTable(o: { conn: DuckDBConnection; table: TableMeta; where: SqlQuery; onRows?: (rows: number) => void }): Promise<number> {
    const { table } = o;
    if (!table.time) throw new VcError("invalid_input", `table ${table.name} has no time column to partition by`);
    for (const c of ["table", "date"]) {
      if (table.columns.some((x) => x.name === c)) throw new VcError("invalid_input", `table ${table.name} has a column "${c}", the name of a partition`);
    }
    const scratch = `rows_${n++}`;
    await db.run(`CREATE TABLE ${scratch} (${table.columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(", ")})`);
    const cols = table.columns.map((c) => quoteIdentifier(c.name)).join(", ");
    const target = `${stage}/`;
    const flush = async () => {
      await db.run(`COPY (SELECT *, ${sqlLiteral(table.name)} AS "table", CAST(${quoteIdentifier(table.time!)} AS DATE) AS "date" FROM ${scratch})
        TO ${sqlLiteral(target)} (FORMAT parquet, PARTITION_BY ("table", "date"), APPEND, FILENAME_PATTERN ${sqlLiteral(`${prefix}-{uuid}`)}, FILE_EXTENSION ${sqlLiteral(STAGED)})`);
      await db.run(`DELETE FROM ${scratch}`);
    };
    try {
      const { text, params } = renderSql(sql`SELECT ${sql.raw(cols)} FROM ${sql.identifier(table.name)} WHERE ${o.where}`);
      const result = await o.conn.stream(text, params as DuckDBValue[]);
      let total = 0;
      let buffered = 0;
      let appender = await db.createAppender(scratch);
      for await (const chunk of result) {
        if (chunk.rowCount === 0) continue;
        appender.appendDataChunk(chunk);
        total += chunk.rowCount;
        buffered += chunk.rowCount;
        o.onRows?.(total);
        if (buffered >= BATCH_ROWS) {
          appender.closeSync();
          await flush();
          buffered = 0;
          appender = await db.createAppender(scratch);
        }
      }
      appender.closeSync();
      if (buffered > 0) await flush();
      return total;
    } catch (err) {
      if (err instanceof VcError) throw err;
      throw new VcError("query_failed", `exporting ${table.name}: ${errorMessage(err).split("\n")[0]}`, { cause: err });
    } finally {
      await db.run(`DROP TABLE IF EXISTS ${scratch}`);
    }
  }

  const stagedFiles = (table: string) => walk(join(stage, `table=${table}`)).filter((f) => f.endsWith(`.${STAGED}`));

  return {
    dir: root,
    prefix,
    stage: stageTable,
    async countStaged(table) {
      if (stagedFiles(table).length === 0) return 0;
      const r = await db.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${sqlLiteral(`${stage}/table=${table}/**/*.${STAGED}`)})`);
      return Number(r.getRows()[0]![0]);
    },
    publish(table) {
      const out: string[] = [];
      for (const f of stagedFiles(table)) {
        const from = join(stage, `table=${table}`, f);
        const rel = join(`table=${table}`, f.slice(0, -STAGED.length) + "parquet");
        const to = join(root, rel);
        mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
        // Owner-only, as the store is: these are its rows.
        chmodSync(from, 0o600);
        fsyncPath(from);
        try {
          linkSync(from, to);
        } catch (err) {
          const exists = (err as NodeJS.ErrnoException).code === "EEXIST";
          throw new VcError("invalid_input", exists ? `${to} exists already; vc never replaces a file` : `cannot place ${to}: ${errorMessage(err)}`, { cause: err });
        }
        unlinkSync(from);
        fsyncPath(dirname(to));
        out.push(rel);
      }
      rmSync(join(stage, `table=${table}`), { recursive: true, force: true });
      return out;
    },
    discard(table) {
      rmSync(table === undefined ? stage : join(stage, `table=${table}`), { recursive: true, force: true });
    },
    async close() {
      db.closeSync();
      instance.closeSync();
      if (existsSync(stage) && walk(stage).length === 0) rmSync(stage, { recursive: true, force: true });
    },
  };
}

/** A store's lent connection inside one read transaction: counts and streams agree on what they see. */
export async function withSnapshot<T>(store: Store, fn: (conn: DuckDBConnection, count: (where: SqlQuery, table: string) => Promise<number>) => Promise<T>): Promise<T> {
  const conn = await store.connect();
  try {
    await conn.run("BEGIN TRANSACTION");
    const count = async (where: SqlQuery, table: string) => {
      const { text, params } = renderSql(sql`SELECT count(*)::BIGINT AS n FROM ${sql.identifier(table)} WHERE ${where}`);
      return Number((await conn.runAndReadAll(text, params as DuckDBValue[])).getRows()[0]![0]);
    };
    return await fn(conn, count);
  } finally {
    await conn.run("ROLLBACK").catch(() => {});
    conn.closeSync();
  }
}
