// The shapes of the accounts view's answer (`vc robot accounts`), which its TUI pane reads.

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
