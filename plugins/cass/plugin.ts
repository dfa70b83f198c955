// What cass adds beyond its collector: the machine view's sessions section.
import { ageS, definePlugin, parseJson, sql, withJson, type MachineSection } from "vibe-cockpit";

/** cass on this machine: index status, archive totals, sessions per bucket over the last day. */
export const sessionsSection: MachineSection = {
  name: "sessions",
  async load(q) {
    const [index] = await q.store.query<Record<string, unknown> & { collected_at: string }>(
      sql`SELECT collected_at, state, healthy, initialized, index_status, index_fresh, index_stale, rebuilding, last_index_at, freshness_seconds,
                 documents, total_sessions, total_messages, pending_sessions, errors_json, recommended_action
          FROM cass_index_status WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP ORDER BY collected_at DESC LIMIT 1`,
    );
    const stats = await q.store.query<{ metric_name: string; dimensions_json: string | null; metric_value: number }>(
      sql`SELECT metric_name, dimensions_json, metric_value FROM cass_stats_snapshots
          WHERE machine_id = ${q.machineId} AND collected_at = (SELECT max(collected_at) FROM cass_stats_snapshots WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP)
          ORDER BY metric_name, dimension_key`,
    );
    const since = new Date(Date.parse(q.at) - 86_400_000).toISOString();
    const buckets = await q.store.query<Record<string, unknown>>(
      sql`SELECT bucket_start, bucket_end, granularity, conversation_count, message_count, open_sessions, by_agent_json FROM session_timeline_buckets
          WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP AND bucket_start > ${since}::TIMESTAMP AND bucket_start <= ${q.at}::TIMESTAMP
          QUALIFY row_number() OVER (PARTITION BY bucket_start ORDER BY collected_at DESC) = 1
          ORDER BY bucket_start`,
    );
    if (!index && !stats.length && !buckets.length) return null;
    return {
      index: index ? { ...withJson(index, ["errors_json"]), staleness_s: ageS(q.at, index.collected_at) } : null,
      stats: stats.map((s) => ({ metric: s.metric_name, dimensions: parseJson(s.dimensions_json), value: s.metric_value })),
      timeline_24h: buckets.map((b) => withJson(b, ["by_agent_json"])),
    };
  },
};

export const cassPlugin = definePlugin({ name: "cass", machineSections: [sessionsSection] });
