// Forecasts kept and scored (issue 14.4): every cycle's account forecasts go to oracle_predictions
// (made at, horizon, value, interval, action). Once the outcome is known — the account reached
// its limit, or its window reset first — the prediction gets its error (both capped at the reset,
// as the upstream scorer does) and whether its interval held the truth; `vc robot oracle` reports
// that accuracy beside each forecast. A forecast crossing 60 / 30 / 10 minutes before a limit, or
// changing its action, is a `prediction` event; a swap that frees capacity is an `opportunity`.
import { sql, type SqlQuery, type Store, type StoreTx } from "vibe-cockpit";
import { accountForecasts, type AccountForecast } from "./accounts.ts";

export const ORACLE_MIGRATIONS = [
  {
    name: "001_oracle_predictions.sql",
    sql: `
-- One row per account window per cycle: what the oracle said, and later how it turned out.
CREATE TABLE IF NOT EXISTS oracle_predictions(
    made_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,          -- account_limit
    target VARCHAR NOT NULL,        -- provider/account/window
    provider VARCHAR,
    account VARCHAR,
    window_name VARCHAR,
    used_percent DOUBLE,
    horizon_min DOUBLE,             -- minutes to the limit; NULL: not before the reset
    low_min DOUBLE,
    high_min DOUBLE,
    to_reset_min DOUBLE,
    burn_per_min DOUBLE,
    working_agents DOUBLE,
    uses_fleet BOOLEAN,
    action VARCHAR,
    command VARCHAR,                -- the action's command (a swap), when it has one
    details_json JSON,
    -- The outcome, once known: minutes from made_at to the limit (or to the reset, when it came first).
    outcome_min DOUBLE,
    reached_limit BOOLEAN,
    error_min DOUBLE,
    covered BOOLEAN,
    scored_at TIMESTAMP,
    PRIMARY KEY (made_at, kind, target)
);
-- The oracle's events: a forecast crossing 60 / 30 / 10 minutes or changing its action (prediction),
-- a swap that frees capacity (opportunity).
CREATE TABLE IF NOT EXISTS oracle_events(
    event_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,          -- prediction | opportunity
    target VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    command VARCHAR,
    machine_id VARCHAR,
    fields_json JSON,
    PRIMARY KEY (event_at, kind, target)
);`,
  },
];

/** The thresholds a forecast crosses (minutes before the limit): each crossing is an event. */
export const CROSSINGS = [60, 30, 10];
const bucket = (ttl: number | null) => (ttl === null ? 0 : CROSSINGS.filter((c) => ttl <= c).length);

type Last = { target: string; horizon_min: number | null; action: string | null };

/**
 * One cycle of the oracle: forecasts as of `at` into oracle_predictions, their events, and the
 * predictions whose outcome is now known scored. Returns the forecasts' warnings.
 */
export async function recordForecasts(store: Store, at: string): Promise<{ forecasts: AccountForecast[]; warnings: string[]; scored: number }> {
  const { forecasts, warnings } = await accountForecasts(store, at);
  const fresh = forecasts.filter((f) => f.staleness_s <= 900);
  const last = new Map(
    (
      await store.query<Last>(
        sql`SELECT target, arg_max(horizon_min, made_at) AS horizon_min, arg_max(action, made_at) AS action FROM oracle_predictions
            WHERE kind = 'account_limit' AND made_at < ${at}::TIMESTAMP AND made_at > ${at}::TIMESTAMP - INTERVAL 1 DAY GROUP BY target`,
      )
    ).map((r) => [r.target, r]),
  );
  const rows = fresh.map((f) => ({
    made_at: at,
    kind: "account_limit",
    target: f.key,
    provider: f.provider,
    account: f.account,
    window_name: f.window,
    used_percent: f.used_percent,
    horizon_min: f.time_to_limit_min,
    low_min: f.low_min,
    high_min: f.high_min,
    to_reset_min: f.to_reset_min,
    burn_per_min: f.burn_per_min,
    working_agents: f.working_agents,
    uses_fleet: f.uses_fleet_signal,
    action: f.action.kind,
    command: f.action.to?.command ?? null,
    details_json: { action: f.action.text, limit_at: f.limit_at, best_swap_at: f.best_swap_at, confidence: f.confidence, machines: f.machines, active_on: f.active_on },
  }));
  const events: Record<string, unknown>[] = [];
  for (const f of fresh) {
    const before = last.get(f.key);
    const crossed = bucket(f.time_to_limit_min) > bucket(before?.horizon_min ?? null);
    const changed = before !== undefined && before.action !== f.action.kind;
    const first = before === undefined && f.action.kind !== "continue";
    if (crossed || changed || first) {
      const ttl = f.time_to_limit_min;
      const severity =
        f.action.kind === "emergency_pause" || f.action.kind === "swap_now" ? "high" : f.action.kind === "prepare_swap" ? "medium" : f.action.kind === "continue" ? "info" : "low";
      const when =
        ttl === null
          ? "no limit before its reset"
          : `limit in ${Math.round(ttl)} min (${Math.round(f.low_min ?? ttl)}–${f.high_min === null ? "after the reset" : Math.round(f.high_min)})`;
      events.push({
        event_at: at,
        kind: "prediction",
        target: f.key,
        severity,
        title: `${f.key}: ${when}; ${f.action.kind.replace("_", " ")}${before && changed ? ` (was ${before.action?.replace("_", " ")})` : ""}`,
        command: f.action.to?.command ?? null,
        machine_id: f.active_on.length === 1 ? f.active_on[0] : null,
        fields_json: [
          ["used %", Math.round(f.used_percent * 10) / 10],
          ["time to limit min", ttl === null ? null : Math.round(ttl)],
          ["limit at", f.limit_at],
          ["burn %/h", Math.round(f.burn_per_min * 600) / 10],
          ["working agents", f.working_agents],
          ["confidence", f.confidence],
          ["action", f.action.text],
        ],
      });
    }
    // An opportunity: a swap that frees capacity, said once when the action first names it.
    const to = f.action.to;
    if (to?.command && (f.action.kind === "swap_now" || f.action.kind === "prepare_swap") && (changed || first || crossed) && before?.action !== f.action.kind) {
      events.push({
        event_at: at,
        kind: "opportunity",
        target: f.key,
        severity: f.action.kind === "swap_now" ? "high" : "medium",
        title: `move ${f.provider} work from ${f.account} to ${to.account} (${Math.round(to.headroom_percent)} % headroom)${f.best_swap_at ? ` by ${f.best_swap_at.slice(11, 16)} UTC` : ""}`,
        command: to.command,
        machine_id: f.active_on.length === 1 ? f.active_on[0] : null,
        fields_json: [
          ["from", `${f.provider}/${f.account}`],
          ["to", `${to.provider}/${to.account}`],
          ["headroom %", Math.round(to.headroom_percent)],
          ["swap by", f.best_swap_at],
          ["limit at", f.limit_at],
          ["machines", f.active_on.join(", ") || null],
        ],
      });
    }
  }
  const scored = await store.transaction(async (tx) => {
    await tx.insert("oracle_predictions", rows);
    await tx.insert("oracle_events", events);
    return scorePredictions(tx, at);
  });
  return { forecasts, warnings, scored };
}

/**
 * Scores the predictions whose outcome is known at `at`: the limit came (a later snapshot of the
 * same window at 100 % before its reset) or the reset passed. Error and coverage as the upstream
 * scorer counts them: prediction and truth capped at the reset.
 */
export async function scorePredictions(store: StoreTx, at: string): Promise<number> {
  const open = await store.query<{ made_at: string; target: string; horizon_min: number | null; low_min: number | null; high_min: number | null; to_reset_min: number | null }>(
    sql`SELECT made_at::VARCHAR AS made_at, target, horizon_min, low_min, high_min, to_reset_min FROM oracle_predictions
        WHERE kind = 'account_limit' AND scored_at IS NULL AND made_at <= ${at}::TIMESTAMP`,
  );
  if (open.length === 0) return 0;
  // The first time each target was seen at its limit after each prediction: from oracle_predictions themselves (used_percent ≥ 100).
  const hits = await store.query<{ made_at: string; target: string; hit_min: number | null }>(
    sql`SELECT p.made_at::VARCHAR AS made_at, p.target,
               (SELECT min(date_diff('second', p.made_at, q.made_at)) / 60.0 FROM oracle_predictions q
                 WHERE q.kind = 'account_limit' AND q.target = p.target AND q.made_at >= p.made_at AND q.made_at <= ${at}::TIMESTAMP
                   AND q.used_percent >= 100
                   AND (p.to_reset_min IS NULL OR q.made_at <= p.made_at + to_minutes(CAST(ceil(p.to_reset_min) AS BIGINT)))) AS hit_min
        FROM oracle_predictions p WHERE p.kind = 'account_limit' AND p.scored_at IS NULL AND p.made_at <= ${at}::TIMESTAMP`,
  );
  const hitOf = new Map(hits.map((h) => [`${h.made_at}\u0000${h.target}`, h.hit_min]));
  const atMs = Date.parse(at);
  const done: SqlQuery[] = [];
  for (const p of open) {
    const made = Date.parse(`${p.made_at.replace(" ", "T")}Z`);
    const hit = hitOf.get(`${p.made_at}\u0000${p.target}`) ?? null;
    const cap = p.to_reset_min;
    const resetPassed = cap !== null && atMs >= made + cap * 60_000;
    if (hit === null && !resetPassed) continue;
    if (cap === null && hit === null) continue;
    const capAt = cap ?? Number.POSITIVE_INFINITY;
    const real = hit !== null ? Math.min(hit, capAt) : capAt;
    const c = (v: number | null) => (v === null ? capAt : Math.min(capAt, Math.max(0, v)));
    const error = Math.abs(c(p.horizon_min) - real);
    const covered = c(p.low_min) <= real + 1e-9 && real <= c(p.high_min) + 1e-9;
    done.push(sql`(${p.made_at}::TIMESTAMP, ${p.target}, ${real}::DOUBLE, ${hit !== null}, ${error}::DOUBLE, ${covered})`);
  }
  // One statement for every prediction scored now (a reset scores a window's whole history at once).
  for (let i = 0; i < done.length; i += 500)
    await store.run(
      sql`UPDATE oracle_predictions p SET outcome_min = v.real, reached_limit = v.hit, error_min = v.err, covered = v.cov, scored_at = ${at}::TIMESTAMP
          FROM (VALUES ${sql.join(done.slice(i, i + 500))}) v(made_at, target, real, hit, err, cov)
          WHERE p.kind = 'account_limit' AND p.made_at = v.made_at AND p.target = v.target`,
    );
  return done.length;
}

export interface Accuracy {
  /** Scored predictions in the span. */
  n: number;
  mae_min: number | null;
  /** Share of outcomes inside the predicted interval, 0..1. */
  coverage: number | null;
  span_days: number;
}

/** The oracle's own recent accuracy, overall and per target: scored predictions made in the last `days` before `at`. */
export async function accuracy(store: Store, at: string, days = 7): Promise<{ overall: Accuracy; by_target: Map<string, Accuracy> }> {
  const rows = await store
    .query<{ target: string | null; n: bigint | number; mae: number | null; coverage: number | null }>(
      sql`SELECT target, count(*) AS n, avg(error_min) AS mae, avg(CASE WHEN covered THEN 1.0 ELSE 0.0 END) AS coverage FROM oracle_predictions
          WHERE kind = 'account_limit' AND scored_at IS NOT NULL AND scored_at <= ${at}::TIMESTAMP AND made_at > ${at}::TIMESTAMP - to_days(${days})
          GROUP BY GROUPING SETS ((target), ())`,
    )
    .catch(() => []);
  const acc = (r?: (typeof rows)[number]): Accuracy => ({
    n: Number(r?.n ?? 0),
    mae_min: r?.mae === null || r?.mae === undefined ? null : Math.round(r.mae * 10) / 10,
    coverage: r?.coverage === null || r?.coverage === undefined ? null : Math.round(r.coverage * 100) / 100,
    span_days: days,
  });
  return { overall: acc(rows.find((r) => r.target === null)), by_target: new Map(rows.filter((r) => r.target !== null).map((r) => [r.target!, acc(r)])) };
}
