import { describe, expect, test } from "bun:test";
import type { Cockpit, OpportunityLine, PredictionLine } from "../../lib/index.ts";
import { eventFeed } from "../../lib/views/events.ts";
import { cycleLines, type WatchEvent } from "../../lib/watch.ts";
import { caam, caut, ntm } from "../../plugins/index.ts";
import type { OracleData } from "../../plugins/oracle/view.ts";
import type { Triage } from "../../lib/triage.ts";
import { agentsAt, oracleReplay, PER_AGENT, RESET, START } from "../helpers/oracle-replay.ts";
import { tempDir } from "../helpers/tmp.ts";

// A replayed morning (issue 14's check, test/helpers/oracle-replay.ts): two machines work on the
// claude account alice, a third claude account (bob) idles with headroom. The oracle must name the
// swap to bob, its time and its command before alice reaches her limit.
const replay = oracleReplay(tempDir("vc-oracle-live-"));

describe("the live oracle on a replayed morning", () => {
  test("vc robot oracle names the swap to the account with headroom, its time and its command, before the limit; the rule fires; prediction and opportunity events", async () => {
    const seen: { min: number; ttl: number | null; action: string }[] = [];
    await using vc = await replay(70, {
      each: async (vc, min) => {
        const r = (await vc.view("oracle", { account: "alice" })) as { data: OracleData };
        const f = r.data.accounts.find((a) => a.window === "primary");
        if (f) seen.push({ min, ttl: f.time_to_limit_min, action: f.action.kind });
      },
    });
    const env = (await vc.view("oracle", {})) as { data: OracleData; warnings: string[] };
    const alice = env.data.accounts.find((a) => a.key === "claude/alice@fleet.dev/primary")!;
    // Pooled: caut and caam on both machines, one account.
    expect(alice.sources).toEqual(["caam", "caut"]);
    expect(alice.machines).toEqual(["m1", "m2"]);
    expect(alice.active_on).toEqual(["m1", "m2"]);
    // The fleet signal: 5 agents on alice at 0.1 points per agent-minute.
    expect(alice.fleet_signal.used).toBe(true);
    expect(alice.working_agents).toBe(5);
    expect(alice.burn_per_agent_min!).toBeCloseTo(PER_AGENT, 1);
    expect(alice.burn_per_min).toBeCloseTo(0.5, 1);
    // At 70 min: 40 + 0.4×30 + 0.5×40 ≈ 72 % used (reads round), (100 − 72) / 0.5 ≈ 56 min to the limit, long before the 12:30 reset.
    expect(alice.used_percent).toBeGreaterThan(70);
    expect(alice.time_to_limit_min!).toBeGreaterThan(45);
    expect(alice.time_to_limit_min!).toBeLessThan(65);
    expect(alice.low_min!).toBeLessThan(alice.time_to_limit_min!);
    expect(alice.high_min!).toBeGreaterThan(alice.time_to_limit_min!);
    expect(Date.parse(alice.limit_at!)).toBeLessThan(Date.parse(RESET));
    expect(alice.action.kind).toBe("slow_down");
    expect(alice.action.target_burn_per_min!).toBeCloseTo((100 - alice.used_percent) / alice.to_reset_min!, 3);
    // The alternative: bob, same provider, with its command.
    expect(alice.alternatives[0]).toMatchObject({ account: "bob@fleet.dev", profile: "bob@fleet.dev", command: "caam activate claude bob@fleet.dev" });
    expect(alice.action.to?.command).toBe("caam activate claude bob@fleet.dev");
    expect(Date.parse(alice.best_swap_at!)).toBeLessThan(Date.parse(alice.limit_at!));
    // The first forecasts had under an hour of history; the action was never "continue" once the burn was seen.
    expect(seen.length).toBe(36);
    expect(seen.filter((x) => x.min >= 4).every((x) => x.action !== "continue")).toBe(true);
    // The rule fired with the swap as its first action.
    const alerts = await vc.alerts();
    const a = alerts.find((x) => x.rule === "account_limit_forecast");
    expect(a).toBeDefined();
    expect(a!.message).toContain("alice@fleet.dev reaches its primary limit in");
    expect(a!.actions[0]).toEqual({ title: "Do what the oracle says", command: "caam activate claude bob@fleet.dev" });
    expect(a!.labels).toEqual({ provider: "claude", account: "alice@fleet.dev", window_name: "primary" });
    // Triage: the forecast is an item, with the swap as its first command.
    const triage = (await vc.view("triage", {})) as { data: Triage };
    const item = triage.data.items.find((i) => i.id === a!.alert_id)!;
    expect(item.title).toBe("Account reaches its limit before the reset");
    expect(item.message).toContain("reaches its primary limit in");
    expect(triage.data.suggestions[item.id]![0]).toEqual({ title: "Do what the oracle says", command: "caam activate claude bob@fleet.dev" });
    // Events: the 60-minute crossing.
    const ev = (await vc.view("events", { source: ["prediction", "opportunity"], window: 7200 })) as { data: { events: { source: string; title: string; command?: string }[] } };
    const predictions = ev.data.events.filter((e) => e.source === "prediction");
    expect(predictions.some((e) => /limit in \d+ min/.test(e.title))).toBe(true);
  }, 120_000);

  test("nearer the limit: prepare_swap, then swap_now, with opportunity events naming bob, the time and the command; vc watch prints them as typed lines before the limit", async () => {
    const lines: WatchEvent[] = [];
    let feed: ReturnType<typeof eventFeed> | null = null;
    await using vc = await replay(120, {
      each: async (vc, _min, outcome) => {
        if (!feed) {
          // As `vc watch` does: what is there when it starts is no news.
          feed = eventFeed(vc);
          await feed.next();
          return;
        }
        lines.push(...(await cycleLines(outcome, feed)));
      },
    });
    const predictions = lines.filter((l): l is PredictionLine => l.type === "prediction");
    const opportunities = lines.filter((l): l is OpportunityLine => l.type === "opportunity");
    // 60, 30 and 10 minutes before the limit (about minute 120), each once, in that order, with the horizon.
    const crossings = predictions.filter((p) => p.event.title.startsWith("claude/alice@fleet.dev/primary")).map((p) => p.horizon_minutes);
    const within = (lo: number, hi: number) => crossings.filter((h) => h !== null && h > lo && h <= hi).length;
    expect(within(30, 60)).toBeGreaterThanOrEqual(1);
    expect(within(10, 30)).toBeGreaterThanOrEqual(1);
    expect(within(-1, 10)).toBeGreaterThanOrEqual(1);
    expect(predictions.every((p) => p.kind === "account_limit" && typeof p.confidence === "number")).toBe(true);
    // The swap: named, timed and with its command, while alice still had minutes left.
    expect(opportunities.length).toBeGreaterThan(0);
    const first = opportunities[0]!;
    expect(first.message).toMatch(/move claude work from alice@fleet\.dev to bob@fleet\.dev \(\d+ % headroom\) by \d\d:\d\d UTC/);
    expect(first.suggested[0]!.command).toBe("caam activate claude bob@fleet.dev");
    expect(Date.parse(first.at)).toBeLessThan(START + 118 * 60_000);
    const env = (await vc.view("oracle", { account: "alice" })) as { data: OracleData };
    const alice = env.data.accounts.find((a) => a.window === "primary")!;
    expect(["prepare_swap", "swap_now"]).toContain(alice.action.kind);
    expect(alice.action.text).toContain("caam activate claude bob@fleet.dev");
    expect(env.data.next?.command).toBe("caam activate claude bob@fleet.dev");
    const ev = (await vc.view("events", { source: ["opportunity"], window: 7200 })) as { data: { events: { title: string; command?: string }[] } };
    expect(ev.data.events.length).toBeGreaterThan(0);
    expect(ev.data.events[0]!.title).toMatch(/move claude work from alice@fleet\.dev to bob@fleet\.dev \(\d+ % headroom\) by \d\d:\d\d UTC/);
    expect(ev.data.events[0]!.command).toBe("caam activate claude bob@fleet.dev");
    // The predictions are scored once alice reaches her limit (minute 126) or her window resets — neither by minute 120.
    // Bob's primary window reset at minute 120 without reaching its limit: those are scored, each with the time to the reset as its outcome.
    const scored = await vc.store.query<{ target: string; reached_limit: boolean; outcome_min: number; to_reset_min: number }>(
      "SELECT target, reached_limit, outcome_min, to_reset_min FROM oracle_predictions WHERE scored_at IS NOT NULL",
    );
    expect(scored.filter((r) => r.target.startsWith("claude/alice")).length).toBe(0);
    expect(scored.length).toBeGreaterThan(0);
    expect(scored.every((r) => r.target === "claude/bob@fleet.dev/primary" && !r.reached_limit && r.outcome_min === r.to_reset_min)).toBe(true);
  }, 120_000);

  test("the alert resolves only when the forecast goes back to continue: the agents stop, the burn ends", async () => {
    const states: string[] = [];
    await using vc = await replay(96, {
      agents: (m, min) => (min >= 76 ? 0 : agentsAt(m, min)),
      each: async (vc) => {
        const a = (await vc.alerts({ all: true })).find((x) => x.rule === "account_limit_forecast");
        states.push(a?.state ?? "none");
      },
    });
    expect(states).toContain("firing");
    expect(states.at(-1)).toBe("resolved");
    const env = (await vc.view("oracle", { account: "alice" })) as { data: OracleData };
    const alice = env.data.accounts.find((a) => a.window === "primary")!;
    expect(alice.working_agents).toBe(0);
    expect(alice.action.kind).toBe("continue");
    expect(alice.time_to_limit_min).toBeNull();
  }, 120_000);

  test("forecasts kept and scored: once alice reaches her limit, each earlier prediction has its error and coverage, and the view reports them", async () => {
    await using vc = await replay(130);
    const rows = await vc.store.query<{ made_at: string; horizon_min: number | null; outcome_min: number; error_min: number; reached_limit: boolean; covered: boolean }>(
      "SELECT made_at::VARCHAR AS made_at, horizon_min, outcome_min, error_min, reached_limit, covered FROM oracle_predictions WHERE target = 'claude/alice@fleet.dev/primary' AND scored_at IS NOT NULL ORDER BY made_at",
    );
    expect(rows.length).toBeGreaterThan(40);
    expect(rows.every((r) => r.reached_limit)).toBe(true);
    // The outcome of the prediction made at minute 60 is the minutes from it to the first cycle seen at 100 %.
    const at60 = rows.find((r) => r.made_at === "2026-11-03 09:00:00")!;
    const [hit] = await vc.store.query<{ t: string }>(
      "SELECT min(made_at)::VARCHAR AS t FROM oracle_predictions WHERE target = 'claude/alice@fleet.dev/primary' AND used_percent >= 100",
    );
    expect(at60.outcome_min).toBe((Date.parse(`${hit!.t.replace(" ", "T")}Z`) - Date.parse("2026-11-03T09:00:00Z")) / 60_000);
    expect(at60.error_min).toBeCloseTo(Math.abs(at60.horizon_min! - at60.outcome_min), 6);
    const env = (await vc.view("oracle", {})) as { data: OracleData };
    expect(env.data.accuracy.n).toBe(await countScored(vc));
    expect(env.data.accuracy.mae_min).not.toBeNull();
    expect(env.data.accuracy.mae_min!).toBeLessThan(15);
    const alice = env.data.accounts.find((a) => a.key === "claude/alice@fleet.dev/primary")!;
    expect(alice.accuracy.n).toBe(rows.length);
    expect(alice.accuracy.coverage!).toBeGreaterThan(0.5);
    // Alice at her limit, bob with headroom: swap now.
    expect(alice.used_percent).toBe(100);
    expect(alice.action.kind).toBe("swap_now");
  }, 180_000);

  test("an account seen by caut only: forecast without caam's profile, alternatives without a command; no ntm: no fleet signal, said why", async () => {
    await using vc = await replay(20, { collectors: [caut({ history: false })] });
    const env = (await vc.view("oracle", {})) as { data: OracleData; warnings: string[] };
    const alice = env.data.accounts.find((a) => a.key === "claude/alice@fleet.dev/primary")!;
    expect(alice.sources).toEqual(["caut"]);
    expect(alice.profile).toBeNull();
    expect(alice.fleet_signal).toEqual({ used: false, reason: "no ntm data in the hours read (add ntm() or ntmAttention() to the collectors)" });
    expect(alice.uses_fleet_signal).toBe(false);
    expect(alice.burn_per_min).toBeGreaterThan(0);
    expect(env.warnings.some((w) => w.includes("without the fleet signal") && w.includes("no ntm data"))).toBe(true);
    expect(env.data.accounts.some((a) => a.account === "bob@fleet.dev")).toBe(false);
  }, 120_000);

  test("an account seen by caam only (and ntm without caam status is still tied, the provider's only account): the profile's series", async () => {
    await using vc = await replay(20, { collectors: [caam({ status: false }), ntm()] });
    const env = (await vc.view("oracle", {})) as { data: OracleData; warnings: string[] };
    const alice = env.data.accounts.find((a) => a.key === "claude/alice@fleet.dev/primary")!;
    expect(alice.sources).toEqual(["caam"]);
    expect(alice.profile).toBe("alice@fleet.dev");
    // Two claude accounts and no active profiles: ntm's agents cannot be tied to either.
    expect(alice.fleet_signal.used).toBe(false);
    expect(alice.fleet_signal.reason).toContain("caam's active profiles are unknown");
    expect(alice.alternatives[0]).toMatchObject({ account: "bob@fleet.dev", command: "caam activate claude bob@fleet.dev" });
  }, 120_000);

  test("bad input: an unknown machine is not_found with the closest id; an account nobody has is a warning", async () => {
    await using vc = await replay(0);
    await expect(vc.view("oracle", { machine: "m3" })).rejects.toThrow('no machine "m3" in test');
    const env = (await vc.view("oracle", { account: "carol" })) as { data: OracleData; warnings: string[] };
    expect(env.data.accounts).toEqual([]);
    expect(env.warnings).toContain('no account matches "carol" (vc robot accounts lists them)');
  }, 60_000);
});

async function countScored(vc: Cockpit) {
  const [r] = await vc.store.query<{ n: bigint }>("SELECT count(*) AS n FROM oracle_predictions WHERE scored_at IS NOT NULL");
  return Number(r!.n);
}
