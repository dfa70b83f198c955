import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runOnce, testCollector, useFakeSetup } from "../../lib/testkit.ts";
import { createFixedClock } from "../../lib/index.ts";
import { afsc } from "../../plugins/afsc/index.ts";
import { classifyLine, eventRows, parseResultsFile, parseStatus, runFactRow } from "../../plugins/afsc/parse.ts";

setDefaultTimeout(30_000);

// Real-format outputs of automated_flywheel_setup_checker (@fc3505d): a results file (9 installer
// results in struct order, then the run summary) and `status --format json` of the same run
// (serde_json without preserve_order: every object's keys alphabetical).
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/afsc", name), "utf8");
const results = fx("results.jsonl");
const status = fx("status.format-json.json");
const lines = results.split("\n").filter(Boolean);
const DIR = ".local/share/afsc/results";
const BIN = "automated_flywheel_setup_checker";
const RUN = "4c0f3b8e-9d12-4a6b-b7e1-2f6d90a1c355";

const setup = useFakeSetup();

/** Another run derived from the real one: other id, times and installers. */
function otherRun(id: string, day: string, installers: string[], status = "passed") {
  const entries = installers.map((name, i) =>
    JSON.stringify({
      timestamp: `2026-08-${day}T07:0${i}:00.5Z`,
      installer_name: name,
      status,
      duration_ms: 1000 + i,
      exit_code: status === "passed" ? 0 : 1,
      error_classification: null,
      stderr_excerpt: "",
      retry_count: 0,
      sha256_verified: true,
    }),
  );
  const summary = JSON.stringify({
    run_id: id,
    total: installers.length,
    passed: status === "passed" ? installers.length : 0,
    failed: status === "failed" ? installers.length : 0,
    skipped: status === "skipped" ? installers.length : 0,
    duration_total_ms: 5000,
    timestamp_start: `2026-08-${day}T07:00:00Z`,
    timestamp_end: `2026-08-${day}T07:09:00.25Z`,
  });
  return `${[...entries, summary].join("\n")}\n`;
}

testCollector({
  collector: afsc(),
  fixtures: { home: { [`${DIR}/results_20260820_061112.jsonl`]: results } },
  rows: { afsc_run_facts: 1, afsc_event_logs: 9 },
  junk: { home: { [`${DIR}/results_20260820_061112.jsonl`]: '\u0000\u00ff not json\n{"installer_name":"x"}\n' } },
  async check(store) {
    expect(await store.query("SELECT * EXCLUDE (raw_json, results_file) FROM afsc_run_facts")).toEqual([
      {
        machine_id: "fake",
        run_id: RUN,
        collected_at: "2026-01-25T03:00:00.000Z",
        source: "afsc",
        source_version: "1.0.0",
        schema_version: 1,
        ts: "2026-08-20T06:00:04.000Z",
        ts_end: "2026-08-20T06:07:56.855Z",
        status: "failed",
        total: 9,
        passed: 5,
        failed: 3,
        skipped: 1,
        timedout: 1,
        duration_ms: 466064,
        wall_ms: 472855,
        error_category: "network",
        failed_installers_json: '["atuin","codex","gemini-cli"]',
      },
    ]);
    const [fact] = await store.query<{ results_file: string; raw_json: string }>("SELECT results_file, raw_json FROM afsc_run_facts");
    expect(fact!.results_file).toEndWith(`/home/${DIR}/results_20260820_061112.jsonl`);
    expect(JSON.parse(fact!.raw_json)).toEqual(JSON.parse(lines[9]!));
    expect(
      await store.query(`SELECT installer_name, ts, event_type, status, severity, error_category, retryable, confidence, duration_ms, exit_code, retry_count,
        sha256_verified, message FROM afsc_event_logs WHERE installer_name IN ('rust', 'atuin', 'nodejs', 'codex', 'gemini-cli') ORDER BY ts`),
    ).toEqual([
      {
        installer_name: "rust",
        ts: "2026-08-20T06:00:52.942Z",
        event_type: "installer_result",
        status: "passed",
        severity: null,
        error_category: null,
        retryable: null,
        confidence: null,
        duration_ms: 48211,
        exit_code: 0,
        retry_count: 0,
        sha256_verified: true,
        message: "",
      },
      {
        installer_name: "atuin",
        ts: "2026-08-20T06:02:16.585Z",
        event_type: "installer_result",
        status: "failed",
        severity: "Transient",
        error_category: "network",
        retryable: true,
        confidence: 0.9,
        duration_ms: 61420,
        exit_code: 1,
        retry_count: 2,
        sha256_verified: false,
        message: "curl: (28) Failed to connect to setup.atuin.sh port 443 after 30002 ms: Timeout was reached\n",
      },
      {
        installer_name: "nodejs",
        ts: "2026-08-20T06:02:17.316Z",
        event_type: "installer_result",
        status: "skipped",
        severity: null,
        error_category: null,
        retryable: null,
        confidence: null,
        duration_ms: 0,
        exit_code: null,
        retry_count: 0,
        sha256_verified: false,
        message: "",
      },
      {
        installer_name: "codex",
        ts: "2026-08-20T06:02:55.912Z",
        event_type: "installer_result",
        status: "failed",
        severity: "Configuration",
        error_category: "checksum_mismatch",
        retryable: false,
        confidence: 0.95,
        duration_ms: 15044,
        exit_code: 1,
        retry_count: 0,
        sha256_verified: false,
        message:
          "ERROR: sha256 mismatch for https://github.com/openai/codex/releases/download/rust-v0.46.0/codex-x86_64-unknown-linux-gnu.tar.gz\nexpected: 7d1c...e0a2\nactual:   91ab...33f0\n",
      },
      {
        installer_name: "gemini-cli",
        ts: "2026-08-20T06:07:56.643Z",
        event_type: "installer_result",
        status: "timedout",
        severity: "Unknown",
        error_category: "unknown",
        retryable: true,
        confidence: 0.3,
        duration_ms: 300000,
        exit_code: null,
        retry_count: 0,
        sha256_verified: false,
        message: "",
      },
    ]);
    expect(await store.query("SELECT DISTINCT run_id, machine_id FROM afsc_event_logs")).toEqual([{ run_id: RUN, machine_id: "fake" }]);
  },
});

describe("afsc parsers", () => {
  it("reads the results file and status --format json of one run into the same rows", () => {
    const fromFile = parseResultsFile("/h/results_20260820_061112.jsonl", results, () => {});
    const fromStatus = parseStatus(status, () => {});
    if (fromStatus instanceof Error || fromStatus === "no_runs") throw new Error("status not read");
    const strip = <T extends Record<string, unknown>>(rows: T[]) => rows.map(({ raw_json: _r, results_file: _f, ...x }) => x);
    expect(strip(eventRows(fromStatus))).toEqual(strip(eventRows(fromFile)));
    expect(strip([runFactRow(fromStatus)])).toEqual(strip([runFactRow(fromFile)]));
    expect(fromStatus.file).toBe("/home/ubuntu/.local/share/afsc/results/results_20260820_061112.jsonl");
  });

  it("knows no_runs, and names a different shape", () => {
    expect(parseStatus('{\n  "message": "No runs recorded yet",\n  "status": "no_runs"\n}\n', () => {})).toBe("no_runs");
    expect(parseStatus('{"results": 3}', () => {})).toBeInstanceOf(Error);
    expect((parseStatus("Error: config not found", () => {}) as Error).message).toContain("no JSON");
  });

  it("tells summaries from results as afsc does (run_id first), and reports other lines", () => {
    expect("summary" in classifyLine(JSON.parse(lines[9]!))).toBe(true);
    expect("entry" in classifyLine(JSON.parse(lines[0]!))).toBe(true);
    expect(classifyLine({ timestamp: "yesterday", installer_name: "x" })).toEqual({ error: expect.stringContaining("timestamp") });
  });

  it("identifies a run without its summary line by its file, and derives the counts", () => {
    const run = parseResultsFile("/h/results_20260101_000000.jsonl", `${lines.slice(0, 5).join("\n")}\n`, () => {});
    expect(runFactRow(run)).toMatchObject({
      run_id: "results_20260101_000000",
      total: 5,
      passed: 4,
      failed: 1,
      skipped: 0,
      status: "failed",
      ts: "2026-08-20T06:00:52.942Z",
      duration_ms: 128930,
      wall_ms: null,
      raw_json: null,
    });
    // Unknown fields and a newer severity are kept as received.
    const newer = JSON.stringify({
      ...JSON.parse(lines[4]!),
      attempt_log: ["a"],
      error_classification: { category: "dns", severity: "Critical", retryable: true, confidence: 1, hint: "x" },
    });
    const r = parseResultsFile("/h/r.jsonl", `${newer}\n`, () => {});
    expect(eventRows(r)[0]).toMatchObject({ severity: "Critical", error_category: "dns", raw_json: JSON.parse(newer) });
  });
});

describe("afsc collector", () => {
  it("reads each new results file once, in name order, and nothing twice", async () => {
    const c = afsc();
    const { machine: m, store } = await setup(c, { home: { [`${DIR}/results_20260820_061112.jsonl`]: results, [`${DIR}/results_20260820_061112.jsonl.tmp`]: "partial" } });
    const clock = createFixedClock("2026-08-21T00:00:00Z");
    expect((await runOnce({ store, collector: c, machine: m, clock })).rowsByTable).toEqual({ afsc_run_facts: 1, afsc_event_logs: 9 });
    clock.advance(60_000);
    expect(await runOnce({ store, collector: c, machine: m, clock })).toMatchObject({ result: "ok", rows: 0, bytes: "results_20260820_061112.jsonl\n".length }); // the listing only
    // Two more runs land (one of them older by name than none of the read ones).
    m.writeFile(`${DIR}/results_20260821_070000.jsonl`, otherRun("run-b", "21", ["rust", "uv"]));
    m.writeFile(`${DIR}/results_20260822_070000.jsonl`, otherRun("run-c", "22", ["bun"], "failed"));
    clock.advance(60_000);
    const next = await runOnce({ store, collector: c, machine: m, clock });
    expect(next.rowsByTable).toEqual({ afsc_run_facts: 2, afsc_event_logs: 3 });
    expect(await store.query("SELECT run_id, status, total, ts, ts_end, wall_ms FROM afsc_run_facts ORDER BY ts")).toEqual([
      { run_id: RUN, status: "failed", total: 9, ts: "2026-08-20T06:00:04.000Z", ts_end: "2026-08-20T06:07:56.855Z", wall_ms: 472855 },
      { run_id: "run-b", status: "passed", total: 2, ts: "2026-08-21T07:00:00.000Z", ts_end: "2026-08-21T07:09:00.250Z", wall_ms: 540250 },
      { run_id: "run-c", status: "failed", total: 1, ts: "2026-08-22T07:00:00.000Z", ts_end: "2026-08-22T07:09:00.250Z", wall_ms: 540250 },
    ]);
    clock.advance(60_000);
    expect((await runOnce({ store, collector: c, machine: m, clock })).rows).toBe(0);
  });

  it("reads at most max_rows per run and resumes at the next file", async () => {
    const c = afsc();
    const { machine: m, store } = await setup(c, {
      home: {
        [`${DIR}/results_20260820_061112.jsonl`]: results,
        [`${DIR}/results_20260821_070000.jsonl`]: otherRun("run-b", "21", ["rust", "uv", "bun"]),
        [`${DIR}/results_20260822_070000.jsonl`]: otherRun("run-c", "22", ["zoxide"], "skipped"),
      },
    });
    const clock = createFixedClock("2026-08-23T00:00:00Z");
    const runs = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await runOnce({ store, collector: c, machine: m, clock, limits: { maxRows: 12 } }));
      clock.advance(60_000);
    }
    expect(runs.map((r) => r.rowsByTable)).toEqual([{ afsc_run_facts: 1, afsc_event_logs: 9 }, { afsc_run_facts: 2, afsc_event_logs: 4 }, {}]);
    expect(runs[0]!.warnings).toEqual(["max_rows 12 reached: 2 results files left for the next run"]);
    expect(await store.query("SELECT run_id, status FROM afsc_run_facts WHERE run_id = 'run-c'")).toEqual([{ run_id: "run-c", status: "skipped" }]);
  });

  it("asks status --format json where there is no results file to list", async () => {
    const c = afsc();
    const { machine: m, store } = await setup(c, { id: "orko", tools: { [BIN]: { "status --format json": status } } });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { afsc_run_facts: 1, afsc_event_logs: 9 } });
    expect(await store.query("SELECT machine_id, run_id, results_file, failed, error_category FROM afsc_run_facts")).toEqual([
      { machine_id: "orko", run_id: RUN, results_file: "/home/ubuntu/.local/share/afsc/results/results_20260820_061112.jsonl", failed: 3, error_category: "network" },
    ]);
    expect(m.calls(BIN)).toEqual(["status --format json"]);
    // The same run again, as status prints it: nothing new.
    expect((await runOnce({ store, collector: c, machine: m })).rows).toBe(0);
  });

  it("is skipped with the reason where no run is recorded, or neither the binary nor results exist", async () => {
    const c = afsc();
    const none = await setup(c, { tools: { [BIN]: { "status --format json": '{\n  "message": "No runs recorded yet",\n  "status": "no_runs"\n}\n' } } });
    expect(await runOnce({ store: none.store, collector: c, machine: none.machine })).toMatchObject({ result: "skipped", reason: `${BIN} has recorded no runs yet on fake` });
    const bare = await setup(c, { systemPath: false });
    expect(await runOnce({ store: bare.store, collector: c, machine: bare.machine })).toMatchObject({
      result: "skipped",
      reason: `${BIN} not found on fake's PATH and no results files in ~/.local/share/afsc/results`,
    });
  });

  it("fails readably when status exits non-zero or prints another shape", async () => {
    const c = afsc();
    const bad = await setup(c, { tools: { [BIN]: { "status --format json": { stderr: "Error: permission denied (os error 13)", exit: 1 } } } });
    expect(await runOnce({ store: bad.store, collector: c, machine: bad.machine })).toMatchObject({
      result: "failed",
      error: `${BIN} status --format json exited with 1: Error: permission denied (os error 13)`,
    });
    const odd = await setup(c, { tools: { [BIN]: { "status --format json": "[1,2]" } } });
    expect((await runOnce({ store: odd.store, collector: c, machine: odd.machine })).error).toStartWith("status --format json printed a different shape");
  });

  it("reads a results folder moved by the machine's afsc.results_dir", async () => {
    const c = afsc();
    const { machine: m, store } = await setup(c, { home: { "srv/afsc/results_20260820_061112.jsonl": results }, paths: { "afsc.results_dir": "~/srv/afsc" } });
    expect((await runOnce({ store, collector: c, machine: m })).rowsByTable).toEqual({ afsc_run_facts: 1, afsc_event_logs: 9 });
  });

  it("skips bad lines with a warning and keeps the rest of the run", async () => {
    const c = afsc();
    const text = `${lines[0]}\n{"oops\n{"installer_name":"uv","status":"passed"}\n${lines[1]}\n${lines[9]}\n`;
    const { machine: m, store } = await setup(c, { home: { [`${DIR}/results_20260820_061112.jsonl`]: text } });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run.rowsByTable).toEqual({ afsc_run_facts: 1, afsc_event_logs: 2 });
    expect(run.warnings).toEqual([
      expect.stringMatching(/^results_20260820_061112\.jsonl line 2: not JSON, skipped/),
      expect.stringMatching(/^results_20260820_061112\.jsonl line 3: not a result or a run summary, skipped \(timestamp: /),
    ]);
  });
});
