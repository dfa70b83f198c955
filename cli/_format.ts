// Rendering rows for a person (table) or a program (csv, json).
import { oneLine, stripControl } from "../lib/text.ts";

// The one sanitizer of every human output (lib/text.ts): the commands take it from here.
export { oneLine, stripControl };

/** The line under an unreachable machine that says how to fix its host key, if that is the trouble. */
export function fixLine(hostKey: { fix?: string } | undefined): string {
  return hostKey?.fix ? `  to fix: ${oneLine(hostKey.fix)}\n` : "";
}

/** One cell as text: null as empty, objects as JSON, one line with escapes and controls removed. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  return oneLine(typeof v === "object" ? JSON.stringify(v) : String(v));
}

/**
 * A plain text table with a header rule; columns as wide as their widest cell, capped at
 * `maxWidth` (cut with …) only on a terminal: piped, every cell is whole.
 */
export function renderTable(columns: readonly string[], rows: readonly Record<string, unknown>[], maxWidth = 60, tty = Boolean(process.stdout.isTTY)): string {
  const cap = tty ? maxWidth : Infinity;
  const head = columns.map(oneLine); // a query's column names are its author's text
  const text = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = head.map((h, i) => Math.min(cap, Math.max(h.length, ...text.map((t) => t[i]!.length))));
  const fit = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const line = (cells: readonly string[]) =>
    cells
      .map((s, i) => fit(s, widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), widths.map((w) => "─".repeat(w)).join("  "), ...text.map(line)].join("\n");
}

/** RFC 4180 CSV. Cells keep their newlines (quoted) but lose escapes and other controls. */
export function renderCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const raw = (v: unknown) => (v === null || v === undefined ? "" : stripControl(typeof v === "object" ? JSON.stringify(v) : String(v)));
  return [columns.map((c) => q(stripControl(c))).join(","), ...rows.map((r) => columns.map((c) => q(raw(r[c]))).join(","))].join("\n");
}
