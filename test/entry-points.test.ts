// The package's entry points (package.json "exports"): each resolves to a file and loads; the
// library's main entry is re-exports only, names no internal (`_`) file, and keeps the TUI's
// internals behind "vibe-cockpit/tui"; the self-registration lives outside lib/config.
import { describe, expect, it } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: Record<string, string> };
const indexText = readFileSync(join(root, "lib/index.ts"), "utf8");

/** The modules a file re-exports from, with their line numbers. */
function reExportSources(text: string): { from: string; line: number }[] {
  const out: { from: string; line: number }[] = [];
  for (const m of text.matchAll(/^export\s+(?:type\s+)?(?:\*|\{[^}]*\})\s+from\s+["']([^"']+)["']/gm)) {
    out.push({ from: m[1]!, line: text.slice(0, m.index).split("\n").length });
  }
  return out;
}

describe("entry points", () => {
  it("has the library, plugins, testkit and tui entries, each an existing file", () => {
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining([".", "./plugins", "./testkit", "./tui"]));
    for (const [name, file] of Object.entries(pkg.exports)) expect(existsSync(join(root, file)), `${name} → ${file}`).toBe(true);
  });

  it("resolves each entry by the package's own name, as a user's import does", () => {
    expect(Bun.resolveSync("vibe-cockpit", root)).toBe(join(root, "lib/index.ts"));
    expect(Bun.resolveSync("vibe-cockpit/tui", root)).toBe(join(root, "lib/tui/index.ts"));
    expect(Bun.resolveSync("vibe-cockpit/plugins", root)).toBe(join(root, "plugins/index.ts"));
  });

  it("re-exports no file whose name starts with _ from lib/index.ts", () => {
    const sources = reExportSources(indexText);
    expect(sources.length).toBeGreaterThan(20);
    const internal = sources.filter((s) => s.from.split("/").some((part) => part.startsWith("_")));
    expect(internal.map((s) => `lib/index.ts:${s.line}: from "${s.from}"`)).toEqual([]);
  });

  it("holds re-exports only in lib/index.ts and lib/tui/index.ts", () => {
    for (const file of ["lib/index.ts", "lib/tui/index.ts"]) {
      // Statements, each on one line however the formatter wrapped it, comments left out.
      const statements = readFileSync(join(root, file), "utf8")
        .split("\n")
        .filter((l) => !l.trim().startsWith("//"))
        .join(" ")
        .split(";")
        .map((x) => x.replace(/\s+/g, " ").trim())
        .filter(Boolean);
      expect(statements.length).toBeGreaterThan(5);
      expect(
        statements.filter((x) => !/^export (type )?\{[^}]*\} from "\.\/[^"]+\.ts"$/.test(x)),
        file,
      ).toEqual([]);
    }
  });

  it("keeps the TUI's internals out of the library's main entry and serves them from vibe-cockpit/tui", async () => {
    const lib = (await import("vibe-cockpit")) as Record<string, unknown>;
    const tui = (await import("vibe-cockpit/tui")) as Record<string, unknown>;
    for (const name of [
      "runTui",
      "reduce",
      "initialState",
      "loadCore",
      "loadScreen",
      "frame",
      "frameText",
      "listItems",
      "emptyData",
      "defineScreen",
      "screensFor",
      "coreScreens",
    ]) {
      expect(lib[name], `vibe-cockpit exports ${name}`).toBeUndefined();
      expect(typeof tui[name], `vibe-cockpit/tui lacks ${name}`).not.toBe("undefined");
    }
    // What moved out of _ files is still public, from its new home.
    for (const name of ["socketPathFor", "storeFile", "resolveSshTarget", "shellQuote", "registerSelfModule", "defineConfig", "openCockpit"]) {
      expect(typeof lib[name], name).toBe("function");
    }
  });

  it("draws a frame headless through vibe-cockpit/tui alone", async () => {
    const tui = await import("vibe-cockpit/tui");
    const s = tui.initialState({ width: 80, height: 24, now: new Date("2026-01-25T03:00:00Z"), staleAfterSeconds: 300, data: tui.emptyData() });
    const lines = tui.frameText(tui.frame(s));
    expect(lines).toHaveLength(24);
    expect(lines.every((l) => Bun.stringWidth(l) === 80)).toBe(true);
  });

  it("loads neither the NATS client nor the MCP SDK with the library or `vc up` until something uses them", async () => {
    // A daemon of a pull-only fleet with no MCP endpoint holds neither (each is several MB of RSS).
    const script = `await import(${JSON.stringify(join(root, "cli/commands/up.ts"))}); await import("vibe-cockpit"); await import("vibe-cockpit/plugins");
      console.log(JSON.stringify(Object.keys(require.cache).filter((k) => /@nats-io|@modelcontextprotocol|[\\/]zod[\\/]|[\\/]ajv[\\/]/.test(k))));`;
    const p = Bun.spawnSync([process.execPath, "-e", script], { cwd: root, stderr: "pipe" });
    expect(p.stderr.toString()).toBe("");
    const loaded = JSON.parse(p.stdout.toString()) as string[];
    expect(loaded).toEqual([]);
    // …and they still load when asked for: the wrappers reach the real functions.
    const lib = await import("vibe-cockpit");
    await expect(lib.connectNats({ servers: ["127.0.0.1:1"] }, { name: "entry-points test", timeoutMs: 500 })).rejects.toThrow(/127\.0\.0\.1:1/);
  });

  it("registers the config's self-module outside lib/config, so lib/config imports no entry point", () => {
    for (const file of ["lib/config/load.ts", "lib/config/define.ts", "lib/config/schema.ts", "lib/config/starter.ts"]) {
      const text = readFileSync(join(root, file), "utf8");
      expect(text, file).not.toMatch(/Bun\.plugin\(/);
      expect(text, file).not.toMatch(/["']\.\.\/index\.ts["']/);
    }
    expect(readFileSync(join(root, "lib/self-module.ts"), "utf8")).toContain("Bun.plugin(");
    // The self-module names the package's entries by their public names, not by a path into lib.
    expect(readFileSync(join(root, "lib/self-module.ts"), "utf8")).not.toMatch(/import\(["']\.\.?\//);
  });
});
