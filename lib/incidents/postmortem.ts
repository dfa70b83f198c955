// The post-mortem of an incident as Markdown: summary, root cause, timeline, evidence, notes and the
// actions taken (the audit log in its window, and what its alerts suggested). Pure: the incident in
// full (`loadIncidentDetail`, or the `incidents` view with an id) in, text out.
import { stripControl } from "../text.ts";
import type { IncidentDetail } from "./detail.ts";

/** One line, no controls. */
const line = (v: unknown) =>
  stripControl(v === null || v === undefined ? "" : String(v))
    .replace(/\s+/g, " ")
    .trim();
/** Text safe in a Markdown table cell: one line, no controls, pipes escaped. */
const cell = (v: unknown) => line(v).replace(/\|/g, "\\|");
/** Text safe in a paragraph: no controls. */
const para = (v: unknown) => stripControl(String(v ?? ""));
const time = (t: string | null) => (t ? `${t.slice(0, 16).replace("T", " ")} UTC` : "—");

function duration(from: string, to: string | null, now: string): string {
  const min = Math.round((Date.parse(to ?? now) - Date.parse(from)) / 60_000);
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

function table(columns: string[], rows: unknown[][]): string[] {
  return [`| ${columns.join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`)];
}

/**
 * The incident's post-mortem in Markdown (sections: Summary, Root cause, Timeline, Evidence, Notes,
 * Actions taken). Everything quoted from a machine is stripped of control characters.
 * @example process.stdout.write(postMortem(detail, new Date()))
 */
export function postMortem(d: IncidentDetail, now: Date): string {
  const { repos: repoNames } = d;
  const out: string[] = [];
  out.push(`# ${line(d.incident_id)}: ${line(d.title)}`, "");
  out.push("## Summary", "");
  out.push(
    `- **Severity:** ${line(d.severity)}`,
    `- **State:** ${d.state}${d.state === "open" && d.all_alerts_resolved ? " (all its alerts have resolved)" : ""}`,
    `- **Opened:** ${time(d.opened_at)} (first alert ${time(d.window.first_alert_at)})`,
    `- **Closed:** ${d.closed_at ? `${time(d.closed_at)} by ${line(d.closed_by)}` : "not yet"}`,
    `- **Duration:** ${duration(d.window.first_alert_at, d.closed_at, now.toISOString())}`,
    `- **Machines:** ${d.machines.map(line).join(", ") || "—"}`,
    `- **Accounts:** ${d.accounts.map(line).join(", ") || "—"}`,
    `- **Repos:** ${repoNames.map(line).join(", ") || "—"}`,
    `- **Alerts:** ${d.alerts.length} (${d.alerts.filter((a) => a.role === "trigger").length} opened it)`,
    `- **Resolution:** ${d.resolution ? line(d.resolution) : "—"}`,
    "",
  );
  out.push(
    ...table(
      ["alert", "rule", "machine", "severity", "role", "joined", "state"],
      d.alerts.map((a) => [a.alert_id, a.rule, a.machine_id ?? "", a.severity, a.role, time(a.joined_at), a.state ?? ""]),
    ),
    "",
  );

  out.push("## Root cause", "");
  out.push(`**Hypothesis:** ${para(d.root_cause.hypothesis)}`, "", para(d.root_cause.reasoning), "");
  if (!d.root_cause_kept) out.push("_(computed from the timeline as it stands; kept when the incident is closed)_", "");

  out.push("## Timeline", "");
  out.push(`From ${time(d.window.from)} to ${time(d.window.to)}; entries before the first alert are marked ◀ (the lead).`, "");
  out.push(
    ...table(
      ["time", "", "source", "machine", "severity", "what"],
      d.timeline.map((e) => [time(e.at), e.lead ? "◀" : e.own ? "●" : "", e.source, e.machine_id ?? "", e.severity, e.summary]),
    ),
    "",
  );

  out.push("## Evidence", "");
  for (const e of d.root_cause.evidence) out.push(`- ${time(e.at)} **${line(e.source)}** ${line(e.machine_id ?? "")}: ${line(e.summary)}`);
  if (d.root_cause.evidence.length) out.push("");
  for (const a of d.alerts) {
    out.push(`- **${line(a.alert_id)}** (${line(a.rule)}): ${line(a.message)}`);
    if (a.expected || a.received) out.push(`  - expected ${line(a.expected)}; received ${line(a.received)}`);
  }
  out.push("");

  out.push("## Notes", "");
  if (d.notes.length === 0) out.push("_(none)_");
  for (const n of d.notes) out.push(`- ${time(n.at)} **${line(n.author)}**: ${para(n.text).replace(/\n/g, "\n  ")}`);
  out.push("");

  out.push("## Actions taken", "");
  if (d.actions.length === 0) out.push("_(nothing in the audit log for this window)_");
  for (const a of d.actions) out.push(`- ${time(a.at)} ${line(a.actor)}: ${line(a.action ?? a.event_type)}${a.result && a.result !== "ok" ? ` (${line(a.result)})` : ""}`);
  out.push("");
  if (d.suggested.length) {
    out.push("Suggested by its alerts:", "");
    for (const s of d.suggested) out.push(`- ${line(s.title)}${s.command ? `: \`${line(s.command).replace(/`/g, "'")}\`` : ""}`);
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
