import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import { createFakeMachine, createTestStore, runOnce, testCollector, type FakeMachineOptions } from "../../lib/testkit.ts";
import type { Store } from "../../lib/store/store.ts";
import { rano } from "../../plugins/rano/index.ts";
import { eventKey, ranoTime } from "../../plugins/rano/parse.ts";

// Real `rano export --format jsonl` output (test/fixtures/rano): keys alphabetical, NULL columns
// omitted, ts to the second. export.jsonl is built from rano's serializer; the e2e sample is a
// verbatim capture from rano's own end-to-end test.
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/rano", name), "utf8");
const exportJsonl = fx("export.jsonl");
const e2e = fx("export.e2e-sample.jsonl");
const lines = exportJsonl.split("\n").filter(Boolean);
const EXPORT = "export --format jsonl --since*";

testCollector({
  collector: rano(),
  fixtures: { tools: { rano: { [EXPORT]: exportJsonl } } },
  rows: { rano_events: 26 },
  junk: { tools: { rano: { [EXPORT]: "\u0000\u00ffrano: not json\n<html>oops</html>\n" } } },
  async check(store) {
    expect(await store.query("SELECT * EXCLUDE (raw_json, event_key, collected_at) FROM rano_events ORDER BY ts LIMIT 2")).toEqual([
      {
        machine_id: "fake",
        source: "rano",
        source_version: "1.0.0",
        schema_version: 1,
        ts: "2026-08-20T15:00:04.000Z",
        run_id: "48213-1787237403512",
        event: "connect",
        provider: "openai",
        pid: 51877,
        comm: "codex",
        cmdline: "node /home/ubuntu/.bun/bin/codex --model gpt-5-codex",
        proto: "tcp",
        local_ip: "10.0.0.21",
        local_port: 58033,
        remote_ip: "162.159.140.245",
        remote_port: 443,
        domain: "api.openai.com",
        ancestry_path: "systemd:1,tmux: server:4411,zsh:51790,node:51877",
        duration_ms: null,
      },
      {
        machine_id: "fake",
        source: "rano",
        source_version: "1.0.0",
        schema_version: 1,
        ts: "2026-08-20T15:00:30.000Z",
        run_id: "48213-1787237403512",
        event: "close",
        provider: "openai",
        pid: 51877,
        comm: "codex",
        cmdline: "node /home/ubuntu/.bun/bin/codex --model gpt-5-codex",
        proto: "tcp",
        local_ip: "10.0.0.21",
        local_port: 58033,
        remote_ip: "162.159.140.245",
        remote_port: 443,
        domain: "api.openai.com",
        ancestry_path: "systemd:1,tmux: server:4411,zsh:51790,node:51877",
        duration_ms: 26142,
      },
    ]);
    expect(
      await store.query(
        "SELECT run_id, provider, connection_count, close_count, bytes_transferred, avg_duration_ms, max_duration_ms, pid_count, domain_count, first_ts, last_ts FROM net_session_summary ORDER BY provider",
      ),
    ).toEqual([
      {
        run_id: "48213-1787237403512",
        provider: "anthropic",
        connection_count: 4,
        close_count: 4,
        bytes_transferred: null,
        avg_duration_ms: 35049,
        max_duration_ms: 61426,
        pid_count: 1,
        domain_count: 2,
        first_ts: "2026-08-20T15:00:51.000Z",
        last_ts: "2026-08-20T15:03:45.000Z",
      },
      {
        run_id: "48213-1787237403512",
        provider: "google",
        connection_count: 2,
        close_count: 2,
        bytes_transferred: null,
        avg_duration_ms: 36330.5,
        max_duration_ms: 62983,
        pid_count: 1,
        domain_count: 2,
        first_ts: "2026-08-20T15:00:38.000Z",
        last_ts: "2026-08-20T15:05:59.000Z",
      },
      {
        run_id: "48213-1787237403512",
        provider: "openai",
        connection_count: 8,
        close_count: 6,
        bytes_transferred: null,
        avg_duration_ms: (26142 + 80151 + 52712 + 79819 + 123575 + 56730) / 6,
        max_duration_ms: 123575,
        pid_count: 1,
        domain_count: 2,
        first_ts: "2026-08-20T15:00:04.000Z",
        last_ts: "2026-08-20T15:07:02.000Z",
      },
    ]);
    const [raw] = await store.query<{ raw_json: string }>("SELECT raw_json FROM rano_events ORDER BY ts LIMIT 1");
    expect(JSON.parse(raw!.raw_json)).toEqual(JSON.parse(lines[0]!));
  },
});

describe("rano events", () => {
  it("keys an event by what identifies it, not by fields rano adds or fills in later", () => {
    const e = JSON.parse(lines[0]!);
    expect(eventKey({ ...e, domain: undefined, retry_count: 2 })).toBe(eventKey(e));
    expect(eventKey({ ...e, event: "close" })).not.toBe(eventKey(e));
    expect(eventKey({ ...e, local_port: 1 })).not.toBe(eventKey(e));
  });
  it("writes times as rano compares them", () => {
    expect(ranoTime(Date.parse("2026-08-20T15:07:02.999Z"))).toBe("2026-08-20T15:07:02Z");
  });
});

describe("rano collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  const setup = async (m: FakeMachineOptions, collector = rano()) => {
    const machine = createFakeMachine(m);
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    return { machine, store, collector };
  };
  const count = async (store: Store) => (await store.query<{ n: number }>("SELECT count(*)::INTEGER AS n FROM rano_events"))[0]!.n;

  it("reads rano's own e2e capture: several runs, optional keys absent, values with commas and quotes", async () => {
    const { machine, store, collector } = await setup({ id: "kestrel", tools: { rano: { [EXPORT]: e2e } } });
    const r = await runOnce({ machine, store, collector });
    expect({ rows: r.rowsByTable, warnings: r.warnings }).toEqual({ rows: { rano_events: 7 }, warnings: [] });
    expect(
      await store.query("SELECT machine_id, run_id, event, provider, cmdline, domain, ancestry_path, duration_ms FROM rano_events WHERE pid IN (1234, 2001) ORDER BY ts"),
    ).toEqual([
      {
        machine_id: "kestrel",
        run_id: "run-test-1",
        event: "connect",
        provider: "anthropic",
        cmdline: "/usr/bin/claude",
        domain: "api.anthropic.com",
        ancestry_path: null,
        duration_ms: null,
      },
      {
        machine_id: "kestrel",
        run_id: "run-test-1",
        event: "close",
        provider: "anthropic",
        cmdline: "/usr/bin/claude",
        domain: "api.anthropic.com",
        ancestry_path: null,
        duration_ms: 1500,
      },
      {
        machine_id: "kestrel",
        run_id: "run-test-2",
        event: "connect",
        provider: "anthropic",
        cmdline: '/usr/bin/claude --special="value,with,commas"',
        domain: "api.anthropic.com",
        ancestry_path: null,
        duration_ms: null,
      },
    ]);
    expect(await store.query("SELECT run_id, provider, connection_count, avg_duration_ms FROM net_session_summary ORDER BY run_id, provider")).toEqual([
      { run_id: "run-test-1", provider: "anthropic", connection_count: 1, avg_duration_ms: 1500 },
      { run_id: "run-test-1", provider: "google", connection_count: 1, avg_duration_ms: 10000 },
      { run_id: "run-test-1", provider: "openai", connection_count: 1, avg_duration_ms: 9000 },
      { run_id: "run-test-2", provider: "anthropic", connection_count: 1, avg_duration_ms: null },
    ]);
    expect(await store.query("SELECT event_type, provider, remote_ip, remote_port FROM net_events WHERE machine_id = 'kestrel' ORDER BY ts LIMIT 1")).toEqual([
      { event_type: "connect", provider: "anthropic", remote_ip: "104.18.32.7", remote_port: 443 },
    ]);
  });

  it("reads variants: unknown fields present, optional ones absent (no domain, no pid), a provider rano calls unknown", async () => {
    const variant =
      [
        lines[0]!.replace("{", '{"alert":1,"ip_version":4,"remote_is_private":0,"retry_count":0,'),
        '{"event":"connect","local_ip":"10.1.1.1","local_port":40000,"proto":"udp","provider":"unknown","remote_ip":"1.1.1.1","remote_port":53,"ts":"2026-08-21T00:00:00Z"}',
      ].join("\n") + "\n";
    const { machine, store, collector } = await setup({ tools: { rano: { [EXPORT]: variant } } });
    const r = await runOnce({ machine, store, collector });
    expect({ rows: r.rowsByTable, warnings: r.warnings }).toEqual({ rows: { rano_events: 2 }, warnings: [] });
    expect(await store.query("SELECT provider, pid, comm, domain, run_id, proto FROM rano_events ORDER BY ts")).toEqual([
      { provider: "openai", pid: 51877, comm: "codex", domain: "api.openai.com", run_id: "48213-1787237403512", proto: "tcp" },
      { provider: "unknown", pid: null, comm: null, domain: null, run_id: null, proto: "udp" },
    ]);
  });

  it("asks from its cursor (less an overlap) and adds only events it has not got, the cursor's second included", async () => {
    const first = lines.slice(0, 10).join("\n") + "\n"; // up to 15:02:30
    // The next window starts a minute earlier, at 15:01:30: it repeats 15:01:36 … 15:02:30 and brings what is new.
    const second = lines.slice(7, 16).join("\n") + "\n";
    const { machine, store, collector } = await setup({
      tools: { rano: { "export --format jsonl --since 10m": first, "export --format jsonl --since 2026-08-20T15:01:30Z": second } },
    });
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ rano_events: 10 });
    const r = await runOnce({ machine, store, collector });
    expect({ result: r.result, error: r.error, rows: r.rowsByTable }).toEqual({ result: "ok", error: undefined, rows: { rano_events: 6 } });
    expect(machine.calls("rano").filter((c) => c.startsWith("export"))).toEqual(["export --format jsonl --since 10m", "export --format jsonl --since 2026-08-20T15:01:30Z"]);
    expect(await count(store)).toBe(16);
  });

  it("reads at most max_rows a run and resumes, losing and repeating nothing", async () => {
    const { machine, store, collector } = await setup({ tools: { rano: { [EXPORT]: exportJsonl } } });
    const rows: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await runOnce({ machine, store, collector, limits: { maxRows: 8 } });
      expect(r.result).toBe("ok");
      rows.push(r.rows);
    }
    // Each later window repeats the cursor's second (and the minute before it, when rows allow).
    expect(rows).toEqual([8, 7, 7, 4, 0]);
    expect(await count(store)).toBe(26);
  });

  it("starts from where it first looked when the first window was empty", async () => {
    const { machine, store, collector } = await setup({ tools: { rano: { [EXPORT]: "" } } });
    const clock = createFixedClock("2026-08-20T15:00:00Z");
    expect((await runOnce({ machine, store, collector, clock })).result).toBe("ok");
    clock.advance(3_600_000);
    await runOnce({ machine, store, collector, clock });
    expect(machine.calls("rano").filter((c) => c.startsWith("export"))).toEqual(["export --format jsonl --since 10m", "export --format jsonl --since 2026-08-20T14:49:00Z"]);
  });

  it("passes --sqlite where vc.config.ts names rano's database", async () => {
    const { machine, store, collector } = await setup({ tools: { rano: { [EXPORT]: e2e } }, paths: { "rano.db": "~/rano/observer.sqlite" } });
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ rano_events: 7 });
    expect(machine.calls("rano").at(-1)).toBe(`export --format jsonl --since 10m --sqlite ${machine.home}/rano/observer.sqlite`);
  });

  it("is skipped where rano has no database, and fails readably when rano fails", async () => {
    const nodb = await setup({ tools: { rano: { [EXPORT]: { stderr: "Error: SQLite file not found: observer.sqlite\n", exit: 1 } } } });
    const s = await runOnce(nodb);
    expect(s.result).toBe("skipped");
    expect(s.reason).toContain("rano has no database on fake (Error: SQLite file not found: observer.sqlite)");
    const broken = await setup({ tools: { rano: { [EXPORT]: { stderr: "Error: Database does not contain rano event data (missing events table).\n", exit: 1 } } } });
    const f = await runOnce(broken);
    expect(f.result).toBe("failed");
    expect(f.error).toBe("rano export exited with 1: Error: Database does not contain rano event data (missing events table).");
  });

  it("skips and counts a bad line among good ones", async () => {
    const { machine, store, collector } = await setup({ tools: { rano: { [EXPORT]: `${lines[0]}\n{"ts":"2026-08-20T15:00:05Z"}\nnot json\n${lines[1]}\n` } } });
    const r = await runOnce({ machine, store, collector });
    expect(r.result).toBe("ok");
    expect(r.rowsByTable).toEqual({ rano_events: 2 });
    expect(r.warnings).toHaveLength(2);
  });
});
