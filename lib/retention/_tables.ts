// What the store holds, as retention sees it: each table's columns, primary key, time column and
// size, read from DuckDB's catalog. Tool-agnostic: it reads whatever tables the migrations made.
import { sql, type SqlQuery } from "../store/sql.ts";

/** Runs one read-only query: the store's own, or a daemon's `query` (parameters inlined). */
export type Reader = <T = Record<string, unknown>>(q: SqlQuery) => Promise<T[]>;

/** The rollup tiers, finest first. */
export const TIERS = ["1m", "1h"] as const;
export type Tier = (typeof TIERS)[number];
/** The table each tier lives in (migrations/080_rollups.sql). */
export const TIER_TABLE: Record<Tier, string> = { "1m": "rollups_1m", "1h": "rollups_1h" };
/** A tier's bucket, in seconds. */
export const TIER_SECONDS: Record<Tier, number> = { "1m": 60, "1h": 3600 };

/** vc's own bookkeeping of retention: never retained, never exported. */
const BOOKKEEPING = new Set(["rollup_state", "retention_state", "retention_runs", "schema_migrations"]);

export interface TableMeta {
  name: string;
  columns: { name: string; type: string }[];
  primaryKey: string[];
  /** The column a span is measured on, or null (a table of current state, which retention leaves alone). */
  time: string | null;
  /** A raw table whose rows `raw_days.default` covers: its primary key holds `collected_at` (samples and snapshots). */
  timeKeyed: boolean;
  /** A rollup tier's table (kept by `rollup_days`). */
  tier: Tier | null;
  hasMachine: boolean;
  hasSource: boolean;
  /** An index (a primary key included): DuckDB does not reuse a deleted row's space in such a table until it is rewritten. */
  indexed: boolean;
  /** DuckDB's estimate of the row count. */
  rows: number;
}

interface TableRow {
  table_name: string;
  estimated_size: number | null;
  index_count: number;
  has_primary_key: boolean;
}
interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
}
interface KeyRow {
  table_name: string;
  cols: string[];
}

/**
 * The time column of a table: the first TIMESTAMP of its primary key, else `ts`, else
 * `collected_at`; a tier's `bucket_start`. Null for a table without one (machines, alerts, cursors…).
 */
function timeColumn(columns: TableMeta["columns"], pk: string[], tier: Tier | null): string | null {
  if (tier) return "bucket_start";
  const ts = new Set(columns.filter((c) => c.type.startsWith("TIMESTAMP")).map((c) => c.name));
  return pk.find((c) => ts.has(c)) ?? (ts.has("ts") ? "ts" : ts.has("collected_at") ? "collected_at" : null);
}

/** Every table of the store's main schema with what retention needs to know of it, by name. */
export async function loadTables(read: Reader): Promise<Map<string, TableMeta>> {
  const [tables, columns, keys] = await Promise.all([
    read<TableRow>(sql`SELECT table_name, estimated_size, index_count, has_primary_key FROM duckdb_tables()
      WHERE schema_name = 'main' AND database_name = current_database() AND NOT temporary AND NOT internal`),
    read<ColumnRow>(sql`SELECT table_name, column_name, data_type FROM duckdb_columns()
      WHERE schema_name = 'main' AND database_name = current_database() AND NOT internal ORDER BY table_name, column_index`),
    read<KeyRow>(sql`SELECT table_name, constraint_column_names AS cols FROM duckdb_constraints()
      WHERE schema_name = 'main' AND database_name = current_database() AND constraint_type = 'PRIMARY KEY'`),
  ]);
  const cols = new Map<string, TableMeta["columns"]>();
  for (const c of columns) {
    let list = cols.get(c.table_name);
    if (!list) cols.set(c.table_name, (list = []));
    list.push({ name: c.column_name, type: c.data_type });
  }
  const pks = new Map(keys.map((k) => [k.table_name, k.cols]));
  const out = new Map<string, TableMeta>();
  for (const t of tables) {
    if (BOOKKEEPING.has(t.table_name)) continue;
    const columns = cols.get(t.table_name) ?? [];
    const primaryKey = pks.get(t.table_name) ?? [];
    const tier = (Object.entries(TIER_TABLE).find(([, name]) => name === t.table_name)?.[0] as Tier | undefined) ?? null;
    const names = new Set(columns.map((c) => c.name));
    out.set(t.table_name, {
      name: t.table_name,
      columns,
      primaryKey,
      time: timeColumn(columns, primaryKey, tier),
      timeKeyed: !tier && primaryKey.includes("collected_at"),
      tier,
      hasMachine: names.has("machine_id"),
      hasSource: names.has("source"),
      indexed: t.has_primary_key || Number(t.index_count) > 0,
      rows: Number(t.estimated_size ?? 0),
    });
  }
  return out;
}

/** A day's start (UTC), the unit retention deletes and exports by. */
export function startOfDay(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}

/** An instant as the ISO text a `::TIMESTAMP` parameter takes. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** The rows of a table with its time column in [from, to) (either bound may be open). */
export function inRange(table: TableMeta, from: number | null, to: number | null): SqlQuery {
  const t = sql.identifier(table.time!);
  const parts = [from === null ? null : sql`${t} >= ${iso(from)}::TIMESTAMP`, to === null ? null : sql`${t} < ${iso(to)}::TIMESTAMP`].filter((p): p is SqlQuery => p !== null);
  return parts.length ? sql.join(parts, " AND ") : sql`${t} IS NOT NULL`;
}
