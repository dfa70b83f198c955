// Who needs you, as alerts (issue 20.4): an agent waiting for a person 5 minutes is medium, 30
// minutes high; either resolves when ntm no longer reports it waiting. They come with the ntm
// plugin (which owns the tables they read) and triage lists them before everything else.
import { and, defineRule, defineSource, gte, lt, sql, threshold } from "vibe-cockpit";
import { SNAPSHOT_FRESH_MS, before } from "../rules/_window.ts";
import { STATE_CLASSES } from "./attention-view.ts";

/**
 * Per machine, the agents of its newest ntm attention run (within 30 min) whose state needs a
 * person — waiting, erring, stalled … (ntm's words: STATE_CLASSES) — with how long: since the
 * wait began (vc's first sighting of the state, or ntm's action-required item about the pane when
 * that came after vc last saw the pane otherwise), or ntm's silence since the last output when
 * longer, never reaching back past the last other state vc saw.
 */
export const agentsWaiting = defineSource({
  name: "agents_waiting",
  description: "per machine, session and pane: agents whose state needs a person, and how long they have waited (seconds)",
  sql: (at) => sql`
    WITH runs AS (
      SELECT machine_id, collected_at FROM ntm_attention_runs
      WHERE collected_at > ${before(at, SNAPSHOT_FRESH_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
      QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1),
    cur AS (
      SELECT s.* FROM ntm_agent_states s JOIN runs USING (machine_id, collected_at)
      WHERE lower(s.state) IN (${sql.join(STATE_CLASSES.needs_person.map((w) => sql`${w}`))})),
    -- The last time vc saw the pane in another state: the wait began after it.
    changed AS (
      SELECT c.machine_id, c.session_name, c.pane,
             (SELECT max(x.collected_at) FROM ntm_agent_states x
               WHERE x.machine_id = c.machine_id AND x.session_name = c.session_name AND x.pane = c.pane
                 AND x.collected_at <= ${at}::TIMESTAMP AND x.state IS DISTINCT FROM c.state) AS changed_at
      FROM cur c),
    since AS (
      SELECT ch.machine_id, ch.session_name, ch.pane, ch.changed_at, min(h.collected_at) AS first_seen
      FROM changed ch JOIN ntm_agent_states h USING (machine_id, session_name, pane)
      WHERE h.collected_at <= ${at}::TIMESTAMP AND (ch.changed_at IS NULL OR h.collected_at > ch.changed_at)
      GROUP BY ALL),
    items AS (
      SELECT i.machine_id, i.session_name, i.pane_ref AS pane, min(i.event_ts) AS item_since
      FROM ntm_attention_items i JOIN runs USING (machine_id, collected_at)
      WHERE i.bucket = 'action_required' AND i.event_ts <= ${at}::TIMESTAMP GROUP BY ALL),
    w AS (
      SELECT cur.machine_id, cur.session_name, cur.pane, cur.agent_type, cur.state, since.first_seen AS state_since,
             -- ntm's item about the pane counts when it came after vc last saw the pane otherwise.
             CASE WHEN items.item_since IS NOT NULL AND (since.changed_at IS NULL OR items.item_since > since.changed_at)
                  THEN least(since.first_seen, items.item_since) ELSE since.first_seen END AS first_seen,
             since.changed_at,
             cur.last_output_age_s
      FROM cur JOIN since USING (machine_id, session_name, pane)
      LEFT JOIN items USING (machine_id, session_name, pane)),
    waits AS (
      SELECT *, greatest(date_diff('second', first_seen, ${at}::TIMESTAMP),
                         -- ntm's silence since the last output, but never longer than since vc saw the pane otherwise
                         least(coalesce(last_output_age_s, 0), coalesce(date_diff('second', changed_at, ${at}::TIMESTAMP), coalesce(last_output_age_s, 0)))) AS waited
      FROM w)
    SELECT machine_id, session_name, pane, agent_type, state, state_since, first_seen, waited::BIGINT AS waited_s, round(waited / 60)::BIGINT AS waited_min FROM waits`,
});

const waitingActions = [
  { title: "See who needs you, with ntm's next actions and the command to attach", command: "vc robot attention" },
  { title: "On {machine_id}: open the pane", command: "ntm attach {session_name}" },
];

/** An agent has waited for a person for 5 minutes (and not yet 30): medium. */
export const agentWaiting = defineRule({
  id: "agent_waiting",
  severity: "medium",
  title: "An agent waits for you",
  source: agentsWaiting,
  when: and(gte("waited_s", threshold("min_wait_s", 300)), lt("waited_s", threshold("long_wait_s", 1800))),
  labels: ["machine_id", "session_name", "pane"],
  value: "waited_min",
  waitsForPerson: true,
  message: "{agent_type} in {session_name} pane {pane} on {machine_id} is {state} and has waited {waited_min} min",
  actions: waitingActions,
});

/** An agent has waited for a person for 30 minutes or more: high. */
export const agentWaitingLong = defineRule({
  id: "agent_waiting_long",
  severity: "high",
  title: "An agent has waited for you a long time",
  source: agentsWaiting,
  when: gte("waited_s", threshold("long_wait_s", 1800)),
  labels: ["machine_id", "session_name", "pane"],
  value: "waited_min",
  waitsForPerson: true,
  message: "{agent_type} in {session_name} pane {pane} on {machine_id} is {state} and has waited {waited_min} min",
  actions: waitingActions,
});
