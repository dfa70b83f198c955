// Rendering rows for a person (table) or a program (csv, json).

/** One cell as text: null as empty, objects as JSON, control characters made visible. */
export function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "object" ? JSON.stringify(v) : String(v);
  return stripControl(s);
}

/** Removes terminal escape sequences and control characters from untrusted text. */
export function stripControl(s: string): string {
  return s.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-_]/g, "").replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "");
}

/** A plain text table with a header rule; columns as wide as their widest cell (capped). */
export function renderTable(columns: readonly string[], rows: readonly Record<string, unknown>[], maxWidth = 60): string {
  const text = rows.map((r) => columns.map((c) => cell(r[c]).replace(/\n/g, " ")));
  const widths = columns.map((c, i) => Math.min(maxWidth, Math.max(c.length, ...text.map((t) => t[i]!.length))));
  const fit = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
  const line = (cells: readonly string[]) => cells.map((s, i) => fit(s, widths[i]!)).join("  ").trimEnd();
  return [line(columns), widths.map((w) => "─".repeat(w)).join("  "), ...text.map(line)].join("\n");
}

/** RFC 4180 CSV. */
export function renderCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const raw = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  return [columns.map(q).join(","), ...rows.map((r) => columns.map((c) => q(raw(r[c]))).join(","))].join("\n");
}
