// Text for the terminal: untrusted strings made safe (no control or escape sequences, no
// double-width characters that would break the column arithmetic) and fitted to a width.

import { stripControl } from "../text.ts";

// Characters a terminal draws two cells wide (CJK, Hangul, full-width forms, most emoji) or zero
// cells wide (combining marks, zero-width spaces, bidi controls): replaced or dropped so that one
// character is one cell.
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\ud800-\udbff][\udc00-\udfff]/g;
const ZERO = /[\u0300-\u036f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]/g;

/** Any value from a collector as one safe line: escapes and controls gone, tabs and newlines as spaces. */
export function clean(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v, (_k, x) => (typeof x === "string" ? stripControl(x) : x)) : String(v);
  return stripControl(s.replace(/[\t\n\r]+/g, " ")).replace(ZERO, "").replace(WIDE, "?");
}

/** Cut to `w` cells (with an ellipsis when cut) and pad to exactly `w`. */
export function fit(s: string, w: number): string {
  if (w <= 0) return "";
  if (s.length > w) return w === 1 ? "…" : `${s.slice(0, w - 1)}…`;
  return s.padEnd(w);
}

/** "42s", "5m", "3h", "2d": how long ago, compactly. */
export function ago(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "never";
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
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
