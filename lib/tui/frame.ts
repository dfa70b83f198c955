// The cockpit's screen as a pure function: a view-state (screen, selection, filter, search, the
// data last read through the views, size, now) in, a frame (rows of styled runs) out. Layout
// only: the top bar, the tabs and breadcrumb, a screen's list as a table and its detail pane,
// the status and key rows. What a screen lists and details is the screen's (lib/tui/screens/,
// and the plugins' screens); no terminal, no I/O — the renderer draws it, the tests read it.
import { formatFilter } from "./filter.ts";
import { ageBadge, since, wrap } from "./lines.ts";
import { listItems, screenOf, selectedItem } from "./list.ts";
import { headerCells, layoutColumns, loadedFor, rowCells, type AnyScreen, type Column } from "./screen.ts";
import { ageOf, clean, fit, graphemes, textWidth } from "./text.ts";
import { severityStyle, styles, type Style } from "./theme.ts";
import type { Cell, Crumb, Filter, Frame, Line, ListItem, Row, Run, TuiData, ViewState } from "./types.ts";

export type { Cell, Crumb, Filter, Frame, Line, ListItem, Row, Run, TuiData, ViewState };
export { focusMachine, listItems, selectedAlert, selectedItem } from "./list.ts";
export { FILTER_KEYS, formatFilter, parseFilter } from "./filter.ts";

/** An empty snapshot (before the first load). */
export function emptyData(source: TuiData["source"] = "local"): TuiData {
  return { source, loadedAt: null, lastCycleAt: null, health: null, triage: null, alerts: [], fleet: null, failed: {}, screens: {}, strips: {}, errors: [] };
}

/** The tabs: every screen that is not a drill-down level, in order. */
export const tabsOf = (s: ViewState): AnyScreen[] => s.screens.filter((x) => !x.level);

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
  /** Draws cells left to right in `maxW` cells; what does not fit ends in an ellipsis (trailing spaces aside). */
  cells(x: number, y: number, cells: readonly Cell[], maxW: number): void {
    const end = Math.min(this.w, x + maxW);
    const total = cells.reduce((n, [t]) => n + textWidth(t), 0);
    const over =
      x + total > end &&
      x +
        textWidth(
          cells
            .map(([t]) => t)
            .join("")
            .trimEnd(),
        ) >
        end;
    const stop = over ? end - 1 : end;
    let last: Style = styles.text;
    for (const [t, st] of cells) {
      if (x >= stop) break;
      x = this.put(x, y, t, st, stop - x);
      last = st;
    }
    if (over && end - 1 >= 0) this.put(end - 1, y, "…", last, 1);
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

const HINTS: [string, string][] = [
  ["?", "help"],
  ["/", "search"],
  ["f", "filter"],
  ["w", "window"],
  ["r", "refresh"],
  ["⏎", "drill"],
  ["Esc", "back"],
  ["x", "ack"],
  ["s", "silence"],
  ["q", "quit"],
];

/** The help overlay's keys (the screens' jump keys are added from the tabs). */
export function helpLines(s: ViewState): [string, string][] {
  const tabs = tabsOf(s);
  return [
    ["?", "this help (any key closes)"],
    ["/", "search facts as you type; Enter asks the search tools"],
    ["f", "filter: machine:ID repo:R provider:P window:6h"],
    ["w", "history window: 1 h · 6 h · 24 h · 7 d"],
    ["r", "refresh now (a poll cycle when in-process)"],
    ["Enter", "drill: machine → its screens → repo → event"],
    ["Esc", "back a level; at the top clear search, filter"],
    ["↑ ↓ PgUp PgDn", "move in the list (scroll an event)"],
    ["Tab", "next screen"],
    [
      `1-${Math.min(9, tabs.length)}`,
      tabs
        .slice(0, 9)
        .map((t, i) => `${i + 1} ${t.title}`)
        .join(" "),
    ],
    [
      tabs
        .filter((t) => t.key)
        .map((t) => t.key)
        .join(" "),
      tabs
        .filter((t) => t.key)
        .map((t) => t.title.toLowerCase())
        .join(" "),
    ],
    ["x", "ack the selected alert (any list, event)"],
    ["s", "silence the selected alert for 1h"],
    // This screen's own keys (they win over a jump letter here).
    ...Object.entries(screenOf(s).keys ?? {}).map(([k, x]): [string, string] => [k, x.label]),
    ["q  Ctrl-C", "quit"],
  ];
}

function overviewAge(s: ViewState): number | null {
  const ages = (s.data.health?.machines ?? []).map((m) => ageOf(m.last_sample_at, s.now)).filter((x): x is number => x !== null);
  return ages.length ? Math.min(...ages) : null;
}

/** The list pane's width: wider on a wide terminal, where the table shows more columns. */
export const listWidth = (w: number) => Math.min(w - 30, Math.max(24, Math.floor(w * (w >= 160 ? 0.55 : w >= 110 ? 0.48 : 0.42))));

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
  const screen = screenOf(s);
  topBar(c, s, w);
  tabsRow(c, s, w);
  // The Overview's strips (who needs you …), one row each, above the body.
  const strips = screen.id === "overview" ? stripRows(s).slice(0, Math.max(0, h - 12)) : [];
  strips.forEach((cells, i) => {
    c.fill(0, 2 + i, w, styles.text);
    c.cells(0, 2 + i, cells, w);
  });
  // Body: the list on the left, the detail on the right.
  const top = 2 + strips.length;
  const bodyH = h - 4 - strips.length;
  const loaded = loadedFor(screen, s);
  const raw = s.data.screens[screen.id];
  const noList = Boolean(screen.noList);
  const lw = noList ? 0 : listWidth(w);
  const items = noList ? [] : listItems(s);
  const sel = Math.max(0, Math.min(items.length - 1, s.selected[s.screen] ?? 0));
  if (!noList) {
    const errs = [...(raw?.error ? [raw.error] : []), ...(screen.errors?.(s, raw?.data) ?? [])];
    drawList(c, s, screen, items, sel, errs, top, bodyH, lw);
  }
  const rx = noList ? 1 : lw + 2;
  const rw = w - rx - 1;
  let dl = screen.detail(s, loaded?.data, noList ? undefined : items[sel], rw).flatMap((l: Line) => wrap(l, rw));
  if (screen.noList) dl = dl.slice(Math.max(0, Math.min(s.scroll, dl.length - (bodyH - 1))));
  // Every screen says how old its data is — or that it could not be read.
  const age = screen.age ? screen.age(s, loaded?.data) : overviewAge(s);
  const badge: Cell[] = raw?.error
    ? [
        [" ERR ", styles.stale],
        [` ${clean(raw.error)}`, styles.critical],
      ]
    : ageBadge(age, s.staleAfterSeconds);
  c.cells(rx, top, [[`${screen.title.toUpperCase()} `, styles.title], ...badge], rw);
  for (let r = 0; r < bodyH - 1 && r < dl.length; r++) c.cells(rx, top + 1 + r, dl[r]!, rw);
  statusRow(c, s, items, sel, w, h);
  if (s.mode === "help") drawHelp(c, helpLines(s));
  return { width: w, height: h, rows: c.rows() };
}

/** The strips' rows: each screen's strip that has something to say, or its read's failure. */
function stripRows(s: ViewState): Cell[][] {
  const rows: Cell[][] = [];
  for (const sc of s.screens) {
    if (!sc.strip) continue;
    const l = s.data.strips[sc.id];
    if (!l) continue;
    if (l.error !== undefined)
      rows.push([
        [" ERR ", styles.stale],
        [` ${clean(sc.title)}: ${clean(l.error)}`, styles.critical],
      ]);
    else {
      const cells = sc.strip.cells(s, l.data);
      if (cells?.length) rows.push(cells);
    }
  }
  return rows;
}

function topBar(c: Canvas, s: ViewState, w: number): void {
  c.fill(0, 0, w, styles.bar);
  const ov = s.data.health?.overall;
  const firing = s.data.alerts.filter((a) => a.state === "firing").length;
  const pending = s.data.alerts.filter((a) => a.state === "pending").length;
  const cycleAge = ageOf(s.data.lastCycleAt, s.now);
  const age = overviewAge(s);
  const stale = age === null || age > s.staleAfterSeconds;
  const failed = Object.keys(s.data.failed);
  c.cells(
    0,
    0,
    [
      [" VC ", styles.barBold],
      [ov ? `● fleet health ${Math.round(ov.score * 100)} % ${ov.severity} ` : "● fleet: no data ", severityStyle(ov?.severity, true)],
      ["│ alerts ", styles.bar],
      [`${firing} firing`, firing ? styles.barCritical : styles.barHealthy],
      [pending ? ` ${pending} pending` : "", styles.barWarning],
      [` │ ${s.data.source === "daemon" ? "daemon" : "polled"} ${since(cycleAge)} `, styles.bar],
      [`│ ${s.data.health?.machines.length ?? 0} machines `, styles.bar],
      [failed.length ? `│ ERR ${failed.join(", ")} ` : "", styles.barCritical],
      [s.data.source === "daemon" ? "│ via vc up" : "│ in-process", styles.barDim],
    ],
    w,
  );
  if (stale) c.put(w - 7, 0, " STALE ", styles.stale);
}

/** The tabs, then where the drill-down is: `overview › node-07 › repos › vc`. */
function tabsRow(c: Canvas, s: ViewState, w: number): void {
  c.fill(0, 1, w, styles.tab);
  const tabs = tabsOf(s);
  const long = w >= 110;
  // A drill-down level lights the tab it was entered from.
  const lit = screenOf(s).level ? (s.back.find((b) => !screenOf(s, b.screen).level)?.screen ?? s.screen) : s.screen;
  // Drilled down on a narrow terminal: the lit tab alone, so the trail has the room.
  const compact = s.back.length > 0 && !long;
  const labels = tabs.map((sc, i) => ` ${i < 9 ? i + 1 : (sc.key ?? " ")} ${long ? sc.title : (sc.short ?? sc.title.slice(0, 5))} `);
  // More tabs than the row holds: the first ones give way until the lit tab shows.
  const at = tabs.findIndex((sc) => sc.id === lit);
  let from = 0;
  while (from < at && labels.slice(from, at + 1).reduce((n, l) => n + textWidth(l), 0) > w) from++;
  let x = 0;
  tabs.forEach((sc, i) => {
    if (compact ? sc.id !== lit : i < from) return;
    x = c.put(x, 1, labels[i]!, sc.id === lit ? styles.tabActive : styles.tab, w - x);
  });
  if (s.back.length && x + 4 < w) {
    const trail = [...s.back.map((b) => b.label), crumbLabel(s, selectedItem(s))].join(" › ");
    c.put(x + 1, 1, fit(trail, w - x - 2), styles.tab);
  }
}

/** What the breadcrumb calls where the state is now. */
export function crumbLabel(s: Pick<ViewState, "screen" | "machineId" | "repo" | "event" | "screens">, item?: ListItem): string {
  if (s.screen === "repo") return clean(s.repo?.name ?? "repo");
  if (s.screen === "event") return "event";
  const title = (s.screens.find((x) => x.id === s.screen)?.title ?? s.screen).toLowerCase();
  const machine = item?.machineId ?? s.machineId;
  return s.screen === "machine" && machine ? clean(machine) : title;
}

function drawList(c: Canvas, s: ViewState, screen: AnyScreen, items: ListItem[], sel: number, errors: string[], top: number, bodyH: number, lw: number): void {
  const cols = screen.columns?.(s) ?? {};
  const layouts = new Map<string, ReturnType<typeof layoutColumns>>();
  const layoutOf = (group: string) => {
    let l = layouts.get(group);
    if (!l) layouts.set(group, (l = layoutColumns(cols[group] ?? cols["*"] ?? FALLBACK, lw)));
    return l;
  };
  type LLine = { err: string } | { header: string } | { columns: string } | { item: ListItem; i: number };
  const lines: LLine[] = errors.map((err) => ({ err }));
  let group: string | null = null;
  items.forEach((item, i) => {
    if (item.group !== group) {
      lines.push({ header: (group = item.group) });
      if (layoutOf(item.group).some((x) => x.col.title)) lines.push({ columns: item.group });
    }
    lines.push({ item, i });
  });
  if (items.length === 0 && errors.length === 0) {
    const why =
      s.search || formatFilter(s.filter)
        ? `nothing matches ${[formatFilter(s.filter), s.search && `"${s.search}"`].filter(Boolean).join(" ")}`
        : loadedFor(screen, s) || !screen.load
          ? "nothing here yet"
          : "loading…";
    c.put(1, top + 1, fit(clean(why), lw - 2), styles.dim);
  }
  const selLine = lines.findIndex((l) => "item" in l && l.i === sel);
  const off = Math.max(0, Math.min(lines.length - bodyH, selLine - Math.floor(bodyH / 2)));
  for (let r = 0; r < bodyH && off + r < lines.length; r++) {
    const l = lines[off + r]!;
    const y = top + r;
    if ("err" in l)
      c.cells(
        0,
        y,
        [
          [" ERR ", styles.stale],
          [` ${clean(l.err)}`, styles.critical],
        ],
        lw,
      );
    else if ("header" in l) {
      const n = items.filter((i) => i.group === l.header).length;
      c.put(0, y, `─ ${clean(l.header)} (${n}) ${"─".repeat(lw)}`, styles.title, lw);
    } else if ("columns" in l) c.cells(0, y, headerCells(layoutOf(l.columns)), lw);
    else {
      const cells = rowCells(l.item, layoutOf(l.item.group));
      const st = l.i === sel;
      if (st) c.fill(0, y, lw, styles.selected);
      c.cells(0, y, st ? cells.map(([t]) => [t, styles.selected] as Cell) : cells, lw);
    }
  }
  for (let r = 0; r < bodyH; r++) c.put(lw, top + r, "│", styles.dim);
}

/** Items without columns of their own: a dot and the title. */
const FALLBACK: Column[] = [
  { id: "dot", title: "", width: 1, priority: 1 },
  { id: "title", title: "", width: 10, priority: 1, flex: true },
];

function statusRow(c: Canvas, s: ViewState, items: ListItem[], sel: number, w: number, h: number): void {
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
  else if (s.mode === "confirm")
    c.cells(
      0,
      py,
      [
        [" ? ", styles.barBold],
        [`${clean(s.confirm?.confirm ?? "")} `, styles.barWarning],
        [" y yes · any other key: no", styles.barDim],
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
        [s.message ? `  ${clean(s.message)}` : "  machine:ID repo:R provider:P window:6h · Enter apply · Esc cancel", s.message ? styles.barCritical : styles.barDim],
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
      if (found.pending) parts.push([" searching… ", styles.bar]);
      else
        parts.push(
          [` content: ${found.events.length} hit${found.events.length === 1 ? "" : "s"} `, styles.bar],
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
}

function drawHelp(c: Canvas, help: readonly [string, string][]): void {
  const bw = Math.min(c.w - 2, 64);
  const bh = Math.min(c.h - 2, help.length + 3);
  const x0 = Math.floor((c.w - bw) / 2);
  const y0 = Math.floor((c.h - bh) / 2);
  for (let y = y0; y < y0 + bh; y++) c.fill(x0, y, bw, styles.overlay);
  c.put(x0, y0, `┌─ KEYS ${"─".repeat(bw)}`.slice(0, bw - 1) + "┐", styles.overlayTitle);
  help.slice(0, bh - 3).forEach(([k, d], i) => {
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

export type { Style };
