// Names in a question resolved to real ones: by the name itself, an alias, the same name spelled
// otherwise ("vibe cockpit" for vibe_cockpit, "node-3" for node-03), a prefix, or a near spelling
// ("nod-07") when it is unmistakable. A name that is none of these is an error that says which
// real name was meant.
import { VcError } from "../errors.ts";
import { closest, editDistance } from "../spell.ts";
import type { CatalogEntry, Entity, Question } from "./define.ts";

// Words around a name that are not the name.
const FILLER = new Set("the a an my our your this that these those its their his her right now currently so really of on in at for to".split(" "));
// Words that name no one thing: the question is about all of them.
const GENERIC = new Set("everything everyone anything all any each every fleet whole it us we i me you things stuff them they ones one".split(" "));
// Words that often stand next to a name in a question but are never one.
const STOP = new Set(
  (
    "what which who whom whose why how when where is are was were be been being do does did done has have had will would should could can may might " +
    "not no yes and or but if then than there here about with without from since after before until up down out over under again very more most less " +
    "slow slowly unhealthy healthy health sick wrong problem problems issue issues trouble broken busy load loaded overloaded hot doing going ok okay fine " +
    "changed change changes happened new today yesterday week hour hours minute minutes day days ago last past blocking blocked blockers blocker " +
    "hit hits reach reaches limit limits run runs out use using used next need needs stuck look looks agent agents account accounts machine machines " +
    "commands command block denied deny today tell show me please hey"
  ).split(" "),
);

/** A name reduced to what identifies it: lower case, no separators, no leading zeros in numbers ("Node-03" → "node3"). */
export function squash(s: string): string {
  return s
    .toLowerCase()
    .replace(/[\s_.\-/:@]+/g, "")
    .replace(/(^|\D)0+(?=\d)/g, "$1");
}

/** A mention as typed, without the words around it ("the vibe_cockpit repo" → "vibe_cockpit"); null when only general words are left. */
export function cleanMention(typed: string, kindWords: readonly string[]): string | null {
  const kind = new Set(kindWords.flatMap((w) => [w, `${w}s`, `${w}es`]));
  const words = typed
    .trim()
    .split(/\s+/)
    .filter((w) => !FILLER.has(w) && !kind.has(w));
  if (words.length === 0 || words.every((w) => GENERIC.has(w) || STOP.has(w))) return null;
  return words.join(" ");
}

/** A name found for what was typed, and how. */
export type FoundName = { name: string; how: Entity["how"] };

/** The entries under each distinct name (one name may be in several places: a repo on two machines). */
function byName(entries: readonly CatalogEntry[]): Map<string, CatalogEntry[]> {
  const out = new Map<string, CatalogEntry[]>();
  for (const e of entries) out.set(e.name, [...(out.get(e.name) ?? []), e]);
  return out;
}

const namesOf = (e: CatalogEntry) => [e.name, ...(e.aliases ?? [])].filter((n) => n.trim() !== "");

/**
 * The one name `typed` stands for, or the names it could be (ambiguous), or nothing. `strict` is
 * for words picked from a question rather than typed as a name: no short prefixes, no near spellings of short words.
 */
function lookup(typed: string, entries: readonly CatalogEntry[], strict: boolean): { found?: FoundName; ambiguous?: string[] } {
  const t = typed.toLowerCase();
  const sq = squash(typed);
  if (sq === "") return {};
  const pick = (test: (n: string) => boolean): string[] => [...new Set(entries.filter((e) => namesOf(e).some(test)).map((e) => e.name))];
  const one = (names: string[], how: Entity["how"]) => (names.length === 1 ? { found: { name: names[0]!, how } } : names.length > 1 ? { ambiguous: names } : null);
  const steps: [string[], Entity["how"]][] = [
    [[...new Set(entries.filter((e) => e.name.toLowerCase() === t).map((e) => e.name))], "exact"],
    [pick((n) => n.toLowerCase() === t), "alias"],
    [pick((n) => squash(n) === sq), "spelling"],
  ];
  for (const [names, how] of steps) {
    const r = one(names, how);
    if (r) return r;
  }
  if (sq.length >= (strict ? 5 : 3)) {
    const r = one(
      pick((n) => squash(n).startsWith(sq)),
      "prefix",
    );
    if (r) return r;
  }
  // A near spelling, when one name is nearest and close for its length: one edit in five characters.
  if (t.length >= (strict ? 5 : 4)) {
    let best = Number.POSITIVE_INFINITY;
    let near: string[] = [];
    for (const e of entries)
      for (const n of namesOf(e)) {
        const d = editDistance(t, n.toLowerCase());
        if (d < best) [best, near] = [d, [e.name]];
        else if (d === best && !near.includes(e.name)) near.push(e.name);
      }
    if (best * 5 <= t.length && best <= 2) return near.length === 1 ? { found: { name: near[0]!, how: "fuzzy" } } : { ambiguous: near };
    // A near spelling of a prefix ("smartedgr" for smartedgar_mcp), typed as a name and long enough to tell.
    if (!strict && t.length >= 6) {
      const near = nearPrefix(t, entries);
      if (near.length === 1) return { found: { name: near[0]!, how: "fuzzy" } };
    }
  }
  return {};
}

/** The names one edit away from starting with what was typed. */
function nearPrefix(t: string, entries: readonly CatalogEntry[]): string[] {
  const out = new Set<string>();
  for (const e of entries)
    for (const n of namesOf(e)) {
      const l = n.toLowerCase();
      if ([t.length - 1, t.length, t.length + 1].some((k) => k > 0 && k < l.length && editDistance(t, l.slice(0, k)) <= 1)) out.add(e.name);
    }
  return [...out];
}

/** The n-grams of the words (longest first) that are not all question words: where a name may hide. */
function grams(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let n = Math.min(3, words.length); n >= 1; n--)
    for (let i = 0; i + n <= words.length; i++) {
      const g = words.slice(i, i + n);
      if (g.every((w) => STOP.has(w) || FILLER.has(w) || GENERIC.has(w))) continue;
      if (STOP.has(g[0]!) || FILLER.has(g[0]!) || STOP.has(g.at(-1)!) || FILLER.has(g.at(-1)!)) continue;
      out.push(g.join(" "));
    }
  return out;
}

/** A name of the catalog mentioned anywhere in the question (picked strictly), or null. */
export function findIn(q: Question | string[], entries: readonly CatalogEntry[]): FoundName | null {
  const words = Array.isArray(q) ? q : q.words;
  for (const g of grams(words)) {
    const r = lookup(g, entries, true);
    if (r.found) return r.found;
  }
  return null;
}

/** How a kind is named in messages, and the words that stand for it in a question. */
export interface KindInfo {
  kind: string;
  words: readonly string[];
}

/** The entity for a found name, with the refs of every entry under it. */
function entityOf(f: FoundName, entries: readonly CatalogEntry[], kind: string, typed: string | null): Entity {
  const refs = entries.filter((e) => e.name === f.name && e.ref).map((e) => e.ref!);
  return { kind, value: f.name, typed, how: typed === null ? "found" : f.how, ...(refs.length ? { refs } : {}) };
}

/**
 * Resolves a name as typed against a catalog: the entity, or `not_found` naming the nearest real
 * name ("no machine named 'orka' — did you mean orko?"), or `invalid_argument` listing the names a
 * prefix could be. The words around a name are dropped ("the vibe_cockpit repo"); a phrase ("my
 * claude account alice") is searched word by word when it is no name as a whole. Without a name
 * (none typed, or only general words: "everything"), the question is searched for one (null: none in it).
 */
export function resolveMention(q: Question, raw: string | null, entries: readonly CatalogEntry[], info: KindInfo): Entity | null {
  // A real name that is also a common word ("here", "box") is that name.
  const exact = raw === null ? undefined : entries.find((e) => namesOf(e).some((n) => n.toLowerCase() === raw.trim().toLowerCase()));
  if (exact) return entityOf({ name: exact.name, how: exact.name.toLowerCase() === raw!.trim().toLowerCase() ? "exact" : "alias" }, entries, info.kind, raw!.trim());
  const typed = raw === null ? null : cleanMention(raw, info.words);
  if (typed === null) {
    const f = findIn(q, entries);
    return f ? entityOf(f, entries, info.kind, null) : null;
  }
  const r = lookup(typed, entries, false);
  if (r.found) return entityOf(r.found, entries, info.kind, typed);
  if (!r.ambiguous && typed.includes(" ")) {
    const inside = findIn(typed.split(/\s+/), entries);
    if (inside) return entityOf(inside, entries, info.kind, typed);
  }
  const names = [...byName(entries).keys()];
  const list = (xs: string[]) => `${xs.slice(0, 12).join(", ")}${xs.length > 12 ? ` … (${xs.length})` : ""}`;
  if (r.ambiguous)
    throw new VcError("invalid_argument", `'${typed}' could be the ${info.kind} ${r.ambiguous.slice(0, -1).join(", ")} or ${r.ambiguous.at(-1)}: say which`, {
      hint: `${info.kind}s: ${list(names)}`,
      details: { kind: info.kind, typed, candidates: r.ambiguous },
    });
  const near = closest(typed, names) ?? closest(typed, [...new Set(entries.flatMap(namesOf))]) ?? nearPrefix(typed.toLowerCase(), entries)[0];
  const meant = near === undefined ? undefined : (entries.find((e) => namesOf(e).includes(near))?.name ?? near);
  throw new VcError("not_found", `no ${info.kind} named '${typed}'${meant ? ` — did you mean ${meant}?` : ""}`, {
    hint: names.length ? `${info.kind}s: ${list(names)}` : `vc knows no ${info.kind} yet`,
    details: { kind: info.kind, typed, closest: meant ?? null },
  });
}
