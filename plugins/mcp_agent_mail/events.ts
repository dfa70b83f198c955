// mcp_agent_mail's messages as events: the fleet's urgent, high or ack-required mail in the window,
// or every message of one repo's project.
import { eventTime, sql } from "vibe-cockpit";
import { inWindow, onMachine, queryEventSource, str } from "../_events.ts";

/**
 * Messages newest first, each as last collected: in the fleet the urgent, high or ack-required
 * ones; for a repo every message of the project whose key is its path on its machine.
 */
export const mailEvents = queryEventSource({
  name: "mail",
  group: "MAIL",
  scope: ["fleet", "repo"],
  query(q) {
    if (q.repo && !q.repo.path) return null;
    const which = q.repo ? sql`machine_id = ${q.repo.machine_id} AND project_key = ${q.repo.path}` : sql`(importance IN ('urgent', 'high') OR ack_required)${onMachine(q)}`;
    return sql`SELECT machine_id, project_id, project_key, message_id, created_ts, thread_id, sender, importance, ack_required, subject, to_recipients_json
               FROM mail_messages WHERE ${which} AND ${inWindow("created_ts", q)}
               QUALIFY row_number() OVER (PARTITION BY machine_id, project_id, message_id ORDER BY collected_at DESC) = 1
               ORDER BY created_ts DESC, machine_id, project_id, message_id LIMIT ${q.limit}`;
  },
  event: (r) => ({
    key: `mail:${r.machine_id}:${r.project_id}:${r.message_id}`,
    machine_id: str(r.machine_id),
    at: eventTime(r.created_ts),
    severity: r.importance === "urgent" ? "high" : r.ack_required ? "medium" : "low",
    title: `${str(r.sender)}: ${str(r.subject)}`,
    fields: [
      ["from", r.sender],
      ["to", r.to_recipients_json],
      ["subject", r.subject],
      ["importance", r.importance],
      ["ack required", r.ack_required],
      ["project", r.project_key],
      ["thread", r.thread_id],
      ["message", r.message_id],
    ],
  }),
});
