// beads' open issues as events of one repo.
import { eventTime, sql } from "vibe-cockpit";
import { queryEventSource, str } from "../_events.ts";

/** The repo's issues not closed, tombstoned or deleted, each as last collected by `to`: by priority, then most recently updated. */
export const beadsEvents = queryEventSource({
  name: "beads",
  group: "OPEN BEADS",
  scope: ["repo"],
  query: (q) =>
    q.repo
      ? sql`SELECT issue_id, title, status, priority, type, assignee, updated_at, blocked_by_json FROM beads_issues
            WHERE repo_id = ${q.repo.repo_id} AND (collected_at IS NULL OR collected_at <= ${q.to}::TIMESTAMP)
            QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY collected_at DESC NULLS LAST, updated_at DESC NULLS LAST) = 1
              AND status NOT IN ('closed', 'tombstone') AND deleted_at IS NULL
            ORDER BY priority NULLS LAST, updated_at DESC NULLS LAST, issue_id LIMIT ${q.limit}`
      : null,
  event: (r, q) => ({
    key: `beads:${q.repo!.repo_id}:${r.issue_id}`,
    machine_id: q.repo!.machine_id,
    at: eventTime(r.updated_at),
    severity: r.status === "blocked" ? "medium" : "info",
    title: `${str(r.issue_id)} P${str(r.priority ?? "?")} ${str(r.status)}: ${str(r.title)}`,
    fields: [
      ["issue", r.issue_id],
      ["title", r.title],
      ["status", r.status],
      ["priority", r.priority],
      ["type", r.type],
      ["assignee", r.assignee],
      ["blocked by", r.blocked_by_json],
    ],
    command: `br show ${str(r.issue_id)}`,
  }),
});
