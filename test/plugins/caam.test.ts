import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector, type FakeMachineOptions } from "../../lib/testkit.ts";
import { caam } from "../../plugins/caam/index.ts";

// Real caam outputs (test/fixtures/caam/README.md): `caam limits --format json` (a JSON array,
// Go nanosecond durations, local-offset times, zero times) and `caam status --json`.
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/caam", name), "utf8");
const limits = fx("limits.format-json.json");
const status = fx("status.json");

testCollector({
  collector: caam(),
  fixtures: { tools: { caam: { "limits --format json": limits, "status --json": status } } },
  // 6 profiles: 5 with windows (2+3+3+2+2), one (old-contractor) with a fetch error and none
  rows: { account_limits_snapshot: 12, caam_profile_limits_snapshot: 6, account_profile_snapshots: 3 },
  junk: { tools: { caam: { "limits --format json": "No profiles found.\n", "status --json": "{]" } } },
  async check(store) {
    expect(
      await store.query(
        "SELECT provider, profile, window_name, utilization, utilization_pct, used_percent, resets_at, window_minutes, plan_type, fetched_at FROM account_limits_snapshot WHERE profile IN ('personal', 'main') ORDER BY profile, window_name",
      ),
    ).toEqual([
      {
        provider: "codex",
        profile: "main",
        window_name: "primary",
        utilization: 0.96,
        utilization_pct: 96,
        used_percent: 96,
        resets_at: "2026-08-20T19:18:07.000Z",
        window_minutes: 300,
        plan_type: "pro",
        fetched_at: "2026-08-20T15:10:07.220Z",
      },
      {
        provider: "codex",
        profile: "main",
        window_name: "secondary",
        utilization: 0.88,
        utilization_pct: 88,
        used_percent: 88,
        resets_at: "2026-08-25T18:00:00.000Z",
        window_minutes: 10080,
        plan_type: "pro",
        fetched_at: "2026-08-20T15:10:07.220Z",
      },
      // caam truncates: utilization 0.58 prints used_percent 57
      {
        provider: "claude",
        profile: "personal",
        window_name: "primary",
        utilization: 0.58,
        utilization_pct: 58,
        used_percent: 57,
        resets_at: "2026-08-20T17:59:59.652Z",
        window_minutes: 300,
        plan_type: null,
        fetched_at: "2026-08-20T15:10:07.016Z",
      },
      {
        provider: "claude",
        profile: "personal",
        window_name: "secondary",
        utilization: 0.77,
        utilization_pct: 77,
        used_percent: 77,
        resets_at: "2026-08-25T06:59:59.652Z",
        window_minutes: 10080,
        plan_type: null,
        fetched_at: "2026-08-20T15:10:07.016Z",
      },
      {
        provider: "claude",
        profile: "personal",
        window_name: "tertiary",
        utilization: 0.4,
        utilization_pct: 40,
        used_percent: 40,
        resets_at: "2026-08-25T06:59:59.652Z",
        window_minutes: null,
        plan_type: null,
        fetched_at: "2026-08-20T15:10:07.016Z",
      },
    ]);
    expect(
      await store.query(
        "SELECT provider, profile, error, window_count, max_utilization_pct, credits_has, credits_balance, burn_tokens_per_hour, burn_sample_seconds, burn_total_tokens, estimated_depletion, depletion_confidence FROM caam_profile_limits_snapshot WHERE profile IN ('old-contractor', 'team', 'main') ORDER BY profile",
      ),
    ).toEqual([
      {
        provider: "codex",
        profile: "main",
        error: null,
        window_count: 2,
        max_utilization_pct: 96,
        credits_has: false,
        credits_balance: null,
        burn_tokens_per_hour: 367254,
        burn_sample_seconds: 86400,
        burn_total_tokens: 4190331,
        estimated_depletion: null,
        depletion_confidence: 0.61,
      },
      {
        provider: "claude",
        profile: "old-contractor",
        error: "unauthorized: token expired or invalid",
        window_count: 0,
        max_utilization_pct: null,
        credits_has: null,
        credits_balance: null,
        burn_tokens_per_hour: 1312404,
        burn_sample_seconds: 86400,
        burn_total_tokens: 18203455,
        estimated_depletion: null,
        depletion_confidence: null,
      },
      {
        provider: "codex",
        profile: "team",
        error: null,
        window_count: 2,
        max_utilization_pct: 41,
        credits_has: true,
        credits_balance: 118.4,
        burn_tokens_per_hour: 367254,
        burn_sample_seconds: 86400,
        burn_total_tokens: 4190331,
        estimated_depletion: null,
        depletion_confidence: 0.61,
      },
    ]);
    expect(
      await store.query(
        "SELECT tool, logged_in, active_profile, health_status, health_expires_at, health_error_count, cooldown_remaining, identity_email, identity_organization, identity_plan_type, identity_expires_at, warnings_json, recommendations_json FROM account_profile_snapshots ORDER BY tool",
      ),
    ).toEqual([
      {
        tool: "claude",
        logged_in: true,
        active_profile: "work",
        health_status: "warning",
        health_expires_at: "2026-08-20T15:52:00.000Z",
        health_error_count: 2,
        cooldown_remaining: "(cooldown: 1h 49m remaining)",
        identity_email: "jeff@flywheel.dev",
        identity_organization: "Flywheel Labs",
        identity_plan_type: "max",
        identity_expires_at: "2026-08-20T15:52:00.000Z",
        warnings_json: JSON.stringify(["claude/work: 🟡 Warning - Token expires in 41 minutes, 2 recent errors"]),
        recommendations_json: JSON.stringify(['Run "caam refresh claude work" to refresh expiring token']),
      },
      {
        tool: "codex",
        logged_in: true,
        active_profile: "team",
        health_status: "healthy",
        health_expires_at: "2026-08-30T01:14:05.000Z",
        health_error_count: 0,
        cooldown_remaining: null,
        identity_email: "ops@flywheel.dev",
        identity_organization: null,
        identity_plan_type: "team",
        identity_expires_at: "2026-08-30T01:14:05.000Z",
        warnings_json: null,
        recommendations_json: null,
      },
      {
        tool: "gemini",
        logged_in: false,
        active_profile: null,
        health_status: null,
        health_expires_at: null,
        health_error_count: null,
        cooldown_remaining: null,
        identity_email: null,
        identity_organization: null,
        identity_plan_type: null,
        identity_expires_at: null,
        warnings_json: null,
        recommendations_json: null,
      },
    ]);
  },
});

describe("caam collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  const run = async (m: FakeMachineOptions, collector = caam()) => {
    const machine = createFakeMachine(m);
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    return { rec: await runOnce({ store, collector, machine }), store, machine };
  };

  it("reads variants: other profiles and counts, optional fields absent, unknown fields present, model windows", async () => {
    const list = [
      {
        provider: "claude",
        profile_name: "night",
        new_top_field: 1,
        usage: {
          provider: "claude",
          profile_name: "night",
          rate_limit_tier: "tier_4",
          primary_window: { utilization: 1, used_percent: 100, resets_at: "2026-09-01T01:00:00+02:00", window_duration: 18000000000000, future: true },
          model_windows: { "claude-opus-4-1": { utilization: 0.5, used_percent: 50, resets_at: "0001-01-01T00:00:00Z" } },
          fetched_at: "2026-09-01T00:00:00.5+02:00",
          estimated_depletion: "2026-09-01T03:30:00+02:00",
          depletion_confidence: 0.4,
          brand_new: { x: 1 },
        },
      },
      // no burn_rate, no credits, no plan, no estimated_depletion
      {
        provider: "gemini",
        profile_name: "solo",
        usage: {
          provider: "gemini",
          profile_name: "solo",
          secondary_window: { utilization: 0.05, used_percent: 5, resets_at: "2026-09-02T00:00:00Z" },
          fetched_at: "2026-09-01T00:00:00Z",
        },
      },
      // a null usage (caam printed the profile with nothing fetched)
      { provider: "codex", profile_name: "spare", usage: null },
    ];
    const st = {
      tools: [
        { tool: "claude", logged_in: true, active_profile: "night", health: { status: "critical", reason: "token expired", error_count: 5 }, new_field: "x" },
        { tool: "codex", logged_in: false, error: "auth.json unreadable" },
      ],
    };
    const { rec, store } = await run({ id: "edge-box", tools: { caam: { "limits --format json": JSON.stringify(list), "status --json": JSON.stringify(st) } } });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ account_limits_snapshot: 3, caam_profile_limits_snapshot: 3, account_profile_snapshots: 2 });
    expect(
      await store.query(
        "SELECT machine_id, provider, profile, window_name, utilization_pct, used_percent, resets_at, window_minutes FROM account_limits_snapshot ORDER BY provider, window_name",
      ),
    ).toEqual([
      {
        machine_id: "edge-box",
        provider: "claude",
        profile: "night",
        window_name: "model:claude-opus-4-1",
        utilization_pct: 50,
        used_percent: 50,
        resets_at: null,
        window_minutes: null,
      },
      {
        machine_id: "edge-box",
        provider: "claude",
        profile: "night",
        window_name: "primary",
        utilization_pct: 100,
        used_percent: 100,
        resets_at: "2026-08-31T23:00:00.000Z",
        window_minutes: 300,
      },
      {
        machine_id: "edge-box",
        provider: "gemini",
        profile: "solo",
        window_name: "secondary",
        utilization_pct: 5,
        used_percent: 5,
        resets_at: "2026-09-02T00:00:00.000Z",
        window_minutes: null,
      },
    ]);
    expect(
      await store.query("SELECT profile, rate_limit_tier, fetched_at, error, estimated_depletion, burn_tokens_per_hour FROM caam_profile_limits_snapshot ORDER BY profile"),
    ).toEqual([
      {
        profile: "night",
        rate_limit_tier: "tier_4",
        fetched_at: "2026-08-31T22:00:00.500Z",
        error: null,
        estimated_depletion: "2026-09-01T01:30:00.000Z",
        burn_tokens_per_hour: null,
      },
      { profile: "solo", rate_limit_tier: null, fetched_at: "2026-09-01T00:00:00.000Z", error: null, estimated_depletion: null, burn_tokens_per_hour: null },
      { profile: "spare", rate_limit_tier: null, fetched_at: null, error: "caam printed no usage for this profile", estimated_depletion: null, burn_tokens_per_hour: null },
    ]);
    expect(
      await store.query("SELECT tool, logged_in, active_profile, error, health_status, health_reason, health_error_count FROM account_profile_snapshots ORDER BY tool"),
    ).toEqual([
      { tool: "claude", logged_in: true, active_profile: "night", error: null, health_status: "critical", health_reason: "token expired", health_error_count: 5 },
      { tool: "codex", logged_in: false, active_profile: null, error: "auth.json unreadable", health_status: null, health_reason: null, health_error_count: null },
    ]);
  });

  it("keeps a profile or tool whose optional fields changed type: those read as null", async () => {
    const list = JSON.parse(limits) as any[];
    list[0].usage.burn_rate.by_model = { "claude-opus-4-1": "n/a" };
    list[0].usage.credits = "none";
    list[1].usage.burn_rate = 12;
    const st = JSON.parse(status);
    st.tools[0].health = "healthy";
    st.warnings = "none";
    const { rec, store } = await run({ tools: { caam: { "limits --format json": JSON.stringify(list), "status --json": JSON.stringify(st) } } });
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ account_limits_snapshot: 12, caam_profile_limits_snapshot: 6, account_profile_snapshots: 3 });
    expect(
      await store.query("SELECT profile, credits_has, burn_by_model_json, burn_tokens_per_hour FROM caam_profile_limits_snapshot WHERE profile IN ('alt', 'personal') ORDER BY 1"),
    ).toEqual([
      { profile: "alt", credits_has: null, burn_by_model_json: '{"claude-opus-4-1":"n/a"}', burn_tokens_per_hour: 1312404 },
      { profile: "personal", credits_has: null, burn_by_model_json: null, burn_tokens_per_hour: null },
    ]);
    expect(await store.query("SELECT tool, health_status, active_profile, warnings_json FROM account_profile_snapshots WHERE tool IN ('codex', 'claude') ORDER BY 1")).toEqual([
      { tool: "claude", health_status: "warning", active_profile: "work", warnings_json: null },
      { tool: "codex", health_status: null, active_profile: "team", warnings_json: null },
    ]);
  });

  it("reads an empty fleet: no profiles, no tools (a Go nil slice)", async () => {
    const { rec } = await run({ tools: { caam: { "limits --format json": "[]\n", "status --json": '{"tools":null}' } } });
    expect(rec.result).toBe("ok");
    expect(rec.rowsByTable).toEqual({});
  });

  it("skips a malformed entry or window with a warning and keeps the rest", async () => {
    const list = JSON.parse(limits) as any[];
    list.push(
      { profile_name: "no-provider" },
      { provider: "codex", profile_name: "bad-window", usage: { primary_window: { utilization: "lots" }, secondary_window: { utilization: 0.1, used_percent: 10 } } },
    );
    const { rec } = await run({ tools: { caam: { "limits --format json": JSON.stringify(list), "status --json": status } } });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toHaveLength(2);
    expect(rec.warnings[0]).toStartWith("skipped caam limits entry #6: provider:");
    expect(rec.warnings[1]).toBe("skipped caam codex/bad-window primary window: neither utilization nor used_percent is a number");
    expect(rec.rowsByTable).toEqual({ account_limits_snapshot: 13, caam_profile_limits_snapshot: 7, account_profile_snapshots: 3 });
  });

  it("keeps the other command's data when one fails, and fails readably when both do", async () => {
    const half = await run({ tools: { caam: { "limits --format json": limits, "status --json": { stderr: "Error: unknown flag: --json", exit: 1 } } } });
    expect(half.rec.result).toBe("ok");
    expect(half.rec.warnings).toEqual(["caam status --json exited 1 without JSON: Error: unknown flag: --json"]);
    expect(half.rec.rowsByTable).toEqual({ account_limits_snapshot: 12, caam_profile_limits_snapshot: 6 });
    const none = await run({ tools: { caam: { "limits --format json": '{"error":"x"}', "status --json": '{"tools": 5}' } } });
    expect(none.rec.result).toBe("failed");
    expect(none.rec.error).toBe(
      "caam limits --format json printed a different shape than expected (not a JSON array); caam status --json printed a different shape than expected (tools: Invalid type: Expected Array but received 5)",
    );
  });

  it("reads a tool name of megabytes or of regex syntax as text: no RegExp is built from it (D11)", async () => {
    const huge = "c".repeat(3 * 1024 * 1024); // past what a RegExp may hold (2 M), under the 4 MiB a stored value may
    const st = {
      tools: [
        { tool: huge, logged_in: true },
        { tool: "claude(", logged_in: true },
        { tool: "codex", logged_in: true },
      ],
      warnings: [`${huge}/work: expiring`, "claude/work: 🟡 expiring", "codexx: not this one", "a 'codex: quoted' one"],
      recommendations: ["run caam refresh CLAUDE work"],
    };
    const { rec, store } = await run({ tools: { caam: { "limits --format json": "[]", "status --json": JSON.stringify(st) } } });
    expect({ result: rec.result, error: rec.error, rows: rec.rowsByTable }).toEqual({ result: "ok", error: undefined, rows: { account_profile_snapshots: 3 } });
    const rows = await store.query<{ t: string; w: string | null; r: string | null }>(
      "SELECT left(tool, 8) AS t, warnings_json AS w, recommendations_json AS r FROM account_profile_snapshots ORDER BY length(tool), tool",
    );
    expect(rows.map((x) => [x.t, x.w && JSON.parse(x.w), x.r && JSON.parse(x.r)])).toEqual([
      ["codex", ["a 'codex: quoted' one"], null],
      ["claude(", ["claude/work: 🟡 expiring"], ["run caam refresh CLAUDE work"]],
      ["cccccccc", [expect.stringMatching(/^c+\/work: expiring$/)], null],
    ]);
  });

  it("asks caam exactly limits --format json and status --json", async () => {
    const { machine } = await run({ tools: { caam: { "limits --format json": limits, "status --json": status } } });
    expect(machine.calls("caam").sort()).toEqual(["--version", "limits --format json", "status --json"]);
  });
});
