// A collector run as it travels from `vc node` to the hub: its rows (stamped and fitted on the
// node, as a local run's are), the cursors it reached, its run record, and who sent it with which
// collector version. A run larger than the server's message limit travels in parts, rows split
// between them; the cursors and the record ride on the last part, so a hub that has committed
// every part has committed the run.
import type { PreparedRun, RunRecord } from "../collect/run.ts";
import type { Cursor } from "../cursor/index.ts";
import { VcError } from "../errors.ts";

export const BATCH_VERSION = 1;

export interface Batch {
  v: typeof BATCH_VERSION;
  /** `<machine>/<collector>/<run instant>`: JetStream's message id (with the part), the hub's key. */
  id: string;
  machine: string;
  collector: string;
  /** The node's collector version and schema version (a hub older than the node's schema parks the batch). */
  source_version: string;
  schema_version: number;
  /** vc's version on the node. */
  vc_version: string;
  /** The run's instant (its rows' collected_at). */
  at: string;
  part: number;
  parts: number;
  rows: Record<string, Record<string, unknown>[]>;
  /** On the last part only. */
  cursors?: Record<string, Cursor>;
  record?: RunRecord;
}

/** JSON with bigints as strings (DuckDB hands some out) and Dates as ISO strings. */
const encode = (b: Batch) => new TextEncoder().encode(JSON.stringify(b, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));

/** Bytes a part may take: the server's limit, less room for the headers JetStream adds. */
const room = (maxPayload: number) => maxPayload - 1024;

/**
 * A prepared run as the parts that carry it, each within `maxPayload` bytes. Rows are halved
 * between parts until each fits; a single row larger than the limit is refused (payload_too_large,
 * naming the table and the sizes), never cut.
 */
export function toBatches(run: PreparedRun, o: { vcVersion: string; maxPayload: number }): { id: string; data: Uint8Array }[] {
  const head = {
    v: BATCH_VERSION,
    id: `${run.record.machine}/${run.collector.name}/${run.now.toISOString()}`,
    machine: run.record.machine,
    collector: run.collector.name,
    source_version: run.collector.version,
    schema_version: run.collector.schemaVersion,
    vc_version: o.vcVersion,
    at: run.now.toISOString(),
  } as const;
  const tail = { cursors: run.cursors as Record<string, Cursor>, record: run.record };
  const whole = encode({ ...head, part: 1, parts: 1, rows: run.batches as Batch["rows"], ...tail });
  if (whole.byteLength <= room(o.maxPayload)) return [{ id: `${head.id}#1`, data: whole }];
  // Row chunks, each small enough alone, in table order.
  const chunks: Batch["rows"][] = [];
  const split = (table: string, rows: Record<string, unknown>[]) => {
    const size = encode({ ...head, part: 1, parts: 1, rows: { [table]: rows } }).byteLength;
    if (size <= room(o.maxPayload) / 2 || rows.length === 1) {
      if (size > room(o.maxPayload))
        throw new VcError("payload_too_large", `one row of ${table} from ${run.collector.name} on ${run.record.machine} is ${size} bytes; the NATS server takes ${o.maxPayload}`, {
          hint: "raise max_payload in nats-server's config, or have the collector keep less in that row",
        });
      chunks.push({ [table]: rows });
      return;
    }
    const mid = Math.ceil(rows.length / 2);
    split(table, rows.slice(0, mid));
    split(table, rows.slice(mid));
  };
  for (const [table, rows] of Object.entries(run.batches)) if (rows.length > 0) split(table, rows as Record<string, unknown>[]);
  // Chunks packed into as few parts as fit; the last part carries the cursors and the record.
  const parts: Batch["rows"][] = [];
  let current: Batch["rows"] = {};
  const sizeOf = (rows: Batch["rows"], last: boolean) => encode({ ...head, part: 1, parts: 1, rows, ...(last ? tail : {}) }).byteLength;
  for (const c of chunks) {
    const merged: Batch["rows"] = { ...current };
    for (const [t, r] of Object.entries(c)) merged[t] = [...(merged[t] ?? []), ...r];
    if (Object.keys(current).length > 0 && sizeOf(merged, true) > room(o.maxPayload)) {
      parts.push(current);
      current = c;
    } else current = merged;
  }
  parts.push(current);
  return parts.map((rows, i) => {
    const last = i === parts.length - 1;
    return { id: `${head.id}#${i + 1}`, data: encode({ ...head, part: i + 1, parts: parts.length, rows, ...(last ? tail : {}) }) };
  });
}

/** A message's batch, or the reason it is none (the hub parks it with that reason). */
export function parseBatch(data: Uint8Array): Batch | { invalid: string } {
  let x: Partial<Batch>;
  try {
    x = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { invalid: "not JSON" };
  }
  if (!x || typeof x !== "object") return { invalid: "not a batch object" };
  if (x.v !== BATCH_VERSION) return { invalid: `batch format ${String(x.v)}; this hub reads format ${BATCH_VERSION}` };
  for (const k of ["id", "machine", "collector", "source_version", "at", "vc_version"] as const) if (typeof x[k] !== "string" || !x[k]) return { invalid: `no ${k}` };
  if (typeof x.schema_version !== "number" || typeof x.part !== "number" || typeof x.parts !== "number") return { invalid: "no schema_version, part or parts" };
  if (!x.rows || typeof x.rows !== "object") return { invalid: "no rows" };
  for (const [t, r] of Object.entries(x.rows)) if (!Array.isArray(r)) return { invalid: `rows of ${t} are not a list` };
  if (x.part === x.parts && (!x.record || typeof x.record !== "object")) return { invalid: "the last part has no run record" };
  return x as Batch;
}
