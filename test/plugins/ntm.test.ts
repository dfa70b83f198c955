import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector, type FakeMachineOptions } from "../../lib/testkit.ts";
import { createFixedClock } from "../../lib/clock.ts";
import { ntm } from "../../plugins/ntm/index.ts";
import { degradedSources } from "../../plugins/ntm/parse.ts";
import { ntmPlugin, ntmSourcesFactor } from "../../plugins/ntm/plugin.ts";
import { isoTime } from "../../lib/index.ts";

// Real ntm outputs (test/fixtures/ntm, from the upstream serializers): --robot-status in the
// current v2 shape (session headers only) and the legacy ≤1.7 shape (per-agent data), list --json.
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/ntm", name), "utf8");
const status = fx("robot-status.json");
const legacy = fx("robot-status.legacy-2026-02.json");
const list = fx("list.json");
const json = (text: string) => JSON.parse(text) as Record<string, any>;

testCollector({
  collector: ntm(),
  fixtures: { tools: { ntm: { "--robot-status": status, "list --json": list } } },
  rows: { ntm_sessions_snapshot: 3, ntm_activity_snapshot: 1 },
  junk: { tools: { ntm: { "--robot-status": "{not json", "list --json": "\u0000\u00ff" } } },
  async check(store) {
    expect(
      await store.query(
        "SELECT session_name, attached, agent_count, health_status, health_reason, windows, pane_count, work_dir, in_status, in_list FROM ntm_sessions_snapshot ORDER BY session_name",
      ),
    ).toEqual([
      {
        session_name: "frankentui",
        attached: false,
        agent_count: 4,
        health_status: "warning",
        health_reason: "agent idle >10m with pending work",
        windows: 1,
        pane_count: 5,
        work_dir: "/data/projects/frankentui",
        in_status: true,
        in_list: true,
      },
      {
        session_name: "mail-rust",
        attached: false,
        agent_count: 3,
        health_status: "healthy",
        health_reason: null,
        windows: 1,
        pane_count: 4,
        work_dir: "/data/projects/mcp_agent_mail_rust",
        in_status: true,
        in_list: true,
      },
      {
        session_name: "vibe_cockpit",
        attached: true,
        agent_count: 5,
        health_status: "healthy",
        health_reason: null,
        windows: 2,
        pane_count: 6,
        work_dir: "/data/projects/vibe_cockpit",
        in_status: true,
        in_list: true,
      },
    ]);
    const [a] = await store.query<Record<string, unknown>>("SELECT * EXCLUDE (raw_json) FROM ntm_activity_snapshot");
    expect(a).toEqual({
      machine_id: "fake",
      collected_at: "2026-01-25T03:00:00.000Z",
      total_sessions: 3,
      total_agents: 12,
      attached_count: 1,
      by_type_json: '{"claude":7,"codex":4,"gemini":1}',
      by_state_json: '{"active":8,"busy":1,"idle":3}',
      overall_status: "degraded",
      health_score: 0.95,
      alerts_active: 1,
      alert_counts_json: '{"warning":1}',
      ready_work: 14,
      in_progress: 5,
      mail_unread: 7,
      mail_urgent: 1,
      tmux_available: true,
      ntm_version: "1.31.2",
      ntm_schema_version: "ntm.robot.status.v2",
      ntm_generated_at: "2026-08-20T15:10:15.183Z",
      derived_from: "status",
      source: "ntm",
      source_version: "1.0.0",
      schema_version: 1,
      degraded_sources_json: "[]",
    });
    const [c] = await store.query<{ c: string; raw: string }>("SELECT agent_counts_json AS c, raw_json AS raw FROM ntm_sessions_snapshot WHERE session_name = 'frankentui'");
    expect(JSON.parse(c!.c)).toMatchObject({ claude: 3, gemini: 1, user: 1, total: 4 });
    expect(JSON.parse(c!.raw).status).toEqual(json(status).sessions[1]);
  },
});

describe("ntm collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  const run = async (m: FakeMachineOptions, collector = ntm()) => {
    const machine = createFakeMachine(m);
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    const rec = await runOnce({ store, collector, machine });
    return { rec, store, machine };
  };

  it("reads the legacy status shape: one agent row per pane, exact values", async () => {
    const { rec, store } = await run({ tools: { ntm: { "--robot-status": legacy, "list --json": '{"sessions":[],"count":0,"total_matches":0,"has_more":false}' } } });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ ntm_sessions_snapshot: 2, ntm_agents_snapshot: 5, ntm_activity_snapshot: 1 });
    expect(
      await store.query(
        "SELECT session_name, pane_id, agent_type, variant, window_index, pane_index, is_active, pid, child_pid, last_output_at, seconds_since_output, process_state, memory_mb, output_lines_since_last, context_tokens, context_limit, context_percent, context_model FROM ntm_agents_snapshot ORDER BY session_name, pane_id",
      ),
    ).toEqual([
      {
        session_name: "frankentui",
        pane_id: "%5",
        agent_type: "claude",
        variant: null,
        window_index: 0,
        pane_index: 1,
        is_active: true,
        pid: 52011,
        child_pid: 52090,
        last_output_at: "2026-02-05T17:08:44.123Z",
        seconds_since_output: 720,
        process_state: "S",
        memory_mb: 702,
        output_lines_since_last: null,
        context_tokens: 171000,
        context_limit: 200000,
        context_percent: 85.5,
        context_model: "claude-opus-4-5",
      },
      {
        session_name: "frankentui",
        pane_id: "%6",
        agent_type: "gemini",
        variant: null,
        window_index: 0,
        pane_index: 2,
        is_active: false,
        pid: 52020,
        child_pid: 52101,
        last_output_at: "2026-02-05T17:20:11.246Z",
        seconds_since_output: 33,
        process_state: "S",
        memory_mb: 190,
        output_lines_since_last: 54,
        context_tokens: 20000,
        context_limit: 1048576,
        context_percent: 1.91,
        context_model: "gemini-2.5-pro",
      },
      {
        session_name: "vibe_cockpit",
        pane_id: "%1",
        agent_type: "claude",
        variant: "opus",
        window_index: 0,
        pane_index: 1,
        is_active: true,
        pid: 41823,
        child_pid: 41907,
        last_output_at: "2026-02-05T17:20:30.123Z",
        seconds_since_output: 14,
        process_state: "S",
        memory_mb: 612,
        output_lines_since_last: 47,
        context_tokens: 118000,
        context_limit: 200000,
        context_percent: 59,
        context_model: "claude-opus-4-5",
      },
      {
        session_name: "vibe_cockpit",
        pane_id: "%2",
        agent_type: "claude",
        variant: null,
        window_index: 0,
        pane_index: 2,
        is_active: false,
        pid: 41851,
        child_pid: 41933,
        last_output_at: "2026-02-05T17:20:41.246Z",
        seconds_since_output: 3,
        process_state: "R",
        memory_mb: 588,
        output_lines_since_last: 54,
        context_tokens: 61000,
        context_limit: 200000,
        context_percent: 30.5,
        context_model: "claude-opus-4-5",
      },
      {
        session_name: "vibe_cockpit",
        pane_id: "%3",
        agent_type: "codex",
        variant: null,
        window_index: 0,
        pane_index: 3,
        is_active: false,
        pid: 41870,
        child_pid: 41990,
        last_output_at: "2026-02-05T17:19:09.370Z",
        seconds_since_output: 95,
        process_state: "S",
        memory_mb: 241,
        output_lines_since_last: null,
        context_tokens: 152000,
        context_limit: 272000,
        context_percent: 55.88,
        context_model: "gpt-5-codex",
      },
    ]);
    expect(await store.query("SELECT session_name, attached, agent_count, session_exists, windows, pane_count, in_list FROM ntm_sessions_snapshot ORDER BY session_name")).toEqual([
      { session_name: "frankentui", attached: false, agent_count: 2, session_exists: true, windows: 1, pane_count: 3, in_list: false },
      { session_name: "vibe_cockpit", attached: true, agent_count: 3, session_exists: true, windows: 1, pane_count: 4, in_list: false },
    ]);
    expect(
      await store.query("SELECT total_sessions, total_agents, by_type_json, by_state_json, overall_status, ntm_version, ntm_schema_version FROM ntm_activity_snapshot"),
    ).toEqual([
      {
        total_sessions: 2,
        total_agents: 5,
        by_type_json: '{"claude":3,"codex":1,"gemini":1}',
        by_state_json: null,
        overall_status: null,
        ntm_version: "1.7.0",
        ntm_schema_version: null,
      },
    ]);
  });

  it("merges sessions seen by only one of the two commands, once each", async () => {
    const s = json(status);
    s.sessions.push({ name: "only-in-status", agent_count: 1, health: { status: "healthy" } });
    const l = json(list);
    l.sessions.push({ name: "only-in-list", base_project: "x", windows: 1, pane_count: 1, attached: false }); // no agents: none detected
    const { rec, store } = await run({ tools: { ntm: { "--robot-status": JSON.stringify(s), "list --json": JSON.stringify(l) } } });
    expect(rec.rowsByTable).toEqual({ ntm_sessions_snapshot: 5, ntm_activity_snapshot: 1 });
    expect(
      await store.query("SELECT session_name, agent_count, in_status, in_list, agent_counts_json FROM ntm_sessions_snapshot WHERE session_name LIKE 'only%' ORDER BY 1"),
    ).toEqual([
      { session_name: "only-in-list", agent_count: null, in_status: false, in_list: true, agent_counts_json: null },
      { session_name: "only-in-status", agent_count: 1, in_status: true, in_list: false, agent_counts_json: null },
    ]);
  });

  it("reads variants: another machine, more sessions, optional fields absent, unknown fields present", async () => {
    const s = json(status);
    delete s.overall_status;
    delete s.alert_counts;
    delete s.handoff;
    delete s.sources;
    s.brand_new_section = { anything: [1, 2, 3] };
    s.summary.agents_by_type = { claude: 20, oc: 2 };
    s.summary.total_agents = 22;
    s.summary.future_counter = 9;
    s.sessions = Array.from({ length: 7 }, (_, i) => ({ name: `s${i}`, agent_count: i, health: { status: i % 2 ? "healthy" : "warning" }, new_field: true }));
    const l = {
      generated_at: "2026-09-01T00:00:00Z",
      sessions: s.sessions.map((x: any) => ({
        name: x.name,
        windows: 1,
        pane_count: x.agent_count + 1,
        attached: false,
        agents: { claude: x.agent_count, total: x.agent_count, zeta: 1 },
      })),
      count: 7,
      total_matches: 7,
      has_more: false,
      extra: "x",
    };
    const { rec, store } = await run({ id: "mmini", tools: { ntm: { "--robot-status": JSON.stringify(s), "list --json": JSON.stringify(l) } } });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ ntm_sessions_snapshot: 7, ntm_activity_snapshot: 1 });
    expect(await store.query("SELECT DISTINCT machine_id FROM ntm_sessions_snapshot")).toEqual([{ machine_id: "mmini" }]);
    expect(await store.query("SELECT total_agents, by_type_json, overall_status, alert_counts_json FROM ntm_activity_snapshot")).toEqual([
      { total_agents: 22, by_type_json: '{"claude":20,"oc":2}', overall_status: "degraded", alert_counts_json: null },
    ]);
    expect(await store.query("SELECT sum(agent_count)::INTEGER AS n, count(*) FILTER (WHERE attached)::INTEGER AS att FROM ntm_sessions_snapshot")).toEqual([{ n: 21, att: 0 }]);
  });

  it("keeps a record whose optional fields changed type: those read as null, non-number counts are left out", async () => {
    const s = json(status);
    s.sessions[0].health = "healthy";
    s.sessions[1].attached = "yes";
    s.summary.agents_by_state = { active: 8, idle: 3, labels: ["x"] };
    s.system = "1.40.0";
    const l = json(list);
    l.sessions[0].agents = { claude: 3, total: 4, notes: "two are idle" };
    const { rec, store } = await run({ tools: { ntm: { "--robot-status": JSON.stringify(s), "list --json": JSON.stringify(l) } } });
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ ntm_sessions_snapshot: 3, ntm_activity_snapshot: 1 });
    expect(
      await store.query(
        "SELECT session_name, attached, health_status, agent_count, agent_counts_json FROM ntm_sessions_snapshot WHERE session_name IN ('vibe_cockpit', 'frankentui') ORDER BY 1",
      ),
    ).toEqual([
      { session_name: "frankentui", attached: false, health_status: "warning", agent_count: 4, agent_counts_json: '{"claude":3,"total":4}' },
      { session_name: "vibe_cockpit", attached: true, health_status: null, agent_count: 5, agent_counts_json: JSON.stringify(json(list).sessions[2].agents) },
    ]);
    expect(await store.query("SELECT by_state_json, ntm_version, tmux_available FROM ntm_activity_snapshot")).toEqual([
      { by_state_json: '{"active":8,"idle":3}', ntm_version: null, tmux_available: null },
    ]);
  });

  it("skips a malformed session with a warning and keeps the rest", async () => {
    const s = json(status);
    s.sessions.push({ agent_count: 2 }, "junk", { name: "", agent_count: 1 });
    const { rec } = await run({ tools: { ntm: { "--robot-status": JSON.stringify(s), "list --json": list } } });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toHaveLength(3);
    expect(rec.warnings[0]).toContain("skipped ntm --robot-status session #3");
    expect(rec.rowsByTable.ntm_sessions_snapshot).toBe(3);
  });

  it("uses list alone when --robot-status fails, and warns", async () => {
    const failure = JSON.stringify({ success: false, timestamp: "2026-08-20T15:10:15Z", error: "tmux not available", error_code: "DEPENDENCY_MISSING" });
    const { rec, store } = await run({ tools: { ntm: { "--robot-status": { stdout: failure, exit: 1 }, "list --json": list } } });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual(["ntm --robot-status failed: tmux not available (DEPENDENCY_MISSING); sessions and totals come from ntm list alone"]);
    expect(rec.rowsByTable).toEqual({ ntm_sessions_snapshot: 3, ntm_activity_snapshot: 1 });
    expect(await store.query("SELECT total_sessions, total_agents, attached_count, by_type_json, derived_from FROM ntm_activity_snapshot")).toEqual([
      { total_sessions: 3, total_agents: 12, attached_count: 1, by_type_json: '{"claude":7,"gemini":1,"codex":4}', derived_from: "list" },
    ]);
  });

  it("fails readably when both commands fail, and when status prints another shape", async () => {
    const both = await run({
      tools: { ntm: { "--robot-status": { stderr: "tmux: no server running", exit: 1 }, "list --json": { stdout: '{"success":false,"error":"no tmux"}', exit: 1 } } },
    });
    expect(both.rec.result).toBe("failed");
    expect(both.rec.error).toBe("ntm --robot-status exited 1 without JSON: tmux: no server running; ntm list --json failed: no tmux");
    const other = await run({ tools: { ntm: { "--robot-status": '{"sessions": 3}' } } }, ntm({ list: false }));
    expect(other.rec.result).toBe("failed");
    expect(other.rec.error).toContain("ntm --robot-status printed a different shape than expected (sessions:");
  });

  it("asks ntm exactly --robot-status and list --json", async () => {
    const { machine } = await run({ tools: { ntm: { "--robot-status": status, "list --json": list } } });
    expect(machine.calls("ntm").sort()).toEqual(["--robot-status", "--version", "list --json"]);
  });

  it("keeps the sources ntm reports degraded, and they become the ntm plugin's health factor", async () => {
    // The real status, its sources as ntm's NormalizeHealth writes them when the bead store fails
    // and the mail source goes stale: degraded, with the reason, and listed in sources.degraded.
    const s = json(status);
    s.sources = {
      sources: {
        work_coordination: { ...s.sources.sources.work_coordination },
        beads: {
          name: "beads",
          available: false,
          fresh: false,
          reason_code: "health:source_unavailable",
          degraded: true,
          degraded_since: "2026-08-20T15:08:02Z",
          degraded_reason: "collection failed",
          last_error: "br: database is locked",
        },
        mail: {
          name: "mail",
          available: true,
          fresh: false,
          reason_code: "health:source_stale",
          age_ms: 94000,
          updated_at: "2026-08-20T15:08:41Z",
          degraded: true,
          degraded_since: "2026-08-20T15:10:15Z",
          degraded_reason: "stale: 1m34s since last collection",
        },
      },
      degraded: ["beads", "mail"],
      all_fresh: false,
    };
    const { rec, store } = await run({ id: "orko", tools: { ntm: { "--robot-status": JSON.stringify(s), "list --json": list } } });
    expect({ result: rec.result, warnings: rec.warnings }).toEqual({ result: "ok", warnings: [] });
    const [row] = await store.query<{ d: string }>("SELECT degraded_sources_json AS d FROM ntm_activity_snapshot");
    expect(JSON.parse(row!.d)).toEqual([
      { name: "beads", reason: "collection failed", since: "2026-08-20T15:08:02.000Z", last_error: "br: database is locked" },
      { name: "mail", reason: "stale: 1m34s since last collection", since: "2026-08-20T15:10:15.000Z", last_error: null },
    ]);
    // the factor, as health reads it: two degraded sources is high
    const readings = await ntmSourcesFactor.read(store, "2026-01-25T03:05:00.000Z");
    expect([...readings]).toEqual([
      ["orko", { value: 2, detail: "ntm sources degraded: beads (collection failed: br: database is locked), mail (stale: 1m34s since last collection)" }],
    ]);
    expect(ntmSourcesFactor.score(2)).toBe(0.4);
    expect(ntmSourcesFactor.score(1)).toBe(0.7);
    expect(ntmSourcesFactor.score(0)).toBe(1);
    // older than 30 min: no reading
    expect((await ntmSourcesFactor.read(store, "2026-01-25T03:31:00.000Z")).size).toBe(0);
    // a degraded name with no entry of its own is kept too
    const named = json(status);
    named.sources.degraded = ["tmux"];
    expect(degradedSources(named as never, () => {})).toEqual([{ name: "tmux", reason: null, since: null, last_error: null }]);
    // the legacy shape has no source health: null, not "all fresh"
    const legacyRun = await run({ id: "old", tools: { ntm: { "--robot-status": legacy, "list --json": list } } });
    expect(await legacyRun.store.query("SELECT degraded_sources_json FROM ntm_activity_snapshot")).toEqual([{ degraded_sources_json: null }]);
    expect((await ntmSourcesFactor.read(legacyRun.store, "2026-01-25T03:05:00.000Z")).size).toBe(0);
  });

  it("brings its column with the plugin's own migration, leaving the core migrations untouched", async () => {
    expect(ntmPlugin.migrations?.map((m) => m.name)).toEqual(["001_activity_degraded_sources.sql", "002_attention_feed.sql"]);
    const store = await createTestStore([ntm()]);
    cleanup.push(() => store.close());
    expect(await store.query("SELECT source, name FROM schema_migrations WHERE source <> 'core'")).toEqual([
      { source: "plugin:ntm", name: "001_activity_degraded_sources.sql" },
      { source: "plugin:ntm", name: "002_attention_feed.sql" },
    ]);
    expect(ntmPlugin.healthFactors?.map((f) => f.id)).toEqual(["ntm_sources"]);
  });

  it("writes a new snapshot at the next collection", async () => {
    const collector = ntm();
    const machine = createFakeMachine({ tools: { ntm: { "--robot-status": status, "list --json": list } } });
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    await runOnce({ store, collector, machine, clock: createFixedClock("2026-08-20T15:10:00Z") });
    const second = await runOnce({ store, collector, machine, clock: createFixedClock("2026-08-20T15:12:00Z") });
    expect(second.rowsByTable).toEqual({ ntm_sessions_snapshot: 3, ntm_activity_snapshot: 1 });
    expect(await store.query("SELECT count(DISTINCT collected_at)::INTEGER AS n FROM ntm_sessions_snapshot")).toEqual([{ n: 2 }]);
  });
});

describe("isoTime", () => {
  it("reads Go and chrono times to UTC milliseconds, and the zero time as null", () => {
    expect(isoTime("2026-08-20T15:10:15.183204Z")).toBe("2026-08-20T15:10:15.183Z");
    expect(isoTime("2026-08-20T11:10:07.028417331-04:00")).toBe("2026-08-20T15:10:07.028Z");
    expect(isoTime("2026-08-20T15:03:19.448+00:00")).toBe("2026-08-20T15:03:19.448Z");
    expect(isoTime("0001-01-01T00:00:00Z")).toBeNull();
    expect(isoTime("yesterday")).toBeNull();
    expect(isoTime(undefined)).toBeNull();
  });
});
