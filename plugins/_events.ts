// What the bundled plugins' event sources share: the query's window and machine filter as SQL, a
// value as text for a title, and a source made of one query.
import { defineEventSource, sql, type EventQuery, type EventSource, type SqlQuery, type VcEvent } from "vibe-cockpit";

/** `column` inside the query's window: after `from`, at or before `to`. */
export function inWindow(column: string, q: EventQuery): SqlQuery {
  const c = sql.identifier(column);
  return sql`${c} > ${q.from}::TIMESTAMP AND ${c} <= ${q.to}::TIMESTAMP`;
}

/** The machine filter, by substring of the id as the filter bar matches machines (` AND …`, or nothing). */
export const onMachine = (q: EventQuery): SqlQuery => (q.machine ? sql` AND contains(lower(machine_id), ${q.machine.toLowerCase()})` : sql``);

/** A value as text in a title ("" for none). */
export const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));

/** A row of an event source's query. */
export type EventRow = Record<string, unknown>;

/** An event source that is one query: its rows, each made an event stamped with the source's name and group. */
export interface QuerySourceOptions {
  name: string;
  group: string;
  scope: EventSource["scope"];
  /** The query for `q`; null when the source has nothing to say about it (a repo without a path …). */
  query(q: EventQuery): SqlQuery | null;
  event(row: EventRow, q: EventQuery): Omit<VcEvent, "source" | "group">;
  /** Its new events as typed `vc watch` lines (see EventSource.watchLine). */
  watchLine?: EventSource["watchLine"];
}

/** Declares an event source made of one query (see QuerySourceOptions). */
export function queryEventSource(o: QuerySourceOptions): EventSource {
  return defineEventSource({
    name: o.name,
    group: o.group,
    scope: o.scope,
    ...(o.watchLine ? { watchLine: o.watchLine } : {}),
    async load(q) {
      const query = o.query(q);
      if (!query) return [];
      const rows = await q.store.query<EventRow>(query);
      return rows.map((r) => {
        const { key, ...rest } = o.event(r, q);
        return { key, source: o.name, group: o.group, ...rest };
      });
    },
  });
}
