// What pt adds beyond its collector: the machine view's process triage section.
import { definePlugin, latestAt, sql, type MachineSection } from "vibe-cockpit";
import { ptEvents } from "./events.ts";
import { machineLoadHigh } from "./protocols.ts";

export const processTriageSection: MachineSection = {
  name: "process_triage",
  async load(q) {
    const [snap] = await q.store.query<Record<string, unknown>>(sql`SELECT collected_at, generated_at, exit_code, total_processes, candidates_found, kill_count,
          review_count, spare_count, policy_blocked_count, expected_memory_freed_gb
        FROM process_triage_snapshot WHERE machine_id = ${q.machineId} AND collected_at = ${latestAt("process_triage_snapshot", q)}`);
    if (!snap) return null;
    const findings = await q.store.query(sql`SELECT pid, comm, command, classification, confidence, score, recommendation, recommendation_set, reversibility,
          age_s, memory_mb, cpu_pct, policy_blocked, policy_violation, supervisor_unit
        FROM process_triage_findings WHERE machine_id = ${q.machineId} AND collected_at = ${snap.collected_at as string}::TIMESTAMP ORDER BY score DESC NULLS LAST, pid`);
    return { ...snap, findings };
  },
};

export const ptPlugin = definePlugin({
  name: "pt",
  machineSections: [processTriageSection],
  events: [ptEvents],
  protocols: [machineLoadHigh],
  suggestions: { load: () => [{ title: "Find stuck or runaway processes", command: "pt robot plan --format json" }] },
});
