// The Repos pane: every repo of every machine's latest ru snapshot as a table (state, branch,
// ahead/behind, last commit); Enter opens one repo's history (the core's repo level).
import type { RepoLine, ReposData } from "./shapes.ts";
import { type Column, type Line, type ListItem, type ViewState, H, L, absolute, ageOf, clean, defineScreen, fieldLines, has, since, styles } from "vibe-cockpit/tui";

const COLUMNS: Column[] = [
  { id: "dot", title: "", width: 1, priority: 1 },
  { id: "machine", title: "MACHINE", width: 10, priority: 3 },
  { id: "repo", title: "REPO", width: 12, priority: 1, flex: true },
  { id: "state", title: "STATE", width: 11, priority: 1 },
  { id: "branch", title: "BRANCH", width: 10, priority: 4 },
  { id: "commit", title: "LAST COMMIT", width: 11, priority: 5, align: "right" },
  { id: "ready", title: "READY", width: 5, priority: 4, align: "right" },
];

/** What state a repo is in, in words: `dirty ↑2 ↓1`, `clean`, `missing`, `not a repo`. */
export function repoState(r: RepoLine): string {
  if (r.status === "missing") return "missing";
  if (r.status === "not_git") return "not a repo";
  const parts = [r.dirty ? "dirty" : "clean", r.ahead ? `↑${r.ahead}` : "", r.behind ? `↓${r.behind}` : "", r.mismatch ? "mismatch" : ""];
  return parts.filter(Boolean).join(" ");
}

function repoItems(s: ViewState, d: ReposData | undefined): ListItem[] {
  const out: ListItem[] = [];
  for (const m of d?.machines ?? []) {
    if (!has(m.id, s.filter.machine)) continue;
    for (const r of m.repos) {
      const name = r.repo ?? r.path ?? r.repo_id;
      if (!has(name, s.filter.repo)) continue;
      const bad = r.dirty || r.mismatch || r.status === "missing" || r.status === "not_git";
      out.push({
        key: `repo:${m.id}:${r.repo_id}`,
        group: "REPOS",
        machineId: m.id,
        repo: { machine_id: m.id, repo_id: r.repo_id, name, path: r.path, status: repoState(r) + (r.branch ? ` on ${r.branch}` : ""), collected_at: m.collected_at },
        value: r,
        cells: {
          dot: [bad ? "●" : "○", bad ? styles.warning : styles.healthy],
          machine: [m.id, styles.dim],
          repo: [name, styles.text],
          state: [repoState(r), bad || r.behind ? styles.warning : styles.healthy],
          branch: [r.branch ?? "", styles.dim],
          commit: [r.last_commit_at ? since(ageOf(r.last_commit_at, s.now)) : "", styles.dim],
          ready: [r.beads_ready === null || r.beads_ready === undefined ? "" : String(r.beads_ready), styles.dim],
        },
      });
    }
  }
  return out;
}

export const reposScreen = defineScreen<ReposData>({
  id: "repos",
  title: "Repos",
  short: "Repo",
  key: "g",
  fromMachine: true,
  columns: () => ({ "*": COLUMNS }),
  load: async ({ view }) => (await view("repos")).data as ReposData,
  items: repoItems,
  age: (s, d) => {
    const ages = (d?.machines ?? []).map((m) => ageOf(m.collected_at, s.now)).filter((x): x is number => x !== null);
    return ages.length ? Math.min(...ages) : null;
  },
  detail(s, d, item, w) {
    if (!d || d.machines.length === 0) return [H("REPOS"), L("no repo data: the ru collector is not configured or has not run", styles.dim)];
    const r = item?.value as RepoLine | undefined;
    if (!r || !item?.repo) return [H("REPOS"), L(`nothing matches on ${clean(s.filter.machine ?? "these machines")}`, styles.dim)];
    const m = d.machines.find((x) => x.id === item.repo!.machine_id);
    const lines: Line[] = [
      [
        [`${clean(item.repo.name)} `, styles.title],
        [`on ${clean(item.repo.machine_id)}`, styles.dim],
      ],
      H("STATE"),
      ...fieldLines(
        [
          ["state", repoState(r)],
          ["branch", r.branch],
          ["ahead", r.ahead],
          ["behind", r.behind],
          ["last commit", r.last_commit_at ? `${since(ageOf(r.last_commit_at, s.now))} (${absolute(r.last_commit_at)})` : null],
          ["path", r.path],
          ["url", r.url],
          ["ready beads", r.beads_ready],
        ],
        w,
      ),
      L("Enter: this repo's history (denies, mail, sessions, beads, status changes)", styles.dim),
    ];
    if (m) {
      const x = m.summary;
      lines.push(
        H(`${clean(m.id)}: ${x.repos} REPOS`),
        L(
          `  ${x.dirty} dirty · ${x.ahead} ahead · ${x.behind} behind · ${x.diverged} diverged · ${x.missing} missing · ${x.not_git} not a repo · ${x.no_upstream} without upstream`,
          styles.dim,
        ),
      );
    }
    return lines;
  },
});
