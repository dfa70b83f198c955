import type { Cursor } from "../cursor/index.ts";
import type { Executor } from "../exec/types.ts";
import type { Plugin } from "../plugin/define.ts";
import type { MigrationsInput } from "../store/migrate.ts";

/** A machine as a collector sees it. */
export interface MachineInfo {
  id: string;
  /** "local" or an SSH target. */
  ssh: string;
  tags: readonly string[];
  roles: readonly string[];
  /** Per-machine overrides of upstream paths, keyed `<collector>.<key>`. */
  paths: Readonly<Record<string, string>>;
}

/** Bounds one run must stay within (plan §2.4). */
export interface CollectorLimits {
  timeoutMs: number;
  maxBytes: number;
  maxRows: number;
}

/** What a tool probe found on a machine. */
export interface ToolInfo {
  available: boolean;
  path: string | null;
  version: string | null;
}

/** The one object a collector receives. */
export interface CollectContext {
  machine: MachineInfo;
  exec: Executor;
  /** The cursor saved under the default key, if any. */
  cursor: Cursor | undefined;
  /** Every cursor saved for this (machine, collector), by key. */
  cursors: Readonly<Record<string, Cursor>>;
  /** The instant this run is stamped with (`collected_at`). */
  now: Date;
  /** When this collector last succeeded on this machine. */
  since: Date | undefined;
  limits: CollectorLimits;
  /** Aborted when the run's deadline passes: pass it on to exec and fetch. */
  signal: AbortSignal;
  /** Tools found on the machine (from the probe). */
  tools: Readonly<Record<string, ToolInfo>>;
  /** A warning for the run record: a skipped line, a rotated file. The run still succeeds. */
  warn(message: string): void;
  /** A path for this machine: the override `<collector>.<key>` from vc.config.ts, else `fallback`. */
  path(key: string, fallback: string): string;
}

/** What `watchPaths` is given: enough to find the files, nothing to write. */
export type WatchContext = Pick<CollectContext, "machine" | "exec" | "path" | "warn">;

/** What `follow` is given: the machine, its executor (a channel of the pooled SSH connection for a remote one), its paths, and when to give up. */
export type FollowContext = Pick<CollectContext, "machine" | "exec" | "path"> & { signal: AbortSignal; timeoutMs: number };

/** What a collector's `search` gets: the machine, its executor, its paths, and a deadline. */
export type SearchContext = Pick<CollectContext, "machine" | "exec" | "path" | "signal"> & { limit: number; timeoutMs: number };

/** One content-search hit (a matching message in an agent session, …), as a collector's `search` returns it. */
export interface SearchHit {
  title: string;
  /** The matching text around the query. */
  snippet: string;
  /** More of the matching text, when the tool gives it. */
  content?: string;
  /** When the matching message was written (ISO 8601), if known. */
  at: string | null;
  /** Where it lives: a file, with `:line` when known. */
  location?: string;
  agent?: string;
  workspace?: string;
  score?: number;
  /** A command that opens the hit in its tool. */
  command?: string;
  /** Anything else the tool said about the hit, shown as is in details. */
  extra?: Record<string, unknown>;
}

/** Rows by table; the store stamps machine_id, collected_at, source, source_version, schema_version. */
export type CollectRows = Record<string, readonly Record<string, unknown>[] | undefined>;

/** What a collector returns: rows, and the cursor(s) that commit with them. */
export interface CollectResult {
  rows: CollectRows;
  /** Saved under the default key. */
  cursor?: Cursor;
  /** Several cursors by key (one per source file, say). */
  cursors?: Record<string, Cursor>;
  warnings?: string[];
  /** Set when the collector found nothing to read here (no data file, say): the run is "skipped" with this reason. */
  skipped?: string;
}

/** A collector: plain data plus one async function (plan §3.16). */
export interface Collector {
  /** Unique, lower-case: `ntm`, `dcg`, `sysprobe`. */
  name: string;
  /** The collector's own version, stamped on rows as source_version. */
  version: string;
  /** Version of the row shapes it produces, stamped as schema_version. */
  schemaVersion: number;
  description?: string;
  /**
   * What must be on a machine for this collector to run there: commands on PATH, files under HOME
   * (a default path, or `{ key, path }` when the path can be overridden as `<collector>.<key>`).
   * Where one is missing the collector is skipped with the reason, not failed.
   */
  requires?: { commands?: readonly string[]; files?: readonly (string | { key: string; path: string })[] };
  /** The plugin's own tables: a folder of NNN_*.sql files, or their names and text. */
  migrations?: MigrationsInput;
  /** The plugin this collector belongs to: listing the collector in a config brings the plugin's views, sections and factors. */
  plugin?: Plugin;
  /** Run at most this often (default: every poll). */
  intervalSeconds?: number;
  /**
   * Local files whose changes should trigger this collector at once (`vc watch`): a tailed log, a
   * SQLite database. Paths may start with `~`.
   */
  watchPaths?: (ctx: WatchContext) => Promise<readonly string[]>;
  /**
   * Waits on a machine, up to `ctx.timeoutMs`, for its tool to say something changed (ntm's
   * blocking attention wait): "changed" has the daemon and `vc watch` run this collector on that
   * machine at once, so what happened is on the watch stream within seconds, not at the next
   * poll; "timeout" waits again. Throwing backs off and tries later.
   */
  follow?: (ctx: FollowContext) => Promise<"changed" | "timeout">;
  /** Overrides of the configured limits for this collector. */
  limits?: Partial<CollectorLimits>;
  collect(ctx: CollectContext): Promise<CollectResult>;
  /**
   * Content search on one machine through the upstream tool (cass searches agent sessions). The
   * TUI's `/` and `searchContent()` ask every collector that has one. Throws a readable error.
   */
  search?(ctx: SearchContext, query: string): Promise<SearchHit[]>;
}

/**
 * Declares a collector. An identity function: it exists so TypeScript checks the shape.
 * @example export default defineCollector({ name: "uptime", version: "1.0.0", schemaVersion: 1, async collect(ctx) { … } })
 */
export function defineCollector<const C extends Collector>(collector: C): C {
  return collector;
}
