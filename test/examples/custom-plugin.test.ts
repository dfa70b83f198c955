import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "bun:test";
import { testCollector } from "../../lib/testkit.ts";
import { uptime } from "../../examples/custom-plugin/uptime.ts";

// The contract kit as a plugin author runs it: a real `uptime` output (procps-ng 4.0.2).
const real = readFileSync(join(import.meta.dir, "../fixtures/sysprobe/uptime.txt"), "utf8");

testCollector({
  collector: uptime(),
  fixtures: { tools: { uptime: { "": real } } },
  rows: { uptime_samples: 1 },
  junk: { tools: { uptime: { "": "\u0000\u00ffnot uptime at all" } } },
  async check(store) {
    expect(await store.query("select machine_id, collected_at, load1, load5, load15 from uptime_samples")).toEqual([
      { machine_id: "fake", collected_at: "2026-01-25T03:00:00.000Z", load1: 0, load5: 0.03, load15: 0 },
    ]);
  },
});
