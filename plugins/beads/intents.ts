// beads' part of "what is blocking <repo>", answered from the beads view: the blockers bv's triage
// names in the repo, the most unblocking first, and the next pick once they are cleared.
import { basename } from "node:path";
import { defineCatalog, defineIntent, type Fact } from "vibe-cockpit";
import { REPO_WORDS, repoBlockingMatch } from "../ru/intents.ts";
import type { BeadsData } from "./shapes.ts";

/** The repos beads has triaged, by folder name (and repo id, folder), one ref per machine. */
export const beadsRepoCatalog = defineCatalog({
  kind: "repo",
  words: REPO_WORDS,
  async load(vc) {
    const d = (await vc.view("beads")).data as BeadsData;
    return d.repos.map((r) => ({
      name: r.repo_path ? basename(r.repo_path) : r.repo_id,
      aliases: [r.repo_id, ...(r.repo_path ? [r.repo_path] : [])],
      id: `${r.machine_id}\u0000${r.repo_id}`,
      ref: { machine_id: r.machine_id, repo_id: r.repo_id, path: r.repo_path },
    }));
  },
});

/** The blockers in <repo>'s newest triage, each with what clearing it unblocks and the command to read it. */
export const beadsBlocking = defineIntent({
  name: "repo_blocking",
  summary: "The blockers bv's triage names in a repo, the most unblocking first",
  examples: ["what is blocking <repo>?"],
  catalogs: [beadsRepoCatalog],
  match: repoBlockingMatch,
  async answer(vc, e) {
    const ids = [...new Set(((e.repo?.refs ?? []) as { repo_id: string }[]).map((r) => r.repo_id))];
    const facts: Fact[] = [];
    let next: string | null = null;
    for (const id of ids) {
      const d = (await vc.view("beads", { repo: id })).data as BeadsData;
      for (const t of d.repos) {
        const blockers = [...t.blockers].sort((a, b) => (b.unblocks_count ?? 0) - (a.unblocks_count ?? 0));
        for (const b of blockers)
          facts.push({
            label: `bead ${b.id}${b.unblocks_count !== undefined ? ` (unblocks ${b.unblocks_count})` : ""}`,
            value: b.title,
            recommendation: b.unblocks_count ? `clear it first: ${b.unblocks_count} bead${b.unblocks_count === 1 ? " waits" : "s wait"} on it` : "clear it",
            command: `br show ${b.id}`,
          });
        next ??= t.recommendations[0] ? `${t.recommendations[0].id} ${t.recommendations[0].title}` : null;
      }
    }
    if (facts.length === 0) return null;
    return { text: `beads: ${facts.length} blocker${facts.length === 1 ? "" : "s"} to clear in ${e.repo!.value}${next ? ` (then the next pick is ${next})` : ""}:`, facts };
  },
});

export const beadsIntents = [beadsBlocking];
