// The live rate-limit oracle (issue 14, seed §6.2 RateLimitForecast): for each (provider, account,
// window) of the fleet, one series pooled from every machine's caut usage and caam limits (one
// account seen from many machines is counted once), the agents working on it now (ntm's agents of
// that provider on machines whose active caam profile is this account), and the forecast of the
// same AccountOracle that `vc oracle backtest` runs. Then what to do: continue, slow down to a
// target burn, prepare a swap, swap now to a named account (with its `caam activate` command), or
// pause when no account of the provider has headroom.
import { errorMessage, isMissingTable, isoTime, sql, type Store } from "vibe-cockpit";
import { AccountOracle, type OracleForecast, type UsageSnapshot } from "./model.ts";

/** How far back the series are read: the burn's memory (half-life 20 min) fades to 0.2 % in 3 hours. */
export const HISTORY_MS = 3 * 3_600_000;
/** ntm or caam data older than this (at a snapshot) says nothing about that moment. */
const FRESH_MS = 15 * 60_000;
/** Snapshots of one account from two machines closer than this are one observation. */
const SAME_MS = 60_000;
/** A drop smaller than this (points), with the same reset time, is two machines' jitter, not a reset. */
const JITTER_PCT = 3;
/** Why an account with agents known (none of them on it) has no burn per agent. */
export const IDLE = "no agent has worked on it in the hours read: the burn over time instead";
/** Swap this long before the earliest plausible limit. */
const SWAP_MARGIN_MIN = 5;
/** An alternative needs at least this much headroom (points) in every window. */
const MIN_HEADROOM_PCT = 10;
const WINDOWS = ["primary", "secondary", "tertiary"];

/** ntm's agent type words for a provider (ntm prints claude / codex / gemini; its short names too). */
const PROVIDER_OF: Record<string, string> = { cc: "claude", "claude-code": "claude", cod: "codex", gmi: "gemini" };
export const providerOf = (agentType: string | null) => {
  const t = (agentType ?? "").toLowerCase();
  return PROVIDER_OF[t] ?? t;
};
/** ntm's words for an agent at work (the attention feed's states). */
export const WORKING_STATES = ["active", "busy", "working", "thinking", "running", "compacting", "generating"];

export type ActionKind = "continue" | "slow_down" | "prepare_swap" | "swap_now" | "emergency_pause";

export interface Alternative {
  provider: string;
  /** The account (email) when known, else the caam profile's name. */
  account: string;
  /** The caam profile to activate; null when caam has no profile for it. */
  profile: string | null;
  /** The highest usage over its windows, and 100 minus it. */
  used_percent: number;
  headroom_percent: number;
  /** Its busiest window's reset. */
  resets_at: string | null;
  /** Its own forecast: minutes to its limit at its current burn (null: not before its reset). */
  time_to_limit_min: number | null;
  /** The command that switches a machine's tool to it (run on the machine). */
  command: string | null;
}

export interface OracleAction {
  kind: ActionKind;
  /** One line a person reads. */
  text: string;
  /** slow_down: the burn (points per minute) that lasts until the reset. */
  target_burn_per_min: number | null;
  /** prepare_swap: swap in this many minutes; swap_now: 0. */
  swap_in_min: number | null;
  /** The account to swap to (the best alternative), with its command. */
  to: Alternative | null;
}

export interface AccountForecast extends Omit<OracleForecast, "action" | "account" | "ts"> {
  /** `provider/account/window`: one forecast per account window. */
  key: string;
  provider: string;
  account: string;
  window: string;
  /** The caam profile this account is, when caam knows it. */
  profile: string | null;
  /** Where the series came from, and the machines that saw it. */
  sources: ("caut" | "caam")[];
  machines: string[];
  /** Machines whose active caam profile for the provider is this account now. */
  active_on: string[];
  window_minutes: number | null;
  resets_at: string | null;
  /** The newest snapshot, and how old it is at the forecast's instant. */
  as_of: string;
  staleness_s: number;
  /** When the limit comes (null: not before the reset), from the forecast's instant. */
  limit_at: string | null;
  /** Confidence 0..1, and its level with why. */
  confidence: number;
  confidence_level: "low" | "medium" | "high";
  confidence_reasons: string[];
  /** The fleet signal: whether it was used, and why not when not. */
  fleet_signal: { used: boolean; reason: string | null };
  action: OracleAction;
  /** The latest sensible moment to swap: before the earliest plausible limit (null: no swap needed). */
  best_swap_at: string | null;
  alternatives: Alternative[];
  samples: number;
}

export interface AccountForecastOptions {
  /** Only accounts whose provider/account contains this. */
  account?: string;
  /** Only accounts this machine uses or sees. */
  machineId?: string;
}

type Obs = { t: number; u: number; resetsAt: string | null; windowMin: number | null; machine: string; source: "caut" | "caam" };
type Series = { provider: string; account: string; window: string; profile: string | null; obs: Obs[] };

const ms = (v: unknown) => {
  const s = isoTime(v);
  return s === null ? Number.NaN : Date.parse(s);
};
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const iso = (t: number) => new Date(t).toISOString();

async function tryQuery<T>(store: Store, q: ReturnType<typeof sql>, missing: string, warnings: string[]): Promise<T[] | null> {
  try {
    return await store.query<T>(q);
  } catch (err) {
    // A tool this store has no table for is no data; any other failure is said.
    if (isMissingTable(err)) return null;
    warnings.push(`${missing}: ${errorMessage(err).split("\n")[0]}`);
    return null;
  }
}

/** Per machine and provider tool: which caam profile (and identity) was active when. */
type ActiveRow = { machine_id: string; collected_at: unknown; tool: string; active_profile: string | null; identity_email: string | null };
/** Per machine, provider and collection: how many agents were working. */
type WorkingRow = { machine_id: string; collected_at: unknown; provider: string; working: number };

/** The newest row at or before `t` (rows sorted by time), within FRESH_MS. */
function latestAt<R extends { t: number }>(rows: readonly R[], t: number): R | null {
  let lo = 0;
  let hi = rows.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.t <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const r = found >= 0 ? rows[found]! : null;
  return r && t - r.t <= FRESH_MS ? r : null;
}

/** Working agents per machine and provider from ntm: the attention feed's states, else the legacy per-agent rows, else the summary's counts. */
async function loadWorking(store: Store, from: string, at: string, warnings: string[]): Promise<WorkingRow[] | null> {
  const win = (col: string) => sql`${sql.raw(col)} > ${from}::TIMESTAMP AND ${sql.raw(col)} <= ${at}::TIMESTAMP`;
  const words = sql.join(WORKING_STATES.map((w) => sql`${w}`));
  const states = await tryQuery<WorkingRow & { agent_type: string }>(
    store,
    sql`SELECT machine_id, collected_at, agent_type, count(*) FILTER (WHERE lower(state) IN (${words}))::INTEGER AS working
        FROM ntm_agent_states WHERE ${win("collected_at")} GROUP BY ALL`,
    "ntm_attention's agent states not read",
    warnings,
  );
  const legacy = await tryQuery<WorkingRow & { agent_type: string }>(
    store,
    sql`SELECT machine_id, collected_at, agent_type, count(*) FILTER (WHERE is_active)::INTEGER AS working
        FROM ntm_agents_snapshot WHERE ${win("collected_at")} GROUP BY ALL`,
    "ntm's agents not read",
    warnings,
  );
  // The summary counts agents by type and by state, not both: the working share of each type is the fleet's.
  const summary = await tryQuery<{ machine_id: string; collected_at: unknown; by_type_json: unknown; by_state_json: unknown }>(
    store,
    sql`SELECT machine_id, collected_at, by_type_json, by_state_json FROM ntm_activity_snapshot WHERE ${win("collected_at")} AND by_type_json IS NOT NULL`,
    "ntm's activity not read",
    warnings,
  );
  if (states === null && legacy === null && summary === null) return null;
  const out: WorkingRow[] = [];
  const seen = new Set<string>();
  const add = (rows: (WorkingRow & { agent_type: string })[] | null) => {
    const mine = new Set<string>();
    for (const r of rows ?? []) {
      const k = `${r.machine_id}\u0000${ms(r.collected_at)}`;
      if (seen.has(k)) continue;
      mine.add(k);
      out.push({ machine_id: r.machine_id, collected_at: r.collected_at, provider: providerOf(r.agent_type), working: Number(r.working) });
    }
    for (const k of mine) seen.add(k);
  };
  add(states);
  add(legacy);
  for (const r of summary ?? []) {
    const k = `${r.machine_id}\u0000${ms(r.collected_at)}`;
    if (seen.has(k)) continue;
    const parse = (v: unknown) => (typeof v === "string" ? (JSON.parse(v) as Record<string, number>) : ((v ?? {}) as Record<string, number>));
    const byType = parse(r.by_type_json);
    const byState = parse(r.by_state_json);
    const total = Object.values(byState).reduce((a, b) => a + Number(b), 0);
    const working = Object.entries(byState)
      .filter(([s]) => WORKING_STATES.includes(s.toLowerCase()))
      .reduce((a, [, n]) => a + Number(n), 0);
    const share = total > 0 ? working / total : 1;
    for (const [type, n] of Object.entries(byType)) out.push({ machine_id: r.machine_id, collected_at: r.collected_at, provider: providerOf(type), working: Number(n) * share });
  }
  return out;
}

/**
 * The forecasts of every account window as of `at`, from snapshots at or before it only. Missing
 * tools are warnings: without caut and caam nothing is forecast; without ntm (or without caam's
 * active profiles) the forecasts lack the fleet signal and say so.
 */
export async function accountForecasts(store: Store, at: string, options: AccountForecastOptions = {}): Promise<{ forecasts: AccountForecast[]; warnings: string[] }> {
  const warnings: string[] = [];
  const atMs = Date.parse(at);
  const from = iso(atMs - HISTORY_MS);
  const span = sql`collected_at > ${from}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP`;
  const windows = sql.join(WINDOWS.map((w) => sql`${w}`));
  const caut = await tryQuery<{
    machine_id: string;
    collected_at: unknown;
    provider: string;
    account: string;
    window_name: string;
    used_percent: number;
    window_minutes: unknown;
    resets_at: unknown;
  }>(
    store,
    sql`SELECT machine_id, collected_at, provider, account, window_name, used_percent, window_minutes, resets_at FROM account_usage_snapshots
        WHERE ${span} AND used_percent IS NOT NULL AND account <> '' AND window_name IN (${windows})`,
    "caut usage not read",
    warnings,
  );
  const caam = await tryQuery<{
    machine_id: string;
    collected_at: unknown;
    provider: string;
    profile: string;
    window_name: string;
    utilization_pct: number;
    window_minutes: unknown;
    resets_at: unknown;
  }>(
    store,
    sql`SELECT machine_id, collected_at, provider, profile, window_name, utilization_pct, window_minutes, resets_at FROM account_limits_snapshot
        WHERE ${span} AND utilization_pct IS NOT NULL AND window_name IN (${windows})`,
    "caam limits not read",
    warnings,
  );
  const active = await tryQuery<ActiveRow>(
    store,
    sql`SELECT machine_id, collected_at, tool, active_profile, identity_email FROM account_profile_snapshots WHERE ${span}`,
    "caam status not read",
    warnings,
  );
  const working = await loadWorking(store, from, at, warnings);

  // A caam profile is an account: the identity caam showed while it was active, else its name.
  const emailOf = new Map<string, string>();
  for (const r of active ?? []) if (r.active_profile && r.identity_email) emailOf.set(`${r.tool}\u0000${r.active_profile}`, r.identity_email);
  const accountOfProfile = (provider: string, profile: string) => emailOf.get(`${provider}\u0000${profile}`) ?? profile;
  const profileOf = new Map<string, string>();

  const series = new Map<string, Series>();
  const add = (provider: string, account: string, window: string, o: Obs) => {
    const k = `${provider}/${account}/${window}`;
    let s = series.get(k);
    if (!s) series.set(k, (s = { provider, account, window, profile: null, obs: [] }));
    s.obs.push(o);
  };
  for (const r of caut ?? [])
    add(r.provider, r.account, r.window_name, {
      t: ms(r.collected_at),
      u: Number(r.used_percent),
      resetsAt: isoTime(r.resets_at),
      windowMin: num(r.window_minutes),
      machine: r.machine_id,
      source: "caut",
    });
  for (const r of caam ?? []) {
    const account = accountOfProfile(r.provider, r.profile);
    profileOf.set(`${r.provider}\u0000${account}`, r.profile);
    add(r.provider, account, r.window_name, {
      t: ms(r.collected_at),
      u: Number(r.utilization_pct),
      resetsAt: isoTime(r.resets_at),
      windowMin: num(r.window_minutes),
      machine: r.machine_id,
      source: "caam",
    });
  }
  // Emails caam knows for a profile whose vault name is the email itself.
  for (const s of series.values()) s.profile = profileOf.get(`${s.provider}\u0000${s.account}`) ?? null;

  if (caut === null && caam === null) {
    warnings.push("no caut or caam data: add caut() and caam() to the config's collectors, so each account's usage and limits are collected");
    return { forecasts: [], warnings };
  }

  // Per machine and provider, the account its tool uses, in time order.
  const activeBy = new Map<string, { t: number; account: string }[]>();
  for (const r of active ?? []) {
    if (!r.active_profile) continue;
    const k = `${r.machine_id}\u0000${r.tool}`;
    const list = activeBy.get(k) ?? [];
    list.push({ t: ms(r.collected_at), account: r.identity_email ?? accountOfProfile(r.tool, r.active_profile) });
    activeBy.set(k, list);
  }
  for (const l of activeBy.values()) l.sort((a, b) => a.t - b.t);
  const workingBy = new Map<string, { t: number; n: number }[]>();
  for (const r of working ?? []) {
    const k = `${r.machine_id}\u0000${r.provider}`;
    const list = workingBy.get(k) ?? [];
    const t = ms(r.collected_at);
    const last = list.find((x) => x.t === t);
    if (last) last.n += r.working;
    else list.push({ t, n: r.working });
    workingBy.set(k, list);
  }
  for (const l of workingBy.values()) l.sort((a, b) => a.t - b.t);
  const accountsOf = new Map<string, Set<string>>();
  for (const s of series.values()) (accountsOf.get(s.provider) ?? accountsOf.set(s.provider, new Set()).get(s.provider)!).add(s.account);

  // Per provider, the machines ntm or caam said anything about, with their series.
  const machinesOf = new Map<string, { machine: string; working: { t: number; n: number }[]; active: { t: number; account: string }[] }[]>();
  for (const k of new Set([...workingBy.keys(), ...activeBy.keys()])) {
    const [machine, provider] = k.split("\u0000") as [string, string];
    const list = machinesOf.get(provider) ?? [];
    list.push({ machine, working: workingBy.get(k) ?? [], active: activeBy.get(k) ?? [] });
    machinesOf.set(provider, list);
  }
  /** Agents working on `account` at `t`, or null with why when that cannot be known. */
  const workingOn = (provider: string, account: string, t: number): { n: number | null; reason: string | null; on: string[] } => {
    if (working === null || working.length === 0) return { n: null, reason: "no ntm data in the hours read (add ntm() or ntmAttention() to the collectors)", on: [] };
    const machines = machinesOf.get(provider) ?? [];
    const only = (accountsOf.get(provider)?.size ?? 0) === 1;
    let n = 0;
    let known = false;
    let unattributed = 0;
    const on: string[] = [];
    for (const { machine: m, working: ws, active: as } of machines) {
      const w = latestAt(ws, t);
      const a = latestAt(as, t);
      // Without caam's active profile, a machine's agents belong to the provider's only account, else to none known.
      const uses = a ? a.account === account : only;
      if (a?.account === account) on.push(m);
      if (!w) continue;
      if (!a && !only) {
        unattributed += w.n;
        continue;
      }
      known = true;
      if (uses) n += w.n;
    }
    if (!known)
      return {
        n: null,
        reason:
          unattributed > 0
            ? `ntm sees ${provider} agents but caam's active profiles are unknown, so they cannot be tied to an account (add caam() to the collectors)`
            : `no fresh ntm data for ${provider} agents at this moment`,
        on,
      };
    return { n, reason: null, on };
  };

  const forecasts: AccountForecast[] = [];
  for (const s of series.values()) {
    const obs = s.obs.filter((o) => Number.isFinite(o.t)).sort((a, b) => a.t - b.t);
    // Pooled: one observation per minute across machines; a small drop with the same reset is jitter.
    const pooled: Obs[] = [];
    for (const o of obs) {
      const prev = pooled.at(-1);
      if (prev && o.t - prev.t < SAME_MS) {
        if (o.u > prev.u) prev.u = o.u;
        continue;
      }
      if (prev && o.u < prev.u && prev.u - o.u < JITTER_PCT && o.resetsAt === prev.resetsAt) pooled.push({ ...o, u: prev.u });
      else pooled.push({ ...o });
    }
    if (pooled.length === 0) continue;
    const oracle = new AccountOracle(`${s.provider}/${s.account}/${s.window}`);
    let f: OracleForecast | null = null;
    let last: { n: number | null; reason: string | null; on: string[] } = { n: null, reason: null, on: [] };
    for (const o of pooled) {
      last = workingOn(s.provider, s.account, o.t);
      const snap: UsageSnapshot = { account: oracle.account, ts: iso(o.t), used_percent: o.u, window_minutes: o.windowMin, resets_at: o.resetsAt, working_agents: last.n };
      f = oracle.push(snap) ?? f;
    }
    if (!f) continue;
    const end = pooled.at(-1)!;
    const age = Math.max(0, (atMs - end.t) / 60_000);
    const less = (v: number | null) => (v === null ? null : Math.max(0, v - age));
    const machines = [...new Set(obs.map((o) => o.machine))].sort();
    const firstT = pooled[0]!.t;
    const reasons: string[] = [];
    let confidence = Math.min(1, (end.t - firstT) / 3_600_000);
    if (confidence < 1) reasons.push(`${Math.round((end.t - firstT) / 60_000)} min of history (an hour makes a steady burn)`);
    if (!f.uses_fleet_signal) {
      confidence *= 0.8;
      reasons.push("no fleet signal");
    }
    if (age * 60 > 900) {
      confidence *= 0.5;
      reasons.push(`the newest snapshot is ${Math.round(age)} min old`);
    }
    if (f.time_to_limit_min !== null && f.low_min !== null && f.high_min !== null && f.time_to_limit_min > 0) {
      const width = (f.high_min - f.low_min) / (2 * f.time_to_limit_min);
      if (width > 0.5) reasons.push("a wide interval");
    }
    const level = confidence >= 0.75 ? "high" : confidence >= 0.4 ? "medium" : "low";
    forecasts.push({
      ...f,
      key: `${s.provider}/${s.account}/${s.window}`,
      provider: s.provider,
      account: s.account,
      window: s.window,
      profile: s.profile,
      sources: [...new Set(obs.map((o) => o.source))].sort(),
      machines,
      active_on: last.on.sort(),
      window_minutes: end.windowMin,
      resets_at: end.resetsAt,
      as_of: iso(end.t),
      staleness_s: Math.round(age * 60),
      time_to_limit_min: less(f.time_to_limit_min),
      low_min: less(f.low_min),
      high_min: less(f.high_min),
      to_reset_min: less(f.to_reset_min),
      limit_at: f.time_to_limit_min === null ? null : iso(end.t + f.time_to_limit_min * 60_000),
      confidence: Math.round(confidence * 100) / 100,
      confidence_level: level,
      confidence_reasons: reasons,
      fleet_signal: { used: f.uses_fleet_signal, reason: f.uses_fleet_signal ? null : (last.reason ?? IDLE) },
      action: { kind: "continue", text: "", target_burn_per_min: null, swap_in_min: null, to: null },
      best_swap_at: null,
      alternatives: [],
      samples: pooled.length,
    });
  }

  // Alternatives: the provider's other accounts, by headroom in their busiest window, then the soonest reset.
  const byAccount = new Map<string, AccountForecast[]>();
  for (const f of forecasts)
    (byAccount.get(`${f.provider}\u0000${f.account}`) ?? byAccount.set(`${f.provider}\u0000${f.account}`, []).get(`${f.provider}\u0000${f.account}`)!).push(f);
  const alternativesFor = (f: AccountForecast): Alternative[] => {
    const out: Alternative[] = [];
    for (const [k, list] of byAccount) {
      const [provider, account] = k.split("\u0000") as [string, string];
      if (provider !== f.provider || account === f.account) continue;
      const busiest = list.reduce((a, b) => (b.used_percent > a.used_percent ? b : a));
      const soonest = list.map((x) => x.time_to_limit_min).filter((x): x is number => x !== null);
      out.push({
        provider,
        account,
        profile: busiest.profile,
        used_percent: busiest.used_percent,
        headroom_percent: Math.max(0, 100 - busiest.used_percent),
        resets_at: busiest.resets_at,
        time_to_limit_min: soonest.length ? Math.min(...soonest) : null,
        command: busiest.profile ? `caam activate ${provider} ${busiest.profile}` : null,
      });
    }
    return out.sort((a, b) => b.headroom_percent - a.headroom_percent || (Date.parse(a.resets_at ?? "") || Infinity) - (Date.parse(b.resets_at ?? "") || Infinity));
  };
  for (const f of forecasts) {
    f.alternatives = alternativesFor(f);
    const best = bestAlternative(f.alternatives);
    f.action = actionOf(f, best);
    f.best_swap_at = f.action.kind === "swap_now" ? at : f.action.kind === "prepare_swap" || f.action.kind === "slow_down" ? swapAt(at, f, best) : null;
  }
  const wanted = options.account?.toLowerCase();
  const out = forecasts.filter(
    (f) =>
      (!wanted || `${f.provider}/${f.account}`.toLowerCase().includes(wanted) || (f.profile ?? "").toLowerCase().includes(wanted)) &&
      (!options.machineId || f.machines.includes(options.machineId) || f.active_on.includes(options.machineId)),
  );
  // Soonest limit first; accounts that reach none after.
  out.sort((a, b) => (a.time_to_limit_min ?? Infinity) - (b.time_to_limit_min ?? Infinity) || a.key.localeCompare(b.key));
  return { forecasts: out, warnings };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** The account worth moving to (alternatives ranked best first): headroom in every window, a caam profile, and not near its own limit. */
export const bestAlternative = (alternatives: readonly Alternative[]): Alternative | null =>
  alternatives.find((a) => a.headroom_percent >= MIN_HEADROOM_PCT && a.command !== null && (a.time_to_limit_min === null || a.time_to_limit_min > 30)) ?? null;

/** The swap before the earliest plausible limit (the interval's low end), less a margin; never in the past. */
function swapAt(at: string, f: AccountForecast, best: Alternative | null): string | null {
  if (!best || f.low_min === null) return null;
  return iso(Date.parse(at) + Math.max(0, f.low_min - SWAP_MARGIN_MIN) * 60_000);
}

/** What to do about one account window (its forecast, and the best account to move to). */
export function actionOf(
  f: Pick<AccountForecast, "used_percent" | "time_to_limit_min" | "to_reset_min" | "provider" | "account" | "window">,
  best: Alternative | null,
): OracleAction {
  const none = { target_burn_per_min: null, swap_in_min: null, to: null };
  const name = `${f.provider}/${f.account}`;
  const ttl = f.time_to_limit_min;
  const swap = (kind: "swap_now" | "prepare_swap", inMin: number): OracleAction => ({
    kind,
    text:
      kind === "swap_now"
        ? `swap ${name} to ${best!.account} now (${best!.headroom_percent.toFixed(0)} % headroom): ${best!.command}`
        : `prepare to swap ${name} to ${best!.account} in ${Math.round(inMin)} min (${best!.headroom_percent.toFixed(0)} % headroom): ${best!.command}`,
    target_burn_per_min: null,
    swap_in_min: kind === "swap_now" ? 0 : Math.round(inMin),
    to: best,
  });
  const pause: OracleAction = {
    kind: "emergency_pause",
    text: `${name} ${f.used_percent >= 100 ? "is at its limit" : `reaches its limit in ${Math.round(ttl ?? 0)} min`} and no ${f.provider} account has headroom: pause its agents until the ${f.window} window resets`,
    ...none,
  };
  if (f.used_percent >= 100) return best ? swap("swap_now", 0) : pause;
  if (ttl === null) return { kind: "continue", text: `${name} lasts until its ${f.window} window resets`, ...none };
  if (ttl <= 10) return best ? swap("swap_now", 0) : pause;
  if (ttl <= 30 && best) return swap("prepare_swap", Math.max(0, ttl - 10));
  const target = f.to_reset_min !== null && f.to_reset_min > 0 ? (100 - f.used_percent) / f.to_reset_min : null;
  return {
    kind: "slow_down",
    text: `${name} reaches its limit in ${Math.round(ttl)} min, before its ${f.window} window resets${target !== null ? `: slow to ${r1(target * 60)} points/hour to last until the reset` : ""}${best ? `, or move work to ${best.account}` : ""}`,
    target_burn_per_min: target,
    swap_in_min: null,
    to: best,
  };
}
