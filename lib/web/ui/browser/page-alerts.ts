// Alerts: every alert, open and past (alerts view with all), filtered by state, severity, machine
// and text; and one alert explained — the rule, its condition and thresholds, the values that
// fired it, its history — with ack and silence.
import { get, routes, view } from "./data.ts";
import { h } from "./dom.ts";
import { SEVERITIES, sevRank } from "./format.ts";
import { filterBar, matches } from "./filters.ts";
import { generic, objectTable, pairs } from "./generic.ts";
import type { PageContext } from "./page.ts";
import { type Column, sortableTable } from "./table.ts";
import type { AlertView } from "./types.ts";
import { alertActions, alertState, badge, command, link, machineLink, section, time, warnings } from "./widgets.ts";

const STATES = [
  ["open", "open"],
  ["firing", "firing"],
  ["pending", "pending"],
  ["acked", "acknowledged"],
  ["silenced", "silenced"],
  ["resolved", "resolved"],
  ["all", "all"],
] as const;

function stateMatches(a: AlertView, s: string | undefined): boolean {
  switch (s || "open") {
    case "open":
      return a.state !== "resolved";
    case "acked":
      return a.acked !== null && a.state !== "resolved";
    case "silenced":
      return a.silenced_by !== null && a.state !== "resolved";
    case "all":
      return true;
    default:
      return a.state === s;
  }
}

/** Each alert's incident (the `incidents` view), by alert id; none when the view is missing. */
async function incidentsByAlert(ctx: PageContext): Promise<Map<string, string>> {
  const r = await view<{ incidents: { incident_id: string; alerts: { alert_id: string }[] }[] }>("incidents", { state: "all" }, ctx.signal).catch(() => null);
  const out = new Map<string, string>();
  for (const i of r?.data.incidents ?? []) for (const a of i.alerts) out.set(a.alert_id, i.incident_id);
  return out;
}

export async function alertsPage(ctx: PageContext): Promise<Node> {
  const [r, incidentOf] = await Promise.all([view<{ alerts: AlertView[] }>("alerts", { all: true }, ctx.signal), incidentsByAlert(ctx)]);
  const now = r.generated_at;
  const all = r.data.alerts;
  const cols: Column<AlertView>[] = [
    { key: "sev", title: "Severity", value: (a) => sevRank(a.severity), num: false, cell: (a) => badge(a.severity) },
    {
      key: "title",
      title: "Alert",
      value: (a) => a.title ?? a.rule,
      cell: (a) => h("div", null, h("a", { href: link.alert(a.alert_id) }, a.title ?? a.rule), a.message ? h("div", { class: "muted small" }, a.message) : null),
    },
    { key: "machine", title: "Machine", value: (a) => a.machine_id, cell: (a) => machineLink(a.machine_id) },
    { key: "state", title: "State", value: (a) => a.state, cell: (a) => alertState(a, now) },
    { key: "fired", title: "Fired", value: (a) => a.fired_at ?? a.first_seen_at, optional: true, cell: (a) => time(a.fired_at ?? a.first_seen_at, now) },
    { key: "resolved", title: "Resolved", value: (a) => a.resolved_at, optional: true, cell: (a) => time(a.resolved_at, now) },
    { key: "rule", title: "Rule", value: (a) => a.rule, optional: true, cell: (a) => h("span", { class: "mono" }, a.rule) },
    {
      key: "incident",
      title: "Incident",
      value: (a) => incidentOf.get(a.alert_id) ?? null,
      optional: true,
      cell: (a) => {
        const id = incidentOf.get(a.alert_id);
        return id ? h("a", { href: `${link.view("incidents")}?id=${encodeURIComponent(id)}`, class: "mono" }, id) : "";
      },
    },
    { key: "act", title: "", value: () => null, fixed: true, cell: (a) => alertActions(a, ctx) },
  ];
  const rows: { el: HTMLElement; item: AlertView }[] = [];
  const table = sortableTable(cols, all, {
    rows,
    id: "alerts",
    rowKey: (a) => a.alert_id,
    onOpen: (a) => ctx.go(link.alert(a.alert_id)),
    rowClass: (a) => (a.state === "resolved" ? "resolved" : ""),
    sort: { key: "sev", dir: 1 },
    empty: "No alerts, open or past.",
  });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const bar = filterBar(
    "alerts",
    [
      { key: "q", label: "Search", placeholder: "title, message, rule …" },
      { key: "state", label: "State", options: STATES },
      { key: "sev", label: "At least", options: [["", "any"], ...SEVERITIES.filter((s) => s !== "ok").map((s) => [s, s] as const)] },
      { key: "machine", label: "Machine", placeholder: "id contains" },
    ],
    rows,
    (a, v) =>
      stateMatches(a, v.state) &&
      (!v.sev || sevRank(a.severity) <= sevRank(v.sev)) &&
      (!v.machine || (a.machine_id ?? "").toLowerCase().includes(v.machine.toLowerCase())) &&
      matches(`${a.title ?? ""} ${a.message ?? ""} ${a.rule} ${a.machine_id ?? ""}`, v.q),
    (n) => (count.textContent = `${n} of ${all.length} alerts`),
  );
  return h("div", { class: "page alerts-page" }, h("h1", null, "Alerts"), warnings(r.warnings), bar, section("Alerts", count, table));
}

interface Explained {
  alert: AlertView;
  rule: {
    id: string;
    title: string;
    severity: string;
    source: { name: string; description: string };
    when: unknown;
    resolve_when: unknown;
    for: string;
    keep_firing_for: string | null;
    labels: string[];
    thresholds: Record<string, unknown>;
    query: { sql: string; params: unknown[] } | null;
  } | null;
  values: { expected: string | null; received: string | null; value: unknown; evidence: unknown };
  history: Record<string, unknown>[];
}

export async function alertPage(ctx: PageContext): Promise<Node> {
  const id = ctx.params[0] ?? "";
  const [x, clock] = await Promise.all([get<Explained>(routes.explain(id), ctx.signal), view<unknown>("alerts", {}, ctx.signal)]);
  const now = clock.generated_at;
  const a = x.alert;
  const rule = x.rule;
  return h(
    "div",
    { class: "page alert-page", "data-alert": a.alert_id },
    h("p", null, h("a", { href: link.alerts }, "← all alerts")),
    h("h1", null, badge(a.severity), " ", a.title ?? a.rule),
    h("p", { class: "alert-head" }, machineLink(a.machine_id), " ", alertState(a, now), " ", h("span", { class: "muted" }, "fired "), time(a.fired_at ?? a.first_seen_at, now)),
    a.message ? h("p", { class: "alert-msg" }, a.message) : null,
    h("div", { class: "toolbar" }, alertActions(a, ctx, { explain: false })),
    a.actions.length
      ? section(
          "Suggested",
          h(
            "ul",
            null,
            a.actions.map((s) => h("li", null, s.title, " ", command(s.command))),
          ),
        )
      : null,
    section(
      "Why",
      pairs(
        [
          ["expected", x.values.expected],
          ["received", x.values.received],
          ["value", x.values.value],
          ["labels", a.labels],
          ...(x.values.evidence ? ([["evidence", x.values.evidence]] as [string, unknown][]) : []),
        ],
        2,
        now,
      ),
      rule
        ? [
            h("h3", null, "Rule ", h("span", { class: "mono" }, rule.id)),
            pairs(
              [
                ["title", rule.title],
                ["source", `${rule.source.name}: ${rule.source.description}`],
                ["fires when", rule.when],
                ["resolves when", rule.resolve_when ?? "the condition no longer holds"],
                ["for", rule.for],
                ["keep firing for", rule.keep_firing_for],
                ["labels", rule.labels],
                ["thresholds", rule.thresholds],
              ],
              2,
              now,
            ),
            rule.query ? h("details", null, h("summary", null, "The query"), h("pre", { class: "text" }, rule.query.sql)) : null,
          ]
        : h("p", { class: "muted" }, `The rule ${a.rule} is no longer in the config.`),
    ),
    section("History", x.history.length ? objectTable(x.history, now) : h("p", { class: "empty" }, "No transitions recorded.")),
    section("Alert", generic({ alert_id: a.alert_id, first_seen_at: a.first_seen_at, last_seen_at: a.last_seen_at, resolved_at: a.resolved_at, acked: a.acked }, 2, now)),
  );
}
