// The files a store keeps beside it, named after it, and the socket its daemon serves on.
import { createHash } from "node:crypto";
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
