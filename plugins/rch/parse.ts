/**
 * Parsers for rch (remote_compilation_helper): `rch status --json` and rchd's Prometheus `/metrics`.
 * Status is wrapped in rch's ApiResponse `{api_version, timestamp (epoch s), command, success,
 * data | error}`; inside, optional fields are null rather than absent, daemon times are RFC 3339
 * with `+00:00`. A failed call (daemon not running) prints the same wrapper with `success: false`
 * and an `error {code, message}`, and exits 1.
 */
import * as v from "valibot";
import { issueText, parseJsonAs } from "vibe-cockpit";
import { labelsKey, parsePrometheusText, type PromParseError } from "./prometheus.ts";

const num = v.nullish(v.number());
const str = v.nullish(v.string());
const list = v.nullish(v.array(v.unknown()));

export const ResponseSchema = v.looseObject({
  api_version: str,
  timestamp: num,
  command: str,
  success: v.boolean(),
  data: v.nullish(v.unknown()),
  error: v.nullish(v.looseObject({ code: str, message: str, details: str })),
});

export const StatusSchema = v.looseObject({
  schema_version: str,
  posture: str,
  posture_description: str,
  daemon: v.looseObject({
    daemon: v.nullish(
      v.looseObject({ pid: num, uptime_secs: num, version: str, started_at: str, workers_total: num, workers_healthy: num, slots_total: num, slots_available: num }),
    ),
    workers: list,
    active_builds: list,
    queued_builds: list,
    issues: list,
    alerts: list,
    stats: v.nullish(v.looseObject({ total_builds: num, success_count: num, failure_count: num })),
  }),
  convergence: v.nullish(v.looseObject({ status: str, workers: list })),
  remediation_hints: list,
});

const WorkerSchema = v.looseObject({
  id: v.string(),
  host: str,
  user: str,
  status: str,
  circuit_state: str,
  used_slots: num,
  total_slots: num,
  speed_score: num,
  last_error: str,
  consecutive_failures: num,
  recovery_in_secs: num,
  pressure_state: str,
  pressure_disk_free_gb: num,
  pressure_disk_free_ratio: num,
  pressure_telemetry_fresh: v.nullish(v.boolean()),
});
const DriftSchema = v.looseObject({ worker_id: v.string(), drift_state: str });
const AlertSchema = v.looseObject({ state: str, cleared_at: str });

const at = (s: string | null | undefined) => {
  const t = s ? Date.parse(s) : Number.NaN; // RFC 3339 with an offset
  return Number.isFinite(t) ? new Date(t) : null;
};
const n = (x: number | null | undefined) => (typeof x === "number" && Number.isFinite(x) ? x : null);

/** The response wrapper from stdout, or a readable Error. */
export function readResponse(stdout: string, what: string) {
  const { raw, output } = parseJsonAs(stdout, ResponseSchema, what, "rch's response");
  return { raw: raw as Record<string, unknown>, response: output };
}

/** One rch_status_snapshots row and the workers' rows, from a response (a failed one too). */
export function mapStatus(raw: Record<string, unknown>, response: v.InferOutput<typeof ResponseSchema>, warn: (m: string) => void) {
  const base = {
    reported_at: typeof response.timestamp === "number" ? new Date(response.timestamp * 1000) : null, // epoch seconds
    success: response.success,
    error_code: response.error?.code ?? null,
    error_message: response.error ? [response.error.message, response.error.details].filter(Boolean).join(": ") || null : null,
  };
  if (!response.success) {
    return { snapshot: { ...base, daemon_state: "unreachable", raw_json: raw }, workers: [] as Record<string, unknown>[] };
  }
  const r = v.safeParse(StatusSchema, response.data);
  if (!r.success) throw new Error(`rch status --json: data is not a status: ${issueText(r, "(top)")}`);
  const s = r.output;
  const d = s.daemon.daemon;

  const drift = new Map<string, string | null>();
  for (const w of s.convergence?.workers ?? []) {
    const x = v.safeParse(DriftSchema, w);
    if (x.success) drift.set(x.output.worker_id, x.output.drift_state ?? null);
  }
  const workers: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  (s.daemon.workers ?? []).forEach((w, i) => {
    const x = v.safeParse(WorkerSchema, w);
    if (!x.success) return warn(`rch status: workers[${i}] skipped: ${x.issues[0].message}`);
    const o = x.output;
    if (seen.has(o.id)) return warn(`rch status: worker ${o.id} listed twice; kept the first`);
    seen.add(o.id);
    workers.push({
      worker_id: o.id,
      host: o.host ?? null,
      user_name: o.user ?? null,
      status: o.status ?? null,
      circuit_state: o.circuit_state ?? null,
      used_slots: n(o.used_slots),
      total_slots: n(o.total_slots),
      speed_score: n(o.speed_score),
      consecutive_failures: n(o.consecutive_failures),
      recovery_in_s: n(o.recovery_in_secs),
      last_error: o.last_error ?? null,
      pressure_state: o.pressure_state ?? null,
      pressure_disk_free_gb: n(o.pressure_disk_free_gb),
      pressure_disk_free_ratio: n(o.pressure_disk_free_ratio),
      pressure_telemetry_fresh: o.pressure_telemetry_fresh ?? null,
      drift_state: drift.get(o.id) ?? null,
      raw_json: w,
    });
  });
  const available = workers.filter((w) => w.status === "healthy" && w.circuit_state !== "open").length;
  const activeAlerts = (s.daemon.alerts ?? []).filter((a) => {
    const x = v.safeParse(AlertSchema, a);
    return x.success && (x.output.state ?? "active") === "active" && !x.output.cleared_at;
  }).length;
  const snapshot = {
    ...base,
    daemon_state: "running",
    posture: s.posture ?? null,
    posture_description: s.posture_description ?? null,
    rch_schema_version: s.schema_version ?? null,
    daemon_version: d?.version ?? null,
    daemon_pid: n(d?.pid),
    daemon_uptime_s: n(d?.uptime_secs),
    daemon_started_at: at(d?.started_at),
    workers_total: n(d?.workers_total) ?? (s.daemon.workers ? workers.length : null),
    workers_healthy: n(d?.workers_healthy),
    workers_available: s.daemon.workers ? available : null,
    slots_total: n(d?.slots_total),
    slots_available: n(d?.slots_available),
    builds_active: s.daemon.active_builds?.length ?? null,
    queue_depth: s.daemon.queued_builds?.length ?? null,
    issues_count: s.daemon.issues?.length ?? null,
    alerts_active: s.daemon.alerts ? activeAlerts : null,
    builds_total: n(s.daemon.stats?.total_builds),
    builds_succeeded: n(s.daemon.stats?.success_count),
    builds_failed: n(s.daemon.stats?.failure_count),
    convergence_status: s.convergence?.status ?? null,
    remediation_hints_json: s.remediation_hints ?? null,
    raw_json: raw,
  };
  return { snapshot, workers };
}

/**
 * The metric families vc keeps from rchd's /metrics (rchd/src/metrics/mod.rs): daemon, queue,
 * builds, workers, circuits, fallbacks and errors. Per-endpoint request counters, transfer and
 * classification families are left out; for histograms only `_sum` and `_count` are kept.
 */
export const TRACKED_METRICS: readonly string[] = [
  "rch_build_queue_depth",
  "rch_builds_active",
  "rch_builds_total",
  "rch_build_duration_seconds",
  "rch_circuit_state",
  "rch_circuit_failures_total",
  "rch_circuit_trips_total",
  "rch_circuit_recoveries_total",
  "rch_daemon_connections_active",
  "rch_decision_latency_seconds",
  "rch_decision_budget_violations_total",
  "rch_local_fallback_reason_total",
  "rch_reliability_errors_total",
  "rch_worker_last_seen_timestamp",
  "rch_worker_latency_ms",
  "rch_worker_slots_available",
  "rch_worker_slots_total",
  "rch_worker_status",
];

/**
 * rch_metric_samples rows of one scrape: the tracked families' samples (histogram buckets and
 * `_created` left out), one per (name, labels). `scrapedAt` stands in for a missing timestamp.
 */
export function mapMetrics(text: string, tracked: ReadonlySet<string>, scrapedAt: Date): { rows: Record<string, unknown>[]; errors: PromParseError[] } {
  const { families, errors } = parsePrometheusText(text);
  const rows: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (!tracked.has(f.name)) continue;
    for (const s of f.samples) {
      if (s.name.endsWith("_bucket") || s.name.endsWith("_created")) continue;
      const labels = labelsKey(s.labels);
      const key = `${s.name}${labels}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({
        ts: s.timestampMs !== null ? new Date(s.timestampMs) : scrapedAt,
        metric_name: s.name,
        family: f.name,
        metric_type: f.type,
        labels,
        labels_json: s.labels,
        value: Number.isNaN(s.value) ? null : s.value,
      });
    }
  }
  return { rows, errors };
}
