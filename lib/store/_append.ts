import duckdb from "@duckdb/node-bindings";
import { DuckDBDataChunk, DuckDBListValue, type DuckDBType, type DuckDBValue } from "@duckdb/node-api";
import type { ColumnPlan } from "./_values.ts";

// The appender's hot path. node-api's per-value setters cost a call (and for strings a native
// call) per value; here each vector is filled as one typed array and copied in once. Strings of
// up to 12 bytes are written inline as DuckDB's duckdb_string_t (uint32 length + 12 bytes, the
// C API's layout); longer ones are assigned one by one.

const INLINE = 12;
const encoder = new TextEncoder();

/** Raised by `fillChunk` for a value that cannot be its column's type. */
export class BadValue extends Error {
  constructor(
    readonly column: string,
    readonly value: unknown,
    readonly row: number,
  ) {
    super(`bad value in ${column}`);
  }
}

/** A data chunk of `n` rows (from `start`) of `rows`, laid out per the plans. */
export function fillChunk(plans: readonly ColumnPlan[], types: readonly DuckDBType[], rows: readonly Record<string, unknown>[], start: number, n: number): DuckDBDataChunk {
  const chunk = DuckDBDataChunk.create(types, n);
  const values = new Array<unknown>(n);
  for (let c = 0; c < plans.length; c++) {
    const plan = plans[c]!;
    const { name, convert } = plan;
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      const raw = rows[start + i]![name];
      const v = convert(raw);
      if (v === undefined) throw new BadValue(name, raw, start + i + 1);
      if (v === null) nulls++;
      values[i] = v;
    }
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
    const kind = plan.stage.kind;
    if (kind === "any") {
      const v = chunk.getColumnVector(c);
      for (let i = 0; i < n; i++) v.setItem(i, values[i] as DuckDBValue);
      v.flush();
      continue;
    }
    if (kind === "str") writeStrings(vector, values as (string | null)[], n);
    else {
      const arr = kind === "f64" ? new Float64Array(n) : kind === "i32" ? new Int32Array(n) : kind === "i64" ? new BigInt64Array(n) : new Uint8Array(n);
      if (nulls === 0) {
        if (kind === "bool") for (let i = 0; i < n; i++) arr[i] = values[i] ? 1 : 0;
        else (arr as Float64Array).set(values as number[]);
      } else {
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v !== null) (arr as Float64Array)[i] = kind === "bool" ? (v ? 1 : 0) : (v as number);
        }
      }
      duckdb.copy_data_to_vector(vector, 0, arr.buffer as ArrayBuffer, arr.byteOffset, arr.byteLength);
    }
    if (nulls > 0) writeValidity(vector, values, n);
  }
  return chunk;
}

/**
 * The rows as one list per stage column (what `fillChunk` would put in each vector), for a small
 * batch inserted from parameters: `SELECT unnest($1) AS a, unnest($2) AS b …` zips them back into rows.
 */
export function columnLists(plans: readonly ColumnPlan[], rows: readonly Record<string, unknown>[]): DuckDBListValue[] {
  return plans.map(({ name, convert }) => {
    const items = new Array<DuckDBValue>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const v = convert(rows[r]![name]);
      if (v === undefined) throw new BadValue(name, rows[r]![name], r + 1);
      items[r] = v as DuckDBValue;
    }
    return new DuckDBListValue(items);
  });
}

function writeValidity(vector: duckdb.Vector, values: readonly unknown[], n: number) {
  const bytes = new Uint8Array(Math.ceil(n / 64) * 8).fill(0xff);
  for (let i = 0; i < n; i++) if (values[i] === null) bytes[i >> 3]! &= ~(1 << (i & 7));
  duckdb.vector_ensure_validity_writable(vector);
  duckdb.copy_data_to_vector_validity(vector, 0, bytes.buffer, 0, bytes.byteLength);
}

function writeStrings(vector: duckdb.Vector, values: readonly (string | null)[], n: number) {
  const buf = new Uint8Array(n * 16);
  const view = new DataView(buf.buffer);
  const long: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = values[i];
    if (s === null || s === undefined) continue;
    const at = i * 16;
    if (s.length > INLINE) {
      long.push(i);
      continue;
    }
    let ascii = true;
    for (let k = 0; k < s.length; k++) {
      const code = s.charCodeAt(k);
      if (code > 0x7f) {
        ascii = false;
        break;
      }
      buf[at + 4 + k] = code;
    }
    if (ascii) {
      view.setUint32(at, s.length, true);
      continue;
    }
    const bytes = encoder.encode(s);
    if (bytes.length <= INLINE) {
      buf.fill(0, at + 4, at + 16);
      buf.set(bytes, at + 4);
      view.setUint32(at, bytes.length, true);
    } else {
      buf.fill(0, at + 4, at + 16);
      long.push(i);
    }
  }
  duckdb.copy_data_to_vector(vector, 0, buf.buffer, 0, buf.byteLength);
  for (const i of long) duckdb.vector_assign_string_element(vector, i, values[i]!);
}
