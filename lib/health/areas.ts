import type { SqlQuery } from "../store/sql.ts";
import type { Store } from "../store/store.ts";

/** One area factor of one machine, before scoring. */
export interface AreaReading {
  value: number;
  detail: string;
}

/**
 * A health factor beyond the system sample, contributed by a plugin (`healthFactors`): read from
 * its tables as of `at` (only recent data). A store without the table or a machine without the
 * tool simply has no such factor.
 */
export interface AreaFactor {
  id: string;
  read(store: Store, at: string): Promise<Map<string, AreaReading>>;
  /** Score from 1 (fine) down. */
  score(value: number): number;
}

/** The ISO time `ms` before `at`. */
export const minus = (at: string, ms: number) => new Date(Date.parse(at) - ms).toISOString();

/** One reading per machine from a query with machine_id and value columns (rows without a value skipped). */
export async function readings(store: Store, q: SqlQuery, detail: (r: Record<string, unknown>) => string): Promise<Map<string, AreaReading>> {
  const rows = await store.query(q).catch(() => []);
  return new Map(rows.filter((r) => r.value !== null).map((r) => [String(r.machine_id), { value: Number(r.value), detail: detail(r) }]));
}

/** Linear from 1 at `good` to `floor` at `bad`. */
export const ramp = (good: number, bad: number, floor: number) => (v: number) => (v <= good ? 1 : v >= bad ? floor : 1 - ((v - good) / (bad - good)) * (1 - floor));
