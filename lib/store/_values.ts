import {
  VARCHAR,
  BIGINT,
  BOOLEAN,
  DOUBLE,
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

/**
 * A JS value made into what DuckDB's appender wants for a column of `type`.
 * Returns `undefined` when the value cannot be that type (the caller names table and column).
 */
export function toDuckDB(v: unknown, type: DuckDBType): DuckDBValue | undefined {
  if (v === null || v === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
      if (typeof v === "string") return v;
      if (typeof v === "object") return JSON.stringify(v);
      return String(v);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const ms = toEpochMs(v);
      if (ms === null || !Number.isFinite(ms)) return undefined;
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
      return Number.isInteger(n) ? n : undefined;
    }
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
      if (typeof v === "bigint") return v;
      if (typeof v === "number" && Number.isFinite(v)) return BigInt(Math.trunc(v));
      if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
      return undefined;
    case DuckDBTypeId.LIST:
      return Array.isArray(v) ? new DuckDBListValue(v.map((x) => (typeof x === "string" ? x : JSON.stringify(x)))) : undefined;
    default:
      return typeof v === "object" ? JSON.stringify(v) : (v as DuckDBValue);
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
        const t = typeof value === "string" ? Date.parse(value) : toEpochMs(value);
        return t === null || !Number.isFinite(t) ? undefined : t;
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
      convert(v) {
        if (v === null || v === undefined) return null;
        if (typeof v !== "string") return JSON.stringify(v);
        try {
          JSON.parse(v);
          return v;
        } catch {
          return undefined;
        }
      },
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
