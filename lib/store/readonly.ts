import { StatementType, type DuckDBConnection, type DuckDBExtractedStatements, type DuckDBPreparedStatement } from "@duckdb/node-api";
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
  let extracted: DuckDBExtractedStatements;
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
  let prepared: DuckDBPreparedStatement;
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
  await refuseHidden(conn, text, type);
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

/** Functions a SELECT may call that write (checkpoints, sequences) or run SQL text the guard never saw. */
const WRITING_FUNCTIONS = new Set(["checkpoint", "force_checkpoint", "nextval", "setval", "query", "query_table"]);

/**
 * What a statement type does not tell: EXPLAIN ANALYZE runs the statement it explains, so that
 * one must be a SELECT too; and a SELECT may call a function that writes. DuckDB's own parser
 * answers both: json_serialize_sql serializes SELECTs only, and its tree names every function.
 */
async function refuseHidden(conn: DuckDBConnection, text: string, type: StatementType): Promise<void> {
  const inner = type === StatementType.EXPLAIN ? explained(text) : text;
  const r = await conn.runAndReadAll("SELECT json_serialize_sql($1::VARCHAR)", [inner]);
  const tree = JSON.parse(String(r.getRows()[0]?.[0] ?? "{}")) as { error?: boolean; error_message?: string };
  if (tree.error) {
    throw new VcError("query_refused", `vc query is read-only: EXPLAIN takes a SELECT only (${tree.error_message ?? "not a SELECT"})`, {
      hint: "EXPLAIN ANALYZE runs what it explains; explain a SELECT",
    });
  }
  const called = new Set<string>();
  const walk = (node: unknown, depth: number): void => {
    if (depth > 500 || node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const x of node) walk(x, depth + 1);
      return;
    }
    for (const [k, x] of Object.entries(node)) {
      if (k === "function_name" && typeof x === "string") called.add(x.toLowerCase());
      else walk(x, depth + 1);
    }
  };
  walk(tree, 0);
  const writing = [...called].filter((f) => WRITING_FUNCTIONS.has(f));
  if (writing.length) {
    throw new VcError("query_refused", `vc query is read-only: it refuses ${writing.map((f) => `${f}()`).join(", ")}`, {
      hint: "these functions write the store or run SQL text of their own",
      details: { functions: writing },
    });
  }
}

/** The statement an EXPLAIN [ANALYZE] [(options)] explains: the text after those words and comments. */
function explained(text: string): string {
  let i = 0;
  const skip = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text.startsWith("--", i)) i = text.includes("\n", i) ? text.indexOf("\n", i) + 1 : text.length;
      else if (text.startsWith("/*", i)) i = text.includes("*/", i + 2) ? text.indexOf("*/", i + 2) + 2 : text.length;
      else return;
    }
  };
  const word = (w: string) => {
    skip();
    const ok = text.slice(i, i + w.length).toUpperCase() === w && !/[A-Za-z0-9_]/.test(text[i + w.length] ?? "");
    if (ok) i += w.length;
    return ok;
  };
  word("EXPLAIN");
  if (!word("ANALYZE")) word("ANALYSE");
  skip();
  if (text[i] === "(") {
    let depth = 0;
    for (; i < text.length; i++) {
      if (text[i] === "(") depth++;
      else if (text[i] === ")" && --depth === 0) {
        i++;
        break;
      }
    }
  }
  return text.slice(i);
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
