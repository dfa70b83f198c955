import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector } from "../../lib/testkit.ts";
import { createFixedClock, repoId } from "../../lib/index.ts";
import { ru } from "../../plugins/ru/index.ts";
import { mapList, mapStatus, parseLastCommits, readEnvelope } from "../../plugins/ru/parse.ts";

// Real captured outputs of ru 1.2.1 (repo_updater fixtures/real_world): 115 repos, 3 behind, 4 dirty.
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/ru", name), "utf8");
const list = fx("list.json");
const status = fx("status.no-fetch.json");
const listObj = JSON.parse(list) as { data: { total: number; repos: Record<string, unknown>[] } };
const statusObj = JSON.parse(status) as { data: { total: number; repos: Record<string, unknown>[] } };
const envelope = (command: string, repos: unknown[], extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ generated_at: "2026-02-10T08:00:00Z", version: "1.3.0", output_format: "json", command, data: { total: repos.length, repos }, ...extra }, null, 2)}\n`;
const tool = (l: string, s: string) => ({ ru: { "list --json": l, "status --no-fetch --json": s } });

const id = (url: string) => repoId({ url });

testCollector({
  collector: ru(),
  fixtures: { tools: tool(list, status) },
  rows: { repos: 115, repo_status_snapshots: 115 },
  junk: { tools: tool('{"generated_at": "x", "data": 5}', "not json") },
  async check(store) {
    expect(
      await store.query("SELECT * EXCLUDE (raw_json, source_version) FROM repos WHERE path IN ('/data/projects/midas_edge', '/data/projects/frankentui') ORDER BY path"),
    ).toEqual([
      {
        machine_id: "fake",
        repo_id: id("github.com/Dicklesworthstone/frankentui"),
        repo: "Dicklesworthstone/frankentui",
        path: "/data/projects/frankentui",
        url: "https://github.com/Dicklesworthstone/frankentui.git",
        remote: "github.com/Dicklesworthstone/frankentui",
        collected_at: "2026-01-25T03:00:00.000Z",
        source: "ru",
        schema_version: 1,
      },
      {
        machine_id: "fake",
        repo_id: id("git@github.com:Dicklesworthstone/midas_edge.git"),
        repo: "Dicklesworthstone/midas_edge",
        path: "/data/projects/midas_edge",
        url: "Dicklesworthstone/midas_edge",
        remote: "github.com/Dicklesworthstone/midas_edge",
        collected_at: "2026-01-25T03:00:00.000Z",
        source: "ru",
        schema_version: 1,
      },
    ]);
    expect(
      await store.query(`SELECT repo, status, branch, dirty, ahead, behind, mismatch, last_commit_at FROM repo_status_snapshots
        WHERE status <> 'current' OR dirty ORDER BY repo`),
    ).toEqual([
      { repo: "Dicklesworthstone/asupersync", status: "behind", branch: "main", dirty: false, ahead: 0, behind: 1, mismatch: false, last_commit_at: null },
      { repo: "Dicklesworthstone/beads_viewer", status: "current", branch: "main", dirty: true, ahead: 0, behind: 0, mismatch: false, last_commit_at: null },
      { repo: "Dicklesworthstone/coding_agent_session_search", status: "behind", branch: "main", dirty: false, ahead: 0, behind: 2, mismatch: false, last_commit_at: null },
      { repo: "Dicklesworthstone/frankensqlite", status: "current", branch: "main", dirty: true, ahead: 0, behind: 0, mismatch: false, last_commit_at: null },
      { repo: "Dicklesworthstone/frankentui", status: "current", branch: "main", dirty: true, ahead: 0, behind: 0, mismatch: false, last_commit_at: null },
      { repo: "Dicklesworthstone/repo_updater", status: "current", branch: "main", dirty: true, ahead: 0, behind: 0, mismatch: false, last_commit_at: null },
      { repo: "Dicklesworthstone/wezterm_automata", status: "behind", branch: "main", dirty: false, ahead: 0, behind: 6, mismatch: false, last_commit_at: null },
    ]);
    // Every snapshot joins its repo by repo_id.
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM repo_status_snapshots s JOIN repos r USING (machine_id, repo_id) WHERE s.path = r.path")).toEqual([{ n: 115 }]);
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM repo_status_snapshots WHERE branch = 'master'")).toEqual([{ n: 10 }]);
  },
});

describe("ru parser", () => {
  it("gives a repo the same id on every machine when it has a remote, and a per-machine id when not", () => {
    const env = readEnvelope(
      envelope("list", [
        { repo: "x/y", url: "x/y", path: "/a/y" },
        { repo: "local", url: "", path: "/a/local" },
      ]),
      "ru list",
    );
    const a = mapList(env, "orko", () => {});
    const b = mapList(env, "trj", () => {});
    expect(a.rows[0]!.repo_id).toBe(b.rows[0]!.repo_id);
    expect(a.rows[0]!.repo_id).toBe(repoId({ url: "https://github.com/x/y.git" }));
    expect(a.rows[1]!.repo_id).toBe(repoId({ path: "/a/local", machine: "orko" }));
    expect(a.rows[1]!.repo_id).not.toBe(b.rows[1]!.repo_id);
    expect(a.rows[1]).toMatchObject({ url: null, remote: null });
  });

  it("stores counts ru could not make as null (its -1 and 0 placeholders), empty branches as null, unknown fields in raw_json", () => {
    const repos = [
      { repo: "o/div", url: "o/div", path: "/p/div" },
      { repo: "o/gone", url: "o/gone", path: "/p/gone" },
      { repo: "o/new", url: "git@gitlab.com:o/new.git", path: "/p/new" },
    ];
    const st = [
      { repo: "o/div", path: "/p/div", status: "diverged", branch: "feature/x", ahead: -1, behind: -1, dirty: true, mismatch: false, stash: 2 },
      { repo: "o/gone", path: "/p/gone", status: "missing", branch: "", ahead: 0, behind: 0, dirty: false, mismatch: false },
      { repo: "o/new", path: "/p/new", status: "no_upstream", branch: "main", ahead: 0, behind: 0, dirty: false },
    ];
    const warnings: string[] = [];
    const { byPath } = mapList(readEnvelope(envelope("list", repos), "ru list"), "m", (w) => warnings.push(w));
    const { rows } = mapStatus(readEnvelope(envelope("status", st, { _meta: { duration_seconds: 1 } }), "ru status"), byPath, "m", (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    expect(rows.map(({ raw_json: _r, ...r }) => r)).toEqual([
      {
        repo_id: id("o/div"),
        repo: "o/div",
        path: "/p/div",
        status: "diverged",
        branch: "feature/x",
        dirty: true,
        ahead: null,
        behind: null,
        mismatch: false,
        last_commit_at: null,
      },
      { repo_id: id("o/gone"), repo: "o/gone", path: "/p/gone", status: "missing", branch: null, dirty: null, ahead: null, behind: null, mismatch: false, last_commit_at: null },
      {
        repo_id: id("https://gitlab.com/o/new"),
        repo: "o/new",
        path: "/p/new",
        status: "no_upstream",
        branch: "main",
        dirty: false,
        ahead: null,
        behind: null,
        mismatch: null,
        last_commit_at: null,
      },
    ]);
    expect((rows[0]!.raw_json as Record<string, unknown>).stash).toBe(2);
  });

  it("skips malformed repo records with a warning, and one id twice keeps the first", () => {
    const warnings: string[] = [];
    const repos = [{ repo: "a/b", url: "a/b", path: "/p/b" }, { repo: "a/b", url: "https://github.com/a/b.git", path: "/p/b-2" }, { url: "a/c" }, "junk"];
    const { rows, byPath } = mapList(readEnvelope(envelope("list", repos), "ru list"), "m", (w) => warnings.push(w));
    expect(rows).toHaveLength(1);
    expect(byPath.size).toBe(2);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain("/p/b-2");
  });

  it("refuses what is not ru's envelope, saying so", () => {
    expect(() => readEnvelope("No configuration found", "ru list --json")).toThrow(/ru list --json printed something that is not JSON/);
    expect(() => readEnvelope('{"data": {"repos": 3}}', "ru status")).toThrow(/not ru's envelope: data.repos/);
  });

  it("reads git's commit times", () => {
    const m = parseLastCommits("1\t2026-02-09T10:00:00+01:00\n2\t\n3\t2026-02-09T09:00:00Z\nfatal: x\n");
    expect([...m.entries()].map(([k, d]) => [k, d.toISOString()])).toEqual([
      [1, "2026-02-09T09:00:00.000Z"],
      [3, "2026-02-09T09:00:00.000Z"],
    ]);
  });
});

describe("ru collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });

  it("reads the last commit time of real git repos, and none for missing ones", async () => {
    const m = createFakeMachine({ id: "orko" });
    cleanup.push(() => m.close());
    const repo = join(m.home, "projects/tool");
    const git = (...args: string[]) => {
      const r = Bun.spawnSync(["git", ...args], {
        cwd: repo,
        env: {
          ...process.env,
          HOME: m.home,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_AUTHOR_NAME: "t",
          GIT_AUTHOR_EMAIL: "t@x",
          GIT_COMMITTER_NAME: "t",
          GIT_COMMITTER_EMAIL: "t@x",
          GIT_AUTHOR_DATE: "2026-02-09T10:11:12+02:00",
          GIT_COMMITTER_DATE: "2026-02-09T10:11:12+02:00",
        },
      });
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    };
    m.writeFile("projects/tool/README.md", "hi\n");
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "first");
    const repos = [
      { repo: "acme/tool", url: "acme/tool", path: repo },
      { repo: "acme/gone", url: "acme/gone", path: join(m.home, "projects/gone") },
    ];
    const st = [
      { repo: "acme/tool", path: repo, status: "no_upstream", branch: "main", ahead: 0, behind: 0, dirty: false, mismatch: true },
      { repo: "acme/gone", path: join(m.home, "projects/gone"), status: "missing", branch: "", ahead: 0, behind: 0, dirty: false, mismatch: false },
    ];
    const machine = createFakeMachine({ id: "orko", tools: tool(envelope("list", repos), envelope("status", st)) });
    cleanup.push(() => machine.close());
    const collector = ru();
    const store = await createTestStore([collector]);
    cleanup.push(() => store.close());
    const run = await runOnce({ store, collector, machine });
    expect(run.warnings).toEqual([]);
    expect(run.rowsByTable).toEqual({ repos: 2, repo_status_snapshots: 2 });
    expect(await store.query("SELECT repo, status, last_commit_at FROM repo_status_snapshots ORDER BY repo")).toEqual([
      { repo: "acme/gone", status: "missing", last_commit_at: null },
      { repo: "acme/tool", status: "no_upstream", last_commit_at: "2026-02-09T08:11:12.000Z" },
    ]);
  });

  it("stores null, never -1, for the counts ru could not make in its real output", async () => {
    // The real 115 repos, three of them as ru's get_repo_status prints the cases it cannot count:
    // unrelated histories (diverged, -1/-1), no upstream (0/0), not a git repository (0/0, dirty false).
    const lines = status.split("\n");
    const edit = (path: string, to: Record<string, unknown>) => {
      const i = lines.findIndex((l) => l.includes(`"path":"${path}"`));
      const row = JSON.parse(lines[i]!.replace(/,$/, "")) as Record<string, unknown>;
      lines[i] = JSON.stringify({ ...row, ...to }) + (lines[i]!.endsWith(",") ? "," : "");
    };
    edit("/data/projects/midas_edge", { status: "diverged", ahead: -1, behind: -1, dirty: true });
    edit("/data/projects/slidechase", { status: "no_upstream", ahead: 0, behind: 0 });
    edit("/data/projects/clawd", { status: "not_git", branch: "", ahead: 0, behind: 0, dirty: false });
    const collector = ru({ lastCommit: false });
    const store = await createTestStore([collector]);
    const m = createFakeMachine({ tools: tool(list, lines.join("\n")) });
    cleanup.push(
      () => m.close(),
      () => store.close(),
    );
    const run = await runOnce({ store, collector, machine: m });
    expect({ result: run.result, warnings: run.warnings, rows: run.rowsByTable }).toEqual({ result: "ok", warnings: [], rows: { repos: 115, repo_status_snapshots: 115 } });
    expect(await store.query("SELECT path, status, branch, dirty, ahead, behind FROM repo_status_snapshots WHERE status NOT IN ('current', 'behind') ORDER BY path")).toEqual([
      { path: "/data/projects/clawd", status: "not_git", branch: null, dirty: null, ahead: null, behind: null },
      { path: "/data/projects/midas_edge", status: "diverged", branch: "main", dirty: true, ahead: null, behind: null },
      { path: "/data/projects/slidechase", status: "no_upstream", branch: "main", dirty: false, ahead: null, behind: null },
    ]);
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM repo_status_snapshots WHERE ahead < 0 OR behind < 0")).toEqual([{ n: 0 }]);
    expect(await store.query("SELECT sum(behind)::INTEGER AS behind FROM repo_status_snapshots")).toEqual([{ behind: 9 }]);
  });

  it("adds a snapshot per run and never a second repo row", async () => {
    const collector = ru({ lastCommit: false });
    const store = await createTestStore([collector]);
    const m = createFakeMachine({ tools: tool(list, status) });
    cleanup.push(
      () => m.close(),
      () => store.close(),
    );
    const clock = createFixedClock("2026-01-25T03:00:00Z");
    await runOnce({ store, collector, machine: m, clock });
    clock.advance(300_000);
    const second = await runOnce({ store, collector, machine: m, clock });
    expect(second.rowsByTable).toEqual({ repos: 0, repo_status_snapshots: 115 });
    expect(await store.query("SELECT count(*)::INTEGER AS n, count(DISTINCT collected_at)::INTEGER AS t FROM repo_status_snapshots")).toEqual([{ n: 230, t: 2 }]);
  });

  it("is skipped when ru has no configuration, and fails readably when ru fails", async () => {
    const collector = ru();
    const store = await createTestStore([collector]);
    const empty = createFakeMachine({ tools: { ru: { "list --json": { stderr: "ℹ No configuration found. Run: ru init\n" } } } });
    const broken = createFakeMachine({
      tools: { ru: { "list --json": list, "status --no-fetch --json": { stderr: "ru: error: --public and --private are mutually exclusive", exit: 4 } } },
    });
    cleanup.push(
      () => empty.close(),
      () => broken.close(),
      () => store.close(),
    );
    const skipped = await runOnce({ store, collector, machine: empty });
    expect(skipped.result).toBe("skipped");
    expect(skipped.reason).toContain("No configuration found");
    const failed = await runOnce({ store, collector, machine: broken });
    expect(failed.result).toBe("failed");
    expect(failed.error).toBe("ru status --no-fetch --json exited with 4: ru: error: --public and --private are mutually exclusive");
  });

  it("matches status to the list by path even when ru renamed the repo, and records repos only status knows", async () => {
    const l = listObj.data.repos.slice(0, 2);
    const s = statusObj.data.repos.slice(0, 3).map((r, i) => (i === 0 ? { ...r, repo: "renamed" } : r));
    const collector = ru({ lastCommit: false });
    const store = await createTestStore([collector]);
    const m = createFakeMachine({ id: "trj", tools: tool(envelope("list", l), envelope("status", s)) });
    cleanup.push(
      () => m.close(),
      () => store.close(),
    );
    const run = await runOnce({ store, collector, machine: m });
    expect(run.rowsByTable).toEqual({ repos: 3, repo_status_snapshots: 3 });
    expect(run.warnings).toEqual(["ru status listed 1 repo(s) that ru list did not (config changed between the two?)"]);
    const rows = await store.query<{ repo: string; repo_id: string; url: string | null }>(
      "SELECT s.repo, s.repo_id, r.url FROM repo_status_snapshots s JOIN repos r USING (machine_id, repo_id) ORDER BY s.path",
    );
    expect(rows.find((r) => r.repo === "renamed")!.repo_id).toBe(id("Dicklesworthstone/midas_edge"));
    expect(rows.filter((r) => r.url === null)).toHaveLength(1);
  });
});
