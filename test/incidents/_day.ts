// A replayed fleet-day for the incident tests: three machines polled every 10 minutes from 08:00 to
// 14:00 through finishCycle on the default rule pack and the dcg plugin (its events and factor), on a
// fixed clock. Healthy but for what is injected:
//   orko   /data fills from 08:00 (the disk factor worsens from 09:30), disk_low (critical) fires at
//          10:10; a dcg deny spike at 10:30 (dcg_deny_spike, high); a collector run fails at 10:40
//          and recovers at 10:50.
//   gpu    load 14 on 8 cores from 12:00 (the load factor goes high), load_high fires 12:10 (for
//          10m); 3 OOM kills counted at 12:10 (oom_kill); inotify at 95 % from 12:20 (inotify_high);
//          swap fills from 12:40 (swap_rising, medium). Back to normal at 13:00.
//   sydney an account at 88 % of its window from 13:30 (account_usage_high, high: one alert alone).
import { createFixedClock, finishCycle, openStore, recordAudit, resolveConfig, type CycleOutcome, type Store, type VcConfig } from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { dcgPlugin, defaultRules } from "../../plugins/index.ts";

const GiB = 1024 ** 3;
export const DAY = Date.UTC(2026, 0, 25);
/** An instant of the day. */
export const t = (h: number, m = 0) => new Date(DAY + (h * 60 + m) * 60_000);
export const MACHINES = ["orko", "sydney", "gpu"];
export const START = t(8);
export const END = t(14);

/** The config of the day, as a vc.config.ts would say it (for the CLI). */
export const configSource = (db: string) => `import { defineConfig } from "vibe-cockpit";
import { dcgPlugin, defaultRules } from "vibe-cockpit/plugins";
export default defineConfig({
  db: ${JSON.stringify(db)},
  machines: ${JSON.stringify(MACHINES.map((id) => ({ id, ssh: "local" })))},
  plugins: [dcgPlugin],
  rules: defaultRules(),
});
`;

export async function dayConfig(): Promise<VcConfig> {
  return resolveConfig({ machines: MACHINES.map((id) => ({ id, ssh: "local" })), rules: defaultRules(), plugins: [dcgPlugin] }, { source: "incidents-day", env: {} });
}

export interface Day {
  store: Store;
  config: VcConfig;
  /** Each cycle's outcome, by its instant's HH:MM. */
  outcomes: Map<string, CycleOutcome>;
}

/** Runs the day on a fresh store (a temp one, or the file at `path`); the store stays open. */
export async function replayDay(o: { path?: string } = {}): Promise<Day> {
  const store = o.path ? await openStore({ path: o.path }) : await createTestStore();
  const config = await dayConfig();
  const clock = createFixedClock(START);
  const outcomes = new Map<string, CycleOutcome>();
  for (let min = 0; min <= (END.getTime() - START.getTime()) / 60_000; min += 10) {
    const at = new Date(START.getTime() + min * 60_000);
    const hour = 8 + min / 60;
    const hm = 8 * 60 + min; // minutes of the day (exact, where hours are not)
    clock.set(at);
    for (const id of MACHINES) {
      const gpu = (from: number, to = 13 * 60) => id === "gpu" && hm >= from && hm < to;
      const load5 = gpu(12 * 60) ? 14 : 1.2;
      const swapGiB = gpu(12 * 60 + 40) ? (hm - 750) / 10 : 0;
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
          swap_used_bytes: Math.round(swapGiB * GiB),
          swap_total_bytes: 4 * GiB,
          oom_kills: gpu(12 * 60 + 10, 24 * 60) ? 3 : 0,
          cpu_total: 30,
          inotify_watches: gpu(12 * 60 + 20) ? 95_000 : 1_000,
          inotify_max_user_watches: 100_000,
        },
      ]);
      const used = id === "orko" ? Math.min(0.97, 0.6 + Math.max(0, hour - 8) * 0.15) : 0.5;
      await store.insert("filesystems", [
        { machine_id: id, collected_at: at, mount: "/", size_bytes: 100 * GiB, used_bytes: 40 * GiB, avail_bytes: 60 * GiB, used_pct: 40 },
        { machine_id: id, collected_at: at, mount: "/data", size_bytes: 1000 * GiB, used_bytes: used * 1000 * GiB, avail_bytes: (1 - used) * 1000 * GiB, used_pct: used * 100 },
      ]);
      await store.run(`INSERT OR REPLACE INTO collector_state VALUES ('${id}', 'sysprobe', '${at.toISOString()}', 'ok', '${at.toISOString()}', NULL, 0)`);
      // the run records (audit_events) the scheduler keeps: orko's sysprobe fails once at 10:40
      const failed = id === "orko" && min === 160;
      await store.transaction((tx) =>
        recordAudit(tx, {
          ts: at,
          eventType: "collector_run",
          actor: "sysprobe",
          machineId: id,
          action: "collect",
          result: failed ? "failed" : "ok",
          error: failed ? "sysprobe timed out after 30 s" : null,
        }),
      );
    }
    // a dcg deny spike on orko at 10:30 (15 denies within a few minutes), in the collector's table shape
    if (min === 150) {
      await store.insert(
        "dcg_events",
        Array.from({ length: 15 }, (_, i) => ({
          machine_id: "orko",
          collected_at: at,
          event_key: `spike${i}`,
          ts: new Date(at.getTime() - i * 20_000),
          decision: "deny",
          rule_id: "core.git:reset-hard",
          origin: "decision_log",
          raw_json: JSON.stringify({ command: "git reset --hard origin/main" }),
        })),
      );
    }
    await store.insert("account_usage_snapshots", [
      {
        machine_id: "sydney",
        collected_at: at,
        provider: "claude",
        account: "jeff@example.com",
        window_name: "primary",
        used_percent: hm >= 13 * 60 + 30 ? 88 : 40,
        resets_at: t(23),
      },
    ]);
    const outcome = await finishCycle({ store, config, clock, rules: config.rules, channels: [] });
    if (outcome.ruleErrors.length) throw new Error(`rule errors at ${at.toISOString()}: ${JSON.stringify(outcome.ruleErrors)}`);
    outcomes.set(at.toISOString().slice(11, 16), outcome);
  }
  return { store, config, outcomes };
}
