/**
 * Schemas and pure mappers for dcg's two event sources (test/fixtures/dcg, README there):
 * - the history database `~/.config/dcg/history.db`, table `commands` (opt-in `[history]`):
 *   timestamp `%Y-%m-%dT%H:%M:%S%.3fZ`, outcome allow|deny|warn|bypass, command + its sha256;
 * - the decision log (`[logging] enabled = true, format = "json"`, file = `[logging] file`):
 *   one JSON object a line, timestamp to the second, decision deny|warn|log|allow, optional keys
 *   omitted, never null. Deny and warn only, unless `[logging.events] allow = true`.
 * Lines in the shape of `dcg history export --format jsonl` (outcome, working_dir) read too.
 * There is no `~/.config/dcg/history.jsonl`: dcg never writes one.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";

const optStr = v.optional(v.nullable(v.string()));
const optNum = v.optional(v.nullable(v.number()));

export const HistoryRowSchema = v.looseObject({
  id: v.pipe(v.number(), v.integer()),
  timestamp: v.string(),
  outcome: v.string(),
  agent_type: optStr,
  working_dir: optStr,
  command: optStr,
  command_hash: optStr,
  pack_id: optStr,
  pattern_name: optStr,
  rule_id: optStr, // history schema v4+
  eval_duration_us: optNum,
  session_id: optStr,
  exit_code: optNum,
  hostname: optStr,
  allowlist_layer: optStr,
  bypass_code: optStr,
});
export type HistoryRow = v.InferOutput<typeof HistoryRowSchema>;

export const LogLineSchema = v.looseObject({
  timestamp: v.string(),
  decision: optStr,
  outcome: optStr, // `dcg history export` lines
  mode: optStr,
  command: optStr,
  normalized_command: optStr,
  command_hash: optStr,
  pack_id: optStr,
  pattern_name: optStr,
  rule_id: optStr,
  reason: optStr,
  elapsed_us: optNum,
  eval_duration_us: optNum,
  budget_skip: v.optional(v.nullable(v.boolean())),
  allowlist_layer: optStr,
  working_dir: optStr,
  cwd: optStr,
  severity: optStr,
  agent_type: optStr,
  session_id: optStr,
});
export type LogLine = v.InferOutput<typeof LogLineSchema>;

/** sha256 hex of a command, as dcg computes `command_hash` (over the command's UTF-8 bytes). */
export function commandHash(command: string): string {
  return createHash("sha256").update(command, "utf8").digest("hex");
}

/** A dcg_events row before its key: the store stamps machine_id and collected_at. */
export interface DcgEvent extends Record<string, unknown> {
  ts: number;
  decision: string;
  command_hash: string | null;
  origin: "history_db" | "decision_log";
}

const ruleOf = (rule: string | null | undefined, pack: string | null | undefined, pattern: string | null | undefined) => rule ?? (pack && pattern ? `${pack}:${pattern}` : null);

/** One row of the history database's `commands` table as an event (null, with the reason, when its time cannot be read). */
export function fromHistoryRow(row: HistoryRow): { event?: DcgEvent; error?: string } {
  const ts = Date.parse(row.timestamp);
  if (!Number.isFinite(ts)) return { error: `commands.id ${row.id}: timestamp ${JSON.stringify(row.timestamp)} is not a time` };
  return {
    event: {
      ts,
      decision: row.outcome.toLowerCase(),
      mode: null,
      rule_id: ruleOf(row.rule_id, row.pack_id, row.pattern_name),
      pack_id: row.pack_id ?? null,
      pattern_name: row.pattern_name ?? null,
      severity: null,
      cwd: row.working_dir ?? null,
      command_hash: row.command_hash ?? (row.command != null ? commandHash(row.command) : null),
      reason: null,
      agent_type: row.agent_type ?? null,
      session_id: row.session_id ?? null,
      allowlist_layer: row.allowlist_layer ?? null,
      eval_duration_us: row.eval_duration_us ?? null,
      budget_skip: null,
      exit_code: row.exit_code ?? null,
      hostname: row.hostname ?? null,
      history_id: row.id,
      origin: "history_db",
      raw_json: row,
    },
  };
}

/** One decision-log line as an event (null, with the reason, when it has no decision or time). */
export function fromLogLine(line: LogLine): { event?: DcgEvent; error?: string } {
  const decision = line.decision ?? line.outcome;
  if (!decision) return { error: "a line without decision" };
  const ts = Date.parse(line.timestamp);
  if (!Number.isFinite(ts)) return { error: `timestamp ${JSON.stringify(line.timestamp)} is not a time` };
  const hash = line.command_hash ? line.command_hash.replace(/^sha256:/, "") : line.command != null ? commandHash(line.command) : null;
  return {
    event: {
      ts,
      decision: decision.toLowerCase(),
      mode: line.mode ?? null,
      rule_id: ruleOf(line.rule_id, line.pack_id, line.pattern_name),
      pack_id: line.pack_id ?? null,
      pattern_name: line.pattern_name ?? null,
      severity: line.severity ?? null,
      cwd: line.cwd ?? line.working_dir ?? null,
      command_hash: hash,
      reason: line.reason ?? null,
      agent_type: line.agent_type ?? null,
      session_id: line.session_id ?? null,
      allowlist_layer: line.allowlist_layer ?? null,
      eval_duration_us: line.elapsed_us ?? line.eval_duration_us ?? null,
      budget_skip: line.budget_skip ?? null,
      exit_code: null,
      hostname: null,
      history_id: null,
      origin: "decision_log",
      raw_json: line,
    },
  };
}

/** What identifies an evaluation up to its repeats: the epoch second and the command (or rule). */
export const eventBase = (e: DcgEvent) => `${Math.floor(e.ts / 1000)}|${e.command_hash ?? `rule:${String(e.rule_id ?? "")}`}`;

/**
 * Gives each event of one source its key: sha256 of (epoch second, command_hash, n), n counting
 * the same command in the same second in that source, in file (or id) order. The decision log
 * keeps whole seconds and the history database milliseconds, so the second is what both agree
 * on: one evaluation logged by both sources gets one key. `before` holds how many events of each
 * base (`eventBase`) the source had before these (the lines ahead of the cursor), so a repeat read
 * by a later poll than its first gets n = 1, not 0 again, and the same bytes read again get the
 * same keys.
 */
export function keyEvents(events: readonly DcgEvent[], before: ReadonlyMap<string, number> = new Map()): (DcgEvent & { event_key: string })[] {
  const seen = new Map(before);
  return events.map((e) => {
    const base = eventBase(e);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return { ...e, event_key: createHash("sha256").update(`${base}|${n}`).digest("hex").slice(0, 32) };
  });
}

/** How many events of each base `events` hold. */
export function countBases(events: readonly DcgEvent[], into = new Map<string, number>()): Map<string, number> {
  for (const e of events) {
    const b = eventBase(e);
    into.set(b, (into.get(b) ?? 0) + 1);
  }
  return into;
}

/** What vc reads from dcg's config.toml: where the history database and the decision log are. */
export interface DcgConfigPaths {
  historyDatabase?: string;
  historyEnabled?: boolean;
  logFile?: string;
  logFormat?: string;
  logEnabled?: boolean;
}

/**
 * The few keys vc needs from dcg's `config.toml` (`[history] database_path`, `enabled`; `[logging]
 * file`, `format`, `enabled`), read with Bun's TOML parser: any TOML dcg reads (inline tables,
 * dotted keys, multi-line strings) reads the same here. Throws on a file that is not TOML.
 */
export function parseDcgConfig(text: string): DcgConfigPaths {
  const doc = Bun.TOML.parse(text) as Record<string, unknown>;
  const history = table(doc.history);
  const logging = table(doc.logging);
  const out: DcgConfigPaths = {};
  if (typeof history.database_path === "string") out.historyDatabase = history.database_path;
  if (typeof history.enabled === "boolean") out.historyEnabled = history.enabled;
  if (typeof logging.file === "string") out.logFile = logging.file;
  if (typeof logging.format === "string") out.logFormat = logging.format.toLowerCase();
  if (typeof logging.enabled === "boolean") out.logEnabled = logging.enabled;
  return out;
}

const table = (v: unknown): Record<string, unknown> => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
