/**
 * Parsers for `caut cost --json`: the caut.v1 envelope (command "cost") whose `data` holds one
 * CostPayload per provider — `daily[]` (CostDailyEntry: date, token counts, totalCost, modelsUsed;
 * every field but `date` omitted when unknown) and session / last-30-days sums. caut serialises
 * `sessionCostUsd` / `last30DaysCostUsd` (serde camelCase); the shared fixture, caut's README and
 * CodexBar spell them `…CostUSD`: both are read. Costs are per machine: caut scans the machine's own
 * agent logs. No project dimension: a CostPayload has none. Schemas accept unknown fields.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import { checkRecord, isoTime } from "vibe-cockpit";

/** An optional field: absent, null, or of a type this reader does not know all read as null. */
const opt = <T extends v.GenericSchema>(schema: T) => v.fallback(v.nullish(schema), null);
const num = opt(v.pipe(v.number(), v.finite()));
const str = opt(v.string());

/** A calendar day as caut prints it. Checked for a real date: the table's CHECK casts it to DATE. */
const Day = v.pipe(
  v.string(),
  v.regex(/^\d{4}-\d{2}-\d{2}$/, "a YYYY-MM-DD date"),
  v.check((s) => {
    const ms = Date.parse(`${s}T00:00:00Z`);
    return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(s);
  }, "a calendar date"),
);

export const CostDailySchema = v.looseObject({
  date: Day,
  inputTokens: num,
  outputTokens: num,
  cacheReadTokens: num,
  cacheCreationTokens: num,
  totalTokens: num,
  totalCost: num,
  modelsUsed: opt(v.array(v.string())),
});

export const CostPayloadSchema = v.looseObject({
  provider: v.pipe(v.string(), v.minLength(1)),
  source: str,
  updatedAt: str,
  sessionTokens: num,
  sessionCostUsd: num,
  sessionCostUSD: num,
  last30DaysTokens: num,
  last30DaysCostUsd: num,
  last30DaysCostUSD: num,
  /** Always printed by caut (`#[serde(default)]`); absent reads as a warning, not as no spend. */
  daily: v.optional(v.unknown()),
});

type Row = Record<string, unknown>;
type Warn = (message: string) => void;

const int = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.trunc(x));

/** What one `caut cost --json` holds: a snapshot row per provider, a row per provider and day. */
export interface CostRows {
  snapshots: Row[];
  daily: Row[];
  /** The providers whose daily[] was read. */
  read: string[];
}

/**
 * caut_cost_snapshots rows (one per provider payload) and caut_cost_daily rows (one per provider
 * and day) from the envelope's `data`. A provider printed twice keeps the first; a bad day or
 * payload is skipped with a warning.
 */
export function costRows(data: readonly unknown[], generatedAt: unknown, warn: Warn): CostRows {
  const snapshots: Row[] = [];
  const daily: Row[] = [];
  const read: string[] = [];
  const seen = new Set<string>();
  const generated = isoTime(generatedAt);
  for (const [i, raw] of data.entries()) {
    const p = checkRecord(CostPayloadSchema, raw, `caut cost provider #${i}`, warn);
    if (!p) continue;
    if (seen.has(p.provider)) {
      warn(`caut cost printed provider ${p.provider} twice; kept the first`);
      continue;
    }
    seen.add(p.provider);
    const days = Array.isArray(p.daily) ? p.daily : [];
    if (Array.isArray(p.daily)) read.push(p.provider);
    else warn(`caut cost ${p.provider}: ${p.daily === undefined ? "no daily[]" : "daily is not a list"}; its days were not read`);
    const { daily: _d, ...payload } = raw as Row;
    const dates = new Set<string>();
    for (const [j, d] of days.entries()) {
      const e = checkRecord(CostDailySchema, d, `caut cost ${p.provider} daily #${j}`, warn);
      if (!e) continue;
      if (dates.has(e.date)) {
        warn(`caut cost ${p.provider}: ${e.date} printed twice; kept the first`);
        continue;
      }
      dates.add(e.date);
      daily.push({
        provider: p.provider,
        date: e.date,
        fetch_source: p.source ?? null,
        input_tokens: int(e.inputTokens),
        output_tokens: int(e.outputTokens),
        cache_read_tokens: int(e.cacheReadTokens),
        cache_creation_tokens: int(e.cacheCreationTokens),
        total_tokens: int(e.totalTokens),
        total_cost: e.totalCost ?? null,
        models_json: e.modelsUsed ?? null,
        caut_updated_at: isoTime(p.updatedAt),
        raw_json: d,
      });
    }
    snapshots.push({
      provider: p.provider,
      fetch_source: p.source ?? null,
      updated_at: isoTime(p.updatedAt),
      session_tokens: int(p.sessionTokens),
      session_cost_usd: p.sessionCostUsd ?? p.sessionCostUSD ?? null,
      last_30_days_tokens: int(p.last30DaysTokens),
      last_30_days_cost_usd: p.last30DaysCostUsd ?? p.last30DaysCostUSD ?? null,
      day_count: dates.size,
      caut_generated_at: generated,
      raw_json: payload,
    });
  }
  return { snapshots, daily, read };
}

/** What the collector remembers between runs: a fingerprint of each (provider, day) it wrote. */
export type DayMemory = Record<string, string>;

const dayKey = (r: Row) => `${String(r.provider)}\u0000${String(r.date)}`;
const fingerprint = (r: Row) => {
  const { raw_json: _raw, caut_updated_at: _at, ...values } = r;
  return createHash("sha256").update(JSON.stringify(values)).digest("hex").slice(0, 16);
};

/**
 * The days whose numbers differ from what was last written (new days, today's growing spend), and
 * the memory to save. Days of a provider whose daily[] was read are remembered only while printed
 * (caut's 30-day window slides on); any other provider keeps its memory.
 */
export function changedDays(daily: readonly Row[], read: readonly string[], before: DayMemory): { rows: Row[]; after: DayMemory } {
  const shown = new Set(read);
  const after: DayMemory = {};
  for (const [k, f] of Object.entries(before)) if (!shown.has(k.slice(0, k.indexOf("\u0000")))) after[k] = f;
  const rows: Row[] = [];
  for (const r of daily) {
    const k = dayKey(r);
    const f = fingerprint(r);
    if (before[k] !== f) rows.push(r);
    after[k] = f;
  }
  return { rows, after };
}
