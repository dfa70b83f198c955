// The cockpit's event level: what happened, one row each — dcg denies, pt findings, rano
// connections to unknown hosts, urgent mail, open alerts, and for one repo its dcg denies, mail,
// ntm sessions, open beads and status changes. Read through the cockpit's read-only query (so the
// same code works in-process and through the daemon); rows become EventViews the frame draws.
import type { AlertView } from "../alerts/ops.ts";
import type { SearchResult } from "../search.ts";

/** One event as the TUI lists and details it. */
export interface EventView {
  /** Stable within a load: kind + natural key. */
  key: string;
  kind: "alert" | "dcg" | "pt" | "rano" | "mail" | "ntm" | "beads" | "repo" | "session";
  machineId: string | null;
  /** ISO 8601, when it happened (null when the source does not say). */
  at: string | null;
  severity: string;
  title: string;
  /** Field/value pairs in reading order (values as collected; the frame cleans them). */
  fields: [string, unknown][];
  /** Long text (a session's matching content, an alert's message) shown wrapped in the detail. */
  text?: string;
  /** A command a person may run next. */
  command?: string;
  /** An alert's suggested actions, in its rule's order. */
  actions?: { title: string; command?: string }[];
  alert?: AlertView;
}

/** The group each kind is listed under. */
export const EVENT_GROUPS: Record<EventView["kind"], string> = {
  alert: "ALERTS",
  dcg: "DCG DENIES",
  pt: "PT FINDINGS",
  rano: "RANO UNKNOWN HOSTS",
  mail: "MAIL",
  ntm: "NTM SESSIONS",
  beads: "OPEN BEADS",
  repo: "STATUS CHANGES",
  session: "SESSIONS (cass)",
};

type Query = { query(sql: string): Promise<{ rows: Record<string, unknown>[] }> };

/** A SQL string literal, and a TIMESTAMP literal (the cockpit's query takes text, not parameters). */
export const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
export const ts = (d: Date) => `TIMESTAMP ${q(d.toISOString().replace("T", " ").replace("Z", ""))}`;
const iso = (v: unknown) =>
  v === null || v === undefined
    ? null
    : typeof v === "string"
      ? v.endsWith("Z") || v.includes("+")
        ? v
        : `${v.replace(" ", "T")}Z`
      : v instanceof Date
        ? v.toISOString()
        : String(v);
const str = (v: unknown) => (v === null || v === undefined ? "" : String(v));
/** A table a collector has not created yet reads as no rows. */
const rows = (api: Query, text: string) =>
  api.query(text).then(
    (r) => r.rows,
    () => [] as Record<string, unknown>[],
  );

function dcgEvent(r: Record<string, unknown>): EventView {
  return {
    key: `dcg:${r.machine_id}:${r.event_key}`,
    kind: "dcg",
    machineId: str(r.machine_id),
    at: iso(r.ts),
    severity: r.decision === "deny" ? "high" : "medium",
    title: `${str(r.decision)} ${str(r.rule_id ?? r.pack_id ?? "")}: ${str(r.command)}`,
    fields: [
      ["decision", r.decision],
      ["rule", r.rule_id],
      ["command", r.command],
      ["reason", r.reason],
      ["cwd", r.cwd],
      ["agent", r.agent_type],
      ["session", r.session_id],
      ["from", r.origin],
    ],
  };
}

const DCG = `SELECT machine_id, event_key, ts, decision, rule_id, pack_id, reason, cwd, agent_type, session_id, origin, json_extract_string(raw_json, '$.command') AS command FROM dcg_events`;
const MAIL = `SELECT machine_id, project_id, project_key, message_id, created_ts, thread_id, sender, importance, ack_required, subject, to_recipients_json FROM mail_messages`;

function mailEvent(r: Record<string, unknown>): EventView {
  return {
    key: `mail:${r.machine_id}:${r.project_id}:${r.message_id}`,
    kind: "mail",
    machineId: str(r.machine_id),
    at: iso(r.created_ts),
    severity: r.importance === "urgent" ? "high" : r.ack_required ? "medium" : "low",
    title: `${str(r.sender)}: ${str(r.subject)}`,
    fields: [
      ["from", r.sender],
      ["to", r.to_recipients_json],
      ["subject", r.subject],
      ["importance", r.importance],
      ["ack required", r.ack_required],
      ["project", r.project_key],
      ["thread", r.thread_id],
      ["message", r.message_id],
    ],
  };
}

/** An open alert as an event (the Events list shows alerts with the rest). */
export function alertEvent(a: AlertView): EventView {
  return {
    key: `alert:${a.alert_id}`,
    kind: "alert",
    machineId: a.machine_id,
    at: a.fired_at ?? a.first_seen_at,
    severity: a.severity,
    title: a.title ?? a.rule,
    fields: [
      ["rule", a.rule],
      ["state", a.state],
      ["expected", a.expected],
      ["received", a.received],
      ["alert", a.alert_id],
      ["acked", a.acked ? `by ${a.acked.by}${a.acked.note ? `: ${a.acked.note}` : ""}` : null],
      ["silenced", a.silenced_by],
    ],
    text: a.message ?? undefined,
    actions: a.actions,
    alert: a,
  };
}

/**
 * The fleet's recent events: dcg denies and warnings, pt's kill/review findings, connections to
 * hosts rano could not attribute to a provider, urgent or ack-required mail. Newest first per kind.
 */
export async function loadEvents(api: Query, o: { now: Date; hours: number; machine?: string }): Promise<EventView[]> {
  const from = new Date(o.now.getTime() - o.hours * 3_600_000);
  // The filter bar matches machines by substring, as the lists do.
  const on = o.machine ? ` AND contains(lower(machine_id), ${q(o.machine.toLowerCase())})` : "";
  const [dcg, pt, rano, mail] = await Promise.all([
    rows(api, `${DCG} WHERE decision IN ('deny', 'warn') AND ts > ${ts(from)} AND ts <= ${ts(o.now)}${on} ORDER BY ts DESC LIMIT 100`),
    rows(
      api,
      `SELECT * EXCLUDE (raw_json, evidence_json) FROM process_triage_findings WHERE collected_at <= ${ts(o.now)} AND collected_at > ${ts(from)}${on}
       QUALIFY collected_at = max(collected_at) OVER (PARTITION BY machine_id) AND recommendation_set IN ('kill', 'review')
       ORDER BY machine_id, score DESC NULLS LAST LIMIT 100`,
    ),
    rows(
      api,
      `SELECT machine_id, coalesce(domain, remote_ip) AS host, count(*) AS connects, max(ts) AS last_ts, any_value(comm) AS process
       FROM rano_events WHERE event = 'connect' AND (provider IS NULL OR provider = 'unknown') AND ts > ${ts(from)} AND ts <= ${ts(o.now)}${on}
       GROUP BY ALL ORDER BY connects DESC, host LIMIT 50`,
    ),
    rows(
      api,
      `${MAIL} WHERE (importance IN ('urgent', 'high') OR ack_required) AND created_ts > ${ts(from)} AND created_ts <= ${ts(o.now)}${on}
       QUALIFY row_number() OVER (PARTITION BY machine_id, project_id, message_id ORDER BY collected_at DESC) = 1 ORDER BY created_ts DESC LIMIT 50`,
    ),
  ]);
  return [
    ...dcg.map(dcgEvent),
    ...pt.map(
      (r): EventView => ({
        key: `pt:${r.machine_id}:${r.pid}`,
        kind: "pt",
        machineId: str(r.machine_id),
        at: iso(r.collected_at),
        severity: r.recommendation_set === "kill" ? "high" : "medium",
        title: `${str(r.recommendation ?? r.recommendation_set)} pid ${str(r.pid)} ${str(r.comm ?? r.command)} (${str(r.classification)})`,
        fields: [
          ["pid", r.pid],
          ["command", r.command],
          ["classification", r.classification],
          ["confidence", r.confidence],
          ["score", r.score],
          ["recommendation", r.recommendation],
          ["action", r.recommended_action],
          ["reversibility", r.reversibility],
          ["age s", r.age_s],
          ["memory MB", r.memory_mb],
          ["cpu %", r.cpu_pct],
          ["user", r.user_name],
          ["policy", r.policy_blocked ? `blocked: ${str(r.policy_violation)}` : null],
        ],
        command: r.pid === null || r.pid === undefined ? undefined : `pt robot plan --format json   # pid ${str(r.pid)}`,
      }),
    ),
    ...rano.map(
      (r): EventView => ({
        key: `rano:${r.machine_id}:${r.host}`,
        kind: "rano",
        machineId: str(r.machine_id),
        at: iso(r.last_ts),
        severity: "medium",
        title: `unknown host ${str(r.host)}: ${str(r.connects)} connection${Number(r.connects) === 1 ? "" : "s"}`,
        fields: [
          ["host", r.host],
          ["connections", r.connects],
          ["process", r.process],
          ["last", iso(r.last_ts)],
        ],
      }),
    ),
    ...mail.map(mailEvent),
  ];
}

/** One repo's history: dcg events in its folder, its mail project, ntm sessions working in it, open beads, status changes. */
export async function loadRepoEvents(api: Query, repo: { machine_id: string; repo_id: string; path: string | null }, o: { now: Date; hours: number }): Promise<EventView[]> {
  const from = new Date(o.now.getTime() - o.hours * 3_600_000);
  const m = q(repo.machine_id);
  const window = (col: string) => `${col} > ${ts(from)} AND ${col} <= ${ts(o.now)}`;
  const path = repo.path ? q(repo.path) : null;
  const [dcg, mail, ntm, beads, status] = await Promise.all([
    path
      ? rows(
          api,
          `${DCG} WHERE machine_id = ${m} AND decision IN ('deny', 'warn') AND (cwd = ${path} OR starts_with(cwd, ${path} || '/')) AND ${window("ts")} ORDER BY ts DESC LIMIT 50`,
        )
      : [],
    path
      ? rows(
          api,
          `${MAIL} WHERE machine_id = ${m} AND project_key = ${path} AND ${window("created_ts")} QUALIFY row_number() OVER (PARTITION BY project_id, message_id ORDER BY collected_at DESC) = 1 ORDER BY created_ts DESC LIMIT 30`,
        )
      : [],
    path
      ? rows(
          api,
          `SELECT session_name, collected_at, attached, agent_count, health_status, health_reason, git_branch, agent_counts_json FROM ntm_sessions_snapshot
           WHERE machine_id = ${m} AND work_dir = ${path} AND collected_at <= ${ts(o.now)} QUALIFY row_number() OVER (PARTITION BY session_name ORDER BY collected_at DESC) = 1 LIMIT 20`,
        )
      : [],
    rows(
      api,
      `SELECT issue_id, title, status, priority, type, assignee, updated_at, blocked_by_json FROM beads_issues WHERE repo_id = ${q(repo.repo_id)} AND (collected_at IS NULL OR collected_at <= ${ts(o.now)})
       QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY collected_at DESC NULLS LAST, updated_at DESC NULLS LAST) = 1 AND status NOT IN ('closed', 'tombstone') AND deleted_at IS NULL
       ORDER BY priority NULLS LAST, updated_at DESC NULLS LAST LIMIT 30`,
    ),
    rows(
      api,
      `SELECT * FROM (SELECT collected_at, status, branch, dirty, ahead, behind, last_commit_at,
         lag(concat_ws('|', status, branch, dirty, ahead, behind)) OVER (ORDER BY collected_at) AS before, concat_ws('|', status, branch, dirty, ahead, behind) AS now_state
       FROM repo_status_snapshots WHERE machine_id = ${m} AND repo_id = ${q(repo.repo_id)} AND collected_at <= ${ts(o.now)})
       WHERE before IS NULL OR before <> now_state ORDER BY collected_at DESC LIMIT 10`,
    ),
  ]);
  return [
    ...dcg.map(dcgEvent),
    ...mail.map(mailEvent),
    ...ntm.map(
      (r): EventView => ({
        key: `ntm:${repo.machine_id}:${r.session_name}`,
        kind: "ntm",
        machineId: repo.machine_id,
        at: iso(r.collected_at),
        severity: r.health_status && r.health_status !== "healthy" ? "medium" : "ok",
        title: `session ${str(r.session_name)}: ${str(r.agent_count ?? "?")} agents${r.health_status ? `, ${str(r.health_status)}` : ""}`,
        fields: [
          ["session", r.session_name],
          ["agents", r.agent_count],
          ["by type", r.agent_counts_json],
          ["health", r.health_status],
          ["reason", r.health_reason],
          ["attached", r.attached],
          ["branch", r.git_branch],
        ],
        command: `ntm attach ${str(r.session_name)}`,
      }),
    ),
    ...beads.map(
      (r): EventView => ({
        key: `beads:${repo.repo_id}:${r.issue_id}`,
        kind: "beads",
        machineId: repo.machine_id,
        at: iso(r.updated_at),
        severity: r.status === "blocked" ? "medium" : "info",
        title: `${str(r.issue_id)} P${str(r.priority ?? "?")} ${str(r.status)}: ${str(r.title)}`,
        fields: [
          ["issue", r.issue_id],
          ["title", r.title],
          ["status", r.status],
          ["priority", r.priority],
          ["type", r.type],
          ["assignee", r.assignee],
          ["blocked by", r.blocked_by_json],
        ],
        command: `br show ${str(r.issue_id)}`,
      }),
    ),
    ...status.map(
      (r): EventView => ({
        key: `repo:${repo.machine_id}:${repo.repo_id}:${iso(r.collected_at)}`,
        kind: "repo",
        machineId: repo.machine_id,
        at: iso(r.collected_at),
        severity: r.dirty || Number(r.behind) > 0 ? "low" : "ok",
        title: `${str(r.status)} on ${str(r.branch ?? "?")}${r.dirty ? ", dirty" : ""}${Number(r.ahead) ? `, ${str(r.ahead)} ahead` : ""}${Number(r.behind) ? `, ${str(r.behind)} behind` : ""}`,
        fields: [
          ["status", r.status],
          ["branch", r.branch],
          ["dirty", r.dirty],
          ["ahead", r.ahead],
          ["behind", r.behind],
          ["last commit", iso(r.last_commit_at)],
        ],
      }),
    ),
  ];
}

/** cass hits (and the machines that could not search) as events. */
export function sessionEvents(r: SearchResult): EventView[] {
  return r.hits.map((h, i) => ({
    key: `session:${h.machine_id}:${i}:${h.location ?? h.title}`,
    kind: "session" as const,
    machineId: h.machine_id,
    at: h.at,
    severity: "info",
    title: `${h.agent ? `${h.agent} ` : ""}${h.title}`,
    fields: [["agent", h.agent], ["workspace", h.workspace], ["file", h.location], ["score", h.score], ["snippet", h.snippet], ...Object.entries(h.extra ?? {})] as [
      string,
      unknown,
    ][],
    text: h.content ?? h.snippet,
    command: h.location ? `cass view ${h.location.replace(/:(\d+)$/, " -n $1")}` : undefined,
  }));
}
