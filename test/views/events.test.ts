// The `events` view: every plugin's event sources run on a store the real collectors filled from
// the upstream fixtures — plugin order, newest first, the window, one repo's history, a failing
// source reported while the others answer, and bad arguments refused (in-process and on the CLI).
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, defineEventSource, definePlugin, openCockpit, resolveConfig, sql, type Cockpit, type EventsData, type Plugin } from "../../lib/index.ts";
import { toolPlugins } from "../../plugins/index.ts";
import { isolatedEnv, vc as runVc } from "../helpers/cli.ts";
import { createEventsFleet, END, fx, RU_PATH, RU_REPO, WORK_PATH, type EventsFleet } from "../helpers/events-fleet.ts";

setDefaultTimeout(60_000);

let fleet: EventsFleet;
let vc: Cockpit;

/** A plugin whose source always fails, and one whose table no collector created. */
const broken = definePlugin({
  name: "broken",
  events: [
    defineEventSource({
      name: "broken",
      group: "BROKEN",
      scope: ["fleet", "repo"],
      load: async () => {
        throw new Error("the broken tool's table is corrupt");
      },
    }),
    defineEventSource({
      name: "absent",
      group: "ABSENT",
      scope: ["fleet"],
      load: async (q) => {
        await q.store.query(sql`SELECT * FROM absent_tool_events`);
        return [];
      },
    }),
  ],
});

async function open(plugins: readonly Plugin[]): Promise<Cockpit> {
  const config = await resolveConfig({ db: fleet.db, machines: [{ id: "fake", ssh: "vc@fake.invalid" }], collectors: [], plugins }, { source: "test/views/events" });
  return openCockpit({ config, readOnly: true, clock: createFixedClock(END) });
}

beforeAll(async () => {
  fleet = await createEventsFleet();
  vc = await open([...toolPlugins, broken]);
});
afterAll(async () => {
  await vc?.close();
  if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
});

const events = async (args: Record<string, unknown> = {}) => {
  const r = await vc.view("events", args);
  return { data: r.data as EventsData, warnings: r.warnings ?? [] };
};

describe("events view", () => {
  it("runs the fleet sources in plugin order, newest first within each, and reports the one that fails", async () => {
    const { data, warnings } = await events();
    const fleetSources = toolPlugins.flatMap((p) => p.events ?? []).filter((s) => s.scope.includes("fleet"));
    expect(data.sources.map((s) => s.name)).toEqual([...fleetSources.map((s) => s.name), "broken", "absent"]);
    expect(data.sources.map((s) => [s.name, s.count])).toEqual([
      ["prediction", 0], // the oracle's: no forecasts in this store (its table is absent)
      ["opportunity", 0],
      ["attention", 0], // ntm's waiting agents: none collected in this store
      ["dcg", 3],
      ["mail", fleet.mail.filter((m) => m.importance === "urgent" || m.importance === "high" || m.ack_required === 1).length],
      ["pt", 4],
      ["rano", 2],
      ["broken", 0],
      ["absent", 0],
    ]);
    // Grouped by source in that order, each group newest first.
    const order = data.sources.map((s) => s.name);
    const idx = data.events.map((e) => order.indexOf(e.source));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    for (const name of order) {
      const at = data.events.filter((e) => e.source === name).map((e) => e.at ?? "");
      expect(at).toEqual([...at].sort().reverse());
    }
    // The failing source is an error and a warning; a missing table is neither.
    expect(data.errors).toEqual([{ source: "broken", error: "the broken tool's table is corrupt" }]);
    expect(warnings).toEqual(["event source broken failed: the broken tool's table is corrupt"]);
    expect(data.events.every((e) => e.key.startsWith(`${e.source}:`))).toBe(true);
  });

  it("keeps to the window and the machine filter", async () => {
    const { data } = await events({ window: "10m", source: ["dcg", "rano", "pt"] });
    const from = new Date(END.getTime() - 600_000).toISOString();
    expect(data.sources.map((s) => [s.name, s.count])).toEqual([
      ["dcg", fleet.dcg.filter((r) => r.outcome !== "allow" && r.timestamp > from).length],
      ["pt", 4],
      ["rano", 0],
    ]);
    expect((await events({ machine: "node" })).data.events).toEqual([]);
    expect((await events({ machine: "AK", source: ["pt"] })).data.sources).toEqual([{ name: "pt", group: "PT FINDINGS", count: 4 }]);
  });

  it("answers one repo's history from the repo sources", async () => {
    const { data } = await events({ repo: RU_REPO, repo_machine: "fake", path: RU_PATH });
    expect(data.sources.map((s) => s.name)).toEqual(["ntm", "dcg", "mail", "ru", "beads", "broken"]);
    expect(data.events.filter((e) => e.source === "ru").map((e) => e.title)).toEqual(["no_upstream on main", "behind on main, dirty, 2 behind", "current on main"]);
    const work = await events({ repo: "any", repo_machine: "fake", path: WORK_PATH, limit: 2 });
    expect(work.data.sources.map((s) => [s.name, s.count])).toEqual([
      ["ntm", 1],
      ["dcg", fleet.dcg.filter((r) => r.outcome !== "allow" && r.working_dir === WORK_PATH).length],
      ["mail", 2],
      ["ru", 0],
      ["beads", 0],
      ["broken", 0],
    ]);
    const beads = await events({ repo: fleet.beadsRepo.repo_id, repo_machine: "fake", source: ["beads"] });
    expect(beads.data.sources[0]!.count).toBe(10);
  });

  it("refuses unknown sources and a repo without its machine", async () => {
    await expect(vc.view("events", { source: ["dcg", "nope", "bogus"] })).rejects.toMatchObject({ code: "invalid_argument", message: 'source: no event source "nope", "bogus"' });
    await expect(vc.view("events", { repo: "r" })).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(vc.view("events", { path: "/x" })).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(vc.view("events", { window: "abc" })).rejects.toMatchObject({ code: "invalid_argument" });
  });

  it("is reached through robotEvents", async () => {
    const r = await vc.robotEvents({ window: "1h", source: ["rano"] });
    expect(r.data.events.map((e) => e.key)).toEqual(["rano:fake:172.217.12.138", "rano:fake:statsig.anthropic.com"]);
  });
});

describe("beads view", () => {
  it("answers each repo's newest triage: recommendations and blockers", async () => {
    const triage = JSON.parse(fx("beads/bv-robot-triage.json")) as {
      triage: { recommendations: { id: string; score: number }[]; blockers_to_clear: { id: string; unblocks_count: number }[] };
    };
    const r = (await vc.view("beads")).data as {
      repos: { repo_id: string; recommendations: { id: string; score?: number }[]; blockers: { id: string; unblocks_count?: number }[] }[];
    };
    expect(r.repos.map((x) => x.repo_id)).toEqual([fleet.beadsRepo.repo_id]);
    expect(r.repos[0]!.recommendations.map((x) => [x.id, x.score])).toEqual(triage.triage.recommendations.map((x) => [x.id, x.score]));
    expect(r.repos[0]!.blockers.map((x) => [x.id, x.unblocks_count])).toEqual(triage.triage.blockers_to_clear.map((x) => [x.id, x.unblocks_count]));
    expect(((await vc.view("beads", { repo: "nope" })).data as { repos: unknown[] }).repos).toEqual([]);
  });
});

describe("vc robot events", () => {
  it("answers on the CLI, and names --window when it is no duration", async () => {
    await vc.close();
    try {
      const cfg = join(fleet.dir, "vc.config.ts");
      writeFileSync(
        cfg,
        `import { defineConfig } from "vibe-cockpit";\nimport { toolPlugins } from "vibe-cockpit/plugins";\nexport default defineConfig({ db: ${JSON.stringify(fleet.db)}, machines: [{ id: "fake", ssh: "vc@fake.invalid" }], collectors: [], plugins: toolPlugins });\n`,
      );
      const env = isolatedEnv(fleet.dir, { VC_NOW: END.toISOString() });
      const ok = await runVc(["robot", "events", "--config", cfg, "--source", "pt,rano"], { env });
      expect(ok.code).toBe(0);
      const env1 = JSON.parse(ok.stdout) as { schema_version: string; data: EventsData };
      expect(env1.schema_version).toBe("vc.robot.events.v1");
      expect(env1.data.sources.map((s) => [s.name, s.count])).toEqual([
        ["pt", 4],
        ["rano", 2],
      ]);
      const bad = await runVc(["robot", "events", "--config", cfg, "--window", "abc"], { env });
      expect(bad.code).not.toBe(0);
      const err = JSON.parse(bad.stdout) as { error: { code: string; message: string } };
      expect(err.error.code).toBe("invalid_argument");
      expect(err.error.message).toStartWith("--window:");
    } finally {
      vc = await open([...toolPlugins, broken]);
    }
  });
});
