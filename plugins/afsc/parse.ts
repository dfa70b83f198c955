/**
 * Parsers for afsc, the automated_flywheel_setup_checker (plan §3.13): its results files
 * `results_YYYYMMDD_HHMMSS.jsonl` (one ResultEntry per installer in struct order, then one
 * RunSummaryEntry line) and `status --format json` (`{file, results[], summary}` with every
 * object's keys alphabetical, or `{"message":"No runs recorded yet","status":"no_runs"}`).
 * Timestamps are chrono RFC 3339 in UTC (`Z`, up to nanoseconds).
 */
import * as v from "valibot";
import { issueText } from "vibe-cockpit";

const str = v.optional(v.nullable(v.string()));
const num = v.optional(v.nullable(v.number()));
const bool = v.optional(v.nullable(v.boolean()));
const int = (x: number | null | undefined) => (typeof x === "number" && Number.isFinite(x) ? Math.trunc(x) : null);
/** An RFC 3339 time (UTC `Z` from chrono), checked so a bad one is a skipped line, not a failed insert. */
const time = v.pipe(
  v.string(),
  v.check((s) => Number.isFinite(Date.parse(s)), "not a time"),
);

/** One installer's result (jsonl.rs ResultEntry). */
export const ResultEntrySchema = v.looseObject({
  timestamp: time,
  installer_name: v.pipe(v.string(), v.minLength(1)),
  status: str,
  duration_ms: num,
  exit_code: num,
  error_classification: v.optional(v.nullable(v.looseObject({ category: str, severity: str, retryable: bool, confidence: num }))),
  stderr_excerpt: str,
  retry_count: num,
  sha256_verified: bool,
});
export type ResultEntry = v.InferOutput<typeof ResultEntrySchema>;

/** The last line of a results file (jsonl.rs RunSummaryEntry). */
export const RunSummarySchema = v.looseObject({
  run_id: v.pipe(v.string(), v.minLength(1)),
  total: num,
  passed: num,
  failed: num,
  skipped: num,
  duration_total_ms: num,
  timestamp_start: v.optional(v.nullable(time)),
  timestamp_end: v.optional(v.nullable(time)),
});
export type RunSummary = v.InferOutput<typeof RunSummarySchema>;

/** `status --format json` when a run exists. */
export const StatusSchema = v.looseObject({
  file: v.string(),
  results: v.array(v.unknown()),
  summary: v.optional(v.nullable(v.unknown())),
});
const NoRunsSchema = v.looseObject({ status: v.literal("no_runs") });

/** One run as read: its file, its result lines (as received) and its summary (as received). */
export interface RunRecordIn {
  file: string;
  entries: { value: ResultEntry; raw: unknown }[];
  summary: { value: RunSummary; raw: unknown } | null;
}

/** One line of a results file: a summary (it has run_id, as afsc itself checks first) or a result. */
export function classifyLine(value: unknown): { summary: RunSummary } | { entry: ResultEntry } | { error: string } {
  const s = v.safeParse(RunSummarySchema, value);
  if (s.success) return { summary: s.output };
  const e = v.safeParse(ResultEntrySchema, value);
  if (e.success) return { entry: e.output };
  return { error: issueText(e, "(top level)") };
}

/** The lines of one results file; bad lines are reported and skipped. */
export function parseResultsFile(file: string, text: string, warn: (m: string) => void): RunRecordIn {
  const run: RunRecordIn = { file, entries: [], summary: null };
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      warn(`${base(file)} line ${i + 1}: not JSON, skipped (${(err as Error).message})`);
      continue;
    }
    const c = classifyLine(value);
    if ("summary" in c) run.summary = { value: c.summary, raw: value };
    else if ("entry" in c) run.entries.push({ value: c.entry, raw: value });
    else warn(`${base(file)} line ${i + 1}: not a result or a run summary, skipped (${c.error})`);
  }
  return run;
}

/** `status --format json`: the latest run, "no_runs", or an Error saying what it printed. */
export function parseStatus(text: string, warn: (m: string) => void): RunRecordIn | "no_runs" | Error {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return new Error(`status --format json printed no JSON (${(err as Error).message}): ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  if (v.safeParse(NoRunsSchema, json).success) return "no_runs";
  const r = v.safeParse(StatusSchema, json);
  if (!r.success) return new Error(`status --format json printed a different shape (${issueText(r, "(top level)")}): ${JSON.stringify(text.trim().slice(0, 120))}`);
  const run: RunRecordIn = { file: r.output.file, entries: [], summary: null };
  for (const [i, item] of r.output.results.entries()) {
    const e = v.safeParse(ResultEntrySchema, item);
    if (e.success) run.entries.push({ value: e.output, raw: item });
    else warn(`status results[${i}]: not a result, skipped (${issueText(e, "(top level)")})`);
  }
  if (r.output.summary !== null && r.output.summary !== undefined) {
    const s = v.safeParse(RunSummarySchema, r.output.summary);
    if (s.success) run.summary = { value: s.output, raw: r.output.summary };
    else warn(`status summary: not a run summary, ignored (${issueText(s, "(top level)")})`);
  }
  return run;
}

/** The file name without its folder. */
export const base = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** A run's identity: the summary's run_id, else the results file's name (results_YYYYMMDD_HHMMSS). */
export const runIdOf = (run: RunRecordIn) => run.summary?.value.run_id ?? base(run.file).replace(/\.jsonl$/, "");

const FAILED = new Set(["failed", "timedout"]);

/** The afsc_run_facts row of a run. */
export function runFactRow(run: RunRecordIn) {
  const s = run.summary?.value;
  const statuses = run.entries.map((e) => e.value.status ?? "");
  const failedEntries = run.entries.filter((e) => FAILED.has(e.value.status ?? ""));
  const total = int(s?.total) ?? run.entries.length;
  const failed = int(s?.failed) ?? failedEntries.length;
  const skipped = int(s?.skipped) ?? statuses.filter((x) => x === "skipped").length;
  const passed = int(s?.passed) ?? statuses.filter((x) => x === "passed").length;
  const categories = new Map<string, number>();
  for (const e of failedEntries) {
    const c = e.value.error_classification?.category;
    if (c) categories.set(c, (categories.get(c) ?? 0) + 1);
  }
  let category: string | null = null;
  for (const [c, n] of categories) if (category === null || n > categories.get(category)!) category = c;
  const start = s?.timestamp_start ? Date.parse(s.timestamp_start) : NaN;
  const end = s?.timestamp_end ? Date.parse(s.timestamp_end) : NaN;
  return {
    run_id: runIdOf(run),
    results_file: run.file,
    ts: s?.timestamp_start ?? run.entries[0]?.value.timestamp ?? null,
    ts_end: s?.timestamp_end ?? run.entries.at(-1)?.value.timestamp ?? null,
    status: failed > 0 ? "failed" : total > 0 && skipped === total ? "skipped" : "passed",
    total,
    passed,
    failed,
    skipped,
    timedout: statuses.filter((x) => x === "timedout").length,
    duration_ms: int(s?.duration_total_ms) ?? run.entries.reduce((a, e) => a + (e.value.duration_ms ?? 0), 0),
    wall_ms: Number.isFinite(start) && Number.isFinite(end) ? end - start : null,
    error_category: category,
    failed_installers_json: failedEntries.map((e) => e.value.installer_name),
    raw_json: run.summary?.raw ?? null,
  };
}

/** The afsc_event_logs rows of a run: one per installer result. */
export function eventRows(run: RunRecordIn) {
  const runId = runIdOf(run);
  return run.entries.map(({ value: e, raw }) => ({
    run_id: runId,
    installer_name: e.installer_name,
    ts: e.timestamp,
    event_type: "installer_result",
    status: e.status ?? null,
    severity: e.error_classification?.severity ?? null,
    error_category: e.error_classification?.category ?? null,
    retryable: e.error_classification?.retryable ?? null,
    confidence: e.error_classification?.confidence ?? null,
    duration_ms: int(e.duration_ms),
    exit_code: int(e.exit_code),
    retry_count: int(e.retry_count),
    sha256_verified: e.sha256_verified ?? null,
    message: e.stderr_excerpt ?? null,
    results_file: run.file,
    raw_json: raw,
  }));
}
