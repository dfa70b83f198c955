// Building blocks of a detail pane, for the core's screens and the plugins' alike: a line, a
// heading, a value dumped as lines, a paragraph, how old the data is, relative times.
import { breakAt, clean, num, textWidth } from "./text.ts";
import { styles, type Style } from "./theme.ts";
import type { Cell, Line } from "./types.ts";

/** A line of one text in one style. */
export const L = (text: string, style: Style = styles.text): Line => [[text, style]];
/** A section heading: `─ TITLE`. */
export const H = (title: string): Line => [[`─ ${title} `, styles.title]];

/** "42 s", "3 min", "5 h", "2 d": a length of time a person reads at a glance. */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** "3 min ago" ("never" when unknown). */
export function since(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined || !Number.isFinite(seconds) ? "never" : `${span(seconds)} ago`;
}

/** "in 42 min" ("passed" when it is behind us, "" when unknown). */
export function until(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  return seconds <= 0 ? "passed" : `in ${span(seconds)}`;
}

/** An ISO time as `2026-01-25 03:00 UTC` (the absolute time beside a relative one). */
export function absolute(iso: string | null | undefined): string {
  if (!iso) return "unknown";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? clean(iso) : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Green below 60 %, amber to 85 %, red above: how full something is. */
export const usedStyle = (used: number | null | undefined): Style =>
  used !== null && used !== undefined && used >= 85 ? styles.critical : used !== null && used !== undefined && used >= 60 ? styles.warning : styles.healthy;

/** A percent as `97 %` (`-` when unknown). */
export const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? "-" : `${Math.round(v)} %`);

/** How old a screen's data is, and STALE past the threshold. */
export function ageBadge(age: number | null, staleAfter: number): Cell[] {
  const stale = age === null || age > staleAfter;
  return [[` data ${age === null ? "never read" : since(age)} `, styles.dim], stale ? [" STALE ", styles.stale] : ["", styles.dim]];
}

/** Text broken at spaces into lines of at most `w` cells (every line). */
export function paragraph(text: string, w: number, style: Style = styles.text, indent = "  "): Line[] {
  const out: Line[] = [];
  const width = Math.max(10, w - indent.length);
  for (const para of clean(text).split(/ {2,}|\n/)) {
    let rest = para.trim();
    while (textWidth(rest) > width) {
      const at = breakAt(rest, width, width / 3);
      out.push(L(indent + rest.slice(0, at), style));
      rest = rest.slice(at).trimStart();
    }
    if (rest) out.push(L(indent + rest, style));
  }
  return out;
}

/** A one-cell line longer than the pane, broken at spaces into at most three lines. */
export function wrap(line: Line, w: number): Line[] {
  if (line.length !== 1 || textWidth(line[0]![0]) <= w || w < 20) return [line];
  const [text, style] = line[0]!;
  const indent = /^ */.exec(text)![0];
  const out: Line[] = [];
  let rest = text;
  while (textWidth(rest) > w && out.length < 2) {
    const at = breakAt(rest, w, indent.length + 4);
    out.push([[rest.slice(0, at), style]]);
    rest = `${indent}  ${rest.slice(at).trimStart()}`;
  }
  out.push([[rest, style]]);
  return out;
}

/** Any section of a view's data as lines: rows as `k=v`, an object as `k: v`, nested one level. */
export function valueLines(title: string, value: unknown, max = 6): Line[] {
  const out: Line[] = [H(title)];
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) return [...out, L("  not collected", styles.dim)];
  return [...out, ...bodyLines(value, max, "  ")];
}

const HIDDEN = /^(machine_id|source|source_version|schema_version|collected_at|raw_json)$/;
const isScalar = (v: unknown) => v === null || typeof v !== "object";
// What a person reads first: names and subjects before ids and counters.
const FIRST = ["subject", "title", "name", "command", "message", "repo", "agent", "sender", "recipient", "importance", "pattern", "reason", "cmd", "pid"];
const rank = (k: string) => (FIRST.includes(k) ? FIRST.indexOf(k) : FIRST.length);
/** A field name as words: `last_commit_at` → `last commit at`. */
export const words = (k: string) => clean(k).replace(/_/g, " ");
const pairs = (o: Record<string, unknown>) =>
  Object.entries(o)
    .sort(([a], [b]) => rank(a) - rank(b))
    .filter(([k, v]) => v !== null && v !== undefined && v !== "" && !HIDDEN.test(k))
    .map(([k, v]) => `${words(k)}=${clean(typeof v === "number" ? num(v) : v)}`);

function bodyLines(value: unknown, max: number, indent: string): Line[] {
  const out: Line[] = [];
  if (Array.isArray(value)) {
    for (const r of value.slice(0, max)) out.push(L(`${indent}${typeof r === "object" && r ? pairs(r as Record<string, unknown>).join(" ") : clean(r)}`));
    if (value.length > max) out.push(L(`${indent}… ${value.length - max} more`, styles.dim));
  } else if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([k, v]) => v !== null && v !== undefined && !HIDDEN.test(k));
    const scalars = entries.filter(([, v]) => isScalar(v));
    for (const [k, v] of scalars.slice(0, max))
      out.push([
        [`${indent}${words(k)}: `, styles.dim],
        [clean(typeof v === "number" ? num(v) : v), styles.text],
      ]);
    for (const [k, v] of entries.filter(([, v]) => !isScalar(v))) {
      out.push(L(`${indent}${words(k)}:`, styles.dim));
      if (indent.length < 6) out.push(...bodyLines(v, Math.min(max, 4), `${indent}  `));
      else out.push(L(`${indent}  ${clean(v)}`));
    }
  } else out.push(L(`${indent}${clean(value)}`));
  return out;
}

/** Field/value pairs as aligned lines (an event's fields, a repo's status); empty values left out. */
export function fieldLines(fields: readonly [string, unknown][], w: number, full = false): Line[] {
  const shown = fields.map(([k, v]) => [k, show(v)] as const).filter((f): f is readonly [string, string] => f[1] !== null);
  const kw = Math.min(16, Math.max(4, ...shown.map(([k]) => k.length)) + 1);
  const out: Line[] = [];
  for (const [k, text] of shown) {
    const value = clean(text);
    if (full && value.length > w - kw - 2) out.push(L(`  ${clean(k)}:`, styles.dim), ...paragraph(value, w, styles.text, "    "));
    else
      out.push([
        [`  ${clean(k).padEnd(kw)}`, styles.dim],
        [value, styles.text],
      ]);
  }
  return out;
}

const show = (v: unknown) => (v === null || v === undefined || v === "" ? null : typeof v === "number" ? num(v) : typeof v === "object" ? JSON.stringify(v) : String(v));
