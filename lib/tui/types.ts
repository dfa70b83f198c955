// The cockpit's shapes: the view-state a key changes, the data last read through the views, the
// items a list shows and the lines a detail pane draws. No behaviour here.
import type { AlertView } from "../alerts/ops.ts";
import type { VcEvent } from "../events.ts";
import type { TriageItem } from "../triage.ts";
import type { FleetData, FleetRow } from "../views/fleet.ts";
import type { AnyScreen, ScreenAction } from "./screen.ts";
import type { Style } from "./theme.ts";

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

/** Text in one style: a table cell, a piece of a detail line. */
export type Cell = [string, Style];
/** A detail line: cells drawn left to right. */
export type Line = Cell[];

/** A screen's id: the core's (overview, machine, events, and the repo and event levels) or a plugin's. */
export type ScreenId = string;

/** One machine's health as the `health` view gives it. */
export interface MachineSummary {
  id: string;
  score: number;
  severity: string;
  top_issue: string | null;
  last_sample_at: string | null;
}

/** The `fleet` view's answer: the machine table's numbers. */
export type { FleetData, FleetRow };

/** An event as the TUI lists it: the common shape, and the alert behind it when it is one. */
export type TuiEvent = VcEvent & { alert?: AlertView };

/** A repo a list or a level points at (the repo level reads its history through the `events` view). */
export interface RepoRef {
  machine_id: string;
  repo_id: string;
  /** What a person calls it. */
  name: string;
  path: string | null;
  /** A short status line for the level's header ("clean on main, 2 behind"). */
  status?: string;
  collected_at?: string | null;
}

/** What a screen last read: its data, or why it could not (an ERR badge, never an empty list). */
export interface Loaded<T = unknown> {
  /** What it was read for (the machine shown, the window …): data for another key is not shown. */
  key: string;
  data?: T;
  error?: string;
  /** When the answer was generated (ISO). */
  at?: string;
}

/** What the cockpit last read from the library. */
export interface TuiData {
  source: "daemon" | "local";
  /** When the fleet views were last read. */
  loadedAt: string | null;
  /** The last poll cycle seen (in-process) or daemon event. */
  lastCycleAt: string | null;
  health: { overall: { score: number; severity: string }; machines: MachineSummary[]; staleness: Record<string, number | null>; warnings: string[] } | null;
  triage: { items: TriageItem[]; suggestions: Record<string, { title: string; command?: string }[]> } | null;
  alerts: AlertView[];
  fleet: FleetData | null;
  /** Fleet views that failed to read, by view name: the reason. */
  failed: Record<string, string>;
  /** Each screen's own data, by screen id. */
  screens: Record<string, Loaded>;
  /** The Overview strips' data, by the id of the screen that owns each (read every cycle). */
  strips: Record<string, Loaded>;
  /** The last content search: its hits as events, machines that could not answer. */
  sessions?: { query: string; pending: boolean; events: TuiEvent[]; errors: string[] };
  errors: string[];
}

export type Mode = "normal" | "search" | "filter" | "help" | "confirm";

export interface Filter {
  machine?: string;
  repo?: string;
  provider?: string;
  /** Hours of history (the sparklines, the Events window). */
  windowHours?: number;
}

/** One selectable row of the left pane. */
export interface ListItem {
  key: string;
  /** The heading it is listed under; the screen's columns for that group lay it out. */
  group: string;
  /** Its cells, by column id. */
  cells: Record<string, Cell>;
  machineId: string | null;
  alert?: AlertView;
  event?: TuiEvent;
  repo?: RepoRef;
  /** A screen's own payload for its detail. */
  value?: unknown;
  /** The level Enter opens with its `event` (default: the event level). */
  opens?: ScreenId;
  /** More text the search matches besides the cells. */
  text?: string;
}

export interface ViewState {
  screen: ScreenId;
  /** Selected index in each screen's list. */
  selected: Partial<Record<ScreenId, number>>;
  /** The machine the machine screens show (set by drill-down). */
  machineId: string | null;
  mode: Mode;
  /** The text being typed in the search or filter bar. */
  input: string;
  search: string;
  filter: Filter;
  /** A one-line status ("acked …", an error). */
  message: string | null;
  /** The action waiting for y (mode "confirm"). */
  confirm?: ScreenAction;
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
  event: TuiEvent | null;
  /** Lines scrolled on the event level. */
  scroll: number;
  /** The screens in tab order (the core's and the plugins'), and the levels. */
  screens: readonly AnyScreen[];
}

/** What a drill-down step saves, so Esc restores it, and the label the breadcrumb shows for it. */
export type Crumb = Pick<ViewState, "screen" | "machineId" | "filter" | "selected" | "repo" | "event" | "scroll"> & { label: string };
