import { newId } from "../_id.ts";
import { parseDuration, type Rule } from "../rules/define.ts";
import type { Finding, RuleResult } from "../rules/evaluate.ts";
import { ackMuter, firstMute, flappingMuter, inhibitionMuter, silenceMuter, type Muter, type Silence } from "./mutes.ts";

// The alert state machine, pure: previous rows and one evaluation's findings in, the rows to store,
// their history and the notifications out. Reading and writing the store is persist.ts's job.

/** A change of an alert's state, as channels and `vc watch` receive it. */
export interface AlertEvent {
  type: "alert";
  /** firing (new or again), resolved, escalated (severity rose), flapping (changing state too often to notify each time). */
  event: "firing" | "resolved" | "escalated" | "flapping";
  event_id: string;
  alert_id: string;
  rule: string;
  severity: string;
  title: string;
  machine_id: string | null;
  labels: Record<string, string>;
  value: unknown;
  message: string;
  expected: string;
  received: string;
  actions: { title: string; command?: string }[];
  at: string;
  /** Why it was not notified (silence:<id>, inhibited:<alert>, flapping, acked), or null when it was. */
  suppressed_by: string | null;
}

/** An alert as stored. */
export interface AlertRow {
  alert_id: string;
  rule_id: string;
  machine_id: string | null;
  labels_json: string;
  severity: string;
  title: string | null;
  state: "pending" | "firing" | "resolved";
  first_seen_at: string;
  last_seen_at: string;
  pending_since: string | null;
  fired_at: string | null;
  resolved_at: string | null;
  value_json: string | null;
  message: string | null;
  expected: string | null;
  received: string | null;
  evidence_json: string | null;
  suggested_actions_json: string | null;
  acked_by: string | null;
  acked_at: string | null;
  ack_note: string | null;
  flapping: boolean;
  transitions_json: string | null;
}

/** One line of alert_history: a state change, whether it was notified, and if not, why. */
export interface AlertHistoryEntry {
  event_id: string;
  alert_id: string;
  ts: string;
  rule_id: string;
  machine_id: string | null;
  /** pending, inactive (gone before it fired), or an AlertEvent's event. */
  event: string;
  from_state: AlertRow["state"] | null;
  to_state: AlertRow["state"];
  value_json: string | null;
  message: string | null;
  notified: boolean;
  suppressed_by: string | null;
}

/** One notifiable state change: the event, the alert as it is after it (row.state), the state it left. */
export interface AlertChange {
  event: AlertEvent;
  row: AlertRow;
  from: AlertRow["state"] | null;
}

/** Something wrong with a rule's findings that did not stop its evaluation. */
export interface RuleWarning {
  rule: string;
  /** The label set concerned. */
  labels: Record<string, string>;
  warning: string;
}

/** How `transition` counts flapping, what silences and extra mutes it asks, how it names events. */
export interface TransitionOptions {
  /** State changes within this window count towards flapping (default 1 h). */
  flapWindowMs?: number;
  /** This many firing/resolved changes within the window make an alert flap (default 4). */
  flapTransitions?: number;
  /** Silences not yet expired (one whose ends_at has passed is ignored). */
  silences?: readonly Silence[];
  /** Mutes asked after the built-in chain (silence, inhibition, flapping, ack). */
  mutes?: readonly Muter[];
  /** Makes event ids (default: unique ids). */
  newId?: () => string;
}

/** What one evaluation does to the alerts; `persistTransition` stores it. */
export interface TransitionResult {
  /** The evaluation instant (ISO). */
  at: string;
  /** Alerts created or changed, as they are to be stored. */
  rows: AlertRow[];
  /** Every state change, notified or not (and why not). */
  history: AlertHistoryEntry[];
  /** The changes to notify; a suppressed one names the mute in suppressed_by. */
  events: AlertEvent[];
  /** Until-resolved silences whose alert resolved: they end now. */
  expiredSilences: string[];
  /** Findings dropped for repeating a label set within their rule (the first one is kept). */
  warnings: RuleWarning[];
}

const SEVERITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };

const formatLabels = (labels: Record<string, string>): string =>
  Object.keys(labels).length
    ? Object.entries(labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(", ")
    : "(no labels)";

function toEvent(rule: Rule, f: Finding | null, row: AlertRow, event: AlertEvent["event"], at: string, id: string): AlertEvent {
  return {
    type: "alert",
    event,
    event_id: id,
    alert_id: row.alert_id,
    rule: rule.id,
    severity: f?.severity ?? row.severity,
    title: rule.title,
    machine_id: f ? f.machine_id : row.machine_id,
    labels: f?.labels ?? (JSON.parse(row.labels_json) as Record<string, string>),
    value: f ? f.value : row.value_json ? JSON.parse(row.value_json) : null,
    message: f?.message ?? row.message ?? "",
    expected: f?.expected ?? row.expected ?? "",
    received: f?.received ?? row.received ?? "",
    actions: f?.actions ?? (row.suggested_actions_json ? JSON.parse(row.suggested_actions_json) : []),
    at,
    suppressed_by: null,
  };
}

/** The row a finding makes of its alert: the finding's data over the previous row's state. */
function rowFor(f: Finding, rule: Rule, prev: AlertRow | undefined, at: string): AlertRow {
  return {
    alert_id: f.fingerprint,
    rule_id: rule.id,
    machine_id: f.machine_id,
    labels_json: JSON.stringify(f.labels),
    severity: f.severity,
    title: rule.title,
    state: prev?.state ?? "pending",
    first_seen_at: prev?.first_seen_at ?? at,
    last_seen_at: at,
    pending_since: prev?.pending_since ?? null,
    fired_at: prev?.fired_at ?? null,
    resolved_at: prev?.resolved_at ?? null,
    value_json: JSON.stringify(f.value ?? null),
    message: f.message,
    expected: f.expected,
    received: f.received,
    evidence_json: JSON.stringify(f.row),
    suggested_actions_json: JSON.stringify(f.actions),
    acked_by: prev?.acked_by ?? null,
    acked_at: prev?.acked_at ?? null,
    ack_note: prev?.ack_note ?? null,
    flapping: prev?.flapping ?? false,
    transitions_json: prev?.transitions_json ?? "[]",
  };
}

/** Each rule's findings with a repeated label set dropped (the first kept), and a warning per repeated set. */
function distinctFindings(rule: Rule, findings: readonly Finding[]): { findings: Finding[]; warnings: RuleWarning[] } {
  const first = new Map<string, Finding>();
  const repeats = new Map<string, number>();
  for (const f of findings) {
    if (!first.has(f.fingerprint)) first.set(f.fingerprint, f);
    else repeats.set(f.fingerprint, (repeats.get(f.fingerprint) ?? 1) + 1);
  }
  const warnings = [...repeats].map(([fp, n]) => {
    const labels = first.get(fp)!.labels;
    return { rule: rule.id, labels, warning: `rule ${rule.id}: ${n} findings have the labels ${formatLabels(labels)}; the first was kept (add a label that tells them apart)` };
  });
  return { findings: [...first.values()], warnings };
}

/**
 * Moves alerts through pending → firing → resolved for one evaluation, without I/O: `for` before
 * firing, hysteresis (keepFiringFor, resolveWhen) before resolving, dedup by labels (a repeated label
 * set is a warning), flap detection, and the mute chain (silence, inhibition by an unreachable
 * machine, flapping, ack) deciding which changes are notified. A rule that failed to evaluate leaves
 * its alerts as they were.
 * @param previous the alerts as stored (every one: an inhibiting rule's firing alerts mute others)
 * @example
 * const t = transition(await loadAlerts(tx), [await evaluateRule(store, rule, now.toISOString())], now, { silences: await loadSilences(tx, now) });
 * await persistTransition(tx, t);
 */
export function transition(previous: readonly AlertRow[], results: readonly RuleResult[], now: Date, options: TransitionOptions = {}): TransitionResult {
  const at = now.toISOString();
  const nowMs = now.getTime();
  const flapWindow = options.flapWindowMs ?? 3_600_000;
  const flapLimit = options.flapTransitions ?? 4;
  const id = options.newId ?? newId;
  const before = new Map(previous.map((a) => [a.alert_id, a]));
  const rows = new Map<string, AlertRow>();
  const history: AlertHistoryEntry[] = [];
  const changes: AlertChange[] = [];
  const warnings: RuleWarning[] = [];

  /** A history line; a change not notified (pending, inactive, a muted event) says so. */
  const record = (row: AlertRow, event: string, from: AlertRow["state"] | null, eventId = id(), suppressedBy: string | null = null, notified = false): void => {
    history.push({
      event_id: eventId,
      alert_id: row.alert_id,
      ts: at,
      rule_id: row.rule_id,
      machine_id: row.machine_id,
      event,
      from_state: from,
      to_state: row.state,
      value_json: row.value_json,
      message: row.message,
      notified,
      suppressed_by: suppressedBy,
    });
  };
  /** Counts a firing/resolved change towards flapping; the event to send for it. */
  const change = (rule: Rule, f: Finding | null, row: AlertRow, event: "firing" | "resolved", from: AlertRow["state"] | null): void => {
    const recent = (JSON.parse(row.transitions_json ?? "[]") as string[]).filter((t) => nowMs - Date.parse(t) < flapWindow);
    recent.push(at);
    row.transitions_json = JSON.stringify(recent);
    const was = row.flapping;
    row.flapping = recent.length >= flapLimit;
    changes.push({ event: toEvent(rule, f, row, row.flapping && !was ? "flapping" : event, at, id()), row, from });
  };

  for (const result of results) {
    const rule = result.rule;
    if (result.error) continue;
    const forMs = parseDuration(rule.for);
    const keepMs = parseDuration(rule.keepFiringFor);
    const distinct = distinctFindings(rule, result.findings);
    warnings.push(...distinct.warnings);
    const seen = new Set<string>();
    for (const f of distinct.findings) {
      seen.add(f.fingerprint);
      const prev = before.get(f.fingerprint);
      const row = rowFor(f, rule, prev, at);
      if (!prev || prev.state === "resolved") {
        row.pending_since = at;
        row.resolved_at = null;
        row.acked_by = row.acked_at = row.ack_note = null; // an ack covers one episode
        row.state = "pending";
        if (forMs === 0) {
          row.state = "firing";
          row.fired_at = at;
          change(rule, f, row, "firing", prev?.state ?? null);
        } else record(row, "pending", prev?.state ?? null);
      } else if (prev.state === "pending") {
        if (nowMs - Date.parse(prev.pending_since ?? at) >= forMs) {
          row.state = "firing";
          row.fired_at = at;
          change(rule, f, row, "firing", "pending");
        }
      } else if ((SEVERITY_RANK[f.severity] ?? 0) > (SEVERITY_RANK[prev.severity] ?? 0)) {
        changes.push({ event: toEvent(rule, f, row, "escalated", at, id()), row, from: "firing" });
      }
      rows.set(row.alert_id, row);
    }
    // Alerts of this rule it did not find this time.
    for (const prev of before.values()) {
      if (prev.rule_id !== rule.id || seen.has(prev.alert_id) || prev.state === "resolved") continue;
      const row: AlertRow = { ...prev, state: "resolved", resolved_at: at };
      if (prev.state === "pending") {
        record(row, "inactive", "pending");
        rows.set(row.alert_id, row);
        continue;
      }
      if (keepMs > 0 && nowMs - Date.parse(prev.last_seen_at) < keepMs) continue;
      // Hysteresis: stay firing until the resolve condition holds (or the source no longer has the row at all).
      if (result.resolvable && !result.resolvable.has(prev.alert_id) && result.present?.has(prev.alert_id)) continue;
      change(rule, null, row, "resolved", "firing");
      rows.set(row.alert_id, row);
    }
  }

  // The mute chain, asked about every change with the alerts as they are after this evaluation.
  const after = new Map([...before, ...rows]);
  const inhibiting = new Set(results.filter((r) => r.rule.inhibitsMachine).map((r) => r.rule.id));
  const silences = options.silences ?? [];
  const chain = [silenceMuter(silences), inhibitionMuter(after.values(), inhibiting), flappingMuter, ackMuter, ...(options.mutes ?? [])];
  const expired = new Set<string>();
  for (const c of changes) {
    c.event.suppressed_by = firstMute(chain, c, now);
    const silence = c.event.event === "resolved" ? silences.find((s) => c.event.suppressed_by === `silence:${s.silence_id}`) : undefined;
    if (silence?.until_resolved) expired.add(silence.silence_id);
    record(c.row, c.event.event, c.from, c.event.event_id, c.event.suppressed_by, c.event.suppressed_by === null);
  }
  return { at, rows: [...rows.values()], history, events: changes.map((c) => c.event), expiredSilences: [...expired], warnings };
}
