// Any answer as text: objects as definition lists, lists of objects as tables, the rest as plain
// strings. Used for the sections and views the dashboard has no page of its own for (a plugin's
// machine section, a plugin's view), so whatever a plugin adds is shown without new code. Field
// names say how to show a value: times relative to the daemon's clock, `_s` as a duration, `_bytes`
// in binary units, `_pct`/`_percent` as a percentage.
import { type Child, h } from "./dom.ts";
import { ago, bytes, dur, label, mins, pct, when } from "./format.ts";

const MAX_ROWS = 200;
const MAX_COLUMNS = 12;
const MAX_TEXT = 400;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const scalar = (v: unknown) => v === null || ["string", "number", "boolean"].includes(typeof v);

/** A value as one short line of text. */
export function short(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s;
}

/** A field's value as its name says to show it; `now` is the daemon's clock (times are shown relative to it). */
export function fieldValue(key: string, v: unknown, now?: string): Child {
  if (typeof v === "string" && ISO.test(v)) return h("time", { datetime: v, title: when(v) }, now ? ago(v, now) : when(v));
  if (typeof v === "number") {
    const unit = /(_s|_seconds)$/.test(key) ? dur(v) : /_bytes$/.test(key) ? bytes(v) : /(_pct|_percent)$/.test(key) ? pct(v, 1) : /_min$/.test(key) ? mins(v) : null;
    if (unit !== null) return h("span", { class: "nowrap" }, unit);
  }
  return short(v);
}

/** A list of objects as a table of its scalar fields (the first MAX_COLUMNS of them). */
export function objectTable(rows: readonly Record<string, unknown>[], now?: string, caption?: string): HTMLElement {
  const keys: string[] = [];
  for (const r of rows.slice(0, 50)) for (const [k, v] of Object.entries(r)) if (!keys.includes(k) && (scalar(v) || (Array.isArray(v) && v.every(scalar)))) keys.push(k);
  const cols = keys.filter((k) => k !== "machine_id" || rows.some((r) => r[k] !== rows[0]?.[k])).slice(0, MAX_COLUMNS);
  const shown = rows.slice(0, MAX_ROWS);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { class: "grid compact" },
      caption ? h("caption", null, caption) : null,
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          cols.map((k) => h("th", { scope: "col" }, label(k))),
        ),
      ),
      h(
        "tbody",
        null,
        shown.map((r) =>
          h(
            "tr",
            null,
            cols.map((k) =>
              h("td", { class: typeof r[k] === "number" ? "num" : null }, Array.isArray(r[k]) ? (r[k] as unknown[]).map(short).join(", ") : fieldValue(k, r[k], now)),
            ),
          ),
        ),
      ),
    ),
    rows.length > MAX_ROWS ? h("p", { class: "muted" }, `… ${rows.length - MAX_ROWS} more`) : null,
  );
}

/** Any JSON value as text and tables, `depth` levels down before falling back to one line. */
export function generic(v: unknown, depth = 3, now?: string, key = ""): Child {
  if (v === null || v === undefined) return h("span", { class: "muted" }, "–");
  if (scalar(v)) return fieldValue(key, v, now);
  if (Array.isArray(v)) {
    if (v.length === 0) return h("span", { class: "muted" }, "none");
    if (v.every(scalar)) return v.map(short).join(", ");
    // [field, value] pairs (an event's fields): a definition list.
    if (v.every((x) => Array.isArray(x) && x.length === 2 && typeof x[0] === "string")) return pairs(v as [string, unknown][], depth, now);
    if (v.every(isObject) && depth > 0) {
      const rows = v as Record<string, unknown>[];
      // Rows that hold lists or objects of their own (a machine's repos): one block each, not a table that would hide them.
      const nested = rows.some((r) => Object.values(r).some((x) => (Array.isArray(x) && x.some(isObject)) || (isObject(x) && Object.keys(x).length > 0)));
      if (!nested) return objectTable(rows, now);
      return h(
        "div",
        { class: "records" },
        rows.slice(0, MAX_ROWS).map((r) => h("div", { class: "record" }, pairs(Object.entries(r), depth - 1, now))),
        rows.length > MAX_ROWS ? h("p", { class: "muted" }, `… ${rows.length - MAX_ROWS} more`) : null,
      );
    }
    return short(v);
  }
  if (isObject(v)) {
    if (depth <= 0) return short(v);
    const entries = Object.entries(v);
    // A flat record of counts inside another (a summary): one row, not a column of lines.
    if (key && entries.length >= 4 && entries.length <= MAX_COLUMNS && entries.every(([, x]) => typeof x === "number" || x === null)) return objectTable([v], now);
    return pairs(entries, depth - 1, now);
  }
  return short(v);
}

/** Field/value pairs as a definition list. */
export function pairs(entries: readonly [string, unknown][], depth = 2, now?: string): HTMLElement {
  return h(
    "dl",
    { class: "kv" },
    entries.map(([k, val]) => [h("dt", null, label(k)), h("dd", null, generic(val, depth, now, k))]),
  );
}
