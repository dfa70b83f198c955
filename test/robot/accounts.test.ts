import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce } from "../../lib/testkit.ts";
import { createFixedClock, type Store } from "../../lib/index.ts";
import { loadMachineSections } from "../../lib/robot/machine.ts";
import { ACCOUNT_TOOLS, accountsSection, accountsView } from "../../plugins/accounts/view.ts";
import { agentsSection } from "../../plugins/ntm/plugin.ts";
import { sessionsSection } from "../../plugins/cass/plugin.ts";

const accountSections = [agentsSection, accountsSection, sessionsSection];
import { caam } from "../../plugins/caam/index.ts";
import { cass } from "../../plugins/cass/index.ts";
import { caut } from "../../plugins/caut/index.ts";
import { ntm } from "../../plugins/ntm/index.ts";

const fx = (tool: string, name: string) => readFileSync(join(import.meta.dir, "../fixtures", tool, name), "utf8");

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup) await f();
});

// Two machines: orko has every tool with the real fixtures, collected at 15:10; trj has caut only
// (one account, a claude failure) and was last collected at 12:00, so it is stale by 15:12.
async function fleet(): Promise<Store> {
  const collectors = [ntm(), caut(), caam(), cass()];
  const store = await createTestStore(collectors);
  const orko = createFakeMachine({
    id: "orko",
    tools: {
      ntm: { "--robot-status": fx("ntm", "robot-status.json"), "list --json": fx("ntm", "list.json") },
      caut: { "usage --json": fx("caut", "usage.json") },
      caam: { "limits --format json": fx("caam", "limits.format-json.json"), "status --json": fx("caam", "status.json") },
      cass: { "health --json": fx("cass", "health.json"), "stats --json": fx("cass", "stats.json"), "timeline --json": fx("cass", "timeline.json") },
    },
  });
  const trjUsage = JSON.parse(fx("caut", "usage.json"));
  trjUsage.generatedAt = "2026-08-20T11:59:58Z";
  trjUsage.data = [
    {
      provider: "codex",
      account: "night@flywheel.dev",
      source: "cli",
      usage: { primary: { usedPercent: 99, windowMinutes: 300, resetsAt: "2026-08-20T14:00:00Z" }, secondary: null, updatedAt: "2026-08-20T11:59:57Z" },
    },
  ];
  trjUsage.errors = ["claude: 429 Too Many Requests"];
  const trj = createFakeMachine({ id: "trj", tools: { caut: { "usage --json": { stdout: JSON.stringify(trjUsage), exit: 1 } } } });
  cleanup.push(
    () => orko.close(),
    () => trj.close(),
    () => store.close(),
  );
  for (const c of collectors) {
    const r = await runOnce({ store, collector: c, machine: orko, clock: createFixedClock("2026-08-20T15:10:00Z") });
    expect(r.result).toBe("ok");
  }
  expect((await runOnce({ store, collector: caut(), machine: trj, clock: createFixedClock("2026-08-20T12:00:00Z") })).result).toBe("ok");
  return store;
}

describe("vc robot accounts", () => {
  it("shows each account's windows, caam profiles and tools, with staleness and warnings", async () => {
    const store = await fleet();
    const { data, staleness, warnings } = await accountsView(store, "2026-08-20T15:12:00.000Z");
    expect(staleness).toEqual({ caut: 11_520, caam: 120 });
    expect(warnings).toEqual([
      "caut data for trj is 11520 s old (last collected 2026-08-20T12:00:00.000Z)",
      "codex/night@flywheel.dev on trj: the primary window reset 4320 s ago; its used_percent predates the reset",
    ]);
    expect(data.accounts.map((a) => [a.machine_id, a.provider, a.account, a.max_used_percent, a.staleness_s, a.stale])).toEqual([
      ["orko", "claude", "jeff@flywheel.dev", 91, 120, false],
      ["orko", "codex", "ops@flywheel.dev", 41, 120, false],
      ["trj", "codex", "night@flywheel.dev", 99, 11_520, true],
    ]);
    expect(data.accounts[0]!.windows).toEqual([
      { window: "primary", used_percent: 87, remaining_percent: 13, window_minutes: 300, resets_at: "2026-08-20T16:59:59.652Z", resets_in_s: 6480, reset_description: "in 1h 49m" },
      {
        window: "secondary",
        used_percent: 64,
        remaining_percent: 36,
        window_minutes: 10080,
        resets_at: "2026-08-24T06:59:59.652Z",
        resets_in_s: 316_080,
        reset_description: "in 3 days",
      },
      {
        window: "tertiary",
        used_percent: 91,
        remaining_percent: 9,
        window_minutes: 10080,
        resets_at: "2026-08-24T06:59:59.652Z",
        resets_in_s: 316_080,
        reset_description: "in 3 days",
      },
    ]);
    expect(data.profiles.map((p) => [p.provider, p.profile, p.active, p.max_used_percent, p.error])).toEqual([
      ["claude", "alt", false, 31, null],
      ["claude", "old-contractor", false, null, "unauthorized: token expired or invalid"],
      ["claude", "personal", false, 77, null],
      ["claude", "work", true, 91, null],
      ["codex", "main", false, 96, null],
      ["codex", "team", true, 41, null],
    ]);
    expect(data.profiles.find((p) => p.profile === "main")!.windows).toEqual([
      { window: "primary", used_percent: 96, window_minutes: 300, resets_at: "2026-08-20T19:18:07.000Z", resets_in_s: 14_767 },
      { window: "secondary", used_percent: 88, window_minutes: 10080, resets_at: "2026-08-25T18:00:00.000Z", resets_in_s: 442_080 },
    ]);
    expect(data.tools.map((t) => [t.tool, t.logged_in, t.active_profile, t.health_status, t.expires_in_s])).toEqual([
      ["claude", true, "work", "warning", 2400],
      ["codex", true, "team", "healthy", 813_725],
      ["gemini", false, null, null, null],
    ]);
    expect(data.events).toEqual([
      { machine_id: "trj", ts: "2026-08-20T11:59:58.000Z", provider: "claude", account: null, event_type: "fetch_error", message: "429 Too Many Requests" },
    ]);
  });

  it("sees only what was collected by `at`, and says when there is nothing", async () => {
    const store = await fleet();
    const before = await accountsView(store, "2026-08-20T13:00:00.000Z");
    expect(before.data.accounts.map((a) => a.machine_id)).toEqual(["trj"]);
    expect(before.data.profiles).toEqual([]);
    expect(before.staleness).toEqual({ caut: 3600, caam: null });
    const empty = await accountsView(store, "2026-08-01T00:00:00.000Z");
    expect(empty).toEqual({
      data: { accounts: [], profiles: [], tools: [], events: [] },
      staleness: { caut: null, caam: null },
      warnings: [
        "no caut or caam data: caut ran on orko but reported nothing by 2026-08-01T00:00:00.000Z (last ok 2026-08-20T15:10:00.000Z); " +
          "caut ran on trj but reported nothing by 2026-08-01T00:00:00.000Z (last ok 2026-08-20T12:00:00.000Z); " +
          `caam ran on orko but reported nothing by 2026-08-01T00:00:00.000Z (last ok 2026-08-20T15:10:00.000Z). ${ACCOUNT_TOOLS.map((t) => t.install).join("; ")}`,
      ],
    });
  });

  it("says so when caut and caam are missing, naming what to install", async () => {
    const store = await createTestStore([caut(), caam()]);
    const bare = createFakeMachine({ id: "bare" });
    cleanup.push(
      () => bare.close(),
      () => store.close(),
    );
    for (const c of [caut(), caam()]) expect((await runOnce({ store, collector: c, machine: bare, clock: createFixedClock("2026-08-20T15:10:00Z") })).result).toBe("skipped");
    const view = await accountsView(store, "2026-08-20T15:12:00.000Z", { collectors: ["sysprobe", "caut", "caam"] });
    expect(view.data).toEqual({ accounts: [], profiles: [], tools: [], events: [] });
    expect(view.warnings).toEqual([
      `no caut or caam data: caut skipped on bare: caut not found on bare's PATH; caam skipped on bare: caam not found on bare's PATH. ${ACCOUNT_TOOLS.map((t) => t.install).join("; ")}`,
    ]);
    expect(view.warnings[0]).toContain("coding_agent_usage_tracker");
    expect(view.warnings[0]).toContain("coding_agent_account_manager");
    // neither in the config: the warning says to add them
    const none = await accountsView(store, "2026-08-20T15:12:00.000Z", { collectors: ["sysprobe"] });
    expect(none.warnings[0]).toStartWith(
      "no caut or caam data: caut is not in this config's collectors (add caut() to vc.config.ts); caam is not in this config's collectors (add caam() to vc.config.ts). ",
    );
    // a machine's section stays absent, without a warning of its own
    expect(await loadMachineSections(accountSections, { store, machineId: "bare", at: "2026-08-20T15:12:00.000Z" })).toEqual({ agents: null, accounts: null, sessions: null });
  });

  it("flags data as stale past the given threshold", async () => {
    const store = await fleet();
    const { data, warnings } = await accountsView(store, "2026-08-20T15:12:00.000Z", { staleAfterSeconds: 60 });
    expect(data.accounts.every((a) => a.stale)).toBe(true);
    expect(data.profiles.every((p) => p.stale)).toBe(true);
    expect(warnings.filter((w) => w.includes("s old"))).toEqual([
      "caut data for orko is 120 s old (last collected 2026-08-20T15:10:00.000Z)",
      "caut data for trj is 11520 s old (last collected 2026-08-20T12:00:00.000Z)",
      "caam data for orko is 120 s old (last collected 2026-08-20T15:10:00.000Z)",
    ]);
  });
});

describe("vc robot machine: agents, accounts, sessions", () => {
  it("shows orko's ntm sessions, accounts and cass index", async () => {
    const store = await fleet();
    const s = (await loadMachineSections(accountSections, { store, machineId: "orko", at: "2026-08-20T15:12:00.000Z" })) as Record<string, any>;
    expect(Object.keys(s)).toEqual(["agents", "accounts", "sessions"]);
    expect(s.agents.collected_at).toBe("2026-08-20T15:10:00.000Z");
    expect(s.agents.staleness_s).toBe(120);
    expect(s.agents.activity).toMatchObject({
      total_sessions: 3,
      total_agents: 12,
      by_type_json: { claude: 7, codex: 4, gemini: 1 },
      by_state_json: { active: 8, busy: 1, idle: 3 },
      overall_status: "degraded",
    });
    expect(s.agents.sessions.map((x: any) => [x.session_name, x.agent_count, x.health_status, x.work_dir, x.agent_counts_json.total])).toEqual([
      ["frankentui", 4, "warning", "/data/projects/frankentui", 4],
      ["mail-rust", 3, "healthy", "/data/projects/mcp_agent_mail_rust", 3],
      ["vibe_cockpit", 5, "healthy", "/data/projects/vibe_cockpit", 5],
    ]);
    expect(s.agents.agents).toEqual([]);
    expect(s.accounts.accounts.map((a: any) => a.provider)).toEqual(["claude", "codex"]);
    expect(s.accounts.profiles).toHaveLength(6);
    expect(s.accounts.staleness_s).toEqual({ caut: 120, caam: 120 });
    expect(s.sessions.index).toMatchObject({ state: "healthy", index_status: "ready", total_sessions: 14822, freshness_seconds: 412, errors_json: [], staleness_s: 120 });
    expect(s.sessions.stats).toHaveLength(26);
    expect(s.sessions.stats[0]).toEqual({ metric: "conversations", dimensions: null, value: 14822 });
    expect(s.sessions.timeline_24h).toHaveLength(11);
    expect(s.sessions.timeline_24h[2]).toEqual({
      bucket_start: "2026-08-20T06:00:00.000Z",
      bucket_end: "2026-08-20T07:00:00.000Z",
      granularity: "hour",
      conversation_count: 2,
      message_count: 187,
      open_sessions: 0,
      by_agent_json: { claude_code: 1, gemini: 1 },
    });
  });

  it("reads null sections where a machine has no such data, and the accounts of a caut-only machine", async () => {
    const store = await fleet();
    const s = (await loadMachineSections(accountSections, { store, machineId: "trj", at: "2026-08-20T15:12:00.000Z" })) as Record<string, any>;
    expect(s.agents).toBeNull();
    expect(s.sessions).toBeNull();
    expect(s.accounts.accounts).toHaveLength(1);
    expect(s.accounts.accounts[0]).toMatchObject({ provider: "codex", account: "night@flywheel.dev", stale: true });
    expect(s.accounts.events).toHaveLength(1);
    const none = await loadMachineSections(accountSections, { store, machineId: "nowhere", at: "2026-08-20T15:12:00.000Z" });
    expect(none).toEqual({ agents: null, accounts: null, sessions: null });
  });

  it("shows the per-agent rows of the legacy ntm shape", async () => {
    const store = await createTestStore([ntm()]);
    const m = createFakeMachine({ id: "old", tools: { ntm: { "--robot-status": fx("ntm", "robot-status.legacy-2026-02.json"), "list --json": fx("ntm", "list.json") } } });
    cleanup.push(
      () => m.close(),
      () => store.close(),
    );
    await runOnce({ store, collector: ntm(), machine: m, clock: createFixedClock("2026-02-05T17:21:00Z") });
    const s = (await loadMachineSections(accountSections, { store, machineId: "old", at: "2026-02-05T17:22:00Z" })) as Record<string, any>;
    expect(s.agents.agents.map((a: any) => [a.session_name, a.pane_id, a.agent_type, a.context_percent])).toEqual([
      ["frankentui", "%5", "claude", 85.5],
      ["frankentui", "%6", "gemini", 1.91],
      ["vibe_cockpit", "%1", "claude", 59],
      ["vibe_cockpit", "%2", "claude", 30.5],
      ["vibe_cockpit", "%3", "codex", 55.88],
    ]);
  });
});
