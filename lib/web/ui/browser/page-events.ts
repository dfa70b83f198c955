// Events: what happened in the fleet (every plugin's event sources, events view), newest first,
// filtered by source, severity, machine and text at once; each opens to its fields, its long text
// and the command to run next. New events arrive with the live stream.
import { view } from "./data.ts";
import { cleanBlock, h } from "./dom.ts";
import { SEVERITIES, sevRank, WINDOWS } from "./format.ts";
import { filterBar, matches } from "./filters.ts";
import { pairs } from "./generic.ts";
import type { PageContext } from "./page.ts";
import type { EventsData, VcEvent } from "./types.ts";
import { badge, command, machineLink, section, time, warnings } from "./widgets.ts";

const byTimeDesc = (a: VcEvent, b: VcEvent) => (b.at ?? "").localeCompare(a.at ?? "");

function eventItem(e: VcEvent, now: string): HTMLElement {
  return h(
    "li",
    { class: "event", "data-key": `event:${e.key}`, "data-source": e.source },
    h(
      "details",
      null,
      h(
        "summary",
        { "data-row": "" },
        time(e.at, now),
        " ",
        badge(e.severity),
        " ",
        h("span", { class: "tag" }, e.group),
        " ",
        machineLink(e.machine_id),
        " ",
        h("span", { class: "event-title" }, e.title),
      ),
      h(
        "div",
        { class: "event-body" },
        pairs(
          e.fields.filter(([, v]) => v !== null && v !== undefined && v !== ""),
          2,
          now,
        ),
        e.text ? h("pre", { class: "text" }, cleanBlock(e.text)) : null,
        e.command ? h("p", null, "Next: ", command(e.command)) : null,
      ),
    ),
  );
}

/** Events as a list, newest first. */
export function eventList(events: readonly VcEvent[], now: string, empty = "No events."): HTMLElement {
  if (events.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "ul",
    { class: "events" },
    [...events].sort(byTimeDesc).map((e) => eventItem(e, now)),
  );
}

export async function eventsPage(ctx: PageContext): Promise<Node> {
  const win = WINDOWS.some((w) => w.key === ctx.query.get("window")) ? ctx.query.get("window")! : "24h";
  const r = await view<EventsData>("events", { window: win, limit: 200 }, ctx.signal);
  const now = r.generated_at;
  const events = [...r.data.events].sort(byTimeDesc);
  const items = events.map((e) => ({ el: eventItem(e, now), item: e }));
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const bar = filterBar(
    "events",
    [
      { key: "q", label: "Search", placeholder: "text, machine, rule …" },
      { key: "source", label: "Source", options: [["", "all"], ...r.data.sources.map((s) => [s.name, `${s.group} (${s.count})`] as const)] },
      { key: "sev", label: "At least", options: [["", "any"], ...SEVERITIES.filter((s) => s !== "ok").map((s) => [s, s] as const)] },
      { key: "machine", label: "Machine", placeholder: "id contains" },
    ],
    items,
    (e, v) =>
      (!v.source || e.source === v.source) &&
      (!v.sev || sevRank(e.severity) <= sevRank(v.sev)) &&
      (!v.machine || (e.machine_id ?? "").toLowerCase().includes(v.machine.toLowerCase())) &&
      matches(`${e.title} ${e.group} ${e.machine_id ?? ""} ${e.fields.map(([k, x]) => `${k} ${x ?? ""}`).join(" ")}`, v.q),
    (n) => (count.textContent = `${n} of ${events.length} events`),
  );
  const windows = h(
    "nav",
    { class: "segmented", "aria-label": "window" },
    WINDOWS.map((w) => h("a", { href: `#/events?window=${w.key}`, class: w.key === win ? "on" : null, "aria-current": w.key === win ? "true" : null }, w.title)),
  );
  return h(
    "div",
    { class: "page events-page" },
    h("div", { class: "row" }, h("h1", null, "Events"), windows),
    warnings(r.warnings),
    bar,
    section(
      "Newest first",
      count,
      events.length
        ? h(
            "ul",
            { class: "events", "data-list": "events" },
            items.map((x) => x.el),
          )
        : h("p", { class: "empty" }, `No events in the last ${win}.`),
    ),
  );
}
