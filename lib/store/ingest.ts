import { parseJsonLines, type JsonLinesResult } from "../collect/jsonl.ts";
import type { StoreTx } from "./store.ts";

export interface InsertJsonLinesOptions {
  /** Turns one parsed line into a row; null skips it. Default: the line itself (it must be an object). */
  map?: (value: unknown) => Record<string, unknown> | null;
  /** Bytes parsed per batch (default 8 MiB). */
  batchBytes?: number;
}

export interface InsertJsonLinesResult {
  /** Rows the table did not have yet. */
  added: number;
  /** Lines parsed as JSON. */
  parsed: number;
  bad: JsonLinesResult["bad"];
  /** Bytes of whole lines consumed: where a file-offset cursor resumes. */
  consumed: number;
}

/**
 * Inserts JSON Lines into a table inside the caller's transaction. Batches are pipelined: the
 * next batch is parsed while DuckDB inserts the previous one. Lines that are not JSON are skipped
 * and reported with their byte offsets.
 * @example await store.transaction((tx) => insertJsonLines(tx, "my_tool_events", bytes, { map: toEvent }))
 */
export async function insertJsonLines(tx: StoreTx, table: string, input: Uint8Array, options: InsertJsonLinesOptions = {}): Promise<InsertJsonLinesResult> {
  const batchBytes = options.batchBytes ?? 8 * 1024 * 1024;
  const map = options.map ?? ((v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null));
  const bad: JsonLinesResult["bad"] = [];
  let parsed = 0;
  let added = 0;
  let pos = 0;
  let pending: Promise<number> = Promise.resolve(0);
  while (pos < input.length) {
    let end = Math.min(input.length, pos + batchBytes);
    if (end < input.length) {
      const nl = input.indexOf(0x0a, end);
      end = nl === -1 ? input.length : nl + 1;
    }
    const r = parseJsonLines(input.subarray(pos, end));
    for (const b of r.bad) bad.push({ offset: pos + b.offset, error: b.error });
    parsed += r.values.length;
    const rows: Record<string, unknown>[] = [];
    for (const v of r.values) {
      const row = map(v);
      if (row) rows.push(row);
    }
    added += await pending; // the previous batch's INSERT ran while this one was parsed
    pending = tx.insert(table, rows);
    // Let the insert append its rows and hand the INSERT to DuckDB's threads before parsing on.
    await new Promise((resolve) => setImmediate(resolve));
    if (r.consumed === 0) break; // no whole line left
    pos += r.consumed;
  }
  added += await pending;
  return { added, parsed, bad, consumed: pos };
}
