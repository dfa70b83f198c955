// A screen of the cockpit, declared once: its tab, what it reads (views only, through the
// registry), its list as a table and its detail pane. The core's screens and the plugins' are the
// same kind of object; frame.ts lays them out and names none.
import type { Cockpit } from "../cockpit.ts";
import type { RemoteCockpit } from "../serve/client.ts";
import type { ViewCall } from "../views/calls.ts";
import { clean, fit, textWidth } from "./text.ts";
import { styles } from "./theme.ts";
import type { Cell, Line, ListItem, Loaded, ViewState } from "./types.ts";

/** One column of a screen's list. */
export interface Column {
  id: string;
  /** The header ("HEALTH"); short, upper case. */
  title: string;
  /** Cells it needs (the header fits in it too). */
  width: number;
  /** 1 is always shown; higher numbers are dropped first when the list is narrow. */
  priority: number;
  align?: "left" | "right";
  /** Takes a share of the width left over, by weight (names, messages); `true` is weight 1. */
  flex?: boolean | number;
}

/** What a screen's `load` gets: the view registry and the state it loads for. */
export interface LoadContext {
  view: ViewCall;
  state: ViewState;
}

export interface Screen<D = unknown> {
  /** Unique among screens; the key of its data in `state.data.screens`. */
  readonly id: string;
  /** The tab's title ("Accounts") and a short one (≤ 5 cells) for narrow terminals. */
  readonly title: string;
  readonly short?: string;
  /** A letter that jumps to it (besides its number). */
  readonly key?: string;
  /** A drill-down level (repo, event): no tab, reached by Enter, left by Esc. */
  readonly level?: boolean;
  /** No list: the detail takes the whole width. */
  readonly noList?: boolean;
  /** The list's columns, by group ("*" for every group without its own). */
  columns?(s: ViewState): Readonly<Record<string, readonly Column[]>>;
  /** Reads that failed in part (one source of several): listed as ERR rows above the list. */
  errors?(s: ViewState, data: D | undefined): string[];
  /** What the loaded data is for (the machine shown, the window …); data for another key waits for a reload. */
  dataKey?(s: ViewState): string;
  /** Reads the screen's data through views. Throwing is fine: the screen shows ERR with the reason. */
  load?(ctx: LoadContext): Promise<D>;
  /** The list, after the filter (the frame applies the search). */
  items?(s: ViewState, data: D | undefined): ListItem[];
  /** The right pane for the selected item (or the whole body without a list). */
  detail(s: ViewState, data: D | undefined, item: ListItem | undefined, w: number): Line[];
  /** How old what it shows is, in seconds (the badge); default: the fleet's newest sample. */
  age?(s: ViewState, data: D | undefined): number | null;
  /** Enter on a machine in a machine list opens this screen for it (its `filter.machine` set). */
  readonly fromMachine?: boolean;
  /**
   * Keys of its own, on the selected item (on a level: on its data). They win over the jump
   * letters on this screen, never over the app's keys (q ? / f w r j k x s). Each answers an
   * action a person confirms with y, or a line saying why not.
   */
  readonly keys?: Readonly<Record<string, ScreenKey<D>>>;
  /**
   * A row at the top of the Overview, read with the fleet views every cycle whatever screen is
   * shown (who needs you, what runs out next): its own read through views, and the cells it
   * draws — null draws nothing. A read that fails shows as ERR in that row.
   */
  readonly strip?: Strip;
}

/** A key of a screen's own: what the help says of it, and what it asks for. */
export interface ScreenKey<D = unknown> {
  label: string;
  on(s: ViewState, item: ListItem | undefined, data: D | undefined): ScreenAction | string;
}

/** What an action is given: the cockpit the TUI reads (the daemon's, or this process's) and who acts. */
export interface ActionContext {
  api: Cockpit | RemoteCockpit;
  by: string;
}

/** An action a screen's key asks for: a question in the status row, answered y (runs) or any other key (does not). */
export interface ScreenAction {
  /** The question ("approve g-1a2b3c4d: its 2 commands run now? y/n"). */
  confirm: string;
  /** The status row while it runs. */
  working?: string;
  /** Does it through the cockpit; resolves with what the status row says after (a failure is shown as an error). */
  run(ctx: ActionContext): Promise<string>;
}

export interface Strip<S = unknown> {
  load(ctx: { view: ViewCall }): Promise<S>;
  cells(s: ViewState, data: S): Cell[] | null;
}

/** Any screen, whatever its data (registries hold these). */
// biome-ignore lint: the registry erases each screen's data type
export type AnyScreen = Screen<any>;

/**
 * Declares a screen. An identity function: it exists so TypeScript ties `load`'s data to `items` and `detail`.
 * @example defineScreen({ id: "uptime", title: "Uptime", key: "u", load: ({ view }) => view("uptime"), detail: (s, d) => … })
 */
export function defineScreen<D>(screen: Screen<D>): Screen<D> {
  return screen;
}

/** A screen's loaded data when it was read for what the state shows now. */
export function loadedFor<D>(screen: AnyScreen, s: ViewState): Loaded<D> | undefined {
  const l = s.data.screens[screen.id] as Loaded<D> | undefined;
  return l && l.key === (screen.dataKey?.(s) ?? "") ? l : undefined;
}

/** Case-insensitive substring match; an empty needle matches everything. */
export const has = (hay: string | null | undefined, needle: string | undefined) => !needle || (hay ?? "").toLowerCase().includes(needle.toLowerCase());

/** The columns that fit in `w` cells: by priority, in declared order, flex columns taking what is left. */
export function layoutColumns(cols: readonly Column[], w: number): { col: Column; x: number; w: number }[] {
  const byPriority = [...cols].sort((a, b) => a.priority - b.priority);
  const chosen = new Set<Column>();
  let used = 0;
  for (const c of byPriority) {
    const need = c.width + (chosen.size ? 1 : 0);
    if (used + need > w && chosen.size) continue;
    chosen.add(c);
    used += need;
  }
  const shown = cols.filter((c) => chosen.has(c));
  const weight = (c: Column) => (c.flex === true ? 1 : typeof c.flex === "number" ? c.flex : 0);
  const total = shown.reduce((n, c) => n + weight(c), 0);
  const spare = Math.max(0, w - used);
  const shares = shown.map((c) => (total ? Math.floor((spare * weight(c)) / total) : 0));
  // What rounding leaves goes to the heaviest flex column.
  const heaviest = shown.reduce((best, c, i) => (weight(c) > weight(shown[best]!) ? i : best), 0);
  if (total) shares[heaviest]! += spare - shares.reduce((a, b) => a + b, 0);
  let x = 0;
  return shown.map((c, i) => {
    const extra = shares[i]!;
    const cw = Math.max(1, Math.min(w - x, c.width + extra));
    const out = { col: c, x, w: cw };
    x += cw + (i < shown.length - 1 ? 1 : 0);
    return out;
  });
}

/** A cell's text fitted to its column (an ellipsis when cut, never a word cut silently), aligned. */
export function fitCell(text: string, w: number, align: Column["align"]): string {
  const t = clean(text);
  if (align === "right" && textWidth(t) <= w) return " ".repeat(w - textWidth(t)) + t;
  return fit(t, w);
}

/** The header line of a table. */
export function headerCells(layout: ReturnType<typeof layoutColumns>): Cell[] {
  const out: Cell[] = [];
  for (const { col, x, w } of layout) {
    const pad = x - out.reduce((n, c) => n + textWidth(c[0]), 0);
    if (pad > 0) out.push([" ".repeat(pad), styles.dim]);
    out.push([fitCell(col.title, w, col.align), styles.dim]);
  }
  return out;
}

/** An item's cells laid out as a table row. */
export function rowCells(item: ListItem, layout: ReturnType<typeof layoutColumns>): Cell[] {
  const out: Cell[] = [];
  let at = 0;
  for (const { col, x, w } of layout) {
    if (x > at) out.push([" ".repeat(x - at), styles.text]);
    const [text, style] = item.cells[col.id] ?? ["", styles.text];
    out.push([fitCell(text, w, col.align), style]);
    at = x + w;
  }
  return out;
}
