// The Oracle pane (issue 14.8): what the fleet will run out of, and when, from the `oracle` view
// only. Per account window its usage, burn, time to the limit with its interval, what to do (and
// the swap command), and the accounts to move to; then the disks filling, the month's cost, and
// the agents that look stuck. No Overview strip: the whole oracle is too heavy a read for every
// cycle (the account_limit_forecast alert already heads the Overview when an account runs out).
import {
  type Cell,
  type Column,
  type Line,
  type ListItem,
  type Style,
  type ViewState,
  H,
  L,
  absolute,
  ageOf,
  clean,
  defineScreen,
  fieldLines,
  has,
  paragraph,
  pct,
  providerStyle,
  since,
  styles,
  textWidth,
  usedStyle,
} from "vibe-cockpit/tui";
import type { ActionKind, Alternative } from "./accounts.ts";
import type { ProviderCost } from "./cost.ts";
import { bytesText, minutesText, type DiskForecast } from "./disk.ts";
import type { Prophecy } from "./prophecy.ts";
import type { OracleAccount, OracleData } from "./view.ts";

/** The view's answer as the pane keeps it: its data and the warnings that explain an empty one. */
export interface OracleScreenData {
  data: OracleData;
  warnings: string[];
}

/** Accounts are listed by provider: "ACCOUNTS · claude". */
const ACCOUNTS = "ACCOUNTS";
const DISKS = "DISKS FILLING";
const COST = "COST (this month)";
const PROPHECIES = "AGENTS THAT LOOK STUCK";

/** Disks worth a row: at 95 % already, or there within this many minutes (a week). */
const DISK_HORIZON_MIN = 7 * 24 * 60;

const COLUMNS: Record<string, Column[]> = {
  // Every provider's accounts group.
  "*": [
    { id: "dot", title: "", width: 1, priority: 1 },
    { id: "name", title: "ACCOUNT", width: 10, priority: 1, flex: true },
    { id: "win", title: "WIN", width: 3, priority: 2 },
    { id: "bar", title: "USAGE", width: 8, priority: 6 },
    { id: "used", title: "USED", width: 5, priority: 1, align: "right" },
    { id: "limit", title: "LIMIT IN", width: 8, priority: 1, align: "right" },
    { id: "range", title: "BETWEEN", width: 13, priority: 4, align: "right" },
    { id: "action", title: "DO", width: 12, priority: 3 },
  ],
  [DISKS]: [
    { id: "dot", title: "", width: 1, priority: 1 },
    { id: "name", title: "DISK", width: 10, priority: 1, flex: true },
    { id: "used", title: "USED", width: 5, priority: 1, align: "right" },
    { id: "limit", title: "95 % IN", width: 8, priority: 1, align: "right" },
    { id: "action", title: "FULL IN", width: 8, priority: 2, align: "right" },
  ],
  [COST]: [
    { id: "dot", title: "", width: 1, priority: 1 },
    { id: "name", title: "PROVIDER", width: 8, priority: 1, flex: true },
    { id: "used", title: "SO FAR", width: 8, priority: 1, align: "right" },
    { id: "limit", title: "HEADING", width: 8, priority: 1, align: "right" },
    { id: "action", title: "RANGE", width: 13, priority: 3, align: "right" },
  ],
  [PROPHECIES]: [
    { id: "dot", title: "", width: 1, priority: 1 },
    { id: "name", title: "AGENT", width: 12, priority: 1, flex: true },
    { id: "used", title: "KIND", width: 8, priority: 1 },
    { id: "limit", title: "RISK", width: 6, priority: 2 },
  ],
};

// The mark says how urgent without colour too (NO_COLOR): ● fine, ▲ act soon, ! act now.
const ACTION: Record<ActionKind, { label: string; style: Style; mark: string }> = {
  continue: { label: "ok", style: styles.healthy, mark: "●" },
  slow_down: { label: "slow down", style: styles.warning, mark: "▲" },
  prepare_swap: { label: "prepare swap", style: styles.warning, mark: "▲" },
  swap_now: { label: "SWAP NOW", style: styles.critical, mark: "!" },
  emergency_pause: { label: "PAUSE", style: styles.critical, mark: "!" },
};
const actionOf = (kind: ActionKind) => ACTION[kind] ?? { label: clean(kind), style: styles.text, mark: "●" };

/** `[██████░░░░]`: how full, in `w` cells between the brackets. */
export function usageBar(percent: number | null, w: number): string {
  const n = Math.max(1, w);
  const full = percent === null || !Number.isFinite(percent) ? 0 : Math.round((Math.max(0, Math.min(100, percent)) / 100) * n);
  return `[${"█".repeat(full)}${"░".repeat(n - full)}]`;
}

/** "45–70 min", "50 min–2.1 h", "45 min–after the reset": an interval, one unit when both ends share it. */
export function interval(low: number | null, high: number | null, never = "after the reset"): string {
  if (low === null) return "";
  const lo = minutesText(low);
  const hi = high === null ? never : minutesText(high);
  if (lo === hi) return lo;
  const [lv, lu] = lo.split(" ");
  const [hv, hu] = hi.split(" ");
  return lu && lu === hu ? `${lv}–${hv} ${hu}` : `${lo}–${hi}`;
}

/** "in 56 min (45–70 min)", or "now", or "not before the reset". */
export function limitText(a: Pick<OracleAccount, "used_percent" | "time_to_limit_min" | "low_min" | "high_min">): string {
  if (a.used_percent >= 100) return "at its limit now";
  if (a.time_to_limit_min === null) return "not before the reset";
  const range = interval(a.low_min, a.high_min);
  return `in ${minutesText(a.time_to_limit_min)}${range && range !== minutesText(a.time_to_limit_min) ? ` (${range})` : ""}`;
}

/** A window's length as "5h" / "7d" (the first letters of its name when unknown). */
const windowLabel = (a: Pick<OracleAccount, "window" | "window_minutes">) =>
  a.window_minutes === null ? clean(a.window).slice(0, 3) : a.window_minutes >= 1440 ? `${Math.round(a.window_minutes / 1440)}d` : `${Math.round(a.window_minutes / 60)}h`;

const r1 = (x: number) => Math.round(x * 10) / 10;
/** A rate with the digits that matter: 30, 1.5, 0.25. */
const rate = (x: number) => String(Math.abs(x) >= 10 ? Math.round(x) : Math.abs(x) >= 1 ? r1(x) : Math.round(x * 100) / 100);
const usd = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? "-" : v >= 100 ? `$${Math.round(v)}` : `$${v.toFixed(2)}`);
const until = (iso: string | null, now: Date) => {
  const s = iso === null ? null : (Date.parse(iso) - now.getTime()) / 1000;
  return s === null || !Number.isFinite(s) ? "" : s <= 0 ? "now" : `in ${minutesText(s / 60)}`;
};
/** A time to a threshold: "now" at 0, "-" when it does not come. */
const when = (min: number | null) => (min === null ? "-" : min <= 0 ? "now" : minutesText(min));
/** Disks and accounts alike: red within a day, amber within a week. */
const soonStyle = (min: number | null) => (min === null ? styles.healthy : min < 24 * 60 ? styles.critical : min < 7 * 24 * 60 ? styles.warning : styles.healthy);
const riskStyle = (risk: string) => (risk === "high" ? styles.critical : risk === "medium" ? styles.warning : styles.dim);

type Row = { kind: "account"; a: OracleAccount } | { kind: "disk"; d: DiskForecast } | { kind: "cost"; p: ProviderCost | null } | { kind: "prophecy"; p: Prophecy };

/** The disks worth a row: at 95 % already, or there within the horizon. */
const filling = (d: DiskForecast) => d.to_95_min !== null && d.to_95_min <= DISK_HORIZON_MIN;

function items(s: ViewState, d: OracleScreenData | undefined): ListItem[] {
  if (!d) return [];
  const o = d.data;
  const { machine, provider } = s.filter;
  const out: ListItem[] = [];
  for (const a of o.accounts) {
    if (!has(a.provider, provider) || (machine && ![...a.machines, ...a.active_on].some((m) => has(m, machine)))) continue;
    const act = actionOf(a.action.kind);
    out.push({
      key: `oracle:account:${a.key}`,
      group: `${ACCOUNTS} · ${a.provider}`,
      machineId: a.active_on[0] ?? a.machines[0] ?? null,
      value: { kind: "account", a } satisfies Row,
      text: `${a.key} ${a.profile ?? ""} ${a.action.text}`,
      cells: {
        dot: [act.mark, act.style],
        name: [a.account, providerStyle(a.provider)],
        win: [windowLabel(a), styles.dim],
        bar: [usageBar(a.used_percent, 6), usedStyle(a.used_percent)],
        used: [pct(a.used_percent), usedStyle(a.used_percent)],
        limit: [a.used_percent >= 100 ? "now" : when(a.time_to_limit_min), a.time_to_limit_min === null ? styles.dim : act.style],
        range: [a.used_percent >= 100 ? "" : interval(a.low_min, a.high_min), styles.dim],
        action: [act.label, act.style],
      },
    });
  }
  // Grouped by provider, each in the view's order (the soonest limit first).
  out.sort((x, y) => (x.group < y.group ? -1 : x.group > y.group ? 1 : 0));
  if (!provider)
    for (const disk of o.disks.filter(filling)) {
      if (!has(disk.machine_id, machine)) continue;
      out.push({
        key: `oracle:disk:${disk.machine_id}:${disk.mount}`,
        group: DISKS,
        machineId: disk.machine_id,
        value: { kind: "disk", d: disk } satisfies Row,
        text: disk.reason,
        cells: {
          dot: ["●", soonStyle(disk.to_95_min)],
          name: [`${disk.machine_id}:${disk.mount}`, styles.text],
          used: [pct(disk.used_percent), usedStyle(disk.used_percent)],
          limit: [when(disk.to_95_min), soonStyle(disk.to_95_min)],
          action: [when(disk.to_full_min), styles.dim],
        },
      });
    }
  const month = o.cost.month;
  if (!machine && (month.to_date_usd !== null || o.cost.by_provider.length > 0)) {
    if (!provider)
      out.push({
        key: "oracle:cost:month",
        group: COST,
        machineId: null,
        value: { kind: "cost", p: null } satisfies Row,
        cells: {
          dot: ["●", styles.title],
          name: [`all (${month.month})`, styles.text],
          used: [usd(month.to_date_usd), styles.text],
          limit: [usd(month.projected_usd), styles.title],
          action: [month.low_usd === null ? "" : `${usd(month.low_usd)}–${usd(month.high_usd)}`, styles.dim],
        },
      });
    for (const p of o.cost.by_provider.filter((x) => has(x.provider, provider)))
      out.push({
        key: `oracle:cost:${p.provider}`,
        group: COST,
        machineId: null,
        value: { kind: "cost", p } satisfies Row,
        cells: {
          dot: ["●", providerStyle(p.provider)],
          name: [p.provider, providerStyle(p.provider)],
          used: [usd(p.month_to_date_usd), styles.text],
          limit: [usd(p.projected_month_usd), styles.text],
          action: [p.low_usd === null ? "" : `${usd(p.low_usd)}–${usd(p.high_usd)}`, styles.dim],
        },
      });
  }
  for (const p of o.prophecies) {
    if (!has(p.machine_id, machine) || !has(p.agent_type, provider)) continue;
    out.push({
      key: `oracle:prophecy:${p.machine_id}:${p.session}:${p.pane}:${p.kind}`,
      group: PROPHECIES,
      machineId: p.machine_id,
      value: { kind: "prophecy", p } satisfies Row,
      text: p.reason,
      cells: {
        dot: ["●", riskStyle(p.risk)],
        name: [`${p.machine_id} ${p.session}:${p.pane}`, styles.text],
        used: [p.kind.replace(/_/g, " "), riskStyle(p.risk)],
        limit: [p.risk, riskStyle(p.risk)],
      },
    });
  }
  return out;
}

/** The headline of an account window: how full, when its limit comes, what to do and the command — one line when it fits in `w`. */
function accountHeadline(a: OracleAccount, w: number): Line[] {
  const act = actionOf(a.action.kind);
  const used: Line = [
    [`${pct(a.used_percent)} used`, usedStyle(a.used_percent)],
    [" · limit ", styles.dim],
    [limitText(a), a.time_to_limit_min === null && a.used_percent < 100 ? styles.dim : act.style],
  ];
  const todo: Line = [[`${act.mark} ${act.label}`, act.style]];
  const cmd = a.action.kind === "continue" ? null : (a.action.to?.command ?? null);
  const dollar: Line = cmd ? [["$ ", styles.title] as Cell, [clean(cmd), styles.text] as Cell] : [];
  const width = (l: Line) => l.reduce((n, [t]) => n + textWidth(t), 0);
  const sep: Cell = ["  ", styles.dim];
  if (width(used) + width(todo) + width(dollar) + 4 <= w) return [[...used, sep, ...todo, ...(cmd ? [sep, ...dollar] : [])]];
  if (width(todo) + width(dollar) + 2 <= w) return [used, [...todo, ...(cmd ? [sep, ...dollar] : [])]];
  return [used, todo, ...(cmd ? [[["  ", styles.dim] as Cell, ...dollar]] : [])];
}

function alternativeLines(s: ViewState, alts: readonly Alternative[], w: number): Line[] {
  if (alts.length === 0) return [L("  no other account of this provider is known", styles.dim)];
  const out: Line[] = [];
  for (const x of alts.slice(0, 4)) {
    out.push([
      [`  ${clean(x.account)} `, providerStyle(x.provider)],
      [`${pct(x.used_percent)} used`, usedStyle(x.used_percent)],
      [` · ${pct(x.headroom_percent)} headroom`, styles.dim],
      [x.time_to_limit_min === null ? "" : ` · limit in ${minutesText(x.time_to_limit_min)}`, styles.dim],
      [x.resets_at ? ` · resets ${until(x.resets_at, s.now)}` : "", styles.dim],
    ]);
    if (x.command && w >= 30) out.push([["    $ ", styles.dim] as Cell, [clean(x.command), styles.dim] as Cell]);
  }
  if (alts.length > 4) out.push(L(`  … ${alts.length - 4} more`, styles.dim));
  return out;
}

function accountDetail(s: ViewState, a: OracleAccount, w: number): Line[] {
  const barW = Math.max(10, Math.min(30, w - 14));
  const agents = a.working_agents === null ? null : r1(a.working_agents);
  const lines: Line[] = [
    [
      [`${clean(a.provider)}/${clean(a.account)} `, providerStyle(a.provider)],
      [`${clean(a.window)} window${a.window_minutes === null ? "" : ` (${windowLabel(a)})`}`, styles.dim],
    ],
    ...accountHeadline(a, w),
    H("USAGE"),
    [
      [`  ${usageBar(a.used_percent, barW)} `, usedStyle(a.used_percent)],
      [pct(a.used_percent), usedStyle(a.used_percent)],
    ],
    L(
      `  burn ${rate(a.burn_per_min * 60)} points/h${agents === null ? "" : ` · ${agents} agent${agents === 1 ? "" : "s"} working`}${a.burn_per_agent_min === null ? "" : ` · ${rate(a.burn_per_agent_min * 60)}/h each`}`,
      styles.text,
    ),
    L(`  resets ${a.resets_at ? `${until(a.resets_at, s.now)} (${absolute(a.resets_at)})` : "unknown"}`, styles.dim),
    H("LIMIT"),
    [
      [`  ${limitText(a)}`, a.time_to_limit_min === null ? styles.dim : actionOf(a.action.kind).style],
      [a.limit_at ? `  at ${absolute(a.limit_at)}` : "", styles.dim],
    ],
    L(`  confidence ${a.confidence_level}${a.confidence_reasons.length ? `: ${clean(a.confidence_reasons.join("; "))}` : ""}`, styles.dim),
    H(`DO: ${actionOf(a.action.kind).label}`),
    ...paragraph(a.action.text || "nothing to do", w),
    ...(a.best_swap_at ? [L(`  swap by ${absolute(a.best_swap_at)} (${until(a.best_swap_at, s.now)})`, styles.warning)] : []),
    H("ALTERNATIVES"),
    ...alternativeLines(s, a.alternatives, w),
    H("SEEN"),
    ...fieldLines(
      [
        ["by", `${a.sources.join(", ")} on ${a.machines.join(", ")}`],
        ["active on", a.active_on.join(", ")],
        ["fleet signal", a.fleet_signal.used ? "used" : a.fleet_signal.reason],
        ["newest", `${absolute(a.as_of)} (${since(a.staleness_s)})`],
        [
          "record",
          a.accuracy.n
            ? `${a.accuracy.n} scored, off by ${a.accuracy.mae_min === null ? "-" : minutesText(a.accuracy.mae_min)}, ${pct((a.accuracy.coverage ?? 0) * 100)} in the interval`
            : null,
        ],
      ],
      w,
    ),
  ];
  return lines;
}

function diskDetail(d: DiskForecast, w: number): Line[] {
  const barW = Math.max(10, Math.min(30, w - 14));
  /** " (a–b)" of an interval, nothing when it reads the same as `main`. */
  const range = (main: string, lo: string, hi: string) => (lo === hi && lo === main ? "" : ` (${lo}–${hi})`);
  const growth =
    d.growth_bytes_per_hour === null
      ? "growth unknown: too few samples"
      : `fills ${bytesText(d.growth_bytes_per_hour)}/h${
          d.growth_low_bytes_per_hour === null || d.growth_high_bytes_per_hour === null
            ? ""
            : range(bytesText(d.growth_bytes_per_hour), bytesText(d.growth_low_bytes_per_hour), `${bytesText(d.growth_high_bytes_per_hour)}`)
        }`;
  const reach = (m: number | null, lo: number | null, hi: number | null) => {
    if (m === null) return "not at this pace";
    const i = interval(lo, hi, "never");
    return `in ${minutesText(m)}${i && i !== minutesText(m) ? ` (${i})` : ""}`;
  };
  return [
    [
      [`${clean(d.machine_id)}:${clean(d.mount)} `, styles.text],
      [d.fs_type ? `(${clean(d.fs_type)})` : "", styles.dim],
    ],
    [
      [`  ${usageBar(d.used_percent, barW)} `, usedStyle(d.used_percent)],
      [`${pct(d.used_percent)} · ${bytesText(d.free_bytes)} free of ${bytesText(d.total_bytes)}`, usedStyle(d.used_percent)],
    ],
    L(`  ${growth}`, styles.text),
    [
      ["  95 % ", styles.dim],
      [d.to_95_min === 0 ? "reached" : reach(d.to_95_min, d.to_95_low_min, d.to_95_high_min), soonStyle(d.to_95_min)],
    ],
    [
      ["  full ", styles.dim],
      [reach(d.to_full_min, d.to_full_low_min, d.to_full_high_min), soonStyle(d.to_full_min)],
    ],
    L(`  confidence ${d.confidence} · ${d.samples} samples over ${d.history_hours} h`, styles.dim),
    H("WHY"),
    ...paragraph(d.reason, w, styles.dim),
  ];
}

function costDetail(o: OracleData, p: ProviderCost | null, w: number): Line[] {
  const m = o.cost.month;
  const lines: Line[] = [];
  if (p)
    lines.push(
      L(clean(p.provider), providerStyle(p.provider)),
      ...fieldLines(
        [
          ["so far", usd(p.month_to_date_usd)],
          ["heading for", p.projected_month_usd === null ? null : `${usd(p.projected_month_usd)}${p.low_usd === null ? "" : ` (${usd(p.low_usd)}–${usd(p.high_usd)})`}`],
          ["last 30 days", usd(p.last_30d_usd)],
        ],
        w,
      ),
    );
  lines.push(
    H(`MONTH ${clean(m.month)}`),
    L(`  ${usd(m.to_date_usd)} so far, day ${r1(m.days_elapsed)} of ${m.days_in_month}`, styles.text),
    L(
      m.projected_usd === null
        ? "  no projection (no complete day of cost yet)"
        : `  heading for ${usd(m.projected_usd)}${m.low_usd === null ? "" : ` (${usd(m.low_usd)}–${usd(m.high_usd)}, 80 %)`}`,
      m.projected_usd === null ? styles.dim : styles.title,
    ),
  );
  if (!p)
    for (const x of o.cost.by_provider)
      lines.push([
        [`  ${clean(x.provider).padEnd(8)} `, providerStyle(x.provider)],
        [`${usd(x.month_to_date_usd)} → ${usd(x.projected_month_usd)}`, styles.text],
      ]);
  const opp = o.cost.opportunities.filter((x) => !p || JSON.stringify(x.evidence).includes(p.provider));
  if (opp.length) lines.push(H("SAVINGS"), ...opp.slice(0, 3).flatMap((x) => paragraph(x.text, w)));
  return lines;
}

function prophecyDetail(s: ViewState, p: Prophecy, w: number): Line[] {
  return [
    [
      [`${clean(p.agent_type ?? "agent")} in ${clean(p.session)} pane ${clean(p.pane)} `, styles.title],
      [`on ${clean(p.machine_id)}`, styles.dim],
    ],
    [
      [`● ${clean(p.kind).replace(/_/g, " ")}, ${clean(p.risk)} risk`, riskStyle(p.risk)],
      [p.probability === null ? "" : ` · ${pct(p.probability * 100)} chance of failing within the hour`, styles.dim],
    ],
    L(`  since ${absolute(p.since)} (${since(ageOf(p.since, s.now))})`, styles.dim),
    ...paragraph(p.reason, w),
    ...(p.indicators.length ? [H("SIGNS"), ...p.indicators.slice(0, 4).map((i) => L(`  ${clean(i.text)}`, styles.text))] : []),
    ...(p.evidence.length ? [H("EVIDENCE"), ...p.evidence.slice(0, 3).map((e) => L(`  ${clean(e.summary)}`, styles.dim))] : []),
  ];
}

/** What the pane says with nothing to show: why, from the view's warnings. */
function emptyDetail(d: OracleScreenData | undefined, w: number): Line[] {
  if (!d) return [H("ORACLE"), L("loading…", styles.dim)];
  const o = d.data;
  const any = o.accounts.length + o.disks.length + o.prophecies.length > 0 || o.cost.month.to_date_usd !== null;
  const lines: Line[] = [
    H("ORACLE"),
    L(any ? "nothing matches the filter or the search" : "nothing to forecast yet: no account usage, disk history or cost in the store", styles.dim),
  ];
  for (const why of d.warnings.slice(0, 3)) lines.push(...paragraph(why, w, styles.dim));
  return lines;
}

export const oracleScreen = defineScreen<OracleScreenData>({
  id: "oracle",
  title: "Oracle",
  short: "Orac",
  key: "o",
  columns: () => COLUMNS,
  async load({ view }) {
    const r = await view("oracle");
    return { data: r.data as OracleData, warnings: r.warnings ?? [] };
  },
  items,
  age: (s, d) => {
    const ages = [...(d?.data.accounts ?? []).map((a) => a.staleness_s), ...(d?.data.disks ?? []).map((x) => ageOf(x.collected_at, s.now))].filter(
      (x): x is number => typeof x === "number",
    );
    return ages.length ? Math.min(...ages) : null;
  },
  detail(s, d, item, w) {
    const v = item?.value as Row | undefined;
    if (!d || !v) return emptyDetail(d, w);
    switch (v.kind) {
      case "account":
        return accountDetail(s, v.a, w);
      case "disk":
        return diskDetail(v.d, w);
      case "cost":
        return costDetail(d.data, v.p, w);
      case "prophecy":
        return prophecyDetail(s, v.p, w);
    }
  },
});
