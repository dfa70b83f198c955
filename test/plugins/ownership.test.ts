// The core names no tool: lib/ iterates over plugins. A bundled plugin's tables and tool names
// appear in lib/ only in comments and examples, never in code — the TUI included (its plugin
// screens live in the plugins' folders; it reads every answer through the view registry).
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot } from "../helpers/cli.ts";

/** Tables the bundled plugins own: those their migrations create (010–060), outside vc's core. */
function pluginTables(): string[] {
  const out = new Set<string>();
  for (const f of readdirSync(join(repoRoot, "migrations")).filter((f) => /^0(1|2|3|4|6)\d_.*\.sql$/.test(f))) {
    for (const m of readFileSync(join(repoRoot, "migrations", f), "utf8").matchAll(/create\s+table\s+(?:if\s+not\s+exists\s+)?([a-z_]+)/gi)) out.add(m[1]!.toLowerCase());
  }
  return [...out];
}

/** The tool names: each bundled plugin folder, the commands its collectors run. */
const TOOLS = ["ntm", "caut", "caam", "cass", "dcg", "rch", "ru", "pt", "rano", "beads", "bv", "br", "sysmoni", "afsc", "cloud_benchmarker", "mcp_agent_mail"];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** The code without its comments (line and block, JSDoc included). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");

describe("lib/ names no bundled plugin", () => {
  it("finds the bundled plugins' tables to look for", () => {
    expect(pluginTables()).toContain("dcg_events");
    expect(pluginTables()).toContain("account_usage_snapshots");
    expect(pluginTables().length).toBeGreaterThan(30);
  });

  it("mentions none of their tables or tool names in code", () => {
    const words = [...pluginTables(), ...TOOLS];
    const hits: string[] = [];
    for (const f of files(join(repoRoot, "lib"))) {
      const rel = relative(repoRoot, f);
      const text = code(readFileSync(f, "utf8"));
      // (A field of an answer's shape named like a table — `repos: RepoLine[]` — is no mention of the table.)
      for (const w of words) if (new RegExp(`\\b${w}\\b(?!\\??:)`).test(text)) hits.push(`${rel}: ${w}`);
    }
    expect(hits).toEqual([]);
  });

  it("lib/ imports nothing from plugins/, the TUI included", () => {
    const hits = files(join(repoRoot, "lib"))
      .filter((f) => /from\s+["'][^"']*plugins\//.test(readFileSync(f, "utf8")))
      .map((f) => relative(repoRoot, f));
    expect(hits).toEqual([]);
  });
});
