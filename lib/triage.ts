import type { AlertView } from "./alerts/ops.ts";
import type { FleetHealth, HealthFactor, Severity } from "./health/index.ts";
import type { Rule } from "./rules/define.ts";

/**
 * One thing to do next, and why (plan §7.3 `vc robot triage`). Flat on purpose: a list of these
 * is a table in TOON. Its suggested commands are in the triage's `suggestions`, by item id.
 */
export interface TriageItem {
  rank: number;
  score: number;
  /** A firing alert (with the health factor it is about, when its machine has that factor unhealthy), or an unhealthy factor alone. */
  kind: "alert" | "health";
  id: string;
  /** The worse of the alert's and its factor's. */
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
  /** The machine's unhealthy health factor this item stands for (the worst, when an alert is about several); null for an alert about something else. */
  factor: string | null;
  factor_severity: string | null;
  /** What the factor measured ("memory 95.8 % used"), each factor's when there are several. */
  factor_detail: string | null;
  /** The machine's health score (its worst factor's), null for an item about no machine. */
  machine_score: number | null;
}

/** Ranked items and, by item id, the commands to look or act with (suggest mode: nothing runs). */
export interface Triage {
  items: TriageItem[];
  suggestions: Record<string, { title: string; command?: string }[]>;
}

/** What to do about a health factor on a machine, by factor id (a plugin adds its tool's commands). */
export type FactorSuggestions = Record<string, (machineId: string) => { title: string; command?: string }[]>;

export interface TriageOptions {
  /** How many items (default 20). */
  limit?: number;
  /** The plugins' commands for their health factors, before vc's own. */
  suggestions?: readonly FactorSuggestions[];
  /** The configured rules: which health factors each is about (`Rule.factors`), so an alert and its factor are one item. */
  rules?: readonly Pick<Rule, "id" | "factors" | "waitsForPerson">[];
}

const WEIGHT: Record<string, number> = { critical: 100, high: 60, medium: 30, low: 10 };
/** Above any severity's weight plus its bonuses: a waiting agent outranks every other item (an ack or a silence still sinks it). */
const PERSON_FIRST = 200;
const ORDER: readonly string[] = ["ok", "low", "medium", "high", "critical"];
const worse = (a: string, b: string) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a);

// Suggestions for health factors that no alert rule covers.
const HEALTH_SUGGESTIONS: FactorSuggestions = {
  no_data: (m) => [
    { title: "Collect now", command: `vc collect --once --machine ${m}` },
    { title: "Check the machine", command: `vc machines probe ${m}` },
  ],
  stale_data: (m) => [
    { title: "Check the machine answers", command: `vc machines probe ${m}` },
    { title: "See which collectors fail", command: "vc doctor" },
  ],
  collector_failures: () => [{ title: "See which collectors fail and why", command: "vc doctor" }],
  disk: (m) => [{ title: "See the machine's filesystems", command: `vc robot machine ${m}` }],
  load: (m) => [{ title: "See top processes", command: `vc robot machine ${m}` }],
  cpu: (m) => [{ title: "See top processes", command: `vc robot machine ${m}` }],
  memory: (m) => [{ title: "See top processes", command: `vc robot machine ${m}` }],
  swap: (m) => [{ title: "See top processes", command: `vc robot machine ${m}` }],
};

type Suggestion = { title: string; command?: string };
type Draft = Omit<TriageItem, "rank"> & { suggested: Suggestion[]; factors: HealthFactor[] };

/** Unhealthy: medium or worse (a low factor is a note, not something to do). */
const unhealthy = (s: Severity) => s === "medium" || s === "high" || s === "critical";

/**
 * Ranks what needs attention: firing alerts and every unhealthy health factor of every machine,
 * by severity, recency and blast radius (how many machines share the problem); acked, silenced and
 * flapping ones sink. An alert whose rule is about a factor (`Rule.factors`) and that factor on the
 * alert's machine are one item with both as evidence; no alert hides another factor of its machine.
 */
export function triage(alerts: readonly AlertView[], health: FleetHealth, now: Date, options: TriageOptions = {}): Triage {
  const limit = options.limit ?? 20;
  const extra = options.suggestions ?? [];
  const factorsOf = new Map((options.rules ?? []).map((r) => [r.id, r.factors ?? []]));
  // An agent waiting for a person comes first: nothing else moves while it waits.
  const waiting = new Set((options.rules ?? []).filter((r) => r.waitsForPerson).map((r) => r.id));
  const suggest = (factor: string, m: string) => {
    const all = [...extra.flatMap((x) => x[factor]?.(m) ?? []), ...(HEALTH_SUGGESTIONS[factor]?.(m) ?? [])];
    return all.length ? all : [{ title: "See the machine", command: `vc robot machine ${m}` }];
  };
  const scoreOf = new Map(health.machines.map((m) => [m.id, m.score]));

  const firing = alerts.filter((a) => a.state === "firing");
  const radius = (rule: string) => new Set(firing.filter((a) => a.rule === rule).map((a) => a.machine_id)).size;
  const alertItems = firing.map((a): Draft & { rule: string; penalty: number } => {
    const ageMin = a.fired_at ? (now.getTime() - Date.parse(a.fired_at)) / 60_000 : 1e9;
    const blast = radius(a.rule);
    const penalty = (a.acked ? 50 : 0) + (a.silenced_by ? 70 : 0) + (a.flapping ? 15 : 0);
    return {
      rule: a.rule,
      penalty,
      score: (waiting.has(a.rule) ? PERSON_FIRST : 0) + (WEIGHT[a.severity] ?? 0) + (ageMin < 10 ? 20 : ageMin < 60 ? 10 : 0) + Math.min(30, 5 * (blast - 1)) - penalty,
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
      factor: null,
      factor_severity: null,
      factor_detail: null,
      machine_score: a.machine_id === null ? null : (scoreOf.get(a.machine_id) ?? null),
      suggested: [...a.actions],
      factors: [],
    };
  });

  const healthItems: Draft[] = [];
  for (const m of health.machines) {
    for (const f of m.factors) {
      if (!unhealthy(f.severity)) continue;
      const blast = health.machines.filter((x) => x.factors.some((y) => y.id === f.id && y.severity === f.severity)).length;
      const score = (WEIGHT[f.severity] ?? 0) - 5 + Math.min(30, 5 * (blast - 1));
      // The alert about this factor on this machine, the most pressing one when there are several.
      const about = alertItems.filter((a) => a.machine_id === m.id && factorsOf.get(a.rule)?.includes(f.id)).sort((a, b) => b.score - a.score || a.id.localeCompare(b.id))[0];
      if (about) {
        about.factors.push(f);
        about.score = Math.max(about.score, score - about.penalty);
        about.severity = worse(about.severity, f.severity);
        for (const s of suggest(f.id, m.id)) if (!about.suggested.some((x) => x.title === s.title || (s.command && x.command === s.command))) about.suggested.push(s);
        continue;
      }
      healthItems.push({
        score,
        kind: "health",
        id: `${m.id}:${f.id}`,
        severity: f.severity,
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
        factor: f.id,
        factor_severity: f.severity,
        factor_detail: f.detail,
        machine_score: m.score,
        suggested: suggest(f.id, m.id),
        factors: [f],
      });
    }
  }
  for (const a of alertItems) {
    if (a.factors.length === 0) continue;
    const fs = [...a.factors].sort((x, y) => x.score - y.score);
    a.factor = fs[0]!.id;
    a.factor_severity = fs[0]!.severity;
    a.factor_detail = fs.map((f) => f.detail).join("; ");
  }

  const items: Draft[] = [...alertItems.map(({ rule: _r, penalty: _p, ...x }) => x), ...healthItems];
  items.sort((a, b) => b.score - a.score || (WEIGHT[b.severity] ?? 0) - (WEIGHT[a.severity] ?? 0) || a.id.localeCompare(b.id));
  const top = items.slice(0, limit);
  return {
    items: top.map(({ suggested: _s, factors: _f, ...x }, i) => ({ rank: i + 1, ...x })),
    suggestions: Object.fromEntries(top.map((x) => [x.id, x.suggested])),
  };
}
