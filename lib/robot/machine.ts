import { errorMessage, isMissingTable, VcError } from "../errors.ts";
import { realFilesystemSql } from "../health/filesystems.ts";
import { collectorStatesAt } from "../collect/state.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";

/** What a section of `vc robot machine <id>` is asked. */
export interface MachineQuery {
  store: Store;
  machineId: string;
  /** ISO time: rows after it are not seen (a pinned clock replays the past). */
  at: string;
}

/** One part of the machine view: a name and a loader. Sections for more data append to the list. */
export interface MachineSection {
  name: string;
  load(q: MachineQuery): Promise<unknown>;
}

/** What a column of the fleet table is asked: every machine at once (one query, not one per machine). */
export interface ColumnQuery {
  store: Store;
  machineIds: readonly string[];
  /** ISO time: rows after it are not seen. */
  at: string;
}

/**
 * A plugin's column in the fleet table (`vc robot fleet`, the TUI's machine lists): a number or
 * a short text per machine ("agents": 12). Machines it has nothing for are left out of the map.
 */
export interface MachineColumn {
  /** Its key in each row's `columns` ("agents"). */
  name: string;
  /** The header a table shows ("AGENTS"). */
  title: string;
  /** What the value is: a count, a percent, or free text (how a table aligns and formats it). */
  unit: "count" | "percent" | "text";
  load(q: ColumnQuery): Promise<Record<string, number | string | null>>;
}

const latestSample = (q: MachineQuery) =>
  q.store.query(
    sql`SELECT * EXCLUDE (raw_json) FROM sys_samples WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP
        ORDER BY collected_at DESC, source LIMIT 1`,
  );

/** The sections every store has (vc's core tables). */
export const coreSections: MachineSection[] = [
  { name: "system", load: async (q) => (await latestSample(q))[0] ?? null },
  {
    name: "filesystems",
    async load(q) {
      return q.store.query(sql`SELECT mount, filesystem, fs_type, size_bytes, used_bytes, avail_bytes, used_pct FROM filesystems
        WHERE machine_id = ${q.machineId} AND collected_at = (SELECT max(collected_at) FROM filesystems WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP)
          AND ${realFilesystemSql()}
        ORDER BY mount`);
    },
  },
  {
    name: "collectors",
    load: async (q) =>
      (await collectorStatesAt(q.store, q.at, q.machineId))
        .sort((a, b) => a.collector.localeCompare(b.collector))
        .map(({ machine_id: _m, ...r }) => ({ ...r, staleness_s: r.last_ok_at === null ? null : Math.round((Date.parse(q.at) - Date.parse(r.last_ok_at)) / 1000) })),
  },
  {
    name: "tools",
    load: (q) => q.store.query(sql`SELECT tool_name, available, path, version, checked_at FROM machine_tool_capabilities WHERE machine_id = ${q.machineId} ORDER BY tool_name`),
  },
];

/** A section that failed for another reason than a missing table: its data reads null, its error is said. */
export interface SectionError {
  section: string;
  error: string;
}

/**
 * Every section, by name, and the sections that failed: one whose tables are missing (an older
 * store) reads as null quietly; any other failure reads as null and is listed in `errors`.
 */
export async function loadMachineSectionsReport(sections: readonly MachineSection[], q: MachineQuery): Promise<{ sections: Record<string, unknown>; errors: SectionError[] }> {
  const out: Record<string, unknown> = {};
  const errors: SectionError[] = [];
  for (const s of sections) {
    out[s.name] = await s.load(q).catch((err: unknown) => {
      if (!isMissingTable(err)) errors.push({ section: s.name, error: errorMessage(err) });
      return null;
    });
  }
  return { sections: out, errors };
}

/** Every section, by name; a section whose tables are missing (an older store) reads as null, any other failure throws. */
export async function loadMachineSections(sections: readonly MachineSection[], q: MachineQuery): Promise<Record<string, unknown>> {
  const { sections: out, errors } = await loadMachineSectionsReport(sections, q);
  const [first] = errors;
  if (first) throw new VcError("query_failed", `machine section ${first.section} failed: ${first.error}`, { machine: q.machineId, details: { errors } });
  return out;
}
