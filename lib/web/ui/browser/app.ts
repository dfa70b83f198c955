// The dashboard's shell: the routes (in the URL's hash, so the daemon serves one page), the nav,
// drawing a page and redrawing it when the watch stream says something changed, the live state,
// toasts, and the keys: 1–6 pages, j/k or arrows between rows, Enter opens, / filters, r redraws,
// ? help.
// uPlot's styles with the page's (small); its script comes with the first chart.
import "uplot/dist/uPlot.min.css";
import { follow, type StreamState, type WatchLine } from "./data.ts";
import { clean, h } from "./dom.ts";
import { accountsPage } from "./page-accounts.ts";
import { alertPage, alertsPage } from "./page-alerts.ts";
import { eventsPage } from "./page-events.ts";
import { guardianPage } from "./page-guardian.ts";
import { machinePage } from "./page-machine.ts";
import { overviewPage } from "./page-overview.ts";
import { viewPage } from "./page-view.ts";
import type { Page, PageContext } from "./page.ts";
import { errorBox, link } from "./widgets.ts";

const always = (line: WatchLine) => line.type === "alert" || line.type === "cycle" || line.type === "event" || line.type === "event_end";

const pages: Record<string, Page> = {
  "": { nav: "overview", title: () => "Overview", draw: overviewPage, liveOn: always },
  machine: { nav: "overview", title: (p) => `Machine ${clean(p[0])}`, draw: machinePage, liveOn: (l) => l.type === "cycle" },
  accounts: { nav: "accounts", title: () => "Accounts", draw: accountsPage, liveOn: (l) => l.type === "cycle" },
  alerts: { nav: "alerts", title: (p) => (p[0] ? `Alert ${clean(p[0])}` : "Alerts"), draw: (ctx) => (ctx.params[0] ? alertPage(ctx) : alertsPage(ctx)), liveOn: always },
  events: { nav: "events", title: () => "Events", draw: eventsPage, liveOn: (l) => l.type === "event" || l.type === "event_end" || l.type === "cycle" },
  guardian: { nav: "guardian", title: (p) => (p[0] ? `Run ${clean(p[0])}` : "Guardian"), draw: guardianPage, liveOn: (l) => l.type === "cycle" || l.type === "alert" },
  view: { nav: "view", title: (p) => (p[0] ? `View ${clean(p[0])}` : "Views"), draw: viewPage, liveOn: () => false },
};

const NAV = [
  { key: "overview", title: "Overview", href: link.overview },
  { key: "accounts", title: "Accounts", href: link.accounts },
  { key: "alerts", title: "Alerts", href: link.alerts },
  { key: "events", title: "Events", href: link.events },
  { key: "guardian", title: "Guardian", href: link.guardian },
  { key: "view", title: "Views", href: "#/view" },
];

interface Route {
  page: Page;
  params: string[];
  query: URLSearchParams;
  hash: string;
}

function route(): Route {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path = "", q = ""] = raw.split("?", 2);
  const parts = path.split("/").map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const page = pages[parts[0] ?? ""] ?? pages[""]!;
  return { page, params: pages[parts[0] ?? ""] ? parts.slice(1).filter(Boolean) : [], query: new URLSearchParams(q), hash: location.hash };
}

const main = h("main", { id: "main", tabindex: -1 });
const liveDot = h("span", { class: "live", "data-live": "connecting", role: "status", title: "live updates" }, "connecting");
const toasts = h("div", { class: "toasts", "aria-live": "polite", "aria-atomic": "false" });
const navLinks = NAV.map((n, i) => h("a", { href: n.href, "data-nav": n.key, "aria-keyshortcuts": String(i + 1) }, n.title));
const help = h(
  "dialog",
  { class: "help", "aria-label": "keyboard" },
  h("h2", null, "Keys"),
  h(
    "dl",
    { class: "kv" },
    [
      ["1 – 6", "Overview, Accounts, Alerts, Events, Guardian, Views"],
      ["j / k, ↓ / ↑", "next, previous row"],
      ["Enter", "open the row"],
      ["/", "filter"],
      ["r", "reload the page's data"],
      ["Esc", "close, leave a field"],
      ["?", "this help"],
    ].map(([k, v]) => [h("dt", null, h("kbd", null, k)), h("dd", null, v)]),
  ),
  h("form", { method: "dialog" }, h("button", { type: "submit" }, "Close")),
);

/** The current drawing: its abort controller and cleanups, and a number to drop late answers. */
let current: { ac: AbortController; cleanups: (() => void)[]; route: Route } | null = null;
let drawing = 0;
let pendingLive: ReturnType<typeof setTimeout> | null = null;

export function toast(text: string, kind: "ok" | "bad" = "ok"): void {
  const t = h("div", { class: `toast ${kind}`, role: kind === "bad" ? "alert" : "status" }, text);
  toasts.append(t);
  setTimeout(() => t.remove(), kind === "bad" ? 8000 : 4000);
}

/** Draws the route's page; a redraw (same route) keeps the focus and the scroll where they were. */
async function draw(redraw = false): Promise<void> {
  const r = route();
  const n = ++drawing;
  const ac = new AbortController();
  const cleanups: (() => void)[] = [];
  const ctx: PageContext = {
    params: r.params,
    query: r.query,
    go: (hash) => {
      if (location.hash === hash) void draw(true);
      else location.hash = hash;
    },
    toast,
    refresh: () => void draw(true),
    redraw,
    cleanup: (fn) => cleanups.push(fn),
    signal: ac.signal,
  };
  document.title = `${r.page.title(r.params)} · vc`;
  for (const a of navLinks) a.toggleAttribute("aria-current", a.dataset.nav === r.page.nav);
  if (!redraw) {
    current?.ac.abort();
    main.setAttribute("aria-busy", "true");
  }
  let node: Node;
  try {
    node = await r.page.draw(ctx);
  } catch (err) {
    if (ac.signal.aborted || n !== drawing) return;
    // A live redraw that fails keeps the page as it was and says so; a first drawing shows why.
    if (redraw && current?.route.hash === r.hash) {
      for (const c of cleanups) c();
      toast(`could not refresh: ${err instanceof Error ? err.message : String(err)}`, "bad");
      return;
    }
    node = h("div", { class: "page" }, h("h1", null, r.page.title(r.params)), errorBox(err));
  }
  if (n !== drawing) {
    ac.abort();
    for (const c of cleanups) c();
    return;
  }
  const focusKey = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>("[data-key]")?.dataset.key;
  const open = [...main.querySelectorAll<HTMLElement>("details[open]")].map((d) => d.closest<HTMLElement>("[data-key]")?.dataset.key).filter(Boolean);
  const old = current;
  current = { ac, cleanups, route: r };
  if (old && old.ac !== ac) {
    old.ac.abort();
    for (const c of old.cleanups) c();
  }
  main.replaceChildren(node);
  main.removeAttribute("aria-busy");
  main.dataset.page = r.page.nav;
  main.dataset.drawn = String(n);
  // When each page was first drawn, from the navigation's start (the benchmark reads it).
  performance.mark(`vc:drawn:${r.page.nav}`);
  if (redraw) {
    for (const k of open)
      main
        .querySelector<HTMLElement>(`[data-key="${CSS.escape(k!)}"]`)
        ?.querySelector("details")
        ?.setAttribute("open", "");
    if (focusKey) main.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)?.focus({ preventScroll: true });
  } else {
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true });
  }
}

/** A watch line: say what fired, and redraw the page if it shows what changed (a burst redraws once). */
function onLine(line: WatchLine): void {
  if (line.type === "alert" && (line.event === "firing" || line.event === "escalated")) {
    toast(`${clean(line.event)}: ${clean(line.title ?? line.rule)}${line.machine_id ? ` on ${clean(line.machine_id)}` : ""}`, "bad");
  }
  if (!current?.route.page.liveOn?.(line)) return;
  if (pendingLive) return;
  pendingLive = setTimeout(() => {
    pendingLive = null;
    void draw(true);
  }, 150);
}

function onState(s: StreamState): void {
  liveDot.dataset.live = s;
  liveDot.textContent = s === "live" ? "live" : s === "connecting" ? "connecting" : "offline";
}

const typing = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(t.tagName));

function moveRow(step: number): void {
  const rows = [...main.querySelectorAll<HTMLElement>("[data-row]")].filter((r) => r.offsetParent !== null);
  if (rows.length === 0) return;
  const at = rows.findIndex((r) => r === document.activeElement || r.contains(document.activeElement));
  const next = rows[Math.max(0, Math.min(rows.length - 1, at < 0 ? 0 : at + step))]!;
  if (!next.hasAttribute("tabindex") && next.tagName !== "SUMMARY") next.tabIndex = -1;
  next.focus();
  next.scrollIntoView({ block: "nearest" });
}

function onKey(e: KeyboardEvent): void {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "Escape") {
    if (typing(e.target)) (e.target as HTMLElement).blur();
    return;
  }
  if (typing(e.target)) return;
  const n = Number(e.key);
  if (n >= 1 && n <= NAV.length) {
    location.hash = NAV[n - 1]!.href;
    return;
  }
  switch (e.key) {
    case "j":
    case "ArrowDown":
      if (e.key === "ArrowDown" && !(document.activeElement as HTMLElement | null)?.closest("[data-row]")) return;
      e.preventDefault();
      moveRow(1);
      break;
    case "k":
    case "ArrowUp":
      if (e.key === "ArrowUp" && !(document.activeElement as HTMLElement | null)?.closest("[data-row]")) return;
      e.preventDefault();
      moveRow(-1);
      break;
    case "/": {
      const f = main.querySelector<HTMLInputElement>("[data-filter]");
      if (f) {
        e.preventDefault();
        f.focus();
      }
      break;
    }
    case "r":
      void draw(true);
      break;
    case "?":
      if (help.open) help.close();
      else help.showModal();
      break;
  }
}

function start(): void {
  const skip = h("a", { href: "#main", class: "skip", onclick: (e: Event) => (e.preventDefault(), main.focus()) }, "Skip to content");
  const header = h(
    "header",
    { class: "top" },
    h("a", { href: link.overview, class: "brand", "aria-label": "vc overview" }, "vc"),
    h("nav", { class: "tabs", "aria-label": "pages" }, navLinks),
    liveDot,
    h("button", { type: "button", class: "ghost small", title: "keys (?)", onclick: () => help.showModal() }, "?"),
  );
  document.body.replaceChildren(skip, header, main, toasts, help);
  addEventListener("hashchange", () => void draw(false));
  addEventListener("keydown", onKey);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => void draw(true));
  follow(onLine, onState);
  void draw(false);
}

start();
