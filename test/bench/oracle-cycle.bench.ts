// The oracle's share of one poll cycle's store work (health, rules, alerts, snapshots and the
// oracle's step) on the demo fleet — 20 machines × 30 days of system samples — with 8 hours of the
// traces' usage as caut saw it (each account from two machines), ntm's agent counts and caam's
// active profiles, so the oracle pools, joins and forecasts as it does live.
// (`bun run bench oracle` runs it after the backtest's figures, in its own process.)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDemoFleet } from "../../examples/demo-fleet.ts";
import { createFixedClock, finishCycle, openCockpit, resolveConfig } from "../../lib/index.ts";
import { caam, caut, defaultRules, ntm, sysprobe } from "../../plugins/index.ts";
import type { UsageSnapshot } from "../../plugins/oracle/model.ts";
import { recordForecasts } from "../../plugins/oracle/predictions.ts";

const snapshots: UsageSnapshot[] = (await Bun.file(join(import.meta.dir, "..", "fixtures", "oracle", "dev-traces.jsonl")).text())
  .split("\n")
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));
{
  const end = new Date(snapshots.at(-1)!.ts);
  const demoDir = mkdtempSync(join(tmpdir(), "vc-bench-oracle-fleet-"));
  try {
    const fleet = await createDemoFleet({ out: demoDir, machines: 20, days: 30, end, alerts: false });
    const config = await resolveConfig(
      { db: fleet.db, machines: fleet.machines.map((id) => ({ id, ssh: "local" })), collectors: [sysprobe(), caut(), caam(), ntm()], rules: defaultRules() },
      { source: "bench" },
    );
    const clock = createFixedClock(end);
    await using vc = await openCockpit({ config, clock });
    const from = end.getTime() - 8 * 3_600_000; // more than the oracle reads (3 h): what a live store holds
    const accounts = [...new Set(snapshots.map((s) => s.account))];
    const ts = (t: string) => t.replace("T", " ").replace("Z", "");
    const usage: Record<string, unknown>[] = [];
    const activity: Record<string, unknown>[] = [];
    const profiles: Record<string, unknown>[] = [];
    for (const s of snapshots) {
      const t = Date.parse(s.ts);
      if (t <= from) continue;
      const i = accounts.indexOf(s.account);
      for (const m of [fleet.machines[i]!, fleet.machines[(i + 4) % 20]!])
        usage.push({
          machine_id: m,
          collected_at: ts(s.ts),
          provider: "claude",
          account: s.account,
          window_name: "primary",
          used_percent: s.used_percent,
          window_minutes: s.window_minutes,
          resets_at: s.resets_at ? ts(s.resets_at) : null,
          source: "caut",
        });
      // The account's agents run on machine i, whose caam profile is the account.
      const m = fleet.machines[i]!;
      activity.push({
        machine_id: m,
        collected_at: ts(s.ts),
        total_agents: s.working_agents,
        by_type_json: JSON.stringify({ claude: s.working_agents }),
        by_state_json: JSON.stringify({ active: s.working_agents }),
        source: "ntm",
      });
      profiles.push({ machine_id: m, collected_at: ts(s.ts), tool: "claude", logged_in: true, active_profile: s.account, identity_email: s.account, source: "caam" });
    }
    await vc.store.transaction(async (tx) => {
      await tx.insert("account_usage_snapshots", usage);
      await tx.insert("ntm_activity_snapshot", activity);
      await tx.insert("account_profile_snapshots", profiles);
    });
    const at = end.toISOString();
    const cycle: number[] = [];
    const oracle: number[] = [];
    for (let i = 0; i < 5; i++) {
      clock.set(new Date(end.getTime() + i * 1000));
      let t0 = performance.now();
      await finishCycle({ store: vc.store, config: vc.config, clock, rules: vc.config.rules, channels: [] });
      cycle.push(performance.now() - t0);
      t0 = performance.now();
      const r = await recordForecasts(vc.store, at);
      oracle.push(performance.now() - t0);
      if (r.forecasts.length !== accounts.length) throw new Error(`expected ${accounts.length} forecasts, got ${r.forecasts.length}: ${r.warnings.join("; ")}`);
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `  oracle's share of a poll cycle (demo fleet: 20 machines x 30 days, ${accounts.length} accounts, ${usage.length} usage rows in 8 h): oracle step ${med(oracle).toFixed(0)} ms of a ${med(cycle).toFixed(0)} ms cycle = ${((100 * med(oracle)) / med(cycle)).toFixed(0)} % (the cycle includes the oracle step)`,
    );
  } finally {
    rmSync(demoDir, { recursive: true, force: true });
  }
}
