// The embedded default: what `vc` uses when no other config is found.
// This machine, every bundled plugin, the default rules, alerts to <data_dir>/alerts.jsonl.
// Copy it (`vc init`) to make your own.
// Each collector is skipped, with the reason, on a machine without its tool or data.
import { hostname } from "node:os";
import { defineConfig } from "vibe-cockpit";
import {
  afsc,
  beads,
  caam,
  cass,
  caut,
  cautCost,
  alertsJsonl,
  cloudBenchmarker,
  dcg,
  defaultRules,
  mcpAgentMail,
  ntm,
  ntmAttention,
  pt,
  rano,
  rch,
  ru,
  sysmoni,
  sysprobe,
} from "vibe-cockpit/plugins";

const localId =
  hostname()
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "") || "local";

export default defineConfig({
  polling: { interval_seconds: 120, max_machines_in_flight: 8, max_collectors_in_flight_per_machine: 4 },
  machines: [{ id: localId, ssh: "local", tags: ["local"], allow_write_commands: false, allow_autopilot: false }],
  collectors: [
    sysprobe(),
    sysmoni(),
    ntm(),
    ntmAttention(), // who needs you: ntm's per-agent states, events and attention items
    caut(),
    cautCost(), // spend per provider per day (caut cost --json), every 15 min: the cost oracle reads it
    caam(),
    cass(),
    mcpAgentMail(),
    dcg(),
    rano(),
    ru(),
    rch(),
    pt(),
    beads({ intervalSeconds: 300 }),
    afsc({ intervalSeconds: 600 }),
    cloudBenchmarker({ intervalSeconds: 900 }),
  ],
  rules: defaultRules(),
  channels: [alertsJsonl()],
  autopilot: { mode: "suggest" },
});
