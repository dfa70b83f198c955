import {
  VARCHAR,
  BIGINT,
  BOOLEAN,
  DOUBLE,
  FLOAT,
  HUGEINT,
  INTEGER,
  SMALLINT,
  TIMESTAMP,
  TIMESTAMPTZ,
  TINYINT,
  UBIGINT,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
} from "@duckdb/node-api";

/** A value as vc hands it out: bigints as numbers when exact, timestamps as ISO 8601 strings. */
export function fromDuckDB(value: DuckDBValue): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (typeof value !== "object") return value;
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) {
    if (!value.isFinite) return value.toString();
    return new Date(Number(value.micros / 1000n)).toISOString();
  }
  if (value instanceof DuckDBListValue) return value.items.map(fromDuckDB);
  if (value instanceof DuckDBStructValue) {
    return Object.fromEntries(Object.entries(value.entries).map(([k, v]) => [k, fromDuckDB(v)]));
  }
  if (value instanceof Uint8Array) return value;
  return String(value);
}

/** True when a BIGINT value can travel as a DOUBLE without loss. */
export function isSafeNumber(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === "number" && Number.isSafeInteger(v));
}

/** Milliseconds since the epoch from a Date, an ISO string or a number of ms. */
export function toEpochMs(v: unknown): number | null {
  if (v === null || v === undefined || v === "") return null;
  if (v instanceof Date) return v.getTime();
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

/** The instants a Date can hold (±100,000,000 days around 1970), a range DuckDB's TIMESTAMP holds too. */
export const MAX_EPOCH_MS = 8.64e15;

const INT_RANGE: Partial<Record<DuckDBTypeId, [number, number]>> = {
  [DuckDBTypeId.TINYINT]: [-128, 127],
  [DuckDBTypeId.SMALLINT]: [-32768, 32767],
  [DuckDBTypeId.INTEGER]: [-2147483648, 2147483647],
};
const BIG_RANGE: Partial<Record<DuckDBTypeId, [bigint, bigint]>> = {
  [DuckDBTypeId.BIGINT]: [-(2n ** 63n), 2n ** 63n - 1n],
  [DuckDBTypeId.UBIGINT]: [0n, 2n ** 64n - 1n],
  [DuckDBTypeId.HUGEINT]: [-(2n ** 127n), 2n ** 127n - 1n],
};

// An escaped backslash (skipped whole, so `\\udc80` stays text), a surrogate pair, or a lone surrogate escape.
const SURROGATE_ESCAPE = /\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}/g;
const MAY_HAVE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * JSON text with every lone UTF-16 surrogate — escaped (`"\udc80"`, as Python's json.dumps and
 * JSON.stringify write them) or raw — replaced by U+FFFD, which DuckDB's JSON parser accepts.
 * @example repairJsonText('{"a":"\\udc80"}') // '{"a":"\\ufffd"}'
 */
export function repairJsonText(text: string): string {
  const escaped = MAY_HAVE_SURROGATE_ESCAPE.test(text) ? text.replace(SURROGATE_ESCAPE, (m) => (m.length === 2 || m.length === 12 ? m : "\\ufffd")) : text;
  return escaped.isWellFormed() ? escaped : escaped.toWellFormed();
}

/** How deep `jsonText` keeps nested values of a document too deep to stringify. */
export const MAX_JSON_DEPTH = 256;

/** A copy of `v` with arrays and objects deeper than `depth` (or past `budget` nodes) replaced by a marker, BigInts as numbers or text. */
function clipDepth(v: unknown, depth: number, budget = { nodes: 1_000_000 }): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v !== "object" || v === null) return v;
  if (depth <= 0 || --budget.nodes <= 0) return "[nested too deep]";
  if (typeof (v as { toJSON?: unknown }).toJSON === "function") return v;
  if (Array.isArray(v)) return v.map((x) => clipDepth(x, depth - 1, budget));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = clipDepth(x, depth - 1, budget);
  return out;
}

/** True when arrays or objects in `v` nest deeper than `depth` (stops at the first such path). */
export function deeperThan(v: unknown, depth: number): boolean {
  if (typeof v !== "object" || v === null) return false;
  if (depth <= 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === "object" && x !== null && deeperThan(x, depth - 1)) return true;
    }
    return false;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === "object" && x !== null && deeperThan(x, depth - 1)) return true;
  }
  return false;
}

/**
 * A value as JSON text, unrepaired: a string is taken as JSON text already (undefined when it is not
 * JSON); a value that cannot be stringified as it is (nested too deep for the stack, a BigInt, a
 * cycle) is stringified from a copy with BigInts as numbers or text and nesting past MAX_JSON_DEPTH
 * clipped (`clipped`).
 */
export function stringifyJson(v: unknown): { text: string; clipped: boolean } | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string") {
    try {
      JSON.parse(v);
    } catch {
      return undefined;
    }
    return { text: v, clipped: false };
  }
  try {
    // Checked first: JSON.stringify of a value tens of thousands deep takes seconds before it fails.
    if (deeperThan(v, MAX_JSON_DEPTH)) throw new RangeError("nested too deep");
    const text = JSON.stringify(v);
    return text === undefined ? undefined : { text, clipped: false };
  } catch {
    try {
      const text = JSON.stringify(clipDepth(v, MAX_JSON_DEPTH));
      return text === undefined ? undefined : { text, clipped: true };
    } catch {
      return undefined;
    }
  }
}

/**
 * A value as JSON text DuckDB's JSON type accepts (`stringifyJson`, then `repairJsonText`).
 * @example jsonText({ a: "\udc80" }) // '{"a":"\\ufffd"}'
 */
export function jsonText(v: unknown): string | undefined {
  const s = stringifyJson(v);
  return s === undefined ? undefined : repairJsonText(s.text);
}

/** A number that fits an integer column of `type`, or undefined. */
function intIn(n: number, type: DuckDBTypeId): number | undefined {
  const r = INT_RANGE[type];
  return Number.isInteger(n) && (!r || (n >= r[0] && n <= r[1])) ? n : undefined;
}

/** A bigint that fits a BIGINT-like column of `type`, or undefined. */
function bigIn(b: bigint, type: DuckDBTypeId): bigint | undefined {
  const r = BIG_RANGE[type];
  return !r || (b >= r[0] && b <= r[1]) ? b : undefined;
}

/** Epoch milliseconds DuckDB can store as a TIMESTAMP, or undefined. */
function msIn(ms: number | null): number | undefined {
  return ms !== null && Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : undefined;
}

/**
 * A JS value made into what DuckDB's appender wants for a column of `type`.
 * Returns `undefined` when the value cannot be that type (the caller names table and column).
 */
export function toDuckDB(v: unknown, type: DuckDBType): DuckDBValue | undefined {
  if (v === null || v === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
      if (typeof v === "string") return v;
      if (typeof v === "object") return jsonText(v);
      return String(v);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const ms = msIn(toEpochMs(v));
      if (ms === undefined) return undefined;
      const micros = BigInt(Math.round(ms * 1000));
      return type.typeId === DuckDBTypeId.TIMESTAMP ? new DuckDBTimestampValue(micros) : new DuckDBTimestampTZValue(micros);
    }
    case DuckDBTypeId.BOOLEAN:
      if (typeof v === "boolean") return v;
      if (v === 0 || v === 1) return v === 1;
      if (v === "true" || v === "false") return v === "true";
      return undefined;
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.FLOAT: {
      const n = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
      return Number.isNaN(n) ? undefined : n;
    }
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.TINYINT: {
      const n = typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : NaN;
      return intIn(n, type.typeId);
    }
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
      if (typeof v === "bigint") return bigIn(v, type.typeId);
      if (typeof v === "number" && Number.isFinite(v)) return bigIn(BigInt(Math.trunc(v)), type.typeId);
      if (typeof v === "string" && /^-?\d+$/.test(v)) return bigIn(BigInt(v), type.typeId);
      return undefined;
    case DuckDBTypeId.LIST:
      return Array.isArray(v) ? new DuckDBListValue(v.map((x) => (typeof x === "string" ? x : (jsonText(x) ?? null)))) : undefined;
    default:
      return typeof v === "object" ? jsonText(v) : (v as DuckDBValue);
  }
}

/** How a stage column's values are laid into a vector (see _append.ts). */
export type StageKind = "f64" | "i32" | "i64" | "bool" | "str" | "any";

/** How one column of a table is staged for the appender and read back into the table. */
export interface ColumnPlan {
  name: string;
  /** The stage column it travels through. */
  stage: { name: string; sql: string; type: DuckDBType; kind: StageKind };
  /** SQL expression over the stage column giving the table's value. */
  select: string;
  /** The value for the stage column (null for NULL), or undefined when it cannot be this column's type. */
  convert(value: unknown): unknown;
}

const q = (s: string) => `"${s.replaceAll('"', '""')}"`;

function kindOf(type: DuckDBType): StageKind {
  switch (type.typeId) {
    case DuckDBTypeId.DOUBLE:
      return "f64";
    case DuckDBTypeId.INTEGER:
      return "i32";
    case DuckDBTypeId.BIGINT:
      return "i64";
    case DuckDBTypeId.BOOLEAN:
      return "bool";
    case DuckDBTypeId.VARCHAR:
      return "str";
    default:
      return "any";
  }
}

/**
 * The staging plan of a column. Numbers cross from JS to DuckDB cheaply as DOUBLE (a typed array),
 * BigInt and timestamp objects do not: so TIMESTAMP columns are staged as epoch milliseconds and,
 * when every value of a batch is a safe integer (`numeric`), BIGINT columns as DOUBLE; DuckDB casts
 * them back in one vectorised INSERT … SELECT.
 */
export function planColumn(name: string, type: DuckDBType, numeric: boolean, json = false): ColumnPlan {
  const id = type.typeId;
  if (id === DuckDBTypeId.TIMESTAMP) {
    const ms = `${name}__ms`;
    return {
      name,
      stage: { name: ms, sql: "DOUBLE", type: DOUBLE, kind: "f64" },
      select: `epoch_ms(CAST(round(${q(ms)}) AS BIGINT))`,
      convert(value) {
        if (value === null || value === undefined) return null;
        return msIn(typeof value === "string" ? Date.parse(value) : toEpochMs(value));
      },
    };
  }
  if (id === DuckDBTypeId.BIGINT && numeric) {
    const n = `${name}__n`;
    return {
      name,
      stage: { name: n, sql: "DOUBLE", type: DOUBLE, kind: "f64" },
      select: `CAST(${q(n)} AS BIGINT)`,
      convert: (value) => (value === null || value === undefined ? null : typeof value === "number" && Number.isSafeInteger(value) ? value : undefined),
    };
  }
  if (json) {
    // Staged as text and checked here, so a bad value names its column instead of aborting the transaction.
    return {
      name,
      stage: { name, sql: "VARCHAR", type: VARCHAR, kind: "str" },
      select: `CAST(${q(name)} AS JSON)`,
      convert: (v) => (v === null || v === undefined ? null : jsonText(v)),
    };
  }
  const kind = kindOf(type);
  // The common cases first, without a trip through toDuckDB's switch.
  const convert: (value: unknown) => unknown =
    kind === "f64"
      ? (v) => (typeof v === "number" ? v : toDuckDB(v, type))
      : kind === "str"
        ? (v) => (typeof v === "string" ? v : toDuckDB(v, type))
        : kind === "bool"
          ? (v) => (typeof v === "boolean" ? v : toDuckDB(v, type))
          : (v) => toDuckDB(v, type);
  return { name, stage: { name, sql: type.toString(), type, kind }, select: q(name), convert };
}

/** A column as the catalog describes it (duckdb_columns()). */
export interface ColumnInfo {
  name: string;
  /** data_type as DuckDB names it: INTEGER, VARCHAR, JSON, TIMESTAMP WITH TIME ZONE, VARCHAR[] … */
  type: string;
  nullable: boolean;
}

const TYPES: Record<string, DuckDBType> = {
  VARCHAR,
  BIGINT,
  BOOLEAN,
  DOUBLE,
  INTEGER,
  SMALLINT,
  TINYINT,
  FLOAT,
  UBIGINT,
  HUGEINT,
  TIMESTAMP,
  "TIMESTAMP WITH TIME ZONE": TIMESTAMPTZ,
};

/** A short, printable rendering of a value for a warning. */
export function preview(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v).toWellFormed();
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object" && v !== null) return v instanceof Date ? String(v) : "an object";
  return String(v);
}

/** What `sanitizeRows` kept and why it changed the rest. */
export interface SanitizeResult {
  rows: Record<string, unknown>[];
  /** One line per change: the table, the field, the value and what was done. */
  changes: string[];
  dropped: number;
}

/**
 * Makes rows fit their table's columns before a batch insert, so one bad value costs its field and
 * a bad required value its row, never the batch: a value that is not its column's type or is out of
 * its range (1e999, a u64 in a BIGINT, a year past 275760) becomes null; a row whose required
 * (NOT NULL or key) column is null or unusable is dropped; strings with lone UTF-16 surrogates and
 * JSON values with lone surrogate escapes are repaired to U+FFFD; JSON nested past MAX_JSON_DEPTH is
 * clipped. Each change is reported. Rows are changed in place (the caller's stamped copies).
 * @example const { rows, changes } = sanitizeRows("my_tool_events", columns, stamped)
 */
export function sanitizeRows(table: string, columns: readonly ColumnInfo[], rows: Record<string, unknown>[]): SanitizeResult {
  const changes: string[] = [];
  const checks = columns.map((c) => {
    const json = c.type === "JSON";
    const type = TYPES[c.type];
    return { ...c, json, plan: type ? planColumn(c.name, type, false) : null, text: c.type === "VARCHAR" };
  });
  const kept: Record<string, unknown>[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let drop: string | null = null;
    for (const c of checks) {
      const v = row[c.name];
      if (v === null || v === undefined) {
        if (!c.nullable) drop = `${c.name} is missing`;
        continue;
      }
      if (c.json) {
        const s = stringifyJson(v);
        if (s === undefined) {
          if (!c.nullable) drop = `${c.name}: ${preview(v)} is not JSON`;
          else changes.push(`${table}.${c.name}: ${preview(v)} is not JSON; stored as null (row ${i + 1})`);
          row[c.name] = null;
          continue;
        }
        if (s.text.length > MAX_VALUE_BYTES / 3 && textBytes(s.text) > MAX_VALUE_BYTES) {
          if (!c.nullable) drop = `${c.name}: ${tooLarge(s.text)}`;
          else changes.push(`${table}.${c.name}: ${tooLarge(s.text)}; stored as null (row ${i + 1})`);
          row[c.name] = null;
          continue;
        }
        const text = repairJsonText(s.text);
        if (text !== s.text) changes.push(`${table}.${c.name}: lone UTF-16 surrogates replaced by U+FFFD (row ${i + 1})`);
        if (s.clipped) changes.push(`${table}.${c.name}: nested deeper than ${MAX_JSON_DEPTH} levels or not plain JSON; clipped (row ${i + 1})`);
        row[c.name] = text;
        continue;
      }
      if (c.text && typeof v === "string") {
        if (v.length > MAX_VALUE_BYTES / 3 && textBytes(v) > MAX_VALUE_BYTES) {
          row[c.name] = cutToBytes(v, MAX_VALUE_BYTES);
          changes.push(`${table}.${c.name}: ${tooLarge(v)}; cut there (row ${i + 1})`);
        } else if (!v.isWellFormed()) {
          row[c.name] = v.toWellFormed();
          changes.push(`${table}.${c.name}: lone UTF-16 surrogates replaced by U+FFFD (row ${i + 1})`);
        }
        continue;
      }
      if (!c.plan) continue;
      const out = c.plan.convert(v);
      if (out !== undefined) continue;
      if (!c.nullable) {
        drop = `${c.name}: ${preview(v)} does not fit ${c.type}`;
        continue;
      }
      changes.push(`${table}.${c.name}: ${preview(v)} does not fit ${c.type}; stored as null (row ${i + 1})`);
      row[c.name] = null;
    }
    if (drop === null) kept.push(row);
    else changes.push(`${table}: row ${i + 1} dropped (${drop}, and the column is required)`);
  }
  fitBudget(table, checks, kept, changes);
  return { rows: kept, changes, dropped: rows.length - kept.length };
}

/** The most UTF-8 one value may hold (4 MiB): DuckDB's JSON cast of one needs several times that in memory. */
export const MAX_VALUE_BYTES = 4 * 1024 * 1024;
/** The text one batch of a table may hold (48 MiB of UTF-8) before its largest values give way. */
export const MAX_BATCH_BYTES = 48 * 1024 * 1024;
/** Values this small are never given up for the batch's budget. */
const KEEP_BYTES = 64 * 1024;

/** UTF-8 bytes of a text (its length when short: a small string's error does not matter). */
export const textBytes = (s: string) => (s.length < 1024 ? s.length : Buffer.byteLength(s, "utf8"));

/** The longest start of `s` that fits in `max` bytes of UTF-8, cut between characters. */
function cutToBytes(s: string, max: number): string {
  const { read } = new TextEncoder().encodeInto(s, new Uint8Array(max));
  return s.slice(0, read).toWellFormed();
}

const tooLarge = (text: string) => `a value of ${textBytes(text)} bytes, more than the ${MAX_VALUE_BYTES / 1024 / 1024} MiB a value may hold`;

/** Bytes a row's values take (text as UTF-8, 16 for anything else): what a batch's memory is measured by. */
export function rowBytes(row: Record<string, unknown>): number {
  let n = 0;
  for (const k in row) {
    const v = row[k];
    n += typeof v === "string" ? textBytes(v) : 16;
  }
  return n;
}

/**
 * When a batch's rows hold more text than MAX_BATCH_BYTES (a big document copied into many rows'
 * raw_json, say), its largest optional text values are stored as null, largest first, until it fits:
 * the store keeps every row and the commit fits in memory.
 */
function fitBudget(table: string, columns: readonly { name: string; nullable: boolean; json: boolean; text: boolean }[], rows: Record<string, unknown>[], changes: string[]) {
  let total = 0;
  for (const r of rows) total += rowBytes(r);
  if (total <= MAX_BATCH_BYTES) return;
  const big: { row: number; column: string; bytes: number }[] = [];
  rows.forEach((r, i) => {
    for (const c of columns) {
      const v = r[c.name];
      if (c.nullable && (c.json || c.text) && typeof v === "string" && v.length > KEEP_BYTES / 3 && textBytes(v) > KEEP_BYTES)
        big.push({ row: i, column: c.name, bytes: textBytes(v) });
    }
  });
  big.sort((a, b) => b.bytes - a.bytes);
  for (const b of big) {
    if (total <= MAX_BATCH_BYTES) break;
    rows[b.row]![b.column] = null;
    total -= b.bytes;
    changes.push(`${table}.${b.column}: a value of ${b.bytes} bytes in a batch of more than ${MAX_BATCH_BYTES / 1024 / 1024} MiB; stored as null (row ${b.row + 1} kept)`);
  }
}
