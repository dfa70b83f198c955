// The Accounts pane: every provider account (caut) and caam profile, how full its fullest window
// is and when it resets; the detail shows each window and where to move work next.
import type { AccountsData, AccountWindow } from "./shapes.ts";
import {
  type Cell,
  type Column,
  type Line,
  type ListItem,
  type ViewState,
  H,
  L,
  absolute,
  ageBadge,
  clean,
  defineScreen,
  has,
  pct,
  providerStyle,
  styles,
  until,
  usedStyle,
} from "vibe-cockpit/tui";

const COLUMNS: Column[] = [
  { id: "dot", title: "", width: 1, priority: 1 },
  { id: "provider", title: "PROVIDER", width: 8, priority: 2 },
  { id: "name", title: "ACCOUNT", width: 12, priority: 1, flex: true },
  { id: "used", title: "USED", width: 5, priority: 1, align: "right" },
  { id: "resets", title: "RESETS", width: 11, priority: 2, align: "right" },
  { id: "machine", title: "MACHINE", width: 10, priority: 3 },
  { id: "state", title: "STATE", width: 6, priority: 3 },
];

/** The soonest reset among the windows that are filling up (the one that frees work first). */
const soonest = (ws: readonly AccountWindow[]) =>
  ws.filter((w) => w.resets_in_s !== null && w.resets_in_s > 0).sort((a, b) => a.resets_in_s! - b.resets_in_s!)[0]?.resets_in_s ?? null;

function items(s: ViewState, d: AccountsData | undefined): ListItem[] {
  const shown = (machine: string, provider: string) => has(machine, s.filter.machine) && has(provider, s.filter.provider);
  const accounts = (d?.accounts ?? [])
    .filter((a) => shown(a.machine_id, a.provider))
    .map(
      (a): ListItem => ({
        key: `account:${a.machine_id}:${a.provider}:${a.account}`,
        group: "ACCOUNTS (caut)",
        machineId: a.machine_id,
        value: { kind: "account", a },
        cells: {
          dot: ["●", providerStyle(a.provider)],
          provider: [a.provider, providerStyle(a.provider)],
          name: [a.account ?? "-", styles.text],
          used: [pct(a.max_used_percent), usedStyle(a.max_used_percent)],
          resets: [until(soonest(a.windows)), styles.dim],
          machine: [a.machine_id, styles.dim],
          state: [a.stale ? "stale" : "", styles.warning],
        },
      }),
    );
  const profiles = (d?.profiles ?? [])
    .filter((p) => shown(p.machine_id, p.provider))
    .map(
      (p): ListItem => ({
        key: `profile:${p.machine_id}:${p.provider}:${p.profile}`,
        group: "PROFILES (caam)",
        machineId: p.machine_id,
        value: { kind: "profile", p },
        cells: {
          dot: [p.active ? "▶" : "●", providerStyle(p.provider)],
          provider: [p.provider, providerStyle(p.provider)],
          name: [p.profile, styles.text],
          used: [p.error ? "error" : pct(p.max_used_percent), p.error ? styles.critical : usedStyle(p.max_used_percent)],
          resets: [until(soonest(p.windows)), styles.dim],
          machine: [p.machine_id, styles.dim],
          state: [p.stale ? "stale" : p.active ? "active" : "", p.stale ? styles.warning : styles.dim],
        },
      }),
    );
  return [...accounts, ...profiles];
}

function windowLine(win: AccountWindow & { reset_description?: string | null }): Line {
  const reset = win.resets_in_s === null ? (win.reset_description ?? "") : win.resets_in_s <= 0 ? "reset passed" : `resets ${until(win.resets_in_s)} (${absolute(win.resets_at)})`;
  return [
    [`  ${clean(win.window).padEnd(10)} `, styles.text],
    [`${pct(win.used_percent)} used`, usedStyle(win.used_percent)],
    [`  ${clean(reset)}`, styles.dim],
  ];
}

/** Where to move work: the fresh account or profile of `provider` with the most headroom (below 85 %), other than `not`. */
function useNext(d: AccountsData, provider: string, not: string | undefined): Line[] {
  const cands = [
    ...d.accounts
      .filter((a) => !a.stale)
      .map((a) => ({
        key: `account:${a.machine_id}:${a.provider}:${a.account}`,
        provider: a.provider,
        name: a.account ?? "-",
        machine: a.machine_id,
        used: a.max_used_percent,
        how: "caut account",
        command: undefined as string | undefined,
      })),
    ...d.profiles
      .filter((p) => !p.stale && !p.error)
      .map((p) => ({
        key: `profile:${p.machine_id}:${p.provider}:${p.profile}`,
        provider: p.provider,
        name: p.profile,
        machine: p.machine_id,
        used: p.max_used_percent,
        how: p.active ? "caam profile, active" : "caam profile",
        command: p.active ? undefined : `caam activate ${p.provider} ${p.profile}`,
      })),
  ].filter((c) => c.provider === provider && c.key !== not && c.used !== null);
  const best = cands.sort((x, y) => x.used! - y.used!)[0];
  if (!best) return [L(`  no other fresh ${clean(provider)} account or profile to move to`, styles.dim)];
  if (best.used! >= 85) return [L(`  every ${clean(provider)} account is near its limit (the least used: ${clean(best.name)} at ${pct(best.used)})`, styles.critical)];
  const line: Cell[] = [
    [`  ${clean(provider)}/${clean(best.name)} `, providerStyle(provider)],
    [`${pct(best.used)} used`, usedStyle(best.used)],
    [` · ${best.how} on ${clean(best.machine)}`, styles.dim],
  ];
  return [line, ...(best.command ? [[["  $ ", styles.title] as Cell, [clean(best.command), styles.text] as Cell]] : [])];
}

export const accountsScreen = defineScreen<AccountsData>({
  id: "accounts",
  title: "Accounts",
  short: "Acct",
  key: "a",
  columns: () => ({ "*": COLUMNS }),
  load: async ({ view }) => (await view("accounts")).data as AccountsData,
  items,
  age: (_s, d) => {
    const ages = [...(d?.accounts ?? []), ...(d?.profiles ?? [])].map((a) => a.staleness_s).filter((x) => typeof x === "number");
    return ages.length ? Math.min(...ages) : null;
  },
  detail(s, d, item) {
    if (!d || (d.accounts.length === 0 && d.profiles.length === 0)) return [H("ACCOUNTS"), L("no account data: caut/caam are not configured or have not run", styles.dim)];
    const v = item?.value as { kind: "account"; a: AccountsData["accounts"][number] } | { kind: "profile"; p: AccountsData["profiles"][number] } | undefined;
    const lines: Line[] = [];
    if (v?.kind === "account") {
      const a = v.a;
      lines.push([
        [`${clean(a.provider)}/${clean(a.account ?? "-")} `, providerStyle(a.provider)],
        [`on ${clean(a.machine_id)} (caut)`, styles.dim],
        ...ageBadge(a.staleness_s, s.staleAfterSeconds),
      ]);
      if (a.auth_warning) lines.push(L(clean(a.auth_warning), styles.warning));
      lines.push(H("WINDOWS"), ...a.windows.map(windowLine));
    } else if (v?.kind === "profile") {
      const p = v.p;
      lines.push([
        [`${clean(p.provider)}/${clean(p.profile)} `, providerStyle(p.provider)],
        [`on ${clean(p.machine_id)} (caam${p.active ? ", active" : ""})`, styles.dim],
        ...ageBadge(p.staleness_s, s.staleAfterSeconds),
      ]);
      if (p.error) lines.push(L(clean(p.error), styles.critical));
      const extra = [
        p.plan_type && `plan ${p.plan_type}`,
        p.credits_balance !== null && `credits ${p.credits_balance}`,
        p.estimated_depletion && `runs out ${absolute(p.estimated_depletion)}`,
      ]
        .filter(Boolean)
        .join(" · ");
      if (extra) lines.push(L(`  ${clean(extra)}`, styles.dim));
      lines.push(H("WINDOWS"), ...p.windows.map(windowLine));
    }
    const provider = v?.kind === "account" ? v.a.provider : v?.kind === "profile" ? v.p.provider : undefined;
    if (provider) lines.push(H(`USE NEXT (${clean(provider)})`), ...useNext(d, provider, item?.key));
    if (!v) lines.push(H("ACCOUNTS"), L(`nothing matches; ${d.accounts.length} accounts and ${d.profiles.length} profiles in all`, styles.dim));
    return lines;
  },
});
