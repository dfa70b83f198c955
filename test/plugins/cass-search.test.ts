import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, type FakeMachine } from "../../lib/testkit.ts";
import { createFixedClock, openCockpit, resolveConfig, VcError, type SearchContext } from "../../lib/index.ts";
import { cass } from "../../plugins/index.ts";
import { cassSearch, searchHits } from "../../plugins/cass/search.ts";
import { tempDir } from "../helpers/tmp.ts";

// `cass search <q> --json --limit N` (test/fixtures/cass/search.json) and its missing-index error
// on stderr with exit 3 (search.missing-index.stderr.json), through fake machines and the cockpit.
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/cass", name), "utf8");
const found = fx("search.json");
const missing = fx("search.missing-index.stderr.json");
const machines: FakeMachine[] = [];
const fake = (o: Parameters<typeof createFakeMachine>[0]) => {
  const m = createFakeMachine(o);
  machines.push(m);
  return m;
};
afterAll(() => machines.forEach((m) => m.close()));
const ctx = (m: FakeMachine, limit = 20): SearchContext => ({ machine: m.info, exec: m.exec, path: (_k, f) => f, signal: AbortSignal.timeout(10_000), limit, timeoutMs: 10_000 });

describe("cass search", () => {
  it("reads the hits: title, snippet without cass's ** marks, time from epoch ms, file:line", () => {
    const hits = searchHits(JSON.parse(found));
    expect(hits.length).toBe(3);
    expect(hits[0]).toMatchObject({
      title: "Fix rch worker lock contention",
      snippet: "…the second build waits on the flock held by the first worker; switching to a per-target lock…",
      at: "2026-08-20T08:00:00.000Z",
      location: "/home/ubuntu/.claude/projects/-data-projects-remote-compilation-helper/3f1c2a9e-5b7d-4e21-9c0a-1d2e3f4a5b6c.jsonl:418",
      agent: "claude_code",
      workspace: "/data/projects/remote_compilation_helper",
      score: 12.84,
    });
    expect(hits[2]).toMatchObject({
      at: null,
      location: expect.stringMatching(/rollout-.*\.jsonl$/),
      extra: { match_type: "implicit_wildcard", source_id: "work-laptop", origin_host: "work-laptop" },
    });
    // An epoch no Date holds is no time (D11), not a RangeError.
    const far = { ...JSON.parse(found).hits[0], created_at: 1e300 };
    expect(searchHits({ hits: [far] })[0]!.at).toBeNull();
    // A hit of another shape is dropped, the rest kept; an envelope without hits is an error.
    expect(searchHits({ hits: [5, JSON.parse(found).hits[0]] }).length).toBe(1);
    expect(() => searchHits({ results: [] })).toThrow(/cass search --json/);
  });

  it("runs cass search on the machine with the query as one argument, after --", async () => {
    const m = fake({ tools: { cass: { "search --json --limit 5 -- flock; rm -rf /": found } } });
    const hits = await cassSearch(ctx(m, 5), "flock; rm -rf /");
    expect(hits.length).toBe(3);
    expect(m.calls("cass")).toEqual(["search --json --limit 5 -- flock; rm -rf /"]);
    // A query that looks like an option is still the query.
    const dash = fake({ tools: { cass: { "search --json --limit 5 -- --help": found } } });
    expect((await cassSearch(ctx(dash, 5), "--help")).length).toBe(3);
  });

  it("says what to do when cass has no index, is missing, or prints junk", async () => {
    const noIndex = fake({ id: "fresh", tools: { cass: { "search*": { stderr: missing, exit: 3 } } } });
    await expect(cassSearch(ctx(noIndex), "flock")).rejects.toThrow("cass has no index on fresh yet: run `cass index --full` there");
    const other = fake({
      id: "odd",
      tools: { cass: { "search*": { stderr: '{"error":{"code":5,"kind":"archive-count","message":"database is locked","hint":"retry","retryable":true}}', exit: 5 } } },
    });
    await expect(cassSearch(ctx(other), "flock")).rejects.toThrow("cass search failed on odd (archive-count): database is locked — retry");
    const none = fake({ id: "bare", systemPath: false });
    await expect(cassSearch(ctx(none), "flock")).rejects.toThrow("cass is not installed on bare");
    const junk = fake({ id: "junk", tools: { cass: { "search*": "<html>" } } });
    await expect(cassSearch(ctx(junk), "flock")).rejects.toThrow('cass search printed no JSON on junk: "<html>"');
  });

  it("searches every machine through the cockpit; a machine that fails is one error line", async () => {
    const a = fake({ id: "a", tools: { cass: { "search*": found } } });
    const b = fake({ id: "b", tools: { cass: { "search*": { stderr: missing, exit: 3 } } } });
    const byId: Record<string, FakeMachine> = { a, b };
    const dir = tempDir("vc-search-");
    const config = await resolveConfig(
      {
        db: join(dir, "vc.duckdb"),
        machines: [
          { id: "a", ssh: "local" },
          { id: "b", ssh: "local" },
          { id: "quiet", ssh: "local", collectors: [] },
        ],
        collectors: [cass()],
      },
      { source: "test" },
    );
    await using vc = await openCockpit({ config, clock: createFixedClock("2026-08-20T21:00:00Z"), executorFor: (m) => byId[m.id]!.exec });
    const r = await vc.search("flock");
    expect(r.machines).toEqual(["a", "b"]);
    expect(r.hits.map((h) => [h.machine_id, h.collector, h.title])).toEqual([
      ["a", "cass", "Fix rch worker lock contention"],
      ["a", "cass", "Add TUI pane for caut usage"],
      ["a", "cass", "codex session 2026-08-20"],
    ]);
    expect(r.errors).toEqual([{ machine_id: "b", collector: "cass", error: "cass has no index on b yet: run `cass index --full` there" }]);
    // One machine only, and a limit.
    const only = await vc.search("flock", { machines: ["a"], limit: 2 });
    expect(only.machines).toEqual(["a"]);
    expect(a.calls("cass").at(-1)).toBe("search --json --limit 2 -- flock");
    expect(only.hits.length).toBe(2);
    // A machine that runs no searching collector is said, not silently empty.
    const none = await vc.search("flock", { machines: ["quiet"] });
    expect(none).toEqual({ query: "flock", hits: [], machines: [], errors: [{ machine_id: "-", collector: "-", error: "no searching collector (cass) runs on quiet" }] });
    // Bad input names the field.
    for (const [q, o, code, text] of [
      ["", {}, "invalid_input", "query: empty"],
      ["x", { limit: 0 }, "invalid_input", "limit: 0"],
      ["x", { machines: ["zz"] }, "unknown_machine", 'no machine "zz"'],
    ] as const) {
      const err = await vc.search(q, o).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VcError);
      expect((err as VcError).code as string).toBe(code);
      expect((err as VcError).message).toContain(text);
    }
  });

  it("gives up on a machine that does not answer in time, and still answers for the others", async () => {
    const slow = fake({ id: "slow", tools: { cass: { "search*": { stdout: found, delaySeconds: 5 } } } });
    const quick = fake({ id: "quick", tools: { cass: { "search*": found } } });
    const byId: Record<string, FakeMachine> = { slow, quick };
    const dir = tempDir("vc-search-");
    const config = await resolveConfig(
      {
        db: join(dir, "vc.duckdb"),
        machines: [
          { id: "slow", ssh: "local" },
          { id: "quick", ssh: "local" },
        ],
        collectors: [cass()],
      },
      { source: "test" },
    );
    await using vc = await openCockpit({ config, clock: createFixedClock("2026-08-20T21:00:00Z"), executorFor: (m) => byId[m.id]!.exec });
    const r = await vc.search("flock", { timeoutMs: 500 });
    expect(r.hits.every((h) => h.machine_id === "quick")).toBe(true);
    expect(r.hits.length).toBe(3);
    expect(r.errors.length).toBe(1);
    expect(r.errors[0]!.machine_id).toBe("slow");
    expect(r.errors[0]!.error).toBe("no answer within 0.5 s");
  });
});
