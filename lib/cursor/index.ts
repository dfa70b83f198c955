import * as v from "valibot";
import { VcError } from "../errors.ts";
import type { StoreTx } from "../store/store.ts";
import { sql } from "../store/sql.ts";

/** Rows newer than an instant (CLI incremental windows, plan §3.17 pattern 2). */
export interface TimestampCursor {
  kind: "timestamp";
  /** ISO 8601. */
  at: string;
}
/** How far a file was read, and which file it was (JSONL tails, pattern 3). */
export interface FileOffsetCursor {
  kind: "file_offset";
  path: string;
  inode: number;
  offset: number;
}
/** The last primary key read from a table (SQLite incremental, pattern 4). */
export interface PrimaryKeyCursor {
  kind: "pk";
  id: number;
}
/** Anything else a collector needs to remember, as a string. */
export interface OpaqueCursor {
  kind: "opaque";
  value: string;
}
/** The four cursor kinds of plan §3.16. */
export type Cursor = TimestampCursor | FileOffsetCursor | PrimaryKeyCursor | OpaqueCursor;

const CursorSchema = v.variant("kind", [
  v.object({ kind: v.literal("timestamp"), at: v.pipe(v.string(), v.isoTimestamp()) }),
  v.object({
    kind: v.literal("file_offset"),
    path: v.string(),
    inode: v.pipe(v.number(), v.integer(), v.minValue(0)),
    offset: v.pipe(v.number(), v.integer(), v.minValue(0)),
  }),
  v.object({ kind: v.literal("pk"), id: v.pipe(v.number(), v.integer()) }),
  v.object({ kind: v.literal("opaque"), value: v.string() }),
]);

/** Builders for the four kinds. */
export const cursor = {
  timestamp: (at: Date | string): TimestampCursor => ({ kind: "timestamp", at: typeof at === "string" ? at : at.toISOString() }),
  fileOffset: (path: string, inode: number, offset: number): FileOffsetCursor => ({ kind: "file_offset", path, inode, offset }),
  pk: (id: number): PrimaryKeyCursor => ({ kind: "pk", id }),
  opaque: (value: string): OpaqueCursor => ({ kind: "opaque", value }),
};

/** Checks a value is a well-formed cursor; a collector returning junk fails its run, not the store. */
export function parseCursor(value: unknown, where = "cursor"): Cursor {
  const r = v.safeParse(CursorSchema, value);
  if (!r.success) {
    const issue = r.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new VcError("invalid_input", `${where}${path ? `.${path}` : ""}: ${issue.message}`);
  }
  return r.output as Cursor;
}

/** The default cursor key when a collector keeps one cursor. */
export const DEFAULT_CURSOR_KEY = "default";

/** Every cursor saved for one (machine, source), by key. */
export async function loadCursors(db: Pick<StoreTx, "query">, machineId: string, source: string): Promise<Record<string, Cursor>> {
  const rows = await db.query<CursorRow>(sql`SELECT machine_id, source, cursor_key, cursor_value FROM ingestion_cursors WHERE machine_id = ${machineId} AND source = ${source}`);
  return readCursors(rows).get(cursorsKey(machineId, source)) ?? {};
}

/**
 * Every cursor saved (or only those of one source), by `cursorsKey(machine, source)` and key: one
 * query for all the runs of a poll cycle.
 */
export async function loadAllCursors(db: Pick<StoreTx, "query">, o: { source?: string } = {}): Promise<Map<string, Record<string, Cursor>>> {
  const where = o.source === undefined ? sql`` : sql` WHERE source = ${o.source}`;
  return readCursors(await db.query<CursorRow>(sql`SELECT machine_id, source, cursor_key, cursor_value FROM ingestion_cursors${where}`));
}

/** The key of one (machine, source) in loadAllCursors' answer. */
export const cursorsKey = (machineId: string, source: string) => `${machineId}\u0000${source}`;

interface CursorRow {
  machine_id: string;
  source: string;
  cursor_key: string;
  cursor_value: string;
}

function readCursors(rows: readonly CursorRow[]): Map<string, Record<string, Cursor>> {
  const out = new Map<string, Record<string, Cursor>>();
  for (const row of rows) {
    const key = cursorsKey(row.machine_id, row.source);
    let mine = out.get(key);
    if (!mine) out.set(key, (mine = {}));
    try {
      mine[row.cursor_key] = parseCursor(JSON.parse(row.cursor_value), `${row.source} cursor ${row.cursor_key}`);
    } catch {
      // A cursor vc cannot read is treated as absent: the collector starts over, its rows dedupe by key.
    }
  }
  return out;
}

/**
 * Saves cursors inside the caller's transaction, so they commit with the rows they cover.
 * @example await store.transaction(async (tx) => { await tx.insert(t, rows); await saveCursors(tx, m, s, { default: c }, now) })
 */
export async function saveCursors(tx: Pick<StoreTx, "run">, machineId: string, source: string, cursors: Record<string, Cursor>, now: Date): Promise<void> {
  await saveManyCursors(tx, [{ machineId, source, cursors, now }]);
}

/** `saveCursors` for several (machine, source) at once, in one statement. */
export async function saveManyCursors(tx: Pick<StoreTx, "run">, list: readonly { machineId: string; source: string; cursors: Record<string, Cursor>; now: Date }[]): Promise<void> {
  const values = list.flatMap(({ machineId, source, cursors, now }) =>
    Object.entries(cursors).map(([key, c]) => {
      const checked = parseCursor(c, `${source} cursor ${key}`);
      return sql`(${machineId}, ${source}, ${key}, ${checked.kind}, ${JSON.stringify(checked)}, ${now.toISOString()}::TIMESTAMP)`;
    }),
  );
  if (values.length === 0) return;
  await tx.run(sql`INSERT OR REPLACE INTO ingestion_cursors(machine_id, source, cursor_key, cursor_kind, cursor_value, updated_at) VALUES ${sql.join(values)}`);
}
