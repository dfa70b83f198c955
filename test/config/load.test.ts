import { describe, expect, it } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig, discoverConfig, loadConfig, resolveConfig, VcError } from "../../lib/index.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir();
let n = 0;
function write(body: string, name = "vc.config.ts"): string {
  const d = join(dir, `c${n++}`);
  mkdirSync(d, { recursive: true });
  const file = join(d, name);
  writeFileSync(file, body);
  return file;
}
const minimal = (id: string) => `import { defineConfig } from "vibe-cockpit";\nexport default defineConfig({ machines: [{ id: "${id}", ssh: "local" }] });\n`;

describe("config discovery", () => {
  it("takes --config, then $VC_CONFIG, then ./vc.config.ts, then $XDG_CONFIG_HOME/vc/vc.config.ts", () => {
    const cwd = join(dir, "cwd");
    const xdg = join(dir, "xdg");
    mkdirSync(join(xdg, "vc"), { recursive: true });
    mkdirSync(cwd, { recursive: true });
    const flag = write(minimal("flag"));
    const fromEnv = write(minimal("env"));
    writeFileSync(join(xdg, "vc", "vc.config.ts"), minimal("xdg"));
    const env = { HOME: dir, XDG_CONFIG_HOME: xdg };
    expect(discoverConfig({ cwd, env }).file).toBe(join(xdg, "vc", "vc.config.ts"));
    writeFileSync(join(cwd, "vc.config.ts"), minimal("cwd"));
    expect(discoverConfig({ cwd, env }).file).toBe(join(cwd, "vc.config.ts"));
    expect(discoverConfig({ cwd, env: { ...env, VC_CONFIG: fromEnv } }).file).toBe(fromEnv);
    expect(discoverConfig({ cwd, env: { ...env, VC_CONFIG: fromEnv }, file: flag }).file).toBe(flag);
  });

  it("defaults XDG_CONFIG_HOME to ~/.config", () => {
    const home = join(dir, "h");
    mkdirSync(join(home, ".config", "vc"), { recursive: true });
    writeFileSync(join(home, ".config", "vc", "vc.config.ts"), minimal("home"));
    expect(discoverConfig({ cwd: join(dir, "nowhere"), env: { HOME: home } }).file).toBe(join(home, ".config", "vc", "vc.config.ts"));
  });

  it("fails on a --config file that does not exist, naming it", () => {
    const missing = join(dir, "nope.ts");
    expect(() => discoverConfig({ file: missing, env: {} })).toThrow(missing);
  });

  it("loads a config outside the repo that imports vibe-cockpit with no node_modules beside it", async () => {
    const file = write(
      `import { defineConfig } from "vibe-cockpit";
import { fake } from "my-vc-plugins";
export default defineConfig(({ env }) => ({
  db: "~/data/my.duckdb",
  machines: [{ id: "orko", ssh: "local", tags: ["primary"] }],
  collectors: [fake(), env.NO_FAKE ? null : false],
}));
`,
    );
    const fakePlugins = async () => ({
      fake: () => ({ name: "fake", version: "1.0.0", schemaVersion: 1, collect: async () => ({ rows: {} }) }),
    });
    // A module of the user's own by name ("vibe-cockpit/plugins" itself is the package's: Bun's
    // module registry is per process, so a fake under that name would reach every later config).
    const config = await loadConfig({ file, env: { HOME: "/home/u" }, modules: { "my-vc-plugins": fakePlugins } });
    expect(config.source).toBe(file);
    expect(config.db).toBe("/home/u/data/my.duckdb");
    expect(config.machines[0]).toMatchObject({ id: "orko", ssh: "local", tags: ["primary"], allow_write_commands: false, allow_autopilot: false });
    expect(config.collectors.map((c) => c.name)).toEqual(["fake"]);
    expect(config.polling.max_machines_in_flight).toBe(8);
    expect(config.polling.collector_timeout_seconds).toBe(30);
  });

  it("lets --db beat $VC_DB beat the config's db, with the XDG data dir as the default", async () => {
    const base = { machines: [{ id: "m", ssh: "local" }] };
    const env = { HOME: "/home/u" };
    expect((await resolveConfig(base, { source: "t", env })).db).toBe("/home/u/.local/share/vc/vc.duckdb");
    expect((await resolveConfig(base, { source: "t", env: { ...env, XDG_DATA_HOME: "/xdg" } })).db).toBe("/xdg/vc/vc.duckdb");
    expect((await resolveConfig({ ...base, db: "/c.duckdb" }, { source: "t", env })).db).toBe("/c.duckdb");
    expect((await resolveConfig({ ...base, db: "/c.duckdb" }, { source: "t", env: { ...env, VC_DB: "/e.duckdb" } })).db).toBe("/e.duckdb");
    expect((await resolveConfig({ ...base, db: "/c.duckdb" }, { source: "t", env: { ...env, VC_DB: "/e.duckdb" }, db: "/f.duckdb" })).db).toBe("/f.duckdb");
  });
});

describe("config validation", () => {
  async function invalid(config: unknown) {
    const err = await resolveConfig(config as never, { source: "/x/vc.config.ts", env: {} }).catch((e) => e);
    expect(err).toBeInstanceOf(VcError);
    expect(err.code).toBe("config_invalid");
    return err as VcError;
  }

  it("refuses an ingest window_ms that is not a whole number of milliseconds from 0 to 60000, naming it; 1000 when unset", async () => {
    const nats = { servers: ["nats://127.0.0.1:4222"], user: "hub", password: "x" };
    for (const [bad, says] of [
      [-1, "0 or more"],
      [1.5, "whole number"],
      [120_000, "at most 60000"],
      ["1s", "number"],
    ] as const) {
      const err = await invalid({ ingest: { nats, window_ms: bad } });
      expect(err.message).toStartWith("/x/vc.config.ts: ingest.window_ms:");
      expect(err.message).toContain(says);
    }
    expect((await resolveConfig({ ingest: { nats, window_ms: 0 } }, { source: "t", env: {} })).ingest?.window_ms).toBe(0);
    expect((await resolveConfig({ ingest: { nats } }, { source: "t", env: {} })).ingest?.window_ms).toBe(1000);
  });

  it("names the file, the field path and what was expected", async () => {
    const err = await invalid({
      machines: [
        { id: "a", ssh: "local" },
        { id: "b", ssh: 42 },
      ],
    });
    expect(err.message).toStartWith("/x/vc.config.ts: machines[1].ssh:");
    expect(err.message).toContain("string");
    expect(err.message).toContain("42");
  });

  it("rejects a bad machine id, an unknown key, a bad polling value and a bad autopilot mode", async () => {
    expect((await invalid({ machines: [{ id: "has space", ssh: "local" }] })).message).toContain("machines[0].id");
    expect((await invalid({ machines: [{ id: "a", ssh: "local", allow_writes: true }] })).message).toContain("machines[0].allow_writes");
    expect((await invalid({ polling: { max_machines_in_flight: 0 } })).message).toContain("polling.max_machines_in_flight");
    expect((await invalid({ autopilot: { mode: "yolo" } })).message).toContain("autopilot.mode");
    expect((await invalid({ dbpath: "/x" })).message).toContain("dbpath");
  });

  it("rejects duplicate machine ids and a machine naming an unknown collector", async () => {
    expect(
      (
        await invalid({
          machines: [
            { id: "a", ssh: "local" },
            { id: "a", ssh: "local" },
          ],
        })
      ).message,
    ).toContain('machines[1]: "a" appears twice');
    const err = await invalid({ machines: [{ id: "a", ssh: "local", collectors: ["ntm"] }] });
    expect(err.message).toContain('no collector "ntm"');
  });

  it("reports a config that does not load, naming the file", async () => {
    const file = write("export default defineConfig({ machines: [ }\n");
    const err = await loadConfig({ file, env: {} }).catch((e) => e);
    expect(err.code).toBe("config_load_failed");
    expect(err.message).toContain(file);
  });

  it("drops falsy collectors, as Vite drops falsy plugins", async () => {
    const c = { name: "x", version: "1", schemaVersion: 1, collect: async () => ({ rows: {} }) };
    const cfg = await resolveConfig(defineConfig({ collectors: [c, null, false, undefined] }), { source: "t", env: {} });
    expect(cfg.collectors).toEqual([c]);
    expect(cfg.machines).toEqual([{ id: "local", ssh: "local", tags: [], roles: [], allow_write_commands: false, allow_autopilot: false, paths: {}, trust_on_first_use: false }]);
  });
});
