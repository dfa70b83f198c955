/**
 * Parsers for cloud_benchmarker's web API (plan §3.14): `GET /data/raw/` (one record per benchmarked
 * host and run: five sysbench subscores) and `GET /data/overall/` (one overall score per host and
 * run, 0..100 relative to the other hosts of that run). Both are JSON arrays; a bad `time_period`
 * gives `{"error":"Invalid time period"}` instead. `datetime` is a naive ISO time: the mtime of the
 * combined results file in the server's local time (Python `datetime.fromtimestamp`), so it is read
 * with the server machine's UTC offset at that date (see `toUtc`).
 */
import * as v from "valibot";
import { isoFromMs, issueText } from "vibe-cockpit";

const NAIVE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A naive datetime's calendar and clock as if UTC: NaN for one that does not exist (month 13, hour 99). */
const calendarMs = (s: string) => {
  const m = NAIVE.exec(s);
  return m ? Date.parse(`${m[1]}T${m[2]}Z`) : NaN;
};
const datetime = v.pipe(
  v.string(),
  v.regex(NAIVE, "not an ISO datetime"),
  v.check((s) => isoFromMs(calendarMs(s)) !== null, "not a date and time that exists"),
);
const RecordSchema = v.looseObject({
  id: v.optional(v.nullable(v.number())),
  datetime,
  hostname: v.pipe(v.string(), v.minLength(1)),
  IP_address: v.optional(v.nullable(v.string())),
});
const OverallSchema = v.looseObject({ ...RecordSchema.entries, overall_score: v.number() });

export type RawRecord = v.InferOutput<typeof RecordSchema> & { metrics: Record<string, number>; raw: unknown };
export type OverallRecord = v.InferOutput<typeof OverallSchema> & { raw: unknown };

/** The body of one endpoint as a JSON array, or an Error that quotes what the server said instead. */
export function parseArray(body: string, what: string): unknown[] | Error {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return new Error(`${what} answered something that is not JSON (${(err as Error).message}): ${JSON.stringify(body.trim().slice(0, 120))}`);
  }
  if (Array.isArray(json)) return json;
  if (json && typeof json === "object" && "error" in json) return new Error(`${what} answered an error: ${JSON.stringify(json).slice(0, 200)}`);
  return new Error(`${what} answered ${JSON.stringify(body.trim().slice(0, 120))}, not a JSON array`);
}

/** /data/raw/ records; every numeric field but `id` is a benchmark (new ones upstream adds are kept). */
export function parseRaw(items: unknown[], warn: (m: string) => void): RawRecord[] {
  const out: RawRecord[] = [];
  for (const [i, item] of items.entries()) {
    const r = v.safeParse(RecordSchema, item);
    if (!r.success) {
      warn(`/data/raw/ record ${i} skipped (${issueText(r, "(top level)")})`);
      continue;
    }
    const metrics: Record<string, number> = {};
    for (const [k, x] of Object.entries(r.output)) if (k !== "id" && typeof x === "number" && Number.isFinite(x)) metrics[k] = x;
    if (Object.keys(metrics).length === 0) {
      warn(`/data/raw/ record ${i} (${r.output.hostname} ${r.output.datetime}) has no benchmark values, skipped`);
      continue;
    }
    out.push({ ...r.output, metrics, raw: item });
  }
  return out;
}

/** /data/overall/ records. */
export function parseOverall(items: unknown[], warn: (m: string) => void): OverallRecord[] {
  const out: OverallRecord[] = [];
  for (const [i, item] of items.entries()) {
    const r = v.safeParse(OverallSchema, item);
    if (r.success) out.push({ ...r.output, raw: item });
    else warn(`/data/overall/ record ${i} skipped (${issueText(r, "(top level)")})`);
  }
  return out;
}

/** The calendar part of a naive datetime as `date -d` reads it ("2026-08-19 09:14:02"). */
export function localPart(datetime: string): string {
  const m = NAIVE.exec(datetime)!;
  return `${m[1]} ${m[2]}`;
}

/** `+0200`, `+02:00`, `Z`, `UTC` → `+02:00` (null when it is none of those). */
export function normalizeOffset(s: string): string | null {
  const t = s.trim();
  if (/^(Z|UTC|GMT)$/i.test(t)) return "+00:00";
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(t);
  return m ? `${m[1]}${m[2]}:${m[3]}` : null;
}

/**
 * A naive server-local datetime as an ISO instant in UTC (milliseconds kept, microseconds dropped).
 * A datetime that carries its own offset keeps it.
 */
export function toUtc(datetime: string, offset: string): { iso: string; offset: string } {
  const m = NAIVE.exec(datetime)!;
  const own = m[4] ? (normalizeOffset(m[4]) ?? offset) : offset;
  const frac = (m[3] ?? ".000").slice(0, 4).padEnd(4, "0");
  const ms = Date.parse(`${m[1]}T${m[2]}${frac}${own}`);
  // Records are checked to be real dates (see `datetime`); an offset Date cannot read counts as UTC rather than throwing.
  return { iso: isoFromMs(ms) ?? isoFromMs(calendarMs(datetime)) ?? new Date(0).toISOString(), offset: own };
}

/** Latencies are better low; throughputs high. */
export const higherIsBetter = (benchmark: string) => !/latency/i.test(benchmark);

/** The cloud_bench_raw rows of one record: one per benchmark (the plan's benchmark_type/value). */
export function rawRows(r: RawRecord, offset: string) {
  const { iso, offset: used } = toUtc(r.datetime, offset);
  return Object.entries(r.metrics).map(([benchmark, value]) => ({
    hostname: r.hostname,
    bench_datetime: r.datetime,
    benchmark_type: benchmark,
    ts: iso,
    utc_offset: used,
    ip_address: r.IP_address ?? null,
    value,
    higher_is_better: higherIsBetter(benchmark),
    upstream_id: typeof r.id === "number" ? Math.trunc(r.id) : null,
    raw_json: r.raw,
  }));
}

/** The newest run's overall scores, ranked (1 = best), each with that host's subscores of the same run. */
export function latestOverallRows(overall: OverallRecord[], raw: RawRecord[], offsetOf: (datetime: string) => string) {
  if (overall.length === 0) return [];
  const latest = overall.reduce((a, o) => (o.datetime > a ? o.datetime : a), overall[0]!.datetime);
  const seen = new Set<string>();
  const run = overall.filter((o) => o.datetime === latest && !seen.has(o.hostname) && seen.add(o.hostname));
  const ranked = [...run].sort((a, b) => b.overall_score - a.overall_score);
  return run.map((o) => {
    const { iso, offset } = toUtc(o.datetime, offsetOf(o.datetime));
    const sub = raw.find((r) => r.hostname === o.hostname && r.datetime === o.datetime);
    return {
      hostname: o.hostname,
      bench_datetime: o.datetime,
      ts: iso,
      utc_offset: offset,
      ip_address: o.IP_address ?? null,
      overall_score: o.overall_score,
      rank: ranked.findIndex((x) => x.overall_score === o.overall_score) + 1,
      hosts_in_run: run.length,
      subscores_json: sub ? sub.metrics : null,
      upstream_id: typeof o.id === "number" ? Math.trunc(o.id) : null,
      raw_json: o.raw,
    };
  });
}
