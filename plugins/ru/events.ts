// ru's snapshots of one repo as events: each change of its state (status, branch, dirty, ahead, behind).
import { eventTime, sql } from "vibe-cockpit";
import { queryEventSource, str } from "../_events.ts";
import { UNCOUNTED } from "./view.ts";

/**
 * The repo's snapshots on its machine by `to` whose state differs from the one before, newest
 * first. Counts ru could not make are null (as `vc robot repos` shows them), and a snapshot that
 * differs from the one before only by -1 becoming null is no change.
 */
export const ruEvents = queryEventSource({
  name: "ru",
  group: "STATUS CHANGES",
  scope: ["repo"],
  query: (q) =>
    q.repo
      ? sql`WITH s AS (
              SELECT collected_at, status, branch, last_commit_at,
                     CASE WHEN status IN ('missing', 'not_git') THEN NULL ELSE dirty END AS dirty,
                     CASE WHEN ahead < 0 OR status IN (${UNCOUNTED}) THEN NULL ELSE ahead END AS ahead,
                     CASE WHEN behind < 0 OR status IN (${UNCOUNTED}) THEN NULL ELSE behind END AS behind
              FROM repo_status_snapshots
              WHERE machine_id = ${q.repo.machine_id} AND repo_id = ${q.repo.repo_id} AND collected_at <= ${q.to}::TIMESTAMP),
            c AS (SELECT *, lag(row(status, branch, dirty, ahead, behind)) OVER (ORDER BY collected_at) AS before FROM s)
            SELECT collected_at, status, branch, dirty, ahead, behind, last_commit_at FROM c
            WHERE before IS NULL OR before IS DISTINCT FROM row(status, branch, dirty, ahead, behind)
            ORDER BY collected_at DESC LIMIT ${q.limit}`
      : null,
  event: (r, q) => ({
    key: `ru:${q.repo!.machine_id}:${q.repo!.repo_id}:${eventTime(r.collected_at)}`,
    machine_id: q.repo!.machine_id,
    at: eventTime(r.collected_at),
    severity: r.dirty || Number(r.behind) > 0 ? "low" : "ok",
    title: `${str(r.status)} on ${str(r.branch ?? "?")}${r.dirty ? ", dirty" : ""}${Number(r.ahead) ? `, ${str(r.ahead)} ahead` : ""}${Number(r.behind) ? `, ${str(r.behind)} behind` : ""}`,
    fields: [
      ["status", r.status],
      ["branch", r.branch],
      ["dirty", r.dirty],
      ["ahead", r.ahead],
      ["behind", r.behind],
      ["last commit", eventTime(r.last_commit_at)],
    ],
  }),
});
