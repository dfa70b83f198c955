// rate_limit_recovery (issue 18 point 2): the real caam collector reads, every four minutes of a
// fixed clock, what `caam limits --format json` and `caam status --json` would print (caam's
// fixtures with the usage and active profiles of that moment) into a real store; the protocol's
// trigger reads the oracle's live forecast from it, its steps plan caam's real commands, and its
// verification re-reads the store after a later collection.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import {
  resolveConfig,
  type CommandStep,
  type GuardianTarget,
  type ProtocolContext,
  type ReadStep,
  type Step,
  type StepContext,
  type SuggestStep,
  type VcConfig,
} from "../../lib/index.ts";
import { createFakeMachine, createTestStore, runOnce } from "../../lib/testkit.ts";
import { accountsPlugin } from "../../plugins/accounts/index.ts";
import { RATE_LIMIT_THRESHOLD_PCT, rateLimitRecovery } from "../../plugins/accounts/protocols.ts";
import { caam } from "../../plugins/caam/index.ts";
import { tempDir } from "../helpers/tmp.ts";
import { caamLimits, caamStatus } from "../helpers/caam.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-protocols-accounts-");

const START = Date.parse("2026-11-03T08:00:00Z");
const STEP_MIN = 4;
const minute = (min: number) => new Date(START + min * 60_000);

/** One run of the real caam collector on machine `id` at `at`, printing those. */
async function collect(store: Awaited<ReturnType<typeof createTestStore>>, id: string, at: Date, used: Record<string, number>, active: string) {
  const m = createFakeMachine({ id, tools: { caam: { "limits --format json": JSON.stringify(caamLimits(at, used)), "status --json": JSON.stringify(caamStatus(active)) } } });
  try {
    const run = await runOnce({ store, collector: caam(), machine: m, clock: createFixedClock(at) });
    expect(run).toMatchObject({ result: "ok", warnings: [] });
  } finally {
    m.close();
  }
}

/**
 * 40 minutes of history: alice's account ("work", active on m1) burns half a point a minute from
 * `aliceFrom` %; bob's ("spare", active on m2) sits at `bob` %.
 */
async function morning(o: { aliceFrom: number; bob: number }) {
  const store = await createTestStore([caam()]);
  for (let min = 0; min <= 40; min += STEP_MIN) {
    const used = { work: o.aliceFrom + 0.5 * min, spare: o.bob };
    await collect(store, "m1", minute(min), used, "work");
    await collect(store, "m2", minute(min), used, "spare");
  }
  return store;
}

let config: VcConfig;
let busy: Awaited<ReturnType<typeof createTestStore>>;
let noSpare: Awaited<ReturnType<typeof createTestStore>>;
let healthy: Awaited<ReturnType<typeof createTestStore>>;
const AT = minute(40);

beforeAll(async () => {
  config = await resolveConfig(
    {
      db: join(dir, "unused.duckdb"),
      machines: [
        { id: "m1", ssh: "local", allow_autopilot: true, allow_write_commands: true },
        { id: "m2", ssh: "local" },
      ],
      collectors: [caam()],
    },
    { source: "test" },
  );
  [busy, noSpare, healthy] = await Promise.all([morning({ aliceFrom: 70, bob: 15 }), morning({ aliceFrom: 78, bob: 95 }), morning({ aliceFrom: 40, bob: 15 })]);
});
afterAll(async () => {
  await Promise.all([busy?.close(), noSpare?.close(), healthy?.close()]);
});

const step = <K extends Step["kind"]>(steps: readonly Step[] | undefined, name: string, kind: K) => {
  const s = steps?.find((x) => x.name === name);
  if (s?.kind !== kind) throw new Error(`no ${kind} step ${name}`);
  return s as Extract<Step, { kind: K }>;
};
const stepCtx = (base: ProtocolContext, target: GuardianTarget, facts = target.facts): StepContext => ({ ...base, target, facts });
/** Runs the diagnosis's reads as an engine would, gathering their facts onto the target's. */
async function diagnose(base: ProtocolContext, target: GuardianTarget) {
  let facts = { ...target.facts };
  for (const s of rateLimitRecovery.diagnosis) if (s.kind === "read") facts = { ...facts, ...((await (s as ReadStep).read(stepCtx(base, target, facts))) ?? {}) };
  return facts;
}

describe("rate_limit_recovery", () => {
  it("is contributed by the accounts plugin", () => {
    expect(accountsPlugin.protocols).toEqual([rateLimitRecovery]);
    expect(rateLimitRecovery.escalation.afterFailures).toBe(3);
  });

  it("finds the machine whose active caam profile is the account near its limit, with the swap to the account with headroom", async () => {
    const targets = await rateLimitRecovery.trigger.find({ store: busy, config, at: AT });
    // m2 works on bob's account: not a target.
    expect(targets.map((t) => [t.key, t.machine])).toEqual([["m1:claude/alice@fleet.dev", "m1"]]);
    const t = targets[0]!;
    expect(t.facts).toEqual({
      provider: "claude",
      account: "alice@fleet.dev",
      window: "primary",
      used_percent: 90,
      time_to_limit_min: expect.any(Number),
      limit_at: expect.any(String),
      resets_at: "2026-11-03T12:30:00.000Z",
      action: "prepare_swap",
      action_text: expect.stringContaining("caam activate claude spare"),
      confidence_level: expect.any(String),
      from_profile: "work",
      to_account: "bob@fleet.dev",
      to_profile: "spare",
      to_headroom_percent: 80, // its weekly window is the busier: 20 %
      threshold_percent: RATE_LIMIT_THRESHOLD_PCT,
      found_at: AT.toISOString(),
    });
    // 10 points left at half a point a minute.
    expect(t.facts.time_to_limit_min as number).toBeCloseTo(20, 0);
    expect(t.title).toBe("claude/alice@fleet.dev on m1: 90 % of its primary window, limit in 20 min; swap to bob@fleet.dev (80 % headroom)");
  });

  it("diagnoses from the forecast and the alternatives, and plans caam limits read-only with its parse of caam's JSON", async () => {
    const base = { store: busy, config, at: AT };
    const [t] = await rateLimitRecovery.trigger.find(base);
    const facts = await diagnose(base, t!);
    expect(facts).toMatchObject({
      forecast_found: true,
      burn_per_min: 0.5,
      used_percent_now: 90,
      action_now: "prepare_swap",
      current_profile_now: "work",
      alternatives: [{ account: "bob@fleet.dev", profile: "spare", used_percent: 20, headroom_percent: 80 }],
      best_account_now: "bob@fleet.dev",
      best_profile_now: "spare",
    });
    const limitsStep = step(rateLimitRecovery.diagnosis, "caam_limits", "command");
    expect(limitsStep.writes).toBe(false);
    expect(limitsStep.command(stepCtx(base, t!, facts))).toEqual({ argv: ["caam", "limits", "claude", "--format", "json"] });
    const live = limitsStep.parse!(JSON.stringify(caamLimits(AT, { work: 90.5, spare: 16 })), stepCtx(base, t!, facts));
    expect(live).toMatchObject({ live_from_used_percent: 90.5, live_to_used_percent: 20 });
    expect((live!.live_limits as unknown[]).length).toBe(4);
    expect(limitsStep.parse!("Error: no vault", stepCtx(base, t!, facts))).toEqual({ live_limits_error: expect.stringContaining("caam limits printed no JSON") });
  });

  it("treats with `caam activate claude spare` (advice for the throttle), skipped at run time when the swap is no longer wanted", async () => {
    const base = { store: busy, config, at: AT };
    const [t] = await rateLimitRecovery.trigger.find(base);
    const facts = await diagnose(base, t!);
    const ctx = stepCtx(base, t!, facts);
    const activate = step(rateLimitRecovery.treatment, "activate", "command");
    expect(activate.writes).toBe(true);
    expect(activate.command(ctx)).toEqual({ argv: ["caam", "activate", "claude", "spare"] });
    expect(activate.when!(ctx)).toBeNull();
    expect(activate.when!(stepCtx(base, t!, { ...facts, live_to_used_percent: 92 }))).toBe("caam limits shows spare at 92 % now: no healthier than alice@fleet.dev");
    expect(activate.when!(stepCtx(base, t!, { ...facts, current_profile_now: "spare" }))).toBe("m1's claude uses spare now, not work: someone swapped already");
    // The throttle is a suggestion: caam has no such command.
    expect(step(rateLimitRecovery.treatment, "gradual_throttle", "suggest").suggest(ctx)).toMatch(
      /^caam has no throttle: to slow claude\/alice@fleet.dev \(30 points\/hour now, limit in 20 min\)/,
    );
    expect(step(rateLimitRecovery.treatment, "prepare_swap", "suggest").suggest(ctx)).toBe(
      "swap m1's claude from work (alice@fleet.dev, 90 %) to spare (bob@fleet.dev, 80 % headroom): caam activate claude spare",
    );
    expect(rateLimitRecovery.treatment.filter((s): s is CommandStep => s.kind === "command").map((s) => s.command(ctx)?.argv)).toEqual([["caam", "activate", "claude", "spare"]]);
    // The rollback activates the profile the machine had.
    expect(step(rateLimitRecovery.rollback, "activate_previous", "command").command(ctx)).toEqual({ argv: ["caam", "activate", "claude", "work"] });
    expect(rateLimitRecovery.escalation.immediate!(ctx)).toBeNull();
  });

  it("verifies after a fresh collection: the machine's claude on spare, below 85 %", async () => {
    const [t] = await rateLimitRecovery.trigger.find({ store: busy, config, at: AT });
    const check = (at: Date) => rateLimitRecovery.verification.check(stepCtx({ store: busy, config, at }, t!));
    expect(await check(AT)).toEqual({ ok: false, detail: "m1's claude profile is work, not spare" });
    // caam activate ran on m1: its next caam status shows spare.
    await collect(busy, "m1", minute(42), { work: 91, spare: 15 }, "spare");
    expect(await check(minute(42))).toEqual({ ok: true, detail: "m1's claude uses spare now, at 20 % (below 85 %)" });
    // Had spare filled up meanwhile, the new account is not healthy.
    await collect(busy, "m1", minute(44), { work: 91, spare: 88 }, "spare");
    expect(await check(minute(44))).toEqual({ ok: false, detail: "m1's claude uses spare now, but it is at 88 % (85 % or more)" });
  });

  it("with no account to swap to: no command, advice, and an immediate escalation as the limit comes", async () => {
    const base = { store: noSpare, config, at: AT };
    const targets = await rateLimitRecovery.trigger.find(base);
    // bob's account, at 95 %, is near its limit too: m2 is a target, with alice's as no alternative either.
    expect(targets.map((t) => [t.key, t.facts.to_profile])).toEqual([
      ["m1:claude/alice@fleet.dev", null],
      ["m2:claude/bob@fleet.dev", null],
    ]);
    const t = targets[0]!;
    expect(t.facts).toMatchObject({ used_percent: 98, action: "emergency_pause", from_profile: "work", to_account: null, to_profile: null, to_headroom_percent: null });
    expect(t.title).toBe("claude/alice@fleet.dev on m1: 98 % of its primary window, limit in 4 min; no claude account has headroom");
    const ctx = stepCtx(base, t, await diagnose(base, t));
    const commands = [...rateLimitRecovery.treatment, ...rateLimitRecovery.rollback].filter((s): s is CommandStep => s.kind === "command");
    expect(commands.map((s) => s.command(ctx))).toEqual([null, null]);
    expect((step(rateLimitRecovery.treatment, "prepare_swap", "suggest") as SuggestStep).suggest(ctx)).toBe(
      "no claude account has headroom to swap to: pause the agents on alice@fleet.dev on m1 until its primary window resets (2026-11-03T12:30:00.000Z), or add an account to caam",
    );
    expect(rateLimitRecovery.escalation.immediate!(ctx)).toBe("claude/alice@fleet.dev reaches its limit in 4 min and no claude account has headroom");
    expect(await rateLimitRecovery.verification.check(ctx)).toEqual({ ok: false, detail: "no claude account had headroom: nothing was swapped on m1" });
  });

  it("finds nothing on a healthy store (60 %, an hour and more to the limit)", async () => {
    expect(await rateLimitRecovery.trigger.find({ store: healthy, config, at: AT })).toEqual([]);
  });
});
