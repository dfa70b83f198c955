// What ntm adds beyond its collector: the machine view's agents section, and its degraded
// sources as a health factor (the column they are kept in comes with the plugin's migration).
import { ageS, definePlugin, minus, ramp, readings, sql, withJson, type AreaFactor, type MachineColumn, type MachineSection } from "vibe-cockpit";
import { ntmEvents } from "./events.ts";
import { agentsDiff } from "./diff.ts";
import type { DegradedSource } from "./parse.ts";
import { attentionEvents } from "./attention-events.ts";
import { needsYouScreen } from "./attention-screen.ts";
import { agentWaiting, agentWaitingLong } from "./rules.ts";
import { agentsScreen } from "./screen.ts";
import { ATTENTION_FEED_SQL, attentionView } from "./attention-view.ts";
import { ntmIntents } from "./intents.ts";
import { stuckAgentRecovery } from "./protocols.ts";

/** ntm on this machine: the latest activity totals, its sessions, and agents where ntm gave them. */
export const agentsSection: MachineSection = {
  name: "agents",
  async load(q) {
    const [activity] = await q.store.query<Record<string, unknown> & { collected_at: string }>(
      sql`SELECT * EXCLUDE (raw_json, machine_id, source, source_version, schema_version) FROM ntm_activity_snapshot
          WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP ORDER BY collected_at DESC LIMIT 1`,
    );
    const [last] = await q.store.query<{ collected_at: string | null }>(
      sql`SELECT max(collected_at) AS collected_at FROM ntm_sessions_snapshot WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP`,
    );
    const at = last?.collected_at ?? activity?.collected_at;
    if (!at) return null;
    const sessions = await q.store.query<Record<string, unknown>>(
      sql`SELECT session_name, attached, agent_count, health_status, health_reason, windows, pane_count, work_dir, base_project, label, agent_counts_json
          FROM ntm_sessions_snapshot WHERE machine_id = ${q.machineId} AND collected_at = ${at}::TIMESTAMP ORDER BY session_name`,
    );
    const agents = await q.store.query<Record<string, unknown>>(
      sql`SELECT session_name, pane_id, agent_type, variant, is_active, seconds_since_output, process_state_name, memory_mb, context_percent, context_model, last_output_at
          FROM ntm_agents_snapshot WHERE machine_id = ${q.machineId} AND collected_at = ${at}::TIMESTAMP ORDER BY session_name, pane_id`,
    );
    return {
      collected_at: at,
      staleness_s: ageS(q.at, at),
      activity: activity ? withJson(activity, ["by_type_json", "by_state_json", "alert_counts_json", "degraded_sources_json"]) : null,
      sessions: sessions.map((s) => withJson(s, ["agent_counts_json"])),
      agents,
    };
  },
};

/**
 * The fleet table's AGENTS column: the agents each machine's newest ntm status counted (its summary
 * total; where the summary had none, the agents it listed; null where it said neither).
 */
export const agentsColumn: MachineColumn = {
  name: "agents",
  title: "AGENTS",
  unit: "count",
  async load(q) {
    const rows = await q.store.query<{ machine_id: string; agents: number | null }>(
      sql`SELECT a.machine_id, coalesce(a.total_agents, (SELECT nullif(count(*), 0)::INTEGER FROM ntm_agents_snapshot g
              WHERE g.machine_id = a.machine_id AND g.collected_at = a.collected_at)) AS agents
          FROM ntm_activity_snapshot a
          WHERE a.machine_id IN (${sql.join(q.machineIds.map((id) => sql`${id}`))}) AND a.collected_at <= ${q.at}::TIMESTAMP
          QUALIFY row_number() OVER (PARTITION BY a.machine_id ORDER BY a.collected_at DESC) = 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.machine_id, r.agents]));
  },
};

const said = (d: DegradedSource) => `${d.name}${d.reason || d.last_error ? ` (${[d.reason, d.last_error].filter(Boolean).join(": ")})` : ""}`;

/**
 * Health factor ntm_sources: how many of ntm's data sources (tmux, beads, mail, caut …) its newest
 * status within 30 min reports degraded — unavailable or stale, so ntm's own answers are partial.
 */
export const ntmSourcesFactor: AreaFactor = {
  id: "ntm_sources",
  read: (store, at) =>
    readings(
      store,
      sql`SELECT machine_id, json_array_length(degraded_sources_json) AS value, degraded_sources_json AS degraded
          FROM ntm_activity_snapshot
          WHERE degraded_sources_json IS NOT NULL AND collected_at <= ${at}::TIMESTAMP AND collected_at > ${minus(at, 30 * 60_000)}::TIMESTAMP
          QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1`,
      (r) => {
        const list = JSON.parse(String(r.degraded)) as DegradedSource[];
        return list.length === 0 ? "every ntm source fresh" : `ntm sources degraded: ${list.map(said).join(", ")}`;
      },
    ),
  // One degraded source is a medium matter, two or more high.
  score: ramp(0, 2, 0.4),
};

export const ntmPlugin = definePlugin({
  name: "ntm",
  diffs: [agentsDiff],
  screens: [needsYouScreen, agentsScreen],
  // Who needs you: waiting agents as alerts that triage lists first.
  rules: [agentWaiting, agentWaitingLong],
  // ntm_activity_snapshot is vc's (core migration 010); the plugin adds the column its factor reads.
  migrations: [
    {
      name: "001_activity_degraded_sources.sql",
      sql: `-- The sources ntm --robot-status reports degraded ([{name, reason, since, last_error}]; [] when all
-- are fresh, NULL when the output says nothing of its sources).
ALTER TABLE ntm_activity_snapshot ADD COLUMN IF NOT EXISTS degraded_sources_json JSON;
`,
    },
    { name: "002_attention_feed.sql", sql: ATTENTION_FEED_SQL },
  ],
  machineSections: [agentsSection],
  machineColumns: [agentsColumn],
  events: [ntmEvents, attentionEvents],
  views: [attentionView],
  healthFactors: [ntmSourcesFactor],
  intents: ntmIntents,
  protocols: [stuckAgentRecovery],
  suggestions: {
    ntm_sources: (m) => [
      { title: `On ${m}: ntm's own view of its sources and why they are degraded`, command: "ntm --robot-status" },
      { title: "See the machine's agents and sessions", command: `vc robot machine ${m}` },
    ],
  },
});
