// `vc robot oracle` (issue 14.8): what the fleet will run out of, and when — each account window's
// forecast with its interval, action, best swap time and alternatives, beside the oracle's own
// recent accuracy; disks filling; cass's index going stale; the month's cost; agents that look
// stuck or looping. Every part answers as of the cockpit's clock, from rows at or before it.
import { arg, defineView, requireMachine, type Store } from "vibe-cockpit";
import { noDataWarning } from "../_no-data.ts";
import { ACCOUNT_TOOLS } from "../accounts/view.ts";
import { IDLE, accountForecasts, type AccountForecast } from "./accounts.ts";
import { costForecast, type CostForecast } from "./cost.ts";
import { cassIndexForecast, diskForecasts, type CassIndexForecast, type DiskForecast } from "./disk.ts";
import { accuracy, type Accuracy } from "./predictions.ts";
import { prophecies, type Prophecy, type ProphecyCalibration } from "./prophecy.ts";

export interface OracleAccount extends AccountForecast {
  /** The oracle's record on this account window: its scored predictions of the last 7 days. */
  accuracy: Accuracy;
}

export interface OracleData {
  accounts: OracleAccount[];
  /** The oracle's record over every account (7 days). */
  accuracy: Accuracy;
  /** The next thing to do about accounts: the most urgent action that is not `continue`. */
  next: { key: string; action: string; text: string; command: string | null; at: string | null } | null;
  disks: DiskForecast[];
  indexes: CassIndexForecast[];
  cost: Omit<CostForecast, "warnings">;
  prophecies: Prophecy[];
  prophecy_calibration: ProphecyCalibration | null;
}

export interface OracleOptions {
  account?: string;
  machineId?: string;
  collectors?: readonly string[];
}

const URGENCY = ["emergency_pause", "swap_now", "prepare_swap", "slow_down", "continue"];

/** The whole oracle as of `at`. */
export async function oracleAnswer(store: Store, at: string, o: OracleOptions = {}): Promise<{ data: OracleData; warnings: string[] }> {
  const [acc, record, disks, indexes, cost, prophecy] = await Promise.all([
    accountForecasts(store, at, { account: o.account, machineId: o.machineId }),
    accuracy(store, at),
    diskForecasts(store, at, { machineId: o.machineId }),
    cassIndexForecast(store, at, { machineId: o.machineId }),
    costForecast(store, at, { machineId: o.machineId, collectors: o.collectors }),
    prophecies(store, at, { machineId: o.machineId }),
  ]);
  const warnings = [...acc.warnings];
  if (acc.forecasts.length === 0 && !o.account && !o.machineId) {
    const why = await noDataWarning(store, ACCOUNT_TOOLS, at, o.collectors);
    if (!warnings.some((w) => w.startsWith("no caut or caam data"))) warnings.push(why);
  }
  if (o.account && acc.forecasts.length === 0) warnings.push(`no account matches "${o.account}" (vc robot accounts lists them)`);
  const noFleet = acc.forecasts.filter((f) => !f.fleet_signal.used && f.fleet_signal.reason !== IDLE);
  if (noFleet.length > 0) {
    const reasons = [...new Set(noFleet.map((f) => f.fleet_signal.reason))];
    warnings.push(`${noFleet.length} forecast(s) without the fleet signal (the burn over time instead): ${reasons.join("; ")}`);
  }
  const accounts = acc.forecasts.map((f) => ({ ...f, accuracy: record.by_target.get(f.key) ?? { n: 0, mae_min: null, coverage: null, span_days: record.overall.span_days } }));
  const urgent = [...accounts]
    .filter((a) => a.action.kind !== "continue")
    .sort((a, b) => URGENCY.indexOf(a.action.kind) - URGENCY.indexOf(b.action.kind) || (a.time_to_limit_min ?? Infinity) - (b.time_to_limit_min ?? Infinity))[0];
  const { warnings: costWarnings, ...costData } = cost;
  return {
    data: {
      accounts,
      accuracy: record.overall,
      next: urgent ? { key: urgent.key, action: urgent.action.kind, text: urgent.action.text, command: urgent.action.to?.command ?? null, at: urgent.best_swap_at } : null,
      disks: disks.disks,
      indexes: indexes.indexes,
      cost: costData,
      prophecies: prophecy.prophecies,
      prophecy_calibration: prophecy.calibration,
    },
    warnings: [...new Set([...warnings, ...disks.warnings, ...indexes.warnings, ...costWarnings, ...prophecy.warnings])],
  };
}

/** `vc robot oracle`. */
export const oracleView = defineView({
  name: "oracle",
  summary: "Forecasts: which account hits its limit when and what to do (swap, slow down), disks filling, cass's index going stale, the month's cost, agents that look stuck",
  args: {
    account: arg.string("only accounts whose provider/account or caam profile contains this", { hint: "ACCOUNT" }),
    machine: arg.string("only this machine: the accounts it uses or sees, its disks, index, cost and agents", { hint: "ID" }),
  },
  async run(vc, args) {
    const at = vc.clock.now().toISOString();
    if (args.machine) requireMachine(vc.config, args.machine);
    return oracleAnswer(vc.store, at, { account: args.account, machineId: args.machine, collectors: vc.config.collectors.map((c) => c.name) });
  },
});
