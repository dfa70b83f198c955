// Repos rule of plan §8.2: many dirty working trees on one machine point at stuck workflows.
import { defineRule, defineSource, gt, sql, threshold } from "vibe-cockpit";
import { SNAPSHOT_FRESH_MS, before } from "./_window.ts";

/** Each machine's newest `ru status` within 30 min (ru runs every 5 min): its dirty repos. */
export const dirtyReposLatest = defineSource({
  name: "dirty_repos_latest",
  description: "per machine: dirty repos in its newest ru status within 30 min (the first five named)",
  sql: (at) => sql`
    WITH latest AS (
      SELECT machine_id, max(collected_at) AS collected_at FROM repo_status_snapshots
      WHERE collected_at > ${before(at, SNAPSHOT_FRESH_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
      GROUP BY machine_id)
    SELECT r.machine_id, l.collected_at, count(*) FILTER (WHERE r.dirty) AS dirty_repos, count(*) AS repos,
           array_to_string(list_slice(list(coalesce(r.repo, r.repo_id) ORDER BY coalesce(r.repo, r.repo_id)) FILTER (WHERE r.dirty), 1, 5), ', ') AS examples
    FROM repo_status_snapshots r JOIN latest l ON r.machine_id = l.machine_id AND r.collected_at = l.collected_at
    GROUP BY r.machine_id, l.collected_at`,
});

/** More than 10 repos with uncommitted changes on one machine. */
export const dirtyRepos = defineRule({
  id: "dirty_repos",
  severity: "medium",
  title: "Many dirty repos",
  source: dirtyReposLatest,
  when: gt("dirty_repos", threshold("max_dirty", 10)),
  labels: ["machine_id"],
  value: "dirty_repos",
  message: "{machine_id}: {dirty_repos} of {repos} repos have uncommitted changes (e.g. {examples})",
  actions: [
    { title: "See every repo's state across the fleet", command: "vc robot repos" },
    { title: "On {machine_id}: ru's view of the repos", command: "ru status --no-fetch" },
    { title: "See whether the agents working there are stuck", command: "ntm --robot-status" },
  ],
});
