// The cockpit's state machine: keys change the view-state (a pure reducer), actions (refresh,
// ack, silence, load) go to the library, and each change redraws one frame. Data comes only from
// the view registry — the daemon's when `vc up` runs, else the store opened here with the poll
// loop run in-process — and is re-read when a cycle ends, not on a timer.
import type { Cockpit } from "../cockpit.ts";
import type { RemoteCockpit } from "../serve/client.ts";
import { crumbLabel, emptyData, formatFilter, frame, parseFilter, tabsOf } from "./frame.ts";
import { focusMachine, listItems, screenOf, selectedAlert, selectedItem } from "./list.ts";
import type { AnyScreen, ScreenAction } from "./screen.ts";
import { sessionEvents } from "./screens/common.ts";
import { coreScreens } from "./screens/index.ts";
import { WINDOWS } from "./screens/machine.ts";
import { loadTerminal, openScreen, type TermLike } from "./render.ts";
import type { AlertView } from "../alerts/ops.ts";
import type { Crumb, FleetData, ListItem, ScreenId, TuiData, ViewState } from "./types.ts";

/** What a key asks the app to do besides changing the view-state. */
export type TuiAction =
  | { type: "quit" }
  | { type: "refresh" }
  | { type: "ack"; alert: AlertView }
  | { type: "silence"; alert: AlertView }
  | { type: "screen"; action: ScreenAction }
  | { type: "load" }
  | { type: "search"; query: string };

/** A fresh view-state on the overview. */
export function initialState(o: { width: number; height: number; now: Date; staleAfterSeconds: number; data?: TuiData; screens?: readonly AnyScreen[] }): ViewState {
  return {
    screen: "overview",
    selected: {},
    machineId: null,
    mode: "normal",
    input: "",
    search: "",
    filter: {},
    message: null,
    data: o.data ?? emptyData(),
    width: o.width,
    height: o.height,
    now: o.now,
    staleAfterSeconds: o.staleAfterSeconds,
    back: [],
    repo: null,
    event: null,
    scroll: 0,
    screens: o.screens ?? coreScreens,
  };
}

const crumb = (s: ViewState, item?: ListItem): Crumb => ({
  screen: s.screen,
  machineId: s.machineId,
  filter: s.filter,
  selected: s.selected,
  repo: s.repo,
  event: s.event,
  scroll: s.scroll,
  label: crumbLabel(s, item),
});

/** One level down: what was on screen is kept for Esc (labelled by the item entered), what it enters starts empty. */
function drill(s: ViewState, item: ListItem, to: Partial<ViewState> & { screen: ScreenId }, message: string | null = null): { state: ViewState; action: TuiAction } {
  const { [to.screen]: _old, ...screens } = s.data.screens;
  return { state: { ...s, back: [...s.back, crumb(s, item)], message, scroll: 0, data: { ...s.data, screens }, ...to }, action: { type: "load" } };
}

/** The jump keys: 1–9 and F1–F9 by tab order, and each screen's letter. */
function jumpTo(s: ViewState, key: string): ScreenId | undefined {
  const tabs = tabsOf(s);
  const n = /^F?([1-9])$/.exec(key);
  if (n) return tabs[Number(n[1]) - 1]?.id;
  return tabs.find((t) => t.key === key)?.id;
}

/**
 * One key (terminal-kit's name: "UP", "ENTER", "ESCAPE", "CTRL_C", "F1", or the character) applied
 * to the view-state. Pure: returns the next state and what to do, if anything.
 */
export function reduce(s: ViewState, key: string): { state: ViewState; action?: TuiAction } {
  if (key === "CTRL_C") return { state: s, action: { type: "quit" } };
  if (s.mode === "help") return { state: { ...s, mode: "normal" } };
  if (s.mode === "confirm") {
    // y runs the screen's action; any other key leaves it.
    const { confirm: action, ...rest } = s;
    if (key === "y" && action) return { state: { ...rest, mode: "normal", message: action.working ?? "working…" }, action: { type: "screen", action } };
    return { state: { ...rest, mode: "normal", message: "cancelled" } };
  }
  if (s.mode === "search" || s.mode === "filter") {
    if (key === "ESCAPE") return { state: { ...s, mode: "normal", input: "", message: null, ...(s.mode === "search" ? { search: "" } : {}) } };
    if (key === "ENTER") {
      if (s.mode === "filter") {
        const parsed = parseFilter(s.input);
        // A key the filter does not know is named, and the bar stays open to fix it.
        if (parsed.error) return { state: { ...s, message: parsed.error } };
        return { state: { ...s, filter: parsed.filter, mode: "normal", input: "", message: null, selected: { ...s.selected, [s.screen]: 0 } }, action: { type: "load" } };
      }
      const state = { ...s, search: s.input.trim(), mode: "normal" as const, input: "", selected: { ...s.selected, [s.screen]: 0 } };
      // Facts are matched as you type; on Enter the content tools are asked too.
      return { state, action: state.search ? { type: "search", query: state.search } : { type: "load" } };
    }
    if (key === "BACKSPACE") return { state: { ...s, message: null, input: s.input.slice(0, -1), ...(s.mode === "search" ? { search: s.input.slice(0, -1) } : {}) } };
    if (key.length === 1 && key >= " ") {
      const input = s.input + key;
      // Search narrows the list as you type.
      return { state: { ...s, input, message: null, ...(s.mode === "search" ? { search: input, selected: { ...s.selected, [s.screen]: 0 } } : {}) } };
    }
    return { state: s };
  }
  const screen = screenOf(s);
  const scrolls = Boolean(screen.noList);
  const n = listItems(s).length;
  const cur = Math.max(0, Math.min(n - 1, s.selected[s.screen] ?? 0));
  const move = (to: number) => ({
    state: { ...s, message: null, selected: { ...s.selected, [s.screen]: Math.max(0, Math.min(n - 1, to)) } },
    action: { type: "load" } as TuiAction,
  });
  // A tab is a new root: the drill-down trail starts again; the machine in focus comes along.
  const go = (to: ScreenId) => {
    const machineId = focusMachine(s) ?? s.machineId;
    const next: ViewState = { ...s, screen: to, message: null, back: [], machineId };
    // A machine table selects the machine in focus.
    const i = machineId ? listItems(next).findIndex((x) => x.key === `machine:${machineId}`) : -1;
    return { state: i >= 0 ? { ...next, selected: { ...next.selected, [to]: i } } : next, action: { type: "load" } as TuiAction };
  };
  const scroll = (by: number) => ({ state: { ...s, scroll: Math.max(0, s.scroll + by) } });
  switch (key) {
    case "q":
      return { state: s, action: { type: "quit" } };
    case "?":
      return { state: { ...s, mode: "help" } };
    case "/":
      return { state: { ...s, mode: "search", input: s.search } };
    case "f":
      return { state: { ...s, mode: "filter", input: formatFilter(s.filter) } };
    case "w": {
      const i = WINDOWS.indexOf((s.filter.windowHours ?? 6) as (typeof WINDOWS)[number]);
      const next = WINDOWS[(i + 1) % WINDOWS.length]!;
      return { state: { ...s, filter: { ...s.filter, windowHours: next }, message: `window: last ${next >= 24 ? `${next / 24} d` : `${next} h`}` }, action: { type: "load" } };
    }
    case "r":
      return { state: { ...s, message: "refreshing…" }, action: { type: "refresh" } };
    case "UP":
    case "k":
      return scrolls ? scroll(-1) : move(cur - 1);
    case "DOWN":
    case "j":
      return scrolls ? scroll(1) : move(cur + 1);
    case "PAGE_UP":
      return scrolls ? scroll(-10) : move(cur - 10);
    case "PAGE_DOWN":
      return scrolls ? scroll(10) : move(cur + 10);
    case "HOME":
      return scrolls ? { state: { ...s, scroll: 0 } } : move(0);
    case "END":
      return move(n - 1);
    case "TAB": {
      const tabs = tabsOf(s);
      const i = tabs.findIndex((x) => x.id === s.screen);
      return go(tabs[(i + 1) % tabs.length]!.id);
    }
    case "ENTER": {
      // overview → machine → its screens (repos …) → one repo's events → one event
      const item = selectedItem(s);
      if (!item) return { state: s };
      if (item.event) return drill(s, item, { screen: item.opens ?? "event", event: item.event, machineId: item.event.machine_id ?? s.machineId });
      if (item.repo) return drill(s, item, { screen: "repo", repo: item.repo, machineId: item.repo.machine_id, selected: { ...s.selected, repo: 0 } });
      if (!item.machineId) return { state: s };
      if (s.screen === "machine") {
        // Into the first screen that shows one machine's things (repos), for this machine.
        const next = s.screens.find((x) => x.fromMachine);
        if (!next) return { state: { ...s, message: "no screen lists one machine's things: Tab to the others" } };
        return drill(
          s,
          item,
          { screen: next.id, machineId: item.machineId, filter: { ...s.filter, machine: item.machineId }, selected: { ...s.selected, [next.id]: 0 } },
          `${next.title.toLowerCase()} of ${item.machineId}`,
        );
      }
      const machines = listItems({ ...s, screen: "machine" });
      const idx = machines.findIndex((m) => m.machineId === item.machineId);
      return drill(s, item, { screen: "machine", machineId: item.machineId, selected: { ...s.selected, machine: Math.max(0, idx) } });
    }
    case "ESCAPE": {
      // Back one level; at the top: clear the search, then the filter, then go to the overview.
      const prev = s.back.at(-1);
      if (prev) {
        const { label: _label, ...restore } = prev;
        return { state: { ...s, ...restore, back: s.back.slice(0, -1), message: null }, action: { type: "load" } };
      }
      if (s.search) return { state: { ...s, search: "", message: null, data: { ...s.data, sessions: undefined } }, action: { type: "load" } };
      if (formatFilter(s.filter)) return { state: { ...s, filter: {}, message: null }, action: { type: "load" } };
      if (s.screen !== "overview") return { state: { ...s, screen: "overview", message: null }, action: { type: "load" } };
      return { state: { ...s, message: null } };
    }
    case "x":
    case "s": {
      const alert = selectedAlert(s);
      if (!alert) return { state: { ...s, message: "select an alert first (Overview or Events)" } };
      return { state: s, action: { type: key === "x" ? "ack" : "silence", alert } };
    }
  }
  // The screen's own keys (approve, deny …) before the jump letters.
  const own = screen.keys?.[key];
  if (own) {
    const r = own.on(s, selectedItem(s), s.data.screens[screen.id]?.data);
    return typeof r === "string" ? { state: { ...s, message: r } } : { state: { ...s, mode: "confirm", confirm: r, message: null } };
  }
  const to = jumpTo(s, key);
  if (to) return go(to);
  return { state: s };
}

type Api = Cockpit | RemoteCockpit;

const why = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Reads the fleet views (health, triage, alerts, fleet) and the screens' Overview strips into
 * `data`; one that fails is named in `failed` (a strip: in its row), the others still land.
 */
export async function loadCore(api: Api, data: TuiData, screens: readonly AnyScreen[] = []): Promise<TuiData> {
  const withStrip = screens.filter((sc) => sc.strip);
  const view = (name: string, args?: Record<string, unknown>) => api.view(name, args);
  const [[h, t, a, f], strips] = await Promise.all([
    Promise.allSettled([api.robotHealth(), api.robotTriage(), api.robotAlerts(), api.view("fleet")]),
    Promise.allSettled(withStrip.map((sc) => sc.strip!.load({ view }))),
  ]);
  const failed: Record<string, string> = {};
  const out: TuiData = { ...data, errors: [] };
  if (h.status === "fulfilled") {
    out.loadedAt = h.value.generated_at;
    out.health = { overall: h.value.data.overall, machines: h.value.data.machines, staleness: h.value.staleness ?? {}, warnings: h.value.warnings ?? [] };
  } else failed.health = why(h.reason);
  if (t.status === "fulfilled") out.triage = { items: t.value.data.items, suggestions: t.value.data.suggestions };
  else failed.triage = why(t.reason);
  if (a.status === "fulfilled") out.alerts = a.value.data.alerts;
  else failed.alerts = why(a.reason);
  if (f.status === "fulfilled") out.fleet = f.value.data as FleetData;
  else failed.fleet = why(f.reason);
  out.failed = failed;
  const at = new Date().toISOString();
  out.strips = Object.fromEntries(
    withStrip.map((sc, i) => {
      const r = strips[i]!;
      return [sc.id, r.status === "fulfilled" ? { key: "", data: r.value, at } : { key: "", error: why(r.reason) }];
    }),
  );
  return out;
}

/** Reads what the current screen needs (its `load`, through the views); a failure is kept as the screen's error. */
export async function loadScreen(api: Api, s: ViewState): Promise<TuiData> {
  const screen = screenOf(s);
  if (!screen.load) return s.data;
  const key = screen.dataKey?.(s) ?? "";
  try {
    const data = await screen.load({ view: (name, args) => api.view(name, args), state: s });
    return { ...s.data, screens: { ...s.data.screens, [screen.id]: { key, data, at: new Date().toISOString() } } };
  } catch (err) {
    return { ...s.data, screens: { ...s.data.screens, [screen.id]: { key, error: why(err) } } };
  }
}

export interface RunTuiOptions {
  api: Api;
  /** Run poll cycles here every `intervalSeconds` (only without a daemon). */
  poll: boolean;
  /** The daemon `api` reaches is this process (`vc tui` serving the store while it runs). */
  inProcess?: boolean;
  intervalSeconds: number;
  staleAfterSeconds: number;
  /** Who acks and silences (written to the audit log by the library). */
  by: string;
  term?: TermLike;
  now?: () => Date;
  /** The screens (the core's and the plugins': `screensFor(plugins)`); the core's alone by default. */
  screens?: readonly AnyScreen[];
}

/** Runs the cockpit until `q` or Ctrl-C; resolves with the exit code. */
export async function runTui(o: RunTuiOptions): Promise<number> {
  const term = o.term ?? loadTerminal();
  const now = o.now ?? (() => ("clock" in o.api ? o.api.clock.now() : new Date()));
  const remote = "remote" in o.api;
  let state = initialState({
    width: term.width,
    height: term.height,
    now: now(),
    staleAfterSeconds: o.staleAfterSeconds,
    data: emptyData(remote && !o.inProcess ? "daemon" : "local"),
    screens: o.screens,
  });
  const screen = openScreen(term);
  const stop = new AbortController();
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => (done = r));
  const draw = () => {
    state = { ...state, now: now() };
    screen.draw(frame(state));
  };
  const fail = (err: unknown) => {
    state = { ...state, message: `error: ${err instanceof Error ? err.message : String(err)}` };
    draw();
  };
  // Loads are serialised and coalesced: a burst of events or keys costs one read.
  let loading: Promise<void> | null = null;
  let again = false;
  let coreWanted = false;
  const load = (core: boolean) => {
    coreWanted ||= core;
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        const withCore = coreWanted;
        coreWanted = false;
        try {
          let data = withCore ? await loadCore(o.api, state.data, state.screens) : state.data;
          data = await loadScreen(o.api, { ...state, data, now: now() });
          // A cycle seen while this load ran is newer than the one it started with; a search answered meanwhile stays.
          state = { ...state, data: { ...data, lastCycleAt: state.data.lastCycleAt, sessions: state.data.sessions } };
        } catch (err) {
          state = { ...state, data: { ...state.data, errors: [err instanceof Error ? err.message : String(err)] } };
        }
        if (!stop.signal.aborted) draw();
      } while (again && !stop.signal.aborted);
    })().finally(() => (loading = null));
    return loading;
  };
  const onCycle = (at: string) => {
    state = { ...state, data: { ...state.data, lastCycleAt: at } };
    void load(true);
  };

  // Live updates: the daemon's event stream, or this process's own poll loop.
  let unsubscribe = () => {};
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let cycle: Promise<unknown> | null = null;
  const collectNow = () => {
    if (remote || cycle) return cycle;
    const vc = o.api as Cockpit;
    cycle = vc
      .collect({ signal: stop.signal })
      .catch((err) => {
        if (!stop.signal.aborted) fail(err);
      })
      .finally(() => (cycle = null));
    return cycle;
  };
  if (remote) {
    const api = o.api as RemoteCockpit;
    // Across daemon restarts: "reconnecting…" while it is away, a full reload once it is back.
    const onStatus = (s: "connected" | "reconnecting") => {
      state = { ...state, message: s === "reconnecting" ? "daemon: reconnecting…" : state.message === "daemon: reconnecting…" ? null : state.message };
      draw();
    };
    void api.watch((e) => onCycle(e.at ?? now().toISOString()), { signal: stop.signal, heartbeatSeconds: o.intervalSeconds, reconnect: true, onStatus }).catch(fail);
  } else {
    unsubscribe = (o.api as Cockpit).subscribe((outcome) => onCycle((outcome as { at?: string }).at ?? now().toISOString()));
    if (o.poll) {
      const tick = () => {
        void collectNow();
        pollTimer = setTimeout(tick, o.intervalSeconds * 1000);
      };
      tick();
    }
  }
  // The clock in the top row and the ages move even when nothing arrives.
  const clockTimer = setInterval(draw, 5000);

  const quit = (code: number) => {
    if (stop.signal.aborted) return;
    stop.abort();
    clearInterval(clockTimer);
    if (pollTimer) clearTimeout(pollTimer);
    unsubscribe();
    screen.restore();
    done(code);
  };
  const onSignal = () => quit(0);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("SIGINT", onSignal);

  const act = async (action: NonNullable<ReturnType<typeof reduce>["action"]>) => {
    switch (action.type) {
      case "quit":
        return quit(0);
      case "load":
        return load(false);
      case "refresh":
        if (!remote && o.poll) await collectNow();
        // Serving the store itself, this process runs the cycle now (through its own socket).
        else if (o.inProcess) await o.api.collect({ force: true }).catch(fail);
        await load(true);
        state = { ...state, message: `refreshed at ${now().toISOString().slice(11, 19)}` };
        return draw();
      case "search": {
        state = { ...state, data: { ...state.data, sessions: { query: action.query, pending: true, events: [], errors: [] } } };
        draw();
        // A filter naming one machine exactly narrows the search to it; a partial name filters the hits.
        const machines = state.filter.machine && state.data.health?.machines.some((m) => m.id === state.filter.machine) ? [state.filter.machine] : undefined;
        const r = await o.api.search(action.query, { machines, limit: 20 }).catch((err: unknown) => ({
          hits: [],
          errors: [{ machine_id: "vc", collector: "search", error: err instanceof Error ? err.message : String(err) }],
          query: action.query,
          machines: [],
        }));
        // A newer search (or Esc) wins over this answer.
        if (state.data.sessions?.query !== action.query) return;
        state = {
          ...state,
          data: { ...state.data, sessions: { query: action.query, pending: false, events: sessionEvents(r), errors: r.errors.map((e) => `${e.machine_id}: ${e.error}`) } },
        };
        return load(false);
      }
      case "ack": {
        const a = await o.api.ack(action.alert.alert_id, { by: o.by, note: "acked in vc tui" });
        state = { ...state, message: `acked ${a.alert_id}` };
        return load(true);
      }
      case "silence": {
        const labels = { rule: action.alert.rule, ...(action.alert.machine_id ? { machine_id: action.alert.machine_id } : {}) };
        const r = await o.api.silence({ matchers: labels, endsAt: new Date(now().getTime() + 3_600_000), comment: `silenced 1h in vc tui (${action.alert.alert_id})`, by: o.by });
        state = { ...state, message: `silenced ${action.alert.rule}${action.alert.machine_id ? ` on ${action.alert.machine_id}` : ""} for 1h (${r.silence_id})` };
        return load(true);
      }
      case "screen": {
        const said = await action.action.run({ api: o.api, by: o.by });
        state = { ...state, message: said };
        return load(true);
      }
    }
  };
  term.on("key", (name) => {
    const r = reduce(state, name);
    state = r.state;
    draw();
    if (r.action) act(r.action).catch(fail);
  });
  term.on("resize", (width, height) => {
    state = { ...state, width, height };
    screen.invalidate();
    draw();
  });
  draw();
  void load(true);
  const code = await finished;
  process.off("SIGTERM", onSignal);
  process.off("SIGHUP", onSignal);
  process.off("SIGINT", onSignal);
  await (cycle as Promise<unknown> | null)?.catch(() => {});
  return code;
}
