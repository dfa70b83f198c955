// caam's output as a test needs it, from caam's own fixtures: `caam limits --format json` with each
// claude profile's 5-hour window at a given use, and `caam status --json` with a profile active.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const read = (p: string) => readFileSync(join(import.meta.dir, "../fixtures", p), "utf8");
const LIMITS = JSON.parse(read("caam/limits.format-json.json")) as Record<string, unknown>[];
const STATUS = JSON.parse(read("caam/status.json")) as { tools: Record<string, unknown>[] };

export const CAAM_RESET = "2026-11-03T12:30:00Z";
export const CAAM_EMAIL: Record<string, string> = { work: "alice@fleet.dev", spare: "bob@fleet.dev" };

/** `caam limits --format json` with each profile's 5-hour window at `used` %. */
export function caamLimits(now: Date, used: Record<string, number>, resetsAt = CAAM_RESET) {
  const claude = LIMITS.find((p) => p.provider === "claude")!;
  return Object.entries(used).map(([name, pct]) => ({
    ...claude,
    profile_name: name,
    usage: {
      ...(claude.usage as Record<string, unknown>),
      profile_name: name,
      primary_window: { utilization: pct / 100, used_percent: Math.floor(pct), resets_at: resetsAt, window_duration: 18_000_000_000_000 },
      secondary_window: { utilization: 0.2, used_percent: 20, resets_at: "2026-11-08T07:00:00Z", window_duration: 604_800_000_000_000 },
      fetched_at: now.toISOString(),
    },
  }));
}

/** `caam status --json` with `profile` active for claude. */
export function caamStatus(profile: string) {
  const claude = STATUS.tools.find((t) => t.tool === "claude")!;
  return { tools: [{ ...claude, active_profile: profile, identity: { ...(claude.identity as object), email: CAAM_EMAIL[profile] } }] };
}
