// Helpers for views and machine sections: the latest rows per key at or before an instant, ages,
// JSON columns. Tool-agnostic: plugins pass their own table names.
import { sql, type SqlQuery } from "../store/sql.ts";
import type { MachineQuery } from "../robot/machine.ts";
import type { VcConfig } from "../config/define.ts";
import { VcError } from "../errors.ts";
import { closest } from "../spell.ts";

/**
 * A view's `--machine` argument must name a machine of the config: `not_found` otherwise, with the
 * closest id and the known ones (a typo must not answer "nothing" silently).
 */
export function requireMachine(config: Pick<VcConfig, "machines" | "source">, machine: string): void {
  const known = config.machines.map((m) => m.id);
  if (known.includes(machine)) return;
  const near = closest(machine, known);
  throw new VcError("not_found", `no machine "${machine}" in ${config.source}`, {
    hint: `${near ? `did you mean ${near}? ` : ""}known machines: ${known.join(", ") || "none"}`,
    details: { machine, closest: near ?? null },
  });
}

/** Seconds from `t` to `at` (never negative). */
export const ageS = (at: string, t: string) => Math.max(0, Math.round((Date.parse(at) - Date.parse(t)) / 1000));
/** Seconds from `at` until `t` (negative once past), null without a time. */
export const untilS = (at: string, t: string | null) => (t ? Math.round((Date.parse(t) - Date.parse(at)) / 1000) : null);

/** A JSON column's value, parsed; text that is not JSON stays as it is. */
export const parseJson = (v: unknown) => {
  if (typeof v !== "string") return v ?? null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};
/** The row with the named JSON columns parsed. */
export const withJson = <T extends Record<string, unknown>>(row: T, columns: string[]) => {
  const out: Record<string, unknown> = { ...row };
  for (const c of columns) if (c in out) out[c] = parseJson(out[c]);
  return out;
};

/** Rows of `table` from the latest collection per `keys` at or before `at` (and of one machine). */
export function latestPer(table: string, keys: string[], at: string, machineId: string | undefined, columns: string): SqlQuery {
  const by = keys.map((k) => `"${k}"`).join(", ");
  const mine = machineId === undefined ? sql`` : sql` AND machine_id = ${machineId}`;
  return sql`WITH latest AS (
      SELECT ${sql.raw(by)}, max(collected_at) AS collected_at FROM ${sql.identifier(table)}
      WHERE collected_at <= ${at}::TIMESTAMP${mine} GROUP BY ${sql.raw(by)})
    SELECT ${sql.raw(columns)} FROM ${sql.identifier(table)} t JOIN latest l USING (${sql.raw(by)}, collected_at)
    ORDER BY ${sql.raw(by)}`;
}

/** The machine's latest collection time in `table` at or before the view's instant, as a subquery. */
export const latestAt = (table: string, q: MachineQuery) =>
  sql`(SELECT max(collected_at) FROM ${sql.identifier(table)} WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP)`;

/** Whether the machine has any row in `table` by the view's instant. */
export async function hasRows(q: MachineQuery, table: string): Promise<boolean> {
  const rows = await q.store.query(sql`SELECT 1 AS x FROM ${sql.identifier(table)} WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP LIMIT 1`);
  return rows.length > 0;
}
