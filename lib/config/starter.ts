import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { VcError } from "../errors.ts";

/** The text of a starter vc.config.ts for this machine. */
export function starterConfig(machineId = hostname().replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "local"): string {
  return `// vc.config.ts: your fleet for vc (vibe cockpit). Plain TypeScript; see \`vc --help\`.
import { defineConfig } from "vibe-cockpit";
import { alertsJsonl, defaultRules, sysprobe } from "vibe-cockpit/plugins";

export default defineConfig({
  // db: "~/.local/share/vc/vc.duckdb",
  polling: {
    interval_seconds: 120,
    max_machines_in_flight: 8,
    max_collectors_in_flight_per_machine: 4,
    collector_timeout_seconds: 30,
  },
  machines: [
    { id: ${JSON.stringify(machineId)}, ssh: "local", tags: ["primary"], allow_write_commands: false, allow_autopilot: false },
    // { id: "worker-01", ssh: "ubuntu@worker-01:22", tags: ["worker"] },
  ],
  collectors: [sysprobe()],
  // The plan's default alert rules; tune a threshold with defaultRules({ disk_low: { min_free_pct: 15 } }).
  rules: defaultRules(),
  // Where alert state changes go: <data_dir>/alerts.jsonl; add webhook({ url }) for Slack and the like.
  channels: [alertsJsonl()],
  autopilot: { mode: "suggest" },
});
`;
}

/** Writes a starter config at `path`; never overwrites an existing file. */
export function writeStarterConfig(path: string): void {
  if (existsSync(path)) {
    throw new VcError("invalid_input", `${path} already exists; vc init never overwrites a config`, {
      hint: "edit it, or pass --path to write the starter somewhere else",
    });
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, starterConfig(), { flag: "wx" });
}
