import * as v from "valibot";
import { defineCollector, type CollectContext } from "vibe-cockpit";
import { StatusOutputSchema, issueText, limitsRows, parseJsonOutput, statusRows } from "./parse.ts";

export interface CaamOptions {
  /** Also run `caam status --json` for the active profile and health per tool (default true). */
  status?: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

/** Runs one caam command and reads its JSON; a failure comes back as text. */
async function read(ctx: CollectContext, args: string[], check: (raw: unknown) => string | null): Promise<Outcome> {
  const what = `caam ${args.join(" ")}`;
  const r = await ctx.exec.run(["caam", ...args]);
  let raw: unknown;
  try {
    raw = parseJsonOutput(r.stdout);
  } catch {
    const why = r.stderr.trim().split("\n").slice(-3).join(" ").slice(0, 300) || JSON.stringify(r.stdout.slice(0, 120));
    return { ok: false, error: `${what} exited ${r.exitCode} without JSON: ${why}` };
  }
  const bad = check(raw);
  if (bad) return { ok: false, error: `${what} printed a different shape than expected (${bad})` };
  if (r.exitCode !== 0) ctx.warn(`${what} exited ${r.exitCode} but printed its JSON; read it`);
  return { ok: true, value: raw };
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
    version: "1.0.0",
    schemaVersion: 1,
    description: "caam limits --format json and caam status --json: limits per profile, active profile per tool",
    requires: { commands: ["caam"] },
    async collect(ctx) {
      const [limits, status] = await Promise.all([
        read(ctx, ["limits", "--format", "json"], (raw) => (Array.isArray(raw) ? null : "not a JSON array")),
        withStatus
          ? read(ctx, ["status", "--json"], (raw) => {
              const r = v.safeParse(StatusOutputSchema, raw);
              return r.success ? null : issueText(r);
            })
          : Promise.resolve(null),
      ]);
      if (!limits.ok && (!status || !status.ok)) {
        throw new Error([limits.error, status && !status.ok ? status.error : null].filter(Boolean).join("; "));
      }
      if (!limits.ok) ctx.warn(limits.error);
      if (status && !status.ok) ctx.warn(status.error);
      const { windows, profiles } = limits.ok ? limitsRows(limits.value as unknown[], ctx.warn) : { windows: [], profiles: [] };
      const tools = status?.ok ? statusRows(v.parse(StatusOutputSchema, status.value), ctx.warn) : [];
      return { rows: { account_limits_snapshot: windows, caam_profile_limits_snapshot: profiles, account_profile_snapshots: tools } };
    },
  });
}

export default caam;
