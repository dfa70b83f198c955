import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "bun:test";
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

describe("the test kit's fake machine", () => {
  it("serves http routes on loopback and puts their base URL into paths", async () => {
    const { createFakeMachine } = await import("../../lib/testkit.ts");
    const m = createFakeMachine({ http: { "/metrics": "up 1\n" }, paths: { "rch.metrics_url": "{http}/metrics" } });
    try {
      expect(m.info.paths["rch.metrics_url"]).toBe(m.url("/metrics"));
      expect(m.info.paths["rch.metrics_url"]).toStartWith("http://127.0.0.1:");
      expect(await m.exec.httpGet(m.url("/metrics"))).toEqual({ status: 200, body: "up 1\n", truncated: false });
    } finally {
      m.close();
    }
  });
});
