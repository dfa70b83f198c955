// Guardian (issue 18.4): what the autopilot may do and did — the runs waiting for a person, each
// with its exact commands and the gate's answer beside each, and when its approval expires, with
// Approve and Deny (each asks once more); the recent runs with their outcome; the protocols and
// their triggers. `#/guardian/<id>` is one run in full: its plan, every step with its exit code and
// output, its verification. Reads the `guardian` view; decides through POST /api/guardian/runs/….
import type { GuardianRun, PlannedStep, RunStep } from "../../../guardian/engine.ts";
import type { GuardianData, ProtocolListing } from "../../../views/guardian.ts";
import { post, routes, view } from "./data.ts";
import { type Child, cleanBlock, h } from "./dom.ts";
import { ago } from "./format.ts";
import type { PageContext } from "./page.ts";
import { type Column, sortableTable } from "./table.ts";
import { badge, command, link, machineLink, section, time, warnings } from "./widgets.ts";

/** A run's status as a severity (its badge's colour); the word is always shown too. */
const SEVERITY: Record<string, string> = {
  verified: "ok",
  suggested: "info",
  pending: "medium",
  running: "medium",
  denied: "info",
  expired: "info",
  blocked: "medium",
  rolled_back: "high",
  failed: "critical",
  escalated: "critical",
};
const status = (s: string) => h("span", { "data-status": s }, badge(SEVERITY[s] ?? "info", s));

/** A TIMESTAMP as the store prints it (UTC, no zone) as ISO 8601. */
const utc = (t: string | null | undefined): string | null => (!t ? null : /(Z|[+-]\d\d:?\d\d)$/i.test(t) ? t : `${t.replace(" ", "T")}Z`);
const at = (t: string | null | undefined, now: string) => time(utc(t), now);

/** The commands approving a run runs (its rollback only if it fails). */
const commandsOf = (r: GuardianRun) => r.plan.filter((p) => p.kind === "command" && p.phase !== "rollback");
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

const factsText = (facts: Record<string, unknown> | undefined) =>
  Object.entries(facts ?? {})
    .map(([k, v]) => `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(" ");

/** The plan: every step, each command exactly as it runs and where, with the gate's answer. */
function planList(plan: readonly PlannedStep[], gateLabel: string): HTMLElement {
  return h(
    "ol",
    { class: "plan" },
    plan.map((p) =>
      h(
        "li",
        { "data-step": p.step, "data-kind": p.kind },
        h("span", { class: "muted" }, `${p.phase} · `),
        h("strong", null, p.step),
        " ",
        p.kind === "command"
          ? [
              h("span", { class: "mono" }, `[${p.machine ?? ""}]`),
              " ",
              command(p.command ?? (p.argv ?? []).join(" ")),
              p.writes ? h("span", { class: "tag" }, "writes") : null,
              p.gate
                ? h(
                    "div",
                    { class: "small", "data-gate": p.gate.ok ? "ok" : "no" },
                    h("span", { class: "muted" }, `${gateLabel}: `),
                    h("span", { class: p.gate.ok ? "" : "warn" }, `${p.gate.ok ? "✓" : "✗"} ${p.gate.detail}`),
                  )
                : null,
            ]
          : p.kind === "suggest"
            ? h("span", { class: "muted" }, `advice: ${p.advice ?? ""}`)
            : p.kind === "wait"
              ? h("span", { class: "muted" }, `wait ${p.seconds ?? 0} s`)
              : h("span", { class: "muted" }, `read ${factsText(p.facts)}`),
      ),
    ),
  );
}

/** A command's output, its lines kept (as text: set on the node, never parsed; escapes and controls removed). */
function output(text: string): HTMLElement {
  const pre = h("pre", { class: "text" });
  pre.textContent = cleanBlock(text);
  return pre;
}

/** What happened: each step's command, outcome, exit code, time and output. */
function stepsTable(steps: readonly RunStep[]): HTMLElement {
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { class: "grid", "data-table": "steps" },
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["#", "Step", "Command", "Outcome", "Exit", "Time"].map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        null,
        steps.map((s) =>
          h(
            "tr",
            { "data-step": s.step },
            h("td", { class: "num" }, s.seq),
            h("td", null, h("span", { class: "muted" }, `${s.phase} · `), s.step),
            h(
              "td",
              null,
              s.argv ? h("code", null, `[${s.machine_id ?? ""}] ${s.argv.join(" ")}`) : null,
              s.detail ? h("div", { class: "muted small" }, s.detail) : null,
              s.output_excerpt ? output(s.output_excerpt) : null,
            ),
            h("td", null, h("span", { class: s.status === "failed" ? "bad" : s.status === "refused" ? "warn" : "" }, s.status)),
            h("td", { class: "num" }, s.exit_code ?? "–"),
            h("td", { class: "num" }, s.duration_ms === null ? "–" : `${Math.round(s.duration_ms)} ms`),
          ),
        ),
      ),
    ),
  );
}

/**
 * Approve and Deny, each asking once more before it acts: approving runs the run's commands now
 * (the answer comes when its verification ends), denying runs none of them.
 */
function decide(r: GuardianRun, ctx: PageContext): HTMLElement {
  const n = commandsOf(r).length;
  const act = async (b: HTMLButtonElement, verb: "approve" | "deny", body: Record<string, string>) => {
    b.disabled = true;
    const was = b.textContent;
    b.textContent = verb === "approve" ? "running its commands…" : "denying…";
    try {
      const done = await post<GuardianRun>(verb === "approve" ? routes.approveRun(r.run_id) : routes.denyRun(r.run_id), body);
      ctx.toast(
        `${verb === "approve" ? "approved" : "denied"} ${done.run_id}: ${done.status}${done.reason ? ` · ${done.reason}` : ""}`,
        done.status === "verified" || done.status === "denied" ? "ok" : "bad",
      );
    } catch (err) {
      b.disabled = false;
      b.textContent = was;
      ctx.toast(`${verb} ${r.run_id} failed: ${err instanceof Error ? err.message : String(err)}`, "bad");
    }
    ctx.refresh();
  };
  const reason = h("input", { type: "text", maxlength: 2000, placeholder: "why (optional)", "aria-label": "why deny it", "data-field": "reason" });
  // Each question in a keyed wrapper: a live redraw keeps it open.
  const ask = (verb: "approve" | "deny", question: string, extra: Child, yes: string, body: () => Record<string, string>) =>
    h(
      "span",
      { "data-key": `${verb}:${r.run_id}` },
      h(
        "details",
        null,
        h("summary", { class: "small", "data-action": `${verb}-ask` }, verb === "approve" ? "Approve…" : "Deny…"),
        h(
          "p",
          null,
          question,
          " ",
          extra,
          h(
            "button",
            {
              type: "button",
              class: verb === "approve" ? "small primary" : "small",
              "data-action": verb,
              onclick: (e: Event) => act(e.currentTarget as HTMLButtonElement, verb, body()),
            },
            yes,
          ),
        ),
      ),
    );
  return h(
    "div",
    { class: "actions" },
    ask(
      "approve",
      `Approve ${r.run_id}: its ${plural(n, "command")} run now on ${r.machine_id}, then its verification.`,
      null,
      `Yes, run ${n === 1 ? "it" : `all ${n}`}`,
      () => ({}),
    ),
    ask(
      "deny",
      `Deny ${r.run_id}: none of its ${plural(n, "command")} runs.`,
      [reason, " "],
      "Yes, deny it",
      (): Record<string, string> => (reason.value.trim() ? { reason: reason.value.trim() } : {}),
    ),
  );
}

/** A pending run: what it is about, its plan with the gate's answers, when it expires, and the decision. */
function pendingCard(r: GuardianRun, now: string, ctx: PageContext): HTMLElement {
  return h(
    "article",
    { class: "record", "data-run": r.run_id, "data-key": `run:${r.run_id}` },
    h(
      "div",
      { class: "alert-head" },
      status(r.status),
      h("a", { href: link.guardianRun(r.run_id), class: "mono" }, r.run_id),
      h("strong", null, r.protocol),
      h("span", { class: "muted" }, "on"),
      machineLink(r.machine_id),
      h("span", { class: "muted" }, "made"),
      at(r.created_at, now),
      h("span", { class: "muted" }, "· expires"),
      at(r.expires_at, now),
    ),
    h("p", { class: "alert-msg" }, r.title),
    h("p", { class: "small muted" }, `${plural(commandsOf(r).length, "command")} run on approval:`),
    planList(r.plan, "gate"),
    decide(r, ctx),
  );
}

function autopilotLine(d: GuardianData): HTMLElement {
  const acts = d.machines.filter((m) => m.allow_autopilot).map((m) => `${m.id}${m.allow_write_commands ? " (writes)" : ""}`);
  return h(
    "p",
    { class: "muted", "data-mode": d.mode },
    "autopilot ",
    h("strong", null, d.mode),
    ` · acts on ${acts.join(", ") || "no machine"} · allowlist ${d.allowlist.length ? d.allowlist.map((a) => `"${a}"`).join(", ") : "(empty)"}`,
    ` · ${d.caps.max_actions_per_hour} commands per machine per hour, ${d.caps.cooldown_minutes} min cool-down after a failure, approvals expire after ${d.caps.approval_minutes} min`,
  );
}

export async function guardianPage(ctx: PageContext): Promise<Node> {
  if (ctx.params[0]) return runPage(ctx, ctx.params[0]);
  const r = await view<GuardianData>("guardian", { limit: 50 }, ctx.signal);
  const now = r.generated_at;
  const d = r.data;
  const waiting = new Set(d.pending.map((x) => x.run_id));
  const recent = d.runs.filter((x) => !waiting.has(x.run_id));
  const runCols: Column<GuardianRun>[] = [
    { key: "status", title: "Outcome", value: (x) => x.status, cell: (x) => status(x.status) },
    { key: "run", title: "Run", value: (x) => x.run_id, cell: (x) => h("a", { href: link.guardianRun(x.run_id), class: "mono" }, x.run_id) },
    { key: "protocol", title: "Protocol", value: (x) => x.protocol },
    { key: "machine", title: "Machine", value: (x) => x.machine_id, cell: (x) => machineLink(x.machine_id) },
    { key: "made", title: "Made", value: (x) => utc(x.created_at), cell: (x) => at(x.created_at, now) },
    { key: "why", title: "Why", value: (x) => x.reason, optional: true, cell: (x) => h("span", { class: "small" }, x.reason ?? "") },
  ];
  const protocolCols: Column<ProtocolListing>[] = [
    { key: "name", title: "Protocol", value: (p) => p.name, cell: (p) => h("div", null, h("strong", null, p.name), h("div", { class: "muted small" }, p.summary)) },
    { key: "plugin", title: "Plugin", value: (p) => p.plugin, optional: true },
    { key: "trigger", title: "Trigger", value: (p) => p.trigger },
    { key: "verify", title: "Verified by", value: (p) => p.verification, optional: true },
    { key: "escalation", title: "Escalates", value: (p) => p.escalation, optional: true },
    {
      key: "last",
      title: "Last run",
      value: (p) => p.last_run?.at ?? null,
      cell: (p): Child =>
        p.last_run
          ? [status(p.last_run.status), " ", h("a", { href: link.guardianRun(p.last_run.run_id), class: "mono small" }, p.last_run.run_id)]
          : h("span", { class: "muted" }, "never"),
    },
  ];
  return h(
    "div",
    { class: "page guardian-page" },
    h("h1", null, "Guardian"),
    autopilotLine(d),
    warnings(r.warnings),
    section(
      `Pending approval (${d.pending.length})`,
      d.pending.length
        ? h(
            "div",
            { class: "records", "data-list": "pending" },
            d.pending.map((x) => pendingCard(x, now, ctx)),
          )
        : h("p", { class: "empty" }, d.mode === "execute-with-approval" ? "No run waits for a person." : `No run waits for a person (mode ${d.mode}).`),
    ),
    section(
      "Recent runs",
      sortableTable(runCols, recent, {
        id: "guardian-runs",
        rowKey: (x) => x.run_id,
        onOpen: (x) => ctx.go(link.guardianRun(x.run_id)),
        empty: "No run yet.",
      }),
    ),
    section(
      "Protocols",
      sortableTable(protocolCols, d.protocols, { id: "guardian-protocols", rowKey: (p) => p.name, empty: "No protocol: plugins contribute them (protocols in definePlugin)." }),
    ),
  );
}

/** One run in full. */
async function runPage(ctx: PageContext, id: string): Promise<Node> {
  const r = await view<GuardianData>("guardian", { id }, ctx.signal);
  const now = r.generated_at;
  const run = r.data.runs[0]!;
  const pending = run.status === "pending";
  return h(
    "div",
    { class: "page guardian-run", "data-run": run.run_id },
    h("p", null, h("a", { href: link.guardian }, "← the guardian")),
    h("h1", null, status(run.status), " ", h("span", { class: "mono" }, run.run_id), " ", run.protocol),
    h(
      "p",
      { class: "alert-head" },
      machineLink(run.machine_id),
      h("span", { class: "muted" }, "made"),
      at(run.created_at, now),
      run.finished_at ? [h("span", { class: "muted" }, "· ended"), at(run.finished_at, now)] : null,
      pending && run.expires_at ? [h("span", { class: "muted" }, "· expires"), at(run.expires_at, now)] : null,
    ),
    h("p", { class: "alert-msg" }, run.title),
    run.reason ? h("p", { "data-reason": "" }, run.reason) : null,
    pending ? h("div", { class: "toolbar" }, decide(run, ctx)) : null,
    section(
      "Run",
      h(
        "dl",
        { class: "kv" },
        (
          [
            ["mode", run.mode],
            ["target", run.target_key],
            ["decided by", run.decided_by ? `${run.decided_by} ${ago(utc(run.decided_at), now)}` : null],
            ["incident", run.incident_id],
            ["facts", factsText(run.facts)],
          ] as [string, string | null][]
        )
          .filter(([, v]) => v)
          .map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
      ),
    ),
    section("Plan", planList(run.plan, pending ? "gate" : "gate when planned")),
    section("What happened", run.steps.length ? stepsTable(run.steps) : h("p", { class: "empty" }, pending ? "Nothing yet: it waits for a person." : "No step ran.")),
    section(
      "Verification",
      run.verification.length
        ? h(
            "ul",
            null,
            run.verification.map((c) => h("li", null, h("span", { class: c.ok ? "" : "warn" }, c.ok ? "✓ ok " : "✗ not yet "), c.detail, " ", at(c.at, now))),
          )
        : h("p", { class: "empty" }, "Not verified yet."),
    ),
  );
}
