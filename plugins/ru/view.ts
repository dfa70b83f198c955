// `vc robot repos`: per machine, the repos of its latest ru snapshot, with ready beads.
import type { MachineRepos, RepoLine, ReposData } from "./shapes.ts";
import { defineView, sql, type SqlQuery, type Store } from "vibe-cockpit";
import { noDataWarning, type ViewTool } from "../_no-data.ts";

export type { MachineRepos, RepoLine, ReposData };

// The beads collectors' table, when they are installed: the latest ready count per (machine, repo).
const beadsJoin = (at: string): SqlQuery => sql`LEFT JOIN (
    SELECT machine_id, repo_id, ready_count FROM beads_triage_snapshots WHERE collected_at <= ${at}::TIMESTAMP
    QUALIFY row_number() OVER (PARTITION BY machine_id, repo_id ORDER BY collected_at DESC) = 1
  ) b ON b.machine_id = s.machine_id AND b.repo_id = s.repo_id`;

// Snapshots stored before vc read ru's placeholders as unknown hold -1 (and 0 where ru could not
// count): shown as null all the same.
export const UNCOUNTED = sql.raw("'missing', 'not_git', 'no_upstream'");

const reposQuery = (at: string, withBeads: boolean): SqlQuery => sql`
  WITH latest AS (SELECT machine_id, max(collected_at) AS t FROM repo_status_snapshots WHERE collected_at <= ${at}::TIMESTAMP GROUP BY machine_id)
  SELECT s.machine_id, s.collected_at, s.repo_id, s.repo, s.path, r.url, s.status, s.branch,
         CASE WHEN s.status IN ('missing', 'not_git') THEN NULL ELSE s.dirty END AS dirty,
         CASE WHEN s.ahead < 0 OR s.status IN (${UNCOUNTED}) THEN NULL ELSE s.ahead END AS ahead,
         CASE WHEN s.behind < 0 OR s.status IN (${UNCOUNTED}) THEN NULL ELSE s.behind END AS behind,
         s.mismatch, s.last_commit_at,
         ${withBeads ? sql`b.ready_count` : sql`NULL`}::INTEGER AS beads_ready
  FROM repo_status_snapshots s
  JOIN latest l ON l.machine_id = s.machine_id AND l.t = s.collected_at
  LEFT JOIN repos r ON r.machine_id = s.machine_id AND r.repo_id = s.repo_id
  ${withBeads ? beadsJoin(at) : sql``}
  ORDER BY s.machine_id, s.repo, s.path`;

type Row = RepoLine & { machine_id: string; collected_at: string };

/** The tool behind `vc robot repos`, and how to get it. */
export const REPO_TOOLS: readonly ViewTool[] = [
  {
    collector: "ru",
    install: "ru: install repo_updater (github.com/Dicklesworthstone/repo_updater) on the machines and list their repos in its config, so `ru list --json` names them",
  },
];

/**
 * `vc robot repos`: per machine, the repos of its latest ru snapshot at or before `at` with
 * branch, dirty, ahead/behind, last commit and the ready beads count (when the beads collectors
 * have written `beads_triage_snapshots`; null otherwise).
 * @example const { data, staleness, warnings } = await reposView(store, new Date().toISOString())
 */
export async function reposView(
  store: Store,
  at: string,
  options: { collectors?: readonly string[] } = {},
): Promise<{ data: ReposData; staleness: Record<string, number | null>; warnings: string[] }> {
  const warnings: string[] = [];
  let withBeads = true;
  let rows: Row[];
  try {
    rows = await store.query<Row>(reposQuery(at, true));
  } catch {
    withBeads = false; // no beads table (or an older one without ready_count) in this store
    rows = await store.query<Row>(reposQuery(at, false));
  }

  const byMachine = new Map<string, Row[]>();
  for (const r of rows) {
    const list = byMachine.get(r.machine_id) ?? [];
    list.push(r);
    byMachine.set(r.machine_id, list);
  }
  const machines: MachineRepos[] = [...byMachine.entries()].map(([id, list]) => {
    const repos = list.map(({ machine_id: _m, collected_at: _c, ...repo }) => repo);
    const ready = repos.map((r) => r.beads_ready).filter((n): n is number => n !== null);
    return {
      id,
      collected_at: list[0]!.collected_at,
      summary: {
        repos: repos.length,
        dirty: repos.filter((r) => r.dirty).length,
        ahead: repos.filter((r) => (r.ahead ?? 0) > 0).length,
        behind: repos.filter((r) => (r.behind ?? 0) > 0).length,
        diverged: repos.filter((r) => r.status === "diverged").length,
        missing: repos.filter((r) => r.status === "missing").length,
        not_git: repos.filter((r) => r.status === "not_git").length,
        no_upstream: repos.filter((r) => r.status === "no_upstream").length,
        beads_ready: ready.length ? ready.reduce((a, b) => a + b, 0) : null,
      },
      repos,
    };
  });

  // Staleness of ru and of whichever collectors wrote the beads rows, as the health view reports it.
  let sources: string[] = ["ru"];
  if (withBeads) {
    try {
      const s = await store.query<{ source: string }>("SELECT DISTINCT source FROM beads_triage_snapshots WHERE source IS NOT NULL ORDER BY 1");
      sources = [...sources, ...s.map((r) => r.source)];
    } catch {
      // a beads table without a source column: its freshness is unknown here
    }
  }
  const states = await store.query<{ machine_id: string; collector: string; last_result: string; last_ok_at: string | null; last_error: string | null }>(
    sql`SELECT machine_id, collector, last_result, last_ok_at, last_error FROM collector_state
        WHERE collector IN (${sql.join(sources.map((name) => sql`${name}`))}) AND last_result <> 'skipped' ORDER BY collector, machine_id`,
  );
  const staleness: Record<string, number | null> = {};
  const now = Date.parse(at);
  for (const name of sources) {
    const mine = states.filter((s) => s.collector === name);
    if (mine.length === 0) continue;
    const ages = mine.map((s) => (s.last_ok_at ? Math.max(0, Math.round((now - Date.parse(s.last_ok_at)) / 1000)) : null));
    staleness[name] = ages.includes(null) ? null : Math.max(...(ages as number[]));
    for (const s of mine) if (s.last_result === "failed") warnings.push(`${name} failed on ${s.machine_id}: ${s.last_error ?? "unknown error"}`);
  }
  if (machines.length > 0 && rows.every((r) => r.beads_ready === null)) warnings.push("no beads triage for any of these repos: beads_ready is null");
  if (machines.length === 0) warnings.push(await noDataWarning(store, REPO_TOOLS, at, options.collectors));
  return { data: { machines }, staleness, warnings };
}

/** `vc robot repos`: per machine, its repos and their state. */
export const reposViewDef = defineView({
  name: "repos",
  summary: "Per machine: repos with dirty, ahead/behind, last commit and ready beads",
  args: {},
  run: (vc) => reposView(vc.store, vc.clock.now().toISOString(), { collectors: vc.config.collectors.map((c) => c.name) }),
});
