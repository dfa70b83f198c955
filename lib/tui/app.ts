// The cockpit's state machine: keys change the view-state (a pure reducer), actions (refresh,
// ack, silence, load a machine) go to the library, and each change redraws one frame. Data comes
// only from the cockpit's API — the daemon's when `vc up` runs, else the store opened here with
// the poll loop run in-process — and is re-read when a cycle ends, not on a timer.
import type { Cockpit } from "../cockpit.ts";
import type { RemoteCockpit } from "../serve/client.ts";
import {
  emptyData,
  focusMachine,
  formatFilter,
  frame,
  listItems,
  parseFilter,
  repoKey,
  screens,
  selectedAlert,
  selectedItem,
  type Crumb,
  type MachineDetail,
  type ScreenId,
  type TuiData,
  type ViewState,
} from "./frame.ts";
import { loadEvents, loadRepoEvents, q, sessionEvents, ts } from "./events.ts";
import { loadTerminal, openScreen, type TermLike } from "./render.ts";
import type { AlertView } from "../alerts/ops.ts";

/** What a key asks the app to do besides changing the view-state. */
export type TuiAction =
  | { type: "quit" }
  | { type: "refresh" }
  | { type: "ack"; alert: AlertView }
  | { type: "silence"; alert: AlertView }
  | { type: "load" }
  | { type: "search"; query: string };

const JUMP: Record<string, ScreenId> = {
  a: "accounts",
  g: "repos",
  m: "agents",
  b: "beads",
  e: "events",
  o: "oracle",
  G: "guardian",
  F1: "overview",
  F2: "machine",
  F3: "repos",
  F4: "accounts",
  F5: "agents",
  F6: "events",
  F7: "beads",
  F8: "oracle",
  F9: "guardian",
};
for (const s of screens) JUMP[s.key] = s.id;

/** A fresh view-state on the overview. */
export function initialState(o: { width: number; height: number; now: Date; staleAfterSeconds: number; data?: TuiData }): ViewState {
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
  };
}

const crumb = (s: ViewState): Crumb => ({ screen: s.screen, machineId: s.machineId, filter: s.filter, selected: s.selected, repo: s.repo, event: s.event, scroll: s.scroll });

/** One level down: what was on screen is kept for Esc. */
function drill(s: ViewState, to: Partial<ViewState> & { screen: ScreenId }, message: string | null = null): { state: ViewState; action: TuiAction } {
  return { state: { ...s, back: [...s.back, crumb(s)], message, scroll: 0, ...to }, action: { type: "load" } };
}

/**
 * One key (terminal-kit's name: "UP", "ENTER", "ESCAPE", "CTRL_C", "F1", or the character) applied
 * to the view-state. Pure: returns the next state and what to do, if anything.
 */
export function reduce(s: ViewState, key: string): { state: ViewState; action?: TuiAction } {
  if (key === "CTRL_C") return { state: s, action: { type: "quit" } };
  if (s.mode === "help") return { state: { ...s, mode: "normal" } };
  if (s.mode === "search" || s.mode === "filter") {
    if (key === "ESCAPE") return { state: { ...s, mode: "normal", input: "", ...(s.mode === "search" ? { search: "" } : {}) } };
    if (key === "ENTER") {
      const next = s.mode === "search" ? { ...s, search: s.input.trim() } : { ...s, filter: parseFilter(s.input) };
      const state = { ...next, mode: "normal" as const, input: "", selected: { ...s.selected, [s.screen]: 0 } };
      // Facts are matched as you type; on Enter the content tools (cass) are asked too.
      return { state, action: s.mode === "search" && state.search ? { type: "search", query: state.search } : { type: "load" } };
    }
    if (key === "BACKSPACE") return { state: { ...s, input: s.input.slice(0, -1), ...(s.mode === "search" ? { search: s.input.slice(0, -1) } : {}) } };
    if (key.length === 1 && key >= " ") {
      const input = s.input + key;
      // Search narrows the list as you type.
      return { state: { ...s, input, ...(s.mode === "search" ? { search: input, selected: { ...s.selected, [s.screen]: 0 } } : {}) } };
    }
    return { state: s };
  }
  const n = listItems(s).length;
  const cur = Math.max(0, Math.min(n - 1, s.selected[s.screen] ?? 0));
  const move = (to: number) => ({
    state: { ...s, message: null, selected: { ...s.selected, [s.screen]: Math.max(0, Math.min(n - 1, to)) } },
    action: { type: "load" } as TuiAction,
  });
  // A tab is a new root: the drill-down trail starts again.
  const go = (screen: ScreenId) => ({ state: { ...s, screen, message: null, back: [], machineId: focusMachine(s) ?? s.machineId }, action: { type: "load" } as TuiAction });
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
    case "r":
      return { state: { ...s, message: "refreshing…" }, action: { type: "refresh" } };
    case "UP":
    case "k":
      return s.screen === "event" ? scroll(-1) : move(cur - 1);
    case "DOWN":
    case "j":
      return s.screen === "event" ? scroll(1) : move(cur + 1);
    case "PAGE_UP":
      return s.screen === "event" ? scroll(-10) : move(cur - 10);
    case "PAGE_DOWN":
      return s.screen === "event" ? scroll(10) : move(cur + 10);
    case "HOME":
      return s.screen === "event" ? { state: { ...s, scroll: 0 } } : move(0);
    case "END":
      return move(n - 1);
    case "TAB": {
      const i = screens.findIndex((x) => x.id === s.screen);
      return go(screens[(i + 1) % screens.length]!.id);
    }
    case "ENTER": {
      // global → machine → its repos → one repo's events → one event
      const item = selectedItem(s);
      if (!item) return { state: s };
      if (item.event) return drill(s, { screen: "event", event: item.event, machineId: item.event.machineId ?? s.machineId });
      if (item.repo) return drill(s, { screen: "repo", repo: item.repo, machineId: item.repo.machine_id, selected: { ...s.selected, repo: 0 } });
      if (!item.machineId) return { state: s };
      if (s.screen === "machine" || s.screen === "agents") {
        return drill(
          s,
          { screen: "repos", machineId: item.machineId, filter: { ...s.filter, machine: item.machineId }, selected: { ...s.selected, repos: 0 } },
          `repos of ${item.machineId}`,
        );
      }
      const machines = listItems({ ...s, screen: "machine" });
      const idx = machines.findIndex((m) => m.machineId === item.machineId);
      return drill(s, { screen: "machine", machineId: item.machineId, selected: { ...s.selected, machine: Math.max(0, idx) } });
    }
    case "ESCAPE": {
      // Back one level; at the top: clear the search, then the filter, then go to the overview.
      const prev = s.back.at(-1);
      if (prev) return { state: { ...s, ...prev, back: s.back.slice(0, -1), message: null }, action: { type: "load" } };
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
  const to = JUMP[key];
  if (to) return go(to);
  return { state: s };
}

type Api = Cockpit | RemoteCockpit;

/** Reads the fleet views (health, triage, alerts) into `data`. */
export async function loadCore(api: Api, data: TuiData): Promise<TuiData> {
  const [h, t, a] = await Promise.all([api.robotHealth(), api.robotTriage(), api.robotAlerts()]);
  return {
    ...data,
    loadedAt: h.generated_at,
    health: { overall: h.data.overall, machines: h.data.machines, staleness: h.staleness ?? {}, warnings: h.warnings ?? [] },
    triage: { items: t.data.items, suggestions: t.data.suggestions },
    alerts: a.data.alerts,
    errors: [],
  };
}

/** One machine's view and its samples over the last `hours` (for the sparklines). */
export async function loadMachine(api: Api, id: string, now: Date, hours = 6): Promise<MachineDetail> {
  const from = new Date(now.getTime() - hours * 3_600_000);
  const where = `machine_id = ${q(id)} AND collected_at > ${ts(from)} AND collected_at <= ${ts(now)}`;
  const [view, sys, disk, rano] = await Promise.all([
    api.robotMachine(id),
    api.query(
      `SELECT epoch(collected_at) AS t, cpu_total, load5, 100.0 * mem_used_bytes / nullif(mem_total_bytes, 0) AS mem FROM sys_samples WHERE ${where} ORDER BY collected_at`,
    ),
    api
      .query(`SELECT epoch(collected_at) AS t, max(used_pct) AS disk FROM filesystems WHERE ${where} GROUP BY collected_at ORDER BY collected_at`)
      .catch(() => ({ rows: [] as Record<string, unknown>[] })),
    api
      .query(`SELECT provider, coalesce(domain, remote_ip) AS domain, count(*) AS connects FROM rano_events
              WHERE machine_id = ${q(id)} AND event = 'connect' AND ts > ${ts(from)} AND ts <= ${ts(now)} GROUP BY ALL ORDER BY connects DESC LIMIT 8`)
      .catch(() => ({ rows: [] as Record<string, unknown>[] })),
  ]);
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    view: view.data as unknown as Record<string, unknown>,
    series: {
      from: from.getTime() / 1000,
      to: now.getTime() / 1000,
      cpu: sys.rows.map((r) => [Number(r.t), n(r.cpu_total)] as const),
      load: sys.rows.map((r) => [Number(r.t), n(r.load5)] as const),
      mem: sys.rows.map((r) => [Number(r.t), n(r.mem)] as const),
      disk: disk.rows.map((r) => [Number(r.t), n(r.disk)] as const),
    },
    rano: rano.rows,
    loadedAt: view.generated_at,
  };
}

/** The newest bv triage of each repo: its recommendations (next picks) and blockers. */
export async function loadBeads(api: Api, now: Date): Promise<NonNullable<TuiData["beads"]>> {
  const r = await api
    .query(`SELECT repo_id, recommendations_json, blockers_json FROM beads_triage_snapshots WHERE collected_at <= ${ts(now)}
            QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY collected_at DESC) = 1`)
    .catch(() => ({ rows: [] as Record<string, unknown>[] }));
  const parse = (v: unknown) => {
    try {
      const x = typeof v === "string" ? JSON.parse(v) : v;
      return Array.isArray(x) ? (x as Record<string, unknown>[]) : [];
    } catch {
      return [];
    }
  };
  return Object.fromEntries(
    r.rows.map((row) => [
      String(row.repo_id),
      {
        recommendations: parse(row.recommendations_json).map((x) => ({
          id: String(x.id ?? ""),
          title: String(x.title ?? ""),
          score: typeof x.score === "number" ? x.score : undefined,
        })),
        blockers: parse(row.blockers_json).map((x) => ({
          id: String(x.id ?? ""),
          title: String(x.title ?? ""),
          unblocks_count: typeof x.unblocks_count === "number" ? x.unblocks_count : undefined,
        })),
      },
    ]),
  );
}

/** Reads what the current screen needs beyond the fleet views. */
export async function loadScreen(api: Api, s: ViewState): Promise<TuiData> {
  const data = { ...s.data };
  if (s.screen === "repos" || s.screen === "beads") data.repos = (await api.view("repos")).data as TuiData["repos"];
  if (s.screen === "beads") data.beads = await loadBeads(api, s.now);
  if (s.screen === "accounts") data.accounts = (await api.view("accounts")).data as TuiData["accounts"];
  if (s.screen === "events") data.events = await loadEvents(api, { now: s.now, hours: s.filter.windowHours ?? 24, machine: s.filter.machine });
  if (s.screen === "repo" && s.repo) data.repoEvents = { key: repoKey(s.repo), events: await loadRepoEvents(api, s.repo, { now: s.now, hours: s.filter.windowHours ?? 168 }) };
  if (s.screen === "machine" || s.screen === "agents") {
    const id = focusMachine(s);
    if (id) data.machines = { ...data.machines, [id]: await loadMachine(api, id, s.now, s.filter.windowHours ?? 6) };
  }
  return data;
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
          let data = withCore ? await loadCore(o.api, state.data) : state.data;
          data = await loadScreen(o.api, { ...state, data, now: now() });
          // A cycle seen while this load ran is newer than the one it started with.
          state = { ...state, data: { ...data, lastCycleAt: state.data.lastCycleAt } };
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
