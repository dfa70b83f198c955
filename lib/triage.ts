import type { AlertView } from "./alerts/ops.ts";
import type { FleetHealth } from "./health/index.ts";

/**
 * One thing to do next, and why (plan §7.3 `vc robot triage`). Flat on purpose: a list of these
 * is a table in TOON. Its suggested commands are in the triage's `suggestions`, by item id.
 */
export interface TriageItem {
  rank: number;
  score: number;
  kind: "alert" | "health";
  id: string;
  severity: string;
  title: string;
  machine_id: string | null;
  /** Why: the finding behind it. */
  message: string;
  expected: string | null;
  received: string | null;
  since: string | null;
  /** Machines with the same problem right now. */
  blast_radius: number;
  acked: boolean;
  silenced: boolean;
  flapping: boolean;
}

/** Ranked items and, by item id, the commands to look or act with (suggest mode: nothing runs). */
export interface Triage {
  items: TriageItem[];
  suggestions: Record<string, { title: string; command?: string }[]>;
}

const WEIGHT: Record<string, number> = { critical: 100, high: 60, medium: 30, low: 10 };

/** What to do about a health factor on a machine, by factor id (a plugin adds its tool's commands). */
export type FactorSuggestions = Record<string, (machineId: string) => { title: string; command?: string }[]>;

// Suggestions for health factors that no alert rule covers.
const HEALTH_SUGGESTIONS: Record<string, (m: string) => { title: string; command?: string }[]> = {
  no_data: (m) => [{ title: "Collect now", command: `vc collect --once --machine ${m}` }, { title: "Check the machine", command: `vc machines probe ${m}` }],
  stale_data: (m) => [{ title: "Check the machine answers", command: `vc machines probe ${m}` }, { title: "See which collectors fail", command: "vc doctor" }],
  collector_failures: () => [{ title: "See which collectors fail and why", command: "vc doctor" }],
  disk: (m) => [{ title: "See the machine's filesystems", command: `vc robot machine ${m}` }],
  load: (m) => [{ title: "See top processes", command: `vc robot machine ${m}` }],
  cpu: (m) => [{ title: "See top processes", command: `vc robot machine ${m}` }],
  memory: (m) => [{ title: "See top processes", command: `vc robot machine ${m}` }],
  swap: (m) => [{ title: "See top processes", command: `vc robot machine ${m}` }],
};

/**
 * Ranks what needs attention: firing alerts and unhealthy factors, by severity, recency and blast
 * radius (how many machines share the problem); acked, silenced and flapping ones sink.
 */
export function triage(alerts: readonly AlertView[], health: FleetHealth, now: Date, limit = 20, extra: readonly FactorSuggestions[] = []): Triage {
  const suggest = (factor: string, m: string) => {
    const all = [...extra.flatMap((x) => x[factor]?.(m) ?? []), ...(HEALTH_SUGGESTIONS[factor]?.(m) ?? [])];
    return all.length ? all : [{ title: "See the machine", command: `vc robot machine ${m}` }];
  };
  const items: (Omit<TriageItem, "rank"> & { suggested: { title: string; command?: string }[] })[] = [];
  const firing = alerts.filter((a) => a.state === "firing");
  const radius = (rule: string) => new Set(firing.filter((a) => a.rule === rule).map((a) => a.machine_id)).size;
  for (const a of firing) {
    const ageMin = a.fired_at ? (now.getTime() - Date.parse(a.fired_at)) / 60_000 : 1e9;
    const blast = radius(a.rule);
    const score =
      (WEIGHT[a.severity] ?? 0) + (ageMin < 10 ? 20 : ageMin < 60 ? 10 : 0) + Math.min(30, 5 * (blast - 1)) - (a.acked ? 50 : 0) - (a.silenced_by ? 70 : 0) - (a.flapping ? 15 : 0);
    items.push({
      score,
      kind: "alert",
      id: a.alert_id,
      severity: a.severity,
      title: a.title ?? a.rule,
      machine_id: a.machine_id,
      message: a.message ?? "",
      expected: a.expected,
      received: a.received,
      since: a.fired_at,
      blast_radius: blast,
      acked: Boolean(a.acked),
      silenced: Boolean(a.silenced_by),
      flapping: a.flapping,
      suggested: a.actions,
    });
  }
  const alerted = new Set(firing.map((a) => a.machine_id));
  for (const m of health.machines) {
    for (const f of m.factors) {
      if (f.severity === "ok" || f.severity === "low") continue;
      // A machine already alerting is represented by its alerts, unless its data is missing or stale.
      if (alerted.has(m.id) && f.id !== "no_data" && f.id !== "stale_data") continue;
      const sev = f.severity === "critical" ? "critical" : f.severity === "high" ? "high" : "medium";
      const blast = health.machines.filter((x) => x.factors.some((y) => y.id === f.id && y.severity === f.severity)).length;
      items.push({
        score: (WEIGHT[sev] ?? 0) - 5 + Math.min(30, 5 * (blast - 1)),
        kind: "health",
        id: `${m.id}:${f.id}`,
        severity: sev,
        title: f.id.replaceAll("_", " "),
        machine_id: m.id,
        message: f.detail,
        expected: null,
        received: f.value === null ? null : String(f.value),
        since: m.last_sample_at,
        blast_radius: blast,
        acked: false,
        silenced: false,
        flapping: false,
        suggested: suggest(f.id, m.id),
      });
    }
  }
  items.sort((a, b) => b.score - a.score || (WEIGHT[b.severity] ?? 0) - (WEIGHT[a.severity] ?? 0) || a.id.localeCompare(b.id));
  const top = items.slice(0, limit);
  return {
    items: top.map(({ suggested: _s, ...x }, i) => ({ rank: i + 1, ...x })),
    suggestions: Object.fromEntries(top.map((x) => [x.id, x.suggested])),
  };
}
