// Opening and joining incidents at the end of a poll cycle (plan §5.4): a critical alert firing
// opens one; so do several high-or-worse alerts firing on one machine or one account within a
// window; a later alert related to an open incident (same machine, account or repo, while the
// incident is active or within the window after) joins it instead of opening another. Nothing
// closes an incident but a person.
import type { AlertEvent } from "../alerts/transition.ts";
import { recordAudits, type AuditEvent } from "../audit.ts";
import type { VcConfig } from "../config/define.ts";
import type { IncidentsConfig } from "../config/schema.ts";
import { sql } from "../store/sql.ts";
import type { StoreTx } from "../store/store.ts";

/** What the incidents config says when it says nothing. */
export const DEFAULT_INCIDENTS: IncidentsConfig = { critical_opens: true, high_count: 3, window_minutes: 15 };

/** Severities from least to worst (`ok` and `info` rank with nothing). */
export const SEVERITY_RANK: Record<string, number> = { ok: 0, info: 0, low: 1, medium: 2, high: 3, critical: 4 };
/** A severity's rank in SEVERITY_RANK (0 for one it does not know). */
export const rankOf = (severity: string | null | undefined): number => SEVERITY_RANK[severity ?? ""] ?? 0;
/** The worse of two severities. */
export const worse = (a: string, b: string): string => (rankOf(b) > rankOf(a) ? b : a);

/** Labels that name a repo on an alert. */
export const REPO_LABELS = ["repo", "repo_id"] as const;

/** What an alert is about: its machine, its account and repo labels. */
export interface AlertSubject {
  machine: string | null;
  account: string | null;
  repo: string | null;
}

/** The machine, account and repo an alert names (its `machine_id`, and the labels `account`, `repo`/`repo_id`). */
export function subjectOf(a: { machine_id: string | null; labels: Record<string, string> }): AlertSubject {
  const label = (k: string) => (a.labels[k] ? a.labels[k] : null);
  return {
    machine: a.machine_id ?? label("machine_id"),
    account: label("account"),
    repo: REPO_LABELS.map(label).find((x) => x !== null) ?? null,
  };
}

/** Whom the high-alert count groups by: the account when the alert names one, else its machine. */
const countKey = (s: AlertSubject): string | null => (s.account ? `account:${s.account}` : s.machine ? `machine:${s.machine}` : null);

/** What one cycle did to incidents: the ids opened, and the ids of open incidents that alerts joined. */
export interface IncidentsAdvance {
  opened: string[];
  joined: string[];
}

/** What `advanceIncidents` is given: the cycle's instant and alert changes, and the incidents config. */
export interface AdvanceIncidentsOptions {
  /** The cycle's instant. */
  at: Date;
  /** The cycle's alert changes (advanceAlerts' events). */
  events: readonly AlertEvent[];
  config: Pick<VcConfig, "incidents">;
}

interface Member {
  alert_id: string;
  rule_id: string;
  machine_id: string | null;
  labels: Record<string, string>;
  severity: string;
  title: string;
}

interface Working {
  incident_id: string;
  title: string;
  severity: string;
  opened_at: string;
  machines: Set<string>;
  accounts: Set<string>;
  repoNames: Set<string>;
  alerts: Set<string>;
  /** Until when it counts as active (ms): now while one of its alerts fires, else its last alert change. */
  activeUntil: number;
  isNew: boolean;
  changed: boolean;
  added: (Member & { role: "trigger" | "related" })[];
}

const list = (json: string | null): string[] => (json ? (JSON.parse(json) as string[]) : []);
const parseLabels = (json: string | null): Record<string, string> => (json ? (JSON.parse(json) as Record<string, string>) : {});
const sorted = (s: Set<string>) => [...s].sort();

/**
 * Opens and joins incidents for one cycle's alert changes, in the cycle's transaction (after
 * `advanceAlerts`, whose rows it reads). Alerts that fired or escalated are taken worst first: a
 * related open incident takes each (it joins); otherwise a critical one opens an incident, and a
 * high-or-worse one opens one when it makes `high_count` such alerts fired within the window on its
 * machine or account. Only a notified alert (not silenced, inhibited or acked) opens one; any joins.
 * Each opening is written to the audit log.
 * @example const { opened } = await store.transaction((tx) => advanceIncidents(tx, { at, events, config }));
 */
export async function advanceIncidents(tx: StoreTx, o: AdvanceIncidentsOptions): Promise<IncidentsAdvance> {
  const raising = o.events
    .filter((e) => e.event === "firing" || e.event === "escalated")
    .sort((a, b) => rankOf(b.severity) - rankOf(a.severity) || (a.alert_id < b.alert_id ? -1 : 1));
  if (raising.length === 0) return { opened: [], joined: [] };
  const cfg = { ...DEFAULT_INCIDENTS, ...o.config.incidents };
  const windowMs = cfg.window_minutes * 60_000;
  const nowMs = o.at.getTime();
  const at = o.at.toISOString();

  const open = await loadOpen(tx, nowMs);
  const inOpen = (alertId: string) => open.some((i) => i.alerts.has(alertId));
  // The high-or-worse alerts fired within the window (this cycle's included: advanceAlerts wrote them).
  const recent = (
    await tx.query<{ alert_id: string; rule_id: string; machine_id: string | null; labels_json: string; severity: string; title: string | null }>(
      sql`SELECT alert_id, rule_id, machine_id, labels_json, severity, title FROM alerts
          WHERE fired_at > ${new Date(nowMs - windowMs).toISOString()}::TIMESTAMP AND fired_at <= ${at}::TIMESTAMP
            AND severity IN ('high', 'critical') ORDER BY fired_at, alert_id`,
    )
  ).map(
    (r): Member => ({ alert_id: r.alert_id, rule_id: r.rule_id, machine_id: r.machine_id, labels: parseLabels(r.labels_json), severity: r.severity, title: r.title ?? r.rule_id }),
  );
  const [{ n }] = (await tx.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM incidents WHERE starts_with(incident_id, ${idPrefix(o.at)})`)) as [{ n: number }];
  let seq = n;
  const audits: AuditEvent[] = [];

  const join = (inc: Working, m: Member, role: "trigger" | "related") => {
    const s = subjectOf(m);
    if (s.machine) inc.machines.add(s.machine);
    if (s.account) inc.accounts.add(s.account);
    if (s.repo) inc.repoNames.add(s.repo);
    inc.severity = worse(inc.severity, m.severity);
    inc.activeUntil = nowMs;
    inc.changed = true;
    if (!inc.alerts.has(m.alert_id)) {
      inc.alerts.add(m.alert_id);
      inc.added.push({ ...m, role });
    }
  };

  for (const e of raising) {
    const m: Member = { alert_id: e.alert_id, rule_id: e.rule, machine_id: e.machine_id, labels: e.labels, severity: e.severity, title: e.title };
    const s = subjectOf(m);
    // Its own incident (it fired again, or rose), else the open incident it relates to that was active last.
    const mine = open.find((i) => i.alerts.has(m.alert_id));
    const related =
      mine ??
      open
        .filter(
          (i) => nowMs <= i.activeUntil + windowMs && ((s.machine && i.machines.has(s.machine)) || (s.account && i.accounts.has(s.account)) || (s.repo && i.repoNames.has(s.repo))),
        )
        .sort((a, b) => b.activeUntil - a.activeUntil)[0];
    if (related) {
      join(related, m, "related");
      continue;
    }
    if (e.suppressed_by !== null) continue;
    let triggers: Member[] = [];
    let why = "";
    if (rankOf(m.severity) >= rankOf("critical") && cfg.critical_opens) {
      triggers = [m];
      why = "a critical alert fired";
    } else if (rankOf(m.severity) >= rankOf("high")) {
      const key = countKey(s);
      const same = recent.filter((r) => r.alert_id !== m.alert_id && !inOpen(r.alert_id) && key !== null && countKey(subjectOf(r)) === key);
      if (same.length + 1 >= cfg.high_count) {
        // In the order they fired (this one last when it fired before the window: it rose since).
        const ordered = recent.filter((r) => r.alert_id === m.alert_id || same.includes(r));
        triggers = ordered.some((r) => r.alert_id === m.alert_id) ? ordered : [...ordered, m];
        why = `${triggers.length} high-or-worse alerts fired on ${key!.replace(":", " ")} within ${cfg.window_minutes} min`;
      }
    }
    if (triggers.length === 0) continue;
    seq += 1;
    const worst = triggers.reduce((w, t) => worse(w, t.severity), "low");
    const inc: Working = {
      incident_id: `${idPrefix(o.at)}${seq}`,
      title: titleFor(triggers, s),
      severity: worst,
      opened_at: at,
      machines: new Set(),
      accounts: new Set(),
      repoNames: new Set(),
      alerts: new Set(),
      activeUntil: nowMs,
      isNew: true,
      changed: true,
      added: [],
    };
    for (const t of triggers) join(inc, t, "trigger");
    open.push(inc);
    audits.push({
      ts: o.at,
      eventType: "incident_opened",
      actor: "vc",
      machineId: sorted(inc.machines)[0] ?? null,
      action: `incident open ${inc.incident_id}`,
      result: "ok",
      details: { title: inc.title, severity: inc.severity, why, alerts: triggers.map((t) => t.alert_id) },
    });
  }

  const touched = open.filter((i) => i.changed);
  const fresh = touched.filter((i) => i.isNew);
  if (fresh.length > 0) {
    await tx.insert(
      "incidents",
      fresh.map((i) => ({
        incident_id: i.incident_id,
        title: i.title,
        severity: i.severity,
        state: "open",
        opened_at: i.opened_at,
        machines_json: JSON.stringify(sorted(i.machines)),
        accounts_json: JSON.stringify(sorted(i.accounts)),
        repos_json: JSON.stringify(sorted(i.repoNames)),
        updated_at: at,
      })),
    );
  }
  // One statement per incident that changed (DuckDB: one update of a keyed row per transaction).
  for (const i of touched.filter((x) => !x.isNew)) {
    await tx.run(sql`UPDATE incidents SET severity = ${i.severity}, machines_json = ${JSON.stringify(sorted(i.machines))},
        accounts_json = ${JSON.stringify(sorted(i.accounts))}, repos_json = ${JSON.stringify(sorted(i.repoNames))}, updated_at = ${at}::TIMESTAMP
      WHERE incident_id = ${i.incident_id}`);
  }
  await tx.insert(
    "incident_alerts",
    touched.flatMap((i) =>
      i.added.map((m) => ({
        incident_id: i.incident_id,
        alert_id: m.alert_id,
        rule_id: m.rule_id,
        machine_id: m.machine_id,
        labels_json: JSON.stringify(m.labels),
        severity: m.severity,
        joined_at: at,
        role: m.role,
      })),
    ),
  );
  if (audits.length > 0) await recordAudits(tx, audits);
  return { opened: fresh.map((i) => i.incident_id), joined: touched.filter((i) => !i.isNew).map((i) => i.incident_id) };
}

/** `inc-YYYYMMDD-`: an incident's id is this and the day's count. */
const idPrefix = (at: Date) => `inc-${at.toISOString().slice(0, 10).replaceAll("-", "")}-`;

function titleFor(triggers: readonly Member[], s: AlertSubject): string {
  const where = s.account ?? s.machine ?? "the fleet";
  if (triggers.length === 1) return `${triggers[0]!.title} on ${where}`;
  const titles = [...new Set(triggers.map((t) => t.title))];
  return `${triggers.length} high alerts on ${where}: ${titles.join(", ")}`;
}

/** The open incidents with their alerts and how long each stays active (an alert still firing keeps it active now). */
async function loadOpen(tx: StoreTx, nowMs: number): Promise<Working[]> {
  const incidents = await tx.query<{ incident_id: string; title: string; severity: string; opened_at: string; machines_json: string; accounts_json: string; repos_json: string }>(
    "SELECT incident_id, title, severity, opened_at, machines_json, accounts_json, repos_json FROM incidents WHERE state = 'open'",
  );
  if (incidents.length === 0) return [];
  const members = await tx.query<{ incident_id: string; alert_id: string; joined_at: string; state: string | null; resolved_at: string | null }>(
    `SELECT ia.incident_id, ia.alert_id, ia.joined_at, a.state, a.resolved_at
     FROM incident_alerts ia JOIN incidents i ON i.incident_id = ia.incident_id LEFT JOIN alerts a ON a.alert_id = ia.alert_id
     WHERE i.state = 'open'`,
  );
  return incidents.map((r) => {
    const mine = members.filter((m) => m.incident_id === r.incident_id);
    const firing = mine.some((m) => m.state === "firing");
    const last = Math.max(Date.parse(r.opened_at), ...mine.map((m) => Date.parse(m.joined_at)), ...mine.map((m) => (m.resolved_at ? Date.parse(m.resolved_at) : 0)));
    return {
      incident_id: r.incident_id,
      title: r.title,
      severity: r.severity,
      opened_at: r.opened_at,
      machines: new Set(list(r.machines_json)),
      accounts: new Set(list(r.accounts_json)),
      repoNames: new Set(list(r.repos_json)),
      alerts: new Set(mine.map((m) => m.alert_id)),
      activeUntil: firing ? nowMs : last,
      isNew: false,
      changed: false,
      added: [],
    };
  });
}
