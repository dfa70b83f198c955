// `vc ask` about a repo, answered from the repos and events views: what is blocking <repo> — its
// state on each machine (behind, dirty, unpushed, diverged, missing), each with the git command
// that clears it, and what happened in it lately. beads adds its blockers to the same answer.
import { basename } from "node:path";
import { capture, defineCatalog, defineIntent, mentions, oneLine, whenText, type Fact, type IntentMatch, type Question, type VcEvent } from "vibe-cockpit";
import type { ReposData, RepoLine } from "./shapes.ts";

/** The words that stand for a repo in a question. */
export const REPO_WORDS = ["repo", "repository", "project", "codebase", "checkout"];

/** The repos ru reports, by name (and repo id, folder, folder name), one ref per machine it is on. */
export const repoCatalog = defineCatalog({
  kind: "repo",
  words: REPO_WORDS,
  async load(vc) {
    const d = (await vc.view("repos")).data as ReposData;
    return d.machines.flatMap((m) =>
      m.repos.map((r) => ({
        name: oneLine(r.repo ?? (r.path ? basename(r.path) : r.repo_id)),
        aliases: [r.repo_id, ...(r.path ? [r.path, basename(r.path)] : [])],
        id: `${m.id}\u0000${r.repo_id}`,
        ref: { machine_id: m.id, repo_id: r.repo_id, path: r.path },
      })),
    );
  },
});

const BLOCKING = [
  /\bwhat (?:is |are )?(?:blocking|holding up|holding back|stopping|slowing down|in the way of|standing in the way of) (.+)$/,
  /\b(?:is|are) (?:anything|something) (?:blocking|holding up|holding back) (.+)$/,
  /\bwhy (?:is|are) (.+?) (?:blocked|stalled|held up|not moving|not progressing|behind|dirty|out of date|out of sync)\b/,
  /\bblockers? (?:for|in|of|on) (.+)$/,
];

/** How a question asks what blocks a repo, and which repo (shared with beads, which answers the same question). */
export function repoBlockingMatch(q: Question): IntentMatch | null {
  const typed = capture(q, ...BLOCKING);
  if (typed !== null) return { score: 0.9, entities: { repo: { kind: "repo", typed, required: true } } };
  const before = capture(q, /^(?:what are |show |list )?(?:the )?(.+?) blockers?$/);
  if (before !== null) return { score: 0.75, entities: { repo: { kind: "repo", typed: before, required: true } } };
  // Blocking, but no repo named: "which repo?" rather than a guess.
  return mentions(q, /\bwhat (?:is |are )?(?:blocking|holding up)\b/) ? { score: 0.75, entities: { repo: { kind: "repo", typed: null, required: true } } } : null;
}

/** Each thing in the repo's state that holds work up, with the git command (run on its machine) that clears it. */
function stateFacts(r: RepoLine, machine: string): Fact[] {
  const at = `${r.repo ?? r.repo_id} on ${machine}`;
  const git = (args: string) => `${r.path ? `git -C ${r.path}` : "git"} ${args}`;
  const on = `on ${machine}: `;
  const facts: Fact[] = [];
  if (r.status === "missing") facts.push({ label: at, value: "not cloned there", recommendation: `${on}clone it`, command: "ru sync" });
  if (r.status === "not_git") facts.push({ label: at, value: `${r.path} is a folder but no git repository`, recommendation: `${on}clone it again or remove the folder` });
  if (r.status === "diverged" || ((r.ahead ?? 0) > 0 && (r.behind ?? 0) > 0))
    facts.push({ label: at, value: `diverged: ${r.ahead} ahead, ${r.behind} behind its upstream`, recommendation: `${on}rebase onto the upstream`, command: git("pull --rebase") });
  else if ((r.behind ?? 0) > 0)
    facts.push({
      label: at,
      value: `${r.behind} commit${r.behind === 1 ? "" : "s"} behind its upstream${r.branch ? ` (${r.branch})` : ""}`,
      recommendation: `${on}pull before an agent builds on old code`,
      command: git("pull --ff-only"),
    });
  else if ((r.ahead ?? 0) > 0)
    facts.push({
      label: at,
      value: `${r.ahead} commit${r.ahead === 1 ? "" : "s"} not pushed${r.branch ? ` (${r.branch})` : ""}`,
      recommendation: `${on}push, so other machines see the work`,
      command: git("push"),
    });
  if (r.dirty)
    facts.push({
      label: at,
      value: "uncommitted changes in the working tree",
      recommendation: `${on}commit or stash them (a pull or an agent's reset would trip on them)`,
      command: git("status --short"),
    });
  if (r.mismatch)
    facts.push({
      label: at,
      value: `branch mismatch: on ${r.branch ?? "another branch"}, not the one ru expects`,
      recommendation: `${on}check out the expected branch`,
      command: git("status"),
    });
  return facts;
}

/** what is blocking <repo>: its state on each machine and the repo's recent events. */
export const repoBlocking = defineIntent({
  name: "repo_blocking",
  summary: "What is blocking a repo: behind, dirty, unpushed or diverged on each machine (with the git command), its recent events, and beads' blockers",
  examples: ["what is blocking <repo>?", "why is <repo> blocked?"],
  catalogs: [repoCatalog],
  match: repoBlockingMatch,
  async answer(vc, e) {
    const repo = e.repo!;
    const refs = (repo.refs ?? []) as { machine_id: string; repo_id: string; path: string | null }[];
    const d = (await vc.view("repos")).data as ReposData;
    const lines = refs.flatMap((ref) => {
      const line = d.machines.find((m) => m.id === ref.machine_id)?.repos.find((r) => r.repo_id === ref.repo_id);
      return line ? [{ ref, line }] : [];
    });
    if (lines.length === 0) return null; // not a repo ru reports (beads' alone): beads answers
    const facts = lines.flatMap(({ ref, line }) => stateFacts(line, ref.machine_id));
    // What happened in it lately: denied commands, agents' work, beads opened … the serious first.
    const rank: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4, ok: 5 };
    const events: VcEvent[] = [];
    for (const { ref } of lines) {
      const r = await vc.view("events", { repo: ref.repo_id, repo_machine: ref.machine_id, ...(ref.path ? { path: ref.path } : {}), window: 7 * 86_400, limit: 20 });
      events.push(...(r.data as { events: VcEvent[] }).events);
    }
    const recent = events.filter((x) => (rank[x.severity] ?? 4) <= 2).sort((a, b) => (rank[a.severity] ?? 4) - (rank[b.severity] ?? 4) || (b.at ?? "").localeCompare(a.at ?? ""));
    for (const x of recent.slice(0, 8))
      facts.push({
        label: `${x.group.toLowerCase()}${x.at ? ` at ${whenText(x.at)}` : ""}`,
        value: `${x.title}${x.machine_id ? ` (${x.machine_id})` : ""}`,
        ...(x.command ? { recommendation: "look closer", command: x.command } : {}),
      });
    const where = lines.map(({ ref, line }) => `${ref.machine_id}: ${line.status ?? "unknown"}${line.dirty ? ", dirty" : ""}`).join("; ");
    const shown = Math.min(8, recent.length);
    const stateCount = facts.length - shown;
    const then = shown ? `; then its ${shown === 1 ? "latest event" : `${shown} latest events`} worth a look` : "";
    return {
      text:
        stateCount === 0
          ? `${repo.value} is current and clean (${where})${shown ? `: nothing in its state blocks it${then}:` : ": nothing in its state blocks it."}`
          : `${repo.value} has ${stateCount} thing${stateCount === 1 ? "" : "s"} in its way (${where})${then}:`,
      facts,
    };
  },
});

export const ruIntents = [repoBlocking];
