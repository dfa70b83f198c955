import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { createFixedClock, createLocalExecutor, defineCollector, openStore, resolveConfig, runCycle } from "../../lib/index.ts";
import { limitsFor } from "../../lib/collect/scheduler.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(30_000); // real processes

const dir = tempDir();
// A collector that brings its own, longer limits, as ru, pt and beads do.
const slow = defineCollector({
  name: "slow",
  version: "1",
  schemaVersion: 1,
  limits: { timeoutMs: 120_000, maxBytes: 64 * 1024 * 1024 },
  async collect(ctx) {
    await ctx.exec.run(["sleep", "100000"]);
    return { rows: {} };
  },
});

describe("collector limits", () => {
  it("a collector's own limits are defaults: they stand where the config sets nothing", async () => {
    const config = await resolveConfig({ collectors: [slow] }, { source: "test", env: {} });
    expect(limitsFor(config, slow)).toEqual({ timeoutMs: 120_000, maxBytes: 64 * 1024 * 1024, maxRows: config.polling.max_rows });
  });

  it("what the user's config sets wins over a collector's own limits", async () => {
    const config = await resolveConfig({ collectors: [slow], polling: { collector_timeout_seconds: 10, max_bytes: 1000 } }, { source: "test", env: {} });
    expect(limitsFor(config, slow)).toEqual({ timeoutMs: 10_000, maxBytes: 1000, maxRows: config.polling.max_rows });
  });

  it("a cycle stops a collector at the user's timeout, not at its own longer one", async () => {
    const config = await resolveConfig({ machines: [{ id: "here", ssh: "local" }], collectors: [slow], polling: { collector_timeout_seconds: 1 } }, { source: "test", env: {} });
    await using store = await openStore({ path: join(dir, "limits.duckdb") });
    const report = await runCycle({ store, config, clock: createFixedClock("2026-01-25T03:00:00Z"), executorFor: (m) => createLocalExecutor({ machineId: m.id }) });
    const [run] = report.machines[0]!.runs;
    expect(run).toMatchObject({ collector: "slow", result: "failed" });
    expect(run!.error).toContain("timed out after 1 s");
  });
});
