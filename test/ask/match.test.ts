// Reading a question (lib/ask): normalising it, telling a command from a question, the times it
// names, and names resolved to real ones — exactly, by another spelling, a prefix, a near
// spelling — or refused with the nearest real one.
import { describe, expect, it } from "bun:test";
import { isVcError, type VcError } from "../../lib/index.ts";
import { declined, normaliseQuestion, sinceIn } from "../../lib/ask/match.ts";
import { cleanMention, resolveMention, squash } from "../../lib/ask/resolve.ts";

const q = normaliseQuestion;
// A fixed "now" in local time: the times a person types without a zone are local.
const NOW = new Date(2026, 7, 20, 15, 15);
const local = (d: number, h: number, m = 0) => new Date(2026, 7, d, h, m).toISOString();
const since = (text: string) => sinceIn(q(text), NOW);

describe("normaliseQuestion", () => {
  it("lower-cases, spells out contractions, drops punctuation around words and keeps a name's own characters", () => {
    expect(q("  What's blocking vibe_cockpit?? ").norm).toBe("what is blocking vibe_cockpit");
    expect(q("Why isn’t node-07's disk OK?").norm).toBe("why is not node-07 disk ok");
    expect(q("when does jeff@flywheel.dev hit its limit?").words).toEqual(["when", "does", "jeff@flywheel.dev", "hit", "its", "limit"]);
    expect(q("since 2026-08-20T14:00:00Z, (please)").norm).toBe("since 2026-08-20t14:00:00z please");
  });
});

describe("declined", () => {
  it("declines a command, politely put or not, and SQL; a question that mentions an action is a question", () => {
    for (const text of ["delete all repos", "Please restart node-07", "can you kill the stuck agents", "select * from machines", "DROP TABLE alerts", "swap to bob"])
      expect({ text, why: declined(q(text)) }).toEqual({ text, why: expect.stringContaining("asks vc to do something") });
    for (const text of ["should I swap accounts?", "why is node-07 slow", "what did dcg block today", "which agents look stuck"]) expect(declined(q(text))).toBeNull();
  });
});

describe("sinceIn", () => {
  it("reads spans back from now", () => {
    expect(since("what changed on orko since 2h")).toEqual({ from: new Date(NOW.getTime() - 7_200_000), typed: "2h" });
    expect(since("what changed in the last 30 minutes")!.from).toEqual(new Date(NOW.getTime() - 1_800_000));
    expect(since("anything new over the past 3 days")!.from).toEqual(new Date(NOW.getTime() - 3 * 86_400_000));
    expect(since("what happened 90 min ago")!.from).toEqual(new Date(NOW.getTime() - 5_400_000));
    expect(since("what changed in the last hour")!.from).toEqual(new Date(NOW.getTime() - 3_600_000));
    expect(since("since 1.5h")!.from).toEqual(new Date(NOW.getTime() - 5_400_000));
  });

  it("reads days and clock times in local time, a clock time later than now as yesterday's", () => {
    expect(since("what changed on orko since yesterday 14:00")).toEqual({ from: new Date(local(19, 14)), typed: "yesterday 14:00" });
    expect(since("since yesterday at 2pm")!.from.toISOString()).toBe(local(19, 14));
    expect(since("since yesterday")!.from.toISOString()).toBe(local(19, 0));
    expect(since("since 9am")!.from.toISOString()).toBe(local(20, 9));
    expect(since("since 14:30")!.from.toISOString()).toBe(local(20, 14, 30));
    expect(since("since 16:00")!.from.toISOString()).toBe(local(19, 16)); // later than now: yesterday's
    expect(since("what did dcg block today")).toEqual({ from: new Date(local(20, 0)), typed: "today" });
    expect(since("this week")!.from).toEqual(new Date(NOW.getTime() - 7 * 86_400_000));
  });

  it("reads ISO dates and times: with a zone as that instant, without one as local time", () => {
    expect(since("since 2026-08-20T12:00:00Z")!.from.toISOString()).toBe("2026-08-20T12:00:00.000Z");
    expect(since("since 2026-08-20 12:00+02:00")!.from.toISOString()).toBe("2026-08-20T10:00:00.000Z");
    expect(since("since 2026-08-19 08:30")!.from.toISOString()).toBe(local(19, 8, 30));
    expect(since("since 2026-08-19")!.from.toISOString()).toBe(local(19, 0));
  });

  it("finds no time where there is none, or none that exists", () => {
    expect(since("what changed on orko")).toBeNull();
    expect(since("since 2026-02-31")).toBeNull();
    expect(since("since 25:00")).toBeNull();
  });
});

describe("resolving names", () => {
  const machines = ["orko", "gpu-box", "node-01", "node-03", "node-07", "node-13"].map((name) => ({ name }));
  const repos = [
    { name: "vibe_cockpit", aliases: ["demo-vc", "/data/projects/vibe_cockpit"], ref: { machine_id: "node-03", repo_id: "demo-vc" } },
    { name: "vibe_cockpit", aliases: ["demo-vc"], ref: { machine_id: "node-07", repo_id: "demo-vc" } },
    { name: "smartedgar_mcp", ref: { machine_id: "orko", repo_id: "se" } },
  ];
  const machine = { kind: "machine", words: ["machine", "host"] };
  const repo = { kind: "repo", words: ["repo", "project"] };
  const resolve = (typed: string | null, entries = machines, info = machine, text = "") => resolveMention(q(text), typed, entries, info);
  const failure = (f: () => unknown): VcError => {
    try {
      f();
    } catch (err) {
      if (isVcError(err)) return err;
      throw err;
    }
    throw new Error("no error");
  };

  it("squashes separators, case and leading zeros", () => {
    expect(squash("Node-03")).toBe(squash("node 3"));
    expect(squash("vibe cockpit")).toBe(squash("vibe_cockpit"));
    expect(squash("node-13")).not.toBe(squash("node-3"));
  });

  it("resolves exactly, by another spelling, a prefix and a near spelling", () => {
    expect(resolve("orko")).toMatchObject({ value: "orko", how: "exact" });
    expect(resolve("ORKO")).toMatchObject({ value: "orko", how: "exact" });
    expect(resolve("node-3")).toMatchObject({ value: "node-03", how: "spelling" });
    expect(resolve("node 7")).toMatchObject({ value: "node-07", how: "spelling" });
    expect(resolve("nod-07")).toMatchObject({ value: "node-07", how: "fuzzy" });
    expect(resolve("gpu")).toMatchObject({ value: "gpu-box", how: "prefix" });
    expect(resolve("vibe cockpit", repos, repo)).toMatchObject({ value: "vibe_cockpit", how: "spelling" });
    expect(resolve("smartedgar", repos, repo)).toMatchObject({ value: "smartedgar_mcp", how: "prefix" });
    expect(resolve("demo-vc", repos, repo)).toMatchObject({ value: "vibe_cockpit", how: "alias" });
  });

  it("keeps every place a name is (a repo on two machines)", () => {
    expect(resolve("vibe_cockpit", repos, repo)!.refs).toEqual([
      { machine_id: "node-03", repo_id: "demo-vc" },
      { machine_id: "node-07", repo_id: "demo-vc" },
    ]);
  });

  it("finds a name in the question when none was captured, strictly", () => {
    expect(resolve(null, machines, machine, "is the disk on node-07 full")).toMatchObject({ value: "node-07", how: "found", typed: null });
    expect(resolve(null, machines, machine, "why is everything slow")).toBeNull();
    expect(resolve(null, machines, machine, "is orka ok")).toBeNull(); // a near spelling of a short name is no find
  });

  it("refuses an unknown name, naming the nearest real one", () => {
    const e = failure(() => resolve("orka"));
    expect(e.code).toBe("not_found");
    expect(e.message).toBe("no machine named 'orka' — did you mean orko?");
    expect(e.hint).toContain("orko, gpu-box, node-01");
    expect(failure(() => resolve("zebra")).message).toBe("no machine named 'zebra'");
    expect(resolve("smartedgr", repos, repo)).toMatchObject({ value: "smartedgar_mcp", how: "fuzzy" }); // a near spelling of a long prefix
    expect(failure(() => resolve("weather", repos, repo)).message).toBe("no repo named 'weather'");
  });

  it("refuses a prefix that could be several, listing them", () => {
    const e = failure(() => resolve("node"));
    expect(e.code).toBe("invalid_argument");
    expect(e.message).toBe("'node' could be the machine node-01, node-03, node-07 or node-13: say which");
  });

  it("reads a mention without the words around it; general words are no name", () => {
    expect(cleanMention("the vibe_cockpit repo", ["repo"])).toBe("vibe_cockpit");
    expect(cleanMention("my machines", ["machine"])).toBeNull();
    expect(cleanMention("the fleet", ["machine"])).toBeNull();
    expect(cleanMention("everything", ["machine"])).toBeNull();
  });
});
