// vc's own questions, answered from vc's own views (machine, series, triage, diff): why a machine
// is slow or unhealthy, what changed on it since a moment, what needs a person now. A plugin adds
// its tool's questions, and its parts of these ones, through `definePlugin({ intents })`.
import { isVcError, VcError } from "../errors.ts";
import type { DiffData } from "../diff.ts";
import type { HealthFactor } from "../health/index.ts";
import type { Triage, TriageItem } from "../triage.ts";
import type { MachineView } from "../views/machine.ts";
import type { SeriesData } from "../views/series.ts";
import { defineIntent, type AskContext, type Fact, type IntentAnswer, type Mention } from "./define.ts";
import { capture, mentions, minutesText, sinceIn, TIME_WORDS } from "./match.ts";
import { findIn } from "./resolve.ts";

/** The words that stand for a machine in a question. */
export const MACHINE_WORDS = ["machine", "host", "server", "box", "computer", "vm"] as const;

/** "2026-08-20 13:15 UTC": an instant as an answer prints it. */
export const whenText = (iso: string) => `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** Numbers a health factor printed with more decimals than a person reads, to two. */
const tidy = (s: string) => s.replace(/(\d+\.\d\d)\d+/g, (_, n: string) => String(Math.round(Number(n) * 100) / 100));

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A triage item as a fact: its numbers, and its first suggestion as the recommendation and command. */
export function triageFact(item: TriageItem, suggestions: Triage["suggestions"], o: { machine?: boolean } = {}): Fact {
  const s = suggestions[item.id]?.[0];
  const where = o.machine && item.machine_id ? `${item.machine_id}: ` : "";
  const expected = item.kind === "alert" && item.expected !== null ? ` (expected ${item.expected}, got ${item.received})` : "";
  const factor = item.kind === "alert" && item.factor_detail ? `; ${item.factor_detail}` : "";
  return {
    label: `${where}${item.kind === "alert" ? `alert ${item.title}` : item.title} (${item.severity})`,
    value: tidy(`${item.message}${expected}${factor}`),
    ...(s ? { recommendation: s.title, ...(s.command ? { command: s.command } : {}) } : {}),
  };
}

// A machine's factor and its series in `vc robot series` (the ones with a history to compare with).
const SERIES: Record<string, { key: keyof Pick<SeriesData, "cpu" | "load" | "mem" | "swap" | "disk">; said: (n: number) => string }> = {
  cpu: { key: "cpu", said: (n) => `${n} % busy` },
  load: { key: "load", said: (n) => `load5 ${n}` },
  memory: { key: "mem", said: (n) => `${n} % used` },
  swap: { key: "swap", said: (n) => `${n} % used` },
  disk: { key: "disk", said: (n) => `${n} % full (its fullest disk)` },
};

/** What a series normally reads: the median of its points but the last hour's. */
function usual(points: SeriesData["cpu"], to: number): number | null {
  const xs = points
    .filter(([t, v]) => v !== null && t < to - 3600)
    .map(([, v]) => v!)
    .sort((a, b) => a - b);
  if (xs.length < 4) return null;
  return Math.round(xs[Math.floor(xs.length / 2)]! * 10) / 10;
}

const HEALTH_WORDS =
  "slow|slowly|sluggish|laggy|lagging|unhealthy|sick|struggling|overloaded|overworked|busy|hot|hung|unresponsive|degraded|red|critical|in trouble|under load|loaded|swapping|thrashing|filling up|full|acting up|having (?:problems|issues|trouble)|broken|down|not reporting|not responding|quiet|silent|offline|unreachable|stale";
const WHY = new RegExp(`\\bwhy (?:is|are|does|do|has|was|the) (.+?) (?:so |being |running |this |that |getting |feeling |been |really |still )*(?:${HEALTH_WORDS})\\b`);
const WHAT_WRONG = /\bwhat is (?:wrong|up|going on|happening|the (?:problem|matter|issue|trouble)) (?:with|on|at) (.+)$/;
const IS_OK = /\b(?:is|are) (.+?) (?:ok|okay|fine|healthy|unhealthy|alright|all right|in trouble|slow|overloaded|up|down|struggling|sick)\b/;
const HOW = /\bhow (?:is|are) (.+?) (?:doing|holding up|looking|running|going|behaving)\b/;
const HOW_HEALTHY = /\bhow (?:healthy|busy|loaded|slow|bad) is (.+)$/;
const HEALTH_OF = /\bhealth (?:of|on|for) (.+)$/;
const FLEET = new RegExp(`\\b(?:which|what|any|are any|are there) (?:machines?|hosts?|servers?|nodes?|boxes)\\b.*\\b(?:${HEALTH_WORDS}|unhealthy|problems?|issues?|bad)\\b`);
const KEYWORD = new RegExp(`\\b(?:${HEALTH_WORDS}|health|healthy|wrong|problems?|issues?|load|cpu|memory|disk|swap)\\b`);

const machineMention = (typed: string | null): Record<string, Mention> => ({ machine: { kind: "machine", typed } });

/** why is <machine> slow / unhealthy: its health factors and triage items, each with its number, recommendation and command. */
export const machineHealth = defineIntent({
  name: "machine_health",
  summary: "Why a machine is slow or unhealthy: each factor with its number, what it normally reads, the recommendation and the command",
  examples: ["why is <machine> slow?", "what is wrong with <machine>?", "is <machine> healthy?", "which machines are unhealthy?"],
  match(q, ctx) {
    const typed = capture(q, WHY, WHAT_WRONG);
    if (typed !== null) return { score: 0.9, entities: machineMention(typed) };
    if (mentions(q, FLEET)) return { score: 0.85, entities: machineMention(null) };
    const asked = capture(q, HOW_HEALTHY, HEALTH_OF, HOW, IS_OK);
    if (asked !== null) return { score: 0.8, entities: machineMention(asked) };
    // A machine's name and little else ("node-13?"): how it is.
    if (!mentions(q, KEYWORD))
      return q.words.length <= 3 &&
        findIn(
          q,
          ctx.machines.map((name) => ({ name })),
        )
        ? { score: 0.55, entities: machineMention(null) }
        : null;
    const named = findIn(
      q,
      ctx.machines.map((name) => ({ name })),
    );
    if (named) return { score: 0.7, entities: machineMention(named.name) };
    return mentions(q, /\bwhy\b/) ? { score: 0.6, entities: machineMention(null) } : null;
  },
  async answer(vc, e) {
    const id = e.machine?.value;
    if (!id) return fleetHealth(vc);
    const now = vc.clock.now();
    const [m, t, s] = await Promise.all([
      vc.view("machine", { id }),
      vc.view("triage", { limit: 1000 }),
      vc.view("series", { machine: id, window: 86_400, points: 48 }).catch(() => null),
    ]);
    const { health } = m.data as MachineView;
    const triage = t.data as Triage;
    const series = s?.data as SeriesData | undefined;
    const normally = (f: HealthFactor) => {
      const spec = SERIES[f.id];
      const n = spec && series ? usual(series[spec.key], Math.floor(now.getTime() / 1000)) : null;
      return n === null ? "" : `; normally ${spec!.said(n)} (the last day's median)`;
    };
    const items = triage.items.filter((i) => i.machine_id === id);
    const facts: Fact[] = items.map((i) => {
      const f = health.factors.find((x) => x.id === i.factor);
      const fact = triageFact(i, triage.suggestions);
      return f ? { ...fact, value: `${fact.value}${normally(f)}` } : fact;
    });
    // Factors no item stands for: the low ones (notes), or all of them on a healthy machine.
    const shown = new Set(items.map((i) => i.factor));
    const rest = health.factors.filter((f) => !shown.has(f.id) && (f.severity !== "ok" || items.length === 0));
    for (const f of rest)
      facts.push({
        label: `${f.id.replaceAll("_", " ")} (${f.severity})`,
        value: `${tidy(f.detail)}${normally(f)}`,
        ...(f.severity === "ok" ? {} : { recommendation: "worth a look before it grows", command: `vc robot machine ${id}` }),
      });
    const why = items.length + rest.filter((f) => f.severity !== "ok").length;
    const text =
      why === 0
        ? `${id} looks healthy (health ${health.score}, ${health.severity}): no factor is off and no alert fires on it. Its numbers:`
        : `${id} is ${health.severity === "ok" || health.severity === "low" ? "mostly healthy" : "unhealthy"} (health ${health.score}, ${health.severity}) because of ${plural(why, "factor")}:`;
    return { text, facts };
  },
});

/** Every machine's unhealthy factors and firing alerts, most pressing first. */
async function fleetHealth(vc: AskContext): Promise<IntentAnswer> {
  const t = await vc.view("triage", { limit: 50 });
  const triage = t.data as Triage & { overall: { score: number; severity: string } };
  const items = triage.items.filter((i) => i.machine_id !== null);
  const machines = new Set(items.map((i) => i.machine_id));
  if (items.length === 0) return { text: `Every machine looks healthy (fleet health ${triage.overall.score}): no factor is off and no alert fires.`, facts: [] };
  return {
    text: `${plural(machines.size, "machine is", "machines are")} unhealthy or alerting (fleet health ${triage.overall.score}, ${triage.overall.severity}), most pressing first:`,
    facts: items.map((i) => triageFact(i, triage.suggestions, { machine: true })),
  };
}

const CHANGED = /\bwhat (?:has |have |is |else )?(?:changed|happened|is new|is different|moved)\b/;
const CHANGES = /\b(?:changes|changed|anything new|anything different|diff|difference)\b/;
const ON_MACHINE = new RegExp(`\\b(?:on|to|with|for|at|in) (?!the last|the past)(.+?)(?=\\s+(?:${TIME_WORDS})\\b|$)`);
const FACTS_MAX = 15;

/** what changed on <machine> since <time>: the diff view's sections, each change with its numbers. */
export const machineChanges = defineIntent({
  name: "machine_changes",
  summary: "What changed on a machine (or the fleet) since a moment: alerts opened and resolved, factors that moved, each plugin's changes",
  examples: ["what changed on <machine> since 2h?", "what changed on <machine> since yesterday 14:00?", "what happened in the last 30 minutes?"],
  match(q, ctx) {
    const score = mentions(q, CHANGED) ? 0.9 : mentions(q, CHANGES) ? 0.75 : 0;
    if (score === 0) return null;
    const since = sinceIn(q, ctx.now);
    const entities: Record<string, Mention> = {
      machine: { kind: "machine", typed: capture(q, ON_MACHINE) },
      since: since
        ? { kind: "time", typed: since.typed, value: since.from.toISOString() }
        : { kind: "time", typed: null, value: new Date(ctx.now.getTime() - 86_400_000).toISOString() },
    };
    return { score: since ? score + 0.05 : score, entities };
  },
  async answer(vc, e) {
    const now = vc.clock.now();
    const machine = e.machine?.value;
    let from = e.since!.value;
    if (Date.parse(from) >= now.getTime())
      throw new VcError("invalid_argument", `since ${e.since!.typed ?? from}: ${whenText(from)} is not in the past (now is ${whenText(now.toISOString())})`, {
        details: { field: "since" },
      });
    const notes: string[] = [];
    let r: Awaited<ReturnType<AskContext["view"]>>;
    try {
      r = await vc.view("diff", { from, ...(machine ? { machine } : {}) });
    } catch (err) {
      // Before the store's first row nothing was recorded: the changes from that row on.
      const first = isVcError(err) && err.code === "not_found" ? err.details?.first : undefined;
      if (typeof first !== "string") throw err;
      notes.push(`the store begins at ${whenText(first)}, so from then`);
      from = first;
      r = await vc.view("diff", { from, ...(machine ? { machine } : {}) });
    }
    const d = r.data as DiffData;
    const entries = d.sections.flatMap((s) => s.entries.map((x) => ({ s, x })));
    const where = machine ? `on ${machine}` : "across the fleet";
    const ago = minutesText((now.getTime() - Date.parse(from)) / 60_000);
    const said = e.since!.typed === null ? " (the last day: say “since 2h” for another span)" : "";
    const command = `vc diff --from ${new Date(from).toISOString()}${machine ? ` --machine ${machine}` : ""}`;
    if (entries.length === 0) return { text: `Nothing changed ${where} since ${whenText(from)}, ${ago} ago${said}${notes.length ? `; ${notes.join("; ")}` : ""}.`, facts: [] };
    const bySection = d.sections.filter((s) => s.entries.length).map((s) => `${s.title.toLowerCase()} ${s.entries.length}`);
    const facts: Fact[] = entries.slice(0, FACTS_MAX).map(({ s, x }) => ({
      label: `${s.title.toLowerCase()}: ${x.change.replaceAll("_", " ")}`,
      value: tidy(!machine && x.machine_id && !x.text.includes(x.machine_id) ? `${x.machine_id}: ${x.text}` : x.text),
    }));
    if (entries.length > FACTS_MAX) facts.push({ label: "more", value: plural(entries.length - FACTS_MAX, "more change"), recommendation: "see them all", command });
    return {
      text: `${plural(entries.length, "change")} ${where} since ${whenText(from)}, ${ago} ago${said}${notes.length ? ` (${notes.join("; ")})` : ""}: ${bySection.join(", ")}.`,
      facts,
    };
  },
});

const NEEDS = /\b(?:needs?|wants?|requires?|waiting (?:for|on)) (?:me|my|you|your|us|a person|a human|attention|someone)\b/;
const WHAT_DO = /\bwhat (?:should|do|must|can|shall) (?:i|we) (?:do|look at|fix|handle|work on|check|deal with|attend to)\b/;
const URGENT = /\b(?:urgent|on fire|pressing|burning|most important|needs doing|do next|to do next|triage|priorities|top priority)\b/;

/** what needs me now: triage's items (the plugins add their parts: waiting agents …). */
export const needsMe = defineIntent({
  name: "needs_me",
  summary: "What needs a person now: firing alerts and unhealthy factors ranked by triage, each with why and the command (plugins add theirs)",
  examples: ["what needs me now?", "what should I do next?", "anything urgent?"],
  match(q) {
    if (mentions(q, NEEDS, /\bwho (?:needs|is waiting|waits)\b/)) return { score: 0.9 };
    if (mentions(q, WHAT_DO)) return { score: 0.85 };
    if (mentions(q, URGENT)) return { score: 0.75 };
    return null;
  },
  async answer(vc) {
    const t = await vc.view("triage", { limit: 10 });
    const triage = t.data as Triage & { overall: { score: number; severity: string } };
    if (triage.items.length === 0) return { text: "Nothing in triage: no alert fires and no machine is unhealthy.", facts: [] };
    return {
      text: `${plural(triage.items.length, "thing needs", "things need")} you, most pressing first (fleet health ${triage.overall.score}, ${triage.overall.severity}):`,
      facts: triage.items.map((i) => triageFact(i, triage.suggestions, { machine: true })),
    };
  },
});

/** vc's own intents, before any plugin's. */
export const coreIntents = [machineHealth, machineChanges, needsMe] as const;
