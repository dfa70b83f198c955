// The bundled plugins' event sources on a store the real collectors filled from the upstream
// fixtures: each source's events checked against what the fixture holds.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { rmSync } from "node:fs";
import { openStore, type EventQuery, type EventSource, type Store } from "../../lib/index.ts";
import { beadsPlugin, dcgPlugin, mailPlugin, ntmPlugin, ptPlugin, ranoPlugin, ruPlugin } from "../../plugins/index.ts";
import { createEventsFleet, END, fx, RU_PATH, RU_REPO, WORK_PATH, type EventsFleet } from "../helpers/events-fleet.ts";

setDefaultTimeout(60_000);

let fleet: EventsFleet;
let store: Store;
beforeAll(async () => {
  fleet = await createEventsFleet();
  store = await openStore({ path: fleet.db, readOnly: true });
});
afterAll(async () => {
  await store?.close();
  if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
});

const source = (p: { events?: readonly EventSource[] }) => p.events![0]!;
const day = (o: Partial<EventQuery> = {}): EventQuery => ({ store, from: new Date(END.getTime() - 86_400_000).toISOString(), to: END.toISOString(), limit: 100, ...o });
const field = (e: { fields: [string, unknown][] }, name: string) => e.fields.find(([k]) => k === name)?.[1];
const work = { machine_id: "fake", repo_id: "any", path: WORK_PATH };

describe("dcg", () => {
  it("lists the history's denies (high) and warnings (medium), newest first", async () => {
    const events = await source(dcgPlugin).load(day());
    const expected = fleet.dcg.filter((r) => r.outcome === "deny" || r.outcome === "warn").sort((a, b) => b.timestamp.localeCompare(a.timestamp));
    expect(expected.length).toBe(3);
    expect(events.map((e) => [e.at, e.severity, field(e, "command"), field(e, "rule"), field(e, "cwd")])).toEqual(
      expected.map((r) => [r.timestamp, r.outcome === "deny" ? "high" : "medium", r.command, r.rule_id, r.working_dir]),
    );
    const keys = await store.query<{ k: string }>("SELECT 'dcg:' || machine_id || ':' || event_key AS k FROM dcg_events WHERE decision <> 'allow' ORDER BY ts DESC");
    expect(events.map((e) => e.key)).toEqual(keys.map((r) => r.k));
    expect(events[0]!.title).toBe(`${expected[0]!.outcome} ${expected[0]!.rule_id}: ${expected[0]!.command}`);
    expect(events.every((e) => e.source === "dcg" && e.group === "DCG DENIES" && e.machine_id === "fake")).toBe(true);
  });

  it("answers a repo with the events whose cwd is its folder, and a machine filter by substring", async () => {
    const events = await source(dcgPlugin).load(day({ repo: work }));
    expect(events.map((e) => field(e, "cwd"))).toEqual(fleet.dcg.filter((r) => r.outcome !== "allow" && r.working_dir === WORK_PATH).map((r) => r.working_dir));
    expect(events.length).toBeGreaterThan(0);
    expect(await source(dcgPlugin).load(day({ repo: { ...work, machine_id: "other" } }))).toEqual([]);
    expect(await source(dcgPlugin).load(day({ repo: { ...work, path: null } }))).toEqual([]);
    expect((await source(dcgPlugin).load(day({ machine: "FA" }))).length).toBe(3);
    expect(await source(dcgPlugin).load(day({ machine: "node" }))).toEqual([]);
  });

  it("keeps to the window", async () => {
    const from = new Date(END.getTime() - 10 * 60_000).toISOString(); // 15:05
    const events = await source(dcgPlugin).load(day({ from }));
    expect(events.map((e) => e.at)).toEqual(fleet.dcg.filter((r) => r.outcome !== "allow" && r.timestamp > from).map((r) => r.timestamp));
    expect(events.length).toBe(1);
  });
});

describe("pt", () => {
  it("lists the kill (high) and review (medium) sets of the newest plan, with a command", async () => {
    const plan = JSON.parse(fx("pt/robot-plan.format-json.json")) as { recommendations: { kill_set: number[]; review_set: number[] } };
    const events = await source(ptPlugin).load(day());
    const sev = new Map<number, string>([...plan.recommendations.kill_set.map((p) => [p, "high"] as const), ...plan.recommendations.review_set.map((p) => [p, "medium"] as const)]);
    expect(new Map(events.map((e) => [field(e, "pid") as number, e.severity]))).toEqual(sev);
    expect(events.map((e) => e.key).sort()).toEqual([...sev.keys()].map((p) => `pt:fake:${p}`).sort());
    expect(events[0]!.command).toBe(`pt robot plan --format json   # pid ${field(events[0]!, "pid")}`);
    expect(events.every((e) => e.at === END.toISOString())).toBe(true);
  });

  it("says nothing once the plan is older than the window", async () => {
    expect(await source(ptPlugin).load(day({ from: END.toISOString(), to: new Date(END.getTime() + 3_600_000).toISOString() }))).toEqual([]);
  });
});

describe("rano", () => {
  it("lists the hosts no provider claims, one event per machine and host", async () => {
    const events = await source(ranoPlugin).load(day());
    expect(events.map((e) => [e.key, e.severity, field(e, "connections"), field(e, "process"), e.at])).toEqual([
      ["rano:fake:172.217.12.138", "medium", 1, "gemini", "2026-08-20T15:04:57.000Z"],
      ["rano:fake:statsig.anthropic.com", "medium", 1, "claude", "2026-08-20T15:03:21.000Z"],
    ]);
    expect(events[1]!.title).toBe("unknown host statsig.anthropic.com: 1 connection");
  });

  it("gives the machine view a connections section: the last 6 h by provider and host, busiest first", async () => {
    const section = ranoPlugin.machineSections[0]!;
    const s = (await section.load({ store, machineId: "fake", at: END.toISOString() })) as {
      window_hours: number;
      connections: { provider: string | null; domain: string; connects: number }[];
    };
    expect(s.window_hours).toBe(6);
    const connects = fx("rano/export.jsonl")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string })
      .filter((e) => e.event === "connect").length;
    expect(s.connections.reduce((n, c) => n + c.connects, 0)).toBe(connects);
    expect(s.connections[0]).toEqual({ provider: "openai", domain: "chatgpt.com", connects: 5 });
    expect(await section.load({ store, machineId: "fake", at: new Date(END.getTime() + 7 * 3_600_000).toISOString() })).toBeNull();
  });
});

describe("mail", () => {
  it("lists the urgent, high or ack-required messages of the fleet; every message of a repo's project", async () => {
    const events = await source(mailPlugin).load(day());
    const wanted = fleet.mail.filter((m) => m.importance === "urgent" || m.importance === "high" || m.ack_required === 1);
    expect(events.map((e) => field(e, "subject")).sort()).toEqual(wanted.map((m) => m.subject).sort());
    for (const e of events) {
      const m = wanted.find((x) => x.subject === field(e, "subject"))!;
      expect(e.severity).toBe(m.importance === "urgent" ? "high" : m.ack_required ? "medium" : "low");
      expect(e.key).toMatch(new RegExp(`^mail:fake:[^:]+:${m.id}$`));
    }
    const repo = await source(mailPlugin).load(day({ repo: work }));
    expect(repo.every((e) => field(e, "project") === WORK_PATH)).toBe(true);
    const projects = await store.query<{ n: number }>(`SELECT count(DISTINCT message_id)::INTEGER AS n FROM mail_messages WHERE project_key = '${WORK_PATH}'`);
    expect(repo.length).toBe(projects[0]!.n);
    expect(repo.length).toBeGreaterThan(events.filter((e) => field(e, "project") === WORK_PATH).length);
  });
});

describe("ntm", () => {
  it("answers a repo with the sessions working in its folder, and nothing for the fleet", async () => {
    expect(source(ntmPlugin).scope).toEqual(["repo"]);
    const events = await source(ntmPlugin).load(day({ repo: work }));
    const status = JSON.parse(fx("ntm/robot-status.json")) as { sessions: { name: string }[] };
    expect(events.map((e) => e.key)).toEqual(["ntm:fake:vibe_cockpit"]);
    expect(status.sessions.map((s) => s.name)).toContain("vibe_cockpit");
    expect(events[0]!.command).toBe("ntm attach vibe_cockpit");
    expect(await source(ntmPlugin).load(day({ repo: { ...work, path: "/elsewhere" } }))).toEqual([]);
  });
});

describe("beads", () => {
  it("answers a repo with its open beads: not closed, tombstoned or deleted", async () => {
    const issues = fx("beads/issues.jsonl")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; status: string; deleted_at?: string });
    const open = issues.filter((i) => !["closed", "tombstone"].includes(i.status) && !i.deleted_at).map((i) => `beads:${fleet.beadsRepo.repo_id}:${i.id}`);
    const events = await source(beadsPlugin).load(day({ repo: fleet.beadsRepo }));
    expect(events.map((e) => e.key).sort()).toEqual(open.sort());
    expect(events.every((e) => e.severity === (field(e, "status") === "blocked" ? "medium" : "info") && e.command === `br show ${field(e, "issue")}`)).toBe(true);
  });
});

describe("ru", () => {
  it("answers a repo with its status changes, newest first, unknown counts null", async () => {
    const events = await source(ruPlugin).load(day({ repo: { machine_id: "fake", repo_id: RU_REPO, path: RU_PATH } }));
    const at = (min: number) => new Date(END.getTime() - min * 60_000).toISOString();
    // Four runs; the third repeats the second, so three changes.
    expect(events.map((e) => [e.key, e.severity, e.title, field(e, "ahead"), field(e, "behind")])).toEqual([
      [`ru:fake:${RU_REPO}:${at(0)}`, "ok", "no_upstream on main", null, null],
      [`ru:fake:${RU_REPO}:${at(60)}`, "low", "behind on main, dirty, 2 behind", 0, 2],
      [`ru:fake:${RU_REPO}:${at(120)}`, "ok", "current on main", 0, 0],
    ]);
  });
});
