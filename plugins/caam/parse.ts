/**
 * Parsers for caam (coding_agent_account_manager): `caam limits --format json` (a top-level
 * array of {provider, profile_name, usage}; snake_case; `utilization` 0..1, `used_percent` an
 * int; Go `time.Duration` as nanosecond integers; times RFC 3339 with the local offset; the zero
 * time `0001-01-01T00:00:00Z` means none) and `caam status --json` ({tools[], warnings?,
 * recommendations?}). Schemas accept unknown fields and absent optional ones; mappers are pure.
 */
import * as v from "valibot";
import { checkRecord, isoTime } from "vibe-cockpit";

/** An optional field: absent, null, or of a type this reader does not know all read as null. */
const opt = <T extends v.GenericSchema>(schema: T) => v.fallback(v.nullish(schema), null);
const str = opt(v.string());
const num = opt(v.number());
const bool = opt(v.boolean());

export const UsageWindowSchema = v.looseObject({
  utilization: num,
  used_percent: num,
  resets_at: str,
  window_duration: num, // Go time.Duration: nanoseconds
});

export const UsageInfoSchema = v.looseObject({
  provider: str,
  profile_name: str,
  plan_type: str,
  rate_limit_tier: str,
  primary_window: v.nullish(v.unknown()),
  secondary_window: v.nullish(v.unknown()),
  tertiary_window: v.nullish(v.unknown()),
  model_windows: opt(v.record(v.string(), v.unknown())),
  credits: opt(v.looseObject({ has_credits: bool, unlimited: bool, balance: num })),
  fetched_at: str,
  error: str,
  burn_rate: opt(
    v.looseObject({
      tokens_per_minute: num,
      tokens_per_hour: num,
      percent_per_hour: num,
      sample_period: num, // nanoseconds
      sample_size: num,
      confidence: num,
      by_model: opt(v.record(v.string(), v.unknown())),
      total_tokens: num,
    }),
  ),
  estimated_depletion: str,
  depletion_confidence: num,
});

export const ProfileUsageSchema = v.looseObject({
  provider: v.pipe(v.string(), v.minLength(1)),
  profile_name: v.string(),
  usage: v.nullish(UsageInfoSchema), // a usage of another shape skips the entry, with a warning
});

export const StatusToolSchema = v.looseObject({
  tool: v.pipe(v.string(), v.minLength(1)),
  logged_in: bool,
  active_profile: str,
  error: str,
  health: opt(v.looseObject({ status: str, reason: str, expires_at: str, error_count: num, cooldown_remaining: str })),
  identity: opt(v.looseObject({ email: str, organization: str, plan_type: str, account_id: str, expires_at: str, provider: str })),
});

export const StatusOutputSchema = v.looseObject({
  tools: v.nullable(v.array(v.unknown())), // a Go nil slice prints null
  warnings: opt(v.array(v.unknown())),
  recommendations: opt(v.array(v.unknown())),
});

type Row = Record<string, unknown>;
type Warn = (message: string) => void;

/** Go nanoseconds as whole minutes (window lengths are whole minutes). */
const nsToMinutes = (ns: number | null | undefined) => (typeof ns === "number" && ns > 0 ? Math.round(ns / 60e9) : null);
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * account_limits_snapshot rows (one per window) and caam_profile_limits_snapshot rows (one per
 * profile, errors included) from `caam limits --format json`.
 */
export function limitsRows(list: readonly unknown[], warn: Warn): { windows: Row[]; profiles: Row[] } {
  const windows: Row[] = [];
  const profiles: Row[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of list.entries()) {
    const entry = checkRecord(ProfileUsageSchema, raw, `caam limits entry #${i}`, warn);
    if (!entry) continue;
    const { provider, profile_name: profile } = entry;
    const key = `${provider}\u0000${profile}`;
    if (seen.has(key)) {
      warn(`caam limits printed ${provider}/${profile} twice; kept the first`);
      continue;
    }
    seen.add(key);
    const u = entry.usage;
    const fetchedAt = isoTime(u?.fetched_at);
    const named: [string, unknown][] = [
      ["primary", u?.primary_window],
      ["secondary", u?.secondary_window],
      ["tertiary", u?.tertiary_window],
      ...Object.entries(u?.model_windows ?? {}).map(([model, w]): [string, unknown] => [`model:${model}`, w]),
    ];
    const mine: Row[] = [];
    for (const [name, w] of named) {
      if (w === null || w === undefined) continue;
      const win = checkRecord(UsageWindowSchema, w, `caam ${provider}/${profile} ${name} window`, warn);
      if (!win) continue;
      const util = win.utilization ?? (typeof win.used_percent === "number" ? win.used_percent / 100 : null);
      if (util === null) {
        warn(`skipped caam ${provider}/${profile} ${name} window: neither utilization nor used_percent is a number`);
        continue;
      }
      mine.push({
        provider,
        profile,
        window_name: name,
        utilization: util,
        utilization_pct: round6(util * 100),
        used_percent: typeof win.used_percent === "number" ? Math.trunc(win.used_percent) : null,
        resets_at: isoTime(win.resets_at),
        window_minutes: nsToMinutes(win.window_duration),
        plan_type: u?.plan_type ?? null,
        fetched_at: fetchedAt,
        raw_json: w,
      });
    }
    windows.push(...mine);
    const b = u?.burn_rate;
    const utils = mine.map((m) => m.utilization_pct).filter((x): x is number => typeof x === "number");
    profiles.push({
      provider,
      profile,
      plan_type: u?.plan_type ?? null,
      rate_limit_tier: u?.rate_limit_tier ?? null,
      fetched_at: fetchedAt,
      error: u?.error ?? (u ? null : "caam printed no usage for this profile"),
      window_count: mine.length,
      max_utilization_pct: utils.length ? utils.reduce((a, b) => Math.max(a, b)) : null,
      credits_has: u?.credits?.has_credits ?? null,
      credits_unlimited: u?.credits?.unlimited ?? null,
      credits_balance: u?.credits?.balance ?? null,
      burn_tokens_per_minute: b?.tokens_per_minute ?? null,
      burn_tokens_per_hour: b?.tokens_per_hour ?? null,
      burn_percent_per_hour: b?.percent_per_hour ?? null,
      burn_sample_seconds: typeof b?.sample_period === "number" ? b.sample_period / 1e9 : null,
      burn_sample_size: typeof b?.sample_size === "number" ? Math.trunc(b.sample_size) : null,
      burn_confidence: b?.confidence ?? null,
      burn_total_tokens: typeof b?.total_tokens === "number" ? Math.trunc(b.total_tokens) : null,
      burn_by_model_json: b?.by_model ?? null,
      estimated_depletion: isoTime(u?.estimated_depletion),
      depletion_confidence: u?.depletion_confidence ?? null,
      raw_json: raw,
    });
  }
  return { windows, profiles };
}

const SPACE = /\s/;

/**
 * Whether `text` names `tool` as a word: after the start, a space or a quote, before the end, a
 * slash, a space or a colon, in any case. A plain scan, no RegExp built from the tool's name (a
 * name of megabytes, or of regex syntax, is only text).
 */
export function mentions(text: string, tool: string): boolean {
  const name = tool.replace(/[^\w-]/g, "").toLowerCase();
  if (name === "" || name.length > text.length) return false;
  const hay = text.toLowerCase();
  for (let at = hay.indexOf(name); at !== -1; at = hay.indexOf(name, at + 1)) {
    const before = at === 0 ? "" : hay[at - 1]!;
    const after = at + name.length >= hay.length ? "" : hay[at + name.length]!;
    if ((before === "" || before === '"' || before === "'" || SPACE.test(before)) && (after === "" || after === "/" || after === ":" || SPACE.test(after))) return true;
  }
  return false;
}

/** Status messages that name a tool ("claude/work: …", "caam refresh claude work"). */
const about = (tool: string, list: readonly unknown[] | null | undefined) => (list ?? []).filter((s): s is string => typeof s === "string" && mentions(s, tool));

/** account_profile_snapshots rows: one per tool of `caam status --json`. */
export function statusRows(out: v.InferOutput<typeof StatusOutputSchema>, warn: Warn): Row[] {
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of (out.tools ?? []).entries()) {
    const t = checkRecord(StatusToolSchema, raw, `caam status tool #${i}`, warn);
    if (!t) continue;
    if (seen.has(t.tool)) {
      warn(`caam status printed ${t.tool} twice; kept the first`);
      continue;
    }
    seen.add(t.tool);
    const warnings = about(t.tool, out.warnings);
    const recs = about(t.tool, out.recommendations);
    rows.push({
      tool: t.tool,
      logged_in: t.logged_in ?? null,
      active_profile: t.active_profile ?? null,
      error: t.error ?? null,
      health_status: t.health?.status ?? null,
      health_reason: t.health?.reason ?? null,
      health_expires_at: isoTime(t.health?.expires_at),
      health_error_count: typeof t.health?.error_count === "number" ? Math.trunc(t.health.error_count) : null,
      cooldown_remaining: t.health?.cooldown_remaining ?? null,
      identity_email: t.identity?.email ?? null,
      identity_organization: t.identity?.organization ?? null,
      identity_plan_type: t.identity?.plan_type ?? null,
      identity_account_id: t.identity?.account_id ?? null,
      identity_expires_at: isoTime(t.identity?.expires_at),
      warnings_json: warnings.length ? warnings : null,
      recommendations_json: recs.length ? recs : null,
      raw_json: raw,
    });
  }
  return rows;
}
