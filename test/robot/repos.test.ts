import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce } from "../../lib/testkit.ts";
import { createFixedClock, repoId, type Store } from "../../lib/index.ts";
import { coreSections, loadMachineSections } from "../../lib/robot/machine.ts";
import { REPO_TOOLS, reposView } from "../../plugins/ru/view.ts";
import { topProcessesSection } from "../../plugins/sysmoni/plugin.ts";
import { processTriageSection } from "../../plugins/pt/plugin.ts";
import { rchSection } from "../../plugins/rch/plugin.ts";

const systemSections = [topProcessesSection, processTriageSection, rchSection];
import { ru } from "../../plugins/ru/index.ts";
import { sysmoni } from "../../plugins/sysmoni/index.ts";
import { pt } from "../../plugins/pt/index.ts";
import { rch } from "../../plugins/rch/index.ts";

const fx = (tool: string, name: string) => readFileSync(join(import.meta.dir, "../fixtures", tool, name), "utf8");
const envelope = (command: string, repos: unknown[]) =>
  JSON.stringify({ generated_at: "2026-02-10T08:00:00Z", version: "1.2.1", output_format: "json", command, data: { total: repos.length, repos } });

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup) await f();
});

// Two machines: orko with ru's real 115 repos, trj with four of its own (one diverged, one missing, one not a git repo).
async function fleet(): Promise<{ store: Store; clock: ReturnType<typeof createFixedClock> }> {
  const collectors = [ru({ lastCommit: false }), sysmoni({ inotifyProbe: false }), pt(), rch({ metricsUrl: "off" })];
  const store = await createTestStore(collectors);
  const metrics = createFakeMachine({ http: { "/metrics": fx("rch", "metrics.txt") } });
  const orko = createFakeMachine({
    id: "orko",
    tools: {
      ru: { "list --json": fx("ru", "list.json"), "status --no-fetch --json": fx("ru", "status.no-fetch.json") },
      sysmoni: { "--json": fx("sysmoni", "json.json") },
      pt: { "robot plan --format json": { stdout: fx("pt", "robot-plan.format-json.json"), exit: 1 } },
      rch: { "status --json": fx("rch", "status.json") },
    },
    paths: { "rch.metrics_url": metrics.url("/metrics") },
  });
  const trj = createFakeMachine({
    id: "trj",
    tools: {
      ru: {
        "list --json": envelope("list", [
          { repo: "Dicklesworthstone/beads_rust", url: "https://github.com/Dicklesworthstone/beads_rust.git", path: "/home/u/beads_rust" },
          { repo: "me/fork", url: "me/fork", path: "/home/u/fork" },
          { repo: "me/gone", url: "me/gone", path: "/home/u/gone" },
          { repo: "me/notes", url: "me/notes", path: "/home/u/notes" },
        ]),
        "status --no-fetch --json": envelope("status", [
          { repo: "Dicklesworthstone/beads_rust", path: "/home/u/beads_rust", status: "ahead", branch: "main", ahead: 3, behind: 0, dirty: true, mismatch: false },
          { repo: "me/fork", path: "/home/u/fork", status: "diverged", branch: "wip", ahead: -1, behind: -1, dirty: false, mismatch: false },
          { repo: "me/gone", path: "/home/u/gone", status: "missing", branch: "", ahead: 0, behind: 0, dirty: false, mismatch: false },
          // what ru's get_repo_status prints for a folder that is no git repository
          { repo: "me/notes", path: "/home/u/notes", status: "not_git", branch: "", ahead: 0, behind: 0, dirty: false, mismatch: false },
        ]),
      },
    },
  });
  cleanup.push(
    () => metrics.close(),
    () => orko.close(),
    () => trj.close(),
    () => store.close(),
  );
  const clock = createFixedClock("2026-01-25T03:00:00Z");
  for (const machine of [orko, trj]) {
    for (const collector of collectors) await runOnce({ store, collector, machine, clock });
  }
  return { store, clock };
}

describe("vc robot repos", () => {
  it("shows each machine's latest repos with their state, and null beads without beads data", async () => {
    const { store, clock } = await fleet();
    // An older snapshot must not show: orko's repos again, a minute later, one now dirty.
    clock.advance(60_000);
    const at = clock.now().toISOString();
    const view = await reposView(store, at);
    expect(view.data.machines.map((m) => [m.id, m.collected_at, m.repos.length])).toEqual([
      ["orko", "2026-01-25T03:00:00.000Z", 115],
      ["trj", "2026-01-25T03:00:00.000Z", 4],
    ]);
    expect(view.data.machines[0]!.summary).toEqual({ repos: 115, dirty: 4, ahead: 0, behind: 3, diverged: 0, missing: 0, not_git: 0, no_upstream: 0, beads_ready: null });
    // missing (not cloned) and not_git (a folder that is no repository) are counted apart
    expect(view.data.machines[1]!.summary).toEqual({ repos: 4, dirty: 1, ahead: 1, behind: 0, diverged: 1, missing: 1, not_git: 1, no_upstream: 0, beads_ready: null });
    expect(view.data.machines[1]!.repos).toEqual([
      {
        repo_id: repoId({ url: "Dicklesworthstone/beads_rust" }),
        repo: "Dicklesworthstone/beads_rust",
        path: "/home/u/beads_rust",
        url: "https://github.com/Dicklesworthstone/beads_rust.git",
        status: "ahead",
        branch: "main",
        dirty: true,
        ahead: 3,
        behind: 0,
        mismatch: false,
        last_commit_at: null,
        beads_ready: null,
      },
      // ru's -1 (histories it could not compare) and its 0 placeholders (nothing to count against) are unknown: null
      {
        repo_id: repoId({ url: "me/fork" }),
        repo: "me/fork",
        path: "/home/u/fork",
        url: "me/fork",
        status: "diverged",
        branch: "wip",
        dirty: false,
        ahead: null,
        behind: null,
        mismatch: false,
        last_commit_at: null,
        beads_ready: null,
      },
      {
        repo_id: repoId({ url: "me/gone" }),
        repo: "me/gone",
        path: "/home/u/gone",
        url: "me/gone",
        status: "missing",
        branch: null,
        dirty: null,
        ahead: null,
        behind: null,
        mismatch: false,
        last_commit_at: null,
        beads_ready: null,
      },
      {
        repo_id: repoId({ url: "me/notes" }),
        repo: "me/notes",
        path: "/home/u/notes",
        url: "me/notes",
        status: "not_git",
        branch: null,
        dirty: null,
        ahead: null,
        behind: null,
        mismatch: false,
        last_commit_at: null,
        beads_ready: null,
      },
    ]);
    expect(view.staleness).toEqual({ ru: 60 });
    expect(view.warnings).toEqual(["no beads triage for any of these repos: beads_ready is null"]);
    // Before anything was collected there is nothing to show, and the view says why.
    const before = await reposView(store, "2026-01-25T02:59:59Z");
    expect(before.data.machines).toEqual([]);
    expect(before.warnings).toEqual([
      "no ru data: ru ran on orko but reported nothing by 2026-01-25T02:59:59Z (last ok 2026-01-25T03:00:00.000Z); ru ran on trj but reported nothing by 2026-01-25T02:59:59Z (last ok 2026-01-25T03:00:00.000Z). " +
        REPO_TOOLS[0]!.install,
    ]);
  });

  it("shows the -1 and placeholder counts of snapshots stored before as null", async () => {
    const { store } = await fleet();
    // As an older vc stored ru's output: -1 for a diverged repo, 0 and 0 for a repo with no upstream.
    await store.insert("repo_status_snapshots", [
      {
        machine_id: "old",
        collected_at: "2026-01-25T02:00:00Z",
        repo_id: "r1",
        repo: "me/fork",
        path: "/p/fork",
        status: "diverged",
        branch: "wip",
        dirty: false,
        ahead: -1,
        behind: -1,
      },
      {
        machine_id: "old",
        collected_at: "2026-01-25T02:00:00Z",
        repo_id: "r2",
        repo: "me/new",
        path: "/p/new",
        status: "no_upstream",
        branch: "main",
        dirty: true,
        ahead: 0,
        behind: 0,
      },
      { machine_id: "old", collected_at: "2026-01-25T02:00:00Z", repo_id: "r3", repo: "me/ok", path: "/p/ok", status: "ahead", branch: "main", dirty: false, ahead: 2, behind: 0 },
    ]);
    const old = (await reposView(store, "2026-01-25T03:00:00Z")).data.machines.find((m) => m.id === "old")!;
    expect(old.repos.map((r) => [r.repo, r.dirty, r.ahead, r.behind])).toEqual([
      ["me/fork", false, null, null],
      ["me/new", true, null, null],
      ["me/ok", false, 2, 0],
    ]);
    expect(old.summary).toMatchObject({ repos: 3, dirty: 1, ahead: 1, behind: 0, diverged: 1, no_upstream: 1 });
  });

  it("says why there are no repos when ru is missing, and what to install", async () => {
    const store = await createTestStore([ru()]);
    const bare = createFakeMachine({ id: "bare" });
    cleanup.push(
      () => bare.close(),
      () => store.close(),
    );
    const r = await runOnce({ store, collector: ru(), machine: bare, clock: createFixedClock("2026-01-25T03:00:00Z") });
    expect(r.result).toBe("skipped");
    const view = await reposView(store, "2026-01-25T03:00:00.000Z", { collectors: ["sysprobe", "ru"] });
    expect(view.data).toEqual({ machines: [] });
    expect(view.warnings).toEqual([`no ru data: ru skipped on bare: ru not found on bare's PATH. ${REPO_TOOLS[0]!.install}`]);
    expect(REPO_TOOLS[0]!.install).toContain("repo_updater");
    // a config without ru: the warning says to add it
    const unconfigured = await reposView(store, "2026-01-25T03:00:00.000Z", { collectors: ["sysprobe"] });
    expect(unconfigured.warnings).toEqual([`no ru data: ru is not in this config's collectors (add ru() to vc.config.ts). ${REPO_TOOLS[0]!.install}`]);
  });

  it("joins the latest ready count of each repo from the beads collectors' table", async () => {
    const { store } = await fleet();
    // The beads collectors' table (migrations/040), or its key columns where that has not landed.
    await store.run(`CREATE TABLE IF NOT EXISTS beads_triage_snapshots(machine_id VARCHAR, collected_at TIMESTAMP, repo_id VARCHAR, ready_count INTEGER, source VARCHAR,
      PRIMARY KEY (machine_id, collected_at, repo_id))`);
    const beads = repoId({ url: "github.com/Dicklesworthstone/beads_rust" });
    await store.insert("beads_triage_snapshots", [
      { machine_id: "trj", collected_at: "2026-01-25T02:50:00Z", repo_id: beads, ready_count: 9, source: "bv" },
      { machine_id: "trj", collected_at: "2026-01-25T02:58:00Z", repo_id: beads, ready_count: 4, source: "bv" },
      { machine_id: "trj", collected_at: "2026-01-25T03:30:00Z", repo_id: beads, ready_count: 1, source: "bv" }, // after `at`: not seen
      { machine_id: "orko", collected_at: "2026-01-25T02:58:00Z", repo_id: beads, ready_count: 7, source: "bv" }, // the same repo cloned on orko
      { machine_id: "orko", collected_at: "2026-01-25T02:58:00Z", repo_id: repoId({ url: "someone/else" }), ready_count: 5, source: "bv" }, // not in ru's list
    ]);
    await store.run(`INSERT INTO collector_state VALUES ('trj', 'bv', '2026-01-25T02:58:00', 'failed', '2026-01-25T02:50:00', 'bv: no .beads here', 1)`);
    const view = await reposView(store, "2026-01-25T03:00:00.000Z");
    const trj = view.data.machines.find((m) => m.id === "trj")!;
    expect(trj.repos.map((r) => [r.repo, r.beads_ready])).toEqual([
      ["Dicklesworthstone/beads_rust", 4],
      ["me/fork", null],
      ["me/gone", null],
      ["me/notes", null],
    ]);
    expect(trj.summary.beads_ready).toBe(4);
    const orko = view.data.machines.find((m) => m.id === "orko")!;
    expect(orko.summary.beads_ready).toBe(7);
    expect(orko.repos.filter((r) => r.beads_ready !== null).map((r) => [r.path, r.beads_ready])).toEqual([["/data/projects/beads_rust", 7]]);
    expect(view.staleness).toEqual({ ru: 0, bv: 600 });
    expect(view.warnings).toEqual(["bv failed on trj: bv: no .beads here"]);
  });
});

describe("vc robot machine: system, processes and rch sections", () => {
  it("shows the busiest processes, pt's findings and the rch daemon with its workers", async () => {
    const { store } = await fleet();
    const at = "2026-01-25T03:00:00.000Z";
    const s = (await loadMachineSections([...coreSections, ...systemSections], { store, machineId: "orko", at })) as Record<string, any>;
    expect(Object.keys(s)).toEqual(["system", "filesystems", "collectors", "tools", "top_processes", "process_triage", "rch"]);
    expect(s.system).toMatchObject({ source: "sysmoni", cpu_total: 52.8527582444736, inotify_max_user_watches: 524288, temp_max_c: 44 });
    expect(s.top_processes.collected_at).toBe(at);
    expect(s.top_processes.processes).toHaveLength(15);
    expect(s.top_processes.processes[0]).toEqual({
      pid: 365421,
      comm: "gemini",
      cpu_pct: 137.8193919197059,
      mem_pct: 3.5805301666259766,
      mem_bytes: 4831929516,
      nice: 0,
      fd_count: 381,
      fd_diff: 12,
      io_read_kib_s: 0,
      io_write_kib_s: 0,
    });
    expect(s.process_triage).toMatchObject({ collected_at: at, exit_code: 1, candidates_found: 4, kill_count: 2, review_count: 2 });
    expect(s.process_triage.findings.map((f: any) => [f.pid, f.recommendation, f.recommendation_set])).toEqual([
      [418822, "KILL", "kill"],
      [402117, "KILL", "kill"],
      [391002, "THROTTLE", "review"],
      [1774, "REVIEW", "review"],
    ]);
    expect(s.rch).toMatchObject({
      collected_at: at,
      daemon_state: "running",
      posture: "degraded",
      workers_total: 3,
      workers_available: 2,
      builds_active: 2,
      queue_depth: 0,
      metrics_error: null,
    });
    expect(s.rch.remediation_hints).toHaveLength(7);
    expect(s.rch.workers.map((w: any) => [w.worker_id, w.status, w.circuit_state])).toEqual([
      ["mmini", "healthy", "closed"],
      ["ovh1", "unreachable", "open"],
      ["trj", "healthy", "closed"],
    ]);
    // trj runs none of these tools: its sections are null, not errors.
    const t = (await loadMachineSections(systemSections, { store, machineId: "trj", at })) as Record<string, unknown>;
    expect(t).toEqual({ top_processes: null, process_triage: null, rch: null });
  });
});
