/**
 * Parsers for cass (coding_agent_session_search): `cass health --json` (initialized or not;
 * times `+00:00` RFC 3339), `cass stats --json` (totals, by_agent, top_workspaces, raw_mirror,
 * by_source with --by-source) and `cass timeline --json` (`groups` keyed `YYYY-MM-DD HH:00` UTC
 * by default, `YYYY-MM-DD` with --group-by day, or `sessions[]` with --group-by none; session
 * and range times are epoch milliseconds). Schemas accept unknown fields; mappers are pure.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import { checkRecord, excerptOf, isoFromMs, isoTime } from "vibe-cockpit";

/** An optional field: absent, null, or of a type this reader does not know all read as null. */
const opt = <T extends v.GenericSchema>(schema: T) => v.fallback(v.nullish(schema), null);
const str = opt(v.string());
const num = opt(v.number());
const bool = opt(v.boolean());

export const HealthSchema = v.looseObject({
  status: v.string(),
  healthy: bool,
  health_level: str,
  initialized: bool,
  explanation: str,
  warnings: opt(v.array(v.unknown())),
  errors: opt(v.array(v.unknown())),
  recommended_action: str,
  latency_ms: num,
  data_dir: str,
  db: opt(v.looseObject({ exists: bool, conversations: num, messages: num })),
  state: opt(
    v.looseObject({
      index: opt(
        v.looseObject({
          exists: bool,
          status: str,
          fresh: bool,
          stale: bool,
          rebuilding: bool,
          last_indexed_at: str,
          age_seconds: num,
          documents: num,
        }),
      ),
      database: opt(v.looseObject({ exists: bool, conversations: num, messages: num })),
      pending: opt(v.looseObject({ sessions: num })),
      rebuild: opt(v.looseObject({ active: bool })),
      _meta: opt(v.looseObject({ db_path: str, data_dir: str })),
    }),
  ),
});

export const StatsSchema = v.looseObject({
  conversations: v.number(),
  messages: num,
  by_agent: opt(v.array(v.unknown())),
  top_workspaces: opt(v.array(v.unknown())),
  by_source: opt(v.array(v.unknown())),
  raw_mirror: opt(v.record(v.string(), v.unknown())),
});

export const TimelineSessionSchema = v.looseObject({
  id: opt(v.union([v.number(), v.string()])),
  agent: str,
  started_at: v.number(), // epoch ms
  ended_at: num,
  message_count: num,
});

export const TimelineSchema = v.looseObject({
  range: opt(v.looseObject({ start: num, end: num })),
  total_sessions: num,
  groups: v.nullish(v.record(v.string(), v.unknown())),
  sessions: v.nullish(v.array(v.unknown())),
});

export type Health = v.InferOutput<typeof HealthSchema>;
export type Stats = v.InferOutput<typeof StatsSchema>;
export type Timeline = v.InferOutput<typeof TimelineSchema>;
type Row = Record<string, unknown>;
type Warn = (message: string) => void;

/** Epoch milliseconds as a UTC ISO string (null for an epoch no Date holds: Infinity, 1e300). */
const msTime = isoFromMs;

const int = (n: number | null | undefined) => (typeof n === "number" && Number.isFinite(n) ? Math.trunc(n) : null);

/** The cass_index_status row of one `cass health --json`. */
export function healthRow(h: Health, raw: unknown, exitCode: number | null): Row {
  const idx = h.state?.index;
  const db = h.db ?? h.state?.database;
  return {
    state: h.status,
    healthy: h.healthy ?? null,
    health_level: h.health_level ?? null,
    initialized: h.initialized ?? null,
    index_status: idx?.status ?? null,
    index_exists: idx?.exists ?? null,
    index_fresh: idx?.fresh ?? null,
    index_stale: idx?.stale ?? null,
    rebuilding: idx?.rebuilding ?? h.state?.rebuild?.active ?? null,
    last_index_at: isoTime(idx?.last_indexed_at),
    freshness_seconds: int(idx?.age_seconds),
    documents: int(idx?.documents),
    total_sessions: int(db?.conversations),
    total_messages: int(db?.messages),
    pending_sessions: int(h.state?.pending?.sessions),
    db_exists: db?.exists ?? null,
    errors_json: h.errors ?? null,
    warnings_json: h.warnings ?? null,
    explanation: h.explanation ?? null,
    recommended_action: h.recommended_action ?? null,
    latency_ms: h.latency_ms ?? null,
    data_dir: h.data_dir ?? h.state?._meta?.data_dir ?? null,
    db_path: h.state?._meta?.db_path ?? null,
    exit_code: exitCode,
    raw_json: raw,
  };
}

/** raw_mirror fields kept as metrics (sizes and counts; its *_ms times stay in raw_json). */
const RAW_MIRROR_METRICS = [
  "total_storage_bytes",
  "manifest_count",
  "manifest_bytes",
  "unique_blob_count",
  "total_blob_bytes",
  "largest_blob_bytes",
  "missing_blob_count",
  "invalid_manifest_count",
];

const dimKey = (d: Record<string, string> | null) =>
  d
    ? Object.keys(d)
        .sort()
        .map((k) => `${k}=${d[k]}`)
        .join("&")
    : "";

/**
 * cass_stats_snapshots rows (plan §5.2: metric_name, metric_value, dimensions_json):
 * conversations, messages, conversations by agent / workspace / source, messages by source,
 * raw_mirror sizes and counts.
 */
export function statsRows(s: Stats, raw: unknown, warn: Warn): Row[] {
  const rows: Row[] = [];
  const seen = new Set<string>();
  const add = (metric: string, value: unknown, dims: Record<string, string> | null, rawRow: unknown) => {
    if (typeof value !== "number" || !Number.isFinite(value)) return;
    const key = dimKey(dims);
    if (seen.has(`${metric}\u0000${key}`)) {
      warn(`cass stats lists ${metric} ${key} twice; kept the first`);
      return;
    }
    seen.add(`${metric}\u0000${key}`);
    rows.push({ metric_name: metric, dimension_key: key, metric_value: value, dimensions_json: dims, raw_json: rawRow });
  };
  add("conversations", s.conversations, null, raw);
  add("messages", s.messages, null, raw);
  const list = (items: readonly unknown[] | null | undefined, what: string, label: string, each: (o: Record<string, unknown>, dim: string, item: unknown) => void) => {
    for (const [i, item] of (items ?? []).entries()) {
      const o = item as Record<string, unknown> | null;
      const dim = o && typeof o === "object" ? o[label] : undefined;
      if (typeof dim !== "string" || dim === "") {
        warn(`skipped cass stats ${what}[${i}]: no ${label}`);
        continue;
      }
      each(o!, dim, item);
    }
  };
  list(s.by_agent, "by_agent", "agent", (o, agent, item) => add("conversations_by_agent", o.count, { agent }, item));
  list(s.top_workspaces, "top_workspaces", "workspace", (o, workspace, item) => add("conversations_by_workspace", o.count, { workspace }, item));
  list(s.by_source, "by_source", "source_id", (o, source, item) => {
    add("conversations_by_source", o.conversations, { source }, item);
    add("messages_by_source", o.messages, { source }, item);
  });
  for (const k of RAW_MIRROR_METRICS) add(`raw_mirror_${k}`, s.raw_mirror?.[k], null, s.raw_mirror);
  return rows;
}

/** A timeline group key as its bucket: `YYYY-MM-DD HH:00` (hour) or `YYYY-MM-DD` (day), UTC. */
export function bucketOf(key: string): { start: string; end: string; granularity: "hour" | "day" } | null {
  const h = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):00$/.exec(key);
  if (h) {
    const t = Date.UTC(Number(h[1]), Number(h[2]) - 1, Number(h[3]), Number(h[4]));
    const [start, end] = [isoFromMs(t), isoFromMs(t + 3_600_000)];
    return start && end ? { start, end, granularity: "hour" } : null;
  }
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (d) {
    const t = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    const [start, end] = [isoFromMs(t), isoFromMs(t + 86_400_000)];
    return start && end ? { start, end, granularity: "day" } : null;
  }
  return null;
}

/** Each bucket's counts as last written, by bucket_start: what the timeline cursor remembers. */
export type BucketMemory = Record<string, string>;

/**
 * session_timeline_buckets rows for the buckets that are new or changed since `before`
 * (a bucket's sessions hash), and the memory to keep for next time.
 */
export function timelineRows(t: Timeline, before: BucketMemory, max: number, warn: Warn): { rows: Row[]; after: BucketMemory; total: number } {
  const groups = new Map<string, { start: string; end: string; granularity: string; sessions: unknown[] }>();
  if (t.groups) {
    for (const [key, sessions] of Object.entries(t.groups)) {
      const b = bucketOf(key);
      if (!Array.isArray(sessions)) {
        warn(`skipped cass timeline group ${JSON.stringify(key.slice(0, 40))}: not a list of sessions`);
        continue;
      }
      if (!b) {
        warn(`skipped cass timeline group ${JSON.stringify(key.slice(0, 40))}: not an hour or day key`);
        continue;
      }
      const g = groups.get(b.start);
      if (g) for (const x of sessions) g.sessions.push(x);
      else groups.set(b.start, { ...b, sessions: [...sessions] });
    }
  } else if (t.sessions) {
    // --group-by none: bucket by the hour each session started (UTC), as the default does.
    for (const [i, s] of t.sessions.entries()) {
      const started = (s as { started_at?: unknown } | null)?.started_at;
      const start = typeof started === "number" ? Math.floor(started / 3_600_000) * 3_600_000 : NaN;
      const [k, end] = [isoFromMs(start), isoFromMs(start + 3_600_000)];
      if (!k || !end) {
        warn(`skipped cass timeline session #${i}: no started_at, or not a time (${excerptOf(started, 40)})`);
        continue;
      }
      const g = groups.get(k) ?? { start: k, end, granularity: "hour", sessions: [] };
      g.sessions.push(s);
      groups.set(k, g);
    }
  }
  const after: BucketMemory = {};
  const rows: Row[] = [];
  const starts = [...groups.keys()].sort();
  for (const start of starts) {
    const g = groups.get(start)!;
    const ok: v.InferOutput<typeof TimelineSessionSchema>[] = [];
    for (const s of g.sessions) {
      const session = checkRecord(TimelineSessionSchema, s, `a cass timeline session in ${start}`, warn);
      if (session) ok.push(session);
    }
    const byAgent: Record<string, number> = {};
    for (const a of ok.map((s) => s.agent ?? "unknown").sort()) byAgent[a] = (byAgent[a] ?? 0) + 1;
    const row: Row = {
      bucket_start: g.start,
      bucket_end: g.end,
      granularity: g.granularity,
      conversation_count: ok.length,
      message_count: ok.reduce((n, s) => n + (s.message_count ?? 0), 0),
      open_sessions: ok.filter((s) => s.ended_at === null || s.ended_at === undefined).length,
      by_agent_json: byAgent,
      range_start: msTime(t.range?.start),
      range_end: msTime(t.range?.end),
      raw_json: g.sessions,
    };
    const sig = createHash("sha256")
      .update(JSON.stringify([g.granularity, ok.map((s) => [s.id ?? null, s.agent ?? null, s.started_at, s.ended_at ?? null, s.message_count ?? null])]))
      .digest("hex")
      .slice(0, 16);
    if (before[start] === sig) {
      after[start] = sig;
      continue;
    }
    if (rows.length >= max) continue; // not remembered: written next run
    rows.push(row);
    after[start] = sig;
  }
  return { rows, after, total: groups.size };
}
