import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "bun:test";
import { testCollector } from "../../lib/testkit.ts";
import { uptime } from "../../examples/custom-plugin/uptime.ts";

// The contract kit as a plugin author runs it: a real `uptime` output (procps-ng 4.0.2).
const real = readFileSync(join(import.meta.dir, "../fixtures/sysprobe/uptime.txt"), "utf8");

testCollector({
  collector: uptime(),
  fixtures: { tools: { uptime: { "": real } } },
  rows: { uptime_samples: 1 },
  junk: { tools: { uptime: { "": "\u0000\u00ffnot uptime at all" } } },
  async check(store) {
    expect(await store.query("select machine_id, collected_at, load1, load5, load15 from uptime_samples")).toEqual([
      { machine_id: "fake", collected_at: "2026-01-25T03:00:00.000Z", load1: 0, load5: 0.03, load15: 0 },
    ]);
  },
});

describe("the test kit's fake machine", () => {
  it("serves http routes on loopback and puts their base URL into paths", async () => {
    const { createFakeMachine } = await import("../../lib/testkit.ts");
    const m = createFakeMachine({ http: { "/metrics": "up 1\n" }, paths: { "rch.metrics_url": "{http}/metrics" } });
    try {
      expect(m.info.paths["rch.metrics_url"]).toBe(m.url("/metrics"));
      expect(m.info.paths["rch.metrics_url"]).toStartWith("http://127.0.0.1:");
      expect(await m.exec.httpGet(m.url("/metrics"))).toEqual({ status: 200, body: "up 1\n", truncated: false });
    } finally {
      m.close();
    }
  });
});

describe("the example plugin, from a folder of its own outside the repo", () => {
  it("reaches the store, the machine view, health, the rules, its view, events, a fleet column and a TUI pane with no edit elsewhere", async () => {
    const { cpSync, mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { isolatedEnv, repoRoot, vc } = await import("../helpers/cli.ts");
    const dir = mkdtempSync(join(tmpdir(), "vc-example-plugin-"));
    try {
      cpSync(join(repoRoot, "examples/custom-plugin"), join(dir, "plugin"), { recursive: true });
      const env = isolatedEnv(dir);
      const cfg = join(dir, "plugin", "vc.config.ts");
      const collect = await vc(["collect", "--once", "--json", "--config", cfg], { env });
      expect({ code: collect.code, stderr: collect.stderr }).toEqual({ code: 0, stderr: "" });
      const runs = JSON.parse(collect.stdout).machines[0].runs.map((r: { collector: string; result: string }) => [r.collector, r.result]);
      expect(runs).toContainEqual(["uptime", "ok"]);
      const machine = JSON.parse((await vc(["robot", "machine", "local", "--config", cfg], { env })).stdout).data;
      expect(Object.keys(machine.uptime).sort()).toEqual(["collected_at", "load1", "load15", "load5"]);
      expect(machine.health.factors.map((f: { id: string }) => f.id)).toContain("uptime_load");
      const count = await vc(["query", "select count(*)::INT as n from uptime_samples", "--format", "json", "--config", cfg], { env });
      expect(JSON.parse(count.stdout)).toEqual([{ n: 1 }]);
      // Its view, by name, through the library as a user's script asks it.
      writeFileSync(
        join(dir, "ask.ts"),
        `import { connectCockpit } from ${JSON.stringify(join(repoRoot, "lib/index.ts"))};
await using c = await connectCockpit({ file: ${JSON.stringify(cfg)} });
const v = await c.view("uptime");
console.log(JSON.stringify({ schema: v.schema_version, machines: (v.data as { machines: unknown[] }).machines.length, rules: c.config.rules.map((r) => r.id) }));`,
      );
      const p = Bun.spawnSync([process.execPath, join(dir, "ask.ts")], { env, stdout: "pipe", stderr: "pipe" });
      expect(p.stderr.toString()).toBe("");
      expect(JSON.parse(p.stdout.toString())).toEqual({ schema: "vc.robot.uptime.v1", machines: 1, rules: ["uptime_load_high"] });
      // Its view is a `vc robot` command too, its readings are events, its column is in the fleet table.
      const robot = await vc(["robot", "uptime", "--config", cfg], { env });
      expect({ code: robot.code, stderr: robot.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(robot.stdout).data.machines[0].machine_id).toBe("local");
      const events = JSON.parse((await vc(["robot", "events", "--source", "uptime", "--config", cfg], { env })).stdout).data;
      expect(events.sources).toEqual([{ name: "uptime", group: "UPTIME READINGS", count: 1 }]);
      expect(events.events[0]).toMatchObject({ source: "uptime", machine_id: "local", title: expect.stringMatching(/^load [\d.]+ \/ [\d.]+ \/ [\d.]+$/) });
      const fleet = JSON.parse((await vc(["robot", "fleet", "--config", cfg], { env })).stdout).data;
      expect(fleet.columns).toContainEqual({ name: "uptime_load5", title: "UPTIME", unit: "text" });
      expect(fleet.machines[0].columns.uptime_load5).toMatch(/^[\d.]+$/);
      // Its pane in the TUI, drawn headless as `vc tui` draws it: read through its view, listed, detailed.
      writeFileSync(
        join(dir, "pane.ts"),
        `import { connectCockpit } from ${JSON.stringify(join(repoRoot, "lib/index.ts"))};
import { emptyData, frame, frameText, initialState, loadCore, loadScreen, screensFor } from ${JSON.stringify(join(repoRoot, "lib/tui/index.ts"))};
await using c = await connectCockpit({ file: ${JSON.stringify(cfg)} });
let s = initialState({ width: 120, height: 30, now: new Date(), staleAfterSeconds: 600, data: emptyData(), screens: screensFor(c.config.plugins ?? []) });
s = { ...s, screen: "uptime", data: await loadCore(c, s.data) };
s = { ...s, data: await loadScreen(c, s) };
let e = { ...s, screen: "events" };
e = { ...e, data: await loadScreen(c, e) };
console.log(JSON.stringify({ tabs: s.screens.filter((x) => !x.level).map((x) => x.id), text: frameText(frame(s)).join("\\n"), events: frameText(frame(e)).join("\\n") }));`,
      );
      const pane = Bun.spawnSync([process.execPath, join(dir, "pane.ts")], { env, stdout: "pipe", stderr: "pipe" });
      expect(pane.stderr.toString()).toBe("");
      const drawn = JSON.parse(pane.stdout.toString());
      expect(drawn.tabs).toEqual(["overview", "machine", "uptime", "events", "guardian"]);
      expect(drawn.text).toContain("LOAD (uptime) (1)");
      expect(drawn.text).toMatch(/● local +[\d.]+ [\d.]+ [\d.]+/);
      expect(drawn.text).toContain("LOAD AVERAGES");
      expect(drawn.text).toMatch(/3 Uptime/);
      // Its readings on the Events screen, beside the other plugins' events.
      expect(drawn.events).toContain("UPTIME READINGS (1)");
      expect(drawn.events).toMatch(/load [\d.]+ \/ [\d.]+ \/ [\d.]+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
