// vc up's log when it is not on a terminal: ISO timestamps, a line per alert that fires or
// resolves, per machine that becomes unreachable or comes back, and each cycle's counts.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { alertLine, createReachability, cycleLine, logLine } from "../../cli/commands/up.ts";
import type { CycleReport, RunRecord } from "../../lib/index.ts";
import { isolatedEnv, vcSpawn } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const run = (machine: string, collector: string, result: RunRecord["result"]): RunRecord => ({
  machine,
  collector,
  result,
  startedAt: "2026-01-01T00:00:00.000Z",
  durationMs: 5,
  rows: 0,
  rowsByTable: {},
  bytes: 0,
  warnings: [],
});

describe("vc up's log lines", () => {
  it("says once when a machine goes and once when it comes back", () => {
    const r = createReachability();
    const report = (reachable: boolean): CycleReport => ({
      startedAt: "",
      durationMs: 1,
      machines: [{ machine: "gpu", reachable, error: reachable ? undefined : "connect ECONNREFUSED 127.0.0.1:1", runs: [] }],
    });
    expect(r.update(report(true))).toEqual([]);
    expect(r.update(report(false)).map((c) => c.line)).toEqual(["machine gpu unreachable: connect ECONNREFUSED 127.0.0.1:1"]);
    expect(r.update(report(false))).toEqual([]);
    expect(r.update(report(true)).map((c) => c.line)).toEqual(["machine gpu reachable again"]);
    expect(r.update(report(true))).toEqual([]);
  });

  it("counts ok, failed and skipped runs in the cycle and in the totals", () => {
    const report: CycleReport = {
      startedAt: "",
      durationMs: 2100,
      machines: [{ machine: "a", reachable: true, runs: [run("a", "x", "ok"), run("a", "y", "failed"), run("a", "z", "skipped")] }],
    };
    expect(cycleLine(report, 3, { ok: 7, failed: 2, skipped: 4 }, 120)).toBe(
      "cycle 3 · 3 runs in 2.1 s · 1 ok 1 failed 1 skipped · totals 7 ok 2 failed 4 skipped · next in 120 s",
    );
  });

  it("writes one safe line with an ISO time and the level", () => {
    expect(logLine("warn", "tool said \x1b]0;pwned\x07bad\nthings\u202e", new Date("2026-02-03T04:05:06.789Z"))).toBe("2026-02-03T04:05:06.789Z WARN  tool said bad things");
    expect(logLine("success", "stopped", new Date(0))).toBe("1970-01-01T00:00:00.000Z INFO  stopped");
  });

  it("vc up logs timestamps, the alert that fired, the unreachable machine and the counts", async () => {
    const dir = tempDir("vc-uplog-");
    const env = isolatedEnv(dir);
    const cfg = join(dir, "vc.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig, defineRule, defineSource, gte, sql, threshold } from "vibe-cockpit";
import { sysprobe } from "vibe-cockpit/plugins";
const latest = defineSource({ name: "mem", description: "memory now",
  sql: (at) => sql\`SELECT machine_id, mem_total_bytes / 1e9 AS mem_gb FROM sys_samples WHERE collected_at <= \${at}::TIMESTAMP QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1\` });
export default defineConfig({
  db: ${JSON.stringify(join(dir, "vc.duckdb"))},
  machines: [{ id: "here", ssh: "local" }, { id: "gone", ssh: "nobody@127.0.0.1:1" }],
  collectors: [sysprobe({ cpuSampleMs: 20 })],
  polling: { connect_timeout_seconds: 2 },
  rules: [defineRule({ id: "has_memory", severity: "high", title: "Memory present", source: latest,
    when: gte("mem_gb", threshold("min_gb", 0)), labels: ["machine_id"], value: "mem_gb", message: "{machine_id} has memory" })],
});
`,
    );
    const up = vcSpawn(["up", "--config", cfg, "--interval", "1"], { env });
    let err = "";
    const reader = (up.stderr as unknown as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
    const until = Date.now() + 40_000;
    while (!/cycle 2 · /.test(err) && Date.now() < until) {
      const { value, done } = await reader.read();
      if (done) break;
      err += value;
    }
    up.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      err += value;
    }
    expect(await up.exited).toBe(0);
    const lines = err.trim().split("\n");
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) /);
    expect(lines.filter((l) => l.includes("alert firing [high] has_memory on here: here has memory"))).toHaveLength(1);
    expect(lines.filter((l) => / WARN  machine gone unreachable: /.test(l))).toHaveLength(1);
    expect(lines.some((l) => / INFO  cycle 1 · \d+ runs in [\d.]+ s · 1 ok 1 failed 0 skipped · totals 1 ok 1 failed 0 skipped · next in 1 s$/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes(`serving ${join(dir, "vc.duckdb")} on ${join(dir, "vc.sock")}`))).toBe(true);
    expect(lines.at(-1)).toContain("INFO  stopped; store closed cleanly");
  });
});

it("alert lines say what changed, where, and why one was not notified", () => {
  const e = {
    type: "alert",
    event: "resolved",
    event_id: "e",
    alert_id: "a",
    rule: "disk_low",
    severity: "critical",
    title: "Disk",
    machine_id: "m1",
    labels: {},
    value: 1,
    message: "/ 97% full",
    expected: "",
    received: "",
    actions: [],
    at: "",
    suppressed_by: "silence:s1",
  } as const;
  expect(alertLine({ ...e, actions: [] })).toBe("alert resolved [critical] disk_low on m1: / 97% full (not notified: silence:s1)");
});
