// The cost oracle (plan §6.2 CostForecast, issue 14 point 6): spend per provider per day from caut
// cost, the month's spend so far and where it is heading, and the savings the data supports.
// Causal: an answer at `at` reads only rows collected at or before `at`.
//
// Spend: caut cost reads one machine's own agent logs, so a provider's day is the sum over
// machines, each machine's day as its latest collection at or before `at` gave it.
//
// Projection: month-to-date plus the provider's mean daily cost m times R, the days left in the
// month (fractional: the rest of today counts; months and days are UTC). m is over the complete
// days (before `at`'s day) of the 30 days before it, from the provider's first listed day on: a
// day caut did not list counts $0 (it lists active days only), a listed day without a price is
// left out, days before the first listed one are unknown. The interval is an 80 % normal
// prediction interval for the sum of the R days left, the days read as independent draws with the
// sample's mean m and sd s over n days: m·R ± 1.2816·s·√(R·(1 + R/n)) — the R/n term is the
// mean's own uncertainty (1.28·s/√n scaled by R), the 1 the days' own spread. Its low end never
// goes below the month-to-date. No interval with fewer than 2 days, no projection with none.
// The month adds the providers' projections and their bounds (as if their days moved together:
// the same agents drive them — never narrower than the providers' own).
import { isMissingTable, sql, type Store } from "vibe-cockpit";
import { noDataWarning, type ViewTool } from "../_no-data.ts";
import { ACCOUNT_TOOLS } from "../accounts/view.ts";

/** One provider's spend on one day, summed over the machines that reported it. */
export interface ProviderDay {
  date: string;
  provider: string;
  /** USD; null when no machine's row has a price. */
  cost_usd: number | null;
  tokens: number | null;
}

export interface ProviderCost {
  provider: string;
  /** The 30 days ending today (`at`'s UTC day): the listed days, else caut's own last-30-days sum. */
  last_30d_usd: number | null;
  month_to_date_usd: number | null;
  projected_month_usd: number | null;
  low_usd: number | null;
  high_usd: number | null;
}

export interface MonthCost {
  /** YYYY-MM (UTC) */
  month: string;
  to_date_usd: number | null;
  projected_usd: number | null;
  low_usd: number | null;
  high_usd: number | null;
  /** Days from the month's start to `at`, fractional. */
  days_elapsed: number;
  days_in_month: number;
}

/** A saving the data supports: what to do (`text`, with the command), and the rows that say so. */
export interface SavingsOpportunity {
  kind: "idle_account_headroom";
  text: string;
  evidence: Record<string, unknown>;
}

export interface CostForecast {
  by_provider_day: ProviderDay[];
  by_provider: ProviderCost[];
  month: MonthCost;
  opportunities: SavingsOpportunity[];
  warnings: string[];
}

export interface CostForecastOptions {
  /** Only this machine's rows. */
  machineId?: string;
  /** The config's collector names: without caut_cost among them, the warning says to add it. */
  collectors?: readonly string[];
  /** Account usage older than this (s) makes no opportunity (default 3600). */
  usageMaxAgeSeconds?: number;
}

/** An account (caut) or profile (caam) this full or more is throttled … */
export const THROTTLED_PERCENT = 90;
/** … and one this empty or less has headroom to take its work. */
export const IDLE_PERCENT = 50;
const Z80 = 1.2816;
const DAY_MS = 86_400_000;

const COST_TOOLS: readonly ViewTool[] = [
  {
    collector: "caut_cost",
    install: 'caut_cost: add cautCost() to vc.config.ts ("caut_cost" in vc.config.jsonc) and install coding_agent_usage_tracker on the machines, so `caut cost --json` answers',
  },
];

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const shift = (day: string, n: number) => dayOf(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);
const cents = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const usd = (x: number) => `$${x.toFixed(2)}`;

interface DayRow {
  provider: string;
  date: string;
  cost_usd: number | null;
  tokens: number | null;
  machines: number;
  priced: number;
}

interface Projection {
  mtd: number;
  projected: number | null;
  low: number | null;
  high: number | null;
}

/** Month-to-date plus the mean daily cost over the days left, with the 80 % interval (see the top). */
function project(mtd: number, xs: readonly number[], remaining: number): Projection {
  const n = xs.length;
  if (n === 0) return { mtd, projected: null, low: null, high: null };
  const m = sum(xs) / n;
  const projected = mtd + m * remaining;
  if (n < 2) return { mtd, projected, low: null, high: null };
  const s = Math.sqrt(sum(xs.map((x) => (x - m) ** 2)) / (n - 1));
  const half = Z80 * s * Math.sqrt(remaining * (1 + remaining / n));
  return { mtd, projected, low: mtd + Math.max(0, m * remaining - half), high: projected + half };
}

/**
 * The cost forecast at `at`: spend per provider per day, per provider over 30 days and this month
 * (to date, projected, 80 % interval), the month's total, and savings opportunities. Missing
 * tables or data give empty sections and a warning naming the collector to add; it never throws
 * for want of data.
 * @example const f = await costForecast(store, new Date().toISOString())
 */
export async function costForecast(store: Store, at: string, opts: CostForecastOptions = {}): Promise<CostForecast> {
  const warnings: string[] = [];
  const atMs = Date.parse(at);
  if (!Number.isFinite(atMs)) {
    return { by_provider_day: [], by_provider: [], month: emptyMonth(""), opportunities: [], warnings: [`at is not a time: ${JSON.stringify(at)}`] };
  }
  const until = new Date(atMs).toISOString();
  const today = dayOf(atMs);
  const monthStart = `${today.slice(0, 8)}01`;
  const daysInMonth = new Date(Date.UTC(Number(today.slice(0, 4)), Number(today.slice(5, 7)), 0)).getUTCDate();
  const elapsed = (atMs - Date.parse(`${monthStart}T00:00:00Z`)) / DAY_MS;
  const remaining = daysInMonth - elapsed;
  const month = { ...emptyMonth(today.slice(0, 7)), days_elapsed: Math.round(elapsed * 1e4) / 1e4, days_in_month: daysInMonth };
  const mine = opts.machineId === undefined ? sql`` : sql`AND machine_id = ${opts.machineId}`;

  let rows: DayRow[] = [];
  let last30Said = new Map<string, number>();
  let haveTable = true;
  try {
    rows = await store.query<DayRow>(
      sql`WITH latest AS (
            SELECT provider, date, total_cost, total_tokens FROM caut_cost_daily
            WHERE collected_at <= ${until}::TIMESTAMP AND date >= ${shift(today, -30)} ${mine}
            QUALIFY row_number() OVER (PARTITION BY machine_id, provider, date ORDER BY collected_at DESC) = 1)
          SELECT provider, date, sum(total_cost) AS cost_usd, sum(total_tokens)::BIGINT AS tokens,
                 count(*)::INTEGER AS machines, count(total_cost)::INTEGER AS priced
          FROM latest GROUP BY provider, date ORDER BY provider, date`,
    );
    // caut's own last-30-days sum per machine: its latest of the last day (an older one is another 30 days).
    const said = await store.query<{ provider: string; last_30_days_cost_usd: number | null }>(
      sql`SELECT provider, last_30_days_cost_usd FROM caut_cost_snapshots
          WHERE collected_at <= ${until}::TIMESTAMP AND collected_at > ${new Date(atMs - DAY_MS).toISOString()}::TIMESTAMP ${mine}
          QUALIFY row_number() OVER (PARTITION BY machine_id, provider ORDER BY collected_at DESC) = 1`,
    );
    for (const r of said) if (r.last_30_days_cost_usd !== null) last30Said.set(r.provider, (last30Said.get(r.provider) ?? 0) + r.last_30_days_cost_usd);
  } catch (err) {
    if (!isMissingTable(err)) throw err;
    haveTable = false;
    rows = [];
    last30Said = new Map();
  }

  if (!haveTable) warnings.push(`no caut_cost data: the store has no caut_cost tables. ${COST_TOOLS[0]!.install}`);
  else if (opts.collectors && !opts.collectors.includes("caut_cost"))
    warnings.push(`no fresh caut_cost data: caut_cost is not in this config's collectors. ${COST_TOOLS[0]!.install}`);
  else if (rows.length === 0 && last30Said.size === 0) {
    warnings.push(
      opts.machineId === undefined ? await noDataWarning(store, COST_TOOLS, until) : `no caut cost of ${opts.machineId} by ${until} (the caut_cost collector writes it)`,
    );
  }

  const future = rows.filter((r) => r.date > today);
  if (future.length) warnings.push(`${future.length} provider day(s) dated after ${today} left out (a machine's clock or time zone ahead of UTC)`);
  const byProvider = new Map<string, DayRow[]>();
  for (const r of rows) if (r.date <= today) byProvider.set(r.provider, [...(byProvider.get(r.provider) ?? []), r]);

  const shownFrom = monthStart < shift(today, -29) ? monthStart : shift(today, -29);
  const byProviderDay: ProviderDay[] = rows
    .filter((r) => r.date >= shownFrom && r.date <= today)
    .map((r) => ({ date: r.date, provider: r.provider, cost_usd: cents(r.cost_usd), tokens: r.tokens }))
    .sort((a, b) => a.date.localeCompare(b.date) || a.provider.localeCompare(b.provider));

  const costs: ProviderCost[] = [];
  const projections: { provider: string; p: Projection }[] = [];
  for (const provider of [...new Set([...byProvider.keys(), ...last30Said.keys()])].sort()) {
    const days = byProvider.get(provider) ?? [];
    const said = last30Said.get(provider) ?? null;
    const priced = days.filter((d) => d.cost_usd !== null);
    if (priced.length === 0) {
      costs.push({ provider, last_30d_usd: cents(said), month_to_date_usd: null, projected_month_usd: null, low_usd: null, high_usd: null });
      warnings.push(
        days.length
          ? `${provider}: caut cost listed ${days.length} day(s) without a price (caut's local scan counts tokens or messages only): no dollars to forecast`
          : `${provider}: caut cost listed no days${said === null ? "" : `, only a last-30-days cost of ${usd(said)}`}: no month-to-date or projection`,
      );
      continue;
    }
    const of = new Map(days.map((d) => [d.date, d]));
    const mixed = priced.filter((d) => d.priced < d.machines).length;
    if (mixed) warnings.push(`${provider}: on ${mixed} day(s) some machines' rows have no price; those machines count $0 there`);
    const xs: number[] = [];
    let unpriced = 0;
    const from = days[0]!.date > shift(today, -30) ? days[0]!.date : shift(today, -30);
    for (let d = from; d < today; d = shift(d, 1)) {
      const row = of.get(d);
      if (row === undefined) xs.push(0);
      else if (row.cost_usd === null) unpriced++;
      else xs.push(row.cost_usd);
    }
    if (unpriced) warnings.push(`${provider}: ${unpriced} day(s) without a price left out of the daily mean`);
    const between = (a: string) => sum(priced.filter((d) => d.date >= a && d.date <= today).map((d) => d.cost_usd!));
    const last30 = between(shift(today, -29));
    const p = project(between(monthStart), xs, remaining);
    if (xs.length === 0) warnings.push(`${provider}: no complete day before ${today} yet: no projection`);
    else if (xs.length === 1) warnings.push(`${provider}: one complete day (${from}): a projection without an interval`);
    if (said !== null && last30 < 0.9 * said) {
      warnings.push(
        `${provider}: the days caut listed add up to ${usd(last30)} over 30 days, but its own last-30-days sum is ${usd(said)}: days it did not list count $0 or are unknown here, so the projection may be low`,
      );
    }
    costs.push({
      provider,
      last_30d_usd: cents(last30),
      month_to_date_usd: cents(p.mtd),
      projected_month_usd: cents(p.projected),
      low_usd: cents(p.low),
      high_usd: cents(p.high),
    });
    projections.push({ provider, p });
  }

  if (projections.length) {
    const loose = projections.filter(({ p }) => p.low === null).map((x) => x.provider);
    if (loose.length) warnings.push(`the month's interval leaves out the uncertainty of ${loose.join(", ")} (no interval of its own)`);
    const mid = (p: Projection) => p.projected ?? p.mtd;
    month.to_date_usd = cents(sum(projections.map(({ p }) => p.mtd)));
    month.projected_usd = cents(sum(projections.map(({ p }) => mid(p))));
    month.low_usd = cents(sum(projections.map(({ p }) => p.low ?? mid(p))));
    month.high_usd = cents(sum(projections.map(({ p }) => p.high ?? mid(p))));
  }

  const opportunities = await accountOpportunities(store, until, opts, warnings);
  return { by_provider_day: byProviderDay, by_provider: costs, month, opportunities, warnings };
}

function emptyMonth(month: string): MonthCost {
  return { month, to_date_usd: null, projected_usd: null, low_usd: null, high_usd: null, days_elapsed: 0, days_in_month: 0 };
}

interface Load {
  provider: string;
  name: string;
  /** The fullest window not yet reset at `at` (a reset window counts 0 %). */
  used: number;
  window: string;
  machine_id: string;
  collected_at: string;
}

/**
 * The latest windows per (provider, account or profile) across machines within the age bound:
 * caut's account_usage_snapshots or caam's account_limits_snapshot (the rate windows only: a
 * per-model window throttles one model, not the account).
 */
async function loads(store: Store, table: string, name: string, used: string, until: string, since: string, machineId: string | undefined): Promise<Load[] | null> {
  const mine = machineId === undefined ? sql`` : sql`AND machine_id = ${machineId}`;
  const rows = await store
    .query<{ machine_id: string; collected_at: string; provider: string; name: string; window_name: string; used: number | null; resets_at: string | null }>(
      sql`SELECT machine_id, collected_at, provider, ${sql.identifier(name)} AS name, window_name, ${sql.identifier(used)} AS used, resets_at
          FROM ${sql.identifier(table)}
          WHERE collected_at <= ${until}::TIMESTAMP AND collected_at > ${since}::TIMESTAMP ${mine}
            AND window_name IN ('primary', 'secondary', 'tertiary') AND ${sql.identifier(used)} IS NOT NULL
          QUALIFY collected_at = max(collected_at) OVER (PARTITION BY provider, ${sql.identifier(name)})
          ORDER BY provider, name, window_name, machine_id`,
    )
    .catch((err: unknown) => {
      if (isMissingTable(err)) return null;
      throw err;
    });
  if (rows === null) return null;
  const out = new Map<string, Load>();
  for (const r of rows) {
    const u = r.resets_at !== null && Date.parse(r.resets_at) <= Date.parse(until) ? 0 : r.used!;
    const k = `${r.provider}\u0000${r.name}`;
    const prev = out.get(k);
    if (!prev || u > prev.used) out.set(k, { provider: r.provider, name: r.name, used: u, window: r.window_name, machine_id: r.machine_id, collected_at: r.collected_at });
  }
  return [...out.values()];
}

/** For each provider, its most used throttled load and its least used idle one, if both exist. */
function pairs(list: readonly Load[]): { hot: Load; idle: Load }[] {
  const out: { hot: Load; idle: Load }[] = [];
  for (const provider of [...new Set(list.map((l) => l.provider))].sort()) {
    const mine = list.filter((l) => l.provider === provider && l.name !== "");
    const hot = mine.filter((l) => l.used >= THROTTLED_PERCENT).sort((a, b) => b.used - a.used)[0];
    const idle = mine.filter((l) => l.used <= IDLE_PERCENT).sort((a, b) => a.used - b.used || a.name.localeCompare(b.name))[0];
    if (hot && idle) out.push({ hot, idle });
  }
  return out;
}

/** caam's profile for a caut account: a caam status that showed it active (by email), or a profile named as the account. */
async function profileOf(store: Store, provider: string, account: string, until: string): Promise<string | null> {
  const [r] = await store
    .query<{ profile: string }>(
      sql`SELECT profile FROM (
            SELECT active_profile AS profile, collected_at FROM account_profile_snapshots
            WHERE tool = ${provider} AND lower(identity_email) = lower(${account}) AND active_profile IS NOT NULL AND collected_at <= ${until}::TIMESTAMP
            UNION ALL
            SELECT profile, collected_at FROM caam_profile_limits_snapshot
            WHERE provider = ${provider} AND profile = ${account} AND collected_at <= ${until}::TIMESTAMP)
          ORDER BY collected_at DESC LIMIT 1`,
    )
    .catch((err: unknown) => {
      if (isMissingTable(err)) return [];
      throw err;
    });
  return r?.profile ?? null;
}

const pct = (x: number) => `${Math.round(x)} %`;
const seen = (l: Load) => ({ used_percent: l.used, window: l.window, machine_id: l.machine_id, collected_at: l.collected_at });

/**
 * Savings opportunities: a throttled account (≥ 90 %) while another of the same provider idles
 * (≤ 50 %) — from caut's accounts (named by the caam profile caam showed for them) and from caam's
 * own profiles; caam's is left out when caut's already names the same idle profile.
 */
async function accountOpportunities(store: Store, until: string, opts: CostForecastOptions, warnings: string[]): Promise<SavingsOpportunity[]> {
  const maxAge = opts.usageMaxAgeSeconds ?? 3600;
  const since = new Date(Date.parse(until) - maxAge * 1000).toISOString();
  const caut = await loads(store, "account_usage_snapshots", "account", "used_percent", until, since, opts.machineId);
  const caam = await loads(store, "account_limits_snapshot", "profile", "utilization_pct", until, since, opts.machineId);
  if (!caut?.length && !caam?.length) {
    const fresh = `no account usage (caut) or profile limits (caam) collected in the ${maxAge} s before ${until}`;
    warnings.push(
      opts.machineId === undefined
        ? `savings opportunities: ${fresh}; ${await noDataWarning(store, ACCOUNT_TOOLS, until, opts.collectors)}`
        : `savings opportunities: ${fresh} on ${opts.machineId}`,
    );
    return [];
  }
  const out: SavingsOpportunity[] = [];
  const named = new Set<string>();
  for (const { hot, idle } of pairs(caut ?? [])) {
    const profile = await profileOf(store, idle.provider, idle.name, until);
    const command = profile ? `caam activate ${idle.provider} ${profile}` : `caam limits ${idle.provider}`;
    if (profile) named.add(`${idle.provider}\u0000${profile}`);
    out.push({
      kind: "idle_account_headroom",
      text: profile
        ? `${hot.provider}: ${hot.name} is at ${pct(hot.used)} (${hot.window} window) while ${idle.name} is at ${pct(idle.used)}: move work to it with \`${command}\``
        : `${hot.provider}: ${hot.name} is at ${pct(hot.used)} (${hot.window} window) while ${idle.name} is at ${pct(idle.used)}: caam has not shown which profile holds ${idle.name}; find it with \`${command}\`, then \`caam activate ${idle.provider} <profile>\``,
      evidence: { source: "caut", provider: hot.provider, throttled: { account: hot.name, ...seen(hot) }, idle: { account: idle.name, profile, ...seen(idle) }, command },
    });
  }
  for (const { hot, idle } of pairs(caam ?? [])) {
    if (named.has(`${idle.provider}\u0000${idle.name}`)) continue;
    const command = `caam activate ${idle.provider} ${idle.name}`;
    out.push({
      kind: "idle_account_headroom",
      text: `${hot.provider}: caam profile ${hot.name} is at ${pct(hot.used)} (${hot.window} window) while ${idle.name} is at ${pct(idle.used)}: move work to it with \`${command}\``,
      evidence: { source: "caam", provider: hot.provider, throttled: { profile: hot.name, ...seen(hot) }, idle: { profile: idle.name, ...seen(idle) }, command },
    });
  }
  return out;
}
