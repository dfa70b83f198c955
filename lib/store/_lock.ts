import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

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
