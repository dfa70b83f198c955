// The shapes of `vc ask`: a question is matched to an intent, the intent's names are resolved to
// real machines, repos and accounts, and the intent answers from registered views only — never
// from SQL of its own. vc's own intents are in ./intents.ts; a plugin brings its tool's intents
// with `definePlugin({ intents })`.
import type { Clock } from "../clock.ts";
import type { VcConfig } from "../config/define.ts";
import type { RobotEnvelope } from "../robot/envelope.ts";

/** A question as the matcher reads it: the text as typed, and a normalised copy. */
export interface Question {
  /** As typed (trimmed). */
  text: string;
  /** Lower case, contractions spelled out ("what's" → "what is"), punctuation around words dropped, one space between words. */
  norm: string;
  /** The words of `norm`. */
  words: string[];
}

/** One thing an answer states: what, its number, and what to do about it. */
export interface Fact {
  label: string;
  value: string;
  /** What to do about it, in words. */
  recommendation?: string;
  /** The command that does it or looks closer (suggested, never run). */
  command?: string;
}

/**
 * A name in a question: a machine, a repo, an account … (`kind`), as typed. `typed: null` asks the
 * resolver to look for one in the whole question; `value` set means it needs no resolving (a time).
 */
export interface Mention {
  kind: string;
  typed: string | null;
  /** Already known (a time parsed from "since 2h"): kept as it is. */
  value?: string;
  /** Without it the intent cannot answer: "which repo?" instead of an answer. */
  required?: boolean;
}

/** A name resolved to a real one. */
export interface Entity {
  kind: string;
  /** The real name (a machine id, a repo's name, an account) or the value (an ISO time). */
  value: string;
  /** What the question said (null when it was found in the question rather than captured). */
  typed: string | null;
  /** How it was found: the name itself, an alias, spelled otherwise (case, spaces, zeros), a prefix, a near spelling, or a value. */
  how: "exact" | "alias" | "spelling" | "prefix" | "fuzzy" | "found" | "value";
  /** What the catalog knows of it (a repo's machine, id and folder), one per place it is. */
  refs?: Record<string, unknown>[];
}

/** The resolved names of a question, by the role the intent gave them (`machine`, `since`, `repo` …). */
export type Entities = Record<string, Entity>;

/** What an intent's `match` returns: how sure it is (0–1) and the names it saw. */
export interface IntentMatch {
  score: number;
  entities?: Record<string, Mention>;
}

/** What `match` may read besides the question: the config's machines and the cockpit's clock. */
export interface MatchContext {
  machines: readonly string[];
  now: Date;
}

/** One name a catalog knows, with the other names it goes by. */
export interface CatalogEntry {
  name: string;
  aliases?: readonly string[];
  /** The same thing in two catalogs (a repo ru and beads both know) has one id: the first catalog's name stands, the others' become aliases. */
  id?: string;
  /** What an answer needs to find it again (its machine, id, folder …). */
  ref?: Record<string, unknown>;
}

/** Where the names of one kind come from, read through a view (repos, accounts …). */
export interface EntityCatalog {
  kind: string;
  /** The words that stand for the kind in a question ("repo", "project"): dropped around a name, and their plurals mean "all of them". */
  words?: readonly string[];
  load(vc: AskContext): Promise<readonly CatalogEntry[]>;
}

/** What an intent's answer says, before the parts of a question's answer are put together. */
export interface IntentAnswer {
  /** The headline: one or two sentences with the numbers that matter. */
  text: string;
  facts: Fact[];
  /** Warnings of its own (the ones that bear on this answer, from views read `quiet`). */
  warnings?: string[];
}

/** The cockpit as an intent sees it: registered views, the config, the clock. Views consulted are recorded. */
export interface AskContext {
  readonly config: VcConfig;
  readonly clock: Clock;
  /** Runs a registered view (the daemon's, when one serves the store); `quiet`: its warnings are not the answer's (a part that only adds to it). */
  view(name: string, args?: Record<string, unknown>, o?: { quiet?: boolean }): Promise<RobotEnvelope<unknown>>;
  /** The same, or null when no plugin of this config registers that view. */
  optionalView(name: string, args?: Record<string, unknown>, o?: { quiet?: boolean }): Promise<RobotEnvelope<unknown> | null>;
}

/**
 * A kind of question vc can answer. Intents that share a name answer one question together: the
 * first (vc's own, then the plugins' in config order) leads, the others add their parts (`null`:
 * nothing to add) — "what needs me now" is triage's items and then ntm's waiting agents.
 */
export interface Intent {
  /** The intent's id, in `--format json` and in the list of what vc can answer. */
  readonly name: string;
  /** One line: what it answers. */
  readonly summary: string;
  /** Questions it answers, as a person would ask them; `<machine>` is shown as one of the config's machines. */
  readonly examples: readonly string[];
  /** Where names of kinds other than machines come from (a repo, an account). */
  readonly catalogs?: readonly EntityCatalog[];
  /** How well the question fits (null: not at all), and the names in it. Cheap and synchronous. */
  match(q: Question, ctx: MatchContext): IntentMatch | null;
  answer(vc: AskContext, entities: Entities): Promise<IntentAnswer | null>;
}

/**
 * Declares an intent. An identity function: it exists so TypeScript checks the shape.
 * @example defineIntent({ name: "disk_full", summary: "…", examples: ["which disks are full?"], match: (q) => (/\bdisks?\b/.test(q.norm) ? { score: 0.8 } : null), answer: async (vc) => … })
 */
export function defineIntent(intent: Intent): Intent {
  return intent;
}

/** Declares where the names of a kind come from. An identity function, for the types. */
export function defineCatalog(catalog: EntityCatalog): EntityCatalog {
  return catalog;
}

/** What `ask` answers: the intent, the names it resolved, the views it read, the answer. */
export interface AskResult {
  question: string;
  /** null: no intent fits (or the question was declined); `can_answer` lists what does. */
  intent: string | null;
  entities: Entities;
  /** The registered views consulted, in the order first asked. */
  views: string[];
  /** The readable answer: each part's headline and its numbered facts. */
  text: string;
  facts: Fact[];
  /** What the views warned about (missing data, stale collectors). */
  warnings: string[];
  /** When no intent answered: what vc can answer, with examples. */
  can_answer?: { intent: string; summary: string; examples: string[] }[];
  /** Why the question was declined: it asks vc to do something, and `vc ask` only reads. */
  declined?: string;
}
