import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createFixedClock, finishCycle, resolveConfig, type AlertEvent, type Store } from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { defaultRules } from "../../plugins/rules/index.ts";

setDefaultTimeout(120_000);

// A scripted fleet-day on the default rule pack: three machines polled every 10 minutes from 06:00
// to 20:00, healthy but for incidents injected at known times. Every incident must alert, in
// order, once; nothing else may alert.
const GiB = 1024 ** 3;
const DAY = Date.UTC(2026, 0, 25);
const t = (h: number, m = 0) => new Date(DAY + (h * 60 + m) * 60_000);
const machines = ["orko", "sydney", "gpu"];

let store: Store & { dir: string };
afterAll(async () => store?.close());

describe("a scripted fleet-day on the default rules", () => {
  it("alerts each injected incident once, in order, and nothing else", async () => {
    store = await createTestStore();
    const config = await resolveConfig({ machines: machines.map((id) => ({ id, ssh: "local" })), rules: defaultRules(), collectors: [] }, { source: "fleet-day", env: {} });
    const clock = createFixedClock(t(6));
    const notified: AlertEvent[] = [];
    for (let min = 0; min <= 14 * 60; min += 10) {
      const at = t(6, min);
      const hour = 6 + min / 60;
      clock.set(at);
      for (const id of machines) {
        // load: gpu is overloaded 13:00–13:40 (past the rule's 10 minutes)
        const load5 = id === "gpu" && hour >= 13 && hour < 13 + 40 / 60 ? 14 : 1.2;
        await store.insert("sys_samples", [
          {
            machine_id: id,
            collected_at: at,
            source: "sysprobe",
            cpu_cores: 8,
            load1: load5,
            load5,
            load15: load5,
            mem_used_bytes: 8 * GiB,
            mem_total_bytes: 32 * GiB,
            swap_used_bytes: 0,
            swap_total_bytes: 4 * GiB,
            oom_kills: 0,
            cpu_total: 30,
          },
        ]);
        // disk: orko's /data fills from 08:00 and crosses 90 % used at 10:00
        const used = id === "orko" ? Math.min(0.97, 0.6 + Math.max(0, hour - 8) * 0.15) : 0.5;
        await store.insert("filesystems", [
          { machine_id: id, collected_at: at, mount: "/", size_bytes: 100 * GiB, used_bytes: 40 * GiB, avail_bytes: 60 * GiB, used_pct: 40 },
          { machine_id: id, collected_at: at, mount: "/data", size_bytes: 1000 * GiB, used_bytes: used * 1000 * GiB, avail_bytes: (1 - used) * 1000 * GiB, used_pct: used * 100 },
        ]);
        await store.run(`INSERT OR REPLACE INTO collector_state VALUES ('${id}', 'sysprobe', '${at.toISOString()}', 'ok', '${at.toISOString()}', NULL, 0)`);
      }
      // a dcg deny spike on sydney at 12:00 (15 denies within a few minutes)
      if (min === (12 - 6) * 60) {
        await store.insert(
          "dcg_events",
          Array.from({ length: 15 }, (_, i) => ({
            machine_id: "sydney",
            collected_at: at,
            event_key: `spike${i}`,
            ts: new Date(at.getTime() - i * 20_000),
            decision: "deny",
            rule_id: "core.git:reset-hard",
            origin: "decision_log",
          })),
        );
      }
      // an account nearing its limit from 14:00, read by caut (by email) on orko and by caam (as
      // profile "work", which caam status says is jeff@example.com) on sydney: one alert
      await store.insert("account_usage_snapshots", [
        { machine_id: "orko", collected_at: at, provider: "claude", account: "jeff@example.com", window_name: "primary", used_percent: hour >= 14 ? 88 : 40, resets_at: t(23) },
      ]);
      await store.insert("account_limits_snapshot", [
        {
          machine_id: "sydney",
          collected_at: at,
          provider: "claude",
          profile: "work",
          window_name: "primary",
          utilization: hour >= 14 ? 0.87 : 0.4,
          utilization_pct: hour >= 14 ? 87 : 40,
          resets_at: t(23),
        },
      ]);
      await store.insert("account_profile_snapshots", [
        { machine_id: "sydney", collected_at: at, tool: "claude", logged_in: true, active_profile: "work", identity_email: "jeff@example.com" },
      ]);
      // the cass index on gpu stops refreshing at 06:00 the day before... and is seen stale from 16:00
      await store.insert("cass_index_status", [
        { machine_id: "gpu", collected_at: at, state: "healthy", index_status: "ready", last_index_at: hour >= 16 ? t(-10) : new Date(at.getTime() - 30 * 60_000) },
      ]);
      const outcome = await finishCycle({ store, config, clock, rules: config.rules, channels: [] });
      expect(outcome.ruleErrors).toEqual([]);
      expect(outcome.ruleWarnings).toEqual([]); // every default rule's labels tell its findings apart
      notified.push(...outcome.events.filter((e) => e.suppressed_by === null));
    }
    const firing = notified.filter((e) => e.event === "firing").map((e) => [e.rule, e.machine_id, e.at.slice(11, 16)]);
    expect(firing).toEqual([
      ["disk_low", "orko", "10:10"],
      ["dcg_deny_spike", "sydney", "12:00"],
      ["load_high", "gpu", "13:10"],
      ["account_usage_high", "orko", "14:00"],
      ["cass_index_stale", "gpu", "16:00"],
    ]);
    // the load incident ended and the deny spike aged out: both resolved, once
    const resolved = notified
      .filter((e) => e.event === "resolved")
      .map((e) => e.rule)
      .sort();
    expect(resolved).toEqual(["dcg_deny_spike", "load_high"]);
    // the account's alert carries both tools' readings
    const account = notified.find((e) => e.rule === "account_usage_high")!;
    expect(account.message).toContain("(from caut on orko 88 %, caam profile work on sydney 87 %)");
    expect(account.labels).toEqual({ provider: "claude", account: "jeff@example.com", window_name: "primary" });
  });
});
