// The shapes of the repos view's answer (`vc robot repos`), which the Repos and Beads panes read.

/** One repo of `vc robot repos`: its state in the machine's latest ru snapshot. */
export interface RepoLine {
  repo_id: string;
  repo: string | null;
  path: string | null;
  url: string | null;
  status: string | null;
  branch: string | null;
  /** Null where ru could not look (missing, not a git repo). */
  dirty: boolean | null;
  /** Commits ahead of / behind the upstream; null when unknown (no upstream, missing, not git, histories ru could not compare). */
  ahead: number | null;
  behind: number | null;
  mismatch: boolean | null;
  last_commit_at: string | null;
  /** Ready beads from the latest triage of this repo on this machine; null without beads data. */
  beads_ready: number | null;
}

/** One machine of `vc robot repos`. */
export interface MachineRepos {
  id: string;
  /** When ru's snapshot shown here was taken. */
  collected_at: string;
  /** Repos per state; `missing` (not cloned) and `not_git` (a folder that is no repository) apart. */
  summary: { repos: number; dirty: number; ahead: number; behind: number; diverged: number; missing: number; not_git: number; no_upstream: number; beads_ready: number | null };
  repos: RepoLine[];
}

export interface ReposData {
  machines: MachineRepos[];
}
