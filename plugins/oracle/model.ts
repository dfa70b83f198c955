// The oracle's forecasting core: when does one account reach its usage limit, from its own usage
// snapshots up to now. Pure and causal: a forecast at `ts` reads only snapshots at or before `ts`.
//
// The burn is an exponentially weighted rate (half-life `halfLifeMin`) of usage increments. With
// the fleet signal (`working_agents`) it is estimated per working agent — usage gained over
// agent-minutes worked — and multiplied by the agents working over the last interval (the mean of
// the last two snapshots' counts: one instant's count is noisier than the interval that made the
// last gain), so starting or stopping agents moves the forecast at once instead of an hour later. Without it (or when a snapshot lacks
// `working_agents`) it is usage gained over minutes. Intervals at the limit (usage ≥ 100 %, where the
// burn cannot be seen) and across a reset do not count. The interval widens the burn by ±`spread`.

/** One usage snapshot of an account, as the collectors see it (unknown fields are ignored). */
export interface UsageSnapshot {
  account: string;
  ts: string;
  used_percent: number;
  /** The window's length; may be missing for a provider that does not say. */
  window_minutes?: number | null;
  resets_at?: string | null;
  /** Agents working on the account at that moment (ntm joined with caam); missing without ntm data. */
  working_agents?: number | null;
}

export type OracleAction = "continue" | "slow_down" | "prepare_swap" | "swap_now" | "emergency_pause";

export interface OracleForecast {
  account: string;
  ts: string;
  used_percent: number;
  /** Minutes until usage reaches 100 %; null when the window resets first (or nothing is burning). */
  time_to_limit_min: number | null;
  /** The interval: earliest and latest plausible time to the limit (null: not before the reset). */
  low_min: number | null;
  high_min: number | null;
  /** Minutes until the window resets, when known. */
  to_reset_min: number | null;
  /** Percentage points per minute, as forecast from now on. */
  burn_per_min: number;
  /** Percentage points per minute per working agent, when the fleet signal gave one. */
  burn_per_agent_min: number | null;
  working_agents: number | null;
  action: OracleAction;
  uses_fleet_signal: boolean;
  warnings: string[];
}

export interface OracleOptions {
  /** Half-life of the burn estimate, in minutes: how fast old usage stops counting. */
  halfLifeMin?: number;
  /** Relative uncertainty of the burn (0.35: ±35 %), which makes the interval. */
  spread?: number;
  /** Use working_agents when snapshots carry it (default true). */
  fleet?: boolean;
}

export const oracleDefaults = { halfLifeMin: 20, spread: 0.35, fleet: true } as const;

/** A gap between snapshots at least this long is worth a warning (and its agents are not seen). */
const GAP_MIN = 30;
/** Action thresholds, minutes before the limit (the 60 / 30 / 10 of the prediction events). */
const SWAP_NOW_MIN = 10;
const PREPARE_SWAP_MIN = 30;

const minutes = (ts: string) => Date.parse(ts) / 60_000;

/**
 * The forecaster of one account, fed its snapshots in time order: `push` returns the forecast as
 * of that snapshot. A snapshot older than the last one, or at the same time, is dropped with a
 * warning (the caller sorts; `forecastAccount` does). O(1) per snapshot.
 */
export class AccountOracle {
  readonly account: string;
  private readonly halfLife: number;
  private readonly spread: number;
  private readonly fleet: boolean;
  private last: { t: number; u: number; agents: number | null; resetsAt: number | null } | null = null;
  // Exponentially weighted sums: usage gained, minutes, agent-minutes (of intervals that have agents).
  private gain = 0;
  private span = 0;
  private fleetGain = 0;
  private agentMinutes = 0;
  private readonly warned = new Map<string, { text: string; n: number }>();

  constructor(account: string, options: OracleOptions = {}) {
    this.account = account;
    this.halfLife = options.halfLifeMin ?? oracleDefaults.halfLifeMin;
    this.spread = options.spread ?? oracleDefaults.spread;
    this.fleet = options.fleet ?? oracleDefaults.fleet;
  }

  private warn(kind: string, text: string): void {
    const w = this.warned.get(kind);
    if (w) w.n++;
    else this.warned.set(kind, { text, n: 1 });
  }

  /** The warnings so far, one per kind, with how often it happened. */
  warnings(): string[] {
    return [...this.warned.values()].map((w) => (w.n > 1 ? `${w.text} (${w.n} times)` : w.text));
  }

  /** Takes the next snapshot; returns its forecast, or null when the snapshot was dropped. */
  push(s: UsageSnapshot): OracleForecast | null {
    const t = minutes(s.ts);
    if (!Number.isFinite(t)) {
      this.warn("bad_ts", `${this.account}: a snapshot with an unreadable ts ("${s.ts}") dropped`);
      return null;
    }
    if (typeof s.used_percent !== "number" || !Number.isFinite(s.used_percent)) {
      this.warn("bad_used", `${this.account}: a snapshot without a numeric used_percent at ${s.ts} dropped`);
      return null;
    }
    if (this.last && t <= this.last.t) {
      this.warn(t === this.last.t ? "duplicate" : "unsorted", `${this.account}: a snapshot at ${s.ts} not after the previous one dropped`);
      return null;
    }
    let u = s.used_percent;
    if (u > 100) {
      this.warn("over_100", `${this.account}: used_percent above 100 (${u} at ${s.ts}) taken as 100`);
      u = 100;
    } else if (u < 0) {
      this.warn("below_0", `${this.account}: used_percent below 0 (${u} at ${s.ts}) taken as 0`);
      u = 0;
    }
    const agents = typeof s.working_agents === "number" && Number.isFinite(s.working_agents) && s.working_agents >= 0 ? s.working_agents : null;
    const resetsAt = s.resets_at ? minutes(s.resets_at) : Number.NaN;
    const window = typeof s.window_minutes === "number" && s.window_minutes > 0 ? s.window_minutes : null;
    if (window === null) this.warn("no_window", `${this.account}: no window length given; the reset time alone bounds the forecast`);

    const prev = this.last;
    if (prev) {
      const dt = t - prev.t;
      const decay = 0.5 ** (dt / this.halfLife);
      this.gain *= decay;
      this.span *= decay;
      this.fleetGain *= decay;
      this.agentMinutes *= decay;
      if (dt >= GAP_MIN) this.warn("gap", `${this.account}: a gap of ${Math.round(dt)} min before ${s.ts}`);
      const reset = u < prev.u || (prev.resetsAt !== null && Number.isFinite(resetsAt) && resetsAt > prev.resetsAt + 1);
      // A reset in the interval or usage at the limit hides the burn: the interval does not count.
      if (!reset && prev.u < 100) {
        const du = u - prev.u;
        this.gain += du;
        this.span += dt;
        if (prev.agents !== null && agents !== null && dt < GAP_MIN) {
          this.fleetGain += du;
          this.agentMinutes += ((prev.agents + agents) / 2) * dt;
        }
      }
    }
    this.last = { t, u, agents, resetsAt: Number.isFinite(resetsAt) ? resetsAt : null };
    if (agents === null) this.warn("no_fleet", `${this.account}: no working_agents: no fleet signal, the burn is over time only`);

    const perAgent = this.agentMinutes > 1e-9 ? Math.max(0, this.fleetGain / this.agentMinutes) : null;
    const fleet = this.fleet && agents !== null && perAgent !== null;
    // Agents working over the last interval: the mean of its two ends, when it was no gap.
    const working = agents !== null && prev && prev.agents !== null && t - prev.t < GAP_MIN ? (prev.agents + agents) / 2 : agents;
    const burn = fleet ? perAgent! * working! : this.span > 1e-9 ? Math.max(0, this.gain / this.span) : 0;
    const toReset = Number.isFinite(resetsAt) ? Math.max(0, resetsAt - t) : null;
    const reach = (rate: number) => {
      if (u >= 100) return 0;
      if (rate <= 1e-9) return null;
      const m = (100 - u) / rate;
      return toReset !== null && m >= toReset ? null : m;
    };
    const ttl = reach(burn);
    const low = reach(burn * (1 + this.spread));
    const high = reach(burn * Math.max(0, 1 - this.spread));
    return {
      account: this.account,
      ts: s.ts,
      used_percent: u,
      time_to_limit_min: ttl,
      low_min: low,
      high_min: high,
      to_reset_min: toReset,
      burn_per_min: burn,
      burn_per_agent_min: perAgent,
      working_agents: agents,
      action: actionFor(u, ttl),
      uses_fleet_signal: fleet,
      warnings: this.warnings(),
    };
  }
}

/** What one account can tell: the limit reached pauses; close to it, swap; before the reset, slow down. */
export function actionFor(usedPercent: number, ttl: number | null): OracleAction {
  if (usedPercent >= 100) return "emergency_pause";
  if (ttl === null) return "continue";
  if (ttl <= SWAP_NOW_MIN) return "swap_now";
  if (ttl <= PREPARE_SWAP_MIN) return "prepare_swap";
  return "slow_down";
}

/** Snapshots in time order, ties in input order (so the first of a duplicate wins). */
export function sortSnapshots<T extends { ts: string }>(snapshots: readonly T[]): T[] {
  return snapshots
    .map((s, i) => ({ s, i, t: Date.parse(s.ts) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.s);
}

/**
 * The forecast for one account at `at` (default: its latest snapshot), from its snapshots at or
 * before `at`, in any order: sorted, duplicates dropped, the same code the backtest runs
 * incrementally. Null when no usable snapshot is at or before `at`.
 */
export function forecastAccount(snapshots: readonly UsageSnapshot[], at?: string, options: OracleOptions = {}): OracleForecast | null {
  const cut = at === undefined ? Number.POSITIVE_INFINITY : Date.parse(at);
  const account = snapshots[0]?.account ?? "";
  const oracle = new AccountOracle(account, options);
  let out: OracleForecast | null = null;
  for (const s of sortSnapshots(snapshots)) {
    if (Date.parse(s.ts) > cut) break;
    if (s.account !== account) continue;
    out = oracle.push(s) ?? out;
  }
  if (out) out.warnings = oracle.warnings();
  return out;
}

/** Backtest: every snapshot of every account in time order, each forecast only from what came before. */
export function* backtest(snapshots: readonly UsageSnapshot[], options: OracleOptions = {}): Generator<OracleForecast> {
  const oracles = new Map<string, AccountOracle>();
  for (const s of sortSnapshots(snapshots)) {
    let o = oracles.get(s.account);
    if (!o) oracles.set(s.account, (o = new AccountOracle(s.account, options)));
    const f = o.push(s);
    if (f) yield f;
  }
}
