// A worked custom plugin: a collector for a tool vc does not know, in about thirty lines.
// It runs `uptime`, keeps the three load averages in a table of its own, and is declared in
// ./vc.config.ts beside it. Its test is test/examples/custom-plugin.test.ts (the contract kit).
import { defineCollector } from "vibe-cockpit";

export function uptime() {
  return defineCollector({
    name: "uptime",
    version: "1.0.0",
    schemaVersion: 1,
    requires: { commands: ["uptime"] }, // skipped (with the reason) where uptime is missing
    // The plugin's own table; vc applies it after its own migrations and checksums it.
    migrations: [
      {
        name: "001_uptime_samples.sql",
        sql: `CREATE TABLE uptime_samples(machine_id VARCHAR, collected_at TIMESTAMP, load1 DOUBLE, load5 DOUBLE,
                load15 DOUBLE, raw TEXT, PRIMARY KEY (machine_id, collected_at));`,
      },
    ],
    async collect(ctx) {
      const r = await ctx.exec.run(["uptime"]);
      if (r.exitCode !== 0) throw new Error(`uptime exited ${r.exitCode}: ${r.stderr.trim()}`);
      const m = /load averages?:\s*([\d.]+),?\s+([\d.]+),?\s+([\d.]+)/.exec(r.stdout);
      if (!m) {
        ctx.warn(`uptime printed no load averages: ${JSON.stringify(r.stdout.slice(0, 80))}`);
        return { rows: {} };
      }
      // machine_id and collected_at are stamped by vc.
      return { rows: { uptime_samples: [{ load1: Number(m[1]), load5: Number(m[2]), load15: Number(m[3]), raw: r.stdout.trim() }] } };
    },
  });
}
