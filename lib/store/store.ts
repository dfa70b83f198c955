import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { DuckDBInstance, DuckDBTypeId, LIST, type DuckDBConnection, type DuckDBType, type DuckDBValue } from "@duckdb/node-api";
import { VcError, errorMessage } from "../errors.ts";
import { systemClock, type Clock } from "../clock.ts";
import { migrate, type MigrationSource } from "./migrate.ts";
import { renderSql, quoteIdentifier, type SqlQuery } from "./sql.ts";
import { fromDuckDB, isSafeNumber, planColumn, type ColumnPlan } from "./_values.ts";
import { BadValue, columnLists, fillChunk } from "./_append.ts";
import { readDaemonLock } from "./_lock.ts";
import { holdPrivateUmask } from "./_modes.ts";

/** What goes into `openStore`. */
export interface StoreOptions {
  /** The DuckDB file; created with its folder when missing (unless read-only). */
  path: string;
  /** Open for reading only: nothing can be written through this store. */
  readOnly?: boolean;
  clock?: Clock;
  /** Where the numbered `.sql` migrations live (defaults to vc's own). */
  migrationsDir?: string;
  /** Plugins' own migrations, applied after vc's. */
  pluginMigrations?: readonly MigrationSource[];
  /** DuckDB's memory and thread bounds (vc.config.ts `store`); each has a default. */
  limits?: StoreLimits;
}

/** DuckDB's resource bounds for one store. DuckDB's own defaults (80 % of RAM, a thread per core) suit a database server, not a daemon beside a fleet. */
export interface StoreLimits {
  /** DuckDB's memory_limit: its buffer pool (cached blocks, indexes, uncommitted data), e.g. "128MB". */
  memoryLimit?: string;
  /** DuckDB's worker threads. One is enough for vc's small statements and costs the least CPU per statement. */
  threads?: number;
  /**
   * After this long without a write: CHECKPOINT (what is written moves from memory to the file) and
   * hand the freed memory back to the system. 0 turns it off.
   */
  releaseAfterIdleMs?: number;
}

/** The memory_limit a store is set to for a moment when it hands memory back: evicts every cached block. */
const EVICT_ALL = "1MB";

/** The bounds a store gets when the config says nothing (measured with `bun run bench daemon`). */
export const DEFAULT_STORE_LIMITS: Required<StoreLimits> = { memoryLimit: "128MB", threads: 1, releaseAfterIdleMs: 2000 };

const MEMORY_SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i;
const UNIT: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
/** The smallest memory_limit vc accepts: below it migrations and a poll cycle cannot fit. */
export const MIN_MEMORY_LIMIT_BYTES = 32 * 2 ** 20;

/** Bytes in a DuckDB memory size ("128MB", "1.5 GiB"), or null when it is not one. */
export function memorySizeBytes(text: string): number | null {
  const m = MEMORY_SIZE.exec(text);
  return m ? Number(m[1]) * UNIT[m[2]!.toLowerCase()]! : null;
}

/** The limits with defaults filled in; a bad value is refused naming its field (as vc.config.ts spells it). */
export function resolveStoreLimits(limits: StoreLimits = {}): Required<StoreLimits> {
  const out = { ...DEFAULT_STORE_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
  const bytes = memorySizeBytes(out.memoryLimit);
  if (bytes === null || bytes < MIN_MEMORY_LIMIT_BYTES) {
    throw new VcError("invalid_input", `store.memory_limit: expected a size of at least 32MB such as "128MB" or "1GB", got ${JSON.stringify(out.memoryLimit)}`);
  }
  if (!Number.isInteger(out.threads) || out.threads < 1 || out.threads > 256) {
    throw new VcError("invalid_input", `store.threads: expected a whole number from 1 to 256, got ${JSON.stringify(out.threads)}`);
  }
  if (!Number.isFinite(out.releaseAfterIdleMs) || out.releaseAfterIdleMs < 0) {
    throw new VcError("invalid_input", `releaseAfterIdleMs: expected 0 or more milliseconds, got ${JSON.stringify(out.releaseAfterIdleMs)}`);
  }
  return out;
}

/** Rows as plain objects, with the column order of the result. */
export interface QueryResult<T = Record<string, unknown>> {
  columns: string[];
  types: string[];
  rows: T[];
  /** More rows matched than were returned. */
  truncated?: boolean;
}

/** What a transaction body can do: read and write on the one connection that holds it. */
export interface StoreTx {
  query<T = Record<string, unknown>>(q: SqlQuery | string): Promise<T[]>;
  run(q: SqlQuery | string): Promise<number>;
  /** Batch insert through DuckDB's appender; rows already present (by natural key) are skipped. Returns rows added. */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<number>;
  /**
   * `insert`, counting the rows added by the values of `by` (e.g. machine_id and source): one
   * statement for rows of many owners, each still told how many of its own were new. Keys are the
   * values joined with "\u0000" (null as ""); owners with nothing added are absent.
   */
  insertCounted(table: string, rows: readonly Record<string, unknown>[], by: readonly string[]): Promise<Map<string, number>>;
  /** A table's column names, in order. */
  columns(table: string): Promise<string[]>;
}

/** The DuckDB file behind vc: one instance per process, one writer connection, many readers. */
export interface Store extends StoreTx {
  readonly path: string;
  readonly readOnly: boolean;
  readonly clock: Clock;
  /** Plugins whose migrations failed at open: their tables are missing, their collectors skipped. */
  migrationErrors: { source: string; error: string }[];
  /** Rows with column names and types, for front ends that print tables. */
  select<T = Record<string, unknown>>(q: SqlQuery | string): Promise<QueryResult<T>>;
  /** Runs `fn` in one transaction: everything it wrote commits together, or nothing does. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** A new connection on the same instance (for read-only user queries). */
  connect(): Promise<DuckDBConnection>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Block size of a store file vc creates (DuckDB's default is 256 KiB; a file keeps the size it was
 * made with). Each table a poll cycle appends to holds a fresh in-memory block per column until the
 * next checkpoint, and each index a few: with ~50 tables, 256 KiB blocks cost ~100 MB in every
 * cycle for a few rows each; 16 KiB blocks cost ~10 MB (`bun run bench daemon`).
 */
const NEW_STORE_BLOCK_SIZE = 16 * 1024;

const instanceOptions = {
  // vc reads nothing from outside through DuckDB: collectors hand it rows, users get read-only SQL.
  enable_external_access: "false",
  autoinstall_known_extensions: "false",
  autoload_known_extensions: "false",
  allow_community_extensions: "false",
};

/**
 * Opens (and migrates) the store. Refuses a file that is not DuckDB without touching it, and
 * explains who holds the file when another process has it.
 * @example await using store = await openStore({ path: "~/.local/share/vc/vc.duckdb" })
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { path, readOnly = false, clock = systemClock } = options;
  const limits = resolveStoreLimits(options.limits);
  checkIsDuckDB(path, readOnly);
  if (!readOnly) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Owner-only files whatever the umask: DuckDB creates the store, and its WAL after every checkpoint.
  const release = readOnly ? () => {} : holdPrivateUmask();

  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(path, {
      ...instanceOptions,
      access_mode: readOnly ? "READ_ONLY" : "READ_WRITE",
      memory_limit: limits.memoryLimit.replace(/\s+/g, ""),
      threads: String(limits.threads),
      default_block_size: String(NEW_STORE_BLOCK_SIZE),
      ...(readOnly ? { lock_configuration: "true" } : {}),
    });
  } catch (err) {
    release();
    throw explainOpenError(path, err);
  }
  const writer = await instance.connect();
  const reader = await instance.connect();
  const pending: string[] = [];
  const migrationErrors: { source: string; error: string }[] = [];
  try {
    await migrate(writer, {
      clock,
      dir: options.migrationsDir,
      sources: options.pluginMigrations,
      readOnly,
      pending,
      onSourceFailed: (source, err) => migrationErrors.push({ source, error: err.message }),
    });
  } catch (err) {
    writer.closeSync();
    reader.closeSync();
    instance.closeSync();
    release();
    throw err;
  }
  if (readOnly && pending.length > 0) {
    // A store from an older vc: bring it up to date once (briefly read-write), then read it.
    writer.closeSync();
    reader.closeSync();
    instance.closeSync();
    await (await openStore({ ...options, readOnly: false })).close();
    return openStore(options);
  }
  const store = createStore({ path, readOnly, clock, instance, writer, reader, limits });
  store.migrationErrors = migrationErrors;
  const close = store.close;
  store.close = () => close().finally(release);
  return store;
}

function checkIsDuckDB(path: string, readOnly: boolean): void {
  if (!existsSync(path)) {
    if (readOnly) {
      throw new VcError("not_found", `no store at ${path} yet`, { hint: "run `vc collect --once` to create it, or pass --db" });
    }
    return;
  }
  const st = statSync(path);
  if (st.isDirectory()) throw new VcError("store_not_duckdb", `${path} is a directory, not a DuckDB file`, { hint: "point --db at a file" });
  if (st.size === 0) return;
  const head = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.subarray(8, 12).toString("latin1") !== "DUCK") {
    const what = head.toString("latin1").startsWith("SQLite format 3") ? "a SQLite database" : "not a DuckDB database";
    throw new VcError("store_not_duckdb", `${path} is ${what}; vc left it untouched`, {
      hint: "point --db (or $VC_DB, or `db` in vc.config.ts) at a DuckDB file or a path that does not exist yet",
    });
  }
}

function explainOpenError(path: string, err: unknown): VcError {
  const msg = errorMessage(err);
  const held = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(msg);
  if (held || /Could not set lock/.test(msg)) {
    const pid = held ? Number(held[2]) : undefined;
    const daemon = readDaemonLock(path);
    if (daemon && (pid === undefined || daemon.pid === pid)) {
      return new VcError("store_locked", `vc (pid ${daemon.pid}) holds ${path}${daemon.socket ? ` and serves it on ${daemon.socket}` : ""}; commands reach the store through it`, {
        hint: `\`kill ${daemon.pid}\` stops it cleanly; it has held the store since ${daemon.started_at}`,
        details: { pid: daemon.pid, socket: daemon.socket },
        cause: err,
      });
    }
    return new VcError("store_locked", `another process (pid ${pid ?? "?"}${held ? `, ${held[1]}` : ""}) holds ${path}; wait for it to finish or stop it`, {
      hint: "DuckDB lets one process open a store for writing and no other process open it meanwhile",
      details: { pid },
      cause: err,
    });
  }
  if (/not a valid DuckDB database/.test(msg)) {
    return new VcError("store_not_duckdb", `${path} is not a DuckDB database; vc left it untouched`, { cause: err });
  }
  return new VcError("store_open_failed", `cannot open the store ${path}: ${msg}`, { cause: err });
}

interface StoreParts {
  path: string;
  readOnly: boolean;
  clock: Clock;
  instance: DuckDBInstance;
  writer: DuckDBConnection;
  reader: DuckDBConnection;
  limits: Required<StoreLimits>;
}

interface TableInfo {
  columns: string[];
  types: DuckDBType[];
  /** Type names as declared (JSON included). */
  typeNames: string[];
  /** Staging for batches whose BIGINT values are all safe integers (fast), and for the rest (exact). */
  fast: StagePlan;
  exact: StagePlan;
}

interface StagePlan {
  plans: ColumnPlan[];
  stage: string;
  stageTypes: DuckDBType[];
  insertSql: string;
  /** The same insert from one list parameter per stage column (a small batch), and those parameters' types. */
  listSql: string;
  listTypes: DuckDBType[];
  created: boolean;
}

const CHUNK = 2048;
/**
 * Values (rows × columns) an insert takes as list parameters; a larger batch goes through a stage
 * table and the appender, faster per row but costing DuckDB memory for each table it stages.
 */
const MAX_LIST_VALUES = 16_384;

/**
 * Debug: every statement a store runs on its connections, counted by what it is (the SQL's start, or
 * "insert <table>" for the appender's three steps) with the time it took. Off (and free) unless a
 * caller sets `on`, as test/bench/cycle-statements.ts does; never on in vc itself.
 */
export const statementTrace = {
  on: false,
  /** Per kind: calls, milliseconds, and (when `rss` is on) the process's RSS growth over them and its peak after one, in bytes. */
  counts: new Map<string, { n: number; ms: number; rssGrowth: number; rssPeak: number }>(),
  /** Also measure RSS before and after each statement (a read of /proc/self/statm each). */
  rss: false,
  /** When an array: each statement in order, with RSS before and after it (bytes) when `rss` is on. */
  timeline: null as { label: string; at: number; rss0: number; rss1: number }[] | null,
};
/** RSS before a traced statement, when the trace measures it. */
const traceRss = () => (statementTrace.on && statementTrace.rss ? process.memoryUsage.rss() : 0);
function traceStatement(label: string, t0: number, rss0 = 0): void {
  const key = label.replace(/\s+/g, " ").trim().slice(0, 90);
  const c = statementTrace.counts.get(key) ?? { n: 0, ms: 0, rssGrowth: 0, rssPeak: 0 };
  c.n++;
  c.ms += performance.now() - t0;
  if (statementTrace.rss) {
    const rss = process.memoryUsage.rss();
    c.rssGrowth += rss - rss0;
    c.rssPeak = Math.max(c.rssPeak, rss);
    statementTrace.timeline?.push({ label: key, at: t0, rss0, rss1: rss });
  }
  statementTrace.counts.set(key, c);
}

function createStore(parts: StoreParts): Store {
  const { path, readOnly, clock, instance, writer, reader, limits } = parts;
  // Reads run side by side on a few connections (one query at a time per connection in DuckDB).
  const readers: DuckDBConnection[] = [reader];
  const idle: DuckDBConnection[] = [reader];
  const MAX_READERS = 4;
  async function withReader<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    let c = idle.pop();
    if (!c) {
      if (readers.length < MAX_READERS) readers.push((c = await instance.connect()));
      else c = readers[Math.floor(Math.random() * readers.length)]!;
    }
    try {
      // Nothing awaits between here and the query joining inFlight (selectOn), which a release waits for.
      while (releasing) await releasing;
      return await fn(c);
    } finally {
      if (!idle.includes(c)) idle.push(c);
    }
  }
  // While the store hands memory back its buffer pool is briefly limited to nothing: reads wait
  // for that, and it waits for the reads in flight; connections handed out (user queries) skip it.
  let releasing: Promise<void> | undefined;
  let lentConnections = 0;
  const tables = new Map<string, TableInfo>();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  // DuckDB's out-of-memory errors name its own SET memory_limit; the user sets it in vc.config.ts.
  const oomHint = (err: unknown) =>
    /Out of Memory Error|SET memory_limit=/i.test(errorMessage(err)) ? `the store's memory_limit is ${limits.memoryLimit}: raise store.memory_limit in vc.config.ts` : undefined;

  async function exec(conn: DuckDBConnection, q: SqlQuery | string) {
    const { text, params } = renderSql(q);
    const t0 = performance.now();
    const r0 = traceRss();
    try {
      return await conn.runAndReadAll(text, params as DuckDBValue[]);
    } catch (err) {
      throw new VcError("query_failed", errorMessage(err), { cause: err, hint: oomHint(err), details: { sql: text, params } });
    } finally {
      if (statementTrace.on) traceStatement(text, t0, r0);
    }
  }

  // Queries still running when close() is called: closing under them leaves the process hanging.
  const inFlight = new Set<Promise<unknown>>();
  function selectOn<T>(conn: DuckDBConnection, q: SqlQuery | string): Promise<QueryResult<T>> {
    const p = selectNow<T>(conn, q);
    inFlight.add(p);
    const done = () => inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  async function selectNow<T>(conn: DuckDBConnection, q: SqlQuery | string): Promise<QueryResult<T>> {
    const reader = await exec(conn, q);
    const columns = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const rows = reader.getRows().map((row) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++) o[columns[i]!] = fromDuckDB(row[i]!);
      return o as T;
    });
    return { columns, types, rows };
  }

  async function tableInfo(table: string): Promise<TableInfo> {
    const known = tables.get(table);
    if (known) return known;
    const probe = await writer.runAndReadAll(`SELECT * FROM main.${quoteIdentifier(table)} LIMIT 0`).catch(() => null);
    if (!probe) throw new VcError("invalid_input", `no table "${table}" in the store`, { details: { table } });
    const columns = probe.columnNames();
    const types = probe.columnTypes();
    // node-api reports JSON columns as VARCHAR: the catalog knows them by name.
    const declared = await writer.runAndReadAll(
      "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $1 AND schema_name = 'main' AND database_name = current_database()",
      [table],
    );
    const json = new Set(
      declared
        .getRowObjects()
        .filter((r) => r.data_type === "JSON")
        .map((r) => r.column_name as string),
    );
    const stagePlan = (numeric: boolean): StagePlan => {
      const plans = columns.map((c, i) => planColumn(c, types[i]!, numeric, json.has(c)));
      const stage = `_stage_${numeric ? "n" : "x"}_${table}`;
      const insert = (from: string) => `INSERT INTO main.${quoteIdentifier(table)} SELECT ${plans.map((p) => p.select).join(", ")} FROM ${from} ON CONFLICT DO NOTHING`;
      const lists = `(SELECT ${plans.map((p, i) => `unnest($${i + 1}) AS ${quoteIdentifier(p.stage.name)}`).join(", ")}) AS ${quoteIdentifier(stage)}`;
      return {
        plans,
        stage,
        stageTypes: plans.map((p) => p.stage.type),
        insertSql: insert(`temp.main.${quoteIdentifier(stage)}`),
        listSql: insert(lists),
        listTypes: plans.map((p) => LIST(p.stage.type)),
        created: false,
      };
    };
    const typeNames = columns.map((c, i) => (json.has(c) ? "JSON" : types[i]!.toString()));
    const info = { columns, types, typeNames, fast: stagePlan(true), exact: stagePlan(false) };
    tables.set(table, info);
    return info;
  }

  async function insertOn(table: string, rows: readonly Record<string, unknown>[], by?: readonly string[]): Promise<{ added: number; counts: Map<string, number> }> {
    const counts = new Map<string, number>();
    if (rows.length === 0) return { added: 0, counts };
    const info = await tableInfo(table);
    for (const c of by ?? []) if (!info.columns.includes(c)) throw new VcError("invalid_input", `table ${table} has no column "${c}" to count by`);
    const known = new Set(info.columns);
    for (const key of Object.keys(rows[0]!)) {
      if (!known.has(key)) {
        throw new VcError("invalid_input", `table ${table} has no column "${key}"`, { hint: `its columns: ${info.columns.join(", ")}` });
      }
    }
    const bigints = info.columns.filter((_, i) => info.types[i]!.typeId === DuckDBTypeId.BIGINT);
    const plan = bigints.every((c) => rows.every((r) => isSafeNumber(r[c]))) ? info.fast : info.exact;
    const badValue = (err: unknown) => {
      if (!(err instanceof BadValue)) return err;
      const type = info.typeNames[info.columns.indexOf(err.column)]!;
      return new VcError("invalid_input", `table ${table}, column ${err.column}: ${JSON.stringify(err.value)} is not a ${type} (row ${err.row})`);
    };
    const t0 = performance.now();
    const r0 = traceRss();
    // The label names the kind of work for the trace whichever way the rows travel.
    const traced = () => statementTrace.on && traceStatement(`insert ${table} (append, insert, clear stage)`, t0, r0);
    const insert = async (sql: string, params?: DuckDBValue[], types?: DuckDBType[]) => {
      try {
        if (!by) return { added: Number((await writer.run(sql, params, types)).rowsChanged), counts };
        // The rows DuckDB added (not those it skipped as present), by owner.
        const added = await writer.runAndReadAll(`${sql} RETURNING ${by.map(quoteIdentifier).join(", ")}`, params, types);
        for (const row of added.getRows()) {
          const key = row.map((v) => (v === null ? "" : String(v))).join("\u0000");
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        return { added: added.currentRowCount, counts };
      } catch (err) {
        throw new VcError("query_failed", `inserting into ${table}: ${errorMessage(err).split("\n")[0]}`, { cause: err, hint: oomHint(err) });
      }
    };
    if (rows.length * plan.plans.length <= MAX_LIST_VALUES) {
      // A small batch (a poll cycle's usual few rows per table) needs no stage table: a temp table
      // holds a block per column in memory for as long as it exists, for every table a cycle writes.
      let lists: DuckDBValue[];
      try {
        lists = columnLists(plan.plans, rows);
      } catch (err) {
        throw badValue(err);
      }
      try {
        return await insert(plan.listSql, lists, plan.listTypes);
      } finally {
        traced();
      }
    }
    if (!plan.created) {
      const cols = plan.plans.map((p) => `${quoteIdentifier(p.stage.name)} ${p.stage.sql}`);
      await writer.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(plan.stage)}(${cols.join(", ")})`);
      plan.created = true;
    }
    const appender = await writer.createAppender(plan.stage, "main", "temp");
    try {
      for (let start = 0; start < rows.length; start += CHUNK) {
        appender.appendDataChunk(fillChunk(plan.plans, plan.stageTypes, rows, start, Math.min(CHUNK, rows.length - start)));
      }
      appender.flushSync();
    } catch (err) {
      throw badValue(err);
    } finally {
      appender.closeSync();
    }
    try {
      return await insert(plan.insertSql);
    } finally {
      // After a failed INSERT the transaction is aborted and this fails too: it must not hide the cause.
      await writer.run(`DELETE FROM temp.main.${quoteIdentifier(plan.stage)}`).catch(() => {});
      traced();
    }
  }

  const tx: StoreTx = {
    query: async (q) => (await selectOn(writer, q)).rows as never,
    run: async (q) => {
      const { text, params } = renderSql(q);
      const t0 = performance.now();
      const r0 = traceRss();
      try {
        return Number((await writer.run(text, params as DuckDBValue[])).rowsChanged);
      } catch (err) {
        throw new VcError("query_failed", errorMessage(err), { cause: err, hint: oomHint(err), details: { sql: text } });
      } finally {
        if (statementTrace.on) traceStatement(text, t0, r0);
      }
    },
    insert: async (table, rows) => (await insertOn(table, rows)).added,
    insertCounted: async (table, rows, by) => (await insertOn(table, rows, by)).counts,
    columns: async (table) => (await tableInfo(table)).columns,
  };

  function serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = queue.then(fn, fn);
    queue = next.catch(() => {});
    return next;
  }

  // Memory a poll cycle used (data not yet checkpointed, index nodes, query state, the allocator's
  // caches) stays with the process until something hands it back: after a quiet spell, do.
  let releaseTimer: ReturnType<typeof setTimeout> | undefined;
  function releaseWhenIdle() {
    if (readOnly || closed || limits.releaseAfterIdleMs === 0) return;
    clearTimeout(releaseTimer);
    releaseTimer = setTimeout(() => {
      if (closed) return;
      void serialize(async () => {
        let reopen = () => {};
        releasing = new Promise<void>((resolve) => (reopen = resolve));
        try {
          await Promise.allSettled([...inFlight]);
          // Results the cycle read are native DuckDB memory held by JS wrappers: collect them first,
          // so the purge below hands their memory back too (~30 ms; ~5-10 MB in the daemon bench).
          globalThis.Bun?.gc(true);
          // Stage tables (large batches only) hold their blocks in memory for as long as they exist.
          for (const plan of [...tables.values()].flatMap((t) => [t.fast, t.exact])) {
            if (!plan.created) continue;
            plan.created = false;
            await writer.run(`DROP TABLE IF EXISTS temp.main.${quoteIdentifier(plan.stage)}`).catch(() => {});
          }
          // Not while someone else holds a write transaction (DuckDB refuses): the next quiet spell will do.
          await writer.run("CHECKPOINT").catch(() => {});
          // Setting the limit evicts cached blocks down to it and purges DuckDB's allocator (jemalloc)
          // back to the system: down to nothing first (the blocks a cycle read, ~10-20 MB in the daemon
          // bench, are read again from the file when next needed), unless a lent connection may be mid-query.
          if (lentConnections === 0) await writer.run(`SET memory_limit = '${EVICT_ALL}'`).catch(() => {});
          await writer.run(`SET memory_limit = '${limits.memoryLimit.replace(/\s+/g, "")}'`).catch(() => {});
        } finally {
          releasing = undefined;
          reopen();
        }
      });
    }, limits.releaseAfterIdleMs);
    releaseTimer.unref?.();
  }

  function assertWritable() {
    if (closed) throw new VcError("invalid_input", "the store is closed");
    if (readOnly) throw new VcError("query_refused", `the store ${path} is open read-only`);
  }

  const store: Store = {
    path,
    readOnly,
    clock,
    migrationErrors: [],
    async query(q) {
      return (await withReader((c) => selectOn(c, q))).rows as never;
    },
    select: (q) => withReader((c) => selectOn(c, q)),
    run(q) {
      assertWritable();
      return serialize(() => tx.run(q)).finally(releaseWhenIdle);
    },
    columns: (table) => serialize(() => tx.columns(table)),
    insert(table, rows) {
      assertWritable();
      return store.transaction((t) => t.insert(table, rows));
    },
    insertCounted(table, rows, by) {
      assertWritable();
      return store.transaction((t) => t.insertCounted(table, rows, by));
    },
    transaction(fn) {
      assertWritable();
      return serialize(async () => {
        const t0 = performance.now();
        const r0 = traceRss();
        await writer.run("BEGIN TRANSACTION");
        if (statementTrace.on) traceStatement("BEGIN TRANSACTION", t0, r0);
        try {
          const out = await fn(tx);
          const t1 = performance.now();
          const r1 = traceRss();
          await writer.run("COMMIT");
          if (statementTrace.on) traceStatement("COMMIT", t1, r1);
          releaseWhenIdle();
          return out;
        } catch (err) {
          await writer.run("ROLLBACK").catch(() => {});
          // Stage tables created in this transaction went with it: create them again when next needed.
          for (const t of tables.values()) t.fast.created = t.exact.created = false;
          throw err;
        }
      });
    },
    async connect() {
      while (releasing) await releasing;
      const c = await instance.connect();
      lentConnections++;
      const close = c.closeSync.bind(c);
      let open = true;
      c.closeSync = () => {
        if (open) lentConnections--;
        open = false;
        close();
      };
      return c;
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(releaseTimer);
      await queue.catch(() => {});
      await Promise.allSettled([...inFlight]);
      if (!readOnly) await writer.run("CHECKPOINT").catch(() => {});
      writer.closeSync();
      for (const c of readers) c.closeSync();
      instance.closeSync();
    },
    [Symbol.asyncDispose]() {
      return store.close();
    },
  };
  return store;
}
