// The shapes of the answers front ends read (the TUI's screens, a user's script): what a view
// promises, declared here so a reader need not import the plugin that produces it.

/** One rate-limit window as the views show it. */
export interface AccountWindow {
  window: string;
  used_percent: number | null;
  window_minutes: number | null;
  resets_at: string | null;
  /** Seconds until the reset (negative: it passed, so used_percent is no longer current). */
  resets_in_s: number | null;
}

/** A provider account as caut last saw it on a machine. */
export interface AccountUsage {
  machine_id: string;
  provider: string;
  account: string | null;
  collected_at: string;
  staleness_s: number;
  stale: boolean;
  /** The fullest window's used percent. */
  max_used_percent: number | null;
  status: string | null;
  auth_warning: string | null;
  credits_remaining: number | null;
  windows: (AccountWindow & { remaining_percent: number | null; reset_description: string | null })[];
}

/** A caam profile's limits as last fetched on a machine. */
export interface ProfileLimits {
  machine_id: string;
  provider: string;
  profile: string;
  /** It is the tool's active profile (caam status, same machine). */
  active: boolean | null;
  collected_at: string;
  staleness_s: number;
  stale: boolean;
  plan_type: string | null;
  error: string | null;
  max_used_percent: number | null;
  credits_balance: number | null;
  estimated_depletion: string | null;
  windows: AccountWindow[];
}

/** A tool's active profile and auth health (caam status). */
export interface ToolProfile {
  machine_id: string;
  tool: string;
  logged_in: boolean | null;
  active_profile: string | null;
  health_status: string | null;
  health_expires_at: string | null;
  expires_in_s: number | null;
  identity_email: string | null;
  error: string | null;
  collected_at: string;
  staleness_s: number;
  stale: boolean;
}

/** The `data` of `vc robot accounts` (vc.robot.accounts.v1). */
export interface AccountsData {
  accounts: AccountUsage[];
  profiles: ProfileLimits[];
  tools: ToolProfile[];
  /** Provider errors and status changes in the events window, newest first. */
  events: { machine_id: string; ts: string; provider: string; account: string | null; event_type: string; message: string | null }[];
}

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

/** One repo's newest triage in `vc robot beads`: the next picks and the blockers to clear. */
export interface BeadsTriage {
  repo_id: string;
  machine_id: string;
  repo_path: string | null;
  collected_at: string;
  recommendations: { id: string; title: string; score?: number }[];
  blockers: { id: string; title: string; unblocks_count?: number }[];
}

/** The `data` of `vc robot beads` (vc.robot.beads.v1). */
export interface BeadsData {
  repos: BeadsTriage[];
}
