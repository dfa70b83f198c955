import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { computeHealth, openStore, resolveConfig, severityOf } from "../../lib/index.ts";
import { accountsPlugin } from "../../plugins/accounts/index.ts";
import { dcgPlugin } from "../../plugins/dcg/plugin.ts";
import { mailPlugin } from "../../plugins/mcp_agent_mail/plugin.ts";
import { rchPlugin } from "../../plugins/rch/plugin.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir();
const now = new Date("2026-01-25T03:00:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000);
let n = 0;

async function setup() {
  const config = await resolveConfig(
    {
      polling: { interval_seconds: 120 },
      machines: ["calm", "full", "busy", "swappy", "quiet", "empty", "broken"].map((id) => ({ id, ssh: "local" })),
      collectors: [{ name: "sysprobe", version: "1", schemaVersion: 1, collect: async () => ({ rows: {} }) }],
      // The factors beyond the system sample come with their plugins.
      plugins: [accountsPlugin, dcgPlugin, mailPlugin, rchPlugin],
    },
    { source: "t", env: {} },
  );
  const store = await openStore({ path: join(dir, `h${n++}.duckdb`) });
  const sample = (machine_id: string, at: Date, extra: Record<string, unknown> = {}) => ({
    machine_id,
    collected_at: at,
    source: "sysprobe",
    cpu_total: 20,
    cpu_cores: 8,
    load5: 2,
    mem_used_bytes: 4e9,
    mem_total_bytes: 16e9,
    swap_used_bytes: 0,
    swap_total_bytes: 8e9,
    ...extra,
  });
  await store.insert("sys_samples", [
    sample("calm", ago(30)),
    sample("full", ago(30)),
    sample("busy", ago(30), { load5: 20 }),
    sample("swappy", ago(30), { swap_used_bytes: 6e9 }),
    sample("quiet", ago(3 * 3600)),
    sample("broken", ago(30)),
    sample("calm", new Date(now.getTime() + 3600_000), { load5: 99 }), // after `now`: not seen
  ]);
  await store.insert("filesystems", [
    { machine_id: "calm", collected_at: ago(30), mount: "/", used_pct: 40 },
    { machine_id: "full", collected_at: ago(30), mount: "/", used_pct: 40 },
    { machine_id: "full", collected_at: ago(30), mount: "/data", used_pct: 96.5 },
  ]);
  await store.run(`INSERT INTO collector_state VALUES ('broken', 'sysprobe', '2026-01-25 02:59:00', 'failed', '2026-01-25 02:58:00', 'exit 1', 1),
    ('calm', 'sysprobe', '2026-01-25 02:59:30', 'ok', '2026-01-25 02:59:30', NULL, 0)`);
  return { config, store };
}

describe("health v0", () => {
  it("scores each machine by its worst factor and says which", async () => {
    const { config, store } = await setup();
    const h = await computeHealth(store, config, now);
    const by = Object.fromEntries(h.machines.map((m) => [m.id, m]));
    expect(by.calm).toMatchObject({ score: 1, severity: "ok", top_issue: null });
    expect(by.full!.top_issue).toBe("disk");
    expect(by.full!.severity).toBe("critical");
    expect(by.full!.factors.find((f) => f.id === "disk")!.detail).toBe("/data 96.5 % full");
    expect(by.busy!.top_issue).toBe("load");
    expect(by.busy!.factors.find((f) => f.id === "load")!.value).toBe(2.5);
    expect(by.swappy!.top_issue).toBe("swap");
    expect(by.broken!.top_issue).toBe("collector_failures");
    expect(h.warnings).toEqual(["sysprobe on broken failed: exit 1"]);
    await store.close();
  });

  it("never reads stale or missing data as healthy", async () => {
    const { config, store } = await setup();
    const h = await computeHealth(store, config, now);
    const by = Object.fromEntries(h.machines.map((m) => [m.id, m]));
    expect(by.quiet).toMatchObject({ top_issue: "stale_data", severity: "critical" });
    expect(by.empty).toMatchObject({ score: 0, top_issue: "no_data", severity: "critical" });
    expect(h.overall.severity).toBe("critical");
    expect(h.overall.score).toBeLessThan(1);
    await store.close();
  });

  it("reports staleness per collector as the worst machine's age in seconds", async () => {
    const { config, store } = await setup();
    const h = await computeHealth(store, config, now);
    expect(h.staleness).toEqual({ sysprobe: 120 });
    await store.close();
  });

  it("maps scores to severities", () => {
    expect([1, 0.9, 0.8, 0.6, 0.3, 0.1].map(severityOf)).toEqual(["ok", "ok", "low", "medium", "high", "critical"]);
  });
});

describe("health factors beyond the system sample", () => {
  it("scores account headroom, dcg denies, mail backlog and the rch queue where a machine has them", async () => {
    const { config, store } = await setup();
    await store.insert("account_usage_snapshots", [
      { machine_id: "calm", collected_at: ago(60), provider: "claude", account: "a@x", window_name: "primary", used_percent: 97, resets_at: new Date(now.getTime() + 3600_000) },
      { machine_id: "calm", collected_at: ago(60), provider: "codex", account: "b@x", window_name: "primary", used_percent: 40 },
    ]);
    const deny = (i: number) => ({
      machine_id: "busy",
      collected_at: ago(30),
      ts: ago(60 + i),
      decision: "deny",
      origin: "decision_log",
      event_key: `k${i}`,
      rule_id: "core.git:reset-hard",
    });
    await store.insert(
      "dcg_events",
      Array.from({ length: 12 }, (_, i) => deny(i)),
    );
    const h = await computeHealth(store, config, now);
    const by = Object.fromEntries(h.machines.map((m) => [m.id, m]));
    const acct = by.calm!.factors.find((f) => f.id === "account_headroom")!;
    expect(acct.value).toBe(97);
    expect(acct.detail).toBe("busiest account window claude a@x primary at 97 %");
    expect(acct.score).toBeLessThan(0.5);
    expect(by.calm!.top_issue).toBe("account_headroom");
    const dcg = by.busy!.factors.find((f) => f.id === "dcg_denies")!;
    expect(dcg).toMatchObject({ value: 12, detail: "12 dcg denies in the last hour" });
    expect(by.full!.factors.find((f) => f.id === "dcg_denies")).toBeUndefined();
    await store.close();
  });
});
