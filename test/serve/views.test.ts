// Every registered view answers the same through the library, the daemon's socket and the CLI
// (through the daemon, and with the store opened by the command itself), on a demo fleet carrying
// the real collectors' data. And bad arguments are named the same way at each door.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtinViews, runDaemon, type Cockpit, type RemoteCockpit } from "../../lib/index.ts";
import { connectDaemon } from "../../lib/serve/client.ts";
import { AT_ARG } from "../../lib/views/define.ts";
import { socketPathFor } from "../../lib/store/files.ts";
import { isolatedEnv, repoRoot, vc as runVc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { openDemoCockpit } from "../helpers/demo.ts";
import { VIEW_ASK, stableAnswer } from "../helpers/views.ts";
import { END, TOOLS_MACHINE, createTuiFleet } from "../tui/_fixture.ts";

setDefaultTimeout(120_000);

const dir = tempDir("vc-views-");
let config: string;
let db: string;
let env: Record<string, string>;
let vc: Cockpit;
let remote: RemoteCockpit;
const stop = new AbortController();
let daemon: Promise<number>;

const ASK = VIEW_ASK;
const positional = (view: string, k: string) => (vc.views.get(view)?.args[k] as { positional?: boolean } | undefined)?.positional === true;
const flags = (args: Record<string, unknown>, view: string) =>
  Object.entries(args).flatMap(([k, v]) => (positional(view, k) ? [String(v)] : v === true ? [`--${k}`] : [`--${k}`, String(v)]));

const stable = stableAnswer;

beforeAll(async () => {
  const fleet = await createTuiFleet(dir, { machines: 3 });
  db = fleet.db;
  // The fleet's machines, reached locally (no name lookups): doctor and search really run here.
  config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
import { cass, defaultRules, toolPlugins } from "vibe-cockpit/plugins";
export default defineConfig({
  db: ${JSON.stringify(db)},
  machines: ${JSON.stringify(["node-01", "node-02", TOOLS_MACHINE].map((id) => ({ id, ssh: "local" })))},
  collectors: [cass()],
  plugins: toolPlugins,
  rules: defaultRules(),
});
`,
  );
  env = isolatedEnv(dir, { VC_NOW: END.toISOString(), PATH: `${join(repoRoot, "node_modules/.bin")}:/usr/bin:/bin` });
  // As the CLI does: the fallback system probe is always on.
  vc = await openDemoCockpit(config, env, END);
  daemon = runDaemon(vc, { signal: stop.signal, poll: false });
  remote = (await waitForDaemon())!;
});

async function waitForDaemon(): Promise<RemoteCockpit | null> {
  for (let i = 0; i < 100; i++) {
    const r = await connectDaemon(socketPathFor(db), { db });
    if (r) return r;
    await Bun.sleep(50);
  }
  return null;
}

afterAll(async () => {
  await remote?.close();
  stop.abort();
  await daemon;
  await vc?.close();
});

describe("the view registry", () => {
  it("asks every registered view in this test (a new view must be added to ASK)", () => {
    // vc's own views, and the plugins' (accounts, oracle, repos, beads, attention) once the config lists them.
    expect(builtinViews.map((v) => v.name).sort()).toEqual(
      Object.keys(ASK)
        .filter((v) => !["accounts", "oracle", "repos", "beads", "attention"].includes(v))
        .sort(),
    );
    expect(vc.views.views.map((v) => v.name).sort()).toEqual(Object.keys(ASK).sort());
  });

  it("lists the views with their argument specs through the socket", async () => {
    const listed = await remote.listViews();
    expect(listed.map((v) => v.name)).toEqual(vc.views.views.map((v) => v.name));
    expect(listed.find((v) => v.name === "triage")!.args).toEqual({ limit: { kind: "int", description: "how many items", min: 1, max: 1000, default: 20, hint: "N" }, at: AT_ARG });
  });

  it("answers each view the same from the library, the socket and the CLI (through the daemon)", async () => {
    for (const view of vc.views.views) {
      const args = ASK[view.name]!;
      const direct = await vc.view(view.name, args);
      expect(direct.schema_version).toBe(`vc.robot.${view.name}.v1`);
      expect(direct.generated_at).toBe(END.toISOString());
      const viaSocket = await remote.view(view.name, args);
      expect(stable(viaSocket)).toEqual(stable(direct));
      const cli = await runVc(["robot", view.name, ...flags(args, view.name), "--config", config], { env });
      expect({ view: view.name, code: cli.code, stderr: cli.stderr }).toEqual({ view: view.name, code: 0, stderr: "" });
      expect(stable(JSON.parse(cli.stdout))).toEqual(stable(direct));
    }
  });

  it("the views carry the fleet's data (not empty answers)", async () => {
    const machine = (await vc.robotMachine(TOOLS_MACHINE)).data as Record<string, unknown>;
    expect(machine.machine).toMatchObject({ id: TOOLS_MACHINE });
    expect((await vc.robotAlerts({ all: true })).data.alerts.length).toBeGreaterThan(0);
    expect((await vc.robotTriage({ limit: 3 })).data.items.length).toBe(3);
    const search = await vc.view("search", { query: "flock" });
    // cass is not on this PATH: each machine says so, as a warning, not an empty success.
    expect(search.warnings.length).toBe(3);
    expect(search.warnings[0]).toContain("cass");
  });

  it("names a bad argument the same way through the library and the socket, and as a flag on the command line", async () => {
    const cases: [string, Record<string, unknown>, string, string][] = [
      ["triage", { limit: -5 }, "limit: -5 is not a whole number from 1 to 1000", '--limit: "-5" is not a whole number from 1 to 1000'],
      ["triage", { limit: "abc" }, 'limit: "abc" is not a whole number from 1 to 1000', '--limit: "abc" is not a whole number from 1 to 1000'],
      [
        "health",
        { at: "yesterday" },
        'at: "yesterday" is not an ISO 8601 time (like 2026-01-25T03:00:00Z)',
        '--at: "yesterday" is not an ISO 8601 time (like 2026-01-25T03:00:00Z)',
      ],
      ["search", { query: "x", limit: 1e308 }, "limit: 1e+308 is not a whole number from 1 to 200", '--limit: "1e308" is not a whole number from 1 to 200'],
    ];
    for (const [name, args, message, cliMessage] of cases) {
      for (const door of [vc, remote]) {
        const err = await door.view(name, args).then(
          () => null,
          (e: unknown) => e as { code: string; message: string },
        );
        expect({ door: "remote" in door ? "socket" : "library", code: err?.code, message: err?.message }).toEqual({
          door: "remote" in door ? "socket" : "library",
          code: "invalid_argument",
          message,
        });
      }
      const cli = await runVc(
        ["robot", name, ...flags(Object.fromEntries(Object.entries(args).map(([k, v]) => [k, k === "limit" && v === 1e308 ? "1e308" : v])), name), "--config", config],
        { env },
      );
      expect(cli.code).toBe(2);
      const out = JSON.parse(cli.stdout);
      expect(out).toMatchObject({ schema_version: "vc.robot.error.v1", error: { code: "invalid_argument", message: cliMessage } });
    }
    const unknown = await vc.view("helth").then(
      () => null,
      (e: unknown) => e as { code: string; hint: string },
    );
    expect(unknown).toMatchObject({ code: "not_found" });
    expect(unknown!.hint).toContain("did you mean health?");
    const extra = await remote.view("alerts", { every: true }).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(extra).toMatchObject({ code: "invalid_argument", message: 'alerts: no argument "every"' });
  });
});

describe("without a daemon", () => {
  it("the CLI opens the store itself and answers the same", async () => {
    const expected = new Map<string, unknown>();
    for (const view of vc.views.views) expected.set(view.name, stable(await vc.view(view.name, ASK[view.name]!)));
    await remote.close();
    stop.abort();
    await daemon;
    await vc.close();
    for (const view of vc.views.views) {
      const cli = await runVc(["robot", view.name, ...flags(ASK[view.name]!, view.name), "--config", config], { env });
      expect({ view: view.name, code: cli.code, stderr: cli.stderr }).toEqual({ view: view.name, code: 0, stderr: "" });
      expect(stable(JSON.parse(cli.stdout))).toEqual(expected.get(view.name));
    }
    // A script through the library entry, too.
    const script = join(dir, "script.ts");
    writeFileSync(
      script,
      `import { connectCockpit } from ${JSON.stringify(join(repoRoot, "lib/index.ts"))};
import { sysprobe } from ${JSON.stringify(join(repoRoot, "plugins/index.ts"))};
await using vc = await connectCockpit({ file: ${JSON.stringify(config)}, alwaysOn: [sysprobe()], modules: { "vibe-cockpit/plugins": () => import(${JSON.stringify(join(repoRoot, "plugins/index.ts"))}) } });
console.log(JSON.stringify(await vc.view("triage", { limit: 3 })));`,
    );
    const p = Bun.spawnSync(["bun", script], { env, stdout: "pipe", stderr: "pipe" });
    expect(p.stderr.toString()).toBe("");
    expect(stable(JSON.parse(p.stdout.toString()))).toEqual(expected.get("triage"));
  });
});
