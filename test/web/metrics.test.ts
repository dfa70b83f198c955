// GET /metrics on the demo fleet: vc's own counters after a cycle, the fleet's gauges (health,
// load, memory, fullest disk), the accounts plugin's (usage, the oracle's time to the limit) and
// alerts by state and severity, with bounded labels. Debian's promtool lints the exposition, and
// a real Prometheus on loopback scrapes vc (with the token, as a remote Prometheus would) and
// answers PromQL for a fleet gauge.
import { afterAll, beforeAll, expect, it, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FleetData } from "../../lib/views/fleet.ts";
import { requireSystem } from "../_system.ts";
import { tempDir } from "../helpers/tmp.ts";
import { TOOLS_MACHINE, startWebDaemon, type WebDaemon } from "./_fleet.ts";

setDefaultTimeout(180_000);

const dir = tempDir("vc-web-metrics-");
const TOKEN = "prometheus-scrapes-with-this-token";
let d: WebDaemon;
let text = "";
const auth = { authorization: `Bearer ${TOKEN}` };

/** The samples of one metric: labels (as written) → value. */
const samples = (name: string) =>
  new Map(
    text
      .split("\n")
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .map((l) => [l.slice(name.length, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))]),
  );

beforeAll(async () => {
  d = await startWebDaemon(dir, { fleet: 3, http: { token: TOKEN } });
  await d.vc.collect({ machine: "node-01" }); // the counters have a cycle to count
  const r = await fetch(new URL("/metrics", d.url), { headers: auth });
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  text = await r.text();
});

afterAll(async () => {
  await d?.stop();
});

it("exports vc's own counters, fed by the cycles", () => {
  expect(samples("vc_collector_runs_total").get('{collector="sysprobe",machine="node-01",result="ok"}')).toBe(1);
  expect(samples("vc_collector_runs_total").get('{collector="sysprobe",machine="node-02",result="ok"}')).toBe(0);
  expect(samples("vc_collector_rows_written_total").get('{collector="sysprobe",machine="node-01"}')).toBeGreaterThan(0);
  expect(samples("vc_collector_run_duration_seconds_count").get('{collector="sysprobe"}')).toBe(1);
  expect(samples("vc_cycles_total").get("")).toBe(1);
  expect(samples("vc_cycle_duration_seconds_count").get("")).toBe(1);
  expect(samples("vc_collector_staleness_seconds").get('{collector="sysprobe",machine="node-01"}')).toBe(0);
});

it("exports the fleet's gauges as the fleet view has them", async () => {
  const fleet = (await d.vc.view("fleet")).data as FleetData;
  const node = fleet.machines.find((m) => m.id === TOOLS_MACHINE)!;
  const m = `{machine="${TOOLS_MACHINE}"}`;
  expect(samples("vc_machine_health_score").get(m)).toBe(node.score);
  expect(samples("vc_machine_load5").get(m)).toBe(node.load5!);
  expect(samples("vc_machine_memory_used_ratio").get(m)).toBeCloseTo(node.mem_pct! / 100, 6);
  expect(samples("vc_machine_fullest_disk_used_ratio").get(m)).toBeCloseTo(node.disk_pct! / 100, 6);
  expect(samples("vc_fleet_health_score").get("")).toBe((await d.vc.health()).overall.score);
  // Alerts by state and severity: every combination present, summing to the open alerts.
  const alerts = samples("vc_alerts");
  expect(alerts.size).toBe(2 * 5);
  expect([...alerts.values()].reduce((a, b) => a + b, 0)).toBe((await d.vc.alerts()).length);
  // The accounts plugin's gauges (through its `metrics` hook): usage and the oracle's time to the limit.
  const used = samples("vc_account_used_ratio");
  expect(used.size).toBeGreaterThan(0);
  for (const [labels, value] of used) {
    expect(labels).toMatch(/^\{provider="[^"]+",account="[^"]+",window="[^"]+"\}$/);
    expect(value).toBeGreaterThanOrEqual(0);
  }
  // …the time to the limit for each account window the oracle says reaches it before its reset.
  const oracle = (await d.vc.view("oracle")).data as { accounts: { provider: string; account: string; window: string; time_to_limit_min: number | null }[] };
  const limited = oracle.accounts.filter((a) => a.time_to_limit_min !== null);
  const ttl = samples("vc_account_time_to_limit_seconds");
  expect(text).toContain("# TYPE vc_account_time_to_limit_seconds gauge");
  expect(ttl.size).toBe(limited.length);
  for (const a of limited) expect(ttl.get(`{provider="${a.provider}",account="${a.account}",window="${a.window}"}`)).toBeCloseTo(a.time_to_limit_min! * 60, 6);
  expect(used.size).toBe(oracle.accounts.length);
});

it("keeps its labels bounded: machines from the config, collectors, severities and states", () => {
  const machines = new Set(["node-01", "node-02", TOOLS_MACHINE]);
  for (const m of text.matchAll(/machine="([^"]*)"/g)) expect(machines.has(m[1]!)).toBe(true);
  for (const m of text.matchAll(/severity="([^"]*)"/g)) expect(["critical", "high", "medium", "low", "other"]).toContain(m[1]!);
  for (const m of text.matchAll(/\{state="([^"]*)"/g)) expect(["pending", "firing"]).toContain(m[1]!);
  for (const m of text.matchAll(/route="([^"]*)"/g)) expect(m[1]!).toMatch(/^\/[a-z/:*]*$/);
});

it("passes promtool check metrics", async () => {
  const p = Bun.spawn([requireSystem("promtool"), "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect({ code, out, err }).toEqual({ code: 0, out: "", err: "" });
});

it("is scraped by a real Prometheus, which answers a PromQL query for a fleet gauge", async () => {
  const prometheus = requireSystem("prometheus");
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port;
  probe.stop(true);
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: vc
    authorization: { type: Bearer, credentials: ${JSON.stringify(TOKEN)} }
    static_configs: [{ targets: ["127.0.0.1:${d.port}"] }]
`,
  );
  const proc = Bun.spawn([prometheus, `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, "tsdb")}`], {
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => null);
      if (!r?.ok) return [];
      return ((await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    };
    const q = `vc_machine_health_score{machine="${TOOLS_MACHINE}"}`;
    let result: Awaited<ReturnType<typeof query>> = [];
    for (let i = 0; i < 300 && result.length === 0; i++) {
      result = await query(q);
      if (result.length === 0) await Bun.sleep(100);
    }
    expect(result.length).toBe(1);
    expect(result[0]!.metric).toMatchObject({ job: "vc", instance: `127.0.0.1:${d.port}`, machine: TOOLS_MACHINE });
    const fleet = (await d.vc.view("fleet")).data as FleetData;
    expect(Number(result[0]!.value[1])).toBe(fleet.machines.find((m) => m.id === TOOLS_MACHINE)!.score);
    expect((await query('up{job="vc"}'))[0]!.value[1]).toBe("1");
    // PromQL over vc's gauges: the least healthy machine.
    const worst = await query("bottomk(1, vc_machine_health_score)");
    expect(Number(worst[0]!.value[1])).toBe(Math.min(...fleet.machines.map((m) => m.score)));
  } finally {
    proc.kill();
    await proc.exited;
  }
});
