// Text for the terminal: untrusted strings made safe (no control or escape sequences, nothing
// invisible that a terminal might draw its own way) and fitted to a width in cells, as the
// terminal draws them (Bun.stringWidth: CJK and most emoji take two cells, combining marks none).

import { stripControl } from "../text.ts";

// Invisible format characters (zero-width spaces and joiners, soft hyphen, BOM, tags) and variation
// selectors: terminals disagree on how wide they make a character (an emoji joined by ZWJ is one
// glyph or several; U+FE0F makes ❤ one cell or two), so they are dropped and every character is
// drawn at the width Bun.stringWidth gives it.
const INVISIBLE = /[\p{Cf}\p{Variation_Selector}]/gu;

const graphemeSegmenter = new Intl.Segmenter();
// Printable ASCII, Latin-1, arrows, box drawing, blocks and the cockpit's own symbols (●▶…›): one cell each, nothing combining.
const NARROW = /^[\x20-\x7e\xa0-\xac\xae-\xff\u2010-\u2027\u2030-\u205e\u2190-\u21ff\u2500-\u25fc\u25ff]*$/;

/** Any value from a collector as one safe line: escapes and controls gone, tabs and newlines as spaces. */
export function clean(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v, (_k, x) => (typeof x === "string" ? stripControl(x) : x)) : String(v);
  return stripControl(s.replace(/[\t\n\r]+/g, " "))
    .normalize("NFC")
    .replace(INVISIBLE, "");
}

/** How many terminal cells `s` takes. */
export function textWidth(s: string): number {
  return Bun.stringWidth(s);
}

/** The characters of `s` as the user sees them (grapheme clusters), each with its width in cells. */
export function* graphemes(s: string): Generator<{ text: string; width: number }> {
  // Most of what the cockpit draws is printable ASCII and box drawing: one character, one cell.
  if (NARROW.test(s)) {
    for (const ch of s) yield { text: ch, width: 1 };
    return;
  }
  for (const { segment } of graphemeSegmenter.segment(s)) yield { text: segment, width: Bun.stringWidth(segment) };
}

/** The longest start of `s` that fits in `w` cells (a wide character that would cross the edge is left out). */
function head(s: string, w: number): { text: string; width: number } {
  let text = "";
  let width = 0;
  for (const g of graphemes(s)) {
    if (width + g.width > w) break;
    text += g.text;
    width += g.width;
  }
  return { text, width };
}

/** Cut to `w` cells (with an ellipsis when cut) and pad to exactly `w` cells. */
export function fit(s: string, w: number): string {
  if (w <= 0) return "";
  const sw = Bun.stringWidth(s);
  if (sw <= w) return s + " ".repeat(w - sw);
  const h = head(s, w - 1);
  return `${h.text}…${" ".repeat(w - 1 - h.width)}`;
}

/**
 * Where to break `s` so that `s.slice(0, at)` fits in `w` cells: at the last space that fits when
 * it stands past `minAt` characters, else after the last character that fits (at least one).
 */
export function breakAt(s: string, w: number, minAt = 0): number {
  const fits = head(s, w).text.length;
  if (fits >= s.length) return s.length;
  let space = s.lastIndexOf(" ", fits);
  // "97 %" stays together: a space before a unit is no place to break.
  while (space > minAt && s[space + 1] === "%") space = s.lastIndexOf(" ", space - 1);
  if (space > minAt) return space;
  return fits > 0 ? fits : ([...graphemeSegmenter.segment(s)][0]?.segment.length ?? 1);
}

/** Seconds from `iso` to `now` (null when absent or unparsable). */
export function ageOf(iso: string | null | undefined, now: Date): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, (now.getTime() - t) / 1000) : null;
}

const BLOCKS = "▁▂▃▄▅▆▇█";

/** A sparkline of `values` in exactly `w` cells (bucketed by mean; blanks where there is no data). */
export function sparkline(values: readonly (number | null)[], w: number, max?: number): string {
  if (w <= 0) return "";
  const nums = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (nums.length === 0) return " ".repeat(w);
  const top = max ?? Math.max(...nums);
  const lo = max === undefined ? Math.min(...nums) : 0;
  const span = top - lo || 1;
  let out = "";
  for (let i = 0; i < w; i++) {
    const a = Math.floor((i * values.length) / w);
    const b = Math.max(a + 1, Math.floor(((i + 1) * values.length) / w));
    let sum = 0;
    let n = 0;
    for (let j = a; j < b && j < values.length; j++) {
      const v = values[j];
      if (typeof v === "number" && Number.isFinite(v)) (sum += v), n++;
    }
    out += n === 0 ? " " : BLOCKS[Math.max(0, Math.min(7, Math.round(((sum / n - lo) / span) * 7)))];
  }
  return out;
}

/** Points `[epoch seconds, value]` averaged into `w` equal time buckets over [from, to] (null: no sample). */
export function timeBuckets(points: readonly (readonly [number, number | null])[], from: number, to: number, w: number): (number | null)[] {
  const sum = new Array<number>(w).fill(0);
  const n = new Array<number>(w).fill(0);
  const span = Math.max(1e-9, to - from);
  for (const [t, v] of points) {
    if (v === null || !Number.isFinite(v) || t < from || t > to) continue;
    const i = Math.min(w - 1, Math.floor(((t - from) / span) * w));
    sum[i]! += v;
    n[i]!++;
  }
  return sum.map((x, i) => (n[i] ? x / n[i]! : null));
}

/** Bytes as "1.2G". */
export function bytes(n: unknown): string {
  if (typeof n !== "number" || !Number.isFinite(n)) return "-";
  const u = ["B", "K", "M", "G", "T", "P"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < u.length - 1) (v /= 1024), i++;
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)}${u[i]}`;
}

/** A number with at most `d` decimals ("-" when not a number). */
export function num(n: unknown, d = 1): string {
  return typeof n === "number" && Number.isFinite(n) ? String(Math.round(n * 10 ** d) / 10 ** d) : "-";
}
