import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfig, resolveConfig, writeStarterConfig, type Collector, type VcConfig } from "../../lib/index.ts";
import embeddedDefault from "../../vc.config.ts";
import { isolatedEnv, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000); // these tests start real processes

const dir = tempDir("vc-init-");
let n = 0;
function fresh() {
  const d = join(dir, `case${n++}`);
  mkdirSync(d, { recursive: true });
  return { dir: d, env: isolatedEnv(d) };
}

/** Everything about a collector that is data: what the starter must reproduce. */
const signature = (c: Collector) => ({
  name: c.name,
  version: c.version,
  schemaVersion: c.schemaVersion,
  description: c.description,
  intervalSeconds: c.intervalSeconds,
  limits: c.limits,
  requires: c.requires,
  search: typeof c.search,
  watchPaths: typeof c.watchPaths,
});
const embedded = async (): Promise<VcConfig> => resolveConfig(embeddedDefault, { source: "(embedded default)", env: {} });

/** No node_modules anywhere above `file`: "vibe-cockpit" can only come from vc itself. */
function noNodeModulesAbove(file: string): boolean {
  for (let d = dirname(file); ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) return false;
    if (dirname(d) === d) return true;
  }
}

describe("vc init", () => {
  it("writes every bundled collector of the embedded default, its rules and channel; the file loads with no node_modules", async () => {
    const { dir: d, env } = fresh();
    const file = join(d, "elsewhere", "vc.config.ts");
    const r = await vc(["init", "--path", file], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(file);
    expect(noNodeModulesAbove(file)).toBe(true);

    const written = await loadConfig({ file, env });
    const def = await embedded();
    expect(written.collectors.length).toBe(17);
    expect(written.collectors.map(signature)).toEqual(def.collectors.map(signature));
    expect(written.rules.map((x) => x.id)).toEqual(def.rules.map((x) => x.id));
    expect(written.rules.length).toBeGreaterThan(10);
    expect(written.channels.map((x) => x.name)).toEqual(def.channels.map((x) => x.name));
    expect(written.channels.map((x) => x.name)).toContain("alerts.jsonl");
    expect(written.machines).toHaveLength(1);
    expect(written.machines[0]!.ssh).toBe("local");
  });

  it("puts one comment line above each collector saying what it reads: its commands and files", async () => {
    const { dir: d, env } = fresh();
    const file = join(d, "vc.config.ts");
    expect((await vc(["init", "--path", file], { env })).code).toBe(0);
    const lines = readFileSync(file, "utf8").split("\n");
    const def = await embedded();
    for (const c of def.collectors) {
      const factory = c.name.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase());
      const at = lines.findIndex((l) => l.trim().startsWith(`${factory}(`));
      expect(at, `${factory}( in the starter`).toBeGreaterThan(0);
      const comment = lines[at - 1]!.trim();
      expect(comment.startsWith("// "), `${c.name}: ${comment}`).toBe(true);
      const named = [...(c.requires?.commands ?? []), ...(c.requires?.files ?? []).map((f) => (typeof f === "string" ? f : f.path))];
      for (const x of named) expect(comment, c.name).toContain(x);
      // Collectors that declare nothing (they probe for themselves) still name a command or a file.
      expect(comment, c.name).toMatch(/--|\/|~|\.sqlite3|df -P/);
    }
  });

  it("the written config and the embedded default run the same collectors (two real processes)", async () => {
    const { dir: d, env } = fresh();
    const file = join(d, "vc.config.ts");
    expect((await vc(["init", "--path", file], { env })).code).toBe(0);
    const ran = async (args: string[], db: string) => {
      const r = await vc(["collect", "--once", "--json", "--db", join(d, db), ...args], { env });
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { machines: { runs: { collector: string }[] }[] };
      return report.machines.flatMap((m) => m.runs.map((x) => x.collector)).sort();
    };
    const fromStarter = await ran(["--config", file], "a.duckdb");
    const fromDefault = await ran([], "b.duckdb"); // no config anywhere in this HOME: the embedded default
    expect(fromStarter).toHaveLength(17);
    expect(fromStarter).toEqual(fromDefault);
  });

  it("never overwrites: an edited config stays as it is", async () => {
    const { dir: d, env } = fresh();
    const file = join(d, "mine.ts");
    writeFileSync(file, "// mine\n");
    const r = await vc(["init", "--path", file], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("already exists");
    expect(readFileSync(file, "utf8")).toBe("// mine\n");
    expect(() => writeStarterConfig(file, { collectors: [] })).toThrow("never overwrites");
    expect(readFileSync(file, "utf8")).toBe("// mine\n");
  });
});
