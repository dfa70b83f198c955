// Numbers, sizes and times as the dashboard shows them. Ages are counted from the daemon's clock
// (the envelope's generated_at), not the browser's: the page says what the cockpit knows.

/** A number with at most `digits` decimals, or an en dash for nothing. */
export function num(v: unknown, digits = 1): string {
  if (v === null || v === undefined || v === "") return "–";
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

/** A percentage (0–100). */
export const pct = (v: unknown, digits = 0) => (v === null || v === undefined ? "–" : `${num(v, digits)} %`);

/** Bytes in binary units. */
export function bytes(v: unknown): string {
  if (v === null || v === undefined) return "–";
  let n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/** A length of time in seconds, short: 45 s, 12 min, 3 h 20 min, 2 d 4 h. */
export function dur(seconds: unknown): string {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.abs(Math.round(Number(seconds)));
  if (!Number.isFinite(s)) return "–";
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) {
    const m = Math.round((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ""}`;
  }
  const hrs = Math.round((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)} d${hrs ? ` ${hrs} h` : ""}`;
}

/** Minutes as a length of time. */
export const mins = (m: unknown) => (m === null || m === undefined ? "–" : dur(Number(m) * 60));

/** How long before `now` the time `iso` was ("5 min ago"), or until it ("in 2 h"). */
export function ago(iso: unknown, now: string): string {
  if (typeof iso !== "string" || !iso) return "–";
  const t = Date.parse(iso);
  const n = Date.parse(now);
  if (Number.isNaN(t) || Number.isNaN(n)) return "–";
  const s = (n - t) / 1000;
  if (Math.abs(s) < 1) return "now";
  return s >= 0 ? `${dur(s)} ago` : `in ${dur(-s)}`;
}

/** A time as the person's clock shows it: date and minutes, in their time zone. */
export function when(iso: unknown): string {
  if (typeof iso !== "string" || !iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "–";
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** Severity words in order, worst first. */
export const SEVERITIES = ["critical", "high", "medium", "low", "info", "ok"] as const;

/** The rank of a severity for sorting (unknown ones last). */
export const sevRank = (s: unknown) => {
  const i = SEVERITIES.indexOf(String(s) as (typeof SEVERITIES)[number]);
  return i < 0 ? SEVERITIES.length : i;
};

/** The CSS class of a severity (a fixed word, whatever the data says). */
export const sevClass = (s: unknown) => `sev sev-${SEVERITIES[sevRank(s)] ?? "unknown"}`;

/** The class of a percentage used: ok, warn (≥ 80) or bad (≥ 95). */
export const usedClass = (p: unknown) => (typeof p !== "number" ? "" : p >= 95 ? "bad" : p >= 80 ? "warn" : "ok");

/** A section or field name as a heading: `top_processes` → "top processes". */
export const label = (k: string) => k.replace(/_json$/, "").replace(/_/g, " ");

/** The windows a chart or a list can show. */
export const WINDOWS = [
  { key: "1h", title: "1 h" },
  { key: "6h", title: "6 h" },
  { key: "24h", title: "24 h" },
  { key: "7d", title: "7 d" },
] as const;
