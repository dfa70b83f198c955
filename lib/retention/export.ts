// `vc export`: a time range of the store's tables as hive-partitioned Parquet that DuckDB (or any
// Parquet reader) reads back with the same rows and types.
import { existsSync, readdirSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { newId } from "../_id.ts";
import { VcError } from "../errors.ts";
import { closest } from "../spell.ts";
import type { Store } from "../store/store.ts";
import { inRange, loadTables, type Reader, type TableMeta } from "./_tables.ts";
import { createParquetSink, removeRunFiles, withSnapshot } from "./parquet.ts";

export interface ExportOptions {
  store: Store;
  /** The folder: created when missing; refused when it holds anything, unless `append`. */
  out: string;
  /** Rows whose time is in [from, to). */
  from: Date;
  to: Date;
  /** Only these tables (default: every table with a time column). */
  tables?: readonly string[];
  /** Add files to a folder that has some already (none is ever replaced). */
  append?: boolean;
  /** Told as rows go out. */
  onProgress?: (p: ExportProgress) => void;
}

/** Where an export is: the table it reads, its rows so far out of its total, and the table's place in the list. */
export interface ExportProgress {
  table: string;
  rows: number;
  total: number;
  index: number;
  tables: number;
}

export interface ExportResult {
  dir: string;
  from: string;
  to: string;
  /** Per table: rows written (as counted back from the files) and the files, relative to `dir`. */
  tables: { table: string; time_column: string; rows: number; files: string[] }[];
  rows: number;
  files: number;
}

/** The tables an export or a vacuum may name: those with a time column; an unknown one is refused with the closest name. */
export function pickTables(tables: ReadonlyMap<string, TableMeta>, names: readonly string[] | undefined, what: string): TableMeta[] {
  const timed = [...tables.values()].filter((t) => t.time).sort((a, b) => a.name.localeCompare(b.name));
  if (!names) return timed;
  return names.map((name) => {
    const t = tables.get(name);
    if (!t) {
      const near = closest(name, [...tables.keys()]);
      throw new VcError("invalid_argument", `${what}: no table "${name}" in the store`, {
        hint: near ? `did you mean ${near}?` : `tables with a time column: ${timed.map((x) => x.name).join(", ")}`,
      });
    }
    if (!t.time)
      throw new VcError("invalid_argument", `${what}: table "${name}" has no time column (it holds current state, not history)`, {
        hint: `tables with a time column: ${timed.map((x) => x.name).join(", ")}`,
      });
    return t;
  });
}

/** Refuses a folder that is a file, or holds anything when not appending. */
export function checkOutDir(dir: string, append: boolean, flag = "out"): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new VcError("invalid_argument", `--${flag}: ${dir} is a file, not a folder`);
  const entries = readdirSync(dir);
  if (entries.length > 0 && !append) {
    throw new VcError("invalid_argument", `--${flag}: ${dir} is not empty (${entries.length} entr${entries.length === 1 ? "y" : "ies"}); vc export writes into an empty folder`, {
      hint: "pass --append to add files beside those there (none is ever replaced), or name another folder",
    });
  }
}

/**
 * Writes the rows of [from, to) of each table as `out/table=<t>/date=<YYYY-MM-DD>/export-<id>-<uuid>.parquet`,
 * each table read in one snapshot and counted back from its files before any file is moved into place.
 * @example await exportStore({ store, out: "/backup/vc", from: new Date("2026-01-01"), to: new Date("2026-02-01") })
 */
export async function exportStore(o: ExportOptions): Promise<ExportResult> {
  if (!(o.from.getTime() < o.to.getTime())) {
    throw new VcError("invalid_argument", `--from ${o.from.toISOString()} is not before --to ${o.to.toISOString()}`, { hint: "the range is [from, to): from must come first" });
  }
  const dir = resolve(o.out);
  checkOutDir(dir, o.append ?? false);
  const tables = pickTables(await loadTables(o.store.query.bind(o.store) as Reader), o.tables, "--tables");
  const sink = await createParquetSink(dir, `export-${newId()}`);
  const done: ExportResult["tables"] = [];
  try {
    for (const [index, table] of tables.entries()) {
      const where = inRange(table, o.from.getTime(), o.to.getTime());
      const rows = await withSnapshot(o.store, async (conn, count) => {
        const total = await count(where, table.name);
        o.onProgress?.({ table: table.name, rows: 0, total, index, tables: tables.length });
        const streamed =
          total === 0 ? 0 : await sink.stage({ conn, table, where, onRows: (rows) => o.onProgress?.({ table: table.name, rows, total, index, tables: tables.length }) });
        const staged = await sink.countStaged(table.name);
        if (streamed !== total || staged !== total) {
          throw new VcError("query_failed", `exporting ${table.name}: ${total} rows to write, ${streamed} read, ${staged} in the files; nothing was written`);
        }
        return total;
      });
      done.push({ table: table.name, time_column: table.time!, rows, files: [] });
    }
    // Every table counted back: only now do files appear in the folder.
    for (const t of done) t.files = sink.publish(t.table);
  } catch (err) {
    // Nothing half-done stays: the files this export staged or had already moved into place go.
    sink.discard();
    for (const t of done) removeRunFiles(dir, sink.prefix, t.table);
    throw err;
  } finally {
    await sink.close();
  }
  return {
    dir,
    from: o.from.toISOString(),
    to: o.to.toISOString(),
    tables: done,
    rows: done.reduce((a, t) => a + t.rows, 0),
    files: done.reduce((a, t) => a + t.files.length, 0),
  };
}
