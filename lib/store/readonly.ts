import { StatementType, type DuckDBConnection } from "@duckdb/node-api";
import { VcError, errorMessage } from "../errors.ts";
import { fromDuckDB } from "./_values.ts";
import type { QueryResult, Store } from "./store.ts";

const ALLOWED = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN]);

/**
 * Runs one user-supplied SQL statement read-only. What makes it safe is DuckDB itself, not a
 * keyword list: DuckDB splits and classifies the text (exactly one SELECT or EXPLAIN is taken),
 * the instance has external file access disabled, and the statement runs in a transaction that
 * is rolled back. Stores opened read-only add DuckDB's own READ_ONLY mode on top.
 * @example const { rows } = await queryReadOnly(store, "select machine_id, load5 from sys_samples")
 */
export async function queryReadOnly(store: Store, text: string, options: { maxRows?: number } = {}): Promise<QueryResult> {
  const conn = await store.connect();
  try {
    return await run(conn, text, store.readOnly, options.maxRows ?? 100_000);
  } finally {
    conn.closeSync();
  }
}

async function run(conn: DuckDBConnection, text: string, readOnly: boolean, maxRows: number): Promise<QueryResult> {
  let extracted;
  try {
    extracted = await conn.extractStatements(text);
  } catch (err) {
    throw new VcError("query_failed", `the SQL does not parse: ${firstLine(err)}`, { cause: err });
  }
  if (extracted.count === 0) throw new VcError("query_refused", "no SQL statement given");
  if (extracted.count > 1) {
    throw new VcError("query_refused", `vc query takes one statement; this text holds ${extracted.count}`, {
      hint: "run each SELECT on its own",
    });
  }
  let prepared;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    throw refusalOr(err);
  }
  const type = prepared.statementType;
  if (!ALLOWED.has(type)) {
    throw new VcError("query_refused", `vc query is read-only: it refuses ${StatementType[type] ?? "this"} statements`, {
      hint: "SELECT (and EXPLAIN) only; vc writes the store itself",
      details: { statement_type: StatementType[type] },
    });
  }
  if (!readOnly) await conn.run("BEGIN TRANSACTION");
  try {
    const reader = await prepared.runAndReadUntil(maxRows + 1).catch((err) => {
      throw refusalOr(err);
    });
    const columns = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const all = reader.getRows();
    const rows = all.slice(0, maxRows).map((row) => {
      const o: Record<string, unknown> = {};
      columns.forEach((c, i) => (o[c] = fromDuckDB(row[i]!)));
      return o;
    });
    return { columns, types, rows, ...(all.length > maxRows ? { truncated: true } : {}) };
  } finally {
    if (!readOnly) await conn.run("ROLLBACK").catch(() => {});
  }
}

function refusalOr(err: unknown): VcError {
  const msg = firstLine(err);
  if (/Permission Error|disabled by configuration|read-only mode|Cannot execute statement of type/i.test(msg)) {
    return new VcError("query_refused", `refused: ${msg}`, {
      hint: "vc query reads the store only: no files, no extensions, no writes",
      cause: err,
    });
  }
  return new VcError("query_failed", msg, { cause: err });
}

function firstLine(err: unknown): string {
  return errorMessage(err).split("\n")[0]!.trim();
}
