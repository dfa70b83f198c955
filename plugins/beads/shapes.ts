// The shapes of the beads view's answer (`vc robot beads`), which the Beads pane reads.

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
