// Small pieces every page uses: severity badges, usage bars, commands with a copy button, times,
// links to a machine, the error box, and the ack and silence buttons of an alert.
import { ApiError, post, routes } from "./data.ts";
import { type Child, clean, h, widthPct } from "./dom.ts";
import { ago, pct, sevClass, sevRank, usedClass, when } from "./format.ts";
import type { AlertView } from "./types.ts";

/** The hash of a page: `#/machine/node-01`. */
export const link = {
  overview: "#/",
  machine: (id: string) => `#/machine/${encodeURIComponent(id)}`,
  alerts: "#/alerts",
  alert: (id: string) => `#/alerts/${encodeURIComponent(id)}`,
  accounts: "#/accounts",
  events: "#/events",
  guardian: "#/guardian",
  guardianRun: (id: string) => `#/guardian/${encodeURIComponent(id)}`,
  view: (name: string) => `#/view/${encodeURIComponent(name)}`,
};

export const badge = (severity: unknown, text?: string) => h("span", { class: sevClass(severity) }, text ?? (clean(severity) || "?"));

/** A machine's id as a link to its page. */
export const machineLink = (id: string | null | undefined) => (id ? h("a", { href: link.machine(id), class: "mono" }, id) : h("span", { class: "muted" }, "fleet"));

/** A time shown relative to the daemon's clock, the absolute time in its tooltip. */
export const time = (iso: string | null | undefined, now: string) =>
  iso ? h("time", { datetime: clean(iso), title: when(iso) }, ago(iso, now)) : h("span", { class: "muted" }, "–");

/** A percentage as a bar and its number. */
export function bar(p: number | null | undefined, title?: string): HTMLElement {
  const fill = h("span", { class: `fill ${usedClass(p)}` });
  if (typeof p === "number") widthPct(fill, p);
  return h(
    "span",
    { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": typeof p === "number" ? p : null, "aria-label": title ?? null },
    h("span", { class: "track" }, fill),
    h("span", { class: "bar-num" }, pct(p)),
  );
}

/** A command a person may run, with a button that copies it. */
export function command(cmd: string | null | undefined): Child {
  if (!cmd) return null;
  const text = clean(cmd);
  return h(
    "span",
    { class: "cmd" },
    h("code", null, text),
    h(
      "button",
      {
        type: "button",
        class: "ghost small",
        title: "copy the command",
        onclick: (e: Event) => {
          const b = e.currentTarget as HTMLButtonElement;
          void navigator.clipboard?.writeText(text).then(
            () => (b.textContent = "copied"),
            () => (b.textContent = "select it"),
          );
        },
      },
      "copy",
    ),
  );
}

/** A heading for a part of a page. */
export const section = (title: string, ...children: Child[]) => h("section", { class: "panel", "aria-label": title }, h("h2", null, title), ...children);

/** What went wrong, as text: the API's message and hint. */
export function errorBox(err: unknown): HTMLElement {
  const e = err instanceof ApiError ? err : null;
  return h(
    "div",
    { class: "error", role: "alert" },
    h("strong", null, e ? `${e.status} ${e.code}` : "error"),
    " ",
    err instanceof Error ? err.message : String(err),
    e?.hint ? h("div", { class: "muted" }, e.hint) : null,
  );
}

export const warnings = (ws: readonly string[] | undefined) =>
  ws?.length
    ? h(
        "ul",
        { class: "warnings", "aria-label": "warnings" },
        ws.map((w) => h("li", null, w)),
      )
    : null;

/** What the page does after an action: say so, and redraw. */
export interface ActionHost {
  toast(text: string, kind?: "ok" | "bad"): void;
  refresh(): void;
}

/** Acknowledge, silence (1 h, 24 h, until resolved) and explain an alert. */
export function alertActions(a: AlertView, host: ActionHost, o: { explain?: boolean } = {}): HTMLElement {
  const act = async (b: HTMLButtonElement, what: string, run: () => Promise<unknown>) => {
    b.disabled = true;
    try {
      await run();
      host.toast(`${what}: ${clean(a.title ?? a.rule)}`, "ok");
      host.refresh();
    } catch (err) {
      b.disabled = false;
      host.toast(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, "bad");
    }
  };
  const silenceFor = (label: string, duration: string | null) =>
    h(
      "button",
      {
        type: "button",
        class: "small",
        "data-action": "silence",
        "data-key": `silence:${a.alert_id}:${label}`,
        onclick: (e: Event) =>
          act(e.currentTarget as HTMLButtonElement, `silenced ${label}`, () =>
            post(routes.silence(a.alert_id), { ...(duration === null ? { until_resolved: true } : { duration }), comment: "from the dashboard" }),
          ),
      },
      label,
    );
  const open = a.state !== "resolved";
  return h(
    "span",
    { class: "actions" },
    open && !a.acked
      ? h(
          "button",
          {
            type: "button",
            class: "small primary",
            "data-action": "ack",
            "data-key": `ack:${a.alert_id}`,
            title: "acknowledge: it stays open but is not notified again",
            onclick: (e: Event) => act(e.currentTarget as HTMLButtonElement, "acknowledged", () => post(routes.ack(a.alert_id), {})),
          },
          "Ack",
        )
      : null,
    open && !a.silenced_by
      ? h(
          "details",
          { class: "menu" },
          h("summary", { class: "small", "data-action": "silence-menu" }, "Silence"),
          h("div", { class: "menu-items" }, silenceFor("1 h", "1h"), silenceFor("24 h", "24h"), silenceFor("until resolved", null)),
        )
      : null,
    o.explain === false ? null : h("a", { href: link.alert(a.alert_id), class: "small button", "data-action": "explain" }, "Explain"),
  );
}

/** The labels of an alert's state: firing, acked by …, silenced, flapping. */
export function alertState(a: AlertView, now: string): Child {
  return [
    h("span", { class: `state state-${a.state === "firing" ? "firing" : a.state === "pending" ? "pending" : "resolved"}` }, a.state),
    a.acked ? h("span", { class: "tag", title: a.acked.note ?? "" }, "acked by ", a.acked.by, " ", ago(a.acked.at, now)) : null,
    a.silenced_by ? h("span", { class: "tag" }, "silenced") : null,
    a.flapping ? h("span", { class: "tag" }, "flapping") : null,
  ];
}

/** Open alerts, worst and newest first, each with its state and its actions. */
export function alertList(alerts: readonly AlertView[], now: string, host: ActionHost, empty = "No open alerts."): HTMLElement {
  if (alerts.length === 0) return h("p", { class: "empty" }, empty);
  const sorted = [...alerts].sort((a, b) => sevRank(a.severity) - sevRank(b.severity) || (b.fired_at ?? "").localeCompare(a.fired_at ?? ""));
  return h(
    "ul",
    { class: "alerts", "data-list": "alerts" },
    sorted.map((a) =>
      h(
        "li",
        { class: "alert", "data-row": "", "data-key": `alert:${a.alert_id}`, "data-alert": a.alert_id, tabindex: 0 },
        h(
          "div",
          { class: "alert-head" },
          badge(a.severity),
          h("a", { href: link.alert(a.alert_id), class: "alert-title" }, a.title ?? a.rule),
          machineLink(a.machine_id),
          alertState(a, now),
          h("span", { class: "muted" }, "since"),
          time(a.fired_at ?? a.first_seen_at, now),
        ),
        a.message ? h("div", { class: "alert-msg" }, a.message) : null,
        alertActions(a, host),
      ),
    ),
  );
}
