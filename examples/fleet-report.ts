#!/usr/bin/env bun
// A script a user would write: ask the cockpit what needs doing, the same way `vc robot triage`
// does, through the daemon when `vc up` runs and from the store when it does not.
//
//   bun examples/fleet-report.ts [--config FILE]
import { connectCockpit } from "vibe-cockpit";

const i = process.argv.indexOf("--config");
await using vc = await connectCockpit({ file: i > 0 ? process.argv[i + 1] : undefined });
const { data } = await vc.robotTriage({ limit: 10 });
console.log(`fleet ${data.overall.severity} (score ${data.overall.score})${"remote" in vc ? " — via the daemon" : ""}`);
for (const item of data.items) {
  console.log(`${String(item.rank).padStart(2)}. [${item.severity}] ${item.title}${item.machine_id ? ` on ${item.machine_id}` : ""}: ${item.message}`);
  for (const s of data.suggestions[item.id] ?? []) console.log(`      → ${s.title}${s.command ? `: ${s.command}` : ""}`);
}
const { data: alerts } = await vc.robotAlerts();
console.log(`${alerts.alerts.length} active alert(s)`);
