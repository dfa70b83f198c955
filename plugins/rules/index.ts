// The default rule pack (plan §8.2): every MVP rule, each with thresholds vc.config.ts may tune.
import { VcError, withThresholds, type Rule } from "vibe-cockpit";
import { accountUsageHigh, cassIndexStale, dcgDenySpike, dcgNewRule, mailAckOverdue, mailUrgentBacklog, ranoUnknownDomain, rchQueueSaturated } from "./agents.ts";
import { dirtyRepos } from "./repos.ts";
import { diskLow, inotifyHigh, loadHigh, machineUnreachable, oomKill, swapRising } from "./system.ts";

export * from "./agents.ts";
export * from "./repos.ts";
export * from "./system.ts";

/** Every default rule, in the order of plan §8.2 (system, agents and tooling, repos), unreachable first. */
export const DEFAULT_RULES: readonly Rule[] = [
  machineUnreachable,
  diskLow,
  loadHigh,
  swapRising,
  oomKill,
  inotifyHigh,
  dcgDenySpike,
  dcgNewRule,
  ranoUnknownDomain,
  mailUrgentBacklog,
  mailAckOverdue,
  rchQueueSaturated,
  cassIndexStale,
  dirtyRepos,
  accountUsageHigh,
];

/** Threshold overrides by rule id, then threshold name: `{ disk_low: { min_free_pct: 15 } }`. */
export type RuleOverrides = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * The default rules, with some thresholds overridden. An unknown rule id or threshold name
 * throws (a typo must not silently keep the default).
 * @example rules: defaultRules({ disk_low: { min_free_pct: 15 }, load_high: { per_core: 2 } })
 */
export function defaultRules(overrides: RuleOverrides = {}): Rule[] {
  const known = DEFAULT_RULES.map((r) => r.id);
  for (const id of Object.keys(overrides)) {
    if (!known.includes(id)) {
      throw new VcError("config_invalid", `defaultRules: no default rule "${id}" (known: ${known.join(", ")})`, {
        hint: "override thresholds by rule id, e.g. defaultRules({ disk_low: { min_free_pct: 15 } })",
      });
    }
  }
  return DEFAULT_RULES.map((r) => {
    const t = overrides[r.id];
    return t ? withThresholds(r, { ...t }) : r;
  });
}
