// Accounts: each account's usage per window as bars with their reset times (accounts view), and
// the oracle's forecasts (oracle view): time to the limit with its interval, the action and the
// swap command, the accounts to move to; then disks filling and what could be saved.
import { orError, view } from "./data.ts";
import { h } from "./dom.ts";
import { ago, label, mins, pct, when } from "./format.ts";
import { generic, objectTable } from "./generic.ts";
import type { PageContext } from "./page.ts";
import { type Column, sortableTable } from "./table.ts";
import type { AccountLine, AccountsData, Forecast, OracleData } from "./types.ts";
import { bar, command, errorBox, machineLink, section, warnings } from "./widgets.ts";

/** One account or profile: who it is, where, and a bar per window with its reset. */
function usageCard(a: AccountLine, now: string, kind: "account" | "profile"): HTMLElement {
  const name = kind === "profile" ? (a.profile ?? "?") : (a.account ?? "?");
  return h(
    "article",
    { class: `usage${a.stale ? " stale" : ""}`, "data-key": `${kind}:${a.machine_id}:${a.provider}:${name}` },
    h(
      "header",
      null,
      h("strong", null, a.provider, " · ", name),
      a.active ? h("span", { class: "tag on" }, "active") : null,
      a.stale ? h("span", { class: "tag bad" }, "stale") : null,
      " ",
      machineLink(a.machine_id),
    ),
    a.status || a.auth_warning || a.error ? h("p", { class: "warn" }, [a.status, a.auth_warning, a.error].filter(Boolean).join(" · ")) : null,
    a.windows.length === 0
      ? h("p", { class: "muted" }, "no usage windows reported")
      : h(
          "dl",
          { class: "windows" },
          a.windows.map((w) => [
            h("dt", null, w.window, w.window_minutes ? h("span", { class: "muted" }, ` ${mins(w.window_minutes)}`) : null),
            h(
              "dd",
              null,
              bar(w.used_percent, `${a.provider} ${name} ${w.window} used`),
              h("span", { class: "muted small reset", title: when(w.resets_at) }, w.resets_at ? `resets ${ago(w.resets_at, now)}` : (w.reset_description ?? "")),
            ),
          ]),
        ),
  );
}

/** The accounts and profiles of an accounts answer (the view's, or a machine section's) as cards. */
export function usageList(d: AccountsData, now: string): HTMLElement {
  const accounts = Array.isArray(d.accounts) ? d.accounts : [];
  const profiles = Array.isArray(d.profiles) ? d.profiles : [];
  return h(
    "div",
    { class: "usage-list" },
    accounts.length === 0 && profiles.length === 0 ? h("p", { class: "empty" }, "No account usage collected.") : null,
    accounts.length
      ? h(
          "div",
          { class: "cards" },
          accounts.map((a) => usageCard(a, now, "account")),
        )
      : null,
    profiles.length
      ? [
          h("h3", null, "Profiles"),
          h(
            "div",
            { class: "cards" },
            profiles.map((a) => usageCard(a, now, "profile")),
          ),
        ]
      : null,
  );
}

const DISK_HORIZON_MIN = 7 * 24 * 60;

const interval = (f: Forecast) =>
  f.time_to_limit_min === null
    ? "not before the reset"
    : `${mins(f.time_to_limit_min)}${f.low_min !== null && f.high_min !== null ? ` (${mins(f.low_min)}–${mins(f.high_min)})` : ""}`;

export async function accountsPage(ctx: PageContext): Promise<Node> {
  const [acc, oracle] = await Promise.all([view<AccountsData>("accounts", {}, ctx.signal), orError(view<OracleData>("oracle", {}, ctx.signal))]);
  const now = acc.generated_at;
  const forecastCols: Column<Forecast>[] = [
    {
      key: "key",
      title: "Account window",
      value: (f) => `${f.provider}/${f.account}/${f.window}`,
      cell: (f) => h("span", null, h("strong", null, f.provider, "/", f.account), " ", f.window),
    },
    { key: "used", title: "Used", value: (f) => f.used_percent, num: true, cell: (f) => bar(f.used_percent) },
    { key: "ttl", title: "Time to limit", value: (f) => f.time_to_limit_min, num: true, cell: (f) => h("span", { title: f.limit_at ? when(f.limit_at) : "" }, interval(f)) },
    { key: "reset", title: "Resets", value: (f) => f.resets_at, optional: true, cell: (f) => h("span", { title: when(f.resets_at) }, f.resets_at ? ago(f.resets_at, now) : "–") },
    {
      key: "action",
      title: "Action",
      value: (f) => f.action.kind,
      cell: (f) =>
        h(
          "span",
          null,
          h("span", { class: `action action-${f.action.kind === "continue" ? "ok" : "go"}` }, label(f.action.kind)),
          " ",
          h("span", { class: "muted" }, f.action.text),
        ),
    },
    {
      key: "swap",
      title: "Swap",
      value: (f) => f.action.to?.command ?? f.alternatives[0]?.command ?? null,
      fixed: true,
      cell: (f) => command(f.action.to?.command ?? f.alternatives[0]?.command),
    },
    { key: "conf", title: "Confidence", value: (f) => f.confidence_level, optional: true },
  ];
  let forecasts: Node;
  let next: Node | null = null;
  let oracleWarnings: string[] = [];
  if (oracle instanceof Error) forecasts = errorBox(oracle);
  else {
    const o = oracle.data;
    oracleWarnings = oracle.warnings ?? [];
    const urgency = (f: Forecast) => ["emergency_pause", "swap_now", "prepare_swap", "slow_down", "continue"].indexOf(f.action.kind);
    // Disks worth a row: at 95 % already, or there within a week (the others are fine).
    const disks = (o.disks ?? []).filter((x) => typeof x.to_95_min === "number" && x.to_95_min <= DISK_HORIZON_MIN).sort((a, b) => Number(a.to_95_min) - Number(b.to_95_min));
    next = o.next
      ? h(
          "p",
          { class: "next-action", "data-next": "" },
          h("strong", null, "Next: "),
          o.next.text,
          " ",
          command(o.next.command),
          o.next.at ? h("span", { class: "muted" }, ` by ${when(o.next.at)}`) : null,
        )
      : h("p", { class: "next-action muted" }, "No account needs an action now.");
    forecasts = h(
      "div",
      null,
      sortableTable(
        forecastCols,
        [...o.accounts].sort((a, b) => urgency(a) - urgency(b) || (b.used_percent ?? 0) - (a.used_percent ?? 0)),
        {
          id: "forecasts",
          rowKey: (f) => f.key,
          empty: "No forecasts: no account usage history yet.",
        },
      ),
      disks.length
        ? [
            h("h3", null, "Disks filling within a week"),
            objectTable(
              disks.map((x) => ({
                machine: x.machine_id,
                mount: x.mount,
                used: pct(x.used_percent),
                "to 95 %": mins(x.to_95_min),
                full: mins(x.to_full_min),
                confidence: x.confidence,
              })),
            ),
          ]
        : null,
      o.cost?.opportunities?.length
        ? [
            h("h3", null, "Opportunities"),
            h(
              "ul",
              null,
              o.cost.opportunities.map((x) => h("li", null, x.text)),
            ),
          ]
        : null,
      o.cost?.month ? [h("h3", null, "Cost this month"), generic(o.cost.month, 1, now)] : null,
    );
  }
  return h(
    "div",
    { class: "page accounts" },
    h("h1", null, "Accounts"),
    next,
    section("Usage", usageList(acc.data, now)),
    section("Forecasts", forecasts),
    warnings([...(acc.warnings ?? []), ...oracleWarnings]),
    Array.isArray(acc.data.tools) && acc.data.tools.length ? section("Logins", objectTable(acc.data.tools, now)) : null,
  );
}
