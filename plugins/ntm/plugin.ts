// What ntm adds beyond its collector: the machine view's agents section.
import { ageS, definePlugin, sql, withJson, type MachineSection } from "vibe-cockpit";

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
      activity: activity ? withJson(activity, ["by_type_json", "by_state_json", "alert_counts_json"]) : null,
      sessions: sessions.map((s) => withJson(s, ["agent_counts_json"])),
      agents,
    };
  },
};

export const ntmPlugin = definePlugin({ name: "ntm", machineSections: [agentsSection] });
