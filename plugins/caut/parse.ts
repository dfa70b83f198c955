/**
 * Parsers for caut (coding_agent_usage_tracker): the `caut usage --json` envelope (caut.v1,
 * camelCase; `usage.primary`/`secondary` are null when absent, `tertiary` is omitted;
 * per-provider failures are strings "<provider>: <error>" in `errors`) and the rows of its
 * history database (`usage_snapshots`). Schemas accept unknown fields; mappers are pure.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import { checkRecord, isoTime } from "vibe-cockpit";

/** An optional field: absent, null, or of a type this reader does not know all read as null. */
const opt = <T extends v.GenericSchema>(schema: T) => v.fallback(v.nullish(schema), null);
const str = opt(v.string());
const num = opt(v.number());

export const RateWindowSchema = v.looseObject({
  usedPercent: v.number(),
  windowMinutes: num,
  resetsAt: str,
  resetDescription: str,
});

export const ProviderPayloadSchema = v.looseObject({
  provider: v.pipe(v.string(), v.minLength(1)),
  account: str,
  version: str,
  source: str,
  status: opt(v.looseObject({ indicator: str, description: str, updatedAt: str, url: str })),
  usage: v.looseObject({
    primary: v.nullish(v.unknown()),
    secondary: v.nullish(v.unknown()),
    tertiary: v.nullish(v.unknown()),
    updatedAt: str,
    identity: opt(v.looseObject({ accountEmail: str, accountOrganization: str, loginMethod: str })),
  }),
  credits: opt(v.looseObject({ remaining: num, updatedAt: str })),
  authWarning: str,
});

export const ErrorDetailSchema = v.looseObject({
  provider: v.string(),
  finalError: str,
  errorCode: str,
  retryable: opt(v.boolean()),
});

/** The caut robot envelope. `data` entries are checked one by one. */
export const UsageOutputSchema = v.looseObject({
  schemaVersion: v.string(),
  generatedAt: str,
  command: str,
  data: v.array(v.unknown()),
  errors: opt(v.array(v.unknown())),
  errorDetails: opt(v.array(v.unknown())),
});

export type ProviderPayload = v.InferOutput<typeof ProviderPayloadSchema>;
export type UsageOutput = v.InferOutput<typeof UsageOutputSchema>;
type Row = Record<string, unknown>;
type Warn = (message: string) => void;

const WINDOWS = ["primary", "secondary", "tertiary"] as const;

/** The account label of a payload: `account`, else the identity's email, else "". */
export const accountOf = (p: ProviderPayload) => p.account ?? p.usage.identity?.accountEmail ?? "";

/** account_usage_snapshots rows: one per non-null window of each provider payload. */
export function usageRows(out: UsageOutput, warn: Warn): { rows: Row[]; payloads: ProviderPayload[] } {
  const rows: Row[] = [];
  const payloads: ProviderPayload[] = [];
  const seen = new Set<string>();
  const generatedAt = isoTime(out.generatedAt);
  for (const [i, raw] of out.data.entries()) {
    const p = checkRecord(ProviderPayloadSchema, raw, `caut provider #${i}`, warn);
    if (!p) continue;
    payloads.push(p);
    const account = accountOf(p);
    for (const name of WINDOWS) {
      const w = p.usage[name];
      if (w === null || w === undefined) continue;
      const win = checkRecord(RateWindowSchema, w, `caut ${p.provider}/${account || "?"} ${name} window`, warn);
      if (!win) continue;
      const key = `${p.provider}\u0000${account}\u0000${name}`;
      if (seen.has(key)) {
        warn(`caut printed ${p.provider}/${account || "?"} ${name} twice; kept the first`);
        continue;
      }
      seen.add(key);
      const used = win.usedPercent;
      rows.push({
        provider: p.provider,
        account,
        window_name: name,
        used_percent: used,
        remaining_percent: Math.max(0, 100 - used),
        window_minutes: win.windowMinutes ?? null,
        resets_at: isoTime(win.resetsAt),
        reset_description: win.resetDescription ?? null,
        credits_remaining: p.credits?.remaining ?? null,
        status: p.status?.indicator ?? null,
        status_description: p.status?.description ?? null,
        auth_warning: p.authWarning ?? null,
        account_email: p.usage.identity?.accountEmail ?? null,
        account_organization: p.usage.identity?.accountOrganization ?? null,
        login_method: p.usage.identity?.loginMethod ?? null,
        fetch_source: p.source ?? null,
        provider_version: p.version ?? null,
        updated_at: isoTime(p.usage.updatedAt),
        caut_generated_at: generatedAt,
        raw_json: raw,
      });
    }
  }
  return { rows, payloads };
}

/** "<provider>: <error>" as caut writes per-provider failures; other text keeps provider "unknown". */
export function splitError(text: string): { provider: string; message: string } {
  const m = /^([A-Za-z0-9_.-]+):\s+([\s\S]*)$/.exec(text);
  return m ? { provider: m[1]!.toLowerCase(), message: m[2]! } : { provider: "unknown", message: text };
}

/** What the collector remembers between runs: the last error/auth/status value per provider. */
export type StatusMemory = Record<string, string>;

/**
 * account_status_events rows for what changed since `before`: a provider starts failing or
 * fails differently (fetch_error), recovers (recovered), gains or loses an auth warning, or its
 * status page indicator changes (provider_status; "none" on first sight is not news).
 */
export function statusEvents(out: UsageOutput, payloads: readonly ProviderPayload[], before: StatusMemory, ts: string, warn: Warn): { events: Row[]; after: StatusMemory } {
  const after: StatusMemory = { ...before };
  const events: Row[] = [];
  const details = new Map<string, Record<string, unknown>>();
  for (const raw of out.errorDetails ?? []) {
    const r = v.safeParse(ErrorDetailSchema, raw);
    if (r.success) details.set(r.output.provider.toLowerCase(), raw as Record<string, unknown>);
  }
  const emit = (provider: string, account: string | null, type: string, message: string | null, extra: unknown, raw: unknown) => {
    const id = createHash("sha256")
      .update([ts, provider, account ?? "", type, message ?? ""].join("\u0000"))
      .digest("hex")
      .slice(0, 32);
    if (events.some((e) => e.event_id === id)) return;
    events.push({ event_id: id, ts, provider, account, event_type: type, message, details_json: extra ?? null, raw_json: raw });
  };

  const failing = new Set<string>();
  for (const [i, raw] of (out.errors ?? []).entries()) {
    if (typeof raw !== "string") {
      warn(`skipped caut errors[${i}]: not a string`);
      continue;
    }
    const { provider, message } = splitError(raw);
    failing.add(provider);
    const key = `${provider}\u0000error`;
    if (after[key] !== message) emit(provider, null, "fetch_error", message, details.get(provider) ?? null, JSON.stringify(raw)); // a JSON string literal
    after[key] = message;
  }
  for (const p of payloads) {
    const provider = p.provider.toLowerCase();
    const account = accountOf(p) || null;
    if (!failing.has(provider)) {
      const key = `${provider}\u0000error`;
      if (after[key]) emit(provider, account, "recovered", `was: ${after[key]}`, null, null);
      after[key] = "";
    }
    const authKey = `${provider}\u0000${account ?? ""}\u0000auth`;
    const auth = p.authWarning ?? "";
    if (auth && auth !== after[authKey]) emit(provider, account, "auth_warning", auth, null, { authWarning: auth });
    else if (!auth && after[authKey]) emit(provider, account, "auth_warning_cleared", `was: ${after[authKey]}`, null, null);
    after[authKey] = auth;
    if (p.status?.indicator) {
      const stKey = `${provider}\u0000status`;
      const prev = after[stKey];
      const cur = p.status.indicator;
      if (cur !== prev && !(prev === undefined && cur === "none")) {
        emit(provider, account, "provider_status", [cur, p.status.description].filter(Boolean).join(": "), { previous: prev ?? null }, p.status);
      }
      after[stKey] = cur;
    }
  }
  return { events, after };
}

const int = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? Math.trunc(x) : typeof x === "string" && /^-?\d+$/.test(x) ? Number(x) : null);
const dbl = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : null);
const text = (x: unknown) => (typeof x === "string" ? x : x === null || x === undefined ? null : String(x));

/** caut_usage_history rows from `usage_snapshots` rows (SQLite: TEXT times are RFC 3339). */
export function historyRows(rows: readonly Record<string, unknown>[], warn: Warn): Row[] {
  const out: Row[] = [];
  for (const r of rows) {
    const id = int(r.id);
    const fetchedAt = isoTime(r.fetched_at);
    if (id === null || !fetchedAt || typeof r.provider !== "string") {
      warn(`skipped caut history row ${JSON.stringify(r.id)}: no id, provider or readable fetched_at`);
      continue;
    }
    out.push({
      history_id: id,
      provider: r.provider,
      fetched_at: fetchedAt,
      fetch_source: text(r.source),
      primary_used_pct: dbl(r.primary_used_pct),
      primary_window_minutes: int(r.primary_window_minutes),
      primary_resets_at: isoTime(r.primary_resets_at),
      secondary_used_pct: dbl(r.secondary_used_pct),
      secondary_window_minutes: int(r.secondary_window_minutes),
      secondary_resets_at: isoTime(r.secondary_resets_at),
      tertiary_used_pct: dbl(r.tertiary_used_pct),
      tertiary_window_minutes: int(r.tertiary_window_minutes),
      tertiary_resets_at: isoTime(r.tertiary_resets_at),
      cost_today_usd: dbl(r.cost_today_usd),
      cost_mtd_usd: dbl(r.cost_mtd_usd),
      credits_remaining: dbl(r.credits_remaining),
      account_email: text(r.account_email),
      account_org: text(r.account_org),
      account_id: text(r.account_id),
      trigger_type: text(r.trigger_type),
      fetch_duration_ms: int(r.fetch_duration_ms),
      raw_json: r,
    });
  }
  return out;
}
