import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector } from "../../lib/testkit.ts";
import { createFixedClock } from "../../lib/index.ts";
import { rch } from "../../plugins/rch/index.ts";
import { TRACKED_METRICS, mapMetrics, mapStatus, readResponse } from "../../plugins/rch/parse.ts";
import { labelsKey, parsePromFloat, parsePrometheusText, parseSampleLine } from "../../plugins/rch/prometheus.ts";

// Real-format outputs: `rch status --json` and rchd's GET /metrics (remote_compilation_helper @59b8346).
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/rch", name), "utf8");
const status = fx("status.json");
const metrics = fx("metrics.txt");
const statusObj = JSON.parse(status) as Record<string, any>;
const variant = (patch: (s: Record<string, any>) => void) => {
  const s = structuredClone(statusObj);
  patch(s);
  return JSON.stringify(s);
};
// A daemon that is not running: rch's top-level error wrapper (ApiResponse::err), exit 1.
const down = `${JSON.stringify(
  {
    api_version: "1.0",
    timestamp: 1787238700,
    command: "status",
    success: false,
    error: {
      code: "RCH-E500",
      category: "daemon",
      message: "Daemon not running",
      details: "connect /run/user/1000/rch.sock: No such file or directory",
      remediation: ["rch daemon start"],
    },
  },
  null,
  2,
)}\n`;

// The loopback endpoint rchd would serve: a real Bun.serve on 127.0.0.1, from the kit's `http` option.
const server = createFakeMachine({ http: { "/metrics": { body: metrics, contentType: "text/plain; version=0.0.4" }, "/broken": { status: 500, body: "oops" } } });
afterAll(() => server.close());

testCollector({
  collector: rch(),
  fixtures: { tools: { rch: { "status --json": status } }, paths: { "rch.metrics_url": server.url("/metrics") } },
  rows: { rch_status_snapshots: 1, rch_worker_snapshots: 3, rch_metric_samples: 36 },
  junk: { tools: { rch: { "status --json": "\u0000 not json {" } }, paths: { "rch.metrics_url": server.url("/metrics") } },
  async check(store) {
    expect(await store.query("SELECT * EXCLUDE (raw_json, remediation_hints_json, source_version) FROM rch_status_snapshots")).toEqual([
      {
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
        reported_at: "2026-08-20T15:10:20.000Z",
        success: true,
        error_code: null,
        error_message: null,
        daemon_state: "running",
        posture: "degraded",
        posture_description: "Some workers unavailable or pressure-blocked, partial remote capability",
        rch_schema_version: "1.0.0",
        daemon_version: "1.14.2",
        daemon_pid: 2231,
        daemon_uptime_s: 107467,
        daemon_started_at: "2026-08-19T09:19:13.000Z",
        workers_total: 3,
        workers_healthy: 2,
        workers_available: 2,
        slots_total: 60,
        slots_available: 52,
        builds_active: 2,
        queue_depth: 0,
        issues_count: 1,
        alerts_active: 2,
        builds_total: 1284,
        builds_succeeded: 1177,
        builds_failed: 107,
        convergence_status: "degraded",
        metrics_error: null,
        source: "rch",
        schema_version: 1,
      },
    ]);
    const [hints] = await store.query<{ n: number; first: string }>(
      "SELECT json_array_length(remediation_hints_json)::INTEGER AS n, remediation_hints_json->>'$[1].suggested_action' AS first FROM rch_status_snapshots",
    );
    expect(hints).toEqual({ n: 7, first: "rch workers probe ovh1 --force" });
    expect(await store.query("SELECT * EXCLUDE (machine_id, collected_at, raw_json, source, source_version, schema_version) FROM rch_worker_snapshots ORDER BY worker_id")).toEqual(
      [
        {
          worker_id: "mmini",
          host: "192.168.1.40",
          user_name: "ubuntu",
          status: "healthy",
          circuit_state: "closed",
          used_slots: 6,
          total_slots: 16,
          speed_score: 91.4,
          consecutive_failures: 0,
          recovery_in_s: null,
          last_error: null,
          pressure_state: "ok",
          pressure_disk_free_gb: 612.4,
          pressure_disk_free_ratio: 0.3289,
          pressure_telemetry_fresh: true,
          drift_state: "ready",
        },
        {
          worker_id: "ovh1",
          host: "51.75.12.88",
          user_name: "root",
          status: "unreachable",
          circuit_state: "open",
          used_slots: 0,
          total_slots: 12,
          speed_score: 64.8,
          consecutive_failures: 5,
          recovery_in_s: 94,
          last_error: "ssh: connect to host 51.75.12.88 port 22: Connection timed out",
          pressure_state: "telemetry_gap",
          pressure_disk_free_gb: null,
          pressure_disk_free_ratio: null,
          pressure_telemetry_fresh: false,
          drift_state: "stale",
        },
        {
          worker_id: "trj",
          host: "trj.tail4e1f.ts.net",
          user_name: "ubuntu",
          status: "healthy",
          circuit_state: "closed",
          used_slots: 2,
          total_slots: 32,
          speed_score: 100,
          consecutive_failures: 0,
          recovery_in_s: null,
          last_error: null,
          pressure_state: "warning",
          pressure_disk_free_gb: 118.9,
          pressure_disk_free_ratio: 0.1153,
          pressure_telemetry_fresh: true,
          drift_state: "drifting",
        },
      ],
    );
    expect(
      await store.query(`SELECT metric_name, family, metric_type, labels, labels_json::VARCHAR AS lj, value, ts FROM rch_metric_samples
        WHERE metric_name IN ('rch_build_queue_depth', 'rch_builds_total', 'rch_worker_latency_ms_sum', 'rch_worker_status') ORDER BY metric_name, labels`),
    ).toEqual([
      { metric_name: "rch_build_queue_depth", family: "rch_build_queue_depth", metric_type: "gauge", labels: "", lj: "{}", value: 0, ts: "2026-01-25T03:00:00.000Z" },
      {
        metric_name: "rch_builds_total",
        family: "rch_builds_total",
        metric_type: "counter",
        labels: '{location="remote",result="failure"}',
        lj: '{"location":"remote","result":"failure"}',
        value: 96,
        ts: "2026-01-25T03:00:00.000Z",
      },
      {
        metric_name: "rch_builds_total",
        family: "rch_builds_total",
        metric_type: "counter",
        labels: '{location="remote",result="success"}',
        lj: '{"location":"remote","result":"success"}',
        value: 1105,
        ts: "2026-01-25T03:00:00.000Z",
      },
      {
        metric_name: "rch_worker_latency_ms_sum",
        family: "rch_worker_latency_ms",
        metric_type: "histogram",
        labels: '{worker="mmini"}',
        lj: '{"worker":"mmini"}',
        value: 3138.296992,
        ts: "2026-01-25T03:00:00.000Z",
      },
      {
        metric_name: "rch_worker_latency_ms_sum",
        family: "rch_worker_latency_ms",
        metric_type: "histogram",
        labels: '{worker="ovh1"}',
        lj: '{"worker":"ovh1"}',
        value: 123.388617,
        ts: "2026-01-25T03:00:00.000Z",
      },
      {
        metric_name: "rch_worker_latency_ms_sum",
        family: "rch_worker_latency_ms",
        metric_type: "histogram",
        labels: '{worker="trj"}',
        lj: '{"worker":"trj"}',
        value: 29046.31396,
        ts: "2026-01-25T03:00:00.000Z",
      },
      {
        metric_name: "rch_worker_status",
        family: "rch_worker_status",
        metric_type: "gauge",
        labels: '{status="current",worker="mmini"}',
        lj: '{"status":"current","worker":"mmini"}',
        value: 1,
        ts: "2026-01-25T03:00:00.000Z",
      },
      {
        metric_name: "rch_worker_status",
        family: "rch_worker_status",
        metric_type: "gauge",
        labels: '{status="current",worker="ovh1"}',
        lj: '{"status":"current","worker":"ovh1"}',
        value: 0,
        ts: "2026-01-25T03:00:00.000Z",
      },
      {
        metric_name: "rch_worker_status",
        family: "rch_worker_status",
        metric_type: "gauge",
        labels: '{status="current",worker="trj"}',
        lj: '{"status":"current","worker":"trj"}',
        value: 1,
        ts: "2026-01-25T03:00:00.000Z",
      },
    ]);
    expect(await store.query("SELECT family, count(*)::INTEGER AS n FROM rch_metric_samples GROUP BY family ORDER BY family")).toEqual([
      { family: "rch_build_queue_depth", n: 1 },
      { family: "rch_builds_active", n: 1 },
      { family: "rch_builds_total", n: 2 },
      { family: "rch_circuit_state", n: 3 },
      { family: "rch_daemon_connections_active", n: 1 },
      { family: "rch_decision_latency_seconds", n: 4 },
      { family: "rch_local_fallback_reason_total", n: 4 },
      { family: "rch_reliability_errors_total", n: 2 },
      { family: "rch_worker_last_seen_timestamp", n: 3 },
      { family: "rch_worker_latency_ms", n: 6 },
      { family: "rch_worker_slots_available", n: 3 },
      { family: "rch_worker_slots_total", n: 3 },
      { family: "rch_worker_status", n: 3 },
    ]);
  },
});

describe("Prometheus text parser", () => {
  it("reads rchd's whole /metrics: every family, every sample, nothing misread", () => {
    const { families, errors } = parsePrometheusText(metrics);
    expect(errors).toEqual([]);
    expect(families).toHaveLength(17);
    expect(families.reduce((a, f) => a + f.samples.length, 0)).toBe(116);
    const latency = families.find((f) => f.name === "rch_decision_latency_seconds")!;
    expect(latency).toMatchObject({ type: "histogram", help: "Decision latency in seconds" });
    expect(latency.samples).toHaveLength(26);
    expect(latency.samples[10]).toEqual({ name: "rch_decision_latency_seconds_bucket", labels: { decision_type: "compilation", le: "+Inf" }, value: 1284, timestampMs: null });
    expect(families.find((f) => f.name === "rch_daemon_info")!.samples).toEqual([{ name: "rch_daemon_info", labels: { version: "1.14.2" }, value: 1, timestampMs: null }]);
    expect(families.map((f) => f.name)).toEqual([...families.map((f) => f.name)].sort());
  });

  it("reads escapes, odd spacing, timestamps, NaN and infinities", () => {
    const text = [
      "# HELP m_x A \\\\ help\\nwith two lines",
      "# TYPE m_x gauge",
      'm_x{path="C:\\\\dir",msg="say \\"hi\\"\\nbye",empty=""} 1.5e3 1700000000123',
      'm_x { a = "1" , b="{,}" , } -Inf',
      "m_x\t+Inf\t17",
      'm_x{z="nan"} NaN',
      "m_x{} 0x1F",
      "",
      "# a plain comment",
      "untyped_thing 42",
    ].join("\r\n");
    const { families, errors } = parsePrometheusText(text);
    expect(errors).toEqual([]);
    const [m, u] = families;
    expect(m!.help).toBe("A \\ help\nwith two lines");
    expect(m!.samples.map((s) => [s.labels, s.value, s.timestampMs])).toEqual([
      [{ path: "C:\\dir", msg: 'say "hi"\nbye', empty: "" }, 1500, 1700000000123],
      [{ a: "1", b: "{,}" }, Number.NEGATIVE_INFINITY, null],
      [{}, Number.POSITIVE_INFINITY, 17],
      [{ z: "nan" }, Number.NaN, null],
      [{}, 31, null],
    ]);
    expect(u).toMatchObject({ name: "untyped_thing", type: "untyped", samples: [{ value: 42 }] });
  });

  it("groups summaries and OpenMetrics counters, reads exemplars, quoted names and second timestamps", () => {
    const text = [
      "# TYPE rpc summary",
      'rpc{quantile="0.5"} 0.2',
      "rpc_sum 10",
      "rpc_count 50",
      "# TYPE jobs counter",
      "# UNIT jobs jobs",
      'jobs_total{kind="a"} 3 1700000000.5 # {trace_id="abc"} 1.0 1700000000.4',
      "jobs_created 1600000000",
      "# TYPE info_thing info",
      'info_thing_info{version="2"} 1',
      '{"my.dotted.metric", "label.x"="y"} 7',
      "# EOF",
    ].join("\n");
    const { families, errors } = parsePrometheusText(text);
    expect(errors).toEqual([]);
    expect(families.map((f) => [f.name, f.type, f.samples.map((s) => s.name)])).toEqual([
      ["rpc", "summary", ["rpc", "rpc_sum", "rpc_count"]],
      ["jobs", "counter", ["jobs_total", "jobs_created"]],
      ["info_thing", "info", ["info_thing_info"]],
      ["my.dotted.metric", "untyped", ["my.dotted.metric"]],
    ]);
    expect(families[1]!.unit).toBe("jobs");
    expect(families[1]!.samples[0]).toEqual({ name: "jobs_total", labels: { kind: "a" }, value: 3, timestampMs: 1700000000500 });
    expect(families[3]!.samples[0]!.labels).toEqual({ "label.x": "y" });
  });

  it("skips the lines it cannot read, says which, and keeps the rest", () => {
    const text = [
      "good 1",
      "bad{a=1} 2",
      "bad2 notanumber",
      'bad3{a="x" 3',
      "bad4",
      "bad5 1 2 3",
      "# TYPE good counter",
      "# TYPE good gauge",
      "good2 2",
      'dup{a="1",a="2"} 1',
    ].join("\n");
    const { families, errors } = parsePrometheusText(text);
    expect(families.map((f) => f.name)).toEqual(["good", "good2"]);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 8, 10]);
    expect(errors[0]!.message).toContain("column");
    expect(errors[1]!.message).toBe('bad value "notanumber"');
  });

  it("parses single lines and floats the way Go does", () => {
    expect(parseSampleLine('a_b:c{x="1"} 2')).toEqual({ name: "a_b:c", labels: { x: "1" }, value: 2, timestampMs: null });
    expect(() => parseSampleLine("{} 1")).toThrow("no metric name");
    expect(parsePromFloat("-0.5e-3")).toBe(-0.0005);
    expect(parsePromFloat(".5")).toBe(0.5);
    expect(parsePromFloat("1.")).toBe(1);
    expect(parsePromFloat("")).toBeNull();
    expect(parsePromFloat("1,5")).toBeNull();
    expect(parsePromFloat("inf")).toBe(Number.POSITIVE_INFINITY);
  });

  it("writes label sets in one canonical form", () => {
    expect(labelsKey({})).toBe("");
    expect(labelsKey({ b: "2", a: 'q"\\\n' })).toBe('{a="q\\"\\\\\\n",b="2"}');
    expect(labelsKey({ a: "1", b: "2" })).toBe(labelsKey({ b: "2", a: "1" }));
  });
});

describe("rch status parser", () => {
  it("maps a response with the optional parts absent, nulls and unknown fields", () => {
    const out = variant((s) => {
      delete s.data.convergence;
      delete s.data.daemon.queued_builds;
      s.data.daemon.workers = [
        { id: "w1", host: "h", user: "u", status: "healthy", circuit_state: "half_open", used_slots: 1, total_slots: 4, speed_score: 50, last_error: null, new_field: { x: 1 } },
      ];
      s.data.daemon.alerts = [
        { id: "a", state: "cleared", cleared_at: "2026-08-20T15:00:00+00:00" },
        { id: "b", cleared_at: null },
      ];
      s.data.daemon.remediation = { view: "opaque" };
      s.request_id = "req-1";
    });
    const warnings: string[] = [];
    const { raw, response } = readResponse(out, "rch status --json");
    const { snapshot, workers } = mapStatus(raw, response, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    expect(snapshot).toMatchObject({ queue_depth: null, convergence_status: null, alerts_active: 1, workers_available: 1, workers_total: 3 });
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ worker_id: "w1", circuit_state: "half_open", pressure_state: null, drift_state: null, consecutive_failures: null });
  });

  it("records a daemon that does not answer as unreachable", () => {
    const { raw, response } = readResponse(down, "rch status --json");
    const { snapshot, workers } = mapStatus(raw, response, () => {});
    expect(workers).toEqual([]);
    expect(snapshot).toEqual({
      reported_at: new Date("2026-08-20T15:11:40.000Z"),
      success: false,
      error_code: "RCH-E500",
      daemon_state: "unreachable",
      error_message: "Daemon not running: connect /run/user/1000/rch.sock: No such file or directory",
      raw_json: raw,
    });
  });

  it("refuses a response whose data is not a status, and output that is not rch's", () => {
    const { raw, response } = readResponse(
      variant((s) => (s.data = { posture: 3 })),
      "rch status --json",
    );
    expect(() => mapStatus(raw, response, () => {})).toThrow(/data is not a status: posture/);
    expect(() => readResponse('{"ok": true}', "rch status --json")).toThrow(/not rch's response: success/);
  });

  it("keeps only tracked families, without buckets, one row per name and labels", () => {
    const text = `${metrics}\nrch_builds_active{location="remote"} 9\nrch_build_queue_depth NaN\n`;
    const { rows } = mapMetrics(text, new Set(["rch_builds_active", "rch_transfer_compression_ratio", "rch_build_queue_depth"]), new Date(0));
    expect(rows.map((r) => [r.metric_name, r.labels, r.value])).toEqual([
      ["rch_build_queue_depth", "", 0],
      ["rch_builds_active", '{location="remote"}', 2],
      ["rch_transfer_compression_ratio_sum", "", 0],
      ["rch_transfer_compression_ratio_count", "", 0],
    ]);
    expect(mapMetrics("x NaN\n", new Set(["x"]), new Date(0)).rows[0]!.value).toBeNull();
    expect(TRACKED_METRICS).toContain("rch_worker_status");
  });
});

describe("rch collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  const setup = async (o: Parameters<typeof createFakeMachine>[0], collector: ReturnType<typeof rch> = rch()) => {
    const store = await createTestStore([collector]);
    const machine = createFakeMachine(o);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    return { store, machine, collector };
  };

  it("scrapes a live endpoint again each run, and each machine's own", async () => {
    const { store, collector, machine } = await setup({ id: "orko", tools: { rch: { "status --json": status } }, paths: { "rch.metrics_url": server.url("/metrics") } });
    const other = createFakeMachine({ id: "trj", tools: { rch: { "status --json": status } }, paths: { "rch.metrics_url": "off" } });
    cleanup.push(() => other.close());
    const clock = createFixedClock("2026-01-25T03:00:00Z");
    await runOnce({ store, collector, machine, clock });
    clock.advance(120_000);
    expect((await runOnce({ store, collector, machine, clock })).rowsByTable).toEqual({ rch_status_snapshots: 1, rch_worker_snapshots: 3, rch_metric_samples: 36 });
    expect((await runOnce({ store, collector, machine: other, clock })).rowsByTable).toEqual({ rch_status_snapshots: 1, rch_worker_snapshots: 3 });
    expect(await store.query("SELECT machine_id, count(*)::INTEGER AS n FROM rch_metric_samples GROUP BY 1")).toEqual([{ machine_id: "orko", n: 72 }]);
  });

  it("takes the endpoint and the tracked set from its options", async () => {
    const { store, collector, machine } = await setup({ tools: { rch: { "status --json": status } } }, rch({ metricsUrl: server.url("/metrics"), metrics: ["rch_worker_status"] }));
    const run = await runOnce({ store, collector, machine });
    expect(run.rowsByTable.rch_metric_samples).toBe(3);
  });

  it("records an unreachable daemon as data, not a failure", async () => {
    const { store, collector, machine } = await setup({ tools: { rch: { "status --json": { stdout: down, exit: 1 } } }, paths: { "rch.metrics_url": "off" } });
    const run = await runOnce({ store, collector, machine });
    expect(run.result).toBe("ok");
    expect(run.rowsByTable).toEqual({ rch_status_snapshots: 1 });
    expect(await store.query("SELECT success, daemon_state, error_code, workers_total FROM rch_status_snapshots")).toEqual([
      { success: false, daemon_state: "unreachable", error_code: "RCH-E500", workers_total: null },
    ]);
  });

  it("warns when a configured endpoint fails, keeps the status, and stays quiet about the unconfigured default", async () => {
    const { store, collector, machine } = await setup({ tools: { rch: { "status --json": status } }, paths: { "rch.metrics_url": server.url("/broken") } });
    const run = await runOnce({ store, collector, machine });
    expect(run.result).toBe("ok");
    expect(run.warnings).toEqual([`rch metrics not read: GET ${server.url("/broken")}: HTTP 500`]);
    expect(await store.query("SELECT metrics_error FROM rch_status_snapshots")).toEqual([{ metrics_error: `GET ${server.url("/broken")}: HTTP 500` }]);

    // The unconfigured default (127.0.0.1:9100) with nothing listening: a loopback port just freed
    // stands in for it, handed over through ctx.path exactly as the default would be.
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const dead = `http://127.0.0.1:${closed.port}/metrics`;
    closed.stop(true);
    const plain = rch();
    const collector2 = {
      ...plain,
      collect: (ctx: Parameters<typeof plain.collect>[0]) => plain.collect({ ...ctx, path: (k, f) => (k === "metrics_url" ? dead : ctx.path(k, f)) }),
    };
    const quiet = await setup({ tools: { rch: { "status --json": status } } }, collector2);
    const r2 = await runOnce({ store: quiet.store, collector: collector2, machine: quiet.machine });
    expect(r2.result).toBe("ok");
    expect(r2.warnings).toEqual([]);
    const [row] = await quiet.store.query<{ e: string }>("SELECT metrics_error AS e FROM rch_status_snapshots");
    expect(row!.e).toContain(dead);
  });

  it("fails readably when rch fails without JSON", async () => {
    const { store, collector, machine } = await setup({ tools: { rch: { "status --json": { stderr: "error: unexpected argument '--json'", exit: 2 } } } });
    const run = await runOnce({ store, collector, machine });
    expect(run.result).toBe("failed");
    expect(run.error).toBe("rch status --json exited with 2: error: unexpected argument '--json'");
  });
});

describe("rch collector limits", () => {
  it("keeps a scrape within max_rows, with a warning", async () => {
    const collector = rch();
    const store = await createTestStore([collector]);
    const machine = createFakeMachine({ tools: { rch: { "status --json": status } }, paths: { "rch.metrics_url": server.url("/metrics") } });
    try {
      const run = await runOnce({ store, collector, machine, limits: { maxRows: 10 } });
      expect(run.result).toBe("ok");
      expect(run.rowsByTable).toEqual({ rch_status_snapshots: 1, rch_worker_snapshots: 3, rch_metric_samples: 6 });
      expect(run.warnings).toEqual([`${server.url("/metrics")}: 36 tracked samples, kept the first 6 (max_rows)`]);
    } finally {
      machine.close();
      await store.close();
    }
  });
});
