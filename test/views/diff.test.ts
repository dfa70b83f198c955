import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createFixedClock, finishCycle, type Cockpit, type DiffData } from "../../lib/index.ts";
import { vc as runVc } from "../helpers/cli.ts";
import { demoEnv, openDemoCockpit, writeDemoConfig } from "../helpers/demo.ts";
import { tempDir } from "../helpers/tmp.ts";
import { END, TOOLS_MACHINE, createTuiFleet } from "../tui/_fixture.ts";

// `vc robot diff` across the demo fleet's last hours: the alerts its rules fired at the end, the
// repo the tools' machine left behind and dirty, the machine that went quiet (node-19 stops
// reporting two hours before the end), accounts' usage, each section from rows collected by --to.
const dir = tempDir("vc-diff-");
let vc: Cockpit;
let config: string;
let env: Record<string, string>;
const iso = (msBeforeEnd: number) => new Date(END.getTime() - msBeforeEnd).toISOString();
const H = 3_600_000;

beforeAll(async () => {
  const fleet = await createTuiFleet(dir, { machines: 20, days: 1 });
  config = writeDemoConfig(dir, fleet.db, fleet.machines);
  env = demoEnv(dir, END);
  vc = await openDemoCockpit(config, env, END);
  // The rules evaluated every 2 minutes of the last half hour, as vc up would have: alerts with their history.
  for (let t = END.getTime() - 30 * 60_000; t <= END.getTime(); t += 120_000)
    await finishCycle({ store: vc.store, config: vc.config, clock: createFixedClock(new Date(t)), rules: vc.config.rules, channels: [] });
}, 120_000);
afterAll(async () => {
  await vc?.close();
});

const section = (d: DiffData, name: string) => d.sections.find((s) => s.name === name)!.entries;

describe("vc robot diff", () => {
  it("names what changed: alerts opened, a repo that fell behind, a machine that went quiet, in sections", async () => {
    const r = await vc.view("diff", { from: iso(20 * 60_000), to: END.toISOString() });
    const d = r.data as DiffData;
    // vc's own sections first, then the plugins' in plugin order.
    expect(d.sections.map((s) => s.name)).toEqual(["alerts", "health", "machines", "accounts", "agents", "dcg", "repos"]);
    expect(section(d, "alerts").length).toBeGreaterThan(0);
    expect(section(d, "alerts").every((e) => e.change === "opened" || e.change === "resolved")).toBe(true);
    expect(section(d, "repos")).toContainEqual(
      expect.objectContaining({ change: "state", machine_id: TOOLS_MACHINE, subject: "vibe_cockpit", from: "current", to: "behind, dirty, 3 behind" }),
    );
    expect(d.errors).toEqual([]);
    // node-19 sent its last sample two hours before the end.
    const wide = (await vc.view("diff", { from: iso(6 * H), to: END.toISOString() })).data as DiffData;
    expect(section(wide, "machines")).toContainEqual(expect.objectContaining({ change: "quiet", machine_id: "node-19" }));
    // Health: node-19's staleness and the demo's troubled machines moved between a quiet morning and the end.
    expect(section(wide, "health").length).toBeGreaterThan(0);
    expect(section(wide, "health").every((e) => e.from !== e.to)).toBe(true);
  });

  it("one machine only; and rows collected after --to change nothing", async () => {
    const from = iso(20 * 60_000);
    const to = iso(5 * 60_000);
    const only = (await vc.view("diff", { from, to, machine: TOOLS_MACHINE })).data as DiffData;
    for (const s of only.sections) for (const e of s.entries) expect([TOOLS_MACHINE, null]).toContain(e.machine_id);
    const before = JSON.stringify((await vc.view("diff", { from, to })).data);
    const t = iso(60_000).replace("T", " ").replace("Z", "");
    await vc.store.run(`INSERT INTO repo_status_snapshots (machine_id, collected_at, repo_id, repo, path, status, branch, dirty, ahead, behind)
      VALUES ('node-01', TIMESTAMP '${t}', 'late', 'late-repo', '/late', 'ahead', 'main', true, 5, 0)`);
    await vc.store.run(
      `INSERT INTO sys_samples (machine_id, collected_at, source, cpu_total, cpu_cores, load5) VALUES ('node-02', TIMESTAMP '${t}', 'sysprobe', 99, 8, 99) ON CONFLICT DO NOTHING`,
    );
    expect(JSON.stringify((await vc.view("diff", { from, to })).data)).toBe(before);
  });

  it("bad input: --from after --to, no --from, an unknown machine, --to in the future, --from before the first row", async () => {
    const err = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
      );
    expect(await err(vc.view("diff", { from: iso(0), to: iso(H) }))).toEqual({ code: "invalid_argument", message: `--from ${iso(0)} is not before --to ${iso(H)}` });
    expect(await err(vc.view("diff", {}))).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("--from is required") });
    expect(await err(vc.view("diff", { from: iso(H), machine: "node-99" }))).toMatchObject({ code: "not_found", message: expect.stringContaining('no machine "node-99"') });
    expect(await err(vc.view("diff", { from: iso(H), to: new Date(END.getTime() + 2 * H).toISOString() }))).toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("is in the future"),
    });
    expect(await err(vc.view("diff", { from: "2020-01-01T00:00:00Z" }))).toMatchObject({ code: "not_found", message: expect.stringContaining("before the store's first row") });
  });

  it("the CLI: a readable table per section (vc diff), JSON and TOON (vc robot diff)", async () => {
    await vc.close();
    try {
      const table = await runVc(["diff", "--from", iso(20 * 60_000), "--config", config], { env });
      expect(table.code).toBe(0);
      expect(table.stdout).toContain(`changes from ${iso(20 * 60_000)} to ${END.toISOString()}`);
      expect(table.stdout).toMatch(/REPOS \(\d+\)/);
      expect(table.stdout).toContain("vibe_cockpit: current → behind, dirty, 3 behind");
      const json = await runVc(["robot", "diff", "--from", iso(20 * 60_000), "--config", config], { env });
      expect(JSON.parse(json.stdout).schema_version).toBe("vc.robot.diff.v1");
      const toon = await runVc(["robot", "diff", "--from", iso(20 * 60_000), "--format", "toon", "--config", config], { env });
      expect(toon.code).toBe(0);
      expect(toon.stdout).toContain("schema_version: vc.robot.diff.v1");
      const bad = await runVc(["diff", "--from", iso(0), "--to", iso(H), "--config", config], { env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("is not before --to");
    } finally {
      vc = await openDemoCockpit(config, env, END);
    }
  }, 60_000);
});
