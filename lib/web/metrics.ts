// GET /metrics: vc's own counters (collector runs, rows, durations, cycles, the HTTP server) and
// the fleet's gauges, read from the store on each scrape through the views (fleet, alerts) and the
// plugins' metric sources — in Prometheus' exposition format, by prom-client. Every label is
// bounded: machine ids and collector names from the config, severities and states from vc's own
// sets, plugin labels capped in length and in series per gauge.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Cockpit } from "../cockpit.ts";
import { collectorStatesAt } from "../collect/state.ts";
import type { VcConfig } from "../config/define.ts";
import { VcError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { stripControl } from "../text.ts";
import type { FleetData } from "../views/fleet.ts";
import { ageS } from "../views/read.ts";

/** One value of a plugin's gauge. */
export interface MetricSample {
  /** The gauge's name as its source declares it (exported as `vc_<gauge>`). */
  gauge: string;
  labels: Record<string, string | number>;
  value: number;
}

/** What a metric source is given on each scrape. */
export interface MetricContext {
  store: Store;
  /** The scrape's instant (the cockpit's clock), ISO 8601. */
  at: string;
  config: VcConfig;
}

/**
 * A plugin's gauges (`metrics` in definePlugin), read from its own tables on each scrape. A label
 * named `machine` must hold a configured machine id; other label values are cut to 80 characters,
 * and a gauge keeps at most 500 series.
 * @example metrics: [{ gauges: { uptime_seconds: { help: "Seconds since boot", labels: ["machine"] } }, read: async ({ store, at }) => [...] }]
 */
export interface MetricSource {
  gauges: Record<string, { help: string; labels: readonly string[] }>;
  read(ctx: MetricContext): Promise<readonly MetricSample[]>;
}

/** vc's metrics, and what the HTTP server tells them. */
export interface VcMetrics {
  readonly contentType: string;
  /** The exposition text, the store's gauges read afresh (concurrent scrapes share one read). */
  text(): Promise<string>;
  /** A request answered: its route (a template, never the raw path) and status. */
  request(route: string, method: string, status: number): void;
  authFailure(reason: string): void;
  sseClients(n: number): void;
  sseDropped(): void;
  /** Stops following the cockpit's cycles. */
  close(): void;
}

/** Series a plugin gauge keeps at most; label values are cut to this many characters. */
export const MAX_PLUGIN_SERIES = 500;
const MAX_LABEL = 80;
const NAME = /^[a-z][a-z0-9_]*$/;
const SEVERITIES = ["critical", "high", "medium", "low"];
const STATES = ["pending", "firing"];

/**
 * The registry behind `GET /metrics` for one cockpit: counters fed by every cycle from now on,
 * gauges read on each scrape. Plugin gauges that collide or are misnamed are refused here, naming
 * the plugin.
 * @example const metrics = createMetrics(vc); const text = await metrics.text()
 */
export function createMetrics(cockpit: Cockpit, onError?: (err: unknown, part: string) => void): VcMetrics {
  const { config } = cockpit;
  const registry = new Registry();
  const registers = [registry];
  const machines = new Set(config.machines.map((m) => m.id));
  const collectors = new Set(config.collectors.map((c) => c.name));

  const runs = new Counter({ name: "vc_collector_runs_total", help: "Collector runs by result (ok, failed, skipped)", labelNames: ["collector", "machine", "result"], registers });
  const rows = new Counter({ name: "vc_collector_rows_written_total", help: "Rows collectors wrote to the store", labelNames: ["collector", "machine"], registers });
  const runSeconds = new Histogram({
    name: "vc_collector_run_duration_seconds",
    help: "How long collector runs took",
    labelNames: ["collector"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const cycles = new Counter({ name: "vc_cycles_total", help: "Poll cycles (or parts of one) finished", registers });
  const cycleSeconds = new Histogram({
    name: "vc_cycle_duration_seconds",
    help: "Poll cycles: seconds from the first collector's start to the last one's end",
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });
  const staleness = new Gauge({
    name: "vc_collector_staleness_seconds",
    help: "Seconds since the collector last ran successfully on the machine",
    labelNames: ["collector", "machine"],
    registers,
  });
  const failing = new Gauge({
    name: "vc_collector_consecutive_failures",
    help: "Failed runs in a row of the collector on the machine",
    labelNames: ["collector", "machine"],
    registers,
  });
  const alerts = new Gauge({ name: "vc_alerts", help: "Open alerts by state and severity", labelNames: ["state", "severity"], registers });
  const fleetScore = new Gauge({ name: "vc_fleet_health_score", help: "The fleet's health, 0 (critical) to 1 (all well)", registers });
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ["machine"], registers });
  const machineGauges = {
    score: gauge("vc_machine_health_score", "The machine's health, 0 (critical) to 1 (all well)"),
    load5: gauge("vc_machine_load5", "Load average over 5 minutes"),
    load_per_core: gauge("vc_machine_load5_per_core", "Load average over 5 minutes per CPU core"),
    mem: gauge("vc_machine_memory_used_ratio", "Memory used, 0 to 1"),
    swap: gauge("vc_machine_swap_used_ratio", "Swap used, 0 to 1"),
    disk: gauge("vc_machine_fullest_disk_used_ratio", "The fullest real filesystem's used space, 0 to 1"),
    alerts: gauge("vc_machine_open_alerts", "Open alerts (pending and firing) on the machine"),
    poll_age: gauge("vc_machine_last_poll_age_seconds", "Seconds since a collector last ran successfully on the machine"),
  };
  const requests = new Counter({ name: "vc_http_requests_total", help: "HTTP requests answered, by route and status", labelNames: ["route", "method", "code"], registers });
  const authFailures = new Counter({ name: "vc_http_auth_failures_total", help: "Requests refused for a missing or wrong token", labelNames: ["reason"], registers });
  const sse = new Gauge({ name: "vc_sse_clients", help: "Open event streams (GET /api/events)", registers });
  const sseDropped = new Counter({ name: "vc_sse_dropped_total", help: "Event streams dropped because their client fell behind", registers });
  const readErrors = new Counter({ name: "vc_metrics_read_errors_total", help: "Scrapes in which a part of the metrics could not be read", labelNames: ["part"], registers });
  const cut = new Counter({
    name: "vc_metrics_series_dropped_total",
    help: "Plugin gauge series left out (too many, or a machine not in the config)",
    labelNames: ["gauge"],
    registers,
  });

  // From zero, so that rate() sees the first run of each collector on each machine.
  for (const m of config.machines)
    for (const c of config.collectors.filter((x) => !m.collectors || m.collectors.includes(x.name))) {
      for (const result of ["ok", "failed", "skipped"]) runs.inc({ collector: c.name, machine: m.id, result }, 0);
      rows.inc({ collector: c.name, machine: m.id }, 0);
    }

  const sources = pluginSources(config, registry);

  const unsubscribe = cockpit.subscribe((_outcome, report) => {
    cycles.inc();
    cycleSeconds.observe(report.durationMs / 1000);
    for (const r of report.machines.flatMap((m) => m.runs)) {
      if (!machines.has(r.machine) || !collectors.has(r.collector)) continue;
      runs.inc({ collector: r.collector, machine: r.machine, result: r.result });
      if (r.rows > 0) rows.inc({ collector: r.collector, machine: r.machine }, r.rows);
      if (r.result !== "skipped") runSeconds.observe({ collector: r.collector }, r.durationMs / 1000);
    }
  });

  /** Runs `part`, or counts its failure (and tells onError): a part that cannot be read leaves the rest of the scrape whole. */
  async function part(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      readErrors.inc({ part: name });
      onError?.(err, name);
    }
  }

  async function refresh(): Promise<void> {
    const at = cockpit.clock.now().toISOString();
    await Promise.all([
      part("fleet", async () => {
        const fleet = (await cockpit.view("fleet")).data as FleetData;
        for (const g of Object.values(machineGauges)) g.reset();
        const set = (g: Gauge, machine: string, v: number | null, scale = 1) => v !== null && Number.isFinite(v) && g.set({ machine }, v * scale);
        for (const m of fleet.machines) {
          set(machineGauges.score, m.id, m.score);
          set(machineGauges.load5, m.id, m.load5);
          set(machineGauges.load_per_core, m.id, m.load_per_core);
          set(machineGauges.mem, m.id, m.mem_pct, 0.01);
          set(machineGauges.swap, m.id, m.swap_pct, 0.01);
          set(machineGauges.disk, m.id, m.disk_pct, 0.01);
          set(machineGauges.alerts, m.id, m.alerts);
          set(machineGauges.poll_age, m.id, m.poll_age_s);
        }
      }),
      part("health", async () => {
        fleetScore.set((await cockpit.health()).overall.score);
      }),
      part("alerts", async () => {
        const open = await cockpit.alerts();
        alerts.reset();
        for (const state of STATES) for (const severity of [...SEVERITIES, "other"]) alerts.set({ state, severity }, 0);
        for (const a of open) if (STATES.includes(a.state)) alerts.inc({ state: a.state, severity: SEVERITIES.includes(a.severity) ? a.severity : "other" });
      }),
      part("collectors", async () => {
        const states = await collectorStatesAt(cockpit.store, at);
        staleness.reset();
        failing.reset();
        for (const s of states) {
          if (!machines.has(s.machine_id) || !collectors.has(s.collector)) continue;
          const labels = { collector: s.collector, machine: s.machine_id };
          if (s.last_ok_at) staleness.set(labels, ageS(at, s.last_ok_at));
          failing.set(labels, Number(s.consecutive_failures));
        }
      }),
      ...sources.map((s) =>
        part(s.part, async () => {
          const samples = await s.source.read({ store: cockpit.store, at, config });
          for (const g of s.gauges.values()) g.reset();
          const counts = new Map<string, number>();
          for (const x of samples) {
            const g = s.gauges.get(x.gauge);
            if (!g || typeof x.value !== "number" || Number.isNaN(x.value)) continue;
            const n = (counts.get(x.gauge) ?? 0) + 1;
            counts.set(x.gauge, n);
            const labels = boundedLabels(x.labels, s.source.gauges[x.gauge]!.labels, machines);
            if (n > MAX_PLUGIN_SERIES || !labels) {
              cut.inc({ gauge: `vc_${x.gauge}` });
              continue;
            }
            g.set(labels, x.value);
          }
        }),
      ),
    ]);
  }

  let reading: Promise<string> | null = null;
  return {
    contentType: registry.contentType,
    text() {
      reading ??= refresh()
        .then(() => registry.metrics())
        .finally(() => {
          reading = null;
        });
      return reading;
    },
    request: (route, method, status) => requests.inc({ route, method, code: String(status) }),
    authFailure: (reason) => authFailures.inc({ reason }),
    sseClients: (n) => sse.set(n),
    sseDropped: () => sseDropped.inc(),
    close: unsubscribe,
  };
}

/** The plugins' gauges, registered once each; a bad or taken name is refused naming the plugin. */
function pluginSources(config: VcConfig, registry: Registry): { part: string; source: MetricSource; gauges: Map<string, Gauge> }[] {
  return (config.plugins ?? []).flatMap((p) =>
    (p.metrics ?? []).map((source, i) => {
      const gauges = new Map<string, Gauge>();
      for (const [name, spec] of Object.entries(source.gauges)) {
        const bad = !NAME.test(name)
          ? `"${name}" is not a metric name (lower-case letters, digits, _)`
          : spec.labels.find((l) => !NAME.test(l))
            ? `${name}: a label name is not lower-case letters, digits and _`
            : null;
        const full = `vc_${name}`;
        if (bad) throw new VcError("config_invalid", `plugin ${p.name}: metrics: ${bad}`);
        if (registry.getSingleMetric(full)) throw new VcError("config_invalid", `plugin ${p.name}: the metric ${full} is taken`, { hint: "rename the gauge" });
        gauges.set(name, new Gauge({ name: full, help: spec.help, labelNames: [...spec.labels], registers: [registry] }));
      }
      return { part: `plugin ${p.name} ${i}`, source, gauges };
    }),
  );
}

/** A sample's labels, every declared one present and bounded; null when a `machine` is not a configured one. */
function boundedLabels(given: Record<string, string | number>, names: readonly string[], machines: ReadonlySet<string>): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = stripControl(String(given[name] ?? "")).slice(0, MAX_LABEL);
    if (name === "machine" && !machines.has(value)) return null;
    out[name] = value;
  }
  return out;
}
