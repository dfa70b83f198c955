// The cockpit's screen as a pure function: a view-state (screen, selection, filter, search, the
// data last read from the library, size, now) in, a frame (rows of styled runs) out. No terminal,
// no I/O: the renderer draws it, the tests read it.
import type { AlertView } from "../alerts/ops.ts";
import type { AccountsData, AccountUsage, AccountWindow, ProfileLimits, ReposData, RepoLine } from "../views/shapes.ts";
import type { TriageItem } from "../triage.ts";
import { ago, ageOf, breakAt, bytes, clean, fit, graphemes, num, sparkline, textWidth, timeBuckets } from "./text.ts";
import { alertEvent, EVENT_GROUPS, type EventView } from "./events.ts";
import { providerStyle, severityStyle, styles, type Style } from "./theme.ts";

/** A stretch of text in one style. */
export interface Run {
  text: string;
  style: Style;
}
/** One terminal row: runs whose text adds up to exactly the frame's width. */
export type Row = Run[];
export interface Frame {
  width: number;
  height: number;
  rows: Row[];
}

export type ScreenId = "overview" | "machine" | "repos" | "accounts" | "agents" | "events" | "beads" | "oracle" | "guardian" | "repo" | "event";

/** Titles of the drill-down levels that have no tab: one repo's events, one event in full. */
const LEVEL_TITLES: Partial<Record<ScreenId, string>> = { repo: "Repo", event: "Event" };

/** The screens in tab order, with their jump keys. */
export const screens: readonly { id: ScreenId; title: string; short: string; key: string }[] = [
  { id: "overview", title: "Overview", short: "Over", key: "1" },
  { id: "machine", title: "Machine", short: "Mach", key: "2" },
  { id: "repos", title: "Repos", short: "Repo", key: "3" },
  { id: "accounts", title: "Accounts", short: "Acct", key: "4" },
  { id: "agents", title: "Agents&Mail", short: "Mail", key: "5" },
  { id: "events", title: "Events", short: "Evnt", key: "6" },
  { id: "beads", title: "Beads", short: "Bead", key: "7" },
  { id: "oracle", title: "Oracle", short: "Orcl", key: "8" },
  { id: "guardian", title: "Guardian", short: "Guard", key: "9" },
];

/** One machine's health as `robotHealth()` gives it. */
export interface MachineSummary {
  id: string;
  score: number;
  severity: string;
  top_issue: string | null;
  last_sample_at: string | null;
}

/** A machine's detail: `robotMachine(id).data` and its recent samples for the sparklines. */
export interface MachineDetail {
  view: Record<string, unknown>;
  /** rano connections in the window, by provider and domain (busiest first). */
  rano?: Record<string, unknown>[];
  /** Samples as [epoch seconds, value] between `from` and `to` (epoch seconds). */
  series: { from: number; to: number; cpu: Point[]; load: Point[]; mem: Point[]; disk: Point[] };
  loadedAt: string;
}

export type Point = readonly [number, number | null];

/** What the cockpit last read from the library. */
export interface TuiData {
  source: "daemon" | "local";
  /** When the views were last read. */
  loadedAt: string | null;
  /** The last poll cycle seen (in-process) or daemon event. */
  lastCycleAt: string | null;
  health: { overall: { score: number; severity: string }; machines: MachineSummary[]; staleness: Record<string, number | null>; warnings: string[] } | null;
  triage: { items: TriageItem[]; suggestions: Record<string, { title: string; command?: string }[]> } | null;
  alerts: AlertView[];
  machines: Record<string, MachineDetail>;
  repos: ReposData | null;
  accounts: AccountsData | null;
  /** The newest bv triage per repo_id: recommendations and blockers. */
  beads?: Record<string, { recommendations: { id: string; title: string; score?: number }[]; blockers: { id: string; title: string; unblocks_count?: number }[] }>;
  /** The Events screen's events (dcg, pt, rano, mail; alerts come from `alerts`). */
  events?: EventView[];
  /** The drilled-into repo's events, keyed by the repo they belong to. */
  repoEvents?: { key: string; events: EventView[] };
  /** The last content search (cass): its hits as events, machines that could not answer. */
  sessions?: { query: string; pending: boolean; events: EventView[]; errors: string[] };
  errors: string[];
}

export type Mode = "normal" | "search" | "filter" | "help";

export interface Filter {
  machine?: string;
  repo?: string;
  provider?: string;
  /** Hours of history in the sparklines. */
  windowHours?: number;
}

export interface ViewState {
  screen: ScreenId;
  /** Selected index in each screen's list. */
  selected: Partial<Record<ScreenId, number>>;
  /** The machine the machine/agents/events screens show (set by drill-down). */
  machineId: string | null;
  mode: Mode;
  /** The text being typed in the search or filter bar. */
  input: string;
  search: string;
  filter: Filter;
  /** A one-line status ("acked …", an error). */
  message: string | null;
  data: TuiData;
  width: number;
  height: number;
  now: Date;
  /** Data older than this is marked STALE. */
  staleAfterSeconds: number;
  /** Where Esc goes back to: the levels drilled through. */
  back: Crumb[];
  /** The repo the repo level shows. */
  repo: RepoRef | null;
  /** The event the event level shows. */
  event: EventView | null;
  /** Lines scrolled on the event level. */
  scroll: number;
}

export type RepoRef = RepoLine & { machine_id: string; collected_at?: string };
/** What a drill-down step saves, so Esc restores it. */
export type Crumb = Pick<ViewState, "screen" | "machineId" | "filter" | "selected" | "repo" | "event" | "scroll">;

/** An empty snapshot (before the first load). */
export function emptyData(source: TuiData["source"] = "local"): TuiData {
  return { source, loadedAt: null, lastCycleAt: null, health: null, triage: null, alerts: [], machines: {}, repos: null, accounts: null, errors: [] };
}

/** "machine:node-0 provider:claude window:6h", or a bare word for the machine. */
export function parseFilter(text: string): Filter {
  const f: Filter = {};
  for (const tok of text.trim().split(/\s+/).filter(Boolean)) {
    const [k, ...rest] = tok.split(/[:=]/);
    const v = rest.join(":");
    if (!v) f.machine = k;
    else if (k === "machine" || k === "m") f.machine = v;
    else if (k === "repo" || k === "r") f.repo = v;
    else if (k === "provider" || k === "p") f.provider = v;
    else if (k === "window" || k === "w") {
      const h = /^(\d+(?:\.\d+)?)\s*(h|d|m)?$/.exec(v);
      if (h) f.windowHours = Number(h[1]) * (h[2] === "d" ? 24 : h[2] === "m" ? 1 / 60 : 1);
    }
  }
  return f;
}

/** The filter as the text that parses back to it. */
export function formatFilter(f: Filter): string {
  return [f.machine && `machine:${f.machine}`, f.repo && `repo:${f.repo}`, f.provider && `provider:${f.provider}`, f.windowHours && `window:${f.windowHours}h`]
    .filter(Boolean)
    .join(" ");
}

// ---- list items -------------------------------------------------------------------------------

type Cell = [string, Style];

/** One selectable row of the left pane. */
export interface ListItem {
  key: string;
  group: string;
  cells: Cell[];
  kind: "alert" | "machine" | "repo" | "account" | "event";
  machineId: string | null;
  alert?: AlertView;
  repo?: RepoRef;
  event?: EventView;
  account?: AccountUsage;
  profile?: ProfileLimits;
}

const SEV_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4, ok: 5 };
const has = (hay: string | null | undefined, needle: string | undefined) => !needle || (hay ?? "").toLowerCase().includes(needle.toLowerCase());

function alertItems(s: ViewState): ListItem[] {
  return [...s.data.alerts]
    .filter((a) => a.state !== "resolved" && has(a.machine_id, s.filter.machine))
    .sort((a, b) => (a.state === b.state ? 0 : a.state === "firing" ? -1 : 1) || (SEV_RANK[a.severity] ?? 9) - (SEV_RANK[b.severity] ?? 9))
    .map((a) => ({
      key: `alert:${a.alert_id}`,
      group: "ALERTS",
      kind: "alert" as const,
      machineId: a.machine_id,
      alert: a,
      cells: [
        [a.acked ? "✓" : a.silenced_by ? "~" : "●", a.acked || a.silenced_by ? styles.dim : severityStyle(a.severity)],
        [` ${clean(a.severity).slice(0, 4).padEnd(4)} `, severityStyle(a.severity)],
        [`${clean(a.machine_id ?? "fleet")} `, styles.text],
        // The message tells one alert from another (six "Account near its limit" titles do not).
        [clean(a.message || a.title || a.rule), styles.dim],
      ],
    }));
}

function machineItems(s: ViewState): ListItem[] {
  return (s.data.health?.machines ?? [])
    .filter((m) => has(m.id, s.filter.machine))
    .sort((a, b) => a.score - b.score || a.id.localeCompare(b.id))
    .map((m) => {
      const age = ageOf(m.last_sample_at, s.now);
      const stale = age === null || age > s.staleAfterSeconds;
      return {
        key: `machine:${m.id}`,
        group: "MACHINES",
        kind: "machine" as const,
        machineId: m.id,
        cells: [
          ["●", severityStyle(m.severity)],
          [` ${clean(m.id)} `, styles.text],
          [`${Math.round(m.score * 100)}% `, severityStyle(m.severity)],
          [clean(m.top_issue ?? ""), styles.dim],
          [stale ? ` stale ${ago(age)}` : "", styles.warning],
        ],
      };
    });
}

function repoItems(s: ViewState): ListItem[] {
  const out: ListItem[] = [];
  for (const m of s.data.repos?.machines ?? []) {
    if (!has(m.id, s.filter.machine)) continue;
    for (const r of m.repos) {
      const name = clean(r.repo ?? r.path ?? r.repo_id);
      if (!has(name, s.filter.repo)) continue;
      const flags = [r.dirty ? "dirty" : "", r.ahead ? `↑${r.ahead}` : "", r.behind ? `↓${r.behind}` : ""].filter(Boolean).join(" ");
      out.push({
        key: `repo:${m.id}:${r.repo_id}`,
        group: "REPOS",
        kind: "repo",
        machineId: m.id,
        repo: { ...r, machine_id: m.id, collected_at: m.collected_at },
        cells: [
          [r.dirty || r.mismatch ? "●" : "○", r.dirty || r.mismatch ? styles.warning : styles.healthy],
          [` ${clean(m.id)}:`, styles.dim],
          [`${name} `, styles.text],
          [flags, styles.warning],
          [r.beads_ready ? ` ${r.beads_ready} ready` : "", styles.dim],
        ],
      });
    }
  }
  return out;
}

const usedStyle = (used: number | null) => (used !== null && used >= 85 ? styles.critical : used !== null && used >= 60 ? styles.warning : styles.healthy);

function accountItems(s: ViewState): ListItem[] {
  const shown = (machine: string, provider: string) => has(machine, s.filter.machine) && has(provider, s.filter.provider);
  const accounts = (s.data.accounts?.accounts ?? [])
    .filter((a) => shown(a.machine_id, a.provider))
    .map((a): ListItem => {
      const used = a.max_used_percent;
      return {
        key: `account:${a.machine_id}:${a.provider}:${a.account}`,
        group: "ACCOUNTS (caut)",
        kind: "account",
        machineId: a.machine_id,
        account: a,
        cells: [
          ["●", providerStyle(a.provider)],
          [` ${clean(a.provider)}`, providerStyle(a.provider)],
          [`/${clean(a.account ?? "-")} `, styles.text],
          [used === null ? "-" : `${Math.round(used)}%`, usedStyle(used)],
          [a.stale ? " stale" : "", styles.warning],
        ],
      };
    });
  const profiles = (s.data.accounts?.profiles ?? [])
    .filter((p) => shown(p.machine_id, p.provider))
    .map(
      (p): ListItem => ({
        key: `profile:${p.machine_id}:${p.provider}:${p.profile}`,
        group: "PROFILES (caam)",
        kind: "account",
        machineId: p.machine_id,
        profile: p,
        cells: [
          [p.active ? "▶" : "●", providerStyle(p.provider)],
          [` ${clean(p.provider)}`, providerStyle(p.provider)],
          [`/${clean(p.profile)} `, styles.text],
          [p.error ? "error" : p.max_used_percent === null ? "-" : `${Math.round(p.max_used_percent)}%`, p.error ? styles.critical : usedStyle(p.max_used_percent)],
          [p.stale ? " stale" : p.active ? " active" : "", p.stale ? styles.warning : styles.dim],
        ],
      }),
    );
  return [...accounts, ...profiles];
}

/** Where to move work: the fresh account or caam profile of `provider` with the most headroom (below 85 %), other than `not`. */
function useNext(s: ViewState, provider: string, not: string | undefined): Line[] {
  const cands = [
    ...(s.data.accounts?.accounts ?? [])
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
    ...(s.data.accounts?.profiles ?? [])
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
  if (best.used! >= 85) return [L(`  every ${clean(provider)} account is near its limit (the least used: ${clean(best.name)} at ${num(best.used, 0)}%)`, styles.critical)];
  return [
    [
      [`  ${clean(provider)}/${clean(best.name)} `, providerStyle(provider)],
      [`${num(best.used, 0)}% used`, usedStyle(best.used)],
      [` · ${best.how} on ${clean(best.machine)}`, styles.dim],
    ],
    ...(best.command
      ? [
          [
            ["  $ ", styles.title],
            [clean(best.command), styles.text],
          ] as Line,
        ]
      : []),
  ];
}

function windowLine(win: AccountWindow & { reset_description?: string | null }): Line {
  const reset = win.reset_description ?? (win.resets_in_s === null ? "" : win.resets_in_s <= 0 ? "reset passed" : `resets in ${ago(win.resets_in_s)}`);
  return [
    [`  ${clean(win.window).padEnd(10)} `, styles.text],
    [`${num(win.used_percent, 0)}% used`, usedStyle(win.used_percent)],
    [`  ${clean(reset)}`, styles.dim],
  ];
}

const hhmm = (at: string | null, now: Date) => {
  if (!at) return "--:--";
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return "--:--";
  // Today's events by time of day, older ones by date.
  return now.getTime() - d.getTime() < 86_400_000 ? d.toISOString().slice(11, 16) : d.toISOString().slice(5, 10);
};

function eventItem(e: EventView, s: ViewState, showMachine: boolean): ListItem {
  return {
    key: `event:${e.key}`,
    group: EVENT_GROUPS[e.kind],
    kind: "event",
    machineId: e.machineId,
    event: e,
    alert: e.alert,
    cells: [
      [e.alert?.acked ? "✓" : e.alert?.silenced_by ? "~" : "●", e.alert?.acked || e.alert?.silenced_by ? styles.dim : severityStyle(e.severity)],
      [` ${hhmm(e.at, s.now)} `, styles.dim],
      [showMachine && e.machineId ? `${clean(e.machineId)} ` : "", styles.text],
      [clean(e.alert?.message || e.title), styles.text],
    ],
  };
}

function eventsScreenItems(s: ViewState): ListItem[] {
  const alerts = s.data.alerts.filter((a) => a.state !== "resolved" && has(a.machine_id, s.filter.machine)).map(alertEvent);
  const events = (s.data.events ?? []).filter((e) => has(e.machineId, s.filter.machine));
  return [...alerts, ...events].map((e) => eventItem(e, s, true));
}

/** The left pane's selectable items on the current screen, after filter and search. */
export function listItems(s: ViewState): ListItem[] {
  let items: ListItem[];
  switch (s.screen) {
    case "overview":
      items = [...alertItems(s), ...machineItems(s)];
      break;
    case "machine":
    case "agents":
      items = machineItems(s);
      break;
    case "repos":
      items = repoItems(s);
      break;
    case "beads":
      items = repoItems(s).filter((i) => i.repo?.beads_ready !== null);
      break;
    case "accounts":
      items = accountItems(s);
      break;
    case "events":
      items = eventsScreenItems(s);
      break;
    case "repo":
      items = s.repo && s.data.repoEvents?.key === repoKey(s.repo) ? s.data.repoEvents.events.map((e) => eventItem(e, s, false)) : [];
      break;
    default:
      items = [];
  }
  if (s.search) {
    items = items.filter((i) => has(i.cells.map((c) => c[0]).join(""), s.search) || has(i.alert?.message, s.search) || has(i.event?.text, s.search));
    // Content found by cass follows the facts vc matched.
    const found = s.data.sessions;
    if (found && !found.pending && found.query === s.search && !NO_LIST.has(s.screen))
      items = [...items, ...found.events.filter((e) => has(e.machineId, s.filter.machine)).map((e) => eventItem(e, s, true))];
  }
  return items;
}

/** The key that ties loaded repo events to the repo they were loaded for. */
export const repoKey = (r: RepoRef) => `${r.machine_id}:${r.repo_id}`;

/** Screens without a list: the detail takes the whole width. */
export const NO_LIST: ReadonlySet<ScreenId> = new Set(["oracle", "guardian", "event"]);

/** The alert x and s act on: the selected one, or the one the event level shows. */
export function selectedAlert(s: ViewState): AlertView | undefined {
  if (s.screen === "event") return s.event?.alert ? (s.data.alerts.find((a) => a.alert_id === s.event!.alert!.alert_id) ?? s.event.alert) : undefined;
  return selectedItem(s)?.alert;
}

/** The selected item (the index clamped to the list). */
export function selectedItem(s: ViewState): ListItem | undefined {
  if (NO_LIST.has(s.screen)) return undefined;
  const items = listItems(s);
  if (items.length === 0) return undefined;
  return items[Math.max(0, Math.min(items.length - 1, s.selected[s.screen] ?? 0))];
}

/** The machine the detail screens show: the selection there, else the drilled-into machine. */
export function focusMachine(s: ViewState): string | null {
  if (s.screen === "repo") return s.repo?.machine_id ?? s.machineId;
  if (s.screen === "event") return s.event?.machineId ?? s.machineId;
  return selectedItem(s)?.machineId ?? s.machineId;
}

// ---- drawing ----------------------------------------------------------------------------------

class Canvas {
  readonly chars: string[][];
  readonly st: Style[][];
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.chars = Array.from({ length: h }, () => new Array<string>(w).fill(" "));
    this.st = Array.from({ length: h }, () => new Array<Style>(w).fill(styles.text));
  }
  /**
   * Sets one cell. A character two cells wide holds its first cell and leaves "" in the second;
   * overwriting either half turns the other half into a space, so a row always spans `w` cells.
   */
  private set(x: number, y: number, ch: string, style: Style): void {
    const row = this.chars[y]!;
    if (row[x] === "") row[x - 1] = " ";
    else if (row[x + 1] === "") row[x + 1] = " ";
    row[x] = ch;
    this.st[y]![x] = style;
  }
  /** Writes already-safe text at (x, y), clipped to the canvas and to `maxW` cells; wide characters take two. */
  put(x: number, y: number, text: string, style: Style, maxW = Infinity): number {
    if (y < 0 || y >= this.h) return x;
    const end = Math.min(this.w, x + maxW);
    for (const g of graphemes(text)) {
      if (x >= end) break;
      if (g.width === 0) continue;
      if (x + g.width > end) {
        // A wide character that would cross the edge: a space in the cell left.
        if (x >= 0) this.set(x, y, " ", style);
        return x + 1;
      }
      for (let i = 0; i < g.width; i++) if (x + i >= 0) this.set(x + i, y, i === 0 ? g.text : x + i === 0 ? " " : "", style);
      x += g.width;
    }
    return x;
  }
  fill(x: number, y: number, w: number, style: Style, ch = " "): void {
    if (y < 0 || y >= this.h) return;
    for (let i = Math.max(0, x); i < Math.min(this.w, x + w); i++) this.set(i, y, ch, style);
  }
  cells(x: number, y: number, cells: readonly Cell[], maxW: number): void {
    const end = x + maxW;
    for (const [t, st] of cells) x = this.put(x, y, t, st, end - x);
  }
  rows(): Row[] {
    return this.chars.map((line, y) => {
      const row: Row = [];
      const st = this.st[y]!;
      let cur: Run | null = null;
      for (let x = 0; x < line.length; x++) {
        if (cur && cur.style === st[x]) cur.text += line[x];
        else row.push((cur = { text: line[x]!, style: st[x]! }));
      }
      return row;
    });
  }
}

/** A detail line: cells drawn left to right. */
type Line = Cell[];
const L = (text: string, style: Style = styles.text): Line => [[text, style]];
const H = (title: string): Line => [[`─ ${title} `, styles.title]];

function ageBadge(age: number | null, staleAfter: number): Cell[] {
  const stale = age === null || age > staleAfter;
  return [[` data ${age === null ? "never" : `${ago(age)} old`} `, styles.dim], stale ? [" STALE ", styles.stale] : ["", styles.dim]];
}

function alertLines(a: AlertView, s: ViewState, suggestions: { title: string; command?: string }[]): Line[] {
  const lines: Line[] = [
    [
      [`● ${clean(a.severity).toUpperCase()} `, severityStyle(a.severity)],
      [clean(a.title ?? a.rule), styles.text],
    ],
    [
      ["state ", styles.dim],
      [clean(a.state), styles.text],
      ["  machine ", styles.dim],
      [clean(a.machine_id ?? "fleet"), styles.text],
    ],
    L(clean(a.message ?? "")),
  ];
  if (a.expected || a.received)
    lines.push([
      ["expected ", styles.dim],
      [clean(a.expected ?? "-"), styles.text],
      ["  received ", styles.dim],
      [clean(a.received ?? "-"), styles.text],
    ]);
  const since = ageOf(a.fired_at ?? a.first_seen_at, s.now);
  lines.push([
    ["since ", styles.dim],
    [`${ago(since)} ago`, styles.text],
    ["  id ", styles.dim],
    [clean(a.alert_id), styles.dim],
  ]);
  if (a.acked) lines.push(L(`acked by ${clean(a.acked.by)} ${ago(ageOf(a.acked.at, s.now))} ago${a.acked.note ? `: ${clean(a.acked.note)}` : ""}`, styles.healthy));
  if (a.silenced_by) lines.push(L(`silenced (${clean(a.silenced_by)})`, styles.dim));
  const seen = new Set<string>();
  const acts = [...a.actions, ...suggestions].filter((x) => !seen.has(x.command ?? x.title) && seen.add(x.command ?? x.title));
  for (const act of acts.slice(0, 3))
    lines.push([
      ["→ ", styles.title],
      [clean(act.title), styles.text],
      [act.command ? `  $ ${clean(act.command)}` : "", styles.dim],
    ]);
  lines.push(L("x ack · s silence 1h · Enter machine", styles.dim));
  return lines;
}

function doNext(s: ViewState, max: number, machineId?: string | null): Line[] {
  const items = (s.data.triage?.items ?? []).filter((i) => !machineId || i.machine_id === machineId).slice(0, max);
  if (items.length === 0) return [L(machineId ? "nothing to do here" : "nothing to do: the fleet is healthy", styles.healthy)];
  return items.map((i) => {
    const cmd = s.data.triage?.suggestions[i.id]?.[0]?.command;
    return [
      [`${i.rank}. `, styles.dim],
      [`${clean(i.machine_id ?? "fleet")} `, severityStyle(i.severity)],
      [`${clean(i.message || i.title)}`, styles.text],
      [cmd ? `  $ ${clean(cmd)}` : "", styles.dim],
    ] as Line;
  });
}

/** Any section of a collector's data as lines: a table's rows as `k=v`, an object as `k: v`, nested one level. */
export function valueLines(title: string, value: unknown, max = 6): Line[] {
  const out: Line[] = [H(title)];
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) return [...out, L("  not collected", styles.dim)];
  return [...out, ...bodyLines(value, max, "  ")];
}

const HIDDEN = /^(machine_id|source|source_version|schema_version|collected_at|raw_json)$/;
const isScalar = (v: unknown) => v === null || typeof v !== "object";
// What a person reads first: names and subjects before ids and counters.
const FIRST = ["subject", "title", "name", "command", "message", "repo", "agent", "sender", "recipient", "importance", "pattern", "reason", "cmd", "pid"];
const rank = (k: string) => (FIRST.includes(k) ? FIRST.indexOf(k) : FIRST.length);
const pairs = (o: Record<string, unknown>) =>
  Object.entries(o)
    .sort(([a], [b]) => rank(a) - rank(b))
    .filter(([k, v]) => v !== null && v !== undefined && v !== "" && !HIDDEN.test(k))
    .map(([k, v]) => `${clean(k)}=${clean(typeof v === "number" ? num(v) : v)}`);

function bodyLines(value: unknown, max: number, indent: string): Line[] {
  const out: Line[] = [];
  if (Array.isArray(value)) {
    for (const r of value.slice(0, max)) out.push(L(`${indent}${typeof r === "object" && r ? pairs(r as Record<string, unknown>).join(" ") : clean(r)}`));
    if (value.length > max) out.push(L(`${indent}… ${value.length - max} more`, styles.dim));
  } else if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([k, v]) => v !== null && v !== undefined && !HIDDEN.test(k));
    const scalars = entries.filter(([, v]) => isScalar(v));
    for (const [k, v] of scalars.slice(0, max))
      out.push([
        [`${indent}${clean(k)}: `, styles.dim],
        [clean(typeof v === "number" ? num(v) : v), styles.text],
      ]);
    for (const [k, v] of entries.filter(([, v]) => !isScalar(v))) {
      out.push(L(`${indent}${clean(k)}:`, styles.dim));
      if (indent.length < 6) out.push(...bodyLines(v, Math.min(max, 4), `${indent}  `));
      else out.push(L(`${indent}  ${clean(v)}`));
    }
  } else out.push(L(`${indent}${clean(value)}`));
  return out;
}

function machineHeader(s: ViewState, id: string | null): Line[] {
  const m = s.data.health?.machines.find((x) => x.id === id);
  if (!id || !m) return [L(id ? `machine ${clean(id)}: no health data` : "no machine selected", styles.dim)];
  return [
    [
      [`${clean(m.id)} `, styles.title],
      [`● ${Math.round(m.score * 100)}% ${clean(m.severity)}`, severityStyle(m.severity)],
      [m.top_issue ? `  top issue ${clean(m.top_issue)}` : "", styles.text],
    ],
  ];
}

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj | null => (x && typeof x === "object" && !Array.isArray(x) ? (x as Obj) : null);
const list = (x: unknown): Obj[] => (Array.isArray(x) ? x.filter((r): r is Obj => !!obj(r)) : []);
const counts = (x: unknown) =>
  Object.entries(obj(x) ?? {})
    .filter(([k, n]) => k !== "total" && typeof n === "number" && n > 0)
    .map(([k, n]) => `${clean(k)} ${n}`)
    .join(" ");
const left = (s: number | null) => (s === null ? "" : s <= 0 ? "expired" : `${ago(s)} left`);

/** The Agents & mail screen of one machine: ntm's agents and sessions, mail needing attention, file reservations. */
function agentsLines(v: Obj, s: ViewState, w: number): Line[] {
  const lines: Line[] = [];
  const agents = obj(v.agents);
  const act = obj(agents?.activity);
  lines.push(H("AGENTS (ntm)"));
  if (!agents || !act) lines.push(L("  not collected: ntm is not configured or has not run", styles.dim));
  else {
    const status = String(act.overall_status ?? "");
    lines.push([
      [`  ${num(act.total_agents as number, 0)} agents in ${num(act.total_sessions as number, 0)} sessions, ${num(act.attached_count as number, 0)} attached `, styles.text],
      [status, status === "healthy" ? styles.healthy : status ? styles.warning : styles.dim],
    ]);
    const mix = [counts(act.by_type_json), counts(act.by_state_json)].filter(Boolean).join(" · ");
    if (mix) lines.push(L(`  ${mix}`, styles.dim));
  }
  const sessions = list(agents?.sessions);
  if (sessions.length) {
    lines.push(H(`SESSIONS (${sessions.length})`));
    const nw = Math.min(18, Math.max(...sessions.map((x) => textWidth(clean(x.session_name)))) + 1);
    for (const x of sessions.slice(0, 6)) {
      const ok = !x.health_status || x.health_status === "healthy";
      lines.push([
        ["  ● ", ok ? styles.healthy : styles.warning],
        [fit(clean(x.session_name), nw), styles.text],
        [`${num(x.agent_count as number, 0)} agents `, styles.dim],
        [clean(x.health_status ?? ""), ok ? styles.healthy : styles.warning],
        [x.health_reason ? `: ${clean(x.health_reason)}` : x.attached ? " (attached)" : "", styles.dim],
      ]);
    }
  }
  const mail = obj(v.mail);
  const urgent = obj(mail?.urgent_unread);
  const ack = obj(mail?.ack_required_unacked);
  lines.push(H(mail ? `MAIL: ${num((urgent?.count as number) ?? 0, 0)} urgent unread, ${num((ack?.count as number) ?? 0, 0)} awaiting ack` : "MAIL"));
  if (!mail) lines.push(L("  not collected: mcp_agent_mail is not configured or has not run", styles.dim));
  // One line per message (a message to three agents is one line naming all three).
  const msgs = new Map<string, { m: Obj; to: string[] }>();
  for (const m of [...list(urgent?.items), ...list(ack?.items)]) {
    const key = `${m.project_id}:${m.message_id}`;
    const e = msgs.get(key) ?? { m, to: [] };
    if (m.recipient && !e.to.includes(String(m.recipient))) e.to.push(String(m.recipient));
    msgs.set(key, e);
  }
  for (const { m, to } of [...msgs.values()].slice(0, 5)) {
    lines.push([
      [m.importance === "urgent" ? "  ! " : "  · ", m.importance === "urgent" ? styles.critical : styles.warning],
      [`${fit(clean(m.subject), Math.max(10, w - 30))} `, styles.text],
      [
        `${clean(m.sender)}→${to.length > 1 ? `${to.length} agents` : clean(to[0] ?? "?")} ${ago(typeof m.age_s === "number" ? m.age_s : ageOf(m.created_ts as string, s.now))}`,
        styles.dim,
      ],
    ]);
  }
  const res = obj(v.file_reservations);
  const active = list(res?.active);
  lines.push(
    H(
      res
        ? `FILE RESERVATIONS: ${num((res.active_count as number) ?? active.length, 0)} active${res.expired_unreleased_count ? `, ${num(res.expired_unreleased_count as number, 0)} expired` : ""}`
        : "FILE RESERVATIONS",
    ),
  );
  if (!res) lines.push(L("  not collected", styles.dim));
  for (const r of active.slice(0, 5)) {
    lines.push([
      [`  ${fit(clean(r.holder), 12)} `, styles.text],
      [`${fit(clean(r.path_pattern), Math.max(10, w - 34))} `, styles.text],
      [`${r.exclusive ? "excl " : ""}${clean(r.reason ?? "")} ${left(typeof r.expires_in_s === "number" ? r.expires_in_s : null)}`, styles.dim],
    ]);
  }
  return lines;
}

function machineLines(s: ViewState, id: string | null, w: number, sections: "system" | "agents"): Line[] {
  const lines = machineHeader(s, id);
  const d = id ? s.data.machines[id] : undefined;
  if (!id) return lines;
  if (!d) return [...lines, L("loading…", styles.dim)];
  const v = d.view;
  if (sections === "system") {
    const sys = (v.system ?? {}) as Record<string, unknown>;
    const hours = s.filter.windowHours ?? 6;
    lines.push(H(`LAST ${num(hours)}h`));
    const sw = Math.max(4, w - 18);
    const last = (xs: readonly Point[]) => [...xs].reverse().find((x) => typeof x[1] === "number")?.[1] ?? null;
    const spark = (label: string, xs: readonly Point[], value: string, max?: number): Line => [
      [label.padEnd(5), styles.dim],
      [sparkline(timeBuckets(xs, d.series.from, d.series.to, sw), sw, max), styles.healthy],
      [` ${value}`.padStart(12).slice(-12), styles.text],
    ];
    lines.push(spark("cpu", d.series.cpu, `${num(last(d.series.cpu), 0)}%`, 100));
    lines.push(spark("load", d.series.load, `${num(last(d.series.load))}/${num(sys.cpu_cores, 0)}`));
    lines.push(spark("mem", d.series.mem, `${num(last(d.series.mem), 0)}%`, 100));
    lines.push(spark("disk", d.series.disk, `${num(last(d.series.disk), 0)}%`, 100));
    const fs = (v.filesystems ?? []) as Record<string, unknown>[];
    lines.push(H("FILESYSTEMS"));
    if (fs.length === 0) lines.push(L("  not collected", styles.dim));
    for (const f of fs.slice(0, 4)) {
      const pct = Number(f.used_pct);
      lines.push([
        [`  ${fit(clean(f.mount), 12)} `, styles.text],
        [`${num(pct, 0)}%`.padStart(4), pct >= 90 ? styles.critical : pct >= 80 ? styles.warning : styles.healthy],
        [` of ${bytes(f.size_bytes)}, ${bytes(f.avail_bytes)} free`, styles.dim],
      ]);
    }
    lines.push(...valueLines("TOP PROCESSES", v.top_processes, 5), ...valueLines("RCH", v.rch, 3), ...valueLines("AGENTS", v.agents, 4));
    const cols = (v.collectors ?? []) as Record<string, unknown>[];
    lines.push(H("COLLECTORS"));
    for (const c of cols.slice(0, 6))
      lines.push([
        [`  ${clean(c.collector)} `, styles.text],
        [clean(c.last_result ?? "never"), c.last_result === "ok" ? styles.healthy : styles.warning],
        [` ${ago(ageOf((c.last_run_at ?? null) as string | null, s.now))} ago ${clean(c.last_error ?? "")}`, styles.dim],
      ]);
    const rano = d.rano ?? [];
    lines.push(H("RANO (connections by provider, domain)"));
    if (rano.length === 0) lines.push(L("  no rano events in the window", styles.dim));
    for (const r of rano.slice(0, 5)) {
      const unknown = !r.provider || r.provider === "unknown";
      lines.push([
        [`  ${fit(clean(r.provider ?? "unknown"), 10)} `, unknown ? styles.warning : styles.text],
        [`${fit(clean(r.domain ?? r.remote_ip ?? "?"), 30)} `, styles.text],
        [`${r.connects}×`, styles.dim],
      ]);
    }
  } else if (sections === "agents") {
    lines.push(...agentsLines(v, s, w));
  }
  return lines;
}

/** Text broken at spaces into lines of at most `w` cells (every line, not just three). */
function paragraph(text: string, w: number, style: Style = styles.text, indent = "  "): Line[] {
  const out: Line[] = [];
  const width = Math.max(10, w - indent.length);
  for (const para of clean(text).split(/ {2,}|\n/)) {
    let rest = para.trim();
    while (textWidth(rest) > width) {
      const at = breakAt(rest, width, width / 3);
      out.push(L(indent + rest.slice(0, at), style));
      rest = rest.slice(at).trimStart();
    }
    if (rest) out.push(L(indent + rest, style));
  }
  return out;
}

const show = (v: unknown) => (v === null || v === undefined || v === "" ? null : typeof v === "number" ? num(v) : typeof v === "object" ? JSON.stringify(v) : String(v));

/** One event: what, where, when, every field, its text, what to run. */
function eventLines(e: EventView, s: ViewState, w: number, full: boolean): Line[] {
  const age = ageOf(e.at, s.now);
  const lines: Line[] = [
    [
      [`● ${clean(e.severity).toUpperCase()} `, severityStyle(e.severity)],
      [clean(e.title), styles.text],
    ],
    [
      [`${EVENT_GROUPS[e.kind].toLowerCase()} `, styles.dim],
      [e.machineId ? `on ${clean(e.machineId)} ` : "", styles.text],
      [e.at ? `at ${clean(e.at.replace("T", " ").replace(/\.\d+Z$|Z$/, ""))} (${ago(age)} ago)` : "time unknown", styles.dim],
    ],
  ];
  const kw = Math.min(16, Math.max(...e.fields.map(([k]) => k.length), 4) + 1);
  for (const [k, v] of e.fields) {
    const text = show(v);
    if (text === null) continue;
    const value = clean(text);
    if (full && value.length > w - kw - 2) {
      lines.push(L(`  ${clean(k)}:`, styles.dim), ...paragraph(value, w, styles.text, "    "));
    } else
      lines.push([
        [`  ${clean(k).padEnd(kw)}`, styles.dim],
        [value, styles.text],
      ]);
  }
  if (e.text) lines.push(H(e.kind === "session" ? "CONTENT" : "MESSAGE"), ...(full ? paragraph(e.text, w) : paragraph(e.text, w).slice(0, 4)));
  for (const act of (e.actions ?? []).slice(0, full ? 8 : 2)) {
    lines.push([
      ["→ ", styles.title],
      [clean(act.title), styles.text],
    ]);
    if (act.command) lines.push(...(full ? paragraph(`$ ${act.command}`, w) : [L(`  $ ${clean(act.command)}`, styles.dim)]));
  }
  if (e.command) {
    // The whole command on the event level (a person copies it), one line in the side pane.
    if (full && e.command.length + 4 > w) lines.push(L("→ run:", styles.title), ...paragraph(`$ ${e.command}`, w));
    else
      lines.push([
        ["→ ", styles.title],
        [`$ ${clean(e.command)}`, styles.text],
      ]);
  }
  lines.push(L(full ? `${e.alert ? "x ack · s silence 1h · " : ""}↑↓ scroll · Esc back` : `Enter: the whole event${e.alert ? " · x ack · s silence 1h" : ""}`, styles.dim));
  return lines;
}

function repoHeader(r: RepoRef): Line[] {
  const flags = [r.status, r.branch && `on ${r.branch}`, r.dirty ? "dirty" : "", r.ahead ? `${r.ahead} ahead` : "", r.behind ? `${r.behind} behind` : ""]
    .filter(Boolean)
    .join(", ");
  return [
    [
      [`${clean(r.repo ?? r.repo_id)} `, styles.title],
      [`on ${clean(r.machine_id)} `, styles.dim],
      [clean(flags), r.dirty || r.behind ? styles.warning : styles.healthy],
    ],
    L(`  ${clean(r.path ?? "")}`, styles.dim),
  ];
}

function detailLines(s: ViewState, item: ListItem | undefined, w: number): Line[] {
  // A content-search hit (or any event) details itself wherever it is listed.
  if (item?.event && (item.event.kind === "session" || s.screen === "events" || s.screen === "repo")) {
    return [...(s.screen === "repo" && s.repo ? repoHeader(s.repo) : []), H(EVENT_GROUPS[item.event.kind]), ...eventLines(item.event, s, w, false)];
  }
  switch (s.screen) {
    case "event": {
      const e = s.screen === "event" && s.event?.alert ? alertEvent(selectedAlert(s)!) : s.event;
      return e ? eventLines(e, s, w, true) : [L("no event selected", styles.dim)];
    }
    case "repo": {
      if (!s.repo) return [L("no repo selected", styles.dim)];
      const loaded = s.data.repoEvents?.key === repoKey(s.repo);
      return [
        ...repoHeader(s.repo),
        H("EVENTS"),
        L(
          loaded
            ? `nothing recorded for this repo in the last ${num(s.filter.windowHours ?? 168)}h (dcg in its folder, its mail, ntm sessions, open beads, status changes)`
            : "loading…",
          styles.dim,
        ),
      ];
    }
    case "events":
      return [H("EVENTS"), L(`no alerts, dcg denies, pt findings, unknown hosts or urgent mail in the last ${num(s.filter.windowHours ?? 24)}h`, styles.dim)];
    case "overview": {
      const lines: Line[] = [];
      if (item?.alert) lines.push(H("ALERT"), ...alertLines(item.alert, s, s.data.triage?.suggestions[item.alert.alert_id] ?? []));
      else if (item?.machineId) lines.push(H("MACHINE"), ...machineHeader(s, item.machineId), ...doNext(s, 3, item.machineId), L("Enter: machine detail", styles.dim));
      lines.push(H("DO NEXT"), ...doNext(s, 8));
      return lines;
    }
    case "machine":
      return machineLines(s, focusMachine(s), w, "system");
    case "agents":
      return machineLines(s, focusMachine(s), w, "agents");
    case "repos": {
      if (!s.data.repos || s.data.repos.machines.length === 0) return [H("REPOS"), L("no repo data: the ru collector is not configured or has not run", styles.dim)];
      const r = item?.repo;
      if (!r) return [H("REPOS"), L("nothing matches", styles.dim)];
      const m = s.data.repos.machines.find((x) => x.id === r.machine_id);
      return [
        [
          [`${clean(r.repo ?? r.repo_id)} `, styles.title],
          [`on ${clean(r.machine_id)}`, styles.dim],
        ],
        ...valueLines(
          "STATUS",
          {
            path: r.path,
            url: r.url,
            status: r.status,
            branch: r.branch,
            dirty: r.dirty,
            ahead: r.ahead,
            behind: r.behind,
            mismatch: r.mismatch,
            last_commit_at: r.last_commit_at,
            beads_ready: r.beads_ready,
          },
          10,
        ),
        ...(m ? valueLines(`${clean(m.id)} SUMMARY`, m.summary, 8) : []),
      ];
    }
    case "beads": {
      const lines: Line[] = [H("BEADS")];
      const r = item?.repo;
      if (r)
        lines.push([
          [`${clean(r.repo ?? r.repo_id)} `, styles.title],
          [`${r.beads_ready ?? 0} ready`, styles.healthy],
        ]);
      else lines.push(L("no beads data: the beads collectors have not written any triage", styles.dim));
      const t = r ? s.data.beads?.[r.repo_id] : undefined;
      if (!t) {
        lines.push(H("NEXT PICKS"), L("no bv triage for this repo yet", styles.dim));
        return lines;
      }
      lines.push(H("NEXT PICKS (bv)"));
      for (const x of t.recommendations.slice(0, 5))
        lines.push([
          [`  ${fit(clean(x.id), 14)} `, styles.title],
          [fit(clean(x.title), Math.max(10, w - 24)), styles.text],
        ]);
      lines.push(H("BLOCKERS TO CLEAR"));
      if (t.blockers.length === 0) lines.push(L("  none", styles.dim));
      for (const x of t.blockers.slice(0, 4))
        lines.push([
          [`  ${fit(clean(x.id), 14)} `, styles.warning],
          [fit(clean(x.title), Math.max(10, w - 34)), styles.text],
          [` unblocks ${x.unblocks_count ?? 0}`, styles.dim],
        ]);
      return lines;
    }
    case "accounts": {
      if (!s.data.accounts || (s.data.accounts.accounts.length === 0 && s.data.accounts.profiles.length === 0))
        return [H("ACCOUNTS"), L("no account data: caut/caam are not configured or have not run", styles.dim)];
      const a = item?.account;
      const p = item?.profile;
      const lines: Line[] = [];
      if (a) {
        lines.push([
          [`${clean(a.provider)}/${clean(a.account ?? "-")} `, providerStyle(a.provider)],
          [`on ${clean(a.machine_id)} (caut)`, styles.dim],
          ...ageBadge(a.staleness_s, s.staleAfterSeconds),
        ]);
        if (a.auth_warning) lines.push(L(clean(a.auth_warning), styles.warning));
        lines.push(H("WINDOWS"), ...a.windows.map(windowLine));
      } else if (p) {
        lines.push([
          [`${clean(p.provider)}/${clean(p.profile)} `, providerStyle(p.provider)],
          [`on ${clean(p.machine_id)} (caam${p.active ? ", active" : ""})`, styles.dim],
          ...ageBadge(p.staleness_s, s.staleAfterSeconds),
        ]);
        if (p.error) lines.push(L(clean(p.error), styles.critical));
        const extra = [
          p.plan_type && `plan ${p.plan_type}`,
          p.credits_balance !== null && `credits ${num(p.credits_balance)}`,
          p.estimated_depletion && `runs out ${p.estimated_depletion.replace("T", " ").slice(0, 16)}`,
        ]
          .filter(Boolean)
          .join(" · ");
        if (extra) lines.push(L(`  ${clean(extra)}`, styles.dim));
        lines.push(H("WINDOWS"), ...p.windows.map(windowLine));
      }
      const provider = a?.provider ?? p?.provider;
      if (provider) lines.push(H(`USE NEXT (${clean(provider)})`), ...useNext(s, provider, item?.key));
      return lines;
    }
    case "oracle":
      return [
        H("ORACLE"),
        L("Predictions, forecasts and risk assessment are not available yet:", styles.text),
        L("the oracle lands in a later version. What exists today:", styles.dim),
        L("  vc robot triage — ranked issues with suggested commands", styles.dim),
        H("DO NEXT"),
        ...doNext(s, 8),
      ];
    case "guardian":
      return [
        H("GUARDIAN"),
        L("Self-healing status, active protocols and history are not available yet:", styles.text),
        L("the guardian lands in a later version. vc observes and suggests only.", styles.dim),
        H("OPEN ALERTS"),
        ...alertItems(s)
          .slice(0, 8)
          .map((i) => i.cells as Line),
      ];
  }
}

const HINTS: [string, string][] = [
  ["?", "help"],
  ["/", "search"],
  ["f", "filter"],
  ["r", "refresh"],
  ["⏎", "drill"],
  ["Esc", "back"],
  ["x", "ack"],
  ["s", "silence"],
  ["q", "quit"],
];

export const HELP: readonly [string, string][] = [
  ["?", "this help (any key closes)"],
  ["/", "search facts as you type; Enter asks cass"],
  ["f", "filter: machine:ID repo:R provider:P window:6h"],
  ["r", "refresh now (a poll cycle when in-process)"],
  ["Enter", "drill: machine → repos → repo → event"],
  ["Esc", "back a level; at the top clear search, filter"],
  ["↑ ↓ PgUp PgDn", "move in the list (scroll an event)"],
  ["Tab", "next screen"],
  ["1-9 F1-F9", "jump to a screen"],
  ["a g m b e o G", "acct repos mail beads events oracle guardian"],
  ["x", "ack the selected alert (any list, event)"],
  ["s", "silence the selected alert for 1h"],
  ["q  Ctrl-C", "quit"],
];

function overviewAge(s: ViewState): number | null {
  const ages = (s.data.health?.machines ?? []).map((m) => ageOf(m.last_sample_at, s.now)).filter((x): x is number => x !== null);
  return ages.length ? Math.min(...ages) : null;
}

/** Builds the frame for a view-state: exactly `height` rows of exactly `width` cells. */
export function frame(s: ViewState): Frame {
  const w = Math.max(1, s.width);
  const h = Math.max(1, s.height);
  const c = new Canvas(w, h);
  if (w < 40 || h < 10) {
    // Too small for the layout: say so, in exactly the space there is.
    c.put(0, 0, fit("vc: terminal too small", w), styles.warning);
    if (h > 1) c.put(0, 1, fit("need 40x10; q quits", w), styles.dim);
    return { width: w, height: h, rows: c.rows() };
  }
  // Top row: fleet health, poll freshness, open alerts.
  c.fill(0, 0, w, styles.bar);
  const ov = s.data.health?.overall;
  const firing = s.data.alerts.filter((a) => a.state === "firing").length;
  const pending = s.data.alerts.filter((a) => a.state === "pending").length;
  const cycleAge = ageOf(s.data.lastCycleAt, s.now);
  const age = overviewAge(s);
  const stale = age === null || age > s.staleAfterSeconds;
  c.cells(
    0,
    0,
    [
      [" VC ", styles.barBold],
      [ov ? `● fleet ${Math.round(ov.score * 100)}% ${ov.severity} ` : "● fleet: no data ", severityStyle(ov?.severity, true)],
      ["│ alerts ", styles.bar],
      [`${firing} firing`, firing ? styles.barCritical : styles.barHealthy],
      [pending ? ` ${pending} pending` : "", styles.barWarning],
      [` │ ${s.data.source === "daemon" ? "daemon" : "polled"} ${cycleAge === null ? "never" : `${ago(cycleAge)} ago`} `, styles.bar],
      [`│ data ${ago(age)} old `, styles.barDim],
      [`│ ${s.data.health?.machines.length ?? 0} machines `, styles.bar],
      [s.data.source === "daemon" ? "│ via vc up" : "│ in-process", styles.barDim],
    ],
    w,
  );
  if (stale) c.put(w - 7, 0, " STALE ", styles.stale);
  // Second row: the tabs.
  c.fill(0, 1, w, styles.tab);
  const long = w >= 110;
  // A drill-down level lights the tab it was entered from.
  const tab = LEVEL_TITLES[s.screen] ? (s.back.find((b) => !LEVEL_TITLES[b.screen])?.screen ?? (s.screen === "repo" ? "repos" : "events")) : s.screen;
  let x = 0;
  for (const sc of screens) {
    const label = ` ${sc.key} ${long ? sc.title : sc.short} `;
    x = c.put(x, 1, label, sc.id === tab ? styles.tabActive : styles.tab, w - x);
  }
  // Where the drill-down is: overview › node-3 › repos › vc › event
  if (s.back.length && x + 4 < w) {
    const trail = [...s.back.map((b) => crumbLabel(b)), crumbLabel(s)].join(" › ");
    c.put(x + 1, 1, fit(trail, w - x - 2), styles.tab);
  }
  // Body: list on the left, details on the right.
  const top = 2;
  const bodyH = h - 4;
  const noList = NO_LIST.has(s.screen);
  const lw = noList ? 0 : Math.min(44, Math.max(24, Math.floor(w * 0.38)));
  const items = noList ? [] : listItems(s);
  const sel = Math.max(0, Math.min(items.length - 1, s.selected[s.screen] ?? 0));
  if (!noList) {
    type LLine = { header: string } | { item: ListItem; i: number };
    const lines: LLine[] = [];
    let group = "";
    items.forEach((item, i) => {
      if (item.group !== group) lines.push({ header: (group = item.group) });
      lines.push({ item, i });
    });
    if (items.length === 0) c.put(1, top + 1, fit(s.search || formatFilter(s.filter) ? "nothing matches" : "no data", lw - 2), styles.dim);
    const selLine = lines.findIndex((l) => "item" in l && l.i === sel);
    const off = Math.max(0, Math.min(lines.length - bodyH, selLine - Math.floor(bodyH / 2)));
    for (let r = 0; r < bodyH && off + r < lines.length; r++) {
      const l = lines[off + r]!;
      const y = top + r;
      if ("header" in l) {
        const n = items.filter((i) => i.group === l.header).length;
        c.put(0, y, `─ ${l.header} (${n}) ${"─".repeat(lw)}`.slice(0, lw), styles.title);
      } else {
        const st = l.i === sel;
        if (st) c.fill(0, y, lw, styles.selected);
        c.cells(0, y, st ? l.item.cells.map(([t]) => [t, styles.selected] as Cell) : l.item.cells, lw);
      }
    }
    for (let r = 0; r < bodyH; r++) c.put(lw, top + r, "│", styles.dim);
  }
  const rx = noList ? 1 : lw + 2;
  const rw = w - rx - 1;
  let dl = detailLines(s, noList ? undefined : items[sel], rw).flatMap((l) => wrap(l, rw));
  if (s.screen === "event") dl = dl.slice(Math.max(0, Math.min(s.scroll, dl.length - (bodyH - 1))));
  // Every screen says how old its data is.
  const title = (LEVEL_TITLES[s.screen] ?? screens.find((x) => x.id === s.screen)!.title).toUpperCase();
  const focus = s.data.health?.machines.find((m) => m.id === focusMachine(s));
  const screenAge =
    s.screen === "event"
      ? age
      : s.screen === "repo"
        ? ageOf(s.repo?.collected_at ?? null, s.now)
        : s.screen === "events"
          ? minOf([...(s.data.events ?? []).map((e) => ageOf(e.at, s.now)), age])
          : s.screen === "machine" || s.screen === "agents"
            ? focus
              ? ageOf(focus.last_sample_at, s.now)
              : null
            : s.screen === "accounts"
              ? minOf((s.data.accounts?.accounts ?? []).map((a) => a.staleness_s))
              : s.screen === "repos" || s.screen === "beads"
                ? minOf((s.data.repos?.machines ?? []).map((m) => ageOf(m.collected_at, s.now)))
                : age;
  c.cells(rx, top, [[`${title} `, styles.title], ...ageBadge(screenAge, s.staleAfterSeconds)], rw);
  for (let r = 0; r < bodyH - 1 && r < dl.length; r++) c.cells(rx, top + 1 + r, dl[r]!, rw);
  // Status / prompt row, then the key hints.
  const py = h - 2;
  c.fill(0, py, w, styles.bar);
  if (s.mode === "search")
    c.cells(
      0,
      py,
      [
        [" / ", styles.barBold],
        [`${clean(s.input)}▏`, styles.bar],
      ],
      w,
    );
  else if (s.mode === "filter")
    c.cells(
      0,
      py,
      [
        [" filter ", styles.barBold],
        [`${clean(s.input)}▏`, styles.bar],
        ["  machine:ID repo:R provider:P window:6h · Enter apply · Esc cancel", styles.barDim],
      ],
      w,
    );
  else {
    const parts: Cell[] = [];
    const f = formatFilter(s.filter);
    if (f) parts.push([` filter ${clean(f)} `, styles.barWarning]);
    if (s.search) parts.push([` search "${clean(s.search)}" `, styles.barWarning]);
    const found = s.data.sessions;
    if (s.search && found?.query === s.search) {
      if (found.pending) parts.push([" searching cass… ", styles.bar]);
      else
        parts.push(
          [` cass: ${found.events.length} hit${found.events.length === 1 ? "" : "s"} `, styles.bar],
          [found.errors.length ? ` ${clean(found.errors[0]!)}${found.errors.length > 1 ? ` (+${found.errors.length - 1})` : ""} ` : "", styles.barWarning],
        );
    }
    if (s.message) parts.push([` ${clean(s.message)}`, styles.bar]);
    else if (s.data.errors.length) parts.push([` ${clean(s.data.errors[0])}`, styles.barCritical]);
    if (parts.length === 0) parts.push([` ${items.length ? `${sel + 1}/${items.length}` : ""}`, styles.barDim]);
    c.cells(0, py, parts, w);
  }
  c.fill(0, h - 1, w, styles.bar);
  let hx = 0;
  for (const [k, label] of HINTS) {
    if (hx + k.length + label.length + 2 > w) break;
    hx = c.put(hx, h - 1, ` ${k}`, styles.barBold);
    hx = c.put(hx, h - 1, ` ${label}`, styles.barDim);
  }
  if (s.mode === "help") drawHelp(c);
  return { width: w, height: h, rows: c.rows() };
}

function crumbLabel(c: Crumb): string {
  if (c.screen === "repo") return clean(c.repo?.repo ?? c.repo?.repo_id ?? "repo");
  if (c.screen === "event") return "event";
  if (c.screen === "machine" && c.machineId) return clean(c.machineId);
  return (screens.find((x) => x.id === c.screen)?.title ?? c.screen).toLowerCase();
}

/** A one-cell line longer than the pane, broken at spaces into at most three lines. */
function wrap(line: Line, w: number): Line[] {
  if (line.length !== 1 || textWidth(line[0]![0]) <= w || w < 20) return [line];
  const [text, style] = line[0]!;
  const indent = /^ */.exec(text)![0];
  const out: Line[] = [];
  let rest = text;
  while (textWidth(rest) > w && out.length < 2) {
    const at = breakAt(rest, w, indent.length + 4);
    out.push([[rest.slice(0, at), style]]);
    rest = `${indent}  ${rest.slice(at).trimStart()}`;
  }
  out.push([[rest, style]]);
  return out;
}

function minOf(xs: (number | null)[]): number | null {
  const n = xs.filter((x): x is number => typeof x === "number");
  return n.length ? Math.min(...n) : null;
}

function drawHelp(c: Canvas): void {
  const bw = Math.min(c.w - 2, 64);
  const bh = Math.min(c.h - 2, HELP.length + 3);
  const x0 = Math.floor((c.w - bw) / 2);
  const y0 = Math.floor((c.h - bh) / 2);
  for (let y = y0; y < y0 + bh; y++) c.fill(x0, y, bw, styles.overlay);
  c.put(x0, y0, `┌─ KEYS ${"─".repeat(bw)}`.slice(0, bw - 1) + "┐", styles.overlayTitle);
  HELP.slice(0, bh - 3).forEach(([k, d], i) => {
    c.put(x0, y0 + 1 + i, "│", styles.overlay);
    c.put(x0 + 2, y0 + 1 + i, fit(k, 14), styles.overlayTitle);
    c.put(x0 + 16, y0 + 1 + i, fit(d, bw - 18), styles.overlay);
    c.put(x0 + bw - 1, y0 + 1 + i, "│", styles.overlay);
  });
  c.put(x0, y0 + bh - 2, `│${fit(" any key closes", bw - 2)}│`, styles.overlay);
  c.put(x0, y0 + bh - 1, `└${"─".repeat(bw - 2)}┘`, styles.overlay);
}

/** The frame as plain text, one line per row (for tests and snapshots). */
export function frameText(f: Frame): string[] {
  return f.rows.map((r) => r.map((x) => x.text).join(""));
}
