// The Guardian (issue 18.4): the runs waiting for a person — each with its exact commands, the
// gate's answer beside each, and when the approval expires — the recent runs with their outcome,
// and the protocols with their triggers. `a` approves and `d` denies the selected pending run
// (after y), through the cockpit's approveRun and denyRun; Enter opens a run in full (its plan,
// every step with its exit code and output, its verification). Reads the `guardian` view only.
import { showArgv } from "../../guardian/act.ts";
import type { GuardianRun, PlannedStep, RunStatus, RunStep } from "../../guardian/engine.ts";
import type { GuardianData, ProtocolListing } from "../../views/guardian.ts";
import { H, L, absolute, fieldLines, paragraph, since, until } from "../lines.ts";
import { defineScreen, has, type Column, type ScreenAction, type ScreenKey } from "../screen.ts";
import { ageOf, clean } from "../text.ts";
import { styles, type Style } from "../theme.ts";
import type { Line, ListItem, TuiEvent, ViewState } from "../types.ts";

const PENDING = "PENDING APPROVAL";
const RECENT = "RECENT RUNS";
const PROTOCOLS = "PROTOCOLS";

/** What a list row carries for its detail and its keys. */
type Row = { kind: "run"; run: GuardianRun; pending: boolean } | { kind: "protocol"; p: ProtocolListing };

const COLUMNS: Record<string, Column[]> = {
  [PENDING]: [
    { id: "dot", title: "", width: 1, priority: 1 },
    { id: "id", title: "RUN", width: 10, priority: 1 },
    { id: "protocol", title: "PROTOCOL", width: 10, priority: 2, flex: true },
    { id: "machine", title: "MACHINE", width: 8, priority: 1 },
    { id: "cmds", title: "CMDS", width: 4, priority: 3, align: "right" },
    { id: "expires", title: "EXPIRES", width: 10, priority: 2, align: "right" },
  ],
  [RECENT]: [
    { id: "dot", title: "", width: 1, priority: 1 },
    { id: "status", title: "STATUS", width: 11, priority: 1 },
    { id: "id", title: "RUN", width: 10, priority: 3 },
    { id: "protocol", title: "PROTOCOL", width: 14, priority: 2 },
    { id: "machine", title: "MACHINE", width: 8, priority: 1 },
    { id: "when", title: "MADE", width: 10, priority: 4, align: "right" },
    { id: "why", title: "WHY", width: 12, priority: 5, flex: true },
  ],
  [PROTOCOLS]: [
    { id: "dot", title: "", width: 1, priority: 1 },
    { id: "name", title: "PROTOCOL", width: 12, priority: 1, flex: 1 },
    { id: "plugin", title: "PLUGIN", width: 8, priority: 4 },
    { id: "trigger", title: "TRIGGER", width: 14, priority: 2, flex: 2 },
    { id: "last", title: "LAST RUN", width: 11, priority: 3 },
  ],
};

// The mark says the outcome without colour too (NO_COLOR): ✓ verified, ✗ failed, ! a person is needed.
const STATUS: Record<RunStatus, { mark: string; style: Style; severity: string }> = {
  verified: { mark: "✓", style: styles.healthy, severity: "ok" },
  suggested: { mark: "·", style: styles.dim, severity: "info" },
  pending: { mark: "?", style: styles.warning, severity: "medium" },
  running: { mark: "▶", style: styles.warning, severity: "medium" },
  denied: { mark: "–", style: styles.dim, severity: "info" },
  expired: { mark: "–", style: styles.dim, severity: "info" },
  blocked: { mark: "!", style: styles.warning, severity: "medium" },
  rolled_back: { mark: "↺", style: styles.warning, severity: "high" },
  failed: { mark: "✗", style: styles.critical, severity: "critical" },
  escalated: { mark: "!", style: styles.critical, severity: "critical" },
};
const statusOf = (s: string) => STATUS[s as RunStatus] ?? { mark: "●", style: styles.text, severity: "info" };

const STEP: Record<RunStep["status"], { mark: string; style: Style }> = {
  ok: { mark: "✓", style: styles.healthy },
  failed: { mark: "✗", style: styles.critical },
  refused: { mark: "!", style: styles.warning },
  skipped: { mark: "–", style: styles.dim },
  suggested: { mark: "·", style: styles.dim },
};
const stepOf = (s: string) => STEP[s as RunStep["status"]] ?? { mark: "●", style: styles.text };

/** A TIMESTAMP as the store prints it (UTC, no zone) as ISO 8601. */
const utc = (t: string | null | undefined): string | null => (!t ? null : /(Z|[+-]\d\d:?\d\d)$/i.test(t) ? t : `${t.replace(" ", "T")}Z`);
const ago = (t: string | null | undefined, now: Date) => since(ageOf(utc(t), now));
const ahead = (t: string | null | undefined, now: Date) => {
  const iso = utc(t);
  return iso ? until((Date.parse(iso) - now.getTime()) / 1000) : "";
};

/** The commands approving a run runs (its rollback only if it fails). */
const commandsOf = (r: GuardianRun) => r.plan.filter((p) => p.kind === "command" && p.phase !== "rollback");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** A run as the event the drill-down carries: the run level reads the run by the id in its key. */
function runEvent(r: GuardianRun): TuiEvent {
  return {
    key: `guardian:${r.run_id}`,
    source: "guardian",
    group: "GUARDIAN",
    machine_id: r.machine_id,
    at: utc(r.created_at),
    severity: statusOf(r.status).severity,
    title: `${r.protocol}: ${r.title}`,
    fields: [
      ["run", r.run_id],
      ["status", r.status],
    ],
  };
}

/** The run the run level shows (from the event Enter carried). */
const runIdOf = (s: Pick<ViewState, "event">): string | null => (s.event?.key.startsWith("guardian:") ? s.event.key.slice("guardian:".length) : null);

function runItem(r: GuardianRun, pending: boolean, s: ViewState): ListItem {
  const st = statusOf(r.status);
  const n = commandsOf(r).length;
  return {
    key: `guardian:run:${r.run_id}`,
    group: pending ? PENDING : RECENT,
    machineId: r.machine_id,
    event: runEvent(r),
    opens: "guardian-run",
    value: { kind: "run", run: r, pending } satisfies Row,
    text: `${r.title} ${r.reason ?? ""} ${r.status}`,
    cells: {
      dot: [st.mark, st.style],
      id: [r.run_id, styles.dim],
      status: [r.status, st.style],
      protocol: [r.protocol, styles.text],
      machine: [r.machine_id, styles.text],
      cmds: [String(n), styles.text],
      expires: [ahead(r.expires_at, s.now), styles.warning],
      when: [ago(r.created_at, s.now), styles.dim],
      why: [r.reason ?? (r.status === "pending" ? `expires ${ahead(r.expires_at, s.now)}` : ""), styles.dim],
    },
  };
}

function protocolItem(p: ProtocolListing): ListItem {
  const last = p.last_run ? statusOf(p.last_run.status) : null;
  return {
    key: `guardian:protocol:${p.name}`,
    group: PROTOCOLS,
    machineId: null,
    value: { kind: "protocol", p } satisfies Row,
    text: `${p.summary} ${p.trigger}`,
    cells: {
      dot: [last?.mark ?? "·", last?.style ?? styles.dim],
      name: [p.name, styles.text],
      plugin: [p.plugin, styles.dim],
      trigger: [p.trigger, styles.dim],
      last: [p.last_run?.status ?? "never run", last?.style ?? styles.dim],
    },
  };
}

function items(s: ViewState, d: GuardianData | undefined): ListItem[] {
  if (!d) return [];
  const m = s.filter.machine;
  const waiting = new Set(d.pending.map((r) => r.run_id));
  return [
    ...d.pending.filter((r) => has(r.machine_id, m)).map((r) => runItem(r, true, s)),
    ...d.runs.filter((r) => !waiting.has(r.run_id) && has(r.machine_id, m)).map((r) => runItem(r, false, s)),
    // Protocols belong to no machine: a machine filter leaves them out.
    ...(m ? [] : d.protocols.map(protocolItem)),
  ];
}

/** Text `full` wraps whole (the run level), else one line the pane cuts or breaks. */
const block = (text: string, w: number, full: boolean, style: Style = styles.text, indent = "    "): Line[] =>
  full ? paragraph(text, w, style, indent) : [L(`${indent}${clean(text)}`, style)];

const factsText = (facts: Record<string, unknown> | undefined) =>
  Object.entries(facts ?? {})
    .map(([k, v]) => `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(" ");

/** The plan: every step, each command exactly as it runs and where, and the gate's answer beside it (as it was when the run was planned). */
function planLines(plan: readonly PlannedStep[], w: number, full: boolean, gateLabel = "gate"): Line[] {
  const out: Line[] = [];
  for (const p of plan) {
    const head = `${String(p.seq).padStart(2)}. ${p.phase} · ${clean(p.step)}`;
    if (p.kind === "command") {
      out.push([
        [head, styles.text],
        [p.writes ? " (writes)" : "", styles.dim],
      ]);
      out.push(...block(`$ [${p.machine ?? ""}] ${p.command ?? showArgv(p.argv ?? [])}`, w, full));
      if (p.gate)
        out.push([
          [`    ${gateLabel} `, styles.dim],
          [`${p.gate.ok ? "✓" : "✗"} ${clean(p.gate.detail)}`, p.gate.ok ? styles.healthy : styles.warning],
        ]);
    } else if (p.kind === "suggest")
      out.push([
        [head, styles.text],
        [`: advice: ${clean(p.advice ?? "")}`, styles.dim],
      ]);
    else if (p.kind === "wait")
      out.push([
        [head, styles.text],
        [`: wait ${p.seconds ?? 0} s`, styles.dim],
      ]);
    else
      out.push([
        [head, styles.text],
        [`: read ${clean(factsText(p.facts)).slice(0, full ? 400 : 120)}`, styles.dim],
      ]);
  }
  return out;
}

/** What happened: each step's command, outcome, exit code, time and output (the last lines of it). */
function stepLines(steps: readonly RunStep[], w: number, full: boolean): Line[] {
  const out: Line[] = [];
  for (const st of steps) {
    const m = stepOf(st.status);
    out.push([
      [`${String(st.seq).padStart(2)}. ${clean(st.phase)} · ${clean(st.step)} `, styles.text],
      [`${m.mark} ${clean(st.status)}`, m.style],
      [st.exit_code === null ? "" : ` exit ${st.exit_code}`, st.exit_code ? styles.critical : styles.dim],
      [st.duration_ms === null ? "" : ` ${Math.round(st.duration_ms)} ms`, styles.dim],
    ]);
    if (st.argv) out.push(...block(`$ [${st.machine_id ?? ""}] ${showArgv(st.argv)}`, w, full));
    if (st.detail) out.push(...block(st.detail, w, full, styles.dim));
    if (st.output_excerpt) {
      const lines = st.output_excerpt.split(/\r?\n/).filter((l) => l.trim() !== "");
      const shown = full ? lines.slice(-40) : lines.slice(-3);
      if (shown.length < lines.length) out.push(L(`    │ … ${lines.length - shown.length} more lines`, styles.dim));
      for (const l of shown) out.push(L(`    │ ${clean(l)}`, styles.dim));
    }
  }
  return out;
}

/** The run's head: its status, id, protocol, machine, target, when, who decided, why. */
function runHead(r: GuardianRun, s: ViewState, w: number, full: boolean): Line[] {
  const st = statusOf(r.status);
  const lines: Line[] = [
    [
      [`${st.mark} ${r.status.toUpperCase()} `, st.style],
      [`${r.run_id} `, styles.dim],
      [`${clean(r.protocol)} on ${clean(r.machine_id)}`, styles.text],
    ],
    ...block(r.title, w, full, styles.text, ""),
    [
      ["made ", styles.dim],
      [`${ago(r.created_at, s.now)} (${absolute(utc(r.created_at))})`, styles.text],
      [r.status === "pending" && r.expires_at ? " · expires " : "", styles.dim],
      [r.status === "pending" && r.expires_at ? `${ahead(r.expires_at, s.now)} (${absolute(utc(r.expires_at))})` : "", styles.warning],
      [` · mode ${clean(r.mode)}`, styles.dim],
    ],
  ];
  if (r.decided_by) lines.push(L(`decided by ${clean(r.decided_by)} ${ago(r.decided_at, s.now)}${r.finished_at ? ` · ended ${ago(r.finished_at, s.now)}` : ""}`, styles.dim));
  else if (r.finished_at) lines.push(L(`ended ${ago(r.finished_at, s.now)}`, styles.dim));
  if (r.reason) lines.push(...(full ? paragraph(r.reason, w, st.style, "") : [L(clean(r.reason), st.style)]));
  if (r.incident_id) lines.push(L(`incident ${clean(r.incident_id)}`, styles.critical));
  return lines;
}

function verificationLines(r: GuardianRun, full: boolean): Line[] {
  const checks = full ? r.verification : r.verification.slice(-1);
  return checks.map((c) => [
    [`${c.ok ? "✓ ok" : "✗ not yet"} `, c.ok ? styles.healthy : styles.warning],
    [clean(c.detail), styles.text],
    [` (${absolute(utc(c.at))})`, styles.dim],
  ]);
}

/** A run in the side pane (`full`: the run level, everything). */
function runLines(r: GuardianRun, s: ViewState, w: number, full: boolean): Line[] {
  const pending = r.status === "pending";
  const lines: Line[] = [...runHead(r, s, w, full)];
  if (full && Object.keys(r.facts).length) lines.push(H("FACTS"), ...block(factsText(r.facts), w, true, styles.dim, "  "));
  if (pending || full) {
    const n = commandsOf(r).length;
    lines.push(H(pending ? `PLAN · ${plural(n, "command")} run on approval` : "PLAN"), ...planLines(r.plan, w, full, pending ? "gate" : "gate when planned"));
  }
  if (r.steps.length) lines.push(H("WHAT HAPPENED"), ...stepLines(r.steps, w, full));
  if (r.verification.length) lines.push(H("VERIFICATION"), ...verificationLines(r, full));
  const keys = pending ? "a approve · d deny · " : "";
  lines.push(L(full ? `${keys}↑↓ scroll · Esc back` : `${keys}Enter: the run in full`, styles.dim));
  return lines;
}

/** The autopilot: its mode, the machines it may act on, its allowlist and caps. */
function autopilotLines(d: GuardianData): Line[] {
  const acts = d.machines.filter((m) => m.allow_autopilot).map((m) => `${clean(m.id)}${m.allow_write_commands ? " (writes)" : ""}`);
  return [
    H("AUTOPILOT"),
    [
      ["mode ", styles.dim],
      [clean(d.mode), d.mode === "off" || d.mode === "suggest" ? styles.text : styles.warning],
    ],
    [
      ["acts on ", styles.dim],
      [acts.join(", ") || "no machine (allow_autopilot is false everywhere)", styles.text],
    ],
    [
      ["allowlist ", styles.dim],
      [d.allowlist.length ? d.allowlist.map((a) => `"${clean(a)}"`).join(", ") : "(empty)", styles.text],
    ],
    L(
      `${d.caps.max_actions_per_hour} commands per machine per hour · ${d.caps.cooldown_minutes} min cool-down after a failure · approvals expire after ${d.caps.approval_minutes} min`,
      styles.dim,
    ),
  ];
}

function protocolLines(p: ProtocolListing, d: GuardianData, s: ViewState, w: number): Line[] {
  const lines: Line[] = [
    [
      [`${clean(p.name)} `, styles.title],
      [`from ${clean(p.plugin)}`, styles.dim],
    ],
    ...paragraph(p.summary, w, styles.text, ""),
    ...fieldLines(
      [
        ["trigger", p.trigger],
        ["verified by", p.verification],
        ["escalates", p.escalation],
        ["rollback", p.can_roll_back ? "yes" : "none"],
        ["last run", p.last_run ? `${p.last_run.status} ${p.last_run.run_id} ${ago(p.last_run.at, s.now)}` : "never"],
      ],
      w,
    ),
    H("STEPS"),
  ];
  for (const st of p.steps)
    lines.push(L(`  ${clean(st.phase)} · ${clean(st.name)} (${clean(st.kind)}${st.writes ? ", writes" : ""})`, st.kind === "command" ? styles.text : styles.dim));
  return [...lines, ...autopilotLines(d)];
}

/** `a` and `d`: on the selected pending run (the list), or the run shown (the run level). */
function decideKey(verb: "approve" | "deny", pick: (item: ListItem | undefined, d: GuardianData | undefined) => GuardianRun | undefined): ScreenKey<GuardianData> {
  return {
    label: `${verb} the selected pending run (asks y/n first)`,
    on(_s, item, d) {
      const r = pick(item, d);
      if (!r) return "select a pending run first: a approves it, d denies it";
      if (r.status !== "pending") return `${r.run_id} is ${r.status}: only a pending run can be ${verb === "approve" ? "approved" : "denied"}`;
      return verb === "approve" ? approveAction(r) : denyAction(r);
    },
  };
}

function approveAction(r: GuardianRun): ScreenAction {
  const n = commandsOf(r).length;
  return {
    confirm: `approve ${r.run_id} (${clean(r.protocol)} on ${clean(r.machine_id)}): its ${plural(n, "command")} run now? y/n`,
    working: `approving ${r.run_id}: its commands run, then its verification…`,
    async run({ api, by }) {
      const done = await api.approveRun(r.run_id, { by });
      return `approved ${done.run_id}: ${done.status}${done.reason ? ` · ${done.reason}` : ""}`;
    },
  };
}

function denyAction(r: GuardianRun): ScreenAction {
  const n = commandsOf(r).length;
  return {
    confirm: `deny ${r.run_id} (${clean(r.protocol)} on ${clean(r.machine_id)}): none of its ${plural(n, "command")} runs? y/n`,
    working: `denying ${r.run_id}…`,
    async run({ api, by }) {
      const done = await api.denyRun(r.run_id, { by, reason: "denied in vc tui" });
      return `denied ${done.run_id}: ${done.status}`;
    },
  };
}

const selectedRun = (item: ListItem | undefined) => {
  const v = item?.value as Row | undefined;
  return v?.kind === "run" ? v.run : undefined;
};

/** The Guardian tab: pending approvals, recent runs, protocols. */
export const guardianScreen = defineScreen<GuardianData>({
  id: "guardian",
  title: "Guardian",
  short: "Guard",
  key: "p",
  columns: () => COLUMNS,
  load: async ({ view }) => (await view("guardian", { limit: 50 })).data as GuardianData,
  // Runs are records, as fresh as the read that brought them.
  age: (s) => ageOf(s.data.screens.guardian?.at ?? null, s.now),
  items,
  keys: {
    a: decideKey("approve", (item) => selectedRun(item)),
    d: decideKey("deny", (item) => selectedRun(item)),
  },
  detail(s, d, item, w) {
    if (!d) return [H("GUARDIAN"), L("loading…", styles.dim)];
    const v = item?.value as Row | undefined;
    if (v?.kind === "run") return [H(v.pending ? PENDING : "RUN"), ...runLines(v.run, s, w, false)];
    if (v?.kind === "protocol") return [H("PROTOCOL"), ...protocolLines(v.p, d, s, w)];
    const why = d.protocols.length
      ? s.filter.machine
        ? `no guardian run on machines matching "${clean(s.filter.machine)}"`
        : "no run yet: no protocol's trigger has held"
      : "no protocol: plugins contribute them (protocols in definePlugin)";
    return [H("GUARDIAN"), L(why, styles.dim), ...autopilotLines(d)];
  },
});

/** A run in full, reached by Enter on a run: read again through the view (`id`), scrolled with ↑↓. */
export const guardianRunScreen = defineScreen<GuardianData>({
  id: "guardian-run",
  title: "Run",
  level: true,
  noList: true,
  dataKey: (s) => runIdOf(s) ?? "",
  age: (s) => ageOf(s.data.screens["guardian-run"]?.at ?? null, s.now),
  async load({ view, state }) {
    const id = runIdOf(state);
    if (!id) throw new Error("no guardian run selected");
    return (await view("guardian", { id })).data as GuardianData;
  },
  keys: {
    a: decideKey("approve", (_item, d) => d?.runs[0]),
    d: decideKey("deny", (_item, d) => d?.runs[0]),
  },
  detail(s, d, _item, w) {
    const r = d?.runs[0];
    if (!r) return [H("RUN"), L(runIdOf(s) ? `loading ${runIdOf(s)}…` : "no run selected", styles.dim)];
    return [H("RUN"), ...runLines(r, s, w, true)];
  },
});
