import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, runOnce, testCollector, useFakeSetup } from "../../lib/testkit.ts";
import { createFixedClock } from "../../lib/index.ts";
import { cloudBenchmarker } from "../../plugins/cloud_benchmarker/index.ts";
import { latestOverallRows, normalizeOffset, parseArray, parseOverall, parseRaw, rawRows, toUtc } from "../../plugins/cloud_benchmarker/parse.ts";

setDefaultTimeout(30_000);

// Real-format answers of cloud_benchmarker's FastAPI server (@0c1e58c): 5 runs x 3 hosts, compact
// Starlette JSON, naive `datetime` (the server's local time, microseconds).
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/cloud_benchmarker", name), "utf8");
const raw = fx("data-raw.json");
const overall = fx("data-overall.json");
const rawList = JSON.parse(raw) as Record<string, unknown>[];
const overallList = JSON.parse(overall) as Record<string, unknown>[];

const setup = useFakeSetup();
// Machines a test builds beside the ones from setup (more servers for the same store).
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup) await f();
});

// The contract kit builds its machines itself, so its servers are started here (Bun.serve on
// 127.0.0.1, as the kit's `http` option does) and named to the collector by the machine's
// `cloud_benchmarker.url`, as a user would in vc.config.ts. The regressions below use the kit's own.
const serve = (routes: Record<string, string>) => {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const body = routes[new URL(req.url).pathname];
      return body === undefined ? new Response("not found", { status: 404 }) : new Response(body, { headers: { "content-type": "application/json" } });
    },
  });
  afterAll(() => server.stop(true));
  return `http://127.0.0.1:${server.port}`;
};
const real = serve({ "/data/raw/": raw, "/data/overall/": overall });
const junk = serve({ "/data/raw/": "<html>Internal Server Error</html>", "/data/overall/": '{"error":"Invalid time period"}' });

testCollector({
  collector: cloudBenchmarker({ utcOffset: "+02:00" }),
  fixtures: { paths: { "cloud_benchmarker.url": real } },
  // 15 records x 5 benchmarks; the latest run's 3 hosts.
  rows: { cloud_bench_raw: 75, cloud_bench_overall: 3 },
  junk: { paths: { "cloud_benchmarker.url": junk } },
  async check(store) {
    expect(
      await store.query(`SELECT * EXCLUDE (raw_json, collected_at, source_version, schema_version) FROM cloud_bench_raw
        WHERE hostname = 'contabo-vps-xl' AND bench_datetime = '2026-08-19T09:14:02.517871' ORDER BY benchmark_type`),
    ).toEqual(
      [
        ["cpu_speed_test__events_per_second", 4959.32, true],
        ["fileio_test__reads_per_second", 2988.04, true],
        ["memory_speed_test__MiB_transferred", 56841.84, true],
        ["mutex_test__avg_latency", 2.84, false],
        ["threads_test__avg_latency", 1.05, false],
      ].map(([benchmark_type, value, higher_is_better]) => ({
        machine_id: "fake",
        hostname: "contabo-vps-xl",
        bench_datetime: "2026-08-19T09:14:02.517871",
        benchmark_type,
        source: "cloud_benchmarker",
        ts: "2026-08-19T07:14:02.517Z",
        utc_offset: "+02:00",
        ip_address: "185.207.251.33",
        value,
        higher_is_better,
        upstream_id: 3,
      })),
    );
    const [r] = await store.query<{ raw_json: string }>("SELECT raw_json FROM cloud_bench_raw WHERE upstream_id = 3 LIMIT 1");
    expect(JSON.parse(r!.raw_json)).toEqual(rawList[2]!);
    expect(await store.query("SELECT count(DISTINCT bench_datetime)::INTEGER AS runs, count(DISTINCT hostname)::INTEGER AS hosts FROM cloud_bench_raw")).toEqual([
      { runs: 5, hosts: 3 },
    ]);
    expect(await store.query("SELECT * EXCLUDE (raw_json, source, source_version, schema_version) FROM cloud_bench_overall ORDER BY rank")).toEqual([
      {
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
        hostname: "hetzner-ax102",
        bench_datetime: "2026-08-19T21:30:03.011423",
        ts: "2026-08-19T19:30:03.011Z",
        utc_offset: "+02:00",
        ip_address: "65.108.70.14",
        overall_score: 83.33333333333331,
        rank: 1,
        hosts_in_run: 3,
        upstream_id: 13,
        subscores_json:
          '{"cpu_speed_test__events_per_second":15033.94,"fileio_test__reads_per_second":12854.63,"memory_speed_test__MiB_transferred":101468.74,"mutex_test__avg_latency":0.6,"threads_test__avg_latency":0.16}',
      },
      {
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
        hostname: "ovh-rise-3",
        bench_datetime: "2026-08-19T21:30:03.011423",
        ts: "2026-08-19T19:30:03.011Z",
        utc_offset: "+02:00",
        ip_address: "51.75.12.88",
        overall_score: 60.345794939786984,
        rank: 2,
        hosts_in_run: 3,
        upstream_id: 14,
        subscores_json:
          '{"cpu_speed_test__events_per_second":11397.38,"fileio_test__reads_per_second":7041.43,"memory_speed_test__MiB_transferred":97612.95,"mutex_test__avg_latency":0.81,"threads_test__avg_latency":0.24}',
      },
      {
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
        hostname: "contabo-vps-xl",
        bench_datetime: "2026-08-19T21:30:03.011423",
        ts: "2026-08-19T19:30:03.011Z",
        utc_offset: "+02:00",
        ip_address: "185.207.251.33",
        overall_score: 16.666666666666664,
        rank: 3,
        hosts_in_run: 3,
        upstream_id: 15,
        subscores_json:
          '{"cpu_speed_test__events_per_second":5286.41,"fileio_test__reads_per_second":2300,"memory_speed_test__MiB_transferred":59398.07,"mutex_test__avg_latency":2.66,"threads_test__avg_latency":0.96}',
      },
    ]);
  },
});

describe("cloud_benchmarker parsers", () => {
  it("reads naive local datetimes with the server's offset, microseconds cut to milliseconds", () => {
    expect(toUtc("2026-08-19T09:14:02.517871", "+02:00")).toEqual({ iso: "2026-08-19T07:14:02.517Z", offset: "+02:00" });
    expect(toUtc("2026-01-19T09:14:02", "-05:00")).toEqual({ iso: "2026-01-19T14:14:02.000Z", offset: "-05:00" });
    expect(toUtc("2026-01-19 09:14:02.5", "+00:00").iso).toBe("2026-01-19T09:14:02.500Z");
    // A datetime that carries its own offset keeps it.
    expect(toUtc("2026-01-19T09:14:02Z", "+02:00")).toEqual({ iso: "2026-01-19T09:14:02.000Z", offset: "+00:00" });
    expect([normalizeOffset("+0200"), normalizeOffset("-03:30"), normalizeOffset("Z"), normalizeOffset("CEST")]).toEqual(["+02:00", "-03:30", "+00:00", null]);
  });

  it("takes every numeric field but id as a benchmark, so a new one upstream is kept", () => {
    const warnings: string[] = [];
    const recs = parseRaw(
      [
        { ...rawList[0], disk_latency_test__p99_ms: 4.2, note: "x" },
        { id: 99, hostname: "h", datetime: "yesterday" },
        { id: 7, hostname: "h", datetime: "2026-08-19T09:14:02" },
      ],
      (m) => warnings.push(m),
    );
    expect(recs).toHaveLength(1);
    expect(rawRows(recs[0]!, "+00:00").map((r) => [r.benchmark_type, r.value, r.higher_is_better])).toEqual([
      ["cpu_speed_test__events_per_second", 10974.88, true],
      ["fileio_test__reads_per_second", 9638.25, true],
      ["memory_speed_test__MiB_transferred", 99979.65, true],
      ["mutex_test__avg_latency", 0.89, false],
      ["threads_test__avg_latency", 0.24, false],
      ["disk_latency_test__p99_ms", 4.2, false],
    ]);
    expect(warnings).toEqual([expect.stringContaining("record 1 skipped (datetime"), "/data/raw/ record 2 (h 2026-08-19T09:14:02) has no benchmark values, skipped"]);
  });

  it("ranks the newest run only; an IP_address of UNKNOWN and a missing id are fine", () => {
    const o = parseOverall(
      [
        ...overallList,
        { datetime: "2026-08-20T00:00:00", hostname: "new-host", IP_address: "UNKNOWN", overall_score: 50 },
        { datetime: "2026-08-20T00:00:00", hostname: "b", overall_score: 90 },
      ],
      () => {},
    );
    const rows = latestOverallRows(o, [], () => "+00:00");
    expect(rows.map((r) => [r.hostname, r.rank, r.hosts_in_run, r.ip_address, r.upstream_id, r.subscores_json])).toEqual([
      ["new-host", 2, 2, "UNKNOWN", null, null],
      ["b", 1, 2, null, null, null],
    ]);
  });

  it("skips a record whose datetime does not exist (month 13, hour 99) instead of throwing, and never throws on an offset (D11)", () => {
    const warnings: string[] = [];
    const raws = parseRaw([{ ...rawList[0], datetime: "2026-13-45T99:99:99Z" }, rawList[1]!], (m) => warnings.push(m));
    expect(raws.map((r) => r.datetime)).toEqual([String(rawList[1]!.datetime)]);
    expect(warnings).toEqual(["/data/raw/ record 0 skipped (datetime: not a date and time that exists)"]);
    expect(parseOverall([{ datetime: "2026-02-31T25:00:00", hostname: "h", overall_score: 1 }], (m) => warnings.push(m))).toEqual([]);
    expect(toUtc("2026-08-19T09:14:02", "+99:99")).toEqual({ iso: "2026-08-19T09:14:02.000Z", offset: "+99:99" });
  });

  it("quotes what the server said instead of a list", () => {
    expect((parseArray('{"error":"Invalid time period"}', "GET /data/raw/?time_period=x") as Error).message).toBe(
      'GET /data/raw/?time_period=x answered an error: {"error":"Invalid time period"}',
    );
    expect(parseArray("Internal Server Error", "GET /data/raw/")).toBeInstanceOf(Error);
    expect(parseArray("[]", "GET /data/raw/")).toEqual([]);
  });
});

describe("cloud_benchmarker collector", () => {
  const routes = { "/data/raw/": raw, "/data/overall/": overall };

  it("reads only the runs after its cursor, and asks for the last 7 days when the cursor is recent", async () => {
    const first = rawList.slice(0, 9);
    const { machine: m, store } = await setup(cloudBenchmarker(), { http: { "/data/raw/": JSON.stringify(first), "/data/overall/": overall } });
    const c = cloudBenchmarker({ url: m.url(""), utcOffset: "Z" });
    const clock = createFixedClock("2026-08-19T18:00:00Z");
    expect((await runOnce({ store, collector: c, machine: m, clock })).rowsByTable).toEqual({ cloud_bench_raw: 45, cloud_bench_overall: 3 });
    // The server has two more runs now; the cursor is an hour old, so only the last week is asked for.
    const all = createFakeMachine({ http: { "/data/raw/?time_period=last_7_days": raw, "/data/overall/?time_period=last_7_days": overall } });
    cleanup.push(() => all.close());
    const c2 = cloudBenchmarker({ url: all.url(""), utcOffset: "Z" });
    clock.advance(3_600_000);
    const second = await runOnce({ store, collector: c2, machine: all, clock });
    expect(second.rowsByTable).toEqual({ cloud_bench_raw: 30, cloud_bench_overall: 3 });
    expect(await store.query("SELECT count(*)::INTEGER AS n, count(DISTINCT bench_datetime)::INTEGER AS runs FROM cloud_bench_raw")).toEqual([{ n: 75, runs: 5 }]);
    expect(await store.query("SELECT DISTINCT collected_at FROM cloud_bench_overall ORDER BY 1")).toEqual([
      { collected_at: "2026-08-19T18:00:00.000Z" },
      { collected_at: "2026-08-19T19:00:00.000Z" },
    ]);
    // A clock behind the data (the cursor looks ahead of it): everything is asked for, not a window.
    const noWindow = createFakeMachine({ http: { ...routes, "/data/raw/?time_period=last_7_days": '{"error":"Invalid time period"}' } });
    cleanup.push(() => noWindow.close());
    const behind = await runOnce({
      store,
      collector: cloudBenchmarker({ url: noWindow.url(""), utcOffset: "Z" }),
      machine: noWindow,
      clock: createFixedClock("2026-01-25T03:00:00Z"),
    });
    expect(behind).toMatchObject({ result: "ok", rowsByTable: { cloud_bench_overall: 3 } });
  });

  it("reads at most max_rows per run, whole records, and resumes after the last one", async () => {
    const { machine: m, store } = await setup(cloudBenchmarker(), { http: routes });
    const c = cloudBenchmarker({ url: m.url(""), utcOffset: "+00:00" });
    const clock = createFixedClock("2026-01-25T03:00:00Z");
    const got = [];
    for (let i = 0; i < 3; i++) {
      const run = await runOnce({ store, collector: c, machine: m, clock, limits: { maxRows: 40 } });
      expect(run.rows).toBeLessThanOrEqual(40);
      got.push(run.rowsByTable.cloud_bench_raw ?? 0);
      clock.advance(60_000);
    }
    expect(got).toEqual([35, 35, 5]);
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM cloud_bench_raw")).toEqual([{ n: 75 }]);
  });

  it("asks the machine's date for the offset of each datetime (summer and winter time)", async () => {
    const winter = rawList.slice(0, 3).map((r) => ({ ...r, datetime: "2026-01-10T09:00:00.5" }));
    const { machine: m, store } = await setup(cloudBenchmarker(), {
      http: { "/data/raw/": JSON.stringify([...winter, ...rawList.slice(12)]), "/data/overall/": "[]" },
      tools: { date: { "-d 2026-01-10 09:00:00 +%z": "+0100\n", "-d 2026-08-19 21:30:03 +%z": "+0200\n" } },
    });
    const c = cloudBenchmarker({ url: m.url("") });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { cloud_bench_raw: 30 } });
    expect(await store.query("SELECT DISTINCT bench_datetime, ts, utc_offset FROM cloud_bench_raw ORDER BY ts")).toEqual([
      { bench_datetime: "2026-01-10T09:00:00.5", ts: "2026-01-10T08:00:00.500Z", utc_offset: "+01:00" },
      { bench_datetime: "2026-08-19T21:30:03.011423", ts: "2026-08-19T19:30:03.011Z", utc_offset: "+02:00" },
    ]);
    expect(m.calls("date")).toEqual(["-d 2026-01-10 09:00:00 +%z", "-d 2026-08-19 21:30:03 +%z"]);
  });

  it("reads the datetimes as UTC, with a warning, where the machine cannot tell its offset", async () => {
    const { machine: m, store } = await setup(cloudBenchmarker(), { http: routes, systemPath: false });
    const run = await runOnce({ store, collector: cloudBenchmarker({ url: m.url("") }), machine: m });
    expect(run.rowsByTable).toEqual({ cloud_bench_raw: 75, cloud_bench_overall: 3 });
    expect(run.warnings).toEqual(["the machine's UTC offset is unknown for 5 datetimes (no usable date command); read as UTC"]);
  });

  it("is skipped where no server listens, and fails readably on an error answer", async () => {
    const { machine: m, store } = await setup(cloudBenchmarker(), { http: { "/data/raw/": '{"error":"Invalid time period"}', "/data/overall/": overall } });
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadUrl = `http://127.0.0.1:${closed.port}`;
    closed.stop(true);
    const skipped = await runOnce({ store, collector: cloudBenchmarker({ url: deadUrl }), machine: m });
    expect(skipped).toMatchObject({ result: "skipped", reason: `cloud_benchmarker server not found at ${deadUrl} (connection refused)` });
    const failed = await runOnce({ store, collector: cloudBenchmarker({ url: m.url("") }), machine: m });
    expect(failed).toMatchObject({ result: "failed", error: `GET ${m.url("/data/raw/")} answered an error: {"error":"Invalid time period"}` });
    const notFound = createFakeMachine({ http: { "/other": "x" } });
    cleanup.push(() => notFound.close());
    const nf = await runOnce({ store, collector: cloudBenchmarker({ url: notFound.url("") }), machine: notFound });
    expect(nf).toMatchObject({ result: "failed", error: `GET ${notFound.url("/data/raw/")} answered HTTP 404: "not found"` });
  });

  it("takes the server's address and offset from the machine's paths", async () => {
    const { machine: m, store } = await setup(cloudBenchmarker(), { id: "bench-box", http: routes });
    const machine = { ...m, info: { ...m.info, paths: { "cloud_benchmarker.url": `${m.url("")}/`, "cloud_benchmarker.utc_offset": "-0400" } } };
    const run = await runOnce({ store, collector: cloudBenchmarker({ url: "http://127.0.0.1:1", utcOffset: "Z" }), machine });
    expect(run.rowsByTable).toEqual({ cloud_bench_raw: 75, cloud_bench_overall: 3 });
    expect(await store.query("SELECT DISTINCT machine_id, utc_offset FROM cloud_bench_raw")).toEqual([{ machine_id: "bench-box", utc_offset: "-04:00" }]);
  });
});
