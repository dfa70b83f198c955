// `vc robot attention`: every agent on every machine that needs a person, from ntm's attention
// feed (the ntm_attention collector's tables), the longest-kept and most-blocking first. Working,
// idle and done agents are counted, not listed. Where a machine's ntm predates the feed, its
// legacy per-agent status (ntm_agents_snapshot) is read instead, and the answer says so.
import { ageS, defineView, parseJson, sql, type Cockpit } from "vibe-cockpit";
import { noDataWarning } from "../_no-data.ts";
import { paneTail, type NtmAction } from "./attention-parse.ts";

/** The plugin's tables for the attention feed (migration 002). */
export const ATTENTION_FEED_SQL = `-- ntm's attention feed (ntm --robot-snapshot, --robot-events, --robot-attention).
-- One row per ntm_attention run and machine: the anchor the latest states and items are read at.
CREATE TABLE IF NOT EXISTS ntm_attention_runs(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    ntm_ts TIMESTAMP,
    latest_cursor BIGINT,
    agents INTEGER,
    items INTEGER,              -- NULL when --robot-attention could not be read this run
    events_ok BOOLEAN,
    attention_ok BOOLEAN,
    resynced VARCHAR,           -- why the event cursor was resynced from the snapshot this run
    source VARCHAR, source_version VARCHAR, schema_version INTEGER,
    PRIMARY KEY (machine_id, collected_at)
);
-- Each agent's state as each snapshot saw it (the newest run's rows are the current states).
CREATE TABLE IF NOT EXISTS ntm_agent_states(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    session_name VARCHAR NOT NULL,
    pane VARCHAR NOT NULL,      -- ntm's W.P
    pane_index INTEGER,
    session_attached BOOLEAN,
    agent_type VARCHAR,
    variant VARCHAR,
    state VARCHAR,              -- ntm's words: active, idle, waiting, error, unknown, ...
    last_output_age_s BIGINT,
    context_percent DOUBLE,
    current_bead VARCHAR,
    pending_mail INTEGER,
    latest_cursor BIGINT,
    source VARCHAR, source_version VARCHAR, schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, session_name, pane)
);
-- ntm's event journal. Its cursor restarts with a new ntm instance: the event's time tells them apart.
CREATE TABLE IF NOT EXISTS ntm_agent_events(
    machine_id VARCHAR NOT NULL,
    cursor BIGINT NOT NULL,
    event_ts TIMESTAMP NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    session_name VARCHAR,
    pane_index INTEGER,
    pane_ref VARCHAR,
    category VARCHAR,           -- kept as ntm says, known or not
    event_type VARCHAR,
    emitter VARCHAR,            -- ntm's source component (state_tracker, event_bus.agent, ...)
    actionability VARCHAR,
    severity VARCHAR,
    reason_code VARCHAR,
    summary VARCHAR,
    details_json JSON,
    next_actions_json JSON,     -- [{label, command, reason}]
    pane_tail VARCHAR,          -- the pane's last lines when ntm gave them, escape-stripped and bounded
    source VARCHAR, source_version VARCHAR, schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, cursor, event_ts)
);
-- What --robot-attention's digest surfaced each run (action_required and interesting items).
CREATE TABLE IF NOT EXISTS ntm_attention_items(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    cursor BIGINT NOT NULL,
    event_ts TIMESTAMP,
    bucket VARCHAR,
    cursor_start BIGINT,
    source_event_count INTEGER,
    session_name VARCHAR,
    pane_index INTEGER,
    pane_ref VARCHAR,
    category VARCHAR,
    event_type VARCHAR,
    emitter VARCHAR,
    actionability VARCHAR,
    severity VARCHAR,
    reason_code VARCHAR,
    summary VARCHAR,
    details_json JSON,
    next_actions_json JSON,
    pane_tail VARCHAR,
    source VARCHAR, source_version VARCHAR, schema_version INTEGER,
    raw_json JSON,
    PRIMARY KEY (machine_id, collected_at, cursor)
);
`;

/** How vc reads an agent's state word: whether it needs a person, works, idles, is done, or is a word vc does not know. */
export type StateClass = "needs_person" | "working" | "idle" | "done" | "other";

/** The state words of each class (what ntm prints, lower case). */
export const STATE_CLASSES: Record<Exclude<StateClass, "other">, readonly string[]> = {
  needs_person: ["waiting", "error", "blocked", "stalled", "stuck", "crashed", "rate_limited", "limited", "prompt", "prompt_wait", "approval", "needs_input", "input_required"],
  working: ["active", "busy", "working", "thinking", "running", "compacting", "generating"],
  idle: ["idle", "ready"],
  done: ["done", "completed", "complete", "finished", "exited", "stopped"],
};

export function stateClass(state: string | null): StateClass {
  const s = (state ?? "").toLowerCase();
  for (const [cls, words] of Object.entries(STATE_CLASSES)) if (words.includes(s)) return cls as StateClass;
  return "other";
}

const SEVERITY: Record<string, number> = { critical: 4, error: 3, warning: 2, info: 1, debug: 1 };

/** One ntm item about an agent's pane. */
export interface AttentionItem {
  cursor: number;
  at: string | null;
  category: string;
  type: string;
  actionability: string | null;
  severity: string | null;
  summary: string | null;
}

/** One agent that needs a person. */
export interface AttentionAgent {
  machine_id: string;
  session: string;
  pane: string;
  agent_type: string | null;
  variant: string | null;
  /** The provider account or profile, when ntm names one. */
  account: string | null;
  state: string | null;
  /** Since when it has waited for a person (ISO): the earliest of its items, its last output, and its state's first sighting. */
  since: string;
  waited_s: number;
  /** How much it holds up: the worst severity (1–4), plus its bead in progress and unread mail (up to 3). */
  blocks: number;
  /** The sort key: waited_s × blocks. */
  score: number;
  why: {
    /** ntm's summary of the most pressing item, else what its state says. */
    summary: string;
    actionability: string | null;
    severity: string | null;
    category: string | null;
    type: string | null;
    current_bead: string | null;
    pending_mail: number | null;
    /** The pane's last lines when ntm gave them: escape-stripped, at most 40 lines / 4000 characters. */
    pane_tail: string | null;
  };
  items: AttentionItem[];
  /** ntm's own next_actions for this agent (ntm commands, run on the machine), then the way there. */
  actions: NtmAction[];
  /** The command that opens the pane: `ssh -t HOST ntm attach S` for a remote machine, tmux locally. */
  attach: string;
  /** Where the answer came from: ntm's attention feed, or legacy --robot-status (old ntm). */
  feed: "attention" | "legacy_status";
  collected_at: string;
}

export interface AttentionData {
  agents: AttentionAgent[];
  counts: {
    needs_person: number;
    working: number;
    idle: number;
    done: number;
    /** States vc does not know, counted by their word in by_state. */
    other: number;
    by_state: Record<string, number>;
    /** ntm items about no agent vc sees now (a global item, or a session that no longer exists). */
    items_without_agent: number;
  };
  machines: { machine_id: string; collected_at: string; feed: "attention" | "legacy_status"; staleness_s: number }[];
}

const SAFE = /^[A-Za-z0-9_.:@%+=,/-]+$/;
const shq = (s: string) => (SAFE.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/** The ssh arguments of a machine's target (`user@host:port` → `-p port user@host`; an alias as is). */
function sshArgs(target: string): string {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s]+)(?::(\d+))?$/.exec(target);
  if (!m) return shq(target);
  const host = `${m[1] ? `${m[1]}@` : ""}${m[2]!.replace(/^\[|\]$/g, "")}`;
  return `${m[3] ? `-p ${m[3]} ` : ""}${shq(host)}`;
}

/** The command that brings a person to the pane. */
export function attachCommand(vc: Pick<Cockpit, "config">, machineId: string, session: string, pane: string): string {
  const target = vc.config.machines.find((m) => m.id === machineId)?.ssh ?? machineId;
  if (target === "local") return `tmux attach -t ${shq(session)} \\; select-pane -t ${shq(`${session}:${pane}`)}`;
  return `ssh -t ${sshArgs(target)} ntm attach ${shq(session)}`;
}

type StateRow = {
  machine_id: string;
  collected_at: string;
  session_name: string;
  pane: string;
  pane_index: number | null;
  agent_type: string | null;
  variant: string | null;
  state: string | null;
  last_output_age_s: number | null;
  current_bead: string | null;
  pending_mail: number | null;
  first_seen: string;
  raw_json: unknown;
};
type ItemRow = {
  machine_id: string;
  cursor: number;
  event_ts: string | null;
  bucket: string | null;
  session_name: string | null;
  pane_index: number | null;
  pane_ref: string | null;
  category: string | null;
  event_type: string | null;
  actionability: string | null;
  severity: string | null;
  summary: string | null;
  details_json: unknown;
  next_actions_json: unknown;
  pane_tail: string | null;
};

const str = (x: unknown) => (typeof x === "string" && x.trim() !== "" ? x.trim() : null);
const accountIn = (o: unknown) => {
  const r = parseJson(o) as Record<string, unknown> | null;
  return r && typeof r === "object" ? (str(r.account) ?? str(r.account_id) ?? str(r.profile)) : null;
};
const earliest = (xs: (string | null)[]) => xs.filter((x): x is string => !!x).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
const minusS = (t: string, s: number) => new Date(Date.parse(t) - s * 1000).toISOString();

/** The latest states at or before `at` of every machine's newest ntm_attention run, with when each pane's current state was first seen. */
async function latestStates(vc: Cockpit, at: string): Promise<StateRow[]> {
  return vc.store.query<StateRow>(
    sql`WITH runs AS (SELECT machine_id, collected_at FROM ntm_attention_runs WHERE collected_at <= ${at}::TIMESTAMP
                      QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1),
             cur AS (SELECT s.* FROM ntm_agent_states s JOIN runs USING (machine_id, collected_at)),
             hist AS (SELECT h.machine_id, h.session_name, h.pane, h.collected_at,
                             max(CASE WHEN h.state IS DISTINCT FROM c.state THEN h.collected_at END)
                               OVER (PARTITION BY h.machine_id, h.session_name, h.pane) AS changed_at
                      FROM ntm_agent_states h JOIN cur c USING (machine_id, session_name, pane)
                      WHERE h.collected_at <= ${at}::TIMESTAMP),
             firsts AS (SELECT machine_id, session_name, pane, min(collected_at) AS first_seen FROM hist
                        WHERE changed_at IS NULL OR collected_at > changed_at GROUP BY ALL)
        SELECT cur.machine_id, cur.collected_at, cur.session_name, cur.pane, cur.pane_index, cur.agent_type, cur.variant, cur.state,
               cur.last_output_age_s, cur.current_bead, cur.pending_mail, firsts.first_seen, cur.raw_json
        FROM cur JOIN firsts USING (machine_id, session_name, pane)
        ORDER BY cur.machine_id, cur.session_name, cur.pane`,
  );
}

async function latestItems(vc: Cockpit, at: string): Promise<ItemRow[]> {
  return vc.store.query<ItemRow>(
    sql`WITH runs AS (SELECT machine_id, collected_at FROM ntm_attention_runs WHERE collected_at <= ${at}::TIMESTAMP
                      QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1)
        SELECT i.machine_id, i.cursor, i.event_ts, i.bucket, i.session_name, i.pane_index, i.pane_ref, i.category, i.event_type,
               i.actionability, i.severity, i.summary, i.details_json, i.next_actions_json, i.pane_tail
        FROM ntm_attention_items i JOIN runs USING (machine_id, collected_at) ORDER BY i.machine_id, i.cursor`,
  );
}

/** The legacy per-agent status of machines with no attention feed (ntm ≤ 1.7): newest snapshot of each. */
async function legacyAgents(vc: Cockpit, at: string, skip: ReadonlySet<string>) {
  const rows = await vc.store
    .query<{
      machine_id: string;
      collected_at: string;
      session_name: string;
      pane_id: string;
      agent_type: string | null;
      variant: string | null;
      is_active: boolean | null;
      seconds_since_output: number | null;
      rate_limit_detected: boolean | null;
      rate_limit_match: string | null;
    }>(
      sql`SELECT a.machine_id, a.collected_at, a.session_name, a.pane_id, a.agent_type, a.variant, a.is_active, a.seconds_since_output, a.rate_limit_detected, a.rate_limit_match
          FROM ntm_agents_snapshot a
          JOIN (SELECT machine_id, max(collected_at) AS collected_at FROM ntm_agents_snapshot WHERE collected_at <= ${at}::TIMESTAMP GROUP BY machine_id) l USING (machine_id, collected_at)
          ORDER BY a.machine_id, a.session_name, a.pane_id`,
    )
    .catch(() => []);
  return rows.filter((r) => !skip.has(r.machine_id));
}

/** `vc robot attention`: who needs a person now, on every machine. */
export const attentionView = defineView({
  name: "attention",
  summary:
    "Every agent on every machine that needs a person (waiting, erring, stalled), longest-waiting and most-blocking first, with ntm's next actions and the command to attach",
  args: {},
  async run(vc): Promise<{ data: AttentionData; warnings: string[] }> {
    const at = vc.clock.now().toISOString();
    const warnings: string[] = [];
    const [states, items] = await Promise.all([latestStates(vc, at), latestItems(vc, at)]);
    const counts: AttentionData["counts"] = { needs_person: 0, working: 0, idle: 0, done: 0, other: 0, by_state: {}, items_without_agent: 0 };
    const machines = new Map<string, AttentionData["machines"][number]>();
    const agents: AttentionAgent[] = [];
    const used = new Set<ItemRow>();

    for (const s of states) {
      if (!machines.has(s.machine_id))
        machines.set(s.machine_id, { machine_id: s.machine_id, collected_at: s.collected_at, feed: "attention", staleness_s: ageS(at, s.collected_at) });
      const stateWord = s.state ?? "unknown";
      counts.by_state[stateWord] = (counts.by_state[stateWord] ?? 0) + 1;
      const mine = items.filter(
        (i) => i.machine_id === s.machine_id && i.session_name === s.session_name && (i.pane_ref ? i.pane_ref === s.pane : i.pane_index !== null && i.pane_index === s.pane_index),
      );
      for (const i of mine) used.add(i);
      const pressing = mine.filter((i) => i.bucket === "action_required" || i.actionability === "action_required");
      const cls = stateClass(s.state);
      const listed = cls === "needs_person" || (cls !== "working" && pressing.length > 0);
      if (!listed) {
        counts[cls]++;
        continue;
      }
      counts.needs_person++;
      const top = [...pressing].sort((a, b) => (SEVERITY[b.severity ?? ""] ?? 1) - (SEVERITY[a.severity ?? ""] ?? 1) || a.cursor - b.cursor)[0];
      const since = earliest([...pressing.map((i) => i.event_ts), s.last_output_age_s !== null ? minusS(s.collected_at, s.last_output_age_s) : null, s.first_seen])!;
      const severityRank = top ? (SEVERITY[top.severity ?? ""] ?? 1) : s.state === "error" ? 3 : 2;
      const blocks = severityRank + (s.current_bead ? 1 : 0) + Math.min(3, Math.max(0, s.pending_mail ?? 0));
      const waited = ageS(at, since);
      const actions: NtmAction[] = [];
      for (const i of [...pressing, ...mine.filter((x) => !pressing.includes(x))]) {
        for (const a of (parseJson(i.next_actions_json) as NtmAction[] | null) ?? []) if (!actions.some((b) => b.command === a.command)) actions.push(a);
      }
      agents.push({
        machine_id: s.machine_id,
        session: s.session_name,
        pane: s.pane,
        agent_type: s.agent_type,
        variant: s.variant,
        account: accountIn(s.raw_json) ?? mine.map((i) => accountIn(i.details_json)).find(Boolean) ?? null,
        state: s.state,
        since,
        waited_s: waited,
        blocks,
        score: waited * blocks,
        why: {
          summary: top?.summary ?? `ntm reports this agent ${stateWord}`,
          actionability: top?.actionability ?? null,
          severity: top?.severity ?? null,
          category: top?.category ?? null,
          type: top?.event_type ?? null,
          current_bead: s.current_bead,
          pending_mail: s.pending_mail,
          pane_tail: paneTail(mine.map((i) => i.pane_tail).find(Boolean) ?? null),
        },
        items: mine.map((i) => ({
          cursor: Number(i.cursor),
          at: i.event_ts,
          category: i.category ?? "unknown",
          type: i.event_type ?? "unknown",
          actionability: i.actionability,
          severity: i.severity,
          summary: i.summary,
        })),
        actions,
        attach: attachCommand(vc, s.machine_id, s.session_name, s.pane),
        feed: "attention",
        collected_at: s.collected_at,
      });
    }
    counts.items_without_agent = items.filter((i) => !used.has(i)).length;

    // Machines whose ntm predates the feed: their legacy per-agent status, where the ntm collector kept one.
    for (const r of await legacyAgents(vc, at, new Set(machines.keys()))) {
      if (!machines.has(r.machine_id)) {
        machines.set(r.machine_id, { machine_id: r.machine_id, collected_at: r.collected_at, feed: "legacy_status", staleness_s: ageS(at, r.collected_at) });
        warnings.push(`ntm on ${r.machine_id} gives no attention feed: agents read from its legacy --robot-status (rate limits only; no waiting or error states)`);
      }
      const word = r.rate_limit_detected ? "rate_limited" : r.is_active ? "active" : "idle";
      counts.by_state[word] = (counts.by_state[word] ?? 0) + 1;
      if (!r.rate_limit_detected) {
        counts[r.is_active ? "working" : "idle"]++;
        continue;
      }
      counts.needs_person++;
      const since = r.seconds_since_output !== null ? minusS(r.collected_at, r.seconds_since_output) : r.collected_at;
      const waited = ageS(at, since);
      agents.push({
        machine_id: r.machine_id,
        session: r.session_name,
        pane: r.pane_id,
        agent_type: r.agent_type,
        variant: r.variant,
        account: null,
        state: word,
        since,
        waited_s: waited,
        blocks: 2,
        score: waited * 2,
        why: {
          summary: `rate limit detected${r.rate_limit_match ? `: ${paneTail(r.rate_limit_match)}` : ""}`,
          actionability: null,
          severity: null,
          category: null,
          type: null,
          current_bead: null,
          pending_mail: null,
          pane_tail: null,
        },
        items: [],
        actions: [{ label: "See the agents", command: "ntm --robot-status", reason: null }],
        attach: attachCommand(vc, r.machine_id, r.session_name, r.pane_id),
        feed: "legacy_status",
        collected_at: r.collected_at,
      });
    }

    const skipped = await vc.store
      .query<{ machine_id: string; last_error: string | null }>(
        sql`SELECT machine_id, last_error FROM collector_state WHERE collector = 'ntm_attention' AND last_result = 'skipped'`,
      )
      .catch(() => []);
    for (const s of skipped)
      if (!machines.has(s.machine_id) || machines.get(s.machine_id)?.feed === "legacy_status")
        warnings.push(`ntm_attention skipped on ${s.machine_id}: ${s.last_error ?? "no reason given"}`);

    agents.sort(
      (a, b) => b.score - a.score || b.waited_s - a.waited_s || a.machine_id.localeCompare(b.machine_id) || a.session.localeCompare(b.session) || a.pane.localeCompare(b.pane),
    );
    if (machines.size === 0) {
      warnings.push(
        await noDataWarning(
          vc.store,
          [
            {
              collector: "ntm_attention",
              install: "ntm_attention: install ntm (with the attention feed: --robot-snapshot) on the machines and add ntmAttention() to the config's collectors",
            },
          ],
          at,
          vc.config.collectors.map((c) => c.name),
        ),
      );
    }
    return { data: { agents, counts, machines: [...machines.values()] }, warnings };
  },
});
