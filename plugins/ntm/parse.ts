/**
 * Parsers for ntm (Named Tmux Manager): `ntm --robot-status` in its current shape
 * (schema_version ntm.robot.status.v2, sessions are headers only) and its legacy shape
 * (ntm ≤ 1.7: sessions[].agents[] with per-agent detail), and `ntm list --json`.
 * Schemas accept unknown fields and absent optional ones; mappers are pure.
 */
import * as v from "valibot";
import { checkRecord, isoTime } from "vibe-cockpit";

/** An optional field: absent, null, or of a type this reader does not know all read as null. */
export const opt = <T extends v.GenericSchema>(schema: T) => v.fallback(v.nullish(schema), null);
export const str = opt(v.string());
export const num = opt(v.number());
export const bool = opt(v.boolean());
/** A map of counts; entries that are not numbers are left out. */
const counts = opt(
  v.pipe(
    v.record(v.string(), v.unknown()),
    v.transform((o) => Object.fromEntries(Object.entries(o).filter(([, n]) => typeof n === "number")) as Record<string, number>),
  ),
);

/** An agent pane of the legacy status shape. */
export const LegacyAgentSchema = v.looseObject({
  type: str,
  variant: str,
  pane: str,
  window: num,
  pane_idx: num,
  is_active: bool,
  pid: num,
  child_pid: num,
  last_output_ts: str,
  seconds_since_output: num,
  process_state: str,
  process_state_name: str,
  memory_mb: num,
  output_lines_since_last: num,
  context_tokens: num,
  context_limit: num,
  context_percent: num,
  context_model: str,
  rate_limit_detected: bool,
  rate_limit_match: str,
});

/** A session of `--robot-status`: a v2 header (agent_count, health) or a legacy session (agents[]). */
export const StatusSessionSchema = v.looseObject({
  name: v.pipe(v.string(), v.minLength(1)),
  attached: bool,
  agent_count: num,
  health: opt(v.looseObject({ status: str, reason: str })),
  exists: bool,
  windows: num,
  panes: num,
  created_at: str,
  agents: opt(v.array(v.unknown())),
});

export const StatusSummarySchema = v.looseObject({
  total_sessions: num,
  total_agents: num,
  attached_count: num,
  agents_by_state: counts,
  agents_by_type: counts,
  ready_work: num,
  in_progress: num,
  health_score: num,
  health_status: str,
  alerts_active: num,
  mail_unread: num,
  mail_urgent: num,
});

/** One data source of ntm's source health (ntm's SourceInfo: tmux, beads, mail, caut, …). */
export const SourceInfoSchema = v.looseObject({
  name: str,
  available: bool,
  fresh: bool,
  reason_code: str,
  degraded: bool,
  degraded_since: str,
  degraded_reason: str,
  last_error: str,
});

/** ntm's source health section: each source, the degraded ones named, whether all are fresh. */
export const SourcesSchema = v.looseObject({
  sources: opt(v.record(v.string(), v.unknown())),
  degraded: opt(v.array(v.unknown())),
  all_fresh: bool,
});

/** The `--robot-status` envelope; sessions are checked one by one. */
export const StatusSchema = v.looseObject({
  success: bool,
  error: str,
  error_code: str,
  schema_id: str,
  schema_version: str,
  generated_at: str,
  timestamp: str,
  overall_status: str,
  system: opt(v.looseObject({ version: str, tmux_available: bool })),
  sessions: v.nullish(v.array(v.unknown())),
  summary: opt(StatusSummarySchema),
  alert_counts: counts,
  pagination: opt(v.looseObject({ has_more: bool })),
  sources: opt(SourcesSchema),
});

export const ListSessionSchema = v.looseObject({
  name: v.pipe(v.string(), v.minLength(1)),
  base_project: str,
  label: str,
  windows: num,
  pane_count: num,
  attached: bool,
  working_directory: str,
  agents: counts,
});

/** `ntm list --json`. */
export const ListSchema = v.looseObject({
  success: bool,
  error: str,
  generated_at: str,
  sessions: v.array(v.unknown()),
  count: num,
  total_matches: num,
  has_more: bool,
});

export type Status = v.InferOutput<typeof StatusSchema>;
export type StatusSession = v.InferOutput<typeof StatusSessionSchema>;
export type LegacyAgent = v.InferOutput<typeof LegacyAgentSchema>;
export type ListOutput = v.InferOutput<typeof ListSchema>;
export type ListSession = v.InferOutput<typeof ListSessionSchema>;

type Row = Record<string, unknown>;
type Warn = (message: string) => void;

/** Agents by type: `agents_by_type` (v2), else the non-zero `<type>_count` fields (legacy). */
export function agentsByType(summary: Record<string, unknown> | null | undefined): Record<string, number> | null {
  if (!summary) return null;
  const map = summary.agents_by_type;
  if (map && typeof map === "object") return map as Record<string, number>;
  const out: Record<string, number> = {};
  let found = false;
  for (const [k, val] of Object.entries(summary)) {
    const m = /^([a-z0-9]+)_count$/.exec(k);
    if (!m || m[1] === "attached" || typeof val !== "number") continue;
    found = true;
    if (val > 0) out[m[1]!] = val;
  }
  return found ? out : null;
}

/** A source ntm reports degraded: unavailable, not fresh, or marked so, and why. */
export interface DegradedSource {
  name: string;
  reason: string | null;
  since: string | null;
  last_error: string | null;
}

/**
 * The sources ntm's status reports degraded (ntm marks a source degraded when it is unavailable or
 * not fresh, and lists it in `sources.degraded`); [] when all are fine, null when the output has no
 * source health (the legacy shape).
 */
export function degradedSources(status: Status, warn: Warn): DegradedSource[] | null {
  const section = status.sources;
  if (!section) return null;
  const out = new Map<string, DegradedSource>();
  for (const [key, raw] of Object.entries(section.sources ?? {})) {
    const info = checkRecord(SourceInfoSchema, raw, `ntm --robot-status source ${key}`, warn);
    if (!info || !(info.degraded === true || info.available === false || info.fresh === false)) continue;
    const name = info.name ?? key;
    const reason = info.degraded_reason ?? (info.available === false ? "unavailable" : info.fresh === false ? "not fresh" : (info.reason_code ?? null));
    out.set(name, { name, reason, since: isoTime(info.degraded_since), last_error: info.last_error ?? null });
  }
  for (const name of section.degraded ?? []) {
    if (typeof name === "string" && name !== "" && !out.has(name)) out.set(name, { name, reason: null, since: null, last_error: null });
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** One ntm_activity_snapshot row from a status output. */
export function activityRow(status: Status, raw: unknown, warn: Warn = () => {}): Row {
  const s = status.summary;
  return {
    total_sessions: s?.total_sessions ?? status.sessions?.length ?? null,
    total_agents: s?.total_agents ?? null,
    attached_count: s?.attached_count ?? null,
    by_type_json: agentsByType(s as Record<string, unknown> | null | undefined),
    by_state_json: s?.agents_by_state ?? null,
    overall_status: status.overall_status ?? s?.health_status ?? null,
    health_score: s?.health_score ?? null,
    alerts_active: s?.alerts_active ?? null,
    alert_counts_json: status.alert_counts ?? null,
    ready_work: s?.ready_work ?? null,
    in_progress: s?.in_progress ?? null,
    mail_unread: s?.mail_unread ?? null,
    mail_urgent: s?.mail_urgent ?? null,
    tmux_available: status.system?.tmux_available ?? null,
    ntm_version: status.system?.version ?? null,
    ntm_schema_version: status.schema_version ?? null,
    ntm_generated_at: isoTime(status.generated_at ?? status.timestamp),
    derived_from: "status",
    degraded_sources_json: degradedSources(status, warn),
    raw_json: raw,
  };
}

/** An activity row counted from `ntm list --json` alone (when --robot-status failed). */
export function activityFromList(sessions: readonly ListSession[], list: ListOutput, raw: unknown): Row {
  const byType: Record<string, number> = {};
  let total = 0;
  for (const s of sessions) {
    for (const [k, n] of Object.entries(s.agents ?? {})) {
      if (k === "total") total += n;
      else if (k !== "user" && k !== "other" && n > 0) byType[k] = (byType[k] ?? 0) + n;
    }
  }
  return {
    total_sessions: sessions.length,
    total_agents: total,
    attached_count: sessions.filter((s) => s.attached).length,
    by_type_json: byType,
    by_state_json: null,
    ntm_generated_at: isoTime(list.generated_at),
    derived_from: "list",
    degraded_sources_json: null, // ntm list says nothing of its sources
    raw_json: raw,
  };
}

const int = (n: number | null | undefined) => (typeof n === "number" && Number.isFinite(n) ? Math.trunc(n) : null);

/** One ntm_agents_snapshot row from a legacy agent pane. */
export function agentRow(session: string, a: LegacyAgent, index: number, raw: unknown): Row {
  const pane = a.pane ?? (a.window != null && a.pane_idx != null ? `${a.window}.${a.pane_idx}` : `#${index}`);
  return {
    session_name: session,
    pane_id: pane,
    agent_type: a.type ?? null,
    variant: a.variant ?? null,
    window_index: int(a.window),
    pane_index: int(a.pane_idx),
    is_active: a.is_active ?? null,
    pid: int(a.pid),
    child_pid: int(a.child_pid),
    last_output_at: isoTime(a.last_output_ts),
    seconds_since_output: int(a.seconds_since_output),
    process_state: a.process_state ?? null,
    process_state_name: a.process_state_name ?? null,
    memory_mb: a.memory_mb ?? null,
    output_lines_since_last: int(a.output_lines_since_last),
    context_tokens: int(a.context_tokens),
    context_limit: int(a.context_limit),
    context_percent: a.context_percent ?? null,
    context_model: a.context_model ?? null,
    rate_limit_detected: a.rate_limit_detected ?? null,
    rate_limit_match: a.rate_limit_match ?? null,
    raw_json: raw,
  };
}

/**
 * Sessions, agents and activity from the two outputs (either may be missing). Sessions are
 * merged by name: one row per session, whichever output saw it.
 */
export function mapNtm(
  input: { status: { parsed: Status; raw: unknown } | null; list: { parsed: ListOutput; raw: unknown } | null },
  warn: Warn,
): { sessions: Row[]; agents: Row[]; activity: Row[] } {
  const byName = new Map<string, { status?: { s: StatusSession; raw: unknown }; list?: { s: ListSession; raw: unknown } }>();
  const agents: Row[] = [];
  const seenPanes = new Set<string>();

  for (const [i, raw] of (input.status?.parsed.sessions ?? []).entries()) {
    const s = checkRecord(StatusSessionSchema, raw, `ntm --robot-status session #${i}`, warn);
    if (!s) continue;
    if (byName.has(s.name)) {
      warn(`ntm --robot-status listed session ${s.name} twice; kept the first`);
      continue;
    }
    byName.set(s.name, { status: { s, raw } });
    for (const [j, rawAgent] of (s.agents ?? []).entries()) {
      const a = checkRecord(LegacyAgentSchema, rawAgent, `ntm agent #${j} of session ${s.name}`, warn);
      if (!a) continue;
      const row = agentRow(s.name, a, j, rawAgent);
      const key = `${s.name}\u0000${row.pane_id}`;
      if (seenPanes.has(key)) {
        warn(`ntm session ${s.name} lists pane ${row.pane_id} twice; kept the first`);
        continue;
      }
      seenPanes.add(key);
      agents.push(row);
    }
  }
  const listSessions: ListSession[] = [];
  for (const [i, raw] of (input.list?.parsed.sessions ?? []).entries()) {
    const s = checkRecord(ListSessionSchema, raw, `ntm list session #${i}`, warn);
    if (!s) continue;
    const e = byName.get(s.name) ?? {};
    if (e.list) {
      warn(`ntm list printed session ${s.name} twice; kept the first`);
      continue;
    }
    byName.set(s.name, { ...e, list: { s, raw } });
    listSessions.push(s);
  }
  if (input.status?.parsed.pagination?.has_more) warn("ntm --robot-status paginated its sessions: only the first page was read");
  if (input.list?.parsed.has_more) warn("ntm list --json reported more sessions than it printed");

  const sessions: Row[] = [];
  for (const [name, { status, list }] of byName) {
    const st = status?.s;
    const li = list?.s;
    sessions.push({
      session_name: name,
      attached: st?.attached ?? li?.attached ?? (st ? false : null),
      agent_count: int(st?.agent_count ?? (st?.agents ? st.agents.length : undefined) ?? li?.agents?.total),
      health_status: st?.health?.status ?? null,
      health_reason: st?.health?.reason ?? null,
      session_exists: st?.exists ?? null,
      windows: int(li?.windows ?? st?.windows),
      pane_count: int(li?.pane_count ?? st?.panes),
      work_dir: li?.working_directory ?? null,
      base_project: li?.base_project ?? null,
      label: li?.label ?? null,
      git_branch: null,
      created_at: isoTime(st?.created_at),
      agent_counts_json: li?.agents ?? null,
      panes_json: st?.agents ?? null,
      in_status: Boolean(st),
      in_list: Boolean(li),
      raw_json: { ...(status ? { status: status.raw } : {}), ...(list ? { list: list.raw } : {}) },
    });
  }
  const activity = input.status
    ? [activityRow(input.status.parsed, input.status.raw, warn)]
    : input.list
      ? [activityFromList(listSessions, input.list.parsed, input.list.raw)]
      : [];
  return { sessions, agents, activity };
}
