import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOnce, testCollector, useFakeSetup } from "../../lib/testkit.ts";
import { createFixedClock, repoId } from "../../lib/index.ts";
import { beads } from "../../plugins/beads/index.ts";
import { mapList, readEnvelope } from "../../plugins/ru/parse.ts";
import { graphMetricsRow, issueRow, parseReady, parseRuList, parseTriage, priorityOf, splitLines, triageRow, type Triage } from "../../plugins/beads/parse.ts";

setDefaultTimeout(30_000);

// Real-format outputs: bv v0.15.2 --robot-triage (beads_viewer TriageResult), br ready --json and
// lines of beads_rust's own .beads/issues.jsonl (23 issues: 12 closed, 6 open, 4 in progress, 1 tombstone).
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/beads", name), "utf8");
const triageJson = fx("bv-robot-triage.json");
const readyJson = fx("br-ready.json");
const issuesJsonl = fx("issues.jsonl");
const issueLines = issuesJsonl.split("\n").filter(Boolean);
const triage = JSON.parse(triageJson) as Record<string, any>;
const tools = (t = triageJson, r = readyJson) => ({ bv: { "--robot-triage": t }, br: { "ready --json": r } });

const setup = useFakeSetup();
/** A tool on the fake PATH written as a shell script (answers that depend on the working directory). */
function script(dir: string, name: string, body: string) {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}
const count = async (store: { query: <T>(q: string) => Promise<T[]> }, table: string) => (await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`))[0]!.n;

testCollector({
  collector: beads({ repos: ["~/projects/vc", "~/projects/br/", "~/projects/plain"], useRu: false }),
  fixtures: {
    tools: tools(),
    home: {
      "projects/vc/.beads/issues.jsonl": issuesJsonl,
      "projects/br/.beads/issues.jsonl": `${issueLines.slice(0, 3).join("\n")}\n`,
      "projects/plain/README.md": "no beads here\n",
    },
  },
  // Two repositories with .beads (one triage, one graph row and their issues each); the third is warned about.
  rows: { beads_triage_snapshots: 2, beads_graph_metrics: 2, beads_issues: 26 },
  warnings: 1,
  junk: {
    tools: tools("{oops", "[not json"),
    home: { "projects/vc/.beads/issues.jsonl": '\u0000\u00ff garbage\n{"no":"id"}\n', "projects/br/.beads/issues.jsonl": "nope\n" },
  },
  async check(store, run) {
    expect(run.warnings[0]).toMatch(/^plain: no \.beads directory at .*\/projects\/plain\/\.beads, repository skipped$/);
    const snaps = await store.query<Record<string, unknown>>(
      `SELECT repo_id, repo_path, repo_name, repo_url, bv_version, generated_at, data_hash, issue_count, ready_count, ready_source, open_count,
              actionable_count, blocked_count, in_progress_count, top_pick_id, top_pick_title, top_pick_score,
              json_array_length(recommendations_json)::INTEGER AS recs, json_array_length(blockers_json)::INTEGER AS blockers,
              json_array_length(ready_json)::INTEGER AS ready, raw_json->>'$.data_hash' AS raw_hash
       FROM beads_triage_snapshots ORDER BY repo_path`,
    );
    const path = (s: Record<string, unknown>) => String(s.repo_path);
    expect(snaps.map(path).map((p) => p.replace(/^.*\/home\//, "~/"))).toEqual(["~/projects/br", "~/projects/vc"]);
    for (const s of snaps) expect(s.repo_id).toBe(repoId({ path: path(s), machine: "fake" }));
    expect(snaps[1]).toEqual({
      repo_id: snaps[1]!.repo_id,
      repo_path: snaps[1]!.repo_path,
      repo_name: "vc",
      repo_url: null,
      bv_version: "v0.15.2",
      generated_at: "2026-08-20T15:11:02.000Z",
      data_hash: "0d0bab73a18a310a",
      issue_count: 167,
      ready_count: 5,
      ready_source: "br",
      open_count: 26,
      actionable_count: 19,
      blocked_count: 3,
      in_progress_count: 4,
      top_pick_id: "vc-4kq.3",
      top_pick_title: "Parse dcg history.db instead of history.jsonl",
      top_pick_score: 0.6812,
      recs: 6,
      blockers: 3,
      ready: 5,
      raw_hash: "0d0bab73a18a310a",
    });
    expect(
      await store.query(`SELECT node_count, edge_count, density, has_cycles, phase2_ready, total_count, open_count, closed_count, blocked_count, actionable_count,
        in_progress_count, not_closed_count, dependency_blocked_count, closed_last_7_days, closed_last_30_days, avg_days_to_close, stale_count,
        stalest_issue_id, stalest_issue_days, stale_threshold_days, by_priority_json->>'$."2"' AS p2, pagerank_json->>'$."vc-4kq.3"' AS pr
        FROM beads_graph_metrics WHERE repo_path LIKE '%/vc'`),
    ).toEqual([
      {
        node_count: 167,
        edge_count: 212,
        density: 0.007648,
        has_cycles: false,
        phase2_ready: true,
        total_count: 167,
        open_count: 26,
        closed_count: 134,
        blocked_count: 3,
        actionable_count: 19,
        in_progress_count: 4,
        not_closed_count: 33,
        dependency_blocked_count: 14,
        closed_last_7_days: 18,
        closed_last_30_days: 61,
        avg_days_to_close: 3.412,
        stale_count: 4,
        stalest_issue_id: "vc-1d9",
        stalest_issue_days: 38,
        stale_threshold_days: 14,
        p2: "88",
        pr: "0.20020000000000002",
      },
    ]);
    expect(await store.query("SELECT status, count(*)::INTEGER AS n FROM beads_issues WHERE repo_path LIKE '%/vc' GROUP BY status ORDER BY status")).toEqual([
      { status: "closed", n: 12 },
      { status: "in_progress", n: 4 },
      { status: "open", n: 6 },
      { status: "tombstone", n: 1 },
    ]);
    expect(
      await store.query(`SELECT issue_id, title, status, priority, type, assignee, labels_json, blocked_by_json, json_array_length(deps_json)::INTEGER AS deps,
        comments_count, external_ref, created_at, updated_at, closed_at, deleted_at, machine_id, collected_at
        FROM beads_issues WHERE repo_path LIKE '%/vc' AND issue_id IN ('beads_rust-1quj', 'beads_rust-1h4', 'beads_rust-2mwr', 'beads_rust-35kz') ORDER BY issue_id`),
    ).toEqual([
      {
        issue_id: "beads_rust-1h4",
        title: "Test reopen issue",
        status: "tombstone",
        priority: 2,
        type: "task",
        assignee: null,
        labels_json: null,
        blocked_by_json: null,
        deps: null,
        comments_count: 0,
        external_ref: null,
        created_at: "2026-01-16T17:13:09.946Z",
        updated_at: "2026-01-16T17:13:46.009Z",
        closed_at: "2026-01-16T17:13:46.009Z",
        deleted_at: "2026-01-16T17:13:46.009Z",
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
      },
      {
        issue_id: "beads_rust-1quj",
        title: "Sync import: preflight guardrails + JSONL validation tests",
        status: "in_progress",
        priority: 1,
        type: "task",
        assignee: "SwiftDeer",
        labels_json: '["sync","tests"]',
        blocked_by_json: '["beads_rust-3ea7","beads_rust-zlml"]',
        deps: 3,
        comments_count: 0,
        external_ref: null,
        created_at: "2026-01-21T21:46:37.058Z",
        updated_at: "2026-01-28T18:49:33.377Z",
        closed_at: null,
        deleted_at: null,
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
      },
      {
        issue_id: "beads_rust-2mwr",
        title: "[EPIC] ultimate_mcp_server #10: Add AGENTS.md for Agent Guidance",
        status: "open",
        priority: 2,
        type: "epic",
        assignee: null,
        labels_json: '["cli"]',
        blocked_by_json: null,
        deps: null,
        comments_count: 1,
        external_ref: "github:Dicklesworthstone/ultimate_mcp_server#10",
        created_at: "2026-01-25T02:45:50.968Z",
        updated_at: "2026-01-25T04:09:36.821Z",
        closed_at: null,
        deleted_at: null,
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
      },
      {
        issue_id: "beads_rust-35kz",
        title: "Test issue",
        status: "open",
        priority: 2,
        type: "task",
        assignee: null,
        labels_json: null,
        blocked_by_json: null,
        deps: null,
        comments_count: 0,
        external_ref: null,
        created_at: "2026-01-28T18:47:31.038Z",
        updated_at: "2026-01-28T18:47:31.038Z",
        closed_at: null,
        deleted_at: null,
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
      },
    ]);
    // The line as received, every key of it.
    const [raw] = await store.query<{ raw_json: string }>("SELECT raw_json FROM beads_issues WHERE issue_id = 'beads_rust-1h4' AND repo_path LIKE '%/vc'");
    expect(JSON.parse(raw!.raw_json)).toEqual(JSON.parse(issueLines.find((l) => l.includes('"id":"beads_rust-1h4"'))!));
  },
});

describe("beads parsers", () => {
  it("reads the triage envelope, and a variant without its optional parts", () => {
    const t = parseTriage(triageJson) as Triage;
    expect(t).not.toBeInstanceOf(Error);
    const repo = { repo_id: "r1", repo_path: "/p", repo_name: "p", repo_url: null };
    expect(triageRow(repo, t, null)).toMatchObject({ ready_count: 19, ready_source: "bv", top_pick_id: "vc-4kq.3", issue_count: 167 });
    // An older/newer bv: no quick_ref, no project_health, no recommendations; unknown fields anywhere.
    const slim = parseTriage(
      JSON.stringify({ generated_at: "2026-09-01T00:00:00Z", version: "v0.16.0", degraded: ["history"], triage: { meta: { issue_count: 4 }, feedback: { x: 1 } } }),
    ) as Triage;
    expect(triageRow(repo, slim, null)).toMatchObject({ ready_count: null, ready_source: null, issue_count: 4, top_pick_id: null, quick_ref_json: null, bv_version: "v0.16.0" });
    expect(graphMetricsRow(repo, slim)).toBeNull();
    // The triage key is what makes it a triage.
    expect(parseTriage('{"generated_at":"x","data":{}}')).toBeInstanceOf(Error);
    expect((parseTriage("Error: no beads found") as Error).message).toContain("not JSON");
  });

  it("counts br's ready list and ignores entries without an id", () => {
    const warnings: string[] = [];
    expect((parseReady(readyJson, (m) => warnings.push(m)) as unknown[]).length).toBe(5);
    expect((parseReady('[{"id":"a"},{"title":"no id"},{"id":"b","unknown":true}]', (m) => warnings.push(m)) as unknown[]).length).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(parseReady('{"error":"no db"}', () => {})).toBeInstanceOf(Error);
    expect(parseReady("[]", () => {})).toEqual([]);
  });

  it("reads ru's list: paths, urls as written, entries without a path reported", () => {
    const warnings: string[] = [];
    const list = parseRuList(JSON.parse(fx("ru-list.json")), (m) => warnings.push(m)) as { path: string; url: string | null; name: string | null }[];
    expect(list).toHaveLength(115);
    expect(list[0]).toEqual({ path: "/data/projects/midas_edge", url: "Dicklesworthstone/midas_edge", name: "Dicklesworthstone/midas_edge" });
    expect(parseRuList({ data: { repos: [{ repo: "x" }, { path: "/a", url: "" }] } }, (m) => warnings.push(m))).toEqual([{ path: "/a", url: null, name: null }]);
    expect(warnings).toHaveLength(1);
    expect(parseRuList({ data: 5 }, () => {})).toBeInstanceOf(Error);
  });

  it("maps an issue line, optional keys absent or unknown ones present, and hashes the line", () => {
    const repo = { repo_id: "r1", repo_path: "/p", repo_name: "p", repo_url: null };
    const line =
      '{"id":"x-1","title":"T","status":"deferred","priority":"P3","issue_type":"bug","created_at":"2026-02-01T00:00:00Z","updated_at":"not a time","future_field":{"a":1}}';
    const r = issueRow(repo, line, JSON.parse(line));
    expect("row" in r && r.row).toMatchObject({
      issue_id: "x-1",
      status: "deferred",
      priority: 3,
      type: "bug",
      updated_at: null,
      created_at: "2026-02-01T00:00:00Z",
      labels_json: null,
      comments_count: 0,
    });
    const again = issueRow(repo, line, JSON.parse(line));
    const other = issueRow(repo, line.replace('"T"', '"T2"'), JSON.parse(line.replace('"T"', '"T2"')));
    expect("row" in again && "row" in r && again.row.content_hash === r.row.content_hash).toBe(true);
    expect("row" in other && "row" in r && other.row.content_hash !== r.row.content_hash).toBe(true);
    expect(issueRow(repo, "{}", {})).toEqual({ error: expect.stringContaining("id") });
    expect([priorityOf(0), priorityOf("2"), priorityOf("p4"), priorityOf("high"), priorityOf(null)]).toEqual([0, 2, 4, null, null]);
  });

  it("reports an entry nested 100,000 deep without throwing (D11)", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const warnings: string[] = [];
    const repos = parseRuList(JSON.parse(`{"data":{"repos":[${deep},{"path":"/p"}]}}`), (m) => warnings.push(m));
    expect(repos).toEqual([{ path: "/p", url: null, name: null }]);
    expect(warnings).toEqual([`ru list: repos[0] has no path, skipped: ${"[".repeat(120)}…`]);
    expect(parseRuList(JSON.parse(`{"data":${deep}}`), () => {})).toBeInstanceOf(Error);
    expect(parseReady(`[${deep},{"id":"x"}]`, (m) => warnings.push(m))).toEqual([{ id: "x" }]);
  });

  it("splits complete lines, and a last line without newline only at the end of a whole file", () => {
    const bytes = new TextEncoder().encode('{"a":1}\n{"b":2}\n{"c":3}');
    expect(splitLines(bytes, 100).map((l) => [l.text, l.start, l.end])).toEqual([
      ['{"a":1}', 100, 108],
      ['{"b":2}', 108, 116],
    ]);
    expect(splitLines(bytes, 0, true).map((l) => l.end)).toEqual([8, 16, 23]);
  });
});

describe("beads collector", () => {
  it("takes the repositories from ru list --json, keyed by remote as the ru collector keys them", async () => {
    const c = beads();
    const { machine: m, store } = await setup(c, {
      tools: tools(),
      home: { "data/a/.beads/issues.jsonl": issuesJsonl, "data/b/.beads/issues.jsonl": `${issueLines[0]}\n`, "data/c/README": "x" },
    });
    const list = {
      generated_at: "2026-02-09T18:09:08Z",
      version: "1.2.1",
      output_format: "json",
      command: "list",
      data: {
        total: 4,
        repos: [
          { repo: "Acme/a", url: "Acme/a", path: `${m.home}/data/a` },
          { repo: "b", url: "", path: `${m.home}/data/b` },
          { repo: "Acme/c", url: "git@github.com:Acme/c.git", path: `${m.home}/data/c` },
          { repo: "Acme/gone", url: "Acme/gone", path: `${m.home}/data/gone` },
        ],
      },
    };
    writeFileSync(join(m.dir, "ru-list.json"), JSON.stringify(list));
    script(m.bin, "ru", `[ "$*" = "list --json" ] && exec cat '${join(m.dir, "ru-list.json")}'\nexit 64`);
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run.result).toBe("ok");
    expect(run.rowsByTable).toEqual({ beads_triage_snapshots: 2, beads_graph_metrics: 2, beads_issues: 24 });
    expect(run.warnings.map((w) => w.replace(m.home, "~")).sort()).toEqual([
      "Acme/c: no .beads directory at ~/data/c/.beads, repository skipped",
      "Acme/gone: no .beads directory at ~/data/gone/.beads, repository skipped",
    ]);
    expect(await store.query("SELECT repo_id, repo_name, repo_url FROM beads_triage_snapshots ORDER BY repo_name")).toEqual([
      { repo_id: repoId({ url: "https://github.com/Acme/a.git" }), repo_name: "Acme/a", repo_url: "Acme/a" },
      { repo_id: repoId({ path: `${m.home}/data/b`, machine: "fake" }), repo_name: "b", repo_url: null },
    ]);
    expect(await store.query("SELECT DISTINCT repo_id FROM beads_issues ORDER BY 1")).toEqual(
      [repoId({ url: "Acme/a" }), repoId({ path: `${m.home}/data/b`, machine: "fake" })].sort().map((repo_id) => ({ repo_id })),
    );
    // The ids are the ones the ru collector gives the same list, so `vc robot repos` can join them.
    const ru = mapList(readEnvelope(JSON.stringify(list), "ru list"), "fake", () => {}).rows;
    expect(await store.query("SELECT repo_path AS path, repo_id FROM beads_triage_snapshots ORDER BY 1")).toEqual(
      ru.filter((r) => /\/data\/[ab]$/.test(String(r.path))).map((r) => ({ path: r.path, repo_id: r.repo_id })),
    );
    // bv and br ran in each repository with .beads, once each.
    expect(m.calls("bv")).toEqual(["--robot-triage", "--robot-triage"]);
    expect(m.calls("br")).toEqual(["ready --json", "ready --json"]);
  });

  it("reads a machine's own repository list instead of ru's and the configured ones", async () => {
    const c = beads({ repos: ["~/elsewhere"] });
    const { machine: m, store } = await setup(c, {
      tools: { ...tools(), ru: { "list --json": '{"data":{"repos":[{"path":"/nowhere"}]}}' } },
      home: { "one/.beads/issues.jsonl": `${issueLines[1]}\n`, "two/.beads/issues.jsonl": `${issueLines[2]}\n` },
      paths: { "beads.repos": "~/one:~/two,~/one" },
    });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { beads_triage_snapshots: 2, beads_graph_metrics: 2, beads_issues: 2 } });
    expect(m.calls("ru")).toEqual([]);
    expect(await store.query("SELECT repo_name FROM beads_triage_snapshots ORDER BY 1")).toEqual([{ repo_name: "one" }, { repo_name: "two" }]);
  });

  it("is skipped, with the reason, where neither bv nor br is installed, or no repository is known", async () => {
    const c = beads({ repos: ["~/r"] });
    const bare = await setup(c, { home: { "r/.beads/issues.jsonl": issuesJsonl } });
    expect(await runOnce({ store: bare.store, collector: c, machine: bare.machine })).toMatchObject({ result: "skipped", reason: "bv and br not found on fake's PATH" });
    const none = beads();
    const noRepos = await setup(none, { tools: tools() });
    expect(await runOnce({ store: noRepos.store, collector: none, machine: noRepos.machine })).toMatchObject({
      result: "skipped",
      reason: "no repositories to read: ru not found on fake's PATH and no repos configured",
    });
  });

  it("is skipped, never ok, where none of the repositories has a .beads directory", async () => {
    const c = beads({ repos: ["~/projects/plain", "~/projects/docs"], useRu: false });
    const { machine: m, store } = await setup(c, { tools: tools(), home: { "projects/plain/README.md": "no beads here\n", "projects/docs/index.md": "# docs\n" } });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run).toMatchObject({ result: "skipped", reason: "none of the 2 repositories has a .beads directory (plain, docs)", rowsByTable: {} });
    expect(run.warnings.map((w) => w.replace(m.home, "~"))).toEqual([
      "plain: no .beads directory at ~/projects/plain/.beads, repository skipped",
      "docs: no .beads directory at ~/projects/docs/.beads, repository skipped",
    ]);
    expect(m.calls("bv")).toEqual([]);
  });

  it("keeps bv's triage where br is missing (ready from quick_ref), and br's ready list where bv is missing", async () => {
    const c = beads({ repos: ["~/r"] });
    const bvOnly = await setup(c, { tools: { bv: { "--robot-triage": triageJson } }, home: { "r/.beads/issues.jsonl": `${issueLines[0]}\n` } });
    expect((await runOnce({ store: bvOnly.store, collector: c, machine: bvOnly.machine })).rowsByTable).toEqual({
      beads_triage_snapshots: 1,
      beads_graph_metrics: 1,
      beads_issues: 1,
    });
    expect(await bvOnly.store.query("SELECT ready_count, ready_source, ready_json FROM beads_triage_snapshots")).toEqual([
      { ready_count: 19, ready_source: "bv", ready_json: null },
    ]);

    const brOnly = await setup(c, { tools: { br: { "ready --json": readyJson } }, home: { "r/.beads/issues.jsonl": `${issueLines[0]}\n` } });
    expect((await runOnce({ store: brOnly.store, collector: c, machine: brOnly.machine })).rowsByTable).toEqual({ beads_triage_snapshots: 1, beads_issues: 1 });
    expect(await brOnly.store.query("SELECT ready_count, ready_source, top_pick_id, raw_json FROM beads_triage_snapshots")).toEqual([
      { ready_count: 5, ready_source: "br", top_pick_id: null, raw_json: null },
    ]);
  });

  it("asks br for every ready issue when its default limit of 20 is reached", async () => {
    const issue = (i: number) => ({ created_at: "2026-08-14T19:02:11.448120993Z", id: `x-${i}`, issue_type: "task", priority: 2, status: "open", title: `t${i}` });
    const twenty = JSON.stringify(
      Array.from({ length: 20 }, (_, i) => issue(i)),
      null,
      2,
    );
    const all = JSON.stringify(
      Array.from({ length: 27 }, (_, i) => issue(i)),
      null,
      2,
    );
    const c = beads({ repos: ["~/r"] });
    const { machine: m, store } = await setup(c, { tools: { br: { "ready --json": twenty, "ready --json --limit 0": all } }, home: { "r/.beads/x": "" } });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run.warnings).toEqual(["r: no .beads/issues.jsonl to read"]);
    expect(m.calls("br")).toEqual(["ready --json", "ready --json --limit 0"]);
    expect(await store.query("SELECT ready_count FROM beads_triage_snapshots")).toEqual([{ ready_count: 27 }]);
  });

  it("skips one repository where bv and br fail, with warnings, and reads the others", async () => {
    const c = beads({ repos: ["~/good", "~/bad"] });
    const { machine: m, store } = await setup(c, {
      home: { "good/.beads/issues.jsonl": `${issueLines[0]}\n`, "bad/.beads/fail": "", "triage.json": triageJson, "ready.json": readyJson },
    });
    script(m.bin, "bv", `[ -f .beads/fail ] && { echo "Error: failed to load beads: database is locked" >&2; exit 1; }\ncat "$HOME/triage.json"`);
    script(m.bin, "br", `[ -f .beads/fail ] && { echo "not json at all"; exit 0; }\ncat "$HOME/ready.json"`);
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run.result).toBe("ok");
    expect(run.rowsByTable).toEqual({ beads_triage_snapshots: 1, beads_graph_metrics: 1, beads_issues: 1 });
    expect(run.warnings).toEqual([
      'bad: bv --robot-triage exited with 1: "Error: failed to load beads: database is locked"',
      expect.stringMatching(/^bad: br ready --json output is not JSON .*"not json at all"$/),
      "bad: no .beads/issues.jsonl to read",
    ]);
  });

  it("fails readably when no repository can be read at all", async () => {
    const c = beads({ repos: ["~/r"] });
    const { machine: m, store } = await setup(c, { tools: { bv: { "--robot-triage": { stderr: "panic: boom", exit: 2 } } }, home: { "r/.beads/x": "" } });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run.result).toBe("failed");
    expect(run.error).toBe('no repository could be read (1 with .beads): r: bv --robot-triage exited with 2: "panic: boom"');
  });

  it("adds a row for an edited issue only, reads nothing from an unchanged file, and shows the latest state", async () => {
    const c = beads({ repos: ["~/r"] });
    const { machine: m, store } = await setup(c, { tools: tools(), home: { "r/.beads/issues.jsonl": issuesJsonl } });
    const clock = createFixedClock("2026-01-25T03:00:00Z");
    expect((await runOnce({ store, collector: c, machine: m, clock })).rowsByTable).toMatchObject({ beads_issues: 23 });

    clock.advance(60_000);
    const unchanged = await runOnce({ store, collector: c, machine: m, clock });
    expect(unchanged.rowsByTable).toEqual({ beads_triage_snapshots: 1, beads_graph_metrics: 1 });
    expect(unchanged.bytes).toBeLessThan(triageJson.length + readyJson.length + 200); // issues.jsonl not read again

    // br rewrites the file (a new inode): one issue closed, one added, the rest as they were.
    clock.advance(60_000);
    const edited = issueLines.map((l) =>
      l.includes('"id":"beads_rust-35kz"')
        ? l.replace('"status":"open"', '"status":"closed"').replace('"updated_at":"2026-01-28T18:47:31.038718915Z"', '"updated_at":"2026-01-29T10:00:00.5Z"')
        : l,
    );
    edited.push(
      JSON.stringify({
        id: "beads_rust-new",
        title: "New",
        status: "open",
        priority: 1,
        issue_type: "bug",
        created_at: "2026-01-29T11:00:00Z",
        updated_at: "2026-01-29T11:00:00Z",
      }),
    );
    m.rotateFile("r/.beads/issues.jsonl", `${edited.join("\n")}\n`);
    const after = await runOnce({ store, collector: c, machine: m, clock });
    expect(after.rowsByTable).toEqual({ beads_triage_snapshots: 1, beads_graph_metrics: 1, beads_issues: 2 });
    expect(after.warnings).toEqual([]);
    expect(await count(store, "beads_issues")).toBe(25);
    expect(
      await store.query("SELECT issue_id, status, updated_at, collected_at FROM beads_issues_latest WHERE issue_id IN ('beads_rust-35kz', 'beads_rust-new') ORDER BY 1"),
    ).toEqual([
      { issue_id: "beads_rust-35kz", status: "closed", updated_at: "2026-01-29T10:00:00.500Z", collected_at: "2026-01-25T03:02:00.000Z" },
      { issue_id: "beads_rust-new", status: "open", updated_at: "2026-01-29T11:00:00.000Z", collected_at: "2026-01-25T03:02:00.000Z" },
    ]);
    expect(await count(store, "beads_issues_latest")).toBe(24);

    // Truncated to fewer issues (smaller, same inode): read again from the start, nothing duplicated.
    clock.advance(60_000);
    m.writeFile("r/.beads/issues.jsonl", `${edited.slice(0, 5).join("\n")}\n`);
    expect((await runOnce({ store, collector: c, machine: m, clock })).rowsByTable).toEqual({ beads_triage_snapshots: 1, beads_graph_metrics: 1, beads_issues: 0 });
    expect(await count(store, "beads_issues")).toBe(25);
  });

  it("reads at most max_rows per run and resumes the issues where it stopped", async () => {
    const c = beads({ repos: ["~/r"] });
    const { machine: m, store } = await setup(c, { tools: tools(), home: { "r/.beads/issues.jsonl": issuesJsonl } });
    const clock = createFixedClock("2026-01-25T03:00:00Z");
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const run = await runOnce({ store, collector: c, machine: m, clock, limits: { maxRows: 10 } });
      expect(run.result).toBe("ok");
      expect(run.rows).toBeLessThanOrEqual(10);
      seen.push(run.rowsByTable.beads_issues ?? 0);
      clock.advance(60_000);
    }
    expect(seen).toEqual([8, 8, 7, 0]);
    expect(await count(store, "beads_issues")).toBe(23);
    expect(await store.query("SELECT count(DISTINCT issue_id)::INTEGER AS n FROM beads_issues")).toEqual([{ n: 23 }]);
  });

  it("stores an issue whose fields nest 100,000 deep, clipped, with a warning (D11)", async () => {
    const deep = `${"[".repeat(100_000)}1${"]".repeat(100_000)}`;
    const line = `{"id":"vc-deep","title":"deep","status":"open","comments":${deep},"extra":{"x":${deep}}}`;
    const { machine, store } = await setup(beads({ repos: ["~/projects/vc"], useRu: false }), {
      tools: { br: { "ready --json": "[]" } },
      home: { "projects/vc/.beads/issues.jsonl": `${issueLines[0]}\n${line}\n` },
    });
    const rec = await runOnce({ store, collector: beads({ repos: ["~/projects/vc"], useRu: false }), machine });
    expect({ result: rec.result, error: rec.error, issues: rec.rowsByTable.beads_issues }).toEqual({ result: "ok", error: undefined, issues: 2 });
    expect(rec.warnings).toContain("beads_issues.raw_json: nested deeper than 256 levels or not plain JSON; clipped (row 2)");
    expect(await store.query("SELECT issue_id, comments_count FROM beads_issues ORDER BY issue_id")).toEqual([
      { issue_id: JSON.parse(issueLines[0]!).id, comments_count: JSON.parse(issueLines[0]!).comments?.length ?? 0 },
      { issue_id: "vc-deep", comments_count: 1 },
    ]);
  });

  it("skips a malformed issue line with a warning, and reads a last line without its newline", async () => {
    const c = beads({ repos: ["~/r"] });
    const text = `${issueLines[0]}\n{"title":"no id"}\n{broken\n\n${issueLines[1]}`;
    const { machine: m, store } = await setup(c, { tools: tools(), home: { "r/.beads/issues.jsonl": text } });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run.rowsByTable.beads_issues).toBe(2);
    expect(run.warnings).toHaveLength(2);
    expect(run.warnings[0]).toMatch(/^r: \.beads\/issues\.jsonl byte \d+: bad issue skipped \(id: /);
    expect(run.warnings[1]).toMatch(/^r: \.beads\/issues\.jsonl byte \d+: bad issue skipped \(line is not JSON/);
  });

  it("reads a triage from another machine and bv version: other counts, unknown fields, no alerts", async () => {
    const t = structuredClone(triage);
    t.version = "v0.16.1";
    t.triage.quick_ref.actionable_count = 2;
    t.triage.quick_ref.top_picks = [];
    t.triage.project_health.graph = { node_count: 3, edge_count: 1, density: 0.1667, has_cycles: true, phase2_ready: false, cycles_found: 1 };
    t.triage.project_health.counts.by_priority = { "1": 3 };
    delete t.triage.project_health.velocity;
    delete t.triage.project_health.staleness;
    t.triage.degraded = ["pagerank timeout"];
    const c = beads({ repos: ["~/r"] });
    const { machine: m, store } = await setup(c, { id: "trj", tools: { bv: { "--robot-triage": JSON.stringify(t) }, br: { "ready --json": "[]\n" } }, home: { "r/.beads/x": "" } });
    const run = await runOnce({ store, collector: c, machine: m });
    expect(run.rowsByTable).toEqual({ beads_triage_snapshots: 1, beads_graph_metrics: 1 });
    expect(await store.query("SELECT machine_id, ready_count, ready_source, top_pick_id, bv_version FROM beads_triage_snapshots")).toEqual([
      { machine_id: "trj", ready_count: 0, ready_source: "br", top_pick_id: null, bv_version: "v0.16.1" },
    ]);
    expect(await store.query("SELECT node_count, has_cycles, phase2_ready, closed_last_7_days, stale_count, by_priority_json FROM beads_graph_metrics")).toEqual([
      { node_count: 3, has_cycles: true, phase2_ready: false, closed_last_7_days: null, stale_count: null, by_priority_json: '{"1":3}' },
    ]);
  });
});
