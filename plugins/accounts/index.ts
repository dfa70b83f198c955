// Provider accounts, as caut (usage per account) and caam (limits per profile, the active profile
// per tool) see them: one plugin both collectors belong to, so either brings the accounts view,
// the machine section and the headroom factor.
import { definePlugin, minus, ramp, readings, sql, type AreaFactor, type MetricSource } from "vibe-cockpit";
import { accountsScreen } from "./screen.ts";
import { accountsSection, accountsViewDef } from "./view.ts";
import { opportunityEvents, predictionEvents } from "../oracle/events.ts";
import { ORACLE_MIGRATIONS, recordForecasts } from "../oracle/predictions.ts";
import { accountLimitForecast } from "../oracle/rules.ts";
import { oracleScreen } from "../oracle/screen.ts";
import { oracleView } from "../oracle/view.ts";
import { accountsDiff } from "../oracle/diff.ts";
import { accountIntents } from "./intents.ts";
import { accountForecasts } from "../oracle/accounts.ts";
import { rateLimitRecovery } from "./protocols.ts";

export { accountsView, type AccountsData, type AccountsViewOptions, type AccountUsage, type AccountWindow, type ProfileLimits, type ToolProfile } from "./view.ts";

/** Health factor accountHeadroom. */
export const accountHeadroomFactor: AreaFactor = {
  id: "account_headroom",
  read: (store, at) =>
    readings(
      store,
      sql`SELECT machine_id, max(used_percent) AS value, arg_max(provider || ' ' || account || ' ' || window_name, used_percent) AS worst
            FROM (SELECT *, row_number() OVER (PARTITION BY machine_id, provider, account, window_name ORDER BY collected_at DESC) AS rn
                  FROM account_usage_snapshots WHERE collected_at <= ${at}::TIMESTAMP AND collected_at > ${minus(at, 30 * 60_000)}::TIMESTAMP
                    AND (resets_at IS NULL OR resets_at > ${at}::TIMESTAMP))
            WHERE rn = 1 GROUP BY machine_id`,
      (r) => `busiest account window ${String(r.worst)} at ${Math.round(Number(r.value))} %`,
    ),
  score: ramp(70, 100, 0.3),
};

/** On /metrics: each account window's newest usage and the oracle's time to its limit, pooled across machines. */
export const accountMetrics: MetricSource = {
  gauges: {
    account_used_ratio: { help: "An account window's newest usage, 0 to 1", labels: ["provider", "account", "window"] },
    account_time_to_limit_seconds: {
      help: "The oracle's forecast of seconds until an account window hits its limit (absent: not before its reset)",
      labels: ["provider", "account", "window"],
    },
  },
  async read({ store, at }) {
    const { forecasts } = await accountForecasts(store, at);
    return forecasts.flatMap((f) => {
      const labels = { provider: f.provider, account: f.account, window: f.window };
      return [
        { gauge: "account_used_ratio", labels, value: f.used_percent / 100 },
        ...(f.time_to_limit_min === null ? [] : [{ gauge: "account_time_to_limit_seconds", labels, value: f.time_to_limit_min * 60 }]),
      ];
    });
  },
};

/**
 * Accounts and their oracle (plugins/oracle): each cycle forecasts every account window into
 * oracle_predictions (scored once the outcome is known), the rule account_limit_forecast reads them,
 * `vc robot oracle` answers from the same code, and prediction / opportunity events reach `vc watch`.
 */
export const accountsPlugin = definePlugin({
  name: "accounts",
  migrations: ORACLE_MIGRATIONS,
  views: [accountsViewDef, oracleView],
  screens: [accountsScreen, oracleScreen],
  machineSections: [accountsSection],
  healthFactors: [accountHeadroomFactor],
  events: [predictionEvents, opportunityEvents],
  diffs: [accountsDiff],
  rules: [accountLimitForecast],
  derive: [{ name: "oracle", run: async ({ store, at }) => ({ warnings: (await recordForecasts(store, at)).warnings }) }],
  metrics: [accountMetrics],
  apiRoutes: [{ path: "/api/oracle/forecasts", view: "oracle" }],
  intents: accountIntents,
  protocols: [rateLimitRecovery],
});
