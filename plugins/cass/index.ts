import * as v from "valibot";
import { checkOutput, cursor, defineCollector, issueText, runJson, type Cursor } from "vibe-cockpit";
import { cassSearch } from "./search.ts";
import { HealthSchema, StatsSchema, TimelineSchema, healthRow, statsRows, timelineRows, type BucketMemory } from "./parse.ts";
import { cassPlugin } from "./plugin.ts";

export interface CassOptions {
  /** Also run `cass stats --json` (default true). */
  stats?: boolean;
  /** Also run `cass timeline --json` (default true; its default range is the last 7 days, by hour). */
  timeline?: boolean;
}

function memoryFrom(c: Cursor | undefined): BucketMemory {
  if (c?.kind !== "opaque") return {};
  try {
    const m = JSON.parse(c.value) as unknown;
    return m && typeof m === "object" && !Array.isArray(m) ? (m as BucketMemory) : {};
  } catch {
    return {};
  }
}

/**
 * cass (plan §3.4): index status from `cass health --json` (it exits non-zero when unhealthy and
 * still prints the JSON: that is data), metrics from `cass stats --json`, and hour buckets from
 * `cass timeline --json`. Stats and timeline are not asked of an archive that is not initialized.
 * Timeline buckets are written when new or changed (an opaque cursor remembers each bucket).
 * @example collectors: [cass()]
 */
export function cass(options: CassOptions = {}) {
  return defineCollector({
    name: "cass",
    plugin: cassPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "cass health/stats/timeline --json: session index status, archive metrics, sessions per hour",
    requires: { commands: ["cass"] },
    search: cassSearch,
    async collect(ctx) {
      const health = await runJson(ctx.exec, ["cass", "health", "--json"]);
      if (!health.ok) throw new Error(health.error);
      const h = checkOutput(HealthSchema, health.raw, "cass health --json");
      const status = healthRow(h, health.raw, health.exitCode);
      if (health.exitCode !== 0 && h.healthy !== false) ctx.warn(`cass health --json exited ${health.exitCode} but reports healthy`);

      const initialized = h.initialized !== false;
      // Warnings in a fixed order (stats, then timeline) once both have answered.
      const [stats, timeline] = await Promise.all([
        initialized && options.stats !== false ? runJson(ctx.exec, ["cass", "stats", "--json"]) : null,
        initialized && options.timeline !== false ? runJson(ctx.exec, ["cass", "timeline", "--json"]) : null,
      ]);

      let metricRows: Record<string, unknown>[] = [];
      if (stats && !stats.ok) ctx.warn(stats.error);
      else if (stats) {
        const s = v.safeParse(StatsSchema, stats.raw);
        if (!s.success) ctx.warn(`cass stats --json printed a different shape than expected (${issueText(s)})`);
        else {
          if (stats.exitCode !== 0) ctx.warn(`cass stats --json exited ${stats.exitCode} but printed its JSON; read it`);
          metricRows = statsRows(s.output, stats.raw, ctx.warn);
        }
      }

      let buckets: Record<string, unknown>[] = [];
      let memory: BucketMemory | null = null;
      if (timeline && !timeline.ok) ctx.warn(timeline.error);
      else if (timeline) {
        const t = v.safeParse(TimelineSchema, timeline.raw);
        if (!t.success || (!t.output.groups && !t.output.sessions)) {
          ctx.warn(`cass timeline --json printed a different shape than expected (${t.success ? "neither groups nor sessions" : issueText(t)})`);
        } else {
          if (timeline.exitCode !== 0) ctx.warn(`cass timeline --json exited ${timeline.exitCode} but printed its JSON; read it`);
          const room = ctx.limits.maxRows - 1 - metricRows.length;
          const out = timelineRows(t.output, memoryFrom(ctx.cursor), Math.max(0, room), ctx.warn);
          if (out.rows.length === Math.max(0, room) && Object.keys(out.after).length < out.total) {
            ctx.warn(`cass timeline: max_rows (${ctx.limits.maxRows}) reached; the other buckets are written next run`);
          }
          buckets = out.rows;
          memory = out.after;
        }
      }
      return {
        rows: { cass_index_status: [status], cass_stats_snapshots: metricRows, session_timeline_buckets: buckets },
        ...(memory ? { cursor: cursor.opaque(JSON.stringify(memory)) } : {}),
      };
    },
  });
}

export default cass;
