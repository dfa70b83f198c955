// ntm's sessions as events of one repo: those working in its folder, as last seen.
import { eventTime, sql } from "vibe-cockpit";
import { queryEventSource, str } from "../_events.ts";

/** The sessions whose work_dir is the repo's path on its machine, each as ntm last reported it by `to`. */
export const ntmEvents = queryEventSource({
  name: "ntm",
  group: "NTM SESSIONS",
  scope: ["repo"],
  query: (q) =>
    q.repo?.path
      ? sql`SELECT session_name, collected_at, attached, agent_count, health_status, health_reason, git_branch, agent_counts_json
            FROM ntm_sessions_snapshot WHERE machine_id = ${q.repo.machine_id} AND work_dir = ${q.repo.path} AND collected_at <= ${q.to}::TIMESTAMP
            QUALIFY row_number() OVER (PARTITION BY session_name ORDER BY collected_at DESC) = 1
            ORDER BY collected_at DESC, session_name LIMIT ${q.limit}`
      : null,
  event: (r, q) => ({
    key: `ntm:${q.repo!.machine_id}:${r.session_name}`,
    machine_id: q.repo!.machine_id,
    at: eventTime(r.collected_at),
    severity: r.health_status && r.health_status !== "healthy" ? "medium" : "ok",
    title: `session ${str(r.session_name)}: ${str(r.agent_count ?? "?")} agents${r.health_status ? `, ${str(r.health_status)}` : ""}`,
    fields: [
      ["session", r.session_name],
      ["agents", r.agent_count],
      ["by type", r.agent_counts_json],
      ["health", r.health_status],
      ["reason", r.health_reason],
      ["attached", r.attached],
      ["branch", r.git_branch],
    ],
    command: `ntm attach ${str(r.session_name)}`,
  }),
});
