import { checkOutput, defineCollector, runJsonAs } from "vibe-cockpit";
import { StatusOutputSchema, limitsRows, statusRows } from "./parse.ts";
import { accountsPlugin } from "../accounts/index.ts";

export interface CaamOptions {
  /** Also run `caam status --json` for the active profile and health per tool (default true). */
  status?: boolean;
}

/**
 * caam (plan §3.3): rate-limit windows per provider profile from `caam limits --format json`
 * (plus each profile's plan, credits, burn rate and fetch error), and the active profile and
 * auth health per tool from `caam status --json`. A CLI snapshot: no cursor.
 * @example collectors: [caam()]
 */
export function caam(options: CaamOptions = {}) {
  const withStatus = options.status ?? true;
  return defineCollector({
    name: "caam",
    plugin: accountsPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "caam limits --format json and caam status --json: limits per profile, active profile per tool",
    requires: { commands: ["caam"] },
    async collect(ctx) {
      const [limits, status] = await Promise.all([
        runJsonAs(ctx, ["caam", "limits", "--format", "json"], (raw, what) => {
          if (!Array.isArray(raw)) throw new Error(`${what} printed a different shape than expected (not a JSON array)`);
          return raw as unknown[];
        }),
        withStatus ? runJsonAs(ctx, ["caam", "status", "--json"], (raw, what) => checkOutput(StatusOutputSchema, raw, what)) : Promise.resolve(null),
      ]);
      if (!limits.ok && !status?.ok) {
        throw new Error([limits.error, status && !status.ok ? status.error : null].filter(Boolean).join("; "));
      }
      if (!limits.ok) ctx.warn(limits.error);
      if (status && !status.ok) ctx.warn(status.error);
      const { windows, profiles } = limits.ok ? limitsRows(limits.value, ctx.warn) : { windows: [], profiles: [] };
      const tools = status?.ok ? statusRows(status.value, ctx.warn) : [];
      return { rows: { account_limits_snapshot: windows, caam_profile_limits_snapshot: profiles, account_profile_snapshots: tools } };
    },
  });
}

export default caam;
