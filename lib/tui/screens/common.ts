// What several screens show the same way: the machine table (from the `fleet` view), alerts,
// events, DO NEXT, an alert's detail. Plugins' machine screens use these too.
import type { AlertView } from "../../alerts/ops.ts";
import type { SearchResult } from "../../search.ts";
import { H, L, absolute, fieldLines, paragraph, pct, since, words } from "../lines.ts";
import { has, type Column } from "../screen.ts";
import { ageOf, clean, num } from "../text.ts";
import { severityStyle, styles } from "../theme.ts";
import type { Cell, FleetRow, Line, ListItem, TuiEvent, ViewState } from "../types.ts";

export const SEV_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4, ok: 5 };

/** The machine table's columns: the core's numbers, then each plugin's column. */
export function machineColumns(s: ViewState): Column[] {
  const plugin = (s.data.fleet?.columns ?? []).map(
    (c): Column => ({ id: `col:${c.name}`, title: clean(c.title).toUpperCase(), width: Math.max(6, c.title.length), priority: 4, align: c.unit === "text" ? "left" : "right" }),
  );
  return [
    { id: "dot", title: "", width: 1, priority: 1 },
    // The name takes the spare width only where the top issue is not shown.
    { id: "machine", title: "MACHINE", width: 10, priority: 1, flex: 1 },
    { id: "health", title: "HEALTH", width: 6, priority: 1, align: "right" },
    { id: "load", title: "LOAD/CPU", width: 8, priority: 3, align: "right" },
    { id: "mem", title: "MEM", width: 5, priority: 2, align: "right" },
    { id: "disk", title: "DISK", width: 5, priority: 2, align: "right" },
    { id: "alerts", title: "ALERTS", width: 6, priority: 3, align: "right" },
    ...plugin,
    { id: "poll", title: "POLLED", width: 10, priority: 3, align: "right" },
    { id: "issue", title: "TOP ISSUE", width: 14, priority: 5, flex: 20 },
  ];
}

const pctStyle = (v: number | null) => (v === null ? styles.dim : v >= 90 ? styles.critical : v >= 80 ? styles.warning : styles.text);

/** The fleet's machines as table rows, worst first (the `fleet` view; the health view when it is missing). */
export function machineItems(s: ViewState): ListItem[] {
  const rows: FleetRow[] =
    s.data.fleet?.machines ??
    (s.data.health?.machines ?? []).map((m) => ({
      id: m.id,
      score: m.score,
      severity: m.severity as FleetRow["severity"],
      top_issue: m.top_issue,
      load5: null,
      cpu_cores: null,
      load_per_core: null,
      mem_pct: null,
      swap_pct: null,
      disk_pct: null,
      disk_mount: null,
      alerts: s.data.alerts.filter((a) => a.machine_id === m.id && a.state !== "resolved").length,
      last_poll_at: m.last_sample_at,
      poll_age_s: ageOf(m.last_sample_at, s.now),
      stale: (ageOf(m.last_sample_at, s.now) ?? Infinity) > s.staleAfterSeconds,
      columns: {},
    }));
  return rows
    .filter((m) => has(m.id, s.filter.machine))
    .sort((a, b) => a.score - b.score || a.id.localeCompare(b.id))
    .map((m) => {
      const age = ageOf(m.last_poll_at, s.now);
      const cells: Record<string, Cell> = {
        dot: ["●", severityStyle(m.severity)],
        machine: [m.id, styles.text],
        health: [pct(m.score * 100), severityStyle(m.severity)],
        load: [m.load_per_core === null ? "-" : m.load_per_core.toFixed(2), m.load_per_core !== null && m.load_per_core >= 1.5 ? styles.warning : styles.text],
        mem: [pct(m.mem_pct), pctStyle(m.mem_pct)],
        disk: [pct(m.disk_pct), pctStyle(m.disk_pct)],
        alerts: [String(m.alerts), m.alerts ? styles.warning : styles.dim],
        poll: [age === null ? "never" : since(age), m.stale ? styles.warning : styles.dim],
        issue: [m.top_issue ? words(m.top_issue) : "", styles.dim],
      };
      for (const [k, v] of Object.entries(m.columns ?? {})) cells[`col:${k}`] = [v === null || v === undefined ? "-" : typeof v === "number" ? num(v, 1) : String(v), styles.text];
      return { key: `machine:${m.id}`, group: "MACHINES", machineId: m.id, cells, value: m };
    });
}

/** The alert list's columns. */
export const ALERT_COLUMNS: Column[] = [
  { id: "dot", title: "", width: 1, priority: 1 },
  { id: "severity", title: "SEV", width: 4, priority: 2 },
  { id: "machine", title: "MACHINE", width: 10, priority: 1 },
  { id: "message", title: "WHAT", width: 12, priority: 1, flex: true },
  { id: "since", title: "SINCE", width: 10, priority: 3, align: "right" },
];

/** Open alerts (firing first, then by severity), as list items. */
export function alertItems(s: ViewState): ListItem[] {
  return [...s.data.alerts]
    .filter((a) => a.state !== "resolved" && has(a.machine_id, s.filter.machine))
    .sort((a, b) => (a.state === b.state ? 0 : a.state === "firing" ? -1 : 1) || (SEV_RANK[a.severity] ?? 9) - (SEV_RANK[b.severity] ?? 9))
    .map((a) => ({
      key: `alert:${a.alert_id}`,
      group: "ALERTS",
      machineId: a.machine_id,
      alert: a,
      text: a.message ?? "",
      cells: {
        dot: [a.acked ? "✓" : a.silenced_by ? "~" : "●", a.acked || a.silenced_by ? styles.dim : severityStyle(a.severity)],
        severity: [a.severity.slice(0, 4), severityStyle(a.severity)],
        machine: [a.machine_id ?? "fleet", styles.text],
        // The message tells one alert from another (six "Account near its limit" titles do not).
        message: [a.message || a.title || a.rule, styles.dim],
        since: [since(ageOf(a.fired_at ?? a.first_seen_at, s.now)), styles.dim],
      },
    }));
}

/** An open alert as an event (the Events list shows alerts with the rest). */
export function alertEvent(a: AlertView): TuiEvent {
  return {
    key: `alert:${a.alert_id}`,
    source: "alerts",
    group: "ALERTS",
    machine_id: a.machine_id,
    at: a.fired_at ?? a.first_seen_at,
    severity: a.severity,
    title: a.title ?? a.rule,
    fields: [
      ["rule", a.rule],
      ["state", a.state],
      ["expected", a.expected],
      ["received", a.received],
      ["alert", a.alert_id],
      ["acked", a.acked ? `by ${a.acked.by}${a.acked.note ? `: ${a.acked.note}` : ""}` : null],
      ["silenced", a.silenced_by],
    ],
    text: a.message ?? undefined,
    alert: a,
  };
}

/** Content-search hits as events. */
export function sessionEvents(r: SearchResult): TuiEvent[] {
  return r.hits.map((h, i) => ({
    key: `session:${h.machine_id}:${i}:${h.location ?? h.title}`,
    source: "search",
    group: "SESSIONS (content search)",
    machine_id: h.machine_id,
    at: h.at,
    severity: "info",
    title: `${h.agent ? `${h.agent} ` : ""}${h.title}`,
    fields: [["agent", h.agent], ["workspace", h.workspace], ["file", h.location], ["score", h.score], ["snippet", h.snippet], ...Object.entries(h.extra ?? {})] as [
      string,
      unknown,
    ][],
    text: h.content ?? h.snippet,
    command: h.command,
  }));
}

/** The event list's columns. */
export const EVENT_COLUMNS: Column[] = [
  { id: "dot", title: "", width: 1, priority: 1 },
  { id: "when", title: "WHEN", width: 10, priority: 2, align: "right" },
  { id: "machine", title: "MACHINE", width: 10, priority: 3 },
  { id: "title", title: "WHAT", width: 14, priority: 1, flex: true },
];

export function eventItem(e: TuiEvent, s: ViewState): ListItem {
  return {
    key: `event:${e.key}`,
    group: e.group,
    machineId: e.machine_id,
    event: e,
    alert: e.alert,
    text: e.text,
    cells: {
      dot: [e.alert?.acked ? "✓" : e.alert?.silenced_by ? "~" : "●", e.alert?.acked || e.alert?.silenced_by ? styles.dim : severityStyle(e.severity)],
      when: [since(ageOf(e.at, s.now)), styles.dim],
      machine: [e.machine_id ?? "", styles.text],
      title: [e.alert?.message || e.title, styles.text],
    },
  };
}

/** One event in full: what, where, when (relative and absolute), every field, its text, what to run. */
export function eventLines(e: TuiEvent, s: ViewState, w: number, full: boolean): Line[] {
  const age = ageOf(e.at, s.now);
  const lines: Line[] = [
    [
      [`● ${clean(e.severity).toUpperCase()} `, severityStyle(e.severity)],
      [clean(e.title), styles.text],
    ],
    [
      [`${clean(e.group).toLowerCase()} `, styles.dim],
      [e.machine_id ? `on ${clean(e.machine_id)} ` : "", styles.text],
      [e.at ? `${since(age)} (${absolute(e.at)})` : "time unknown", styles.dim],
    ],
    ...fieldLines(e.fields, w, full),
  ];
  if (e.text) lines.push(H(e.source === "search" ? "CONTENT" : "MESSAGE"), ...(full ? paragraph(e.text, w) : paragraph(e.text, w).slice(0, 4)));
  for (const act of (e.alert?.actions ?? []).slice(0, full ? 8 : 2)) {
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

/** DO NEXT: triage's ranked items, within the filter (and one machine, when given). */
export function doNext(s: ViewState, max: number, machineId?: string | null): Line[] {
  const items = (s.data.triage?.items ?? []).filter((i) => (machineId ? i.machine_id === machineId : has(i.machine_id ?? "", s.filter.machine))).slice(0, max);
  if (items.length === 0)
    return [
      L(
        machineId ? "nothing to do here" : s.filter.machine ? `nothing to do on machines matching "${clean(s.filter.machine)}"` : "nothing to do: the fleet is healthy",
        styles.healthy,
      ),
    ];
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

/** An alert in the detail pane: what, where, since when, what to do. */
export function alertLines(a: AlertView, s: ViewState, suggestions: { title: string; command?: string }[]): Line[] {
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
  const at = a.fired_at ?? a.first_seen_at;
  lines.push([
    ["since ", styles.dim],
    [`${since(ageOf(at, s.now))} (${absolute(at)})`, styles.text],
    ["  id ", styles.dim],
    [clean(a.alert_id), styles.dim],
  ]);
  if (a.acked) lines.push(L(`acked by ${clean(a.acked.by)} ${since(ageOf(a.acked.at, s.now))}${a.acked.note ? `: ${clean(a.acked.note)}` : ""}`, styles.healthy));
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

/** A machine's header line: its health with what the number is, and its top issue. */
export function machineHeader(s: ViewState, id: string | null): Line[] {
  const f = s.data.fleet?.machines.find((x) => x.id === id);
  const m = s.data.health?.machines.find((x) => x.id === id);
  const score = f?.score ?? m?.score ?? null;
  const severity = f?.severity ?? m?.severity ?? null;
  if (!id || score === null) return [L(id ? `machine ${clean(id)}: no health data` : "no machine selected", styles.dim)];
  const top = f?.top_issue ?? m?.top_issue;
  const lines: Line[] = [
    [
      [`${clean(id)} `, styles.title],
      [`● health ${pct(score * 100)} ${clean(severity ?? "")}`, severityStyle(severity)],
    ],
  ];
  if (top) lines.push(L(`  top issue: ${words(top)}`));
  if (f)
    lines.push([
      [
        `  load ${f.load5 === null ? "-" : num(f.load5)} on ${f.cpu_cores ?? "?"} cores · mem ${pct(f.mem_pct)} · disk ${pct(f.disk_pct)}${f.disk_mount ? ` (${clean(f.disk_mount)})` : ""} · polled ${since(ageOf(f.last_poll_at, s.now))}`,
        styles.dim,
      ],
    ]);
  return lines;
}

/** The heading of an item list's empty state, or a failure. */
export function emptyLines(title: string, why: string): Line[] {
  return [H(title), L(why, styles.dim)];
}
