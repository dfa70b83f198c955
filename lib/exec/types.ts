import type { SqlQuery } from "../store/sql.ts";

/** An argv (no shell), or a POSIX sh script with positional arguments ($1 …) kept out of its text. */
export type Command = readonly string[] | { readonly script: string; readonly args?: readonly string[] };

export interface RunOptions {
  /** Kill the whole process group after this long (default 30 s). */
  timeoutMs?: number;
  /** Stop reading stdout past this many bytes, kill the process and mark the result truncated. */
  maxBytes?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Stops the command early (the scheduler's per-collector deadline). */
  signal?: AbortSignal;
  cwd?: string;
}

/** What one command did. `exitCode` is null when it was killed. */
export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  durationMs: number;
  /** stdout was cut at maxBytes. */
  truncated: boolean;
  timedOut: boolean;
  /** stdout held bytes that are not UTF-8 (they were replaced by U+FFFD). */
  invalidUtf8: boolean;
  /** Bytes of stdout read, before any cut. */
  bytes: number;
}

export interface FileStat {
  inode: number;
  size: number;
  mtime: Date;
}

export interface HttpResult {
  status: number;
  body: string;
  truncated: boolean;
}

/**
 * Where collectors run: this machine (Bun.spawn) or another (SSH). Collectors only ever talk to
 * this interface, so each works unchanged on every machine.
 */
export interface Executor {
  readonly machineId: string;
  readonly kind: "local" | "ssh";
  run(command: Command, options?: RunOptions): Promise<RunResult>;
  /** The machine's HOME. */
  home(): Promise<string>;
  /** `~` and `~/…` made absolute against the machine's HOME. */
  expand(path: string): Promise<string>;
  /** null when the file does not exist. */
  stat(path: string): Promise<FileStat | null>;
  /** Bytes [from, to) of a file. */
  readRange(path: string, from: number, to: number): Promise<Uint8Array>;
  /** A read-only query on a SQLite file; parameters come from the `sql` tag. */
  sqlite(path: string, query: SqlQuery | string, options?: { timeoutMs?: number }): Promise<Record<string, unknown>[]>;
  httpGet(url: string, options?: { timeoutMs?: number; maxBytes?: number; signal?: AbortSignal }): Promise<HttpResult>;
  /** Copies a (large) file from the machine to a local path (SFTP over SSH). */
  fetchFile(remotePath: string, localPath: string): Promise<void>;
  /** Opens (or checks) the connection without running anything; throws when the machine is unreachable. */
  connect?(): Promise<void>;
  close(): Promise<void>;
}

/** Defaults the plan sets per collector (§2.4). */
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

/** Bytes of a command's stderr kept in its result (the rest is read and dropped, up to its flood limit). */
export const STDERR_KEPT = 64 * 1024;

/** Past this many bytes a command's stderr is a flood and the command is stopped (never less than the default maxBytes: a small stdout cap says nothing of stderr). */
export function stderrLimit(maxBytes: number): number {
  return Math.max(maxBytes, DEFAULT_MAX_BYTES);
}

/** What a result's stderr says after a flood: the command was stopped for writing too much there. */
export function stderrNote(total: number, maxBytes: number): string {
  const limit = stderrLimit(maxBytes);
  return total > limit ? `\n(vc stopped the command: more than ${limit} bytes on stderr)\n` : "";
}
