// Failure prophecy (plan §6.2, issue 14 point 7): the agents that look stuck, looping, erroring or
// about to run out of context, read from ntm's agent states and their history — each with the
// indicators that crossed a threshold and the rows that show it. Causal: only rows collected at or
// before `at` are read (an event also needs its own time at or before `at`).
//
// Sources. ntm's attention feed (ntm_agent_states each run, ntm_agent_events, ntm_attention_items)
// where a machine's ntm has it; else ntm ≤ 1.7's per-agent status (ntm_agents_snapshot). The legacy
// status has no agent state: its `is_active` is tmux's focused-pane flag (ntm sets it from
// pane.Active), not "working", so it is not used; "busy" there means the agent's process is
// running, in disk sleep or stopped (R, D, T), and its only error signals are a rate limit match
// and a dead process (zombie, dead). A sleeping process with no output is usually an agent idle at
// its prompt, so the legacy status never calls one stuck.
//
// Kinds and their flags (one SQL definition, used for the agents now and for the history alike):
// - stuck: ntm says the agent works (active, busy, thinking … or stalled) — legacy: its process is
//   busy — and it has printed nothing for STUCK_S or more.
// - erroring: it entered an error state (error, crashed, rate_limited …) ERROR_ENTRIES times or more
//   within the window. ntm's own error events count too, but only the state entries are calibrated.
// - looping: it re-entered the same state LOOP_ENTRIES times within the window, a state not part
//   of normal turn-taking (working, idle, done) nor an error (erroring has those): waiting, compacting,
//   stalled … Or its last pane lines repeat one line (digits aside) REPEATED_LINES times or more:
//   shown, not calibrated (history keeps no pane tails for every snapshot).
// - context_exhaustion: its context is at CONTEXT_PCT % or more and higher than its lowest in the
//   last hour (rising); the minutes to full are a straight line through its values since it last
//   was under the threshold (within the hour).
// The history is read in one query over the whole calibration span: about 3 s for 400,000 agent
// rows (20 agents, one snapshot a minute, 14 days) at the store's default 128 MB and one thread.
//
// What a probability means — read this before trusting one. An episode is a run of consecutive
// snapshots of one pane with the kind's flag set (a gap over GAP_S starts a new one). Among the past
// episodes of the same kind and the same feed in this store (every machine, the last
// `calibrationDays` days, 14 by default) that were still flagged at the age the agent's episode has
// now, the probability is the fraction in which, within the hour after that age, the pane entered an
// error state, ntm reported it errored, crashed, restarted or destroyed, its process id changed
// (legacy), or its pane was missing from its machine's next ntm snapshot. It is a frequency in
// this fleet's own history, not a model: episodes of one pane are not independent, a pane closed
// by a person after finishing counts as "gone", and an hour whose end is after `at` is not counted.
// With fewer than `minEpisodes` (20) such episodes it is null, and the risk comes from thresholds
// with the reasons spelled out; with one, the risk follows it (≥ 0.5 high, ≥ 0.2 medium, else low).
import { sql, type SqlQuery, type Store } from "vibe-cockpit";
import { noDataWarning } from "../_no-data.ts";
import { STATE_CLASSES } from "../ntm/attention-view.ts";

export type ProphecyKind = "stuck" | "looping" | "erroring" | "context_exhaustion";
export type ProphecyRisk = "low" | "medium" | "high";
/** Where an agent's rows came from: ntm's attention feed, or the legacy per-agent --robot-status. */
export type ProphecyFeed = "attention" | "legacy_status";

/** One early sign, as data: its value, the threshold it is read against, and what it says. */
export interface ProphecyIndicator {
  name: string;
  value: number;
  threshold: number;
  text: string;
}

/** A row that shows it: a snapshot row (collected_at) or an ntm event (ts). */
export interface ProphecyEvidence {
  table: string;
  collected_at?: string;
  ts?: string;
  summary: string;
}

export interface Prophecy {
  machine_id: string;
  session: string;
  pane: string;
  agent_type: string | null;
  kind: ProphecyKind;
  risk: ProphecyRisk;
  /** The calibrated chance of a failure within the next hour (see the file's head); null where history does not calibrate it. */
  probability: number | null;
  indicators: ProphecyIndicator[];
  /** The rows that show it, newest first (at most 5). */
  evidence: ProphecyEvidence[];
  /** Since when: the last output (stuck), the first sign within the window (erroring, looping), the episode's start (context). */
  since: string;
  reason: string;
  feed: ProphecyFeed;
  /** The agent's state in its newest snapshot (legacy: its process state, or rate_limited). */
  state: string | null;
  /** The past episodes the probability was counted over, at the episode's age now; null where the indicator is not calibrated. */
  basis: { episodes: number; failed: number; age_s: number } | null;
}

export interface ProphecyCalibration {
  horizon_minutes: number;
  min_episodes: number;
  /** The span of episode starts read. */
  from: string;
  to: string;
  outcome: string;
  /** Per feed and kind, the episodes whose hour after their start is over by `at`, and how many failed within it (null under min_episodes). */
  kinds: { feed: ProphecyFeed; kind: ProphecyKind; episodes: number; failed: number; probability: number | null }[];
}

export interface ProphecyOptions {
  /** Prophecies for this machine only (history from every machine still calibrates). */
  machineId?: string;
  /** The window repeated states are counted in and evidence is read from (default 2 h). */
  windowHours?: number;
  /** How far back past episodes are read (default 14 days). */
  calibrationDays?: number;
  /** Past episodes needed before a probability is given (default 20). */
  minEpisodes?: number;
}

export interface ProphecyResult {
  prophecies: Prophecy[];
  calibration: ProphecyCalibration | null;
  warnings: string[];
}

/** The thresholds the indicators are read against. */
export const PROPHECY_THRESHOLDS = {
  /** No output this long while working: stuck; STUCK_HIGH_S: high risk. */
  STUCK_S: 600,
  STUCK_HIGH_S: 1800,
  /** Entries into an error state within the window: erroring; ERROR_HIGH: high risk. */
  ERROR_ENTRIES: 2,
  ERROR_HIGH: 4,
  /** Entries into the same (non-turn-taking, non-error) state within the window: looping. */
  LOOP_ENTRIES: 3,
  LOOP_HIGH: 6,
  /** One line repeated this often in the pane's last lines: looping. */
  REPEATED_LINES: 5,
  /** Context at or above this and rising: context exhaustion; CONTEXT_HIGH or full within FULL_SOON_MIN: high risk. */
  CONTEXT_PCT: 80,
  CONTEXT_HIGH: 95,
  FULL_SOON_MIN: 15,
} as const;

const T = PROPHECY_THRESHOLDS;
const HORIZON_S = 3600;
/** A pane unseen this long between two snapshots starts a new episode. */
const GAP_S = 1800;
const DEFAULT_WINDOW_HOURS = 2;
const DEFAULT_CALIBRATION_DAYS = 14;
const DEFAULT_MIN_EPISODES = 20;
const MAX_EVIDENCE = 5;

const KINDS = ["stuck", "looping", "erroring", "context_exhaustion"] as const satisfies readonly ProphecyKind[];
/** ntm's error states (and the legacy status's dead processes). */
export const ERROR_STATES = ["error", "crashed", "rate_limited", "limited", "zombie", "dead"];
/** States in which an agent is at work, or ntm itself says it stalled. */
export const STUCK_STATES = [...STATE_CLASSES.working, "stalled", "stuck"];
/** States whose re-entry is turn-taking (working ↔ idle ↔ done), an error (erroring), or ntm not knowing: not looping. */
const NOT_LOOP_STATES = [...STATE_CLASSES.working.filter((w) => w !== "compacting"), ...STATE_CLASSES.idle, ...STATE_CLASSES.done, ...ERROR_STATES, "unknown"];
/** ntm events that mean the agent failed (the outcome), beside state changes into an error state. */
const FAIL_EVENTS = ["agent.error", "agent.crashed", "agent.restarted", "pane.destroyed"];
const ERROR_EVENTS = ["agent.error", "agent.crashed"];

const TOOLS = [
  {
    collector: "ntm_attention",
    install: "ntm_attention: install ntm (with the attention feed: --robot-snapshot) on the machines and add ntmAttention() to the config's collectors",
  },
  { collector: "ntm", install: "ntm: add ntm() to the config's collectors (per-agent rows come from ntm ≤ 1.7's --robot-status)" },
];
const OUTCOME =
  "within the hour: the pane entered an error state, ntm reported it errored, crashed, restarted or destroyed, its process id changed (legacy status), or it was missing from its machine's next ntm snapshot";
const FEED_NAME: Record<ProphecyFeed, string> = { attention: "ntm attention feed", legacy_status: "ntm legacy status" };

/** Trusted constant words as a SQL list. */
const words = (xs: readonly string[]) => sql.raw(xs.map((w) => `'${w.replaceAll("'", "''")}'`).join(", "));
const iso = (ms: number) => new Date(ms).toISOString();
/** A trusted whole number (a threshold, a number of seconds) as SQL text: window frames take no parameters. */
const lit = (n: number) => sql.raw(String(Math.max(1, Math.round(n))));

/** Every agent row of both feeds in (from, to], with its flags (the h relation). */
function flagsSql(tables: ReadonlySet<string>, from: string, to: string, windowS: number, machineId?: string): SqlQuery {
  const mine = machineId === undefined ? sql`` : sql` AND machine_id = ${machineId}`;
  const parts: SqlQuery[] = [];
  if (tables.has("ntm_agent_states"))
    parts.push(sql`SELECT 'attention' AS feed, machine_id, session_name AS session, pane, pane_index, collected_at AS t, agent_type,
        lower(coalesce(state, 'unknown')) AS state, last_output_age_s AS output_age_s, context_percent AS ctx, NULL::VARCHAR AS proc, NULL::BIGINT AS pid
      FROM ntm_agent_states WHERE collected_at > ${from}::TIMESTAMP AND collected_at <= ${to}::TIMESTAMP${mine}`);
  if (tables.has("ntm_agents_snapshot"))
    parts.push(sql`SELECT 'legacy_status', machine_id, session_name, pane_id, pane_index, collected_at, agent_type,
        CASE WHEN rate_limit_detected THEN 'rate_limited' ELSE lower(coalesce(process_state_name, 'unknown')) END,
        seconds_since_output, context_percent, upper(process_state), coalesce(child_pid, pid)
      FROM ntm_agents_snapshot WHERE collected_at > ${from}::TIMESTAMP AND collected_at <= ${to}::TIMESTAMP${mine}`);
  const pane = sql.raw("PARTITION BY feed, machine_id, session, pane ORDER BY t");
  return sql`WITH series AS (${sql.join(parts, " UNION ALL ")}),
    s AS (SELECT *, lag(state) OVER p AS prev_state, lag(pid) OVER p AS prev_pid, lag(t) OVER p AS prev_t, lead(t) OVER p AS next_t
          FROM series WINDOW p AS (${pane})),
    f AS (SELECT *,
            coalesce(state IN (${words(ERROR_STATES)}) AND prev_state NOT IN (${words(ERROR_STATES)}), false) AS err_entry,
            CASE WHEN feed = 'attention' AND prev_state IS NOT NULL AND state <> prev_state AND state NOT IN (${words(NOT_LOOP_STATES)}) THEN state END AS loop_entry,
            CASE WHEN feed = 'attention' THEN state IN (${words(STUCK_STATES)}) ELSE coalesce(proc IN ('R', 'D', 'T'), false) END
              AND coalesce(output_age_s, 0) >= ${lit(T.STUCK_S)} AS stuck
          FROM s),
    g AS (SELECT *,
            coalesce(sum(err_entry::INTEGER) OVER w, 0)::INTEGER AS err_entries,
            list(loop_entry) FILTER (WHERE loop_entry IS NOT NULL) OVER w AS loops,
            min(ctx) OVER (${pane} RANGE BETWEEN INTERVAL ${lit(HORIZON_S)} SECOND PRECEDING AND CURRENT ROW) AS ctx_min_1h
          FROM f WINDOW w AS (${pane} RANGE BETWEEN INTERVAL ${lit(windowS)} SECOND PRECEDING AND CURRENT ROW)),
    h AS (SELECT * EXCLUDE (loops),
            list_aggregate(loops, 'mode') AS loop_state,
            coalesce(len(list_filter(loops, lambda x: x = loop_state)), 0)::INTEGER AS loop_entries,
            err_entries >= ${lit(T.ERROR_ENTRIES)} AS erroring,
            loop_entries >= ${lit(T.LOOP_ENTRIES)} AS looping,
            coalesce(ctx >= ${lit(T.CONTEXT_PCT)} AND ctx > ctx_min_1h, false) AS context_exhaustion
          FROM g)`;
}

type FlagRow = {
  feed: ProphecyFeed;
  machine_id: string;
  session: string;
  pane: string;
  pane_index: number | null;
  t: string;
  agent_type: string | null;
  state: string;
  output_age_s: number | null;
  ctx: number | null;
  proc: string | null;
  prev_state: string | null;
  err_entry: boolean;
  loop_entry: string | null;
  stuck: boolean;
  err_entries: number;
  ctx_min_1h: number | null;
  loop_state: string | null;
  loop_entries: number;
  erroring: boolean;
  looping: boolean;
  context_exhaustion: boolean;
};

type Episode = { feed: ProphecyFeed; kind: ProphecyKind; machine_id: string; session: string; pane: string; start: string; last_t: string; fails: string[] | null };

/** Every episode (a run of flagged snapshots of one pane) in (from, to], with the failures from its start to an hour after its end. */
async function loadEpisodes(store: Store, tables: ReadonlySet<string>, from: string, to: string, windowS: number): Promise<Episode[]> {
  const runs: SqlQuery[] = [
    // A collection whose status failed (totals counted from ntm list) lists no agents: no pane is gone then.
    sql`SELECT 'legacy_status' AS feed, machine_id, collected_at AS t FROM ntm_activity_snapshot
        WHERE collected_at > ${from}::TIMESTAMP AND collected_at <= ${to}::TIMESTAMP AND derived_from IS DISTINCT FROM 'list'`,
    sql`SELECT 'legacy_status', machine_id, collected_at FROM ntm_agents_snapshot WHERE collected_at > ${from}::TIMESTAMP AND collected_at <= ${to}::TIMESTAMP`,
  ];
  if (tables.has("ntm_attention_runs"))
    runs.push(sql`SELECT 'attention', machine_id, collected_at FROM ntm_attention_runs WHERE collected_at > ${from}::TIMESTAMP AND collected_at <= ${to}::TIMESTAMP`);
  const events = tables.has("ntm_agent_events")
    ? sql` UNION ALL
      SELECT 'attention', e.machine_id, p.session, p.pane, e.event_ts FROM ntm_agent_events e
      JOIN (SELECT DISTINCT machine_id, session, pane, pane_index FROM series WHERE feed = 'attention') p
        ON p.machine_id = e.machine_id AND p.session = e.session_name AND (e.pane_ref = p.pane OR (e.pane_ref IS NULL AND e.pane_index = p.pane_index))
      WHERE e.event_ts > ${from}::TIMESTAMP AND e.event_ts <= ${to}::TIMESTAMP AND e.collected_at <= ${to}::TIMESTAMP
        AND (e.event_type IN (${words(FAIL_EVENTS)})
             OR (e.event_type = 'agent.state_change' AND lower(json_extract_string(e.details_json, '$.state')) IN (${words(ERROR_STATES)})))`
    : sql``;
  const pane = sql.raw("PARTITION BY feed, machine_id, session, pane ORDER BY t");
  return store.query<Episode>(sql`${flagsSql(tables, from, to, windowS)},
    runs AS (SELECT DISTINCT * FROM (${sql.join(runs, " UNION ALL ")})),
    fails AS (
      SELECT feed, machine_id, session, pane, t AS ft FROM f WHERE err_entry
      UNION ALL SELECT feed, machine_id, session, pane, t FROM f WHERE prev_pid IS NOT NULL AND pid IS NOT NULL AND pid <> prev_pid
      UNION ALL SELECT s.feed, s.machine_id, s.session, s.pane, r.t FROM s ASOF JOIN runs r ON r.feed = s.feed AND r.machine_id = s.machine_id AND r.t > s.t
                WHERE s.next_t IS NULL OR s.next_t > r.t${events}),
    k AS (SELECT feed, machine_id, session, pane, t, prev_t, ${sql.raw(KINDS.map((k) => `${k}, lag(${k}) OVER p AS prev_${k}`).join(", "))}
          FROM h WINDOW p AS (${pane})),
    k2 AS (SELECT *, ${sql.raw(KINDS.map((k) => `sum(CASE WHEN ${k} AND NOT (coalesce(prev_${k}, false) AND epoch(t - prev_t) <= ${GAP_S}) THEN 1 ELSE 0 END) OVER p AS grp_${k}`).join(", "))}
           FROM k WINDOW p AS (${pane} ROWS UNBOUNDED PRECEDING)),
    episodes AS (${sql.raw(
      KINDS.map(
        (k) => `SELECT feed, machine_id, session, pane, '${k}' AS kind, min(t) AS start, max(t) AS last_t FROM k2 WHERE ${k} GROUP BY feed, machine_id, session, pane, grp_${k}`,
      ).join(" UNION ALL "),
    )})
    SELECT e.feed, e.kind, e.machine_id, e.session, e.pane, e.start, e.last_t, list(DISTINCT fl.ft) FILTER (WHERE fl.ft IS NOT NULL) AS fails
    FROM episodes e LEFT JOIN fails fl ON fl.feed = e.feed AND fl.machine_id = e.machine_id AND fl.session = e.session AND fl.pane = e.pane
      AND fl.ft > e.start AND fl.ft <= e.last_t + INTERVAL ${lit(HORIZON_S)} SECOND
    GROUP BY e.feed, e.kind, e.machine_id, e.session, e.pane, e.start, e.last_t`);
}

type EventRow = {
  tbl: string;
  machine_id: string;
  session_name: string | null;
  pane_ref: string | null;
  pane_index: number | null;
  ts: string;
  event_type: string | null;
  summary: string | null;
  to_state: string | null;
  pane_tail: string | null;
};

/** ntm's events and attention items in (from, to] known by `to`, for pane tails, stalls and errors. */
async function loadEvents(store: Store, tables: ReadonlySet<string>, from: string, to: string, machineId?: string): Promise<EventRow[]> {
  const mine = machineId === undefined ? sql`` : sql` AND machine_id = ${machineId}`;
  const parts = (["ntm_agent_events", "ntm_attention_items"] as const)
    .filter((t) => tables.has(t))
    .map(
      (t) => sql`SELECT ${t} AS tbl, machine_id, session_name, pane_ref, pane_index, event_ts AS ts, event_type, summary,
                    lower(json_extract_string(details_json, '$.state')) AS to_state, pane_tail
                 FROM ${sql.identifier(t)} WHERE event_ts > ${from}::TIMESTAMP AND event_ts <= ${to}::TIMESTAMP AND collected_at <= ${to}::TIMESTAMP${mine}`,
    );
  if (parts.length === 0) return [];
  return store.query<EventRow>(sql`${sql.join(parts, " UNION ALL ")} ORDER BY ts DESC`);
}

/** A duration for people: 45 s, 12 min, 2.5 h, 14 d. */
function dur(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86_400) return `${Math.round(s / 360) / 10} h`;
  return `${Math.round(s / 8640) / 10} d`;
}

/** The line the pane's last lines repeat most (digits masked), when one has 8 letters or more. */
export function repeatedLine(tail: string | null): { line: string; count: number } | null {
  if (!tail) return null;
  const counts = new Map<string, number>();
  for (const raw of tail.split("\n")) {
    const line = raw.trim().replace(/\s+/g, " ");
    if (line.replace(/[^\p{L}]/gu, "").length < 8) continue;
    const key = line.replace(/\d+/g, "#");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let best: { line: string; count: number } | null = null;
  for (const [line, count] of counts) if (!best || count > best.count) best = { line, count };
  return best;
}

/**
 * Percentage points per minute (least squares) through the last hour's context values since they
 * last were under the threshold (that value included) or dropped; null with fewer than two.
 */
function contextSlope(rows: readonly FlagRow[], atMs: number): number | null {
  let pts = rows.filter((r) => r.ctx !== null && Date.parse(r.t) > atMs - HORIZON_S * 1000).map((r) => ({ x: Date.parse(r.t) / 60_000, y: r.ctx! }));
  for (let i = pts.length - 1; i > 0; i--) {
    // A drop (a compaction, a new conversation) starts a new line; so does the climb past the threshold.
    if (pts[i]!.y < pts[i - 1]!.y - 5 || pts[i - 1]!.y < T.CONTEXT_PCT) {
      pts = pts.slice(pts[i - 1]!.y < T.CONTEXT_PCT && pts[i]!.y >= pts[i - 1]!.y ? i - 1 : i);
      break;
    }
  }
  if (pts.length < 2) return null;
  const mx = pts.reduce((a, p) => a + p.x, 0) / pts.length;
  const my = pts.reduce((a, p) => a + p.y, 0) / pts.length;
  const sxx = pts.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx > 0 ? pts.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx : null;
}

const RISK_RANK: Record<ProphecyRisk, number> = { low: 0, medium: 1, high: 2 };

/** One agent pane now: its rows in the window (oldest first) and ntm's events about it (newest first). */
type Agent = { rows: FlagRow[]; cur: FlagRow; events: EventRow[] };
/** A kind's reading of an agent before calibration. */
type Sign = {
  kind: ProphecyKind;
  indicators: ProphecyIndicator[];
  evidence: ProphecyEvidence[];
  /** null: since the episode began. */
  since: string | null;
  /** Why the thresholds say what they say, and the risk they give. */
  what: string;
  risk: ProphecyRisk;
  riskWhy: string;
  /** Whether the history's episodes (the SQL flag) back this reading; else why not. */
  calibrated: true | string;
};

const stateEvidence = (r: FlagRow, what: string): ProphecyEvidence => ({
  table: r.feed === "attention" ? "ntm_agent_states" : "ntm_agents_snapshot",
  collected_at: r.t,
  summary: `${r.feed === "attention" ? `state ${r.state}` : `process ${r.state}${r.proc ? ` (${r.proc})` : ""}`}; ${what}`,
});
const eventEvidence = (e: EventRow): ProphecyEvidence => ({
  table: e.tbl,
  ts: e.ts,
  summary: `${e.event_type ?? "event"}: ${e.summary ?? ""}`.trim(),
});
const newestFirst = (xs: ProphecyEvidence[]) => xs.sort((a, b) => Date.parse(b.collected_at ?? b.ts ?? "") - Date.parse(a.collected_at ?? a.ts ?? "")).slice(0, MAX_EVIDENCE);
const outputText = (r: FlagRow) => (r.output_age_s === null ? "output age unknown" : `no output for ${dur(r.output_age_s)}`);

/** What each kind's indicators say of one agent now (only the kinds over their thresholds). */
function readSigns(a: Agent, atMs: number, windowS: number): Sign[] {
  const { cur, rows, events } = a;
  const signs: Sign[] = [];
  const win = dur(windowS);
  const legacy = cur.feed === "legacy_status";

  if (cur.stuck) {
    const age = cur.output_age_s ?? 0;
    const stalls = events.filter((e) => e.tbl === "ntm_agent_events" && e.event_type === "agent.stalled");
    const indicators: ProphecyIndicator[] = [
      {
        name: "no_output_s",
        value: age,
        threshold: T.STUCK_S,
        text: legacy ? `no output for ${dur(age)} while its process is ${cur.state} (${cur.proc})` : `no output for ${dur(age)} while ntm reports it ${cur.state}`,
      },
    ];
    if (stalls.length > 0)
      indicators.push({ name: "ntm_stall_events", value: stalls.length, threshold: 1, text: `ntm reported it stalled ${stalls.length} time(s) in the last ${win}` });
    const high = age >= T.STUCK_HIGH_S || stalls.length > 0;
    signs.push({
      kind: "stuck",
      indicators,
      evidence: newestFirst([...rows.slice(-3).map((r) => stateEvidence(r, outputText(r))), ...stalls.slice(0, 2).map(eventEvidence)]),
      since: iso(Date.parse(cur.t) - age * 1000),
      what: indicators[0]!.text,
      risk: high ? "high" : "medium",
      riskWhy: high ? (age >= T.STUCK_HIGH_S ? `no output for ${dur(T.STUCK_HIGH_S)} or more` : "ntm itself reported it stalled") : `no output for ${dur(T.STUCK_S)} or more`,
      calibrated: true,
    });
  }

  const entries = rows.filter((r) => r.err_entry);
  const errEvents = events.filter(
    (e) => e.tbl === "ntm_agent_events" && (ERROR_EVENTS.includes(e.event_type ?? "") || (e.event_type === "agent.state_change" && ERROR_STATES.includes(e.to_state ?? ""))),
  );
  if (cur.erroring || errEvents.length >= T.ERROR_ENTRIES) {
    const inError = ERROR_STATES.includes(cur.state);
    const seen = [...new Set(entries.map((r) => r.state))].join(", ");
    const indicators: ProphecyIndicator[] = [
      {
        name: "error_entries",
        value: cur.err_entries,
        threshold: T.ERROR_ENTRIES,
        text: `entered an error state ${cur.err_entries} time(s) in the last ${win}${seen ? ` (${seen})` : ""}`,
      },
    ];
    if (errEvents.length > 0)
      indicators.push({ name: "error_events", value: errEvents.length, threshold: T.ERROR_ENTRIES, text: `ntm reported ${errEvents.length} error event(s) in the last ${win}` });
    if (inError) indicators.push({ name: "in_error_state", value: 1, threshold: 1, text: `in ${cur.state} in its newest snapshot` });
    const n = Math.max(cur.err_entries, errEvents.length);
    const high = n >= T.ERROR_HIGH || inError;
    const first = [...entries.map((r) => r.t), ...errEvents.map((e) => e.ts)].sort()[0] ?? cur.t;
    signs.push({
      kind: "erroring",
      indicators,
      evidence: newestFirst([
        ...entries.map((r) => stateEvidence(r, `entered from ${r.prev_state}`)),
        ...(inError && !cur.err_entry ? [stateEvidence(cur, "still in error")] : []),
        ...errEvents.map(eventEvidence),
      ]),
      since: first,
      what: indicators
        .filter((i) => i.value >= i.threshold)
        .map((i) => i.text)
        .join("; "),
      risk: high ? "high" : "medium",
      riskWhy: high
        ? n >= T.ERROR_HIGH
          ? `${T.ERROR_HIGH} or more errors in the window`
          : "repeated errors and in an error state now"
        : `${T.ERROR_ENTRIES} or more errors in the window`,
      calibrated: cur.erroring ? true : "history calibrates erroring by state entries, and these errors are seen in ntm's events only",
    });
  }

  const tail = events.find((e) => e.pane_tail);
  const rep = repeatedLine(tail?.pane_tail ?? null);
  const repeats = rep !== null && rep.count >= T.REPEATED_LINES;
  if (cur.looping || repeats) {
    const loopRows = rows.filter((r) => r.loop_entry !== null && r.loop_entry === cur.loop_state);
    const indicators: ProphecyIndicator[] = [];
    if (cur.loop_entries > 0)
      indicators.push({
        name: "state_reentries",
        value: cur.loop_entries,
        threshold: T.LOOP_ENTRIES,
        text: `entered «${cur.loop_state}» ${cur.loop_entries} time(s) in the last ${win}`,
      });
    if (rep)
      indicators.push({
        name: "repeated_output_lines",
        value: rep.count,
        threshold: T.REPEATED_LINES,
        text: `its last pane lines repeat «${rep.line}» ${rep.count} times`,
      });
    const both = cur.looping && repeats;
    const high = both || cur.loop_entries >= T.LOOP_HIGH;
    signs.push({
      kind: "looping",
      indicators,
      evidence: newestFirst([
        ...loopRows.map((r) => stateEvidence(r, `entered from ${r.prev_state}`)),
        ...(repeats && tail ? [{ ...eventEvidence(tail), summary: `${tail.event_type ?? "event"}: pane tail repeats «${rep.line}» ×${rep.count}` }] : []),
      ]),
      since: [...loopRows.map((r) => r.t), ...(repeats && tail ? [tail.ts] : [])].sort()[0] ?? cur.t,
      what: indicators
        .filter((i) => i.value >= i.threshold)
        .map((i) => i.text)
        .join("; "),
      risk: high ? "high" : "medium",
      riskWhy: high ? (both ? "repeated states and repeated output together" : `${T.LOOP_HIGH} or more re-entries in the window`) : "one loop sign over its threshold",
      calibrated: cur.looping ? true : "history calibrates looping by repeated states, and this one is flagged by its output alone",
    });
  }

  if (cur.context_exhaustion && cur.ctx !== null) {
    const slope = contextSlope(rows, atMs);
    const toFull = slope !== null && slope > 0 ? Math.round(Math.max(0, (100 - cur.ctx) / slope)) : null;
    const rise = cur.ctx - (cur.ctx_min_1h ?? cur.ctx);
    const indicators: ProphecyIndicator[] = [
      { name: "context_percent", value: cur.ctx, threshold: T.CONTEXT_PCT, text: `context at ${cur.ctx} %` },
      { name: "context_rise_1h", value: Math.round(rise * 10) / 10, threshold: 0, text: `up ${Math.round(rise * 10) / 10} points within the last hour` },
    ];
    if (toFull !== null)
      indicators.push({
        name: "minutes_to_full",
        value: toFull,
        threshold: T.FULL_SOON_MIN,
        text: `full in about ${toFull} min at its recent pace (${Math.round(slope! * 100) / 10} points per 10 min)`,
      });
    const high = cur.ctx >= T.CONTEXT_HIGH || (toFull !== null && toFull <= T.FULL_SOON_MIN);
    const recent = rows.filter((r) => r.ctx !== null).slice(-4);
    signs.push({
      kind: "context_exhaustion",
      indicators,
      evidence: newestFirst(recent.map((r) => stateEvidence(r, `context ${r.ctx} %`))),
      since: null,
      what: indicators.map((i) => i.text).join("; "),
      risk: high ? "high" : "medium",
      riskWhy: high
        ? cur.ctx >= T.CONTEXT_HIGH
          ? `context at ${T.CONTEXT_HIGH} % or more`
          : `full within ${T.FULL_SOON_MIN} min`
        : `context at ${T.CONTEXT_PCT} % or more and rising`,
      calibrated: true,
    });
  }
  return signs;
}

const riskOf = (p: number): ProphecyRisk => (p >= 0.5 ? "high" : p >= 0.2 ? "medium" : "low");

/** Tables of `names` that this store has. */
async function existingTables(store: Store, names: readonly string[]): Promise<Set<string>> {
  const rows = await store.query<{ table_name: string }>(sql`SELECT table_name FROM information_schema.tables WHERE table_name IN (${sql.join(names.map((n) => sql`${n}`))})`);
  return new Set(rows.map((r) => r.table_name));
}

/**
 * The agents that look stuck, looping, erroring or close to a full context at `at`, on every
 * machine (or one), from ntm's agent states and their history: each with its indicators, the rows
 * that show it, and a probability only where the store's own history calibrates one.
 * @example const { prophecies: list, warnings } = await prophecies(store, new Date().toISOString(), { windowHours: 2 })
 */
export async function prophecies(store: Store, at: string, opts: ProphecyOptions = {}): Promise<ProphecyResult> {
  const warnings: string[] = [];
  const atMs = Date.parse(at);
  if (!Number.isFinite(atMs)) return { prophecies: [], calibration: null, warnings: [`prophecies: ${JSON.stringify(at)} is not a time`] };
  const atIso = iso(atMs);
  const positive = (v: number | undefined, dflt: number, what: string) => {
    if (v === undefined) return dflt;
    if (Number.isFinite(v) && v > 0) return v;
    warnings.push(`prophecies: ${what} ${v} is not a positive number; ${dflt} used`);
    return dflt;
  };
  const windowS = positive(opts.windowHours, DEFAULT_WINDOW_HOURS, "windowHours") * 3600;
  const calibrationS = positive(opts.calibrationDays, DEFAULT_CALIBRATION_DAYS, "calibrationDays") * 86_400;
  const minEpisodes = Math.ceil(positive(opts.minEpisodes, DEFAULT_MIN_EPISODES, "minEpisodes"));

  const tables = await existingTables(store, ["ntm_agent_states", "ntm_agent_events", "ntm_attention_items", "ntm_attention_runs", "ntm_agents_snapshot", "ntm_activity_snapshot"]);
  const mine = opts.machineId === undefined ? sql`` : sql` AND machine_id = ${opts.machineId}`;
  // Each machine's newest snapshot at or before `at`, per feed: the agents it lists are the agents now.
  const latest: SqlQuery[] = [];
  if (tables.has("ntm_attention_runs") && tables.has("ntm_agent_states"))
    latest.push(sql`SELECT 'attention' AS feed, machine_id, max(collected_at) AS t FROM ntm_attention_runs WHERE collected_at <= ${atIso}::TIMESTAMP${mine} GROUP BY machine_id`);
  if (tables.has("ntm_agents_snapshot"))
    latest.push(sql`SELECT 'legacy_status', machine_id, max(collected_at) FROM ntm_agents_snapshot WHERE collected_at <= ${atIso}::TIMESTAMP${mine} GROUP BY machine_id`);
  const runs = latest.length ? await store.query<{ feed: ProphecyFeed; machine_id: string; t: string }>(sql.join(latest, " UNION ALL ")) : [];
  if (runs.length === 0) {
    warnings.push(
      opts.machineId === undefined
        ? await noDataWarning(store, TOOLS, atIso)
        : `no ntm agent data for machine ${opts.machineId} at or before ${atIso} (collectors: ntm_attention, or ntm on ntm ≤ 1.7)`,
    );
    return { prophecies: [], calibration: null, warnings };
  }
  // The attention feed where a machine has it (as vc robot attention reads it); the legacy status elsewhere.
  const now = new Map<string, { feed: ProphecyFeed; t: string }>();
  for (const r of [...runs].sort((a, b) => (a.feed === b.feed ? 0 : a.feed === "attention" ? -1 : 1))) if (!now.has(r.machine_id)) now.set(r.machine_id, r);
  const windowFrom = atMs - windowS * 1000;
  for (const [m, r] of now) {
    if (Date.parse(r.t) > windowFrom) continue;
    warnings.push(`ntm data on ${m} is from ${r.t}, older than the ${dur(windowS)} window: no prophecy for its agents`);
    now.delete(m);
  }

  // The history: every episode of every kind, for calibration and for the start of the episodes under way.
  const calibrationFrom = atMs - calibrationS * 1000;
  const episodes = await loadEpisodes(store, tables, iso(calibrationFrom - windowS * 1000 - HORIZON_S * 1000), atIso, windowS);

  const list: Prophecy[] = [];
  if (now.size > 0) {
    const rows = await store.query<FlagRow>(
      sql`${flagsSql(tables, iso(windowFrom - Math.max(windowS, HORIZON_S) * 1000), atIso, windowS, opts.machineId)}
          SELECT feed, machine_id, session, pane, pane_index, t, agent_type, state, output_age_s, ctx, proc, prev_state, err_entry, loop_entry, stuck,
                 err_entries, ctx_min_1h, loop_state, loop_entries, erroring, looping, context_exhaustion
          FROM h WHERE t > ${iso(windowFrom)}::TIMESTAMP ORDER BY machine_id, session, pane, t`,
    );
    const events = tables.has("ntm_agent_states") ? await loadEvents(store, tables, iso(windowFrom), atIso, opts.machineId) : [];
    const agents = new Map<string, Agent>();
    for (const r of rows) {
      const run = now.get(r.machine_id);
      if (!run || run.feed !== r.feed) continue;
      const key = `${r.machine_id}\u0000${r.session}\u0000${r.pane}`;
      let a = agents.get(key);
      if (!a) agents.set(key, (a = { rows: [], cur: r, events: [] }));
      a.rows.push(r);
      a.cur = r;
    }
    for (const a of agents.values()) {
      const { cur } = a;
      // Only the panes of the machine's newest snapshot are agents now.
      if (cur.t !== now.get(cur.machine_id)!.t) continue;
      a.events = events.filter(
        (e) =>
          e.machine_id === cur.machine_id && e.session_name === cur.session && (e.pane_ref ? e.pane_ref === cur.pane : e.pane_index !== null && e.pane_index === cur.pane_index),
      );
      for (const s of readSigns(a, atMs, windowS)) list.push(prophecyOf(a, s, episodes, { atMs, calibrationFrom, minEpisodes, calibrationS }));
    }
  }

  list.sort(
    (a, b) =>
      RISK_RANK[b.risk] - RISK_RANK[a.risk] ||
      (b.probability ?? -1) - (a.probability ?? -1) ||
      Date.parse(a.since) - Date.parse(b.since) ||
      a.machine_id.localeCompare(b.machine_id) ||
      a.session.localeCompare(b.session) ||
      a.pane.localeCompare(b.pane) ||
      a.kind.localeCompare(b.kind),
  );
  return { prophecies: list, calibration: calibrationOf(episodes, atMs, calibrationFrom, minEpisodes), warnings };
}

/** Past episodes of a feed and kind that started within the calibration span. */
const pastOf = (episodes: readonly Episode[], feed: ProphecyFeed, kind: ProphecyKind, calibrationFrom: number) =>
  episodes.filter((e) => e.feed === feed && e.kind === kind && Date.parse(e.start) >= calibrationFrom);

/** Whether an episode had a failure in (start + age, start + age + horizon]. */
const failedAt = (e: Episode, ageMs: number) => {
  const from = Date.parse(e.start) + ageMs;
  return (e.fails ?? []).some((f) => Date.parse(f) > from && Date.parse(f) <= from + HORIZON_S * 1000);
};

function prophecyOf(a: Agent, s: Sign, episodes: readonly Episode[], c: { atMs: number; calibrationFrom: number; minEpisodes: number; calibrationS: number }): Prophecy {
  const { cur } = a;
  // The episode under way: the one of this pane and kind that ends with its newest snapshot.
  const mine = episodes.find(
    (e) => e.feed === cur.feed && e.kind === s.kind && e.machine_id === cur.machine_id && e.session === cur.session && e.pane === cur.pane && e.last_t === cur.t,
  );
  const base = {
    machine_id: cur.machine_id,
    session: cur.session,
    pane: cur.pane,
    agent_type: cur.agent_type,
    kind: s.kind,
    indicators: s.indicators,
    evidence: s.evidence,
    since: s.since ?? mine?.start ?? cur.t,
    feed: cur.feed,
    state: cur.state,
  };
  const thresholds = `risk ${s.risk} from thresholds (${s.riskWhy})`;
  if (s.calibrated !== true) return { ...base, risk: s.risk, probability: null, basis: null, reason: `${s.what}. Not calibrated: ${s.calibrated}; ${thresholds}.` };
  const ageMs = mine ? Date.parse(cur.t) - Date.parse(mine.start) : 0;
  const eligible = pastOf(episodes, cur.feed, s.kind, c.calibrationFrom).filter(
    (e) => e !== mine && Date.parse(e.last_t) - Date.parse(e.start) >= ageMs && Date.parse(e.start) + ageMs + HORIZON_S * 1000 <= c.atMs,
  );
  const failed = eligible.filter((e) => failedAt(e, ageMs)).length;
  const basis = { episodes: eligible.length, failed, age_s: Math.round(ageMs / 1000) };
  const span = `${FEED_NAME[cur.feed]}, last ${dur(c.calibrationS)}`;
  const label = s.kind.replace("_", " ");
  if (eligible.length < c.minEpisodes)
    return {
      ...base,
      risk: s.risk,
      probability: null,
      basis,
      reason: `${s.what}. Not calibrated: ${eligible.length} past ${label} episode(s) reached this age (${dur(ageMs / 1000)}) in the history (${span}), ${c.minEpisodes} needed; ${thresholds}.`,
    };
  const p = Math.round((failed / eligible.length) * 1000) / 1000;
  return {
    ...base,
    risk: riskOf(p),
    probability: p,
    basis,
    reason: `${s.what}. ${failed} of ${eligible.length} past ${label} episodes that reached this age (${dur(ageMs / 1000)}; ${span}) failed within the next hour (an error state, a restart or the pane gone): p = ${p}; risk ${riskOf(p)} from it (thresholds alone: ${s.risk}, ${s.riskWhy}).`,
  };
}

function calibrationOf(episodes: readonly Episode[], atMs: number, calibrationFrom: number, minEpisodes: number): ProphecyCalibration {
  const kinds: ProphecyCalibration["kinds"] = [];
  for (const feed of ["attention", "legacy_status"] as const)
    for (const kind of KINDS) {
      const done = pastOf(episodes, feed, kind, calibrationFrom).filter((e) => Date.parse(e.start) + HORIZON_S * 1000 <= atMs);
      if (done.length === 0) continue;
      const failed = done.filter((e) => failedAt(e, 0)).length;
      kinds.push({ feed, kind, episodes: done.length, failed, probability: done.length >= minEpisodes ? Math.round((failed / done.length) * 1000) / 1000 : null });
    }
  return { horizon_minutes: HORIZON_S / 60, min_episodes: minEpisodes, from: iso(calibrationFrom), to: iso(atMs), outcome: OUTCOME, kinds };
}
