import { cursor, defineCollector, parseJsonLines, sql, validate, type CollectContext, type Cursor, type FileStat, type WatchContext } from "vibe-cockpit";
import { HistoryRowSchema, LogLineSchema, countBases, eventBase, fromHistoryRow, fromLogLine, keyEvents, parseDcgConfig, type DcgConfigPaths, type DcgEvent } from "./parse.ts";
import { dcgPlugin } from "./plugin.ts";

/** dcg's history database (`HistoryDb::default_path`; `[history] database_path` or DCG_HISTORY_DB move it). */
export const DEFAULT_HISTORY_DB = "~/.config/dcg/history.db";
/** dcg's user config, where `[logging] file` names the decision log (dcg has no default log path). */
export const DEFAULT_CONFIG = "~/.config/dcg/config.toml";

const NL = 0x0a;

async function readConfig(ctx: WatchContext, path: string): Promise<DcgConfigPaths | null> {
  try {
    const st = await ctx.exec.stat(path);
    if (!st) return null;
    const bytes = await ctx.exec.readRange(path, 0, Math.min(st.size, 1024 * 1024));
    return parseDcgConfig(new TextDecoder().decode(bytes));
  } catch (err) {
    ctx.warn(`cannot read dcg's config ${path}: ${err instanceof Error ? err.message : String(err)}; using the default paths`);
    return null;
  }
}

/** A path from dcg's config: `~/…` and absolute as they are; relative ones taken from HOME. */
const fromHome = (p: string) => (p.startsWith("/") || p.startsWith("~") ? p : `~/${p}`);

/**
 * Where the decision log is: `dcg.log` from vc.config.ts, else `[logging] file` in dcg's config when
 * its format is json. The text format is not read (it is for people); say why in `note`.
 */
function logPathOf(ctx: WatchContext, conf: DcgConfigPaths | null): { path?: string; note?: string } {
  const override = ctx.path("log", "");
  if (override) return { path: override };
  if (!conf?.logFile) return { note: "no [logging] file in dcg's config" };
  if (conf.logFormat !== "json") return { note: `dcg's decision log ${conf.logFile} is in ${conf.logFormat ?? "text"} format; set [logging] format = "json" to collect it` };
  return { path: fromHome(conf.logFile) };
}

/** Whole lines of `bytes`, at most `max` of them: the byte length they take. */
function wholeLines(bytes: Uint8Array, max: number): { end: number; lines: number } {
  let end = 0;
  let lines = 0;
  while (lines < max) {
    const nl = bytes.indexOf(NL, end);
    if (nl === -1) break;
    end = nl + 1;
    lines++;
  }
  return { end, lines };
}

interface TailPart {
  events: DcgEvent[];
  /** Where the cursor goes after this read. */
  cursor: Cursor;
  lines: number;
  /** Events of the same bases as `events` ahead of where this read began (see `keyEvents`). */
  before: Map<string, number>;
}

/** The decision events of JSON lines; `warn` (with the byte offset of `bytes`) reports the lines that are not. */
function logEvents(values: readonly unknown[], warn?: (m: string) => void): DcgEvent[] {
  const events: DcgEvent[] = [];
  for (const value of values) {
    const { value: line, error } = validate(LogLineSchema, value);
    const mapped = line ? fromLogLine(line) : { error };
    if (mapped.event) events.push(mapped.event);
    else warn?.(`a line is not a dcg decision (${mapped.error}); skipped`);
  }
  return events;
}

const second = (e: DcgEvent) => Math.floor(e.ts / 1000);

/**
 * How many events of the bases of `events` come before them in their source, read backwards
 * (`chunk(span)` gives the `span` events just ahead, and whether that reached the source's start)
 * until an event older than the earliest second of `events`: a repeat of a command in one second
 * gets the same n whether one poll or two read its lines.
 */
async function countBefore(
  events: readonly DcgEvent[],
  chunk: (span: number) => Promise<{ events: DcgEvent[]; whole: boolean }>,
  spans: readonly number[],
): Promise<Map<string, number>> {
  if (events.length === 0) return new Map();
  const first = Math.min(...events.map(second));
  const bases = new Set(events.map((e) => eventBase(e)));
  let ahead: DcgEvent[] = [];
  for (const span of spans) {
    const r = await chunk(span);
    ahead = r.events;
    if (r.whole || (ahead.length > 0 && second(ahead[0]!) < first)) break;
  }
  return countBases(ahead.filter((e) => bases.has(eventBase(e))));
}

/** Events of the log's whole lines in the `span` bytes before `from` (skipping a partial first line). */
function logChunk(ctx: CollectContext, path: string, from: number) {
  return async (span: number) => {
    const start = Math.max(0, from - Math.min(span, ctx.limits.maxBytes));
    const bytes = await ctx.exec.readRange(path, start, from);
    const skip = start === 0 ? 0 : bytes.indexOf(NL) + 1;
    return { events: logEvents(parseJsonLines(bytes.subarray(skip)).values), whole: start === 0 };
  };
}
const LOG_SPANS = [16 << 10, 256 << 10, 4 << 20];

/**
 * Reads whole JSON lines of one file from `from`, at most `budget` lines and maxBytes bytes.
 * `inode` is the file's identity, kept in the cursor.
 */
async function readLines(ctx: CollectContext, path: string, cursorPath: string, inode: number, from: number, size: number, budget: number): Promise<TailPart> {
  if (from >= size || budget <= 0) return { events: [], cursor: cursor.fileOffset(cursorPath, inode, from), lines: 0, before: new Map() };
  const to = Math.min(size, from + ctx.limits.maxBytes);
  const bytes = await ctx.exec.readRange(path, from, to);
  const { end, lines } = wholeLines(bytes, budget);
  if (end === 0 && to < size) {
    // One line longer than max_bytes: skip it rather than stall on it for ever.
    ctx.warn(`${path}: a line at byte ${from} is longer than ${ctx.limits.maxBytes} bytes; skipped`);
    const next = bytes.length;
    return { events: [], cursor: cursor.fileOffset(cursorPath, inode, from + next), lines: 0, before: new Map() };
  }
  const { values, bad } = parseJsonLines(bytes.subarray(0, end));
  for (const b of bad) ctx.warn(`${path}: line at byte ${from + b.offset} is not JSON (${b.error}); skipped`);
  const events = logEvents(values, (m) => ctx.warn(`${path}: ${m}`));
  const before = from > 0 ? await countBefore(events, logChunk(ctx, path, from), LOG_SPANS) : new Map<string, number>();
  return { events, cursor: cursor.fileOffset(cursorPath, inode, from + end), lines, before };
}

/**
 * Tails the decision log with an inode + offset cursor. When the file was rotated (a new inode),
 * the rest of the old file is read first from `<path>.1` when that is the old inode; when it was
 * truncated in place (smaller size), a `<path>.1` copy (copytruncate) is read from the old offset
 * when it holds a line boundary there. Then the new file from 0. Anything read twice is harmless:
 * event keys dedupe.
 */
async function tailLog(ctx: CollectContext, path: string, st: FileStat, budget: number): Promise<{ events: DcgEvent[]; cursor: Cursor; before: Map<string, number> }> {
  const prev = ctx.cursors.log?.kind === "file_offset" ? ctx.cursors.log : undefined;
  if (prev && prev.path === path && prev.inode === st.inode && prev.offset <= st.size) {
    const part = await readLines(ctx, path, path, st.inode, prev.offset, st.size, budget);
    return part;
  }
  const events: DcgEvent[] = [];
  // Only a read of the old file from where it stopped has lines ahead of it; the new file starts at 0.
  let before = new Map<string, number>();
  if (prev && prev.path === path) {
    const rotated = `${path}.1`;
    const old = await ctx.exec.stat(rotated);
    if (prev.inode !== st.inode) {
      ctx.warn(`${path} was rotated (inode ${prev.inode} → ${st.inode}); reading the new file from the start`);
      if (old && old.inode === prev.inode && old.size > prev.offset) {
        // The old file, renamed: finish it. The cursor keeps its inode until it is done.
        const part = await readLines(ctx, rotated, path, prev.inode, prev.offset, old.size, budget);
        events.push(...part.events);
        before = part.before;
        budget -= part.lines;
        if (part.cursor.kind === "file_offset" && part.cursor.offset < old.size) return { events, cursor: part.cursor, before };
      }
    } else {
      ctx.warn(`${path} shrank from ${prev.offset} to ${st.size} bytes (truncated); reading it from the start`);
      if (old && old.inode !== st.inode && old.size > prev.offset && (prev.offset === 0 || (await ctx.exec.readRange(rotated, prev.offset - 1, prev.offset))[0] === NL)) {
        // A copy made before the truncation (copytruncate): what was written after the last read is there.
        const part = await readLines(ctx, rotated, rotated, old.inode, prev.offset, old.size, budget);
        events.push(...part.events);
        before = part.before;
        budget -= part.lines;
      }
    }
  } else if (prev) {
    ctx.warn(`dcg's decision log moved from ${prev.path} to ${path}; reading it from the start`);
  }
  const part = await readLines(ctx, path, path, st.inode, 0, st.size, budget);
  events.push(...part.events);
  return { events, cursor: part.cursor, before };
}

/** The events of history rows; `warn` reports the rows that are not. */
function historyEvents(rows: readonly Record<string, unknown>[], warn?: (m: string) => void): DcgEvent[] {
  const events: DcgEvent[] = [];
  for (const raw of rows) {
    const { value, error } = validate(HistoryRowSchema, raw);
    const mapped = value ? fromHistoryRow(value) : { error: `commands row ${String((raw as { id?: unknown }).id)}: ${error}` };
    if (mapped.event) events.push(mapped.event);
    else warn?.(mapped.error!);
  }
  return events;
}

/** Events of the `span` history rows with ids up to `after`. */
function historyChunk(ctx: CollectContext, path: string, after: number) {
  return async (span: number) => {
    const rows = await ctx.exec.sqlite(path, sql`SELECT * FROM commands WHERE id <= ${after} AND id > ${after - span} ORDER BY id`);
    return { events: historyEvents(rows), whole: after - span <= 0 };
  };
}
const HISTORY_SPANS = [64, 1024, 16384];

/** Whether the history database has dcg's `commands` table: dcg creates it with the first entry it records. */
async function hasCommands(ctx: CollectContext, path: string): Promise<boolean> {
  return (await ctx.exec.sqlite(path, sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'commands'`)).length > 0;
}

async function readHistory(ctx: CollectContext, path: string, budget: number): Promise<{ events: DcgEvent[]; cursor?: Cursor; before?: Map<string, number> }> {
  let after = ctx.cursors.history?.kind === "pk" ? ctx.cursors.history.id : 0;
  const [max] = await ctx.exec.sqlite(path, sql`SELECT coalesce(max(id), 0) AS max FROM commands`);
  if (after > Number(max?.max ?? 0)) {
    ctx.warn(`${path}: commands end at id ${max?.max} but vc had read up to ${after}: the history was re-created, reading it from the start`);
    after = 0;
  }
  if (budget <= 0) return { events: [], cursor: cursor.pk(after) };
  const rows = await ctx.exec.sqlite(path, sql`SELECT * FROM commands WHERE id > ${after} ORDER BY id LIMIT ${budget}`);
  const events = historyEvents(rows, (m) => ctx.warn(`${path}: ${m}; skipped`));
  const before = after > 0 ? await countBefore(events, historyChunk(ctx, path, after), HISTORY_SPANS) : undefined;
  for (const raw of rows) {
    const id = Number((raw as { id?: unknown }).id);
    if (Number.isSafeInteger(id) && id > after) after = id;
  }
  return { events, cursor: cursor.pk(after), before };
}

/**
 * dcg (plan §3.9): allow/deny/warn decisions into dcg_events, from whichever of dcg's two sources a
 * machine has — the history database (opt-in `[history] enabled = true`; primary-key cursor
 * `history`) and the JSON decision log (`[logging] enabled = true, format = "json"`; inode + offset
 * cursor `log`) — both when both exist. An evaluation both sources recorded is stored once (see
 * `keyEvents`); the history database is read first, so its richer row (cwd, agent, exact time) wins.
 * Skipped, with the reason, where neither has anything to read: no history database (or one without
 * dcg's commands table) and no decision log named by a config or found where it names.
 * Paths: `dcg.history_db` (default ~/.config/dcg/history.db, or `[history] database_path`),
 * `dcg.log` (default: `[logging] file` of dcg's config), `dcg.config` (~/.config/dcg/config.toml).
 * @example collectors: [dcg()]   // paths: { "dcg.log": "~/.local/share/dcg/decisions.jsonl" }
 */
export function dcg() {
  return defineCollector({
    name: "dcg",
    plugin: dcgPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "dcg decisions from its history database (~/.config/dcg/history.db) and the JSON decision log its ~/.config/dcg/config.toml names",
    // `vc watch` collects dcg as soon as its history database or decision log changes.
    async watchPaths(ctx) {
      const conf = await readConfig(ctx, ctx.path("config", DEFAULT_CONFIG));
      const log = logPathOf(ctx, conf);
      return [ctx.path("history_db", conf?.historyDatabase ? fromHome(conf.historyDatabase) : DEFAULT_HISTORY_DB), ...(log.path ? [log.path] : [])];
    },
    async collect(ctx) {
      const conf = await readConfig(ctx, ctx.path("config", DEFAULT_CONFIG));
      const historyPath = ctx.path("history_db", conf?.historyDatabase ? fromHome(conf.historyDatabase) : DEFAULT_HISTORY_DB);
      const log = logPathOf(ctx, conf);
      const historyStat = await ctx.exec.stat(historyPath);
      const logStat = log.path ? await ctx.exec.stat(log.path) : null;
      // A history file without dcg's table (created empty, or by something else) has nothing to read.
      const noTable = historyStat && !(await hasCommands(ctx, historyPath)) ? `${historyPath} has no commands table (dcg has not written history there yet)` : null;
      if ((!historyStat || noTable) && !logStat) {
        const logWhy = log.path ? `no decision log at ${log.path}` : (log.note ?? "no decision log");
        return { rows: {}, skipped: `${noTable ?? `${historyPath} not found on ${ctx.machine.id}`}, and ${logWhy}` };
      }
      if (noTable) ctx.warn(noTable);

      let budget = ctx.limits.maxRows;
      const cursors: Record<string, Cursor> = {};
      let fromHistory: DcgEvent[] = [];
      let fromLog: DcgEvent[] = [];
      let historyBefore: Map<string, number> | undefined;
      let logBefore: Map<string, number> | undefined;
      if (historyStat && !noTable) {
        const h = await readHistory(ctx, historyPath, budget);
        fromHistory = h.events;
        historyBefore = h.before;
        if (h.cursor) cursors.history = h.cursor;
        budget -= h.events.length;
      }
      if (logStat && log.path) {
        const t = await tailLog(ctx, log.path, logStat, budget);
        fromLog = t.events;
        logBefore = t.before;
        cursors.log = t.cursor;
      }
      // Keys per source (the n-th same command in one second counts within its own source, across
      // polls), then one row per key, the history database's first.
      const rows = new Map<string, Record<string, unknown>>();
      for (const e of [...keyEvents(fromHistory, historyBefore), ...keyEvents(fromLog, logBefore)]) if (!rows.has(e.event_key)) rows.set(e.event_key, e);
      return { rows: { dcg_events: [...rows.values()] }, cursors };
    },
  });
}

export default dcg;
