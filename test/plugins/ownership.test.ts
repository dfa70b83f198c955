// The core names no tool: lib/ iterates over plugins. A bundled plugin's tool names appear in lib/
// only in comments, never in code, and its tables nowhere, not even in an example — the TUI
// included (its plugin screens live in the plugins' folders; it reads every answer through the
// view registry).
import { describe, expect, it } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { repoRoot } from "../helpers/cli.ts";

const CREATE = /create\s+table\s+(?:if\s+not\s+exists\s+)?([a-z_]+)/gi;

/** Tables the bundled plugins own: those the applied migrations 010–060 create, and the plugins' own migrations. */
function pluginTables(): string[] {
  const out = new Set<string>();
  const texts = [
    ...readdirSync(join(repoRoot, "migrations"))
      .filter((f) => /^0(1|2|3|4|6)\d_.*\.sql$/.test(f))
      .map((f) => join(repoRoot, "migrations", f)),
    ...files(join(repoRoot, "plugins")),
  ].map((f) => readFileSync(f, "utf8"));
  for (const text of texts) for (const m of text.matchAll(CREATE)) out.add(m[1]!.toLowerCase());
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
    expect(pluginTables()).toContain("ntm_attention_runs"); // a plugin's own migration
    expect(pluginTables().length).toBeGreaterThan(30);
  });

  it("mentions none of their tables or tool names in code", () => {
    const words = [...pluginTables(), ...TOOLS];
    const hits: string[] = [];
    for (const f of files(join(repoRoot, "lib"))) {
      const rel = relative(repoRoot, f);
      const all = readFileSync(f, "utf8");
      const text = code(all);
      // (A field of an answer's shape named like a table — `repos: RepoLine[]` — is no mention of the table.)
      for (const w of words) if (new RegExp(`\\b${w}\\b(?!\\??:)`).test(text)) hits.push(`${rel}: ${w}`);
      // A table's name stays out of comments and examples too (an example is read as the way to do it).
      for (const t of pluginTables()) if (t !== "repos" && new RegExp(`\\b${t}\\b`).test(all) && !hits.includes(`${rel}: ${t}`)) hits.push(`${rel}: ${t} (comment)`);
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
