// Healing protocol rate_limit_recovery (plan §6.3, the §8.4 "account near limit" playbook): when
// the oracle's live forecast says an account should be swapped soon or now, or it is 85 % used,
// each machine whose active caam profile is that account is moved to the best other account of
// the provider with `caam activate <tool> <profile>` (caam's real command: cmd/caam/cmd/activate.go),
// and the run is verified when that machine's next caam status shows the new profile, below 85 %.
// caam has no throttle: the seed's "gradual throttle" is advice for a person, never a command.
import {
  commandStep,
  defineProtocol,
  errorMessage,
  isMissingTable,
  isoTime,
  minus,
  readStep,
  sql,
  suggestStep,
  type GuardianTarget,
  type Store,
  type StepContext,
} from "vibe-cockpit";
import { limitsRows } from "../caam/parse.ts";
import { accountForecasts, bestAlternative, type AccountForecast } from "../oracle/accounts.ts";

/** Usage (percent of a window) at which an account is near its limit, and under which the new one counts as healthy. */
export const RATE_LIMIT_THRESHOLD_PCT = 85;
/** A machine's caam status older than this says nothing about the profile it uses now. */
const ACTIVE_FRESH_MS = 30 * 60_000;
const WINDOWS = ["primary", "secondary", "tertiary"];

/** What a rate_limit_recovery target carries (its `facts`). */
export interface RateLimitFacts {
  provider: string;
  account: string;
  /** The window that triggered (the most urgent of the account's). */
  window: string;
  used_percent: number;
  /** Minutes to the limit at the current burn (null: not before the window resets). */
  time_to_limit_min: number | null;
  limit_at: string | null;
  resets_at: string | null;
  /** The oracle's action for the account, and its sentence. */
  action: AccountForecast["action"]["kind"];
  action_text: string;
  confidence_level: AccountForecast["confidence_level"];
  /** The machine's active caam profile now (what the rollback activates again). */
  from_profile: string;
  /** The best alternative account and its caam profile (null: none of the provider's accounts has headroom). */
  to_account: string | null;
  to_profile: string | null;
  to_headroom_percent: number | null;
  threshold_percent: number;
  found_at: string;
}

type ActiveRow = { machine_id: string; tool: string; active_profile: string; identity_email: string | null; collected_at: unknown };

/** Each machine's newest active caam profile per tool, at or before `at` and fresh. */
async function activeProfiles(store: Store, at: string, machineId?: string): Promise<ActiveRow[]> {
  const mine = machineId === undefined ? sql`` : sql` AND machine_id = ${machineId}`;
  try {
    return await store
      .query<ActiveRow>(
        sql`SELECT machine_id, tool, active_profile, identity_email, collected_at FROM account_profile_snapshots
          WHERE collected_at <= ${at}::TIMESTAMP AND collected_at > ${minus(at, ACTIVE_FRESH_MS)}::TIMESTAMP${mine}
          QUALIFY row_number() OVER (PARTITION BY machine_id, tool ORDER BY collected_at DESC) = 1`,
      )
      .then((rows) => rows.filter((r) => r.active_profile));
  } catch (err) {
    if (isMissingTable(err)) return [];
    throw err;
  }
}

/** Whether a machine's active profile is the forecast's account (by caam's identity, the profile, or the account's own name). */
const uses = (r: ActiveRow, f: Pick<AccountForecast, "provider" | "account" | "profile">) =>
  r.tool === f.provider && (r.identity_email === f.account || r.active_profile === f.profile || r.active_profile === f.account);

/** The oracle says to swap soon or now, or that no account is left, or the window is 85 % used. */
const nearLimit = (f: AccountForecast, at: number) =>
  (f.resets_at === null || Date.parse(f.resets_at) > at) &&
  (f.action.kind === "prepare_swap" || f.action.kind === "swap_now" || f.action.kind === "emergency_pause" || f.used_percent >= RATE_LIMIT_THRESHOLD_PCT);

const facts = (ctx: { facts: unknown }) => ctx.facts as RateLimitFacts & Record<string, unknown>;
const planned = (ctx: StepContext) => ctx.target.facts as unknown as RateLimitFacts;
const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
const minutes = (x: number | null) => (x === null ? "not before its reset" : `in ${Math.round(x)} min`);

/** The account's forecasts now, the most urgent window first. */
async function forecastsOf(ctx: StepContext): Promise<AccountForecast[]> {
  const f = planned(ctx);
  const { forecasts } = await accountForecasts(ctx.store, ctx.at.toISOString(), { account: `${f.provider}/${f.account}` });
  return forecasts.filter((x) => x.provider === f.provider && x.account === f.account);
}

/** The newest usage (highest window) of a profile in one machine's caam limits, at or before `at`. */
async function profileUsage(store: Store, machine: string, provider: string, profile: string, at: string): Promise<{ used: number; collected_at: string } | null> {
  const [r] = await store.query<{ used: number | null; collected_at: unknown }>(
    sql`SELECT max(utilization_pct) AS used, collected_at FROM account_limits_snapshot
        WHERE machine_id = ${machine} AND provider = ${provider} AND profile = ${profile} AND collected_at <= ${at}::TIMESTAMP
          AND window_name IN (${sql.join(WINDOWS.map((w) => sql`${w}`))})
        GROUP BY collected_at ORDER BY collected_at DESC LIMIT 1`,
  );
  return r && r.used !== null ? { used: Number(r.used), collected_at: isoTime(r.collected_at) ?? String(r.collected_at) } : null;
}

/**
 * rate_limit_recovery: an account near its limit, per machine using it. Targets carry
 * {@link RateLimitFacts}; the treatment's one command is `caam activate <provider> <to_profile>`
 * (none when no account has headroom: then advice, and an immediate escalation at the limit).
 */
export const rateLimitRecovery = defineProtocol({
  name: "rate_limit_recovery",
  summary: "Move the machines on an account near its limit to the provider's account with the most headroom (caam activate), and back if the new one is not healthy",
  trigger: {
    describe: `the oracle's forecast says prepare_swap, swap_now or emergency_pause, or a window is ${RATE_LIMIT_THRESHOLD_PCT} % used or more: one target per machine whose active caam profile is the account`,
    async find({ store, at }) {
      const atIso = at.toISOString();
      const { forecasts } = await accountForecasts(store, atIso);
      // Forecasts come soonest limit first: the first near one is the account's most urgent window.
      const due = new Map<string, AccountForecast>();
      for (const f of forecasts) if (nearLimit(f, at.getTime()) && !due.has(`${f.provider}/${f.account}`)) due.set(`${f.provider}/${f.account}`, f);
      if (due.size === 0) return [];
      const active = await activeProfiles(store, atIso);
      const targets: GuardianTarget[] = [];
      for (const f of due.values()) {
        const to = f.action.to ?? bestAlternative(f.alternatives);
        for (const r of active.filter((x) => uses(x, f)).sort((a, b) => a.machine_id.localeCompare(b.machine_id))) {
          const t: RateLimitFacts = {
            provider: f.provider,
            account: f.account,
            window: f.window,
            used_percent: round(f.used_percent)!,
            time_to_limit_min: round(f.time_to_limit_min),
            limit_at: f.limit_at,
            resets_at: f.resets_at,
            action: f.action.kind,
            action_text: f.action.text,
            confidence_level: f.confidence_level,
            from_profile: r.active_profile,
            to_account: to?.account ?? null,
            to_profile: to?.profile ?? null,
            to_headroom_percent: to ? round(to.headroom_percent) : null,
            threshold_percent: RATE_LIMIT_THRESHOLD_PCT,
            found_at: atIso,
          };
          targets.push({
            key: `${r.machine_id}:${f.provider}/${f.account}`,
            machine: r.machine_id,
            title: `${f.provider}/${f.account} on ${r.machine_id}: ${Math.round(f.used_percent)} % of its ${f.window} window, limit ${minutes(f.time_to_limit_min)}; ${
              to ? `swap to ${to.account} (${Math.round(to.headroom_percent)} % headroom)` : `no ${f.provider} account has headroom`
            }`,
            facts: { ...t },
          });
        }
      }
      return targets;
    },
  },
  diagnosis: [
    readStep("velocity_forecast", async (ctx) => {
      const list = await forecastsOf(ctx);
      const f = list[0];
      const [now] = await activeProfiles(ctx.store, ctx.at.toISOString(), ctx.target.machine).then((rows) => rows.filter((r) => r.tool === planned(ctx).provider));
      if (!f) return { forecast_found: false, current_profile_now: now?.active_profile ?? null };
      return {
        forecast_found: true,
        burn_per_min: round(f.burn_per_min),
        burn_per_agent_min: f.burn_per_agent_min,
        working_agents: f.working_agents,
        used_percent_now: round(Math.max(...list.map((x) => x.used_percent))),
        time_to_limit_now_min: round(f.time_to_limit_min),
        interval_min: [round(f.low_min), round(f.high_min)],
        to_reset_min: round(f.to_reset_min),
        target_burn_per_min: f.action.target_burn_per_min,
        action_now: f.action.kind,
        current_profile_now: now?.active_profile ?? null,
      };
    }),
    readStep("alternatives", async (ctx) => {
      const f = (await forecastsOf(ctx))[0];
      if (!f) return { alternatives: [] };
      const best = bestAlternative(f.alternatives);
      return {
        alternatives: f.alternatives.map((a) => ({
          account: a.account,
          profile: a.profile,
          used_percent: round(a.used_percent),
          headroom_percent: round(a.headroom_percent),
          resets_at: a.resets_at,
          time_to_limit_min: round(a.time_to_limit_min),
        })),
        best_account_now: best?.account ?? null,
        best_profile_now: best?.profile ?? null,
      };
    }),
    commandStep("caam_limits", {
      writes: false,
      timeoutMs: 90_000, // caam asks each provider's API (its own limit is 60 s)
      command: (ctx) => ({ argv: ["caam", "limits", planned(ctx).provider, "--format", "json"] }),
      parse(stdout, ctx) {
        const f = planned(ctx);
        let raw: unknown;
        try {
          raw = JSON.parse(stdout);
        } catch (err) {
          return { live_limits_error: `caam limits printed no JSON: ${errorMessage(err).slice(0, 200)}` };
        }
        if (!Array.isArray(raw)) return { live_limits_error: "caam limits printed no JSON array" };
        const warnings: string[] = [];
        const { windows } = limitsRows(raw, (w) => warnings.push(w));
        const mine = windows.filter((w) => w.provider === f.provider && WINDOWS.includes(String(w.window_name)));
        const highest = (profile: string | null) => {
          const u = mine.filter((w) => w.profile === profile).map((w) => Number(w.utilization_pct));
          return u.length ? round(Math.max(...u)) : null;
        };
        return {
          live_limits: mine.map((w) => ({ profile: w.profile, window: w.window_name, used_percent: round(Number(w.utilization_pct)), resets_at: w.resets_at })),
          live_from_used_percent: highest(f.from_profile),
          live_to_used_percent: highest(f.to_profile),
          ...(warnings.length ? { live_limits_warnings: warnings.slice(0, 5) } : {}),
        };
      },
    }),
  ],
  treatment: [
    suggestStep("gradual_throttle", (ctx) => {
      const f = facts(ctx);
      const burn = typeof f.burn_per_min === "number" ? f.burn_per_min : null;
      const ttl = typeof f.time_to_limit_now_min === "number" ? f.time_to_limit_now_min : f.time_to_limit_min;
      if (ttl === null || burn === null || burn <= 0) return null;
      const target = typeof f.target_burn_per_min === "number" ? f.target_burn_per_min : null;
      const agents = typeof f.working_agents === "number" ? Math.round(f.working_agents) : null;
      const keep = target !== null && agents ? Math.max(0, Math.floor((agents * target) / burn)) : null;
      return `caam has no throttle: to slow ${f.provider}/${f.account} (${round(burn * 60)} points/hour now, limit in ${Math.round(ttl)} min)${
        target !== null ? ` to ${round(target * 60)} points/hour, which lasts until its window resets` : ""
      }, pause agents working on it${keep !== null && agents ? ` (keep ${keep} of ${agents})` : ""} (ntm interrupt), or move work to another account`;
    }),
    suggestStep("prepare_swap", (ctx) => {
      const f = planned(ctx);
      if (!f.to_profile)
        return `no ${f.provider} account has headroom to swap to: pause the agents on ${f.account} on ${ctx.target.machine} until its ${f.window} window resets${f.resets_at ? ` (${f.resets_at})` : ""}, or add an account to caam`;
      return `swap ${ctx.target.machine}'s ${f.provider} from ${f.from_profile} (${f.account}, ${Math.round(f.used_percent)} %) to ${f.to_profile} (${f.to_account}, ${Math.round(f.to_headroom_percent ?? 0)} % headroom): caam activate ${f.provider} ${f.to_profile}`;
    }),
    commandStep("activate", {
      writes: true,
      command: (ctx) => {
        const f = planned(ctx);
        return f.to_profile ? { argv: ["caam", "activate", f.provider, f.to_profile] } : null;
      },
      when(ctx) {
        const f = facts(ctx);
        if (typeof f.current_profile_now === "string" && f.current_profile_now !== f.from_profile)
          return `${ctx.target.machine}'s ${f.provider} uses ${f.current_profile_now} now, not ${f.from_profile}: someone swapped already`;
        if (typeof f.live_to_used_percent === "number" && f.live_to_used_percent >= RATE_LIMIT_THRESHOLD_PCT)
          return `caam limits shows ${f.to_profile} at ${f.live_to_used_percent} % now: no healthier than ${f.account}`;
        if (f.forecast_found === true && f.action_now === "continue" && typeof f.used_percent_now === "number" && f.used_percent_now < RATE_LIMIT_THRESHOLD_PCT)
          return `${f.provider}/${f.account} is at ${f.used_percent_now} % and lasts until its window resets: no swap needed any more`;
        return null;
      },
    }),
  ],
  verification: {
    describe: `the machine's active caam profile is the new one and its usage is below ${RATE_LIMIT_THRESHOLD_PCT} % (new account healthy)`,
    withinSeconds: 600,
    everySeconds: 120,
    async check(ctx) {
      const f = planned(ctx);
      const m = ctx.target.machine;
      if (!f.to_profile) return { ok: false, detail: `no ${f.provider} account had headroom: nothing was swapped on ${m}` };
      const at = ctx.at.toISOString();
      const [now] = (await activeProfiles(ctx.store, at, m)).filter((r) => r.tool === f.provider);
      if (!now) return { ok: false, detail: `no fresh caam status from ${m} for ${f.provider}` };
      if (now.active_profile !== f.to_profile) return { ok: false, detail: `${m}'s ${f.provider} profile is ${now.active_profile}, not ${f.to_profile}` };
      const u = await profileUsage(ctx.store, m, f.provider, f.to_profile, at);
      if (!u) return { ok: false, detail: `${m}'s ${f.provider} uses ${f.to_profile}, but its caam limits show no usage of it` };
      return u.used < RATE_LIMIT_THRESHOLD_PCT
        ? { ok: true, detail: `${m}'s ${f.provider} uses ${f.to_profile} now, at ${round(u.used)} % (below ${RATE_LIMIT_THRESHOLD_PCT} %)` }
        : { ok: false, detail: `${m}'s ${f.provider} uses ${f.to_profile} now, but it is at ${round(u.used)} % (${RATE_LIMIT_THRESHOLD_PCT} % or more)` };
    },
  },
  rollback: [
    commandStep("activate_previous", {
      writes: true,
      command: (ctx) => {
        const f = planned(ctx);
        return f.to_profile ? { argv: ["caam", "activate", f.provider, f.from_profile] } : null;
      },
    }),
  ],
  escalation: {
    describe: "after 3 failed runs on the machine's account within a day: alert a person; at once when the account is at its limit and no account has headroom",
    afterFailures: 3,
    immediate(ctx) {
      const f = planned(ctx);
      if (f.to_profile) return null;
      if (f.used_percent >= 100) return `${f.provider}/${f.account} is at its limit on ${ctx.target.machine} and no ${f.provider} account has headroom`;
      if (f.action === "emergency_pause") return `${f.provider}/${f.account} reaches its limit ${minutes(f.time_to_limit_min)} and no ${f.provider} account has headroom`;
      return null;
    },
  },
});
