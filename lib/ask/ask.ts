// `vc ask "…"` and the MCP tool vc_ask: a question matched to the intent that fits it best, its
// names resolved to real machines, repos and accounts, and the answer read from registered views
// only. A question no intent fits, or a command, gets the list of what vc can answer.
import type { Cockpit } from "../cockpit.ts";
import type { VcConfig } from "../config/define.ts";
import { isVcError, VcError } from "../errors.ts";
import { collectPlugins } from "../plugin/define.ts";
import type { RobotEnvelope } from "../robot/envelope.ts";
import { oneLine, stripControl } from "../text.ts";
import type { AskContext, AskResult, CatalogEntry, Entities, EntityCatalog, Fact, Intent, IntentAnswer, IntentMatch, MatchContext } from "./define.ts";
import { coreIntents, MACHINE_WORDS } from "./intents.ts";
import { declined, normaliseQuestion } from "./match.ts";
import { resolveMention } from "./resolve.ts";

/** The cockpit `ask` reads through: one opened here, or the daemon's client (which has no config: pass it in the options). */
export type AskCockpit = Pick<Cockpit, "view" | "clock"> & { readonly config?: VcConfig };

/** What `ask` may be given beyond the question. */
export interface AskOptions {
  /** The config, when `vc` has none (the daemon's client): its machines and plugins' intents. */
  config?: VcConfig;
  /** Instead of vc's and the config's plugins' intents. */
  intents?: readonly Intent[];
}

/** The longest question taken. */
export const MAX_QUESTION = 500;
/** Below this, no intent fits. */
const MIN_SCORE = 0.5;

/** vc's own intents, then each plugin's in config order. */
export function askIntents(config: Pick<VcConfig, "plugins" | "collectors">): Intent[] {
  return [...coreIntents, ...collectPlugins(config.plugins ?? [], config.collectors ?? []).flatMap((p) => p.intents ?? [])];
}

/** The config's machines as a catalog: each id, and the host its ssh target names. */
function machineEntries(config: VcConfig): CatalogEntry[] {
  return config.machines.map((m) => {
    const host = m.ssh === "local" ? null : (/^(?:[^@\s]+@)?(\[[^\]]+\]|[^:\s]+)/.exec(m.ssh)?.[1] ?? null);
    return { name: m.id, ...(host && host !== m.id ? { aliases: [host] } : {}) };
  });
}

/** Entries with one id as one: the first one's name, everyone's other names as aliases. */
function mergeEntries(all: readonly CatalogEntry[]): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  const byId = new Map<string, CatalogEntry & { aliases: string[] }>();
  for (const e of all) {
    const seen = e.id === undefined ? undefined : byId.get(e.id);
    if (!seen) {
      const copy = { ...e, aliases: [...(e.aliases ?? [])] };
      if (e.id !== undefined) byId.set(e.id, copy);
      out.push(copy);
      continue;
    }
    for (const n of [e.name, ...(e.aliases ?? [])]) if (n !== seen.name && !seen.aliases.includes(n)) seen.aliases.push(n);
  }
  return out;
}

/** What vc can answer, one line per intent (those sharing a name as one), `<machine>` shown as a real one. */
export function canAnswer(intents: readonly Intent[], config?: Pick<VcConfig, "machines">): NonNullable<AskResult["can_answer"]> {
  const machine = config?.machines[0]?.id ?? "<machine>";
  const out = new Map<string, { intent: string; summary: string; examples: string[] }>();
  for (const i of intents) {
    const row = out.get(i.name) ?? { intent: i.name, summary: i.summary, examples: [] };
    for (const x of i.examples) {
      const shown = x.replaceAll("<machine>", machine);
      if (!row.examples.includes(shown)) row.examples.push(shown);
    }
    out.set(i.name, row);
  }
  return [...out.values()];
}

/** The answer as a person reads it: each part's headline, then its facts numbered on from the last part's. */
export function renderAnswer(parts: readonly IntentAnswer[]): string {
  const lines: string[] = [];
  let n = 0;
  for (const p of parts) {
    if (lines.length) lines.push("");
    lines.push(p.text);
    if (p.facts.length) lines.push("");
    for (const f of p.facts) {
      n++;
      const pad = " ".repeat(String(n).length + 4);
      lines.push(`  ${n}. ${f.label}: ${f.value}`);
      if (f.recommendation) lines.push(`${pad}→ Recommendation: ${f.recommendation}`);
      if (f.command) lines.push(`${pad}→ ${f.command}`);
    }
  }
  return lines.join("\n");
}

const cleanFact = (f: Fact): Fact => ({
  label: oneLine(f.label),
  value: oneLine(f.value),
  ...(f.recommendation ? { recommendation: oneLine(f.recommendation) } : {}),
  ...(f.command ? { command: oneLine(f.command) } : {}),
});

/** Views are recorded as they are consulted, with their warnings; the same call twice (two parts of one answer) runs once. */
function recording(vc: AskCockpit, config: VcConfig): AskContext & { views: string[]; warnings: string[] } {
  const views: string[] = [];
  const warnings: string[] = [];
  const calls = new Map<string, Promise<RobotEnvelope<unknown>>>();
  const view = async (name: string, args: Record<string, unknown> = {}, o: { quiet?: boolean } = {}): Promise<RobotEnvelope<unknown>> => {
    const key = JSON.stringify([name, args]);
    let call = calls.get(key);
    if (!call) calls.set(key, (call = vc.view(name, args)));
    const fresh = !views.includes(name);
    if (fresh) views.push(name); // in the order asked, not answered
    try {
      const r = await call;
      if (!o.quiet) for (const w of r.warnings ?? []) if (!warnings.includes(w)) warnings.push(w);
      return r;
    } catch (err) {
      if (fresh && views.includes(name)) views.splice(views.indexOf(name), 1);
      throw err;
    }
  };
  return {
    config,
    clock: vc.clock,
    views,
    warnings,
    view,
    async optionalView(name, args, o) {
      try {
        return await view(name, args, o);
      } catch (err) {
        if (isVcError(err) && err.code === "not_found" && err.message.startsWith(`no view "${name}"`)) return null;
        throw err;
      }
    },
  };
}

/** The intent that fits best (intents sharing a name fit as one, by their best member), or null. */
function bestMatch(intents: readonly Intent[], q: ReturnType<typeof normaliseQuestion>, ctx: MatchContext): { name: string; match: IntentMatch; members: Intent[] } | null {
  let best: { name: string; match: IntentMatch; members: Intent[] } | null = null;
  const scores = new Map<string, IntentMatch>();
  for (const i of intents) {
    const m = i.match(q, ctx);
    if (!m || !(m.score >= MIN_SCORE)) continue;
    const prev = scores.get(i.name);
    if (!prev || m.score > prev.score) scores.set(i.name, m);
  }
  for (const [name, match] of scores) if (!best || match.score > best.match.score) best = { name, match, members: intents.filter((i) => i.name === name) };
  return best;
}

/**
 * Answers a question about the fleet from registered views only: the intent that fits it best, its
 * names resolved to real machines, repos and accounts, the views it read, the answer as text and
 * as facts (each with its number, recommendation and command). A question no intent fits, or a
 * command ("delete all …"), answers `intent: null` with what vc can answer. An empty question is a
 * `usage` error; a name that is no machine (repo, account) is `not_found` naming the nearest one.
 * @example const r = await ask(vc, "why is node-07 slow?"); console.log(r.text)
 */
export async function ask(vc: AskCockpit, question: string, options: AskOptions = {}): Promise<AskResult> {
  const text = typeof question === "string" ? question.trim() : "";
  const config = vc.config ?? options.config;
  if (!config) throw new VcError("invalid_input", "ask: no config (a daemon's client has none: pass { config })");
  const intents = options.intents ?? askIntents(config);
  if (text === "")
    throw new VcError("usage", "ask: the question is empty", { hint: `ask one, like: vc ask "${canAnswer(intents, config)[0]?.examples[0] ?? "what needs me now?"}"` });
  if (text.length > MAX_QUESTION) throw new VcError("invalid_argument", `ask: the question is ${text.length} characters long; at most ${MAX_QUESTION}`);
  const q = normaliseQuestion(text);
  const unmatched = (why: string | null): AskResult => {
    const list = canAnswer(intents, config);
    const lead = why ? `vc ask declines that: ${why}.` : `vc ask cannot answer "${oneLine(text)}".`;
    return {
      question: text,
      intent: null,
      entities: {},
      views: [],
      text: `${lead} It answers questions like:\n${list.map((i) => `  ${i.examples[0]}   (${i.summary})`).join("\n")}`,
      facts: [],
      warnings: [],
      can_answer: list,
      ...(why ? { declined: why } : {}),
    };
  };
  const why = declined(q);
  if (why) return unmatched(why);
  const now = vc.clock.now();
  const best = bestMatch(intents, q, { machines: config.machines.map((m) => m.id), now });
  if (!best) return unmatched(null);

  const ctx = recording(vc, config);
  // Names of a kind resolve against every catalog of that kind (a repo is ru's and beads'), each loaded once.
  const catalogs = new Map<string, EntityCatalog[]>();
  for (const i of intents) for (const c of i.catalogs ?? []) if (!catalogs.get(c.kind)?.includes(c)) catalogs.set(c.kind, [...(catalogs.get(c.kind) ?? []), c]);
  const entries = async (kind: string): Promise<CatalogEntry[]> =>
    kind === "machine" ? machineEntries(config) : mergeEntries((await Promise.all((catalogs.get(kind) ?? []).map((c) => c.load(ctx)))).flat());
  const entities: Entities = {};
  for (const [role, m] of Object.entries(best.match.entities ?? {})) {
    if (m.value !== undefined) {
      entities[role] = { kind: m.kind, value: m.value, typed: m.typed, how: "value" };
      continue;
    }
    const words = m.kind === "machine" ? MACHINE_WORDS : [...new Set((catalogs.get(m.kind) ?? []).flatMap((c) => c.words ?? [m.kind]))];
    const e = resolveMention(q, m.typed, await entries(m.kind), { kind: m.kind, words });
    if (e) entities[role] = e;
    else if (m.required)
      throw new VcError("usage", `ask: which ${m.kind}? The question names none`, { hint: `name one, like: ${best.members[0]!.examples[0]}`, details: { kind: m.kind } });
  }
  const parts: IntentAnswer[] = [];
  for (const member of best.members) {
    const a = await member.answer(ctx, entities);
    if (a) parts.push({ text: stripControl(a.text), facts: a.facts.map(cleanFact) });
    for (const w of a?.warnings ?? []) if (!ctx.warnings.includes(w)) ctx.warnings.push(w);
  }
  if (parts.length === 0) parts.push({ text: "The views had nothing to say about that.", facts: [] });
  return {
    question: text,
    intent: best.name,
    entities,
    views: ctx.views,
    text: renderAnswer(parts),
    facts: parts.flatMap((p) => p.facts),
    warnings: ctx.warnings.map(oneLine),
  };
}
