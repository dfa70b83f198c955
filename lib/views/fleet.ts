// `vc robot fleet`: the fleet table a person scans — one row per configured machine with the
// numbers that say what is wrong (load per core, memory, swap, the fullest disk, open alerts, the
// last poll) and a column from each plugin that has one. Read for all machines at once: a handful
// of queries, never one per machine.
import { errorMessage, isMissingTable } from "../errors.ts";
import { realFilesystemSql } from "../health/filesystems.ts";
import type { Severity } from "../health/index.ts";
import type { MachineColumn } from "../robot/machine.ts";
import { collectorStatesAt } from "../collect/state.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import { arg, defineView, type ViewResult } from "./define.ts";
import { ageS } from "./read.ts";

/** One machine's line in the fleet table. Percentages are 0–100; null where the store has nothing. */
export interface FleetRow {
  id: string;
  score: number;
  severity: Severity;
  /** The health factor that sets the score, or null when all is well. */
  top_issue: string | null;
  load5: number | null;
  cpu_cores: number | null;
  load_per_core: number | null;
  mem_pct: number | null;
  swap_pct: number | null;
  /** The fullest real filesystem (no tmpfs, cgroup, proc …) of the newest df. */
  disk_pct: number | null;
  disk_mount: string | null;
  /** Open alerts on the machine (pending and firing). */
  alerts: number;
  /** The newest successful collector run on it. */
  last_poll_at: string | null;
  poll_age_s: number | null;
  /** No successful run, or the newest is older than the stale limit (`stale_after_s`). */
  stale: boolean;
  /** Each plugin column's value, by its name (null: nothing there, or the column failed). */
  columns: Record<string, number | string | null>;
}

/** A plugin's column as a table shows it. */
export type FleetColumn = Pick<MachineColumn, "name" | "title" | "unit">;

export interface FleetData {
  machines: FleetRow[];
  columns: FleetColumn[];
  /** Columns whose load failed: their cells are null, the reason is here and in the warnings. */
  column_errors: { column: string; error: string }[];
  /** Seconds after which a machine's last poll counts as stale (polling interval × stale_after_intervals). */
  stale_after_s: number;
}

/** The newest system sample at or before `at` of each machine, with its figures as percentages. */
export interface LatestSample {
  machine_id: string;
  collected_at: string;
  cpu_total: number | null;
  load5: number | null;
  cpu_cores: number | null;
  load_per_core: number | null;
  mem_pct: number | null;
  swap_pct: number | null;
}

const inMachines = (ids: readonly string[], column = "machine_id") => sql`${sql.raw(column)} IN (${sql.join(ids.map((id) => sql`${id}`))})`;

/** Each machine's newest sys_samples row at or before `at` (one query for all of them). */
export function latestSamples(store: Store, ids: readonly string[], at: string): Promise<LatestSample[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return store.query<LatestSample>(sql`SELECT machine_id, collected_at, round(cpu_total, 2) AS cpu_total, load5, cpu_cores,
      round(load5 / nullif(cpu_cores, 0), 2) AS load_per_core,
      round(100.0 * mem_used_bytes / nullif(mem_total_bytes, 0), 2) AS mem_pct,
      round(100.0 * swap_used_bytes / nullif(swap_total_bytes, 0), 2) AS swap_pct
    FROM sys_samples WHERE ${inMachines(ids)} AND collected_at <= ${at}::TIMESTAMP
    QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC, source) = 1`);
}

/** Each machine's fullest real filesystem in its newest df at or before `at` (one query for all of them). */
export function fullestDisks(store: Store, ids: readonly string[], at: string): Promise<{ machine_id: string; mount: string; used_pct: number | null; collected_at: string }[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return store.query(sql`WITH latest AS (
      SELECT machine_id, max(collected_at) AS collected_at FROM filesystems WHERE ${inMachines(ids)} AND collected_at <= ${at}::TIMESTAMP GROUP BY machine_id)
    SELECT f.machine_id, f.mount, f.used_pct, f.collected_at FROM filesystems f JOIN latest l USING (machine_id, collected_at)
    WHERE ${realFilesystemSql("f")}
    QUALIFY row_number() OVER (PARTITION BY f.machine_id ORDER BY f.used_pct DESC NULLS LAST, f.mount) = 1`);
}

const cell = (v: unknown): number | string | null => (typeof v === "number" || typeof v === "string" ? v : typeof v === "bigint" ? Number(v) : null);

/** `vc robot fleet`: one row per configured machine, for the cockpit's machine table. */
export default defineView({
  name: "fleet",
  summary: "One row per machine: health, load per core, memory, swap, fullest disk, open alerts, last poll, and each plugin's columns (agents …)",
  args: { machine: arg.string("only machines whose id contains this text", { hint: "TEXT", max: 200 }) },
  async run(vc, { machine }): Promise<ViewResult<FleetData>> {
    const at = vc.clock.now().toISOString();
    const staleAfterS = vc.config.polling.interval_seconds * vc.config.polling.stale_after_intervals;
    const needle = machine?.toLowerCase();
    const ids = vc.config.machines.map((m) => m.id).filter((id) => !needle || id.toLowerCase().includes(needle));
    const specs = (vc.config.plugins ?? []).flatMap((p) => p.machineColumns ?? []);
    const columns = specs.map(({ name, title, unit }) => ({ name, title, unit }));
    if (ids.length === 0) {
      return {
        data: { machines: [], columns, column_errors: [], stale_after_s: staleAfterS },
        warnings: [`no machine id contains "${machine}" (machines: ${vc.config.machines.map((m) => m.id).join(", ") || "none configured"})`],
      };
    }
    const [health, samples, disks, alerts, polls, loaded] = await Promise.all([
      vc.health(),
      latestSamples(vc.store, ids, at),
      fullestDisks(vc.store, ids, at),
      // Open alerts as they stood at the clock's instant (the time machine reads them from their history).
      vc.alerts().then((list) => {
        const n = new Map<string, number>();
        for (const a of list) if (a.machine_id !== null && ids.includes(a.machine_id)) n.set(a.machine_id, (n.get(a.machine_id) ?? 0) + 1);
        return [...n].map(([machine_id, count]) => ({ machine_id, n: count }));
      }),
      collectorStatesAt(vc.store, at).then((states) => {
        const last = new Map<string, string>();
        for (const s of states) if (s.last_ok_at && ids.includes(s.machine_id) && (last.get(s.machine_id) ?? "") < s.last_ok_at) last.set(s.machine_id, s.last_ok_at);
        return [...last].map(([machine_id, last_ok_at]) => ({ machine_id, last_ok_at }));
      }),
      Promise.all(
        specs.map((c) =>
          c.load({ store: vc.store, machineIds: ids, at }).then(
            (values): { name: string; values: Record<string, unknown>; error: string | null } => ({ name: c.name, values, error: null }),
            (err: unknown) => ({ name: c.name, values: {} as Record<string, unknown>, error: isMissingTable(err) ? null : errorMessage(err) }),
          ),
        ),
      ),
    ]);
    const columnErrors = loaded.filter((c) => c.error !== null).map((c) => ({ column: c.name, error: c.error! }));
    const byId = <T extends { machine_id: string }>(rows: T[]) => new Map(rows.map((r) => [r.machine_id, r]));
    const [sampleOf, diskOf, alertsOf, pollOf] = [byId(samples), byId(disks), byId(alerts), byId(polls)];
    const rows = ids.map((id): FleetRow => {
      const h = health.machines.find((m) => m.id === id);
      const s = sampleOf.get(id);
      const d = diskOf.get(id);
      const lastPoll = pollOf.get(id)?.last_ok_at ?? null;
      const pollAge = lastPoll === null ? null : ageS(at, lastPoll);
      return {
        id,
        score: h?.score ?? 0,
        severity: h?.severity ?? "critical",
        top_issue: h?.top_issue ?? null,
        load5: s?.load5 ?? null,
        cpu_cores: s?.cpu_cores ?? null,
        load_per_core: s?.load_per_core ?? null,
        mem_pct: s?.mem_pct ?? null,
        swap_pct: s?.swap_pct ?? null,
        disk_pct: d?.used_pct ?? null,
        disk_mount: d?.mount ?? null,
        alerts: alertsOf.get(id)?.n ?? 0,
        last_poll_at: lastPoll,
        poll_age_s: pollAge,
        stale: pollAge === null || pollAge > staleAfterS,
        columns: Object.fromEntries(loaded.map((c) => [c.name, cell(c.values[id])])),
      };
    });
    return {
      data: { machines: rows, columns, column_errors: columnErrors, stale_after_s: staleAfterS },
      staleness: health.staleness,
      warnings: [...health.warnings, ...columnErrors.map((e) => `column ${e.column} failed: ${e.error}`)],
    };
  },
});
