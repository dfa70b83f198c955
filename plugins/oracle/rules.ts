// The rule account_limit_forecast (issue 14.8): an account window whose forecast limit comes before
// its reset and within `within_min` (default 60) fires; it resolves only when the forecast's action
// goes back to continue (not when the time to the limit wobbles across the threshold). Its alert
// carries the swap command when the oracle names one, so triage shows it as the thing to do.
import { defineRule, defineSource, lte, sql, threshold } from "vibe-cockpit";

/**
 * Per account window, from the oracle's predictions of the last 15 minutes: the latest action and
 * the soonest time to the limit said since the action was last `continue`.
 */
export const accountForecastsSource = defineSource({
  name: "account_forecasts",
  description: "per provider, account and window: the oracle's latest forecast and the soonest limit since it last said continue",
  sql: (at) => sql`
    WITH latest AS (
      SELECT * FROM oracle_predictions
      WHERE kind = 'account_limit' AND made_at <= ${at}::TIMESTAMP AND made_at > ${at}::TIMESTAMP - INTERVAL 15 MINUTE
      QUALIFY row_number() OVER (PARTITION BY target ORDER BY made_at DESC) = 1),
    calm AS (
      SELECT target, max(made_at) AS since FROM oracle_predictions
      WHERE kind = 'account_limit' AND action = 'continue' AND made_at <= ${at}::TIMESTAMP GROUP BY target),
    soonest AS (
      SELECT p.target, min(p.horizon_min) AS soonest_min FROM oracle_predictions p LEFT JOIN calm USING (target)
      WHERE p.kind = 'account_limit' AND p.made_at <= ${at}::TIMESTAMP AND p.made_at > ${at}::TIMESTAMP - INTERVAL 1 DAY
        AND (calm.since IS NULL OR p.made_at > calm.since) AND p.horizon_min IS NOT NULL GROUP BY p.target)
    SELECT l.provider, l.account, l.window_name, l.target, l.action, round(l.used_percent, 1) AS used_pct,
           round(l.horizon_min)::BIGINT AS ttl_min, round(s.soonest_min)::BIGINT AS soonest_min,
           coalesce(l.command, 'vc robot oracle --account ' || l.account) AS command,
           json_extract_string(l.details_json, '$.action') AS advice
    FROM latest l JOIN soonest s USING (target)
    WHERE l.action <> 'continue'`,
});

/** An account reaches its limit before its window resets, within the hour: move work or slow down. */
export const accountLimitForecast = defineRule({
  id: "account_limit_forecast",
  severity: "high",
  title: "Account reaches its limit before the reset",
  source: accountForecastsSource,
  when: lte("soonest_min", threshold("within_min", 60)),
  labels: ["provider", "account", "window_name"],
  value: "ttl_min",
  message: "{provider} account {account} reaches its {window_name} limit in {ttl_min} min ({used_pct} % used): {advice}",
  actions: [
    { title: "Do what the oracle says", command: "{command}" },
    { title: "See the forecast, its interval and the alternatives", command: "vc robot oracle --account {account}" },
  ],
});
