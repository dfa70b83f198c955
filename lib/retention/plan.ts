// What a vacuum would do, per table: the span the config gives it, the cutoff (moved earlier by
// whatever still needs older rows), the rows past it, what would be exported and deleted, and the
// bytes that would free. Read-only: `vc vacuum --dry-run` prints it, through the daemon too.
import type { VcConfig } from "../config/define.ts";
import type { RetentionConfig } from "../config/schema.ts";
import { VcError } from "../errors.ts";
import { closest } from "../spell.ts";
import { sql, type SqlQuery } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import { TIER_TABLE, TIERS, iso, loadTables, startOfDay, type Reader, type TableMeta } from "./_tables.ts";
import { planRollups, type RollupPlan } from "./rollup.ts";

/** Retention when the config says nothing: rollups kept (1-minute for 30 days, 1-hour for ever), raw rows for ever, nothing deleted. */
export const DEFAULT_RETENTION: RetentionConfig = { raw_days: {}, rollup_days: { "1m": 30, "1h": null }, delete: false, export_before_delete: null, quiet_hour: null };

/** The config's retention, defaults filled in. */
export const retentionOf = (config: Pick<VcConfig, "retention">): RetentionConfig => config.retention ?? DEFAULT_RETENTION;

/** How far back an open incident's timeline reaches before it opened: its rows are never deleted. */
export const INCIDENT_LEAD_MS = 24 * 3_600_000;

/** A table's share of deleted rows (since it was last rewritten) past which a vacuum rewrites it, so DuckDB can reuse their space. */
const COMPACT_SHARE = 0.25;

/** Rows of a machine (null: of the whole table) from `from` on, kept past their span. */
export interface KeepRange {
  machine_id: string | null;
  from: string;
}

/** One table's part of a vacuum. */
export interface TablePlan {
  table: string;
  time_column: string;
  /** The config key that gives the span: `raw_days.sys_samples`, `raw_days.default`, `rollup_days.1m`. */
  span: string;
  days: number;
  /** Rows before this are past their span, but those in `keep`. */
  cutoff: string;
  /** What keeps rows past their span, in words. */
  kept_by: string[];
  keep: KeepRange[];
  /** delete: export (when a folder is set), then delete; export: deletion is off, rows past their span are exported once; none: nothing to do. */
  mode: "delete" | "export" | "none";
  /** Rows in the table now. */
  rows: number;
  /** Rows past their span (what deletion would remove). */
  past_span: number;
  export_rows: number;
  delete_rows: number;
  /** The table would be rewritten (its deleted rows' space reused), not only deleted from. */
  compact: boolean;
  /** The table's data, estimated (see VacuumPlan.bytes.method). */
  bytes: number;
  bytes_freed: number;
  /** An interrupted vacuum's run of this table, which this one finishes with the run's own cutoff. */
  resume: { run_id: string; state: string; planned_at: string } | null;
}

export interface VacuumPlan {
  at: string;
  delete: boolean;
  export_dir: string | null;
  tables: TablePlan[];
  /** Tables with a time column and no span: kept for ever. */
  unretained: string[];
  rollups: RollupPlan[];
  bytes: { method: string; block_size: number; store_used: number; freed: number };
}

/** The rows a plan deletes (and exports): before the cutoff, but the kept ones. */
export function pastSpan(time: string, cutoff: string, keep: readonly KeepRange[]): SqlQuery {
  const t = sql.identifier(time);
  const parts = [sql`${t} < ${cutoff}::TIMESTAMP`];
  for (const k of keep) parts.push(k.machine_id === null ? sql`${t} < ${k.from}::TIMESTAMP` : sql`NOT (machine_id = ${k.machine_id} AND ${t} >= ${k.from}::TIMESTAMP)`);
  return sql`(${sql.join(parts, " AND ")})`;
}

/** The rows a deletion-off run exports: [from, cutoff). */
export function exportRange(time: string, from: string | null, cutoff: string): SqlQuery {
  const t = sql.identifier(time);
  return from === null ? sql`(${t} < ${cutoff}::TIMESTAMP)` : sql`(${t} >= ${from}::TIMESTAMP AND ${t} < ${cutoff}::TIMESTAMP)`;
}

/** Each table's span (days) and the config key that gives it; a key naming no table, or one without history, is refused by name. */
export function spansFor(tables: ReadonlyMap<string, TableMeta>, retention: RetentionConfig, source: string): Map<string, { days: number; key: string }> {
  const out = new Map<string, { days: number; key: string }>();
  const timed = [...tables.values()].filter((t) => t.time && !t.tier).map((t) => t.name);
  for (const [name, days] of Object.entries(retention.raw_days)) {
    if (name === "default") continue;
    const t = tables.get(name);
    const field = `${source}: retention.raw_days.${name}`;
    if (!t) {
      const near = closest(name, timed);
      throw new VcError("config_invalid", `${field}: no table "${name}" in the store`, { hint: near ? `did you mean ${near}?` : `tables with a time column: ${timed.join(", ")}` });
    }
    if (t.tier) throw new VcError("config_invalid", `${field}: ${name} is a rollup tier; its span is rollup_days."${t.tier}"`);
    if (!t.time)
      throw new VcError("config_invalid", `${field}: ${name} holds current state, not history (it has no time column)`, { hint: `tables with a time column: ${timed.join(", ")}` });
    out.set(name, { days, key: `raw_days.${name}` });
  }
  const fallback = retention.raw_days.default;
  if (fallback !== undefined) for (const t of tables.values()) if (t.timeKeyed && !out.has(t.name)) out.set(t.name, { days: fallback, key: "raw_days.default" });
  for (const tier of TIERS) {
    const days = retention.rollup_days[tier];
    if (days !== null && tables.has(TIER_TABLE[tier])) out.set(TIER_TABLE[tier], { days, key: `rollup_days.${tier}` });
  }
  return out;
}

interface RunRow {
  run_id: string;
  table_name: string;
  planned_at: string;
  time_column: string;
  cutoff: string;
  keep_json: string | null;
  mode: "delete" | "export";
  export_from: string | null;
  export_dir: string | null;
  state: string;
  rows_exported: number | null;
}

/** Runs an interrupted vacuum left unfinished, by table. */
export async function unfinishedRuns(read: Reader): Promise<Map<string, RunRow>> {
  const rows = await read<RunRow>(sql`SELECT run_id, table_name, planned_at, time_column, cutoff, keep_json, mode, export_from, export_dir, state, rows_exported
    FROM retention_runs WHERE state IN ('planned', 'exported') ORDER BY planned_at`);
  return new Map(rows.map((r) => [r.table_name, r]));
}

const count = async (read: Reader, table: string, where: SqlQuery) =>
  Number((await read<{ n: number }>(sql`SELECT count(*)::BIGINT AS n FROM ${sql.identifier(table)} WHERE ${where}`))[0]?.n ?? 0);

/** What still needs rows before `cutoff` of every table: the open incidents' windows. */
async function incidentFloor(read: Reader, tables: ReadonlyMap<string, TableMeta>): Promise<{ at: number; why: string } | null> {
  const t = tables.get("incidents");
  const has = (c: string) => t?.columns.some((x) => x.name === c) ?? false;
  if (!has("opened_at") || !has("state")) return null;
  const [row] = await read<{ incident_id: string; opened_at: string }>(sql`SELECT incident_id, opened_at FROM incidents WHERE state = 'open' ORDER BY opened_at LIMIT 1`);
  if (!row) return null;
  return { at: startOfDay(Date.parse(row.opened_at) - INCIDENT_LEAD_MS), why: `open incident ${row.incident_id} (opened ${row.opened_at}): its window` };
}

/** The newest rows of each machine whose newest are past the cutoff: what latest-by-key views show of a machine gone quiet. */
async function quietMachines(read: Reader, t: TableMeta, cutoff: string): Promise<KeepRange[]> {
  const time = sql.identifier(t.time!);
  if (!t.hasMachine) {
    const [row] = await read<{ newest: string | null }>(sql`SELECT max(${time}) AS newest FROM ${sql.identifier(t.name)}`);
    return row?.newest && Date.parse(row.newest) < Date.parse(cutoff) ? [{ machine_id: null, from: row.newest }] : [];
  }
  const rows = await read<{ machine_id: string; newest: string }>(
    sql`SELECT machine_id, max(${time}) AS newest FROM ${sql.identifier(t.name)} GROUP BY machine_id HAVING max(${time}) < ${cutoff}::TIMESTAMP ORDER BY machine_id`,
  );
  return rows.map((r) => ({ machine_id: r.machine_id, from: r.newest }));
}

interface CursorRow {
  machine_id: string;
  source: string;
  cursor_key: string;
  at: string;
}

/**
 * Refuses a deletion that would remove rows a timestamp cursor still needs: a collector reads its
 * source again from its cursor, so its rows at or after it must stay (deleted, they would come back).
 */
async function checkCursors(read: Reader, t: TableMeta, where: SqlQuery, cutoff: string, cursors: CursorRow[], span: string, source: string): Promise<void> {
  if (!t.hasMachine || !t.hasSource || t.tier) return;
  const time = sql.identifier(t.time!);
  for (const c of cursors) {
    if (!(Date.parse(c.at) < Date.parse(cutoff))) continue;
    const n = await count(read, t.name, sql`machine_id = ${c.machine_id} AND source = ${c.source} AND ${time} >= ${c.at}::TIMESTAMP AND ${where}`);
    if (n === 0) continue;
    throw new VcError(
      "config_invalid",
      `${source}: retention.${span}: deleting ${t.name} rows before ${cutoff} would remove ${n} row(s) the ${c.source} cursor "${c.cursor_key}" on ${c.machine_id} still needs (it reads again from ${c.at})`,
      {
        hint: `keep ${t.name} longer (retention.${span}), or let ${c.source} collect on ${c.machine_id} again so its cursor moves on`,
        details: { table: t.name, machine_id: c.machine_id, source: c.source, cursor_key: c.cursor_key, cursor_at: c.at, rows: n },
      },
    );
  }
}

/** Bytes of a table's column data: the distinct blocks its persistent segments sit in, times the block size. */
async function tableBytes(read: Reader, table: string, blockSize: number): Promise<number> {
  const [row] = await read<{ blocks: number }>(sql`SELECT count(DISTINCT block_id)::BIGINT AS blocks FROM pragma_storage_info(${table}) WHERE persistent`);
  return Number(row?.blocks ?? 0) * blockSize;
}

export type { Reader };

/** What a plan reads: the config's retention (and its file, for errors), the store's tables, the instant. */
export interface PlanOptions {
  config: Pick<VcConfig, "retention" | "source">;
  /** The store's tables (default: read from the catalog). */
  tables?: ReadonlyMap<string, TableMeta>;
  now: Date;
}

/**
 * What a vacuum would do at `now`. Refuses (config_invalid, naming the table) a span for a table
 * that does not exist or has no history, and a deletion that would remove rows a cursor needs.
 * @example const plan = await planVacuum(store.query.bind(store), { config, tables: await loadTables(read), now: new Date() })
 */
export async function planVacuum(read: Reader, o: PlanOptions): Promise<VacuumPlan> {
  const retention = retentionOf(o.config);
  const { now } = o;
  const tables = o.tables ?? (await loadTables(read));
  const spans = spansFor(tables, retention, o.config.source);
  const [size] = await read<{ block_size: number; used_blocks: number }>(sql`SELECT block_size, used_blocks FROM pragma_database_size() WHERE database_name = current_database()`);
  const blockSize = Number(size?.block_size ?? 0);
  const [runs, floor, state, cursors] = await Promise.all([
    unfinishedRuns(read),
    incidentFloor(read, tables),
    read<{ table_name: string; exported_to: string | null; dead_rows: number }>(sql`SELECT table_name, exported_to, dead_rows FROM retention_state`),
    retention.delete
      ? read<CursorRow>(
          sql`SELECT machine_id, source, cursor_key, json_extract_string(cursor_value, '$.at') AS at FROM ingestion_cursors WHERE cursor_kind = 'timestamp' ORDER BY machine_id, source, cursor_key`,
        )
      : Promise.resolve([] as CursorRow[]),
  ]);
  const stateOf = new Map(state.map((s) => [s.table_name, s]));
  const plans: TablePlan[] = [];

  for (const t of [...tables.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const span = spans.get(t.name);
    const resumed = runs.get(t.name);
    if (!t.time || (!span && !resumed)) continue;
    const rows = await count(read, t.name, sql`true`);
    const bytes = await tableBytes(read, t.name, blockSize);
    const dead = Number(stateOf.get(t.name)?.dead_rows ?? 0);
    let cutoff: string;
    let keep: KeepRange[];
    let mode: TablePlan["mode"];
    const keptBy: string[] = [];
    let exportFrom: string | null = null;
    if (resumed) {
      ({ cutoff } = resumed);
      keep = resumed.keep_json ? (JSON.parse(resumed.keep_json) as KeepRange[]) : [];
      mode = resumed.mode === "delete" && !retention.delete ? "none" : resumed.mode;
      exportFrom = resumed.export_from;
      keptBy.push(
        mode === "none"
          ? `run ${resumed.run_id} of ${resumed.planned_at} was to delete, and deletion is off now: it is cancelled`
          : `finishing run ${resumed.run_id} of ${resumed.planned_at} with its own cutoff`,
      );
    } else {
      let at = startOfDay(now.getTime() - span!.days * 86_400_000);
      if (floor && floor.at < at) {
        at = floor.at;
        keptBy.push(floor.why);
      }
      cutoff = iso(at);
      keep = await quietMachines(read, t, cutoff);
      for (const k of keep) keptBy.push(`the newest rows of ${k.machine_id ?? "the table"} (from ${k.from}): what its latest-by-key views show`);
      exportFrom = stateOf.get(t.name)?.exported_to ?? null;
      mode = retention.delete ? "delete" : retention.export_before_delete ? "export" : "none";
    }
    const past = pastSpan(t.time, cutoff, keep);
    const pastSpanRows = await count(read, t.name, past);
    if (mode === "delete" && !resumed) await checkCursors(read, t, past, cutoff, cursors, span!.key, o.config.source);
    const exportDir = resumed ? resumed.export_dir : retention.export_before_delete;
    const exportRows = !exportDir ? 0 : mode === "delete" ? pastSpanRows : mode === "export" ? await count(read, t.name, exportRange(t.time, exportFrom, cutoff)) : 0;
    const deleteRows = mode === "delete" ? pastSpanRows : 0;
    const compact = deleteRows > 0 && t.indexed && dead + deleteRows >= COMPACT_SHARE * Math.max(1, rows - deleteRows);
    const freedShare = rows + dead === 0 ? 0 : compact ? (dead + deleteRows) / (rows + dead) : t.indexed ? 0 : deleteRows / (rows + dead);
    plans.push({
      table: t.name,
      time_column: t.time,
      span: resumed ? (span?.key ?? "(no longer configured)") : span!.key,
      days: span?.days ?? 0,
      cutoff,
      kept_by: keptBy,
      keep,
      mode: mode === "export" && !exportDir ? "none" : mode,
      rows,
      past_span: pastSpanRows,
      export_rows: exportRows,
      delete_rows: deleteRows,
      compact,
      bytes,
      bytes_freed: Math.round(bytes * freedShare),
      resume: resumed ? { run_id: resumed.run_id, state: resumed.state, planned_at: resumed.planned_at } : null,
    });
  }
  // Rows are rolled up as they pass their span, before they are deleted.
  const upto = new Map(plans.filter((p) => p.mode === "delete").map((p) => [p.table, Date.parse(p.cutoff)]));
  const rollups = await planRollups(read, { tables, now, days: retention.rollup_days, upto });
  return {
    at: now.toISOString(),
    delete: retention.delete,
    export_dir: retention.export_before_delete,
    tables: plans,
    unretained: [...tables.values()].filter((t) => t.time && !spans.has(t.name) && !runs.has(t.name)).map((t) => t.name),
    rollups,
    bytes: {
      method:
        "per table: the distinct blocks of its column data (pragma_storage_info) x the block size; freed: that x the share of its rows deleted, when the table is rewritten (a table with an index, its primary key included, reuses a deleted row's space only once rewritten) or has no index. Indexes are not counted.",
      block_size: blockSize,
      store_used: Number(size?.used_blocks ?? 0) * blockSize,
      freed: plans.reduce((a, p) => a + p.bytes_freed, 0),
    },
  };
}

/**
 * Checks the config's retention against the store's tables (a span naming a table the store does
 * not have, or one without history, is refused by name); `vc up` calls it as it starts.
 */
export async function checkRetention(vc: { store: Pick<Store, "query">; config: Pick<VcConfig, "retention" | "source"> }): Promise<void> {
  if (!vc.config.retention) return;
  spansFor(await loadTables(vc.store.query.bind(vc.store) as Reader), retentionOf(vc.config), vc.config.source);
}
