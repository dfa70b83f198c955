import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createFixedClock, finishCycle, type Cockpit } from "../../lib/index.ts";
import { vc as runVc } from "../helpers/cli.ts";
import { demoEnv, openDemoCockpit, writeDemoConfig } from "../helpers/demo.ts";
import { tempDir } from "../helpers/tmp.ts";
import { END, TOOLS_MACHINE, createTuiFleet } from "../tui/_fixture.ts";

// The time machine: every registered view answers --at T from what the store held at T. The test
// asks each view at moments inside the demo fleet's two days, then writes rows after T (samples,
// a disk filling, an alert firing and resolving, a dcg deny, account usage) and asks again: the
// answers as of T must not move. The present moves.
const dir = tempDir("vc-timemachine-");
let vc: Cockpit;
let config: string;
let env: Record<string, string>;
const LATER = new Date(END.getTime() + 10 * 60_000);

/** The arguments each view is asked with (a view the registry has but this map lacks fails the test). */
const ASK: Record<string, Record<string, unknown>> = {
  health: {},
  triage: { limit: 5 },
  machine: { id: TOOLS_MACHINE },
  machines: {},
  fleet: {},
  series: { machine: TOOLS_MACHINE, window: "6h", points: 20 },
  alerts: { all: true },
  events: { window: "24h" },
  accounts: {},
  oracle: {},
  repos: {},
  beads: {},
  attention: {},
  incidents: { state: "all" },
  guardian: { limit: 5 },
  audit: { limit: 20 },
};
/** Views whose arguments depend on the moment asked about. */
const askAt = (name: string, at: Date): Record<string, unknown> => (name === "diff" ? { from: new Date(at.getTime() - 3_600_000).toISOString() } : ASK[name]!);
const LIVE = ["search", "doctor"];

/** What may differ between two askings about the same moment: the moment they were asked. */
const stable = (x: unknown) => JSON.parse(JSON.stringify(x), (k, v) => (k === "generated_at" ? "…" : v));

beforeAll(async () => {
  const fleet = await createTuiFleet(dir, { machines: 3, days: 2 });
  config = writeDemoConfig(dir, fleet.db, ["node-01", "node-02", TOOLS_MACHINE]);
  env = demoEnv(dir, LATER);
  vc = await openDemoCockpit(config, env, LATER);
});
afterAll(async () => {
  await vc?.close();
});

const ts = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");

/** Rows collected after `after`: what must never reach an answer about a moment before it. */
async function writeLater(after: Date) {
  const t = ts(new Date(after.getTime() + 60_000));
  await vc.store.transaction(async (tx) => {
    await tx.run(`INSERT INTO sys_samples (machine_id, collected_at, source, cpu_total, cpu_cores, load1, load5, load15, mem_total_bytes, mem_used_bytes, mem_available_bytes, swap_total_bytes, swap_used_bytes)
      VALUES ('node-01', TIMESTAMP '${t}', 'sysprobe', 99.0, 8, 80, 80, 80, 16000000000, 15900000000, 100000000, 8000000000, 7900000000)
      ON CONFLICT DO NOTHING`);
    await tx.run(`INSERT INTO filesystems (machine_id, collected_at, source, mount, filesystem, fs_type, size_bytes, used_bytes, avail_bytes, used_pct)
      VALUES ('node-01', TIMESTAMP '${t}', 'sysprobe', '/', '/dev/sda1', 'ext4', 100000000000, 99900000000, 100000000, 99.9) ON CONFLICT DO NOTHING`);
    await tx.run(`INSERT INTO account_usage_snapshots (machine_id, collected_at, provider, account, window_name, used_percent, window_minutes, resets_at)
      VALUES ('${TOOLS_MACHINE}', TIMESTAMP '${t}', 'claude', 'later@fleet.dev', 'primary', 99, 300, TIMESTAMP '${ts(new Date(after.getTime() + 3_600_000))}') ON CONFLICT DO NOTHING`);
    // The newest collector run, after every T asked about, failed: collector_state now says so; as of T, the run records said otherwise.
    const run = ts(new Date(LATER.getTime() - 60_000));
    await tx.run(`INSERT INTO collector_state (machine_id, collector, last_run_at, last_result, last_ok_at, last_error, consecutive_failures)
      VALUES ('node-01', 'sysprobe', TIMESTAMP '${run}', 'failed', NULL, 'failed after T', 1)
      ON CONFLICT (machine_id, collector) DO UPDATE SET last_run_at = excluded.last_run_at, last_result = 'failed', last_error = 'failed after T'`);
    // …and its run record, as every run writes one.
    await tx.run(`INSERT INTO audit_events (event_id, ts, event_type, actor, machine_id, action, result, error)
      VALUES ('tm-run-${after.getTime()}', TIMESTAMP '${run}', 'collector_run', 'sysprobe', 'node-01', 'collect', 'failed', 'failed after T')`);
    await tx.run(`INSERT INTO alerts (alert_id, rule_id, alert_type, machine_id, labels_json, severity, title, state, first_seen_at, last_seen_at, fired_at, message, updated_at)
      VALUES ('late:1', 'late', 'late', 'node-01', '{"machine_id":"node-01"}', 'critical', 'Late', 'firing', TIMESTAMP '${t}', TIMESTAMP '${t}', TIMESTAMP '${t}', 'after T', TIMESTAMP '${t}')
      ON CONFLICT DO NOTHING`);
  });
}

describe("the time machine", () => {
  it("every registered view takes --at (the live ones refuse it, saying why)", () => {
    const names = vc.views.views.map((v) => v.name).sort();
    expect(names).toEqual([...Object.keys(ASK), "diff", ...LIVE].sort());
    for (const v of vc.views.views) expect(v.args.at?.kind).toBe("time");
  });

  for (const hoursBack of [30, 6, 0.25]) {
    it(`answers every view as of ${hoursBack} h before the end the same before and after rows collected later`, async () => {
      const at = new Date(END.getTime() - hoursBack * 3_600_000);
      const before: Record<string, unknown> = {};
      const names = [...Object.keys(ASK), "diff"];
      for (const name of names) {
        const r = await vc.view(name, { ...askAt(name, at), at: at.toISOString() });
        expect({ name, at: r.at }).toEqual({ name, at: at.toISOString() });
        before[name] = stable(r);
      }
      await writeLater(at);
      for (const name of names) {
        const r = await vc.view(name, { ...askAt(name, at), at: at.toISOString() });
        expect({ name, answer: stable(r) }).toEqual({ name, answer: before[name] });
      }
    }, 60_000);
  }

  it("health a day back: from the rows collected by then when no cycle ran then, saying so; near the end from the cycle's snapshot", async () => {
    const dayBack = await vc.view("health", { at: new Date(END.getTime() - 24 * 3_600_000).toISOString() });
    const data = dayBack.data as { snapshot_at: string | null; machines: { id: string }[] };
    expect(data.snapshot_at).toBeNull();
    expect(data.machines.map((m) => m.id).sort()).toEqual(["node-01", "node-02", TOOLS_MACHINE]);
    expect(dayBack.warnings[0]).toContain("no poll cycle saw the rows collected by");
    // A poll cycle at the end: its snapshot answers for that moment.
    await finishCycle({ store: vc.store, config: vc.config, clock: createFixedClock(END), rules: vc.config.rules, channels: [] });
    const recent = await vc.view("health", { at: END.toISOString() });
    expect((recent.data as { snapshot_at: string | null }).snapshot_at).toBe(END.toISOString());
    expect(recent.warnings.join("\n")).not.toContain("no poll cycle saw");
  });

  it("alerts as of then: an alert that fired later is absent; one that resolved later is still firing then", async () => {
    // The demo's alerts (rule0 … rule3) fired in its last 30 minutes: an hour before the end, none of them.
    const early = (await vc.view("alerts", { all: true, at: new Date(END.getTime() - 3_600_000).toISOString() })).data as { alerts: { rule: string }[] };
    expect(early.alerts.filter((a) => /^rule\d$/.test(a.rule))).toEqual([]);
    // The rules' own alerts (with their history) of a cycle at the end.
    await finishCycle({ store: vc.store, config: vc.config, clock: createFixedClock(END), rules: vc.config.rules, channels: [] });
    const firingThen = (await vc.view("alerts", { at: END.toISOString() })).data as { alerts: { alert_id: string; state: string; rule: string }[] };
    const fromRules = firingThen.alerts.filter((a) => vc.config.rules.some((r) => r.id === a.rule) && a.state !== "resolved");
    expect(fromRules.length).toBeGreaterThan(0);
    const id = fromRules[0]!.alert_id;
    // Resolve it after END: at END it still fires, now it does not.
    const t = ts(new Date(END.getTime() + 5 * 60_000));
    await vc.store.run(`UPDATE alerts SET state = 'resolved', resolved_at = TIMESTAMP '${t}', updated_at = TIMESTAMP '${t}' WHERE alert_id = '${id}'`);
    await vc.store.run(`INSERT INTO alert_history (event_id, alert_id, ts, rule_id, machine_id, event, from_state, to_state, notified)
      SELECT 'tm-resolve', alert_id, TIMESTAMP '${t}', rule_id, machine_id, 'resolved', 'firing', 'resolved', false FROM alerts WHERE alert_id = '${id}'`);
    const asThen = (await vc.view("alerts", { at: END.toISOString() })).data as { alerts: { alert_id: string; state: string; resolved_at: string | null }[] };
    expect(asThen.alerts.find((a) => a.alert_id === id)).toMatchObject({ state: fromRules[0]!.state, resolved_at: null });
    const now = (await vc.view("alerts", { all: true })).data as { alerts: { alert_id: string; state: string }[] };
    expect(now.alerts.find((a) => a.alert_id === id)!.state).toBe("resolved");
  });

  it("bad input: --at in the future, before the first row, on a live view, not a time: each a clear error", async () => {
    const err = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
      );
    expect(await err(vc.view("triage", { at: new Date(LATER.getTime() + 3_600_000).toISOString() }))).toEqual({
      code: "invalid_argument",
      message: `--at ${new Date(LATER.getTime() + 3_600_000).toISOString()} is in the future (now is ${LATER.toISOString()}): the time machine only goes back`,
    });
    const early = await err(vc.view("fleet", { at: "2020-01-01T00:00:00Z" }));
    expect(early?.code).toBe("not_found");
    expect(early?.message).toMatch(/^--at 2020-01-01T00:00:00.000Z is before the store's first row \(.+\): nothing was recorded then$/);
    expect(await err(vc.view("health", { at: "2020-01-01T00:00:00Z" }))).toMatchObject({ code: "not_found" });
    expect(await err(vc.view("search", { query: "x", at: END.toISOString() }))).toEqual({
      code: "invalid_argument",
      message: "--at: search asks each machine's session index now, so it has no past; drop --at",
    });
    expect(await err(vc.view("machines", { at: "yesterday" }))).toMatchObject({ code: "invalid_argument" });
  });

  it("through the CLI: vc robot triage --at prints the envelope with at; a bad --at is an error envelope and exit 2", async () => {
    const at = new Date(END.getTime() - 2 * 3_600_000).toISOString();
    await vc.close();
    try {
      const r = await runVc(["robot", "triage", "--at", at, "--config", config], { env });
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.schema_version).toBe("vc.robot.triage.v1");
      expect(out.at).toBe(at);
      const bad = await runVc(["robot", "triage", "--at", "2099-01-01T00:00:00Z", "--config", config], { env });
      expect(bad.code).toBe(2);
      expect(JSON.parse(bad.stdout).error.code).toBe("invalid_argument");
    } finally {
      vc = await openDemoCockpit(config, env, LATER);
    }
  }, 60_000);
});
