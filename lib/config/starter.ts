import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import type { Collector } from "../collect/define.ts";
import { VcError } from "../errors.ts";

export interface StarterOptions {
  /**
   * The collectors to write, as bundled plugins (`vc init` passes the embedded default's). Each is
   * written as its factory call: the name in camelCase (`mcp_agent_mail` → `mcpAgentMail()`),
   * with `{ intervalSeconds }` when it has one.
   */
  collectors: readonly Collector[];
  /** This machine's id (default: the host name, made safe). */
  machineId?: string;
}

/** A host name as a machine id: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export function localMachineId(name = hostname()): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "local";
}

/** The factory a bundled plugin exports for a collector name: `cloud_benchmarker` → `cloudBenchmarker`. */
function factoryOf(name: string): string {
  return name.replace(/[_-]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** What a collector reads, for one comment line: its description, and any file it needs that the description does not name. */
function readsOf(c: Collector): string {
  const files = (c.requires?.files ?? []).map((f) => (typeof f === "string" ? f : f.path));
  const commands = c.requires?.commands ?? [];
  let text = (c.description ?? (commands.length ? commands.join(", ") : c.name)).replace(/\s+/g, " ").trim();
  const unnamed = files.filter((f) => !text.includes(f));
  if (unnamed.length) text += `; from ${unnamed.join(", ")}`;
  return text;
}

/**
 * The text of a starter vc.config.ts for this machine: the given collectors, each under a comment
 * line saying what it reads, the default rules and the alerts.jsonl channel.
 */
export function starterConfig(options: StarterOptions): string {
  const machineId = options.machineId ?? localMachineId();
  const calls = options.collectors.map((c) => {
    const factory = factoryOf(c.name);
    const args = c.intervalSeconds ? `{ intervalSeconds: ${c.intervalSeconds} }` : "";
    return { factory, text: `    // ${readsOf(c)}\n    ${factory}(${args}),` };
  });
  const imports = [...new Set(["alertsJsonl", "defaultRules", ...calls.map((c) => c.factory)])].sort();
  return `// vc.config.ts: your fleet for vc (vibe cockpit). Plain TypeScript; see \`vc --help\`.
// Every collector is skipped, with the reason, on a machine without its tool or data:
// keep the ones you use, delete the others.
import { defineConfig } from "vibe-cockpit";
import { ${imports.join(", ")} } from "vibe-cockpit/plugins";

export default defineConfig({
  // db: "~/.local/share/vc/vc.duckdb",
  polling: {
    interval_seconds: 120,
    max_machines_in_flight: 8,
    max_collectors_in_flight_per_machine: 4,
    // collector_timeout_seconds: 30, // set, it caps every collector; unset, ru, pt and beads keep their own 120
  },
  machines: [
    { id: ${JSON.stringify(machineId)}, ssh: "local", tags: ["primary"], allow_write_commands: false, allow_autopilot: false },
    // { id: "worker-01", ssh: "ubuntu@worker-01:22", tags: ["worker"] },
  ],
  // Where a tool keeps its files elsewhere, set them per machine: paths: { "dcg.history_db": "/srv/dcg/history.db" }.
  collectors: [
${calls.map((c) => c.text).join("\n")}
  ],
  // The plan's default alert rules; tune a threshold with defaultRules({ disk_low: { min_free_pct: 15 } }).
  rules: defaultRules(),
  // Where alert state changes go: <data_dir>/alerts.jsonl; add webhook({ url }) for Slack and the like.
  channels: [alertsJsonl()],
  autopilot: { mode: "suggest" },
});
`;
}

/** Writes a starter config at `path`; never overwrites an existing file. */
export function writeStarterConfig(path: string, options: StarterOptions): void {
  if (existsSync(path)) {
    throw new VcError("invalid_input", `${path} already exists; vc init never overwrites a config`, {
      hint: "edit it, or pass --path to write the starter somewhere else",
    });
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, starterConfig(options), { flag: "wx" });
}
