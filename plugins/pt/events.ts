// pt's findings as events: the kill and review candidates of each machine's newest plan.
import { eventTime, sql } from "vibe-cockpit";
import { inWindow, onMachine, queryEventSource, str } from "../_events.ts";

/**
 * Kill and review candidates of each machine's newest plan in the window, by score. The newest plan
 * is the newest snapshot (as the machine view reads it): a plan that found nothing clears the
 * findings of the plans before it.
 */
export const ptEvents = queryEventSource({
  name: "pt",
  group: "PT FINDINGS",
  scope: ["fleet"],
  query: (q) =>
    sql`WITH plan AS (
          SELECT machine_id, max(collected_at) AS collected_at FROM process_triage_snapshot
          WHERE ${inWindow("collected_at", q)}${onMachine(q)} GROUP BY machine_id)
        SELECT f.* EXCLUDE (raw_json, evidence_json) FROM process_triage_findings f JOIN plan USING (machine_id, collected_at)
        WHERE f.recommendation_set IN ('kill', 'review')
        ORDER BY f.machine_id, f.score DESC NULLS LAST, f.pid LIMIT ${q.limit}`,
  event: (r) => ({
    key: `pt:${r.machine_id}:${r.pid}`,
    machine_id: str(r.machine_id),
    at: eventTime(r.collected_at),
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
});
