/**
 * Parsers for beads (plan §3.12): `ru list --json` (which repos), `bv --robot-triage` (the triage
 * envelope of beads_viewer), `br ready --json` (a plain JSON array of ready issues, no labels or
 * dependencies) and the lines of `.beads/issues.jsonl` (beads_rust's export: optional keys are
 * omitted, never null). Schemas accept unknown fields and absent optional ones; every mapper keeps
 * the record as received in `raw_json`.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";
import { excerptOf, issueText } from "vibe-cockpit";

const str = v.optional(v.nullable(v.string()));
const num = v.optional(v.nullable(v.number()));
const bool = v.optional(v.nullable(v.boolean()));
const int = (x: number | null | undefined) => (typeof x === "number" && Number.isFinite(x) ? Math.trunc(x) : null);
/** A time kept only when it reads as one (RFC 3339 from bv and br), so one bad value cannot fail an insert. */
const time = (s: string | null | undefined) => (s && Number.isFinite(Date.parse(s)) ? s : null);

/** A short excerpt of text (or of any value, as depth-bounded JSON) for a warning. */
export const excerpt = (s: unknown, n = 120) => excerptOf(s, n);

/** Parses JSON text, or returns an Error that says what the text was. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return new Error(`${what} is not JSON (${(err as Error).message}): ${excerpt(text)}`);
  }
}

// ── ru list --json ───────────────────────────────────────────────────────────────────────────────

const RuRepoSchema = v.looseObject({ repo: str, url: str, path: v.pipe(v.string(), v.minLength(1)) });
const RuListSchema = v.looseObject({ data: v.looseObject({ repos: v.array(v.unknown()) }) });

export interface RuRepo {
  path: string;
  url: string | null;
  name: string | null;
}

/** The repositories of `ru list --json` (`{…, data: {total, repos: [{repo, url, path}]}}`); bad entries are reported. */
export function parseRuList(value: unknown, warn: (m: string) => void): RuRepo[] | Error {
  const r = v.safeParse(RuListSchema, value);
  if (!r.success) return new Error(`ru list --json printed no data.repos array: ${excerpt(value)}`);
  const out: RuRepo[] = [];
  for (const [i, item] of r.output.data.repos.entries()) {
    const repo = v.safeParse(RuRepoSchema, item);
    if (!repo.success) {
      warn(`ru list: repos[${i}] has no path, skipped: ${excerpt(item)}`);
      continue;
    }
    out.push({ path: repo.output.path, url: repo.output.url || null, name: repo.output.repo ?? null });
  }
  return out;
}

// ── bv --robot-triage ────────────────────────────────────────────────────────────────────────────

const TopPickSchema = v.looseObject({ id: v.string(), title: str, score: num, unblocks: num });
const BreakdownSchema = v.looseObject({ pagerank: num, betweenness: num });
const RecommendationSchema = v.looseObject({ id: v.string(), breakdown: v.optional(v.nullable(BreakdownSchema)) });
const CountsSchema = v.looseObject({
  total: num,
  open: num,
  closed: num,
  blocked: num,
  actionable: num,
  not_closed: num,
  dependency_blocked: num,
  by_status: v.optional(v.nullable(v.record(v.string(), v.number()))),
  by_type: v.optional(v.nullable(v.record(v.string(), v.number()))),
  by_priority: v.optional(v.nullable(v.record(v.string(), v.number()))),
});
const ProjectHealthSchema = v.looseObject({
  counts: v.optional(v.nullable(CountsSchema)),
  graph: v.optional(v.nullable(v.looseObject({ node_count: num, edge_count: num, density: num, has_cycles: bool, phase2_ready: bool }))),
  velocity: v.optional(v.nullable(v.looseObject({ closed_last_7_days: num, closed_last_30_days: num, avg_days_to_close: num }))),
  staleness: v.optional(v.nullable(v.looseObject({ stale_count: num, stalest_issue_id: str, stalest_issue_days: num, threshold_days: num }))),
});

/** The `bv --robot-triage` envelope: generated_at, data_hash, output_format, version, triage{…}, usage_hints. */
export const TriageSchema = v.looseObject({
  generated_at: str,
  data_hash: str,
  version: str,
  triage: v.looseObject({
    meta: v.optional(v.nullable(v.looseObject({ version: str, generated_at: str, issue_count: num }))),
    quick_ref: v.optional(
      v.nullable(
        v.looseObject({
          open_count: num,
          actionable_count: num,
          blocked_count: num,
          in_progress_count: num,
          top_picks: v.optional(v.nullable(v.array(TopPickSchema))),
        }),
      ),
    ),
    recommendations: v.optional(v.nullable(v.array(RecommendationSchema))),
    quick_wins: v.optional(v.nullable(v.array(v.unknown()))),
    blockers_to_clear: v.optional(v.nullable(v.array(v.unknown()))),
    project_health: v.optional(v.nullable(ProjectHealthSchema)),
    alerts: v.optional(v.unknown()),
    commands: v.optional(v.unknown()),
  }),
});
export type Triage = v.InferOutput<typeof TriageSchema>;

/** The triage envelope, or an Error naming what is wrong with it. */
export function parseTriage(text: string): Triage | Error {
  const json = parseJson(text, "bv --robot-triage output");
  if (json instanceof Error) return json;
  const r = v.safeParse(TriageSchema, json);
  if (!r.success) return new Error(`bv --robot-triage printed a different shape (at ${issueText(r, "(top level)")}): ${excerpt(text)}`);
  return r.output;
}

// ── br ready --json ──────────────────────────────────────────────────────────────────────────────

const ReadyIssueSchema = v.looseObject({ id: v.string() });

/** `br ready --json`: a plain array of issues (keys alphabetical). Entries without an id are reported. */
export function parseReady(text: string, warn: (m: string) => void): unknown[] | Error {
  const json = parseJson(text, "br ready --json output");
  if (json instanceof Error) return json;
  if (!Array.isArray(json)) return new Error(`br ready --json printed ${excerpt(text)}, not a JSON array`);
  return json.filter((item, i) => {
    const ok = v.safeParse(ReadyIssueSchema, item).success;
    if (!ok) warn(`br ready: entry ${i} has no id, not counted: ${excerpt(item)}`);
    return ok;
  });
}

// ── the rows ─────────────────────────────────────────────────────────────────────────────────────

/** What identifies a repository on this machine. */
export interface RepoRef {
  repo_id: string;
  repo_path: string;
  repo_name: string | null;
  repo_url: string | null;
}

/**
 * One beads_triage_snapshots row from bv's triage and/or br's ready list. `ready_count` is the number
 * of ready issues: br's list when br answered (`readyComplete` false means it may be cut at br's
 * default --limit), else bv's quick_ref.actionable_count (open and not blocked).
 */
export function triageRow(repo: RepoRef, triage: Triage | null, ready: unknown[] | null) {
  const t = triage?.triage;
  const q = t?.quick_ref;
  const top = q?.top_picks?.[0];
  const readyCount = ready ? ready.length : int(q?.actionable_count);
  return {
    ...repo,
    bv_version: triage?.version ?? t?.meta?.version ?? null,
    generated_at: time(triage?.generated_at) ?? time(t?.meta?.generated_at),
    data_hash: triage?.data_hash ?? null,
    issue_count: int(t?.meta?.issue_count) ?? int(t?.project_health?.counts?.total),
    ready_count: readyCount,
    ready_source: ready ? "br" : readyCount === null ? null : "bv",
    open_count: int(q?.open_count),
    actionable_count: int(q?.actionable_count),
    blocked_count: int(q?.blocked_count),
    in_progress_count: int(q?.in_progress_count),
    top_pick_id: top?.id ?? null,
    top_pick_title: top?.title ?? null,
    top_pick_score: top?.score ?? null,
    quick_ref_json: q ?? null,
    recommendations_json: t?.recommendations ?? null,
    quick_wins_json: t?.quick_wins ?? null,
    blockers_json: t?.blockers_to_clear ?? null,
    project_health_json: t?.project_health ?? null,
    alerts_json: t?.alerts ?? null,
    commands_json: t?.commands ?? null,
    ready_json: ready,
    raw_json: triage,
  };
}

/**
 * One beads_graph_metrics row from the triage's project_health (graph size, density, cycles, counts,
 * velocity, staleness). The triage carries PageRank and betweenness only for the issues it
 * recommends (in each recommendation's score breakdown): those are kept by issue id.
 */
export function graphMetricsRow(repo: RepoRef, triage: Triage) {
  const t = triage.triage;
  const h = t.project_health;
  if (!h) return null;
  const c = h.counts;
  const pagerank: Record<string, number> = {};
  const betweenness: Record<string, number> = {};
  for (const r of t.recommendations ?? []) {
    if (typeof r.breakdown?.pagerank === "number") pagerank[r.id] = r.breakdown.pagerank;
    if (typeof r.breakdown?.betweenness === "number") betweenness[r.id] = r.breakdown.betweenness;
  }
  return {
    repo_id: repo.repo_id,
    repo_path: repo.repo_path,
    node_count: int(h.graph?.node_count),
    edge_count: int(h.graph?.edge_count),
    density: h.graph?.density ?? null,
    has_cycles: h.graph?.has_cycles ?? null,
    phase2_ready: h.graph?.phase2_ready ?? null,
    total_count: int(c?.total),
    open_count: int(c?.open),
    closed_count: int(c?.closed),
    blocked_count: int(c?.blocked),
    actionable_count: int(c?.actionable),
    in_progress_count: int(c?.by_status?.in_progress),
    not_closed_count: int(c?.not_closed),
    dependency_blocked_count: int(c?.dependency_blocked),
    closed_last_7_days: int(h.velocity?.closed_last_7_days),
    closed_last_30_days: int(h.velocity?.closed_last_30_days),
    avg_days_to_close: h.velocity?.avg_days_to_close ?? null,
    stale_count: int(h.staleness?.stale_count),
    stalest_issue_id: h.staleness?.stalest_issue_id ?? null,
    stalest_issue_days: int(h.staleness?.stalest_issue_days),
    stale_threshold_days: int(h.staleness?.threshold_days),
    by_status_json: c?.by_status ?? null,
    by_type_json: c?.by_type ?? null,
    by_priority_json: c?.by_priority ?? null,
    velocity_json: h.velocity ?? null,
    pagerank_json: Object.keys(pagerank).length ? pagerank : null,
    betweenness_json: Object.keys(betweenness).length ? betweenness : null,
    raw_json: h,
  };
}

// ── .beads/issues.jsonl ──────────────────────────────────────────────────────────────────────────

/** One line of beads_rust's issues.jsonl. Statuses: open|in_progress|blocked|deferred|closed|tombstone|pinned. */
export const IssueSchema = v.looseObject({
  id: v.pipe(v.string(), v.minLength(1)),
  title: str,
  status: str,
  priority: v.optional(v.unknown()),
  issue_type: str,
  assignee: str,
  owner: str,
  created_by: str,
  estimated_minutes: num,
  created_at: str,
  updated_at: str,
  closed_at: str,
  close_reason: str,
  deleted_at: str,
  external_ref: str,
  labels: v.optional(v.nullable(v.array(v.string()))),
  dependencies: v.optional(v.nullable(v.array(v.looseObject({ depends_on_id: str, type: str })))),
  comments: v.optional(v.nullable(v.array(v.unknown()))),
});

/**
 * One beads_issues row per version of an issue: the key is (repo_id, issue_id, content_hash), the
 * hash being the sha256 of the JSONL line, so an edited issue adds a row (a new version) while the
 * same line read again adds nothing. The latest state is the view beads_issues_latest.
 */
export function issueRow(repo: RepoRef, line: string, value: unknown): { row: Record<string, unknown> } | { error: string } {
  const r = v.safeParse(IssueSchema, value);
  if (!r.success) return { error: issueText(r, "(top level)") };
  const i = r.output;
  return {
    row: {
      repo_id: repo.repo_id,
      issue_id: i.id,
      content_hash: createHash("sha256").update(line).digest("hex").slice(0, 32),
      repo_path: repo.repo_path,
      title: i.title ?? null,
      status: i.status ?? null,
      priority: priorityOf(i.priority),
      type: i.issue_type ?? null,
      assignee: i.assignee ?? null,
      owner: i.owner ?? null,
      created_by: i.created_by ?? null,
      estimated_minutes: int(i.estimated_minutes),
      labels_json: i.labels ?? null,
      deps_json: i.dependencies ?? null,
      blocked_by_json: i.dependencies?.filter((d) => d.type === "blocks" && d.depends_on_id).map((d) => d.depends_on_id) ?? null,
      comments_count: i.comments?.length ?? 0,
      external_ref: i.external_ref ?? null,
      created_at: time(i.created_at),
      updated_at: time(i.updated_at),
      closed_at: time(i.closed_at),
      close_reason: i.close_reason ?? null,
      deleted_at: time(i.deleted_at),
      raw_json: value,
    },
  };
}

/** br's priority 0..4 (a number; "P2" or "2" from other writers is read the same). */
export function priorityOf(p: unknown): number | null {
  if (typeof p === "number") return int(p);
  const m = typeof p === "string" ? /^\s*[Pp]?(\d+)\s*$/.exec(p) : null;
  return m ? Number(m[1]) : null;
}

/**
 * Complete lines of some bytes of JSON Lines, each with its byte range (`base` = offset of the
 * bytes in the file). A last line without its newline counts only when `atEnd` says the bytes
 * reach the end of a file that is written whole (br rewrites issues.jsonl, it does not append).
 */
export function splitLines(bytes: Uint8Array, base = 0, atEnd = false): { text: string; start: number; end: number }[] {
  const out: { text: string; start: number; end: number }[] = [];
  const dec = new TextDecoder();
  let start = 0;
  while (start < bytes.length) {
    let nl = bytes.indexOf(0x0a, start);
    if (nl === -1) {
      if (!atEnd) break;
      nl = bytes.length;
    }
    out.push({ text: dec.decode(bytes.subarray(start, nl)).replace(/\r$/, ""), start: base + start, end: base + Math.min(nl + 1, bytes.length) });
    start = nl + 1;
  }
  return out;
}
