// An incident's window cycle by cycle, as the fleet's snapshots kept it (plan §5.4 time travel):
// at each snapshot, the fleet's health, the involved machines' health and factors, the firing alerts.
import { healthAt } from "../cycle.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import type { Incident } from "./read.ts";

/** One machine at one step. */
export interface ReplayMachine {
  id: string;
  score: number | null;
  severity: string | null;
  top_issue: string | null;
  /** Its factors as snapshotted (id, score, severity). */
  factors: { id: string; score: number; severity: string }[];
}

/** The fleet at one snapshot of the incident's window. */
export interface ReplayStep {
  at: string;
  fleet: { score: number; severity: string };
  /** The incident's machines. */
  machines: ReplayMachine[];
  /** The alerts firing then; `in_incident` marks the incident's own. */
  firing: { alert_id: string; rule: string; machine_id: string | null; severity: string; in_incident: boolean }[];
}

/** Steps at most (a window of a day polled every 2 min is 720). */
const MAX_STEPS = 1000;

interface SnapshotMachine {
  id: string;
  score: number;
  severity: string;
  top_issue: string | null;
}
interface MachineSummary {
  score: number;
  severity: string;
  top_issue: string | null;
  factors: { id: string; score: number; severity: string }[];
}

/**
 * The steps of a window: one per fleet or machine snapshot in it, starting from the state it opened
 * with (the latest snapshot at or before `from`). Each step's fleet comes from `healthAt`.
 */
export async function replaySteps(store: Store, inc: Pick<Incident, "machines" | "alerts">, o: { from: string; to: string }): Promise<ReplayStep[]> {
  const { machines } = inc;
  const mine = machines.length ? sql`machine_id IN (${sql.join(machines.map((m) => sql`${m}`))})` : sql`false`;
  const times = await store.query<{ t: string }>(
    sql`SELECT t FROM (
          SELECT collected_at AS t FROM fleet_state_snapshots WHERE collected_at > ${o.from}::TIMESTAMP AND collected_at <= ${o.to}::TIMESTAMP
          UNION SELECT collected_at FROM machine_state_snapshots WHERE ${mine} AND collected_at > ${o.from}::TIMESTAMP AND collected_at <= ${o.to}::TIMESTAMP
          UNION SELECT max(collected_at) FROM fleet_state_snapshots WHERE collected_at <= ${o.from}::TIMESTAMP)
        WHERE t IS NOT NULL ORDER BY t LIMIT ${MAX_STEPS}`,
  );
  if (times.length === 0) return [];
  const snaps = await store.query<{ machine_id: string; collected_at: string; summary_json: string }>(
    sql`SELECT machine_id, collected_at, summary_json FROM machine_state_snapshots
        WHERE ${mine} AND collected_at <= ${o.to}::TIMESTAMP AND collected_at >= ${times[0]!.t}::TIMESTAMP
        UNION ALL
        (SELECT machine_id, collected_at, summary_json FROM machine_state_snapshots WHERE ${mine} AND collected_at < ${times[0]!.t}::TIMESTAMP
         QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1)
        ORDER BY collected_at`,
  );
  const parsed = snaps.map((s) => ({ machine_id: s.machine_id, at: s.collected_at, summary: JSON.parse(s.summary_json) as MachineSummary }));
  const own = new Set(inc.alerts.map((a) => a.alert_id));
  const steps: ReplayStep[] = [];
  for (const { t } of times) {
    const h = await healthAt(store, new Date(t));
    if (!h) continue;
    const fleetMachines = h.summary.machines as SnapshotMachine[];
    steps.push({
      at: t,
      fleet: { score: h.summary.overall.score, severity: h.summary.overall.severity },
      machines: machines.map((id) => {
        const m = parsed.filter((s) => s.machine_id === id && s.at <= t).at(-1)?.summary;
        const f = fleetMachines.find((x) => x.id === id);
        return {
          id,
          score: m?.score ?? f?.score ?? null,
          severity: m?.severity ?? f?.severity ?? null,
          top_issue: m?.top_issue ?? f?.top_issue ?? null,
          factors: m?.factors ?? [],
        };
      }),
      firing: (h.summary.firing as { alert_id: string; rule: string; machine_id: string | null; severity: string }[]).map((a) => ({ ...a, in_incident: own.has(a.alert_id) })),
    });
  }
  return steps;
}
