// dcg's denies and warnings as events: the fleet's in the window, or those in one repo's folder.
import { eventTime, sql } from "vibe-cockpit";
import { inWindow, onMachine, queryEventSource, str } from "../_events.ts";

/** Denies and warnings, newest first; for a repo, those whose cwd is its folder or under it on its machine. */
export const dcgEvents = queryEventSource({
  name: "dcg",
  group: "DCG DENIES",
  scope: ["fleet", "repo"],
  query(q) {
    if (q.repo && !q.repo.path) return null;
    const where = q.repo ? sql` AND machine_id = ${q.repo.machine_id} AND (cwd = ${q.repo.path} OR starts_with(cwd, ${q.repo.path} || '/'))` : onMachine(q);
    return sql`SELECT machine_id, event_key, ts, decision, rule_id, pack_id, reason, cwd, agent_type, session_id, origin,
                      json_extract_string(raw_json, '$.command') AS command
               FROM dcg_events WHERE decision IN ('deny', 'warn') AND ${inWindow("ts", q)}${where}
               ORDER BY ts DESC, machine_id, event_key LIMIT ${q.limit}`;
  },
  event: (r) => ({
    key: `dcg:${r.machine_id}:${r.event_key}`,
    machine_id: str(r.machine_id),
    at: eventTime(r.ts),
    severity: r.decision === "deny" ? "high" : "medium",
    title: `${str(r.decision)} ${str(r.rule_id ?? r.pack_id ?? "")}: ${str(r.command)}`,
    fields: [
      ["decision", r.decision],
      ["rule", r.rule_id],
      ["command", r.command],
      ["reason", r.reason],
      ["cwd", r.cwd],
      ["agent", r.agent_type],
      ["session", r.session_id],
      ["from", r.origin],
    ],
  }),
});
