import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

/** A file of this store's own, beside it: `<dir>/<stem>.<name>` (`vc.duckdb` → `vc.alerts.jsonl`). Two stores never share one. */
export function storeFile(dbPath: string, name: string): string {
  const abs = resolve(dbPath);
  const stem = basename(abs).replace(/\.(duckdb|db|ddb)$/i, "");
  return join(dirname(abs), `${stem}.${name}`);
}

/** Most sockets take at most 108 bytes of path (104 on macOS), the terminating NUL included. */
const MAX_SOCKET_PATH = 103;

/**
 * Where the daemon serving this store listens: `<stem>.sock` beside the store, or — when that
 * path is too long for a Unix socket — a name derived from the store's path in a private
 * directory under $XDG_RUNTIME_DIR or the temp dir.
 */
export function socketPathFor(dbPath: string, env: Record<string, string | undefined> = process.env): string {
  const beside = storeFile(dbPath, "sock");
  if (Buffer.byteLength(beside) <= MAX_SOCKET_PATH) return beside;
  const hash = createHash("sha256").update(resolve(dbPath)).digest("hex").slice(0, 16);
  const base = env.XDG_RUNTIME_DIR || join(tmpdir(), `vc-${process.getuid?.() ?? "user"}`);
  return join(base, `vc-${hash}.sock`);
}

/** What `vc up` leaves beside the store while it holds it. */
export interface DaemonLock {
  pid: number;
  started_at: string;
  db: string;
  /** Where it serves the store's clients. */
  socket?: string;
}

export function daemonLockPath(dbPath: string): string {
  return `${dbPath}.daemon.json`;
}

/** The daemon recorded for this store, if its process is still alive. */
export function readDaemonLock(dbPath: string): DaemonLock | null {
  const file = daemonLockPath(dbPath);
  if (!existsSync(file)) return null;
  try {
    const lock = JSON.parse(readFileSync(file, "utf8")) as DaemonLock;
    return typeof lock.pid === "number" && processAlive(lock.pid) ? lock : null;
  } catch {
    return null;
  }
}

export function writeDaemonLock(dbPath: string, startedAt: Date, socket?: string): void {
  const lock: DaemonLock = { pid: process.pid, started_at: startedAt.toISOString(), db: dbPath, ...(socket ? { socket } : {}) };
  writeFileSync(daemonLockPath(dbPath), `${JSON.stringify(lock)}\n`, { mode: 0o600 });
}

export function removeDaemonLock(dbPath: string): void {
  const lock = readDaemonLock(dbPath);
  if (!lock || lock.pid === process.pid) rmSync(daemonLockPath(dbPath), { force: true });
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
