import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector, type FakeMachineOptions } from "../../lib/testkit.ts";
import { createFixedClock } from "../../lib/clock.ts";
import type { Store } from "../../lib/index.ts";
import { cass } from "../../plugins/cass/index.ts";
import { bucketOf } from "../../plugins/cass/parse.ts";

// Real cass outputs (test/fixtures/cass/README.md).
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/cass", name), "utf8");
const health = fx("health.json");
const notInit = fx("health.not-initialized.json");
const stats = fx("stats.json");
const timeline = fx("timeline.json");
const real = { "health --json": health, "stats --json": stats, "timeline --json": timeline };

testCollector({
  collector: cass(),
  fixtures: { tools: { cass: real } },
  // stats: 2 totals + 6 agents + 10 workspaces + 8 raw_mirror sizes; timeline: 11 hour groups
  rows: { cass_index_status: 1, cass_stats_snapshots: 26, session_timeline_buckets: 11 },
  junk: { tools: { cass: { "health --json": "\u001b[31mthread 'main' panicked\u001b[0m", "stats --json": "{", "timeline --json": "[]" } } },
  async check(store) {
    const [s] = await store.query<Record<string, unknown>>("SELECT * EXCLUDE (raw_json) FROM cass_index_status");
    expect(s).toEqual({
      machine_id: "fake",
      collected_at: "2026-01-25T03:00:00.000Z",
      state: "healthy",
      healthy: true,
      health_level: "healthy",
      initialized: true,
      index_status: "ready",
      index_exists: true,
      index_fresh: true,
      index_stale: false,
      rebuilding: false,
      last_index_at: "2026-08-20T15:03:19.448Z",
      freshness_seconds: 412,
      documents: 1203377,
      total_sessions: 14822,
      total_messages: 1203377,
      pending_sessions: 3,
      db_exists: true,
      errors_json: "[]",
      warnings_json: "[]",
      explanation: null,
      recommended_action: null,
      latency_ms: 37,
      data_dir: "/home/ubuntu/.local/share/coding-agent-search",
      db_path: "/home/ubuntu/.local/share/coding-agent-search/agent_search.db",
      exit_code: 0,
      source: "cass",
      source_version: "1.0.0",
      schema_version: 1,
    });
    expect(
      await store.query(
        "SELECT metric_name, dimension_key, metric_value, dimensions_json FROM cass_stats_snapshots WHERE metric_name IN ('conversations', 'messages', 'conversations_by_agent', 'raw_mirror_total_storage_bytes') ORDER BY metric_name, metric_value DESC",
      ),
    ).toEqual([
      { metric_name: "conversations", dimension_key: "", metric_value: 14822, dimensions_json: null },
      { metric_name: "conversations_by_agent", dimension_key: "agent=claude_code", metric_value: 9731, dimensions_json: '{"agent":"claude_code"}' },
      { metric_name: "conversations_by_agent", dimension_key: "agent=codex", metric_value: 4102, dimensions_json: '{"agent":"codex"}' },
      { metric_name: "conversations_by_agent", dimension_key: "agent=gemini", metric_value: 611, dimensions_json: '{"agent":"gemini"}' },
      { metric_name: "conversations_by_agent", dimension_key: "agent=cursor", metric_value: 212, dimensions_json: '{"agent":"cursor"}' },
      { metric_name: "conversations_by_agent", dimension_key: "agent=aider", metric_value: 97, dimensions_json: '{"agent":"aider"}' },
      { metric_name: "conversations_by_agent", dimension_key: "agent=opencode", metric_value: 69, dimensions_json: '{"agent":"opencode"}' },
      { metric_name: "messages", dimension_key: "", metric_value: 1203377, dimensions_json: null },
      { metric_name: "raw_mirror_total_storage_bytes", dimension_key: "", metric_value: 9712330112, dimensions_json: null },
    ]);
    expect(
      await store.query(
        "SELECT bucket_start, bucket_end, granularity, conversation_count, message_count, open_sessions, by_agent_json, range_start, range_end FROM session_timeline_buckets WHERE bucket_start IN ('2026-08-20 10:00', '2026-08-20 14:00') ORDER BY bucket_start",
      ),
    ).toEqual([
      {
        bucket_start: "2026-08-20T10:00:00.000Z",
        bucket_end: "2026-08-20T11:00:00.000Z",
        granularity: "hour",
        conversation_count: 2,
        message_count: 423,
        open_sessions: 0,
        by_agent_json: '{"codex":1,"gemini":1}',
        range_start: "2026-08-20T04:00:00.000Z",
        range_end: "2026-08-20T15:10:12.448Z",
      },
      {
        bucket_start: "2026-08-20T14:00:00.000Z",
        bucket_end: "2026-08-20T15:00:00.000Z",
        granularity: "hour",
        conversation_count: 1,
        message_count: 90,
        open_sessions: 1,
        by_agent_json: '{"codex":1}',
        range_start: "2026-08-20T04:00:00.000Z",
        range_end: "2026-08-20T15:10:12.448Z",
      },
    ]);
    expect(await store.query("SELECT sum(conversation_count)::INTEGER AS n, sum(message_count)::INTEGER AS m FROM session_timeline_buckets")).toEqual([{ n: 14, m: 2860 }]);
  },
});

describe("cass collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  const setup = async (m: FakeMachineOptions, collector = cass()) => {
    const machine = createFakeMachine(m);
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    return { machine, store, collector };
  };
  const count = async (store: Store, table: string) => (await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`))[0]!.n;

  it("keeps an unhealthy, not-initialized archive as data (non-zero exit, JSON printed) and asks nothing else", async () => {
    const { machine, store, collector } = await setup({ tools: { cass: { "health --json": { stdout: notInit, exit: 1 } } } });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ cass_index_status: 1 });
    expect(machine.calls("cass").filter((c) => c !== "--version")).toEqual(["health --json"]);
    expect(
      await store.query(
        "SELECT state, healthy, initialized, index_status, last_index_at, freshness_seconds, total_sessions, db_exists, errors_json, recommended_action, exit_code FROM cass_index_status",
      ),
    ).toEqual([
      {
        state: "not_initialized",
        healthy: false,
        initialized: false,
        index_status: "missing",
        last_index_at: null,
        freshness_seconds: null,
        total_sessions: 0,
        db_exists: false,
        errors_json: '["database not initialized yet","index not initialized yet"]',
        recommended_action: "Run 'cass index --full' once to discover local sessions and build the initial archive.",
        exit_code: 1,
      },
    ]);
  });

  it("writes only new or changed timeline buckets at later collections", async () => {
    const { machine, store, collector } = await setup({ tools: { cass: real } });
    await runOnce({ store, collector, machine, clock: createFixedClock("2026-08-20T15:10:00Z") });
    // an hour later: the open 14:00 session ended with more messages, and a 15:00 session began
    const t = JSON.parse(timeline);
    t.groups["2026-08-20 14:00"][0].ended_at = 1787239000000;
    t.groups["2026-08-20 14:00"][0].message_count = 140;
    t.groups["2026-08-20 15:00"] = [
      {
        id: 14042,
        agent: "claude_code",
        title: null,
        started_at: 1787239200000,
        ended_at: null,
        source_path: "/x.jsonl",
        message_count: 3,
        source_id: "local",
        origin_kind: "local",
        origin_host: null,
      },
    ];
    const later = createFakeMachine({ tools: { cass: { ...real, "timeline --json": JSON.stringify(t) } } });
    cleanup.push(() => later.close());
    const rec = await runOnce({ store, collector, machine: later, clock: createFixedClock("2026-08-20T16:10:00Z") });
    expect(rec.rowsByTable).toEqual({ cass_index_status: 1, cass_stats_snapshots: 26, session_timeline_buckets: 2 });
    expect(
      await store.query(
        "SELECT collected_at, bucket_start, message_count, open_sessions FROM session_timeline_buckets WHERE collected_at > '2026-08-20 15:10' ORDER BY bucket_start",
      ),
    ).toEqual([
      { collected_at: "2026-08-20T16:10:00.000Z", bucket_start: "2026-08-20T14:00:00.000Z", message_count: 140, open_sessions: 0 },
      { collected_at: "2026-08-20T16:10:00.000Z", bucket_start: "2026-08-20T15:00:00.000Z", message_count: 3, open_sessions: 1 },
    ]);
    const again = await runOnce({ store, collector, machine: later, clock: createFixedClock("2026-08-20T16:12:00Z") });
    expect(again.rowsByTable.session_timeline_buckets).toBeUndefined();
    expect(await count(store, "session_timeline_buckets")).toBe(13);
  });

  it("caps rows at max_rows and writes the remaining buckets next run", async () => {
    const { machine, store, collector } = await setup({ tools: { cass: real } });
    const limits = { maxRows: 30 };
    const first = await runOnce({ store, collector, machine, limits, clock: createFixedClock("2026-08-20T15:10:00Z") });
    expect(first.result).toBe("ok");
    expect(first.rowsByTable).toEqual({ cass_index_status: 1, cass_stats_snapshots: 26, session_timeline_buckets: 3 });
    expect(first.warnings).toEqual(["cass timeline: max_rows (30) reached; the other buckets are written next run"]);
    const second = await runOnce({ store, collector, machine, limits, clock: createFixedClock("2026-08-20T15:12:00Z") });
    expect(second.rowsByTable.session_timeline_buckets).toBe(3);
    await runOnce({ store, collector, machine, limits, clock: createFixedClock("2026-08-20T15:14:00Z") });
    const fourth = await runOnce({ store, collector, machine, limits, clock: createFixedClock("2026-08-20T15:16:00Z") });
    expect(fourth.rowsByTable.session_timeline_buckets).toBe(2);
    expect(fourth.warnings).toEqual([]);
    expect(await store.query("SELECT count(*)::INTEGER AS rows, count(DISTINCT bucket_start)::INTEGER AS buckets FROM session_timeline_buckets")).toEqual([
      { rows: 11, buckets: 11 },
    ]);
  });

  it("reads variants: another machine, day groups or a flat session list, by_source, optional fields absent, unknown fields", async () => {
    const h = JSON.parse(health);
    delete h.exit_policy;
    delete h.doctor_summary;
    delete h.state.pending;
    h.state.index.status = "stale";
    h.state.index.age_seconds = 90061;
    h.new_health_block = { a: 1 };
    const s = JSON.parse(stats);
    delete s.raw_mirror;
    delete s.top_workspaces;
    s.by_agent = [{ agent: "codex", count: 3, extra: true }];
    s.by_source = [
      { source_id: "local", conversations: 2, messages: 40 },
      { source_id: "mmini", conversations: 1, messages: 9 },
    ];
    s.new_metric_family = [1, 2];
    const day = {
      range: { start: 1787011200000, end: 1787238612448 },
      total_sessions: 3,
      groups: {
        "2026-08-18": [{ id: 1, agent: "codex", started_at: 1787050000000, ended_at: 1787051000000, message_count: 10, unknown: "x" }],
        "2026-08-20": [
          { id: 2, agent: "codex", started_at: 1787210000000, message_count: 5 },
          { id: 3, agent: "gemini", started_at: 1787220000000, ended_at: null, message_count: 7 },
        ],
      },
    };
    const { machine, store, collector } = await setup({
      id: "ws-2",
      tools: { cass: { "health --json": JSON.stringify(h), "stats --json": JSON.stringify(s), "timeline --json": JSON.stringify(day) } },
    });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ cass_index_status: 1, cass_stats_snapshots: 7, session_timeline_buckets: 2 });
    expect(await store.query("SELECT machine_id, index_status, freshness_seconds, pending_sessions FROM cass_index_status")).toEqual([
      { machine_id: "ws-2", index_status: "stale", freshness_seconds: 90061, pending_sessions: null },
    ]);
    expect(await store.query("SELECT metric_name, dimension_key, metric_value FROM cass_stats_snapshots ORDER BY metric_name, dimension_key")).toEqual([
      { metric_name: "conversations", dimension_key: "", metric_value: 14822 },
      { metric_name: "conversations_by_agent", dimension_key: "agent=codex", metric_value: 3 },
      { metric_name: "conversations_by_source", dimension_key: "source=local", metric_value: 2 },
      { metric_name: "conversations_by_source", dimension_key: "source=mmini", metric_value: 1 },
      { metric_name: "messages", dimension_key: "", metric_value: 1203377 },
      { metric_name: "messages_by_source", dimension_key: "source=local", metric_value: 40 },
      { metric_name: "messages_by_source", dimension_key: "source=mmini", metric_value: 9 },
    ]);
    expect(
      await store.query("SELECT bucket_start, bucket_end, granularity, conversation_count, message_count, open_sessions FROM session_timeline_buckets ORDER BY bucket_start"),
    ).toEqual([
      { bucket_start: "2026-08-18T00:00:00.000Z", bucket_end: "2026-08-19T00:00:00.000Z", granularity: "day", conversation_count: 1, message_count: 10, open_sessions: 0 },
      { bucket_start: "2026-08-20T00:00:00.000Z", bucket_end: "2026-08-21T00:00:00.000Z", granularity: "day", conversation_count: 2, message_count: 12, open_sessions: 2 },
    ]);

    // --group-by none prints sessions[]: bucketed by the hour each started
    const flat = { range: day.range, total_sessions: 3, sessions: Object.values(day.groups).flat() };
    const f = await setup({ tools: { cass: { "health --json": health, "stats --json": stats, "timeline --json": JSON.stringify(flat) } } });
    const r2 = await runOnce({ store: f.store, collector: f.collector, machine: f.machine });
    expect(r2.rowsByTable.session_timeline_buckets).toBe(3);
  });

  it("keeps records whose optional fields changed type: those read as null", async () => {
    const h = JSON.parse(health);
    h.state.pending = 3;
    h.latency_ms = "37ms";
    h.errors = "none";
    const t = JSON.parse(timeline);
    t.range = "last 7 days";
    t.groups["2026-08-20 04:00"][0].ended_at = "still open";
    const { machine, store, collector } = await setup({ tools: { cass: { "health --json": JSON.stringify(h), "stats --json": stats, "timeline --json": JSON.stringify(t) } } });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ cass_index_status: 1, cass_stats_snapshots: 26, session_timeline_buckets: 11 });
    expect(await store.query("SELECT state, pending_sessions, latency_ms, errors_json, total_sessions FROM cass_index_status")).toEqual([
      { state: "healthy", pending_sessions: null, latency_ms: null, errors_json: null, total_sessions: 14822 },
    ]);
    expect(await store.query("SELECT range_start, open_sessions FROM session_timeline_buckets WHERE bucket_start = '2026-08-20 04:00'")).toEqual([
      { range_start: null, open_sessions: 1 },
    ]);
  });

  it("keeps the health row when stats or timeline fail, with warnings", async () => {
    const { machine, store, collector } = await setup({
      tools: { cass: { "health --json": health, "stats --json": { stderr: "error: database is locked", exit: 9 }, "timeline --json": '{"range":{"start":1,"end":2}}' } },
    });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.result).toBe("ok");
    expect(rec.rowsByTable).toEqual({ cass_index_status: 1 });
    expect(rec.warnings).toEqual([
      "cass stats --json exited 9 without JSON: error: database is locked",
      "cass timeline --json printed a different shape than expected (neither groups nor sessions)",
    ]);
  });

  it("skips malformed stats entries and timeline groups with warnings", async () => {
    const s = JSON.parse(stats);
    s.by_agent.push({ count: 5 }, { agent: "dup", count: 1 }, { agent: "dup", count: 2 });
    const t = JSON.parse(timeline);
    t.groups["last week"] = [];
    t.groups["2026-08-20 14:00"].push({ id: 9, agent: "codex" });
    const { machine, store, collector } = await setup({ tools: { cass: { "health --json": health, "stats --json": JSON.stringify(s), "timeline --json": JSON.stringify(t) } } });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual([
      "skipped cass stats by_agent[6]: no agent",
      "cass stats lists conversations_by_agent agent=dup twice; kept the first",
      'skipped cass timeline group "last week": not an hour or day key',
      'skipped a cass timeline session in 2026-08-20T14:00:00.000Z: started_at: Invalid key: Expected "started_at" but received undefined',
    ]);
    expect(rec.rowsByTable).toEqual({ cass_index_status: 1, cass_stats_snapshots: 27, session_timeline_buckets: 11 });
  });

  it("reads an infinite or far-off epoch as no time, with a warning, instead of throwing (D11)", async () => {
    const tl =
      '{"range":{"start":1e999,"end":-1e999},"sessions":[{"id":1,"agent":"codex","started_at":1e300,"message_count":2},{"id":2,"agent":"codex","started_at":1787238000000,"message_count":3}]}';
    const { machine, store, collector } = await setup({ tools: { cass: { ...real, "timeline --json": tl } } });
    const rec = await runOnce({ store, collector, machine });
    expect({ result: rec.result, error: rec.error }).toEqual({ result: "ok", error: undefined });
    expect(rec.warnings).toEqual(["skipped cass timeline session #0: no started_at, or not a time (1e+300)"]);
    expect(await store.query("SELECT bucket_start, conversation_count, range_start, range_end FROM session_timeline_buckets")).toEqual([
      { bucket_start: "2026-08-20T15:00:00.000Z", conversation_count: 1, range_start: null, range_end: null },
    ]);
  });

  it("fails readably when health prints no JSON or another shape", async () => {
    const none = await setup({ tools: { cass: { "health --json": { stderr: "cass: command failed", exit: 2 } } } });
    const r1 = await runOnce({ store: none.store, collector: none.collector, machine: none.machine });
    expect(r1.result).toBe("failed");
    expect(r1.error).toBe("cass health --json exited 2 without JSON: cass: command failed");
    const other = await setup({ tools: { cass: { "health --json": '{"ok": true}' } } });
    const r2 = await runOnce({ store: other.store, collector: other.collector, machine: other.machine });
    expect(r2.error).toBe('cass health --json printed a different shape than expected (status: Invalid key: Expected "status" but received undefined)');
  });
});

describe("bucketOf", () => {
  it("reads cass's UTC hour and day keys", () => {
    expect(bucketOf("2026-08-20 06:00")).toEqual({ start: "2026-08-20T06:00:00.000Z", end: "2026-08-20T07:00:00.000Z", granularity: "hour" });
    expect(bucketOf("2026-08-20")).toEqual({ start: "2026-08-20T00:00:00.000Z", end: "2026-08-21T00:00:00.000Z", granularity: "day" });
    expect(bucketOf("2026-08-20 (Thursday)")).toBeNull();
  });
});
