// `vc robot accounts` and the machine view's accounts section: provider usage
// per account (caut: account_usage_snapshots), limits per profile (caam: account_limits_snapshot,
// caam_profile_limits_snapshot), the active profile per tool (caam: account_profile_snapshots),
// recent provider errors (account_status_events), ntm's sessions and agents, cass's index.
// Every answer is the latest snapshot per key at or before `at`, with its age, so stale data
// reads as stale and never as current.
import type { AccountsData, AccountUsage, AccountWindow, ProfileLimits, ToolProfile } from "./shapes.ts";
import { ageS, defineView, latestPer, sql, untilS, type MachineSection, type Store } from "vibe-cockpit";
import { noDataWarning, type ViewTool } from "../_no-data.ts";

export type { AccountsData, AccountUsage, AccountWindow, ProfileLimits, ToolProfile };

/** What `accountsView` may be told beyond the store and the instant. */
export interface AccountsViewOptions {
  /** Data older than this is flagged `stale` and warned about (default 900 s). */
  staleAfterSeconds?: number;
  /** Only this machine (the machine view); default every machine. */
  machineId?: string;
  /** Provider events from this far back (default 24 h). */
  eventsWindowSeconds?: number;
  /** The config's collector names: with neither caut nor caam among them, the warning says to add them. */
  collectors?: readonly string[];
}

/** The tools behind `vc robot accounts`, and how to get them. */
export const ACCOUNT_TOOLS: readonly ViewTool[] = [
  {
    collector: "caut",
    install: "caut: install coding_agent_usage_tracker (github.com/Dicklesworthstone/coding_agent_usage_tracker) on the machines, so `caut usage --json` answers",
  },
  {
    collector: "caam",
    install:
      "caam: install coding_agent_account_manager (github.com/Dicklesworthstone/coding_agent_account_manager) and save each account as a profile, so `caam limits --format json` answers",
  },
];

const maxOf = (xs: (number | null)[]) => {
  const n = xs.filter((x): x is number => typeof x === "number");
  return n.length ? Math.max(...n) : null;
};
const key = (...parts: unknown[]) => parts.map(String).join("\u0000");

interface UsageRow {
  machine_id: string;
  collected_at: string;
  provider: string;
  account: string;
  window_name: string;
  used_percent: number | null;
  remaining_percent: number | null;
  window_minutes: number | null;
  resets_at: string | null;
  reset_description: string | null;
  credits_remaining: number | null;
  status: string | null;
  auth_warning: string | null;
}

interface LimitRow {
  machine_id: string;
  collected_at: string;
  provider: string;
  profile: string;
  window_name: string;
  utilization_pct: number | null;
  resets_at: string | null;
  window_minutes: number | null;
}

const WINDOW_ORDER = ["primary", "secondary", "tertiary"];
const byWindow = (a: { window: string }, b: { window: string }) => {
  const ia = WINDOW_ORDER.indexOf(a.window);
  const ib = WINDOW_ORDER.indexOf(b.window);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.window.localeCompare(b.window);
};

/**
 * Accounts across the fleet as of `at`: caut usage per provider account, caam limits per
 * profile, the active profile per tool, recent provider events. Staleness (seconds) is per
 * collector, the worst machine; stale items are flagged and warned about.
 * @example const { data, staleness, warnings } = await accountsView(store, new Date().toISOString())
 */
export async function accountsView(
  store: Store,
  at: string,
  options: AccountsViewOptions = {},
): Promise<{ data: AccountsData; staleness: Record<string, number | null>; warnings: string[] }> {
  const staleAfter = options.staleAfterSeconds ?? 900;
  const m = options.machineId;
  const warnings: string[] = [];
  const staleness: Record<string, number | null> = { caut: null, caam: null };
  const note = (collector: "caut" | "caam", collectedAt: string) => {
    const age = ageS(at, collectedAt);
    staleness[collector] = Math.max(staleness[collector] ?? 0, age);
    return age;
  };
  const staleMachines = new Map<string, string>();
  const flag = (collector: string, machine: string, age: number, collectedAt: string) => {
    if (age > staleAfter) staleMachines.set(key(collector, machine), `${collector} data for ${machine} is ${age} s old (last collected ${collectedAt})`);
    return age > staleAfter;
  };

  // caut: the latest collection that held each (machine, provider, account)
  const usage = await store.query<UsageRow>(
    latestPer(
      "account_usage_snapshots",
      ["machine_id", "provider", "account"],
      at,
      m,
      "machine_id, collected_at, provider, account, window_name, used_percent, remaining_percent, window_minutes, resets_at, reset_description, credits_remaining, status, auth_warning",
    ),
  );
  const accounts = new Map<string, AccountUsage>();
  for (const r of usage) {
    const k = key(r.machine_id, r.provider, r.account);
    let a = accounts.get(k);
    if (!a) {
      const age = note("caut", r.collected_at);
      a = {
        machine_id: r.machine_id,
        provider: r.provider,
        account: r.account === "" ? null : r.account,
        collected_at: r.collected_at,
        staleness_s: age,
        stale: flag("caut", r.machine_id, age, r.collected_at),
        max_used_percent: null,
        status: r.status,
        auth_warning: r.auth_warning,
        credits_remaining: r.credits_remaining,
        windows: [],
      };
      accounts.set(k, a);
    }
    a.windows.push({
      window: r.window_name,
      used_percent: r.used_percent,
      remaining_percent: r.remaining_percent,
      window_minutes: r.window_minutes,
      resets_at: r.resets_at,
      resets_in_s: untilS(at, r.resets_at),
      reset_description: r.reset_description,
    });
  }
  for (const a of accounts.values()) {
    a.windows.sort(byWindow);
    a.max_used_percent = maxOf(a.windows.map((w) => w.used_percent));
    for (const w of a.windows) {
      if (w.resets_in_s !== null && w.resets_in_s < 0) {
        warnings.push(`${a.provider}/${a.account ?? "?"} on ${a.machine_id}: the ${w.window} window reset ${-w.resets_in_s} s ago; its used_percent predates the reset`);
      }
    }
  }

  // caam: profiles (with their windows from the same collection) and tools
  const profileRows = await store.query<{
    machine_id: string;
    collected_at: string;
    provider: string;
    profile: string;
    plan_type: string | null;
    error: string | null;
    credits_balance: number | null;
    estimated_depletion: string | null;
  }>(
    latestPer(
      "caam_profile_limits_snapshot",
      ["machine_id", "provider", "profile"],
      at,
      m,
      "machine_id, collected_at, provider, profile, plan_type, error, credits_balance, estimated_depletion",
    ),
  );
  const limitRows = await store.query<LimitRow>(
    latestPer(
      "account_limits_snapshot",
      ["machine_id", "provider", "profile"],
      at,
      m,
      "machine_id, collected_at, provider, profile, window_name, utilization_pct, resets_at, window_minutes",
    ),
  );
  const toolRows = await store.query<{
    machine_id: string;
    collected_at: string;
    tool: string;
    logged_in: boolean | null;
    active_profile: string | null;
    health_status: string | null;
    health_expires_at: string | null;
    identity_email: string | null;
    error: string | null;
  }>(
    latestPer(
      "account_profile_snapshots",
      ["machine_id", "tool"],
      at,
      m,
      "machine_id, collected_at, tool, logged_in, active_profile, health_status, health_expires_at, identity_email, error",
    ),
  );

  const windowsOf = new Map<string, LimitRow[]>();
  for (const w of limitRows) {
    const k = key(w.machine_id, w.provider, w.profile, w.collected_at);
    windowsOf.set(k, [...(windowsOf.get(k) ?? []), w]);
  }
  const activeOf = new Map(toolRows.map((t) => [key(t.machine_id, t.tool), t.active_profile]));
  const profiles: ProfileLimits[] = profileRows.map((p) => {
    const age = note("caam", p.collected_at);
    const windows = (windowsOf.get(key(p.machine_id, p.provider, p.profile, p.collected_at)) ?? [])
      .map((w) => ({ window: w.window_name, used_percent: w.utilization_pct, window_minutes: w.window_minutes, resets_at: w.resets_at, resets_in_s: untilS(at, w.resets_at) }))
      .sort(byWindow);
    const tool = activeOf.get(key(p.machine_id, p.provider));
    return {
      machine_id: p.machine_id,
      provider: p.provider,
      profile: p.profile,
      active: tool === undefined ? null : tool === p.profile,
      collected_at: p.collected_at,
      staleness_s: age,
      stale: flag("caam", p.machine_id, age, p.collected_at),
      plan_type: p.plan_type,
      error: p.error,
      max_used_percent: maxOf(windows.map((w) => w.used_percent)),
      credits_balance: p.credits_balance,
      estimated_depletion: p.estimated_depletion,
      windows,
    };
  });
  const tools: ToolProfile[] = toolRows.map((t) => {
    const age = note("caam", t.collected_at);
    return {
      machine_id: t.machine_id,
      tool: t.tool,
      logged_in: t.logged_in,
      active_profile: t.active_profile,
      health_status: t.health_status,
      health_expires_at: t.health_expires_at,
      expires_in_s: untilS(at, t.health_expires_at),
      identity_email: t.identity_email,
      error: t.error,
      collected_at: t.collected_at,
      staleness_s: age,
      stale: flag("caam", t.machine_id, age, t.collected_at),
    };
  });

  const since = new Date(Date.parse(at) - (options.eventsWindowSeconds ?? 86_400) * 1000).toISOString();
  const events = await store.query<AccountsData["events"][number]>(
    sql`SELECT machine_id, ts, provider, account, event_type, message FROM account_status_events
        WHERE ts > ${since}::TIMESTAMP AND ts <= ${at}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
        ${m === undefined ? sql`` : sql`AND machine_id = ${m}`}
        ORDER BY ts DESC, machine_id, provider LIMIT 100`,
  );

  warnings.unshift(...staleMachines.values());
  // Only the whole fleet's view says why it is empty; a machine's section is simply absent.
  if (m === undefined && accounts.size === 0 && profiles.length === 0 && tools.length === 0 && events.length === 0) {
    warnings.push(await noDataWarning(store, ACCOUNT_TOOLS, at, options.collectors));
  }
  return { data: { accounts: [...accounts.values()], profiles, tools, events }, staleness, warnings };
}

/** caut and caam on this machine: what `vc robot accounts` shows, for this machine only. */
export const accountsSection: MachineSection = {
  name: "accounts",
  async load(q) {
    const { data, staleness } = await accountsView(q.store, q.at, { machineId: q.machineId });
    if (!data.accounts.length && !data.profiles.length && !data.tools.length && !data.events.length) return null;
    return { staleness_s: staleness, ...data };
  },
};

/** `vc robot accounts`: usage per provider account and profile, with staleness. */
export const accountsViewDef = defineView({
  name: "accounts",
  summary: "Provider accounts: used % per window, resets, status (caut); limits per profile, active profile and auth health per tool (caam); stale data flagged",
  args: {},
  run(vc) {
    const staleAfterSeconds = vc.config.polling.interval_seconds * vc.config.polling.stale_after_intervals;
    return accountsView(vc.store, vc.clock.now().toISOString(), { staleAfterSeconds, collectors: vc.config.collectors.map((c) => c.name) });
  },
});
