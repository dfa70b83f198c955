// The cockpit's screen as a pure function: a view-state (screen, selection, filter, search, the
// data last read from the library, size, now) in, a frame (rows of styled runs) out. No terminal,
// no I/O: the renderer draws it, the tests read it.
import type { AlertView } from "../alerts/ops.ts";
import type { AccountsData, AccountUsage } from "../robot/accounts.ts";
import type { ReposData, RepoLine } from "../robot/repos.ts";
import type { TriageItem } from "../triage.ts";
import { ago, ageOf, bytes, clean, fit, num, sparkline, timeBuckets } from "./text.ts";
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

export type ScreenId = "overview" | "machine" | "repos" | "accounts" | "agents" | "events" | "beads" | "oracle" | "guardian";

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
}

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
  return [f.machine && `machine:${f.machine}`, f.repo && `repo:${f.repo}`, f.provider && `provider:${f.provider}`, f.windowHours && `window:${f.windowHours}h`].filter(Boolean).join(" ");
}

// ---- list items -------------------------------------------------------------------------------

type Cell = [string, Style];

/** One selectable row of the left pane. */
export interface ListItem {
  key: string;
  group: string;
  cells: Cell[];
  kind: "alert" | "machine" | "repo" | "account";
  machineId: string | null;
  alert?: AlertView;
  repo?: RepoLine & { machine_id: string };
  account?: AccountUsage;
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
        [clean(a.title ?? a.rule), styles.dim],
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
        repo: { ...r, machine_id: m.id },
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

function accountItems(s: ViewState): ListItem[] {
  return (s.data.accounts?.accounts ?? [])
    .filter((a) => has(a.machine_id, s.filter.machine) && has(a.provider, s.filter.provider))
    .map((a) => {
      const used = a.max_used_percent;
      return {
        key: `account:${a.machine_id}:${a.provider}:${a.account}`,
        group: "ACCOUNTS",
        kind: "account" as const,
        machineId: a.machine_id,
        account: a,
        cells: [
          ["●", providerStyle(a.provider)],
          [` ${clean(a.provider)}`, providerStyle(a.provider)],
          [`/${clean(a.account ?? "-")} `, styles.text],
          [used === null ? "-" : `${Math.round(used)}%`, used !== null && used >= 85 ? styles.critical : used !== null && used >= 60 ? styles.warning : styles.healthy],
          [a.stale ? " stale" : "", styles.warning],
        ],
      };
    });
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
    case "events":
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
    default:
      items = [];
  }
  if (s.search) items = items.filter((i) => has(i.cells.map((c) => c[0]).join(""), s.search) || has(i.alert?.message, s.search));
  return items;
}

/** The selected item (the index clamped to the list). */
export function selectedItem(s: ViewState): ListItem | undefined {
  const items = listItems(s);
  if (items.length === 0) return undefined;
  return items[Math.max(0, Math.min(items.length - 1, s.selected[s.screen] ?? 0))];
}

/** The machine the detail screens show: the selection there, else the drilled-into machine. */
export function focusMachine(s: ViewState): string | null {
  if (s.screen === "machine" || s.screen === "agents" || s.screen === "events") return selectedItem(s)?.machineId ?? s.machineId;
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
  /** Writes already-safe text at (x, y), clipped to the canvas and to `maxW` cells. */
  put(x: number, y: number, text: string, style: Style, maxW = Infinity): number {
    if (y < 0 || y >= this.h) return x;
    const end = Math.min(this.w, x + maxW);
    for (const ch of text) {
      if (x >= end) break;
      if (x >= 0) {
        this.chars[y]![x] = ch;
        this.st[y]![x] = style;
      }
      x++;
    }
    return x;
  }
  fill(x: number, y: number, w: number, style: Style, ch = " "): void {
    for (let i = x; i < Math.min(this.w, x + w); i++) if (y >= 0 && y < this.h) (this.chars[y]![i] = ch), (this.st[y]![i] = style);
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
    [[`● ${clean(a.severity).toUpperCase()} `, severityStyle(a.severity)], [clean(a.title ?? a.rule), styles.text]],
    [["state ", styles.dim], [clean(a.state), styles.text], ["  machine ", styles.dim], [clean(a.machine_id ?? "fleet"), styles.text]],
    L(clean(a.message ?? "")),
  ];
  if (a.expected || a.received) lines.push([["expected ", styles.dim], [clean(a.expected ?? "-"), styles.text], ["  received ", styles.dim], [clean(a.received ?? "-"), styles.text]]);
  const since = ageOf(a.fired_at ?? a.first_seen_at, s.now);
  lines.push([["since ", styles.dim], [`${ago(since)} ago`, styles.text], ["  id ", styles.dim], [clean(a.alert_id), styles.dim]]);
  if (a.acked) lines.push(L(`acked by ${clean(a.acked.by)} ${ago(ageOf(a.acked.at, s.now))} ago${a.acked.note ? `: ${clean(a.acked.note)}` : ""}`, styles.healthy));
  if (a.silenced_by) lines.push(L(`silenced (${clean(a.silenced_by)})`, styles.dim));
  const seen = new Set<string>();
  const acts = [...a.actions, ...suggestions].filter((x) => !seen.has(x.command ?? x.title) && seen.add(x.command ?? x.title));
  for (const act of acts.slice(0, 3)) lines.push([["→ ", styles.title], [clean(act.title), styles.text], [act.command ? `  $ ${clean(act.command)}` : "", styles.dim]]);
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
    for (const [k, v] of scalars.slice(0, max)) out.push([[`${indent}${clean(k)}: `, styles.dim], [clean(typeof v === "number" ? num(v) : v), styles.text]]);
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

function machineLines(s: ViewState, id: string | null, w: number, sections: "system" | "agents" | "events"): Line[] {
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
      lines.push([[`  ${fit(clean(f.mount), 12)} `, styles.text], [`${num(pct, 0)}%`.padStart(4), pct >= 90 ? styles.critical : pct >= 80 ? styles.warning : styles.healthy], [` of ${bytes(f.size_bytes)}, ${bytes(f.avail_bytes)} free`, styles.dim]]);
    }
    lines.push(...valueLines("TOP PROCESSES", v.top_processes, 5), ...valueLines("RCH", v.rch, 3), ...valueLines("AGENTS", v.agents, 4));
    const cols = (v.collectors ?? []) as Record<string, unknown>[];
    lines.push(H("COLLECTORS"));
    for (const c of cols.slice(0, 6))
      lines.push([[`  ${clean(c.collector)} `, styles.text], [clean(c.last_result ?? "never"), c.last_result === "ok" ? styles.healthy : styles.warning], [` ${ago(ageOf((c.last_run_at ?? null) as string | null, s.now))} ago ${clean(c.last_error ?? "")}`, styles.dim]]);
  } else if (sections === "agents") {
    lines.push(...valueLines("AGENTS (ntm)", v.agents), ...valueLines("SESSIONS", v.sessions), ...valueLines("MAIL", v.mail), ...valueLines("FILE RESERVATIONS", v.file_reservations));
  } else {
    const rano = s.data.machines[id]?.rano;
    lines.push(...valueLines("DCG DENIES", v.dcg), ...valueLines("PT FINDINGS", v.process_triage), H("RANO (connections by provider, domain)"));
    if (!rano || rano.length === 0) lines.push(L("  no rano events in the window", styles.dim));
    for (const r of (rano ?? []).slice(0, 5)) {
      const unknown = !r.provider || r.provider === "unknown";
      lines.push([[`  ${fit(clean(r.provider ?? "unknown"), 10)} `, unknown ? styles.warning : styles.text], [`${fit(clean(r.domain ?? r.remote_ip ?? "?"), 30)} `, styles.text], [`${r.connects}×`, styles.dim]]);
    }
  }
  return lines;
}

function detailLines(s: ViewState, item: ListItem | undefined, w: number): Line[] {
  switch (s.screen) {
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
    case "events":
      return machineLines(s, focusMachine(s), w, "events");
    case "repos": {
      if (!s.data.repos || s.data.repos.machines.length === 0) return [H("REPOS"), L("no repo data: the ru collector is not configured or has not run", styles.dim)];
      const r = item?.repo;
      if (!r) return [H("REPOS"), L("nothing matches", styles.dim)];
      const m = s.data.repos.machines.find((x) => x.id === r.machine_id);
      return [
        [[`${clean(r.repo ?? r.repo_id)} `, styles.title], [`on ${clean(r.machine_id)}`, styles.dim]],
        ...valueLines("STATUS", { path: r.path, url: r.url, status: r.status, branch: r.branch, dirty: r.dirty, ahead: r.ahead, behind: r.behind, mismatch: r.mismatch, last_commit_at: r.last_commit_at, beads_ready: r.beads_ready }, 10),
        ...(m ? valueLines(`${clean(m.id)} SUMMARY`, m.summary, 8) : []),
      ];
    }
    case "beads": {
      const lines: Line[] = [H("BEADS")];
      const r = item?.repo;
      if (r) lines.push([[`${clean(r.repo ?? r.repo_id)} `, styles.title], [`${r.beads_ready ?? 0} ready`, styles.healthy]]);
      else lines.push(L("no beads data: the beads collectors have not written any triage", styles.dim));
      const t = r ? s.data.beads?.[r.repo_id] : undefined;
      if (!t) {
        lines.push(H("NEXT PICKS"), L("no bv triage for this repo yet", styles.dim));
        return lines;
      }
      lines.push(H("NEXT PICKS (bv)"));
      for (const x of t.recommendations.slice(0, 5)) lines.push([[`  ${fit(clean(x.id), 14)} `, styles.title], [fit(clean(x.title), Math.max(10, w - 24)), styles.text]]);
      lines.push(H("BLOCKERS TO CLEAR"));
      if (t.blockers.length === 0) lines.push(L("  none", styles.dim));
      for (const x of t.blockers.slice(0, 4)) lines.push([[`  ${fit(clean(x.id), 14)} `, styles.warning], [fit(clean(x.title), Math.max(10, w - 34)), styles.text], [` unblocks ${x.unblocks_count ?? 0}`, styles.dim]]);
      return lines;
    }
    case "accounts": {
      const accts = s.data.accounts?.accounts ?? [];
      if (accts.length === 0) return [H("ACCOUNTS"), L("no account data: caut/caam are not configured or have not run", styles.dim)];
      const a = item?.account;
      const lines: Line[] = [];
      if (a) {
        lines.push([[`${clean(a.provider)}/${clean(a.account ?? "-")} `, providerStyle(a.provider)], [`on ${clean(a.machine_id)}`, styles.dim], ...ageBadge(a.staleness_s, s.staleAfterSeconds)]);
        if (a.auth_warning) lines.push(L(clean(a.auth_warning), styles.warning));
        lines.push(H("WINDOWS"));
        for (const win of a.windows) {
          const used = (win as { used_percent?: number | null }).used_percent ?? null;
          lines.push([[`  ${clean((win as { window?: string }).window ?? (win as { name?: string }).name ?? "window").padEnd(10)} `, styles.text], [`${num(used, 0)}% used`, used !== null && used >= 85 ? styles.critical : styles.healthy], [`  ${clean(win.reset_description ?? "")}`, styles.dim]]);
        }
      }
      const next = accts.filter((x) => !x.stale && (!a || x.provider === a.provider)).sort((x, y) => (x.max_used_percent ?? 101) - (y.max_used_percent ?? 101))[0];
      lines.push(H("USE NEXT"), next ? [[`  ${clean(next.provider)}/${clean(next.account ?? "-")} on ${clean(next.machine_id)} `, providerStyle(next.provider)], [`${num(next.max_used_percent, 0)}% used`, styles.dim]] : L("  no fresh account to recommend", styles.dim));
      return lines;
    }
    case "oracle":
      return [H("ORACLE"), L("Predictions, forecasts and risk assessment are not available yet:", styles.text), L("the oracle lands in a later version. What exists today:", styles.dim), L("  vc robot triage — ranked issues with suggested commands", styles.dim), H("DO NEXT"), ...doNext(s, 8)];
    case "guardian":
      return [H("GUARDIAN"), L("Self-healing status, active protocols and history are not available yet:", styles.text), L("the guardian lands in a later version. vc observes and suggests only.", styles.dim), H("OPEN ALERTS"), ...alertItems(s).slice(0, 8).map((i) => i.cells as Line)];
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
  ["/", "search the list (Enter keeps, Esc clears)"],
  ["f", "filter: machine:ID repo:R provider:P window:6h"],
  ["r", "refresh now (a poll cycle when in-process)"],
  ["Enter", "drill down: overview → machine → its repos"],
  ["Esc", "back / close / clear"],
  ["↑ ↓ PgUp PgDn", "move in the list"],
  ["Tab", "next screen"],
  ["1-9 F1-F7", "jump to a screen"],
  ["a g m b e o G", "accounts repos mail beads events oracle guardian"],
  ["x", "ack the selected alert"],
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
  let x = 0;
  for (const sc of screens) {
    const label = ` ${sc.key} ${long ? sc.title : sc.short} `;
    x = c.put(x, 1, label, sc.id === s.screen ? styles.tabActive : styles.tab, w - x);
  }
  // Body: list on the left, details on the right.
  const top = 2;
  const bodyH = h - 4;
  const noList = s.screen === "oracle" || s.screen === "guardian";
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
  const dl = detailLines(s, noList ? undefined : items[sel], rw).flatMap((l) => wrap(l, rw));
  // Every screen says how old its data is.
  const title = screens.find((x) => x.id === s.screen)!.title.toUpperCase();
  const focus = s.data.health?.machines.find((m) => m.id === focusMachine(s));
  const screenAge = s.screen === "machine" || s.screen === "agents" || s.screen === "events" ? (focus ? ageOf(focus.last_sample_at, s.now) : null) : s.screen === "accounts" ? minOf((s.data.accounts?.accounts ?? []).map((a) => a.staleness_s)) : s.screen === "repos" || s.screen === "beads" ? minOf((s.data.repos?.machines ?? []).map((m) => ageOf(m.collected_at, s.now))) : age;
  c.cells(rx, top, [[`${title} `, styles.title], ...ageBadge(screenAge, s.staleAfterSeconds)], rw);
  for (let r = 0; r < bodyH - 1 && r < dl.length; r++) c.cells(rx, top + 1 + r, dl[r]!, rw);
  // Status / prompt row, then the key hints.
  const py = h - 2;
  c.fill(0, py, w, styles.bar);
  if (s.mode === "search") c.cells(0, py, [[" / ", styles.barBold], [`${clean(s.input)}▏`, styles.bar]], w);
  else if (s.mode === "filter") c.cells(0, py, [[" filter ", styles.barBold], [`${clean(s.input)}▏`, styles.bar], ["  machine:ID repo:R provider:P window:6h · Enter apply · Esc cancel", styles.barDim]], w);
  else {
    const parts: Cell[] = [];
    const f = formatFilter(s.filter);
    if (f) parts.push([` filter ${clean(f)} `, styles.barWarning]);
    if (s.search) parts.push([` search "${clean(s.search)}" `, styles.barWarning]);
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

/** A one-cell line longer than the pane, broken at spaces into at most three lines. */
function wrap(line: Line, w: number): Line[] {
  if (line.length !== 1 || line[0]![0].length <= w || w < 20) return [line];
  const [text, style] = line[0]!;
  const indent = /^ */.exec(text)![0];
  const out: Line[] = [];
  let rest = text;
  while (rest.length > w && out.length < 2) {
    const cut = rest.lastIndexOf(" ", w);
    const at = cut > indent.length + 4 ? cut : w;
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
