import type { AlertChange, AlertRow } from "./transition.ts";

// Suppression as one interface (Alertmanager's Muter): each kind of suppression is a small object
// that says whether, and why, a state change is not notified. The first mute in the chain wins.

/** Decides whether a state change is notified: the reason it is not (stored as suppressed_by), or null. */
export interface Muter {
  readonly name: string;
  mutes(change: AlertChange, now: Date): string | null;
}

/** A silence in force: label matchers, and when it ends (a time, or the matched alert resolving). */
export interface Silence {
  silence_id: string;
  matchers: Record<string, string>;
  ends_at: string | null;
  until_resolved: boolean;
}

/** True when every matcher matches (`rule` matches the rule id; `*` is a wildcard). */
export function silenceMatches(matchers: Record<string, string>, ruleId: string, labels: Record<string, string>): boolean {
  return Object.entries(matchers).every(([k, pattern]) => {
    const actual = k === "rule" || k === "alertname" ? ruleId : labels[k];
    if (actual === undefined) return false;
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, ".*")}$`);
    return re.test(actual);
  });
}

/** Mutes what a silence matches, until it ends: `silence:<id>`. */
export function silenceMuter(silences: readonly Silence[]): Muter {
  return {
    name: "silence",
    mutes({ event }, now) {
      const s = silences.find((x) => (x.ends_at === null || Date.parse(x.ends_at) > now.getTime()) && silenceMatches(x.matchers, event.rule, event.labels));
      return s ? `silence:${s.silence_id}` : null;
    },
  };
}

/** Mutes a machine's other alerts while an alert of an inhibiting rule (machine unreachable) fires for it: `inhibited:<alert>`. */
export function inhibitionMuter(alerts: Iterable<AlertRow>, inhibitingRules: ReadonlySet<string>): Muter {
  const inhibitors = new Map<string, string>();
  for (const a of alerts) if (a.state === "firing" && a.machine_id && inhibitingRules.has(a.rule_id)) inhibitors.set(a.machine_id, a.alert_id);
  return {
    name: "inhibition",
    mutes({ event }) {
      const inhibitor = event.machine_id ? inhibitors.get(event.machine_id) : undefined;
      return inhibitor && inhibitor !== event.alert_id ? `inhibited:${inhibitor}` : null;
    },
  };
}

/** Mutes every change of a flapping alert but the one that says it flaps. */
export const flappingMuter: Muter = {
  name: "flapping",
  mutes: ({ event, row }) => (row.flapping && event.event !== "flapping" ? "flapping" : null),
};

/** Mutes a rise in severity of an acknowledged alert (someone is on it). */
export const ackMuter: Muter = {
  name: "ack",
  mutes: ({ event, row }) => (row.acked_by && event.event === "escalated" ? "acked" : null),
};

/** The first mute's reason in the chain, or null: notify. */
export function firstMute(chain: readonly Muter[], change: AlertChange, now: Date): string | null {
  for (const m of chain) {
    const reason = m.mutes(change, now);
    if (reason !== null) return reason;
  }
  return null;
}
