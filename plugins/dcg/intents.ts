// `vc ask` about dcg, answered from the events view (source dcg): what it blocked since a moment
// (today unless the question says otherwise), and where — per machine and folder, with the rules.
import { defineIntent, mentions, sinceIn, whenText, type Fact, type VcEvent } from "vibe-cockpit";

const BLOCKED = /\b(?:block|blocks|blocked|blocking|deny|denies|denied|refuse|refused|stop|stopped|prevent|prevented|veto|vetoed|catch|caught|warn|warned)\b/;
const COMMANDS = /\b(?:commands?|git|rm|dangerous|destructive)\b/;

const field = (e: VcEvent, name: string) => {
  const v = e.fields.find(([k]) => k === name)?.[1];
  return v === null || v === undefined ? null : String(v);
};

/** what did dcg block today (and where): denies and warnings per machine and folder, with their rules and the last command. */
export const dcgBlocked = defineIntent({
  name: "dcg_blocked",
  summary: "What dcg blocked since a moment (today unless said), and where: per machine and folder, with the rules and the last command",
  examples: ["what did dcg block today and where?", "which commands were blocked in the last 2 hours?"],
  match(q, ctx) {
    const score = mentions(q, /\bdcg\b/) ? 0.95 : mentions(q, BLOCKED) && mentions(q, COMMANDS) ? 0.8 : 0;
    if (score === 0) return null;
    const since = sinceIn(q, ctx.now);
    const today = new Date(ctx.now.getFullYear(), ctx.now.getMonth(), ctx.now.getDate());
    return { score, entities: { since: { kind: "time", typed: since?.typed ?? "today", value: (since?.from ?? today).toISOString() } } };
  },
  async answer(vc, e) {
    const now = vc.clock.now();
    const from = e.since!.value;
    const window = Math.max(60, Math.ceil((now.getTime() - Date.parse(from)) / 1000));
    const r = await vc.view("events", { source: ["dcg"], window, limit: 10_000 });
    const events = (r.data as { events: VcEvent[] }).events.filter((x) => x.source === "dcg");
    const span = `since ${whenText(from)} (${e.since!.typed})`;
    if (events.length === 0) return { text: `dcg blocked nothing ${span}.`, facts: [] };
    const places = new Map<string, VcEvent[]>();
    for (const x of events) {
      const k = `${x.machine_id ?? "?"}\u0000${field(x, "cwd") ?? ""}`;
      places.set(k, [...(places.get(k) ?? []), x]);
    }
    const denies = events.filter((x) => field(x, "decision") === "deny").length;
    const minutes = Math.ceil(window / 60);
    const facts: Fact[] = [...places.values()]
      .sort((a, b) => b.length - a.length)
      .map((list) => {
        const [machine, cwd] = [list[0]!.machine_id ?? "?", field(list[0]!, "cwd")];
        const d = list.filter((x) => field(x, "decision") === "deny").length;
        const rules = new Map<string, number>();
        for (const x of list) rules.set(field(x, "rule") ?? "(no rule)", (rules.get(field(x, "rule") ?? "(no rule)") ?? 0) + 1);
        const last = list[0]!; // newest first
        return {
          label: `${machine} ${cwd ?? "(folder unknown)"}`,
          value: `${d} denied${list.length - d ? `, ${list.length - d} warned` : ""} (${[...rules].map(([rule, n]) => (n > 1 ? `${rule} ×${n}` : rule)).join(", ")}); last: ${field(last, "command") ?? last.title}${last.at ? ` at ${whenText(last.at)}` : ""}${field(last, "agent") ? ` by ${field(last, "agent")}` : ""}`,
          recommendation: "see each command, its rule and why; an agent that keeps trying needs a clearer instruction",
          command: `vc robot events --source dcg --machine ${machine} --window ${minutes}m`,
        };
      });
    const machines = new Set(events.map((x) => x.machine_id)).size;
    return {
      text: `dcg denied ${denies} command${denies === 1 ? "" : "s"}${events.length - denies ? ` and warned about ${events.length - denies}` : ""} ${span}, in ${places.size} folder${places.size === 1 ? "" : "s"} on ${machines} machine${machines === 1 ? "" : "s"}:`,
      facts,
    };
  },
});

export const dcgIntents = [dcgBlocked];
