// How an escalation reaches a person: a critical alert per escalated run (critical alerts open an
// incident, and every channel is told), firing until a later run of the same protocol on the same
// target verifies, or for a day.
import { defineRule, defineSource, gte } from "../rules/define.ts";
import { sql } from "../store/sql.ts";

const escalatedRuns = defineSource({
  name: "guardian_escalated",
  description: "guardian runs escalated within the last 24 h, with no later verified run of the same protocol on the same target",
  sql: (at) => sql`
    SELECT r.run_id, r.protocol, r.target_key, r.machine_id, r.title, r.reason,
           round(date_diff('second', r.finished_at, ${at}::TIMESTAMP) / 3600, 1) AS hours_ago, 1 AS escalated
    FROM guardian_runs r
    WHERE r.status = 'escalated' AND r.finished_at <= ${at}::TIMESTAMP AND r.finished_at > ${at}::TIMESTAMP - INTERVAL 24 HOUR
      AND NOT EXISTS (SELECT 1 FROM guardian_runs v WHERE v.protocol = r.protocol AND v.target_key = r.target_key
                      AND v.status = 'verified' AND v.finished_at > r.finished_at AND v.finished_at <= ${at}::TIMESTAMP)`,
});

/** A guardian run escalated: its protocol could not heal the target, and a person must look. */
export const guardianEscalation = defineRule({
  id: "guardian_escalation",
  severity: "critical",
  title: "The guardian needs a person",
  source: escalatedRuns,
  when: gte("escalated", 1),
  labels: ["protocol", "target_key", "machine_id", "run_id"],
  value: "hours_ago",
  message: "{protocol} could not heal {title}: {reason}",
  actions: [
    { title: "See what the guardian ran and why it failed", command: "vc guardian show {run_id}" },
    { title: "The incident it opened", command: "vc incident list" },
  ],
});
