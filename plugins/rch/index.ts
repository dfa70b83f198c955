import { commandFailed, defineCollector } from "vibe-cockpit";
import { TRACKED_METRICS, mapMetrics, mapStatus, readResponse } from "./parse.ts";
import { rchPlugin } from "./plugin.ts";

export { TRACKED_METRICS };

/** Where rchd serves Prometheus metrics unless told otherwise (`rchd --metrics-port 9100`). */
export const DEFAULT_METRICS_URL = "http://127.0.0.1:9100/metrics";

export interface RchOptions {
  /**
   * rchd's metrics endpoint, fetched from the machine itself (so 127.0.0.1 is that machine's).
   * Per machine: `paths: { "rch.metrics_url": "http://127.0.0.1:9200/metrics" }`; `""` or `"off"` skips the scrape.
   */
  metricsUrl?: string;
  /** Metric families to keep (default TRACKED_METRICS). */
  metrics?: readonly string[];
}

/**
 * rch (plan §3.7): the daemon, its workers and build queue from `rch status --json`, and the
 * tracked families of rchd's Prometheus `/metrics`. A daemon that does not answer is recorded
 * (daemon_state "unreachable"), not a failed run.
 * @example collectors: [rch({ metricsUrl: "http://127.0.0.1:9100/metrics" })]
 */
export function rch(options: RchOptions = {}) {
  const tracked = new Set(options.metrics ?? TRACKED_METRICS);
  return defineCollector({
    name: "rch",
    plugin: rchPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "rch status --json and rchd /metrics: daemon posture, workers, builds, queue, tracked metrics",
    requires: { commands: ["rch"] },
    async collect(ctx) {
      const r = await ctx.exec.run(["rch", "status", "--json"], { env: { NO_COLOR: "1" } });
      let parsed: ReturnType<typeof readResponse>;
      try {
        parsed = readResponse(r.stdout, "rch status --json");
      } catch (err) {
        // Exit 1 with a JSON error is an answer; exit 1 with anything else is a failure.
        if (r.exitCode !== 0) throw commandFailed("rch status --json", r);
        throw err;
      }
      const { snapshot, workers } = mapStatus(parsed.raw, parsed.response, ctx.warn);

      const configured = ctx.machine.paths["rch.metrics_url"] ?? options.metricsUrl;
      const url = ctx.path("metrics_url", options.metricsUrl ?? DEFAULT_METRICS_URL);
      let metrics: Record<string, unknown>[] = [];
      let metricsError: string | null = null;
      if (url !== "" && url !== "off") {
        try {
          const res = await ctx.exec.httpGet(url, { timeoutMs: 10_000 });
          if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
          if (res.truncated) ctx.warn(`${url}: the response was cut at the byte limit; the last family may be incomplete`);
          const m = mapMetrics(res.body, tracked, ctx.now);
          metrics = m.rows;
          const room = Math.max(0, ctx.limits.maxRows - 1 - workers.length);
          if (metrics.length > room) {
            ctx.warn(`${url}: ${metrics.length} tracked samples, kept the first ${room} (max_rows)`);
            metrics = metrics.slice(0, room);
          }
          if (m.errors.length > 0) {
            const first = m.errors[0]!;
            ctx.warn(`${url}: ${m.errors.length} line(s) not understood, e.g. line ${first.line}: ${first.message}`);
          }
        } catch (err) {
          metricsError = (err as Error).message;
          // The default address is a guess (rchd may run with --metrics-port 0): only a configured one warns.
          if (configured !== undefined) ctx.warn(`rch metrics not read: ${metricsError}`);
        }
      }
      return {
        rows: {
          rch_status_snapshots: [{ ...snapshot, metrics_error: metricsError }],
          rch_worker_snapshots: workers,
          rch_metric_samples: metrics,
        },
      };
    },
  });
}

export default rch;
