// Machine: its health and factors, charts of load, CPU, memory and the fullest disk over 1 h, 6 h,
// 24 h or 7 d (series view), then its filesystems, system figures, every section a plugin adds
// (top processes, agents, accounts …), its collectors and tools, and its recent events.
import { orError, view } from "./data.ts";
import { h } from "./dom.ts";
import { bytes, dur, label, num, WINDOWS } from "./format.ts";
import { generic } from "./generic.ts";
import { usageList } from "./page-accounts.ts";
import { eventList } from "./page-events.ts";
import type { PageContext } from "./page.ts";
import { type Column, sortableTable } from "./table.ts";
import type { AccountsData, AlertView, EventsData, HealthFactor, MachineData, SeriesData } from "./types.ts";
import { alertList, badge, bar, errorBox, link, section, time, warnings } from "./widgets.ts";

/** Sections drawn in their own way, or in the header: not repeated among the plugins' sections. */
const OWN = new Set(["machine", "health", "section_errors", "system", "filesystems", "collectors", "tools"]);
/** Plugin sections shown first, in this order (the rest follow in the view's order). */
const FIRST = ["top_processes", "agents", "accounts"];

interface Filesystem {
  mount: string;
  filesystem?: string;
  fs_type?: string;
  size_bytes?: number;
  used_bytes?: number;
  avail_bytes?: number;
  used_pct?: number | null;
}

export async function machinePage(ctx: PageContext): Promise<Node> {
  const id = ctx.params[0] ?? "";
  const win = WINDOWS.some((w) => w.key === ctx.query.get("window")) ? ctx.query.get("window")! : "6h";
  const [{ timeChart }, m, alerts, series, events] = await Promise.all([
    // uPlot comes with the first machine page (the Overview does without it).
    import("./chart.ts"),
    view<MachineData>("machine", { id }, ctx.signal),
    view<{ alerts: AlertView[] }>("alerts", {}, ctx.signal),
    orError(view<SeriesData>("series", { machine: id, window: win, points: 120 }, ctx.signal)),
    orError(view<EventsData>("events", { machine: id, window: "24h", limit: 20 }, ctx.signal)),
  ]);
  const now = m.generated_at;
  const d = m.data;
  const health = d.health;

  const header = h(
    "header",
    { class: "page-head" },
    h("h1", null, h("span", { class: "mono" }, id), " ", badge(health.severity, `${Math.round(health.score * 100)} ${health.severity}`)),
    h(
      "p",
      { class: "muted" },
      health.top_issue ? ["worst: ", h("strong", null, label(health.top_issue)), " · "] : null,
      "last sample ",
      time(health.last_sample_at, now),
      d.machine?.ssh_target ? [" · ", h("span", { class: "mono" }, String(d.machine.ssh_target))] : null,
    ),
  );

  const windows = h(
    "nav",
    { class: "segmented", "aria-label": "chart window" },
    WINDOWS.map((w) =>
      h("a", { href: `${link.machine(id)}?window=${w.key}`, class: w.key === win ? "on" : null, "aria-current": w.key === win ? "true" : null, "data-window": w.key }, w.title),
    ),
  );
  let charts: Node;
  if (series instanceof Error) charts = errorBox(series);
  else {
    const s = series.data;
    const cores = s.latest.cpu_cores;
    const made = [
      timeChart({ title: `Load (5 min)${cores ? ` · ${cores} cores` : ""}`, series: [{ label: "load5", points: s.load, colour: 1 }] }),
      timeChart({ title: "CPU busy", max: 100, series: [{ label: "cpu", points: s.cpu, colour: 2, unit: " %" }] }),
      timeChart({
        title: "Memory",
        max: 100,
        series: [
          { label: "mem", points: s.mem, colour: 3, unit: " %" },
          { label: "swap", points: s.swap, colour: 4, unit: " %" },
        ],
      }),
      timeChart({ title: "Fullest disk", max: 100, series: [{ label: "disk", points: s.disk, colour: 1, unit: " %" }] }),
    ];
    for (const c of made) ctx.cleanup(c.destroy);
    charts = h(
      "div",
      { class: "charts", "data-charts": win },
      made.map((c) => c.el),
    );
  }

  const factorCols: Column<HealthFactor>[] = [
    { key: "id", title: "Factor", value: (f) => label(f.id) },
    { key: "sev", title: "Severity", value: (f) => f.severity, cell: (f) => badge(f.severity) },
    { key: "score", title: "Score", value: (f) => f.score, num: true, cell: (f) => num(f.score, 2) },
    { key: "detail", title: "Detail", value: (f) => f.detail },
  ];
  const fs = (Array.isArray(d.filesystems) ? d.filesystems : []) as Filesystem[];
  const fsCols: Column<Filesystem>[] = [
    { key: "mount", title: "Mount", value: (f) => f.mount, cell: (f) => h("span", { class: "mono" }, f.mount) },
    { key: "type", title: "Type", value: (f) => f.fs_type ?? null, optional: true },
    { key: "size", title: "Size", value: (f) => f.size_bytes ?? null, num: true, cell: (f) => bytes(f.size_bytes) },
    { key: "avail", title: "Free", value: (f) => f.avail_bytes ?? null, num: true, cell: (f) => bytes(f.avail_bytes) },
    { key: "used", title: "Used", value: (f) => f.used_pct ?? null, num: true, cell: (f) => bar(f.used_pct, `${f.mount} used`) },
  ];

  const sys = d.system as Record<string, unknown> | null | undefined;
  const system = sys
    ? h(
        "dl",
        { class: "kv cols3" },
        [
          ["CPU", `${num(sys.cpu_total)} % of ${num(sys.cpu_cores)} cores`],
          ["Load", `${num(sys.load1, 2)} / ${num(sys.load5, 2)} / ${num(sys.load15, 2)}`],
          ["Memory", `${bytes(sys.mem_used_bytes)} of ${bytes(sys.mem_total_bytes)}`],
          ["Swap", `${bytes(sys.swap_used_bytes)} of ${bytes(sys.swap_total_bytes)}`],
          ["Processes", `${num(sys.procs_running)} running of ${num(sys.procs_total)}`],
          ["Up", dur(sys.uptime_seconds)],
        ].map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
      )
    : h("p", { class: "empty" }, "No system sample yet.");

  const rest = Object.keys(d).filter((k) => !OWN.has(k));
  const ordered = [...FIRST.filter((k) => rest.includes(k)), ...rest.filter((k) => !FIRST.includes(k))];
  // The first ones are always shown (saying when nothing was collected); the others only with data.
  const plugins = ordered
    .filter((k) => FIRST.includes(k) || (d[k] !== null && d[k] !== undefined))
    .map((k) =>
      section(
        label(k),
        d[k] === null || d[k] === undefined ? h("p", { class: "empty" }, "Nothing collected.") : k === "accounts" ? usageList(d[k] as AccountsData, now) : generic(d[k], 3, now),
      ),
    );
  const failed = d.section_errors.map((e) => `${e.section}: ${e.error}`);

  let recent: Node;
  if (events instanceof Error) recent = errorBox(events);
  else {
    const e = events.data;
    recent = eventList(
      e.events.filter((x) => x.machine_id === id),
      now,
      "No events on this machine in the last 24 h.",
    );
  }

  return h(
    "div",
    { class: "page machine" },
    header,
    warnings([...(m.warnings ?? []), ...failed]),
    section(
      "Open alerts",
      alertList(
        alerts.data.alerts.filter((a) => a.machine_id === id),
        now,
        ctx,
        "No open alerts on this machine.",
      ),
    ),
    h("div", { class: "row" }, h("h2", null, "History"), windows),
    charts,
    h(
      "div",
      { class: "cols" },
      section("Health factors", sortableTable(factorCols, health.factors, { id: "factors", rowKey: (f) => f.id, sort: { key: "score", dir: 1 } })),
      section("System", system),
    ),
    section("Filesystems", sortableTable(fsCols, fs, { id: "filesystems", rowKey: (f) => f.mount, sort: { key: "used", dir: -1 }, empty: "No filesystems reported." })),
    plugins,
    section("Recent events (24 h)", recent),
    h("div", { class: "cols" }, section("Collectors", generic(d.collectors ?? null, 2, now)), section("Tools", generic(d.tools ?? null, 2, now))),
  );
}
