// Overview: how the fleet stands, its open alerts (ack, silence, explain), what to do next
// (triage), and the machine table (fleet view) with a CPU sparkline per machine.
import { sparkline } from "./sparkline.ts";
import { type Envelope, get, routes, view } from "./data.ts";
import { h } from "./dom.ts";
import { dur, num, pct, sevRank } from "./format.ts";
import type { PageContext } from "./page.ts";
import { type Column, sortableTable } from "./table.ts";
import type { AlertView, FleetData, FleetRow, SeriesData, TriageData } from "./types.ts";
import { alertList, badge, command, errorBox, link, machineLink, section, time, warnings } from "./widgets.ts";

/** Sparklines already drawn, by machine: a live redraw reuses them for a minute. */
const sparks = new Map<string, { at: number; cpu: (number | null)[] }>();
const SPARK_TTL_MS = 60_000;
const SPARK_WINDOW = "6h";
const SPARK_POINTS = 24;

export async function overviewPage(ctx: PageContext): Promise<Node> {
  // The table first: it needs only the fleet view. The alerts and DO NEXT follow it (asked after it,
  // so the daemon answers the fleet alone); a live redraw waits for all three and swaps once.
  const others = () => Promise.all([view<TriageData>("triage", { limit: 10 }, ctx.signal), view<{ alerts: AlertView[] }>("alerts", {}, ctx.signal)]);
  const early = ctx.redraw ? others() : null;
  const fleet = await view<FleetData>("fleet", {}, ctx.signal);
  const now = fleet.generated_at;
  const machines = fleet.data.machines;
  const slots = new Map<string, HTMLElement>();

  const cols: Column<FleetRow>[] = [
    { key: "id", title: "Machine", value: (r) => r.id, cell: (r) => machineLink(r.id) },
    { key: "score", title: "Health", value: (r) => r.score, num: true, cell: (r) => badge(r.severity, `${Math.round(r.score * 100)}`) },
    { key: "issue", title: "Issue", value: (r) => r.top_issue ?? (r.stale ? "stale" : null), optional: true },
    { key: "load", title: "Load/core", value: (r) => r.load_per_core, num: true, cell: (r) => num(r.load_per_core, 2) },
    {
      key: "cpu",
      title: "CPU 6 h",
      value: (r) => lastOf(sparks.get(r.id)?.cpu),
      fixed: true,
      optional: true,
      cell: (r) => {
        const slot = h("span", { class: "spark-slot", "data-machine": r.id });
        slots.set(r.id, slot);
        return slot;
      },
    },
    { key: "mem", title: "Mem", value: (r) => r.mem_pct, num: true, cell: (r) => pct(r.mem_pct) },
    { key: "swap", title: "Swap", value: (r) => r.swap_pct, num: true, optional: true, cell: (r) => pct(r.swap_pct) },
    { key: "disk", title: "Disk", value: (r) => r.disk_pct, num: true, cell: (r) => h("span", { title: r.disk_mount ?? "" }, pct(r.disk_pct)) },
    { key: "alerts", title: "Alerts", value: (r) => r.alerts, num: true, cell: (r) => (r.alerts ? h("strong", null, String(r.alerts)) : "0") },
    ...fleet.data.columns.map(
      (c): Column<FleetRow> => ({ key: `col:${c.name}`, title: c.title, value: (r) => r.columns[c.name] ?? null, num: c.unit === "count" || c.unit === "percent", optional: true }),
    ),
    {
      key: "poll",
      title: "Last poll",
      value: (r) => r.poll_age_s,
      num: true,
      cell: (r) =>
        r.last_poll_at
          ? h("span", { class: r.stale ? "bad" : null, title: r.last_poll_at }, r.poll_age_s === null ? "–" : `${dur(r.poll_age_s)} ago`)
          : h("span", { class: "bad" }, "never"),
    },
  ];
  const table = sortableTable(cols, machines, {
    id: "machines",
    caption: `${machines.length} machines`,
    rowKey: (r) => r.id,
    onOpen: (r) => ctx.go(link.machine(r.id)),
    rowClass: (r) => (r.stale ? "stale" : sevRank(r.severity) <= 1 ? "hot" : ""),
    sort: { key: "score", dir: 1 },
    empty: "No machines in the config.",
  });

  const counts = (sev: string) => machines.filter((m) => m.severity === sev).length;
  const health = h("div", { class: "big" }, h("span", { class: "muted" }, "Fleet health "), "…");
  const openStat = stat(
    "open alerts",
    machines.reduce((n, m) => n + m.alerts, 0),
  );
  const summary = h(
    "section",
    { class: "summary", "aria-label": "fleet health" },
    health,
    stat("machines", machines.length),
    stat("critical", counts("critical"), "critical"),
    stat("high", counts("high"), "high"),
    stat("medium", counts("medium"), "medium"),
    stat("stale", machines.filter((m) => m.stale).length, machines.some((m) => m.stale) ? "high" : undefined),
    openStat,
    h("div", { class: "muted small asof" }, "as of ", time(now, now), " · ", h("time", { datetime: now }, new Date(now).toLocaleTimeString())),
  );
  const loading = () => h("p", { class: "muted", "aria-busy": "true" }, "Loading…");
  const alertsPanel = section("Open alerts", loading());
  const nextPanel = section("Do next", loading());
  const alertWarnings = h("div");

  const fill = ([triage, alerts]: Awaited<ReturnType<typeof others>>) => {
    const open = alerts.data.alerts;
    const overall = triage.data.overall;
    health.replaceChildren(h("span", { class: "muted" }, "Fleet health "), overall ? badge(overall.severity, `${Math.round(overall.score * 100)} ${overall.severity}`) : "–");
    openStat.replaceWith(stat("open alerts", open.length, open.length ? "high" : undefined));
    alertsPanel.replaceChildren(h("h2", null, `Open alerts (${open.length})`), alertList(open, now, ctx));
    nextPanel.replaceChildren(h("h2", null, "Do next"), doNext(triage.data));
    alertWarnings.replaceChildren(warnings(alerts.warnings) ?? "");
  };
  const failed = (err: unknown) => {
    if (ctx.signal.aborted) return;
    alertsPanel.replaceChildren(h("h2", null, "Open alerts"), errorBox(err));
    nextPanel.replaceChildren(h("h2", null, "Do next"), errorBox(err));
  };
  // The sparklines come last, so they never hold up the views above.
  if (early) {
    fill(await early);
    void fillSparks(slots, ctx.signal);
  } else
    void others()
      .then(fill, failed)
      .then(() => fillSparks(slots, ctx.signal));

  return h(
    "div",
    { class: "page overview" },
    h("h1", { class: "sr-only" }, "Overview"),
    summary,
    warnings(fleet.warnings),
    alertWarnings,
    h("div", { class: "cols" }, alertsPanel, nextPanel),
    section("Machines", table),
  );
}

function doNext(t: TriageData): HTMLElement {
  if (t.items.length === 0) return h("p", { class: "empty" }, "Nothing to do: the fleet is healthy.");
  return h(
    "ol",
    { class: "donext" },
    t.items.map((it) =>
      h(
        "li",
        { "data-key": `next:${it.id}` },
        badge(it.severity),
        " ",
        it.kind === "alert" ? h("a", { href: link.alert(it.id) }, it.title) : h("strong", null, it.title),
        " ",
        machineLink(it.machine_id),
        it.acked ? h("span", { class: "tag" }, "acked") : null,
        it.message ? h("div", { class: "muted" }, it.message) : null,
        (t.suggestions[it.id] ?? []).slice(0, 2).map((s) => h("div", { class: "suggest" }, h("span", null, s.title), " ", command(s.command))),
      ),
    ),
  );
}

function stat(name: string, n: number, sev?: string): HTMLElement {
  return h("div", { class: `stat${sev && n > 0 ? ` sev-text-${sev}` : ""}` }, h("span", { class: "n" }, String(n)), h("span", { class: "muted" }, name));
}

const lastOf = (xs: (number | null)[] | undefined) => (xs ? ([...xs].reverse().find((x) => x !== null) ?? null) : null);

/** Each machine's CPU over 6 h, fetched four at a time after the table is drawn (the table never waits for them). */
async function fillSparks(slots: Map<string, HTMLElement>, signal: AbortSignal): Promise<void> {
  const draw = (id: string, cpu: (number | null)[]) => {
    const last = lastOf(cpu);
    slots.get(id)?.replaceChildren(sparkline(cpu, { max: 100, label: `CPU over ${SPARK_WINDOW}: now ${last === null ? "unknown" : `${Math.round(last)} %`}` }));
  };
  const todo: string[] = [];
  for (const id of slots.keys()) {
    const cached = sparks.get(id);
    if (cached) draw(id, cached.cpu);
    if (!cached || performance.now() - cached.at > SPARK_TTL_MS) todo.push(id);
  }
  const worker = async () => {
    for (let id = todo.shift(); id !== undefined && !signal.aborted; id = todo.shift()) {
      try {
        const s = await get<Envelope<Pick<SeriesData, "cpu">>>(`${routes.series(id)}?metric=cpu&window=${SPARK_WINDOW}&points=${SPARK_POINTS}`, signal);
        const cpu = s.data.cpu.map((p) => p[1]);
        sparks.set(id, { at: performance.now(), cpu });
        draw(id, cpu);
      } catch {
        // no sparkline for this one; the table stands without it
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}
