import { cursor, defineCollector, errorMessage, type CollectContext } from "vibe-cockpit";
import { latestOverallRows, localPart, normalizeOffset, parseArray, parseOverall, parseRaw, rawRows, toUtc, type RawRecord } from "./parse.ts";

export interface CloudBenchmarkerOptions {
  /** The server's base URL (default http://127.0.0.1:9999, its default port); `cloud_benchmarker.url` per machine. */
  url?: string;
  /**
   * The server's UTC offset (`+02:00`, `Z`), for its naive datetimes; `cloud_benchmarker.utc_offset`
   * per machine. Default: asked from the machine itself with `date -d <datetime> +%z`, for each
   * datetime, so summer and winter time are both right (else `date +%z`, else UTC with a warning).
   */
  utcOffset?: string;
  /** Run at most this often (default: every poll). */
  intervalSeconds?: number;
}

export const CLOUD_BENCHMARKER_URL = "http://127.0.0.1:9999";

// One offset line per datetime argument, in order: GNU date reads the datetime in the local zone.
const OFFSETS = `for d in "$@"; do
  o=$(date -d "$d" +%z 2>/dev/null) || o=$(date +%z 2>/dev/null) || o=""
  printf '%s\\n' "$o"
done`;

// A cursor this recent lets the server send only the last 7 days (its own filter, on its clock).
const RECENT_MS = 6 * 86_400_000;

/** Where /data/raw/ was read up to: the last (datetime, hostname) taken, and that instant in UTC. */
interface RawCursor {
  datetime: string;
  hostname: string;
  at: string;
}

function readCursor(ctx: CollectContext): RawCursor | null {
  if (ctx.cursor?.kind !== "opaque") return null;
  try {
    const c = JSON.parse(ctx.cursor.value) as RawCursor;
    return typeof c.datetime === "string" && typeof c.hostname === "string" && typeof c.at === "string" ? c : null;
  } catch {
    return null;
  }
}

const after = (r: { datetime: string; hostname: string }, c: RawCursor | null) => !c || r.datetime > c.datetime || (r.datetime === c.datetime && r.hostname > c.hostname);

async function getJson(ctx: CollectContext, url: string): Promise<unknown[]> {
  const res = await ctx.exec.httpGet(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered HTTP ${res.status}: ${JSON.stringify(res.body.trim().slice(0, 160))}`);
  if (res.truncated) throw new Error(`GET ${url}: the answer was cut at max_bytes; raise the limit for cloud_benchmarker`);
  const list = parseArray(res.body, `GET ${url}`);
  if (list instanceof Error) throw list;
  return list;
}

/** The UTC offset of each naive datetime, from the option, else from the machine's own `date`. */
async function offsets(ctx: CollectContext, configured: string | undefined, datetimes: string[]): Promise<(d: string) => string> {
  const fixed = ctx.path("utc_offset", configured ?? "");
  if (fixed) {
    const o = normalizeOffset(fixed);
    if (o) return () => o;
    ctx.warn(`utc_offset ${JSON.stringify(fixed)} is not an offset like +02:00; the machine's own is used`);
  }
  const distinct = [...new Set(datetimes.map(localPart))];
  const found = new Map<string, string>();
  if (distinct.length > 0) {
    const r = await ctx.exec.run({ script: OFFSETS, args: distinct });
    const lines = r.stdout.split("\n");
    distinct.forEach((d, i) => {
      const o = normalizeOffset(lines[i] ?? "");
      if (o) found.set(d, o);
    });
    if (found.size < distinct.length) ctx.warn(`the machine's UTC offset is unknown for ${distinct.length - found.size} datetimes (no usable date command); read as UTC`);
  }
  return (d) => found.get(localPart(d)) ?? "+00:00";
}

/**
 * cloud_benchmarker (plan §3.14): its web API's raw benchmark subscores (`GET /data/raw/`, new runs
 * since the cursor, one row per host, run and benchmark) and the latest run's overall scores
 * (`GET /data/overall/`, one row per host per collection). Where no server answers, the run is
 * skipped.
 * @example collectors: [cloudBenchmarker({ url: "http://127.0.0.1:9999" })]
 */
export function cloudBenchmarker(options: CloudBenchmarkerOptions = {}) {
  return defineCollector({
    name: "cloud_benchmarker",
    version: "1.0.0",
    schemaVersion: 1,
    description: "cloud_benchmarker web API (http://127.0.0.1:9999) GET /data/raw/ and /data/overall/: VPS benchmark subscores and overall scores",
    ...(options.intervalSeconds ? { intervalSeconds: options.intervalSeconds } : {}),
    async collect(ctx) {
      const baseUrl = ctx.path("url", options.url ?? CLOUD_BENCHMARKER_URL).replace(/\/+$/, "");
      const prev = readCursor(ctx);
      // Only a cursor in the recent past: one "ahead" of this clock says the clocks disagree.
      const age = prev ? ctx.now.getTime() - Date.parse(prev.at) : NaN;
      const recent = age >= 0 && age < RECENT_MS;
      const query = recent ? "?time_period=last_7_days" : "";

      let rawItems: unknown[];
      try {
        rawItems = await getJson(ctx, `${baseUrl}/data/raw/${query}`);
      } catch (err) {
        const m = errorMessage(err);
        if (/ECONNREFUSED|connection refused|Unable to connect/i.test(m)) return { rows: {}, skipped: `cloud_benchmarker server not found at ${baseUrl} (connection refused)` };
        throw err;
      }
      const overallItems = await getJson(ctx, `${baseUrl}/data/overall/${query}`);
      const raw = parseRaw(rawItems, ctx.warn);
      const overall = parseOverall(overallItems, ctx.warn);

      const fresh = raw.filter((r) => after(r, prev)).sort((a, b) => (a.datetime === b.datetime ? (a.hostname < b.hostname ? -1 : 1) : a.datetime < b.datetime ? -1 : 1));
      const latest = overall.reduce((a, o) => (o.datetime > a ? o.datetime : a), "");
      const offsetOf = await offsets(ctx, options.utcOffset, [...fresh.map((r) => r.datetime), ...(latest ? [latest] : [])]);
      const overallRows = latestOverallRows(overall, raw, offsetOf);

      // Within max_rows: the overall snapshot, then whole raw records in order; the rest next run.
      let budget = ctx.limits.maxRows - overallRows.length;
      const rows: ReturnType<typeof rawRows> = [];
      let last: RawRecord | null = null;
      const seen = new Set<string>();
      for (const r of fresh) {
        if (seen.has(`${r.datetime}\t${r.hostname}`)) continue;
        const mapped = rawRows(r, offsetOf(r.datetime));
        if (mapped.length > budget) {
          ctx.warn(`max_rows ${ctx.limits.maxRows} reached: raw records from ${r.datetime} (${r.hostname}) on are left for the next run`);
          break;
        }
        seen.add(`${r.datetime}\t${r.hostname}`);
        rows.push(...mapped);
        budget -= mapped.length;
        last = r;
      }
      const next: RawCursor | null = last ? { datetime: last.datetime, hostname: last.hostname, at: toUtc(last.datetime, offsetOf(last.datetime)).iso } : prev;
      return {
        rows: { cloud_bench_raw: rows, cloud_bench_overall: overallRows },
        cursor: next ? cursor.opaque(JSON.stringify(next)) : undefined,
      };
    },
  });
}

export default cloudBenchmarker;
