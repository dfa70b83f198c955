import { commandFailed, defineCollector } from "vibe-cockpit";
import { mapPlan, readPlan } from "./parse.ts";
import { ptPlugin } from "./plugin.ts";

export interface PtOptions {
  /** Run at most this often (default 600 s): each plan scans every process and writes a pt session. */
  intervalSeconds?: number;
}

/**
 * pt (plan §3.8): `pt robot plan --format json`, a read-only triage of the machine's processes:
 * one snapshot per run and one finding per candidate (stuck, abandoned, runaway), with pt's
 * recommendation. vc only reads the plan; it never applies it.
 * @example collectors: [pt()]
 */
export function pt(options: PtOptions = {}) {
  return defineCollector({
    name: "pt",
    plugin: ptPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "pt robot plan --format json: process triage findings and recommendations",
    requires: { commands: ["pt"] },
    intervalSeconds: options.intervalSeconds ?? 600,
    limits: { timeoutMs: 120_000 },
    async collect(ctx) {
      const r = await ctx.exec.run(["pt", "robot", "plan", "--format", "json"], { env: { NO_COLOR: "1" } });
      // pt's exit codes 0–6 are outcomes (0 nothing to do, 1 a plan with candidates, …) and come
      // with the plan; 10 and above are errors (arguments, capabilities, lock, internal).
      if (r.exitCode === null || r.exitCode >= 10 || (r.exitCode !== 0 && r.stdout.trim() === "")) {
        throw commandFailed("pt robot plan", r);
      }
      const { raw, plan } = readPlan(r.stdout);
      const { snapshot, findings } = mapPlan(raw, plan, r.exitCode, ctx.warn);
      return { rows: { process_triage_snapshot: [snapshot], process_triage_findings: findings } };
    },
  });
}

export default pt;
