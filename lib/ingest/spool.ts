// What `vc node` could not publish, kept on disk in order until the server is back: one file per
// message, named by a sequence number, written whole before it counts (a crash leaves no half
// entry). Bounded in bytes: past the bound the oldest entries go, and the loss is counted.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Cursor } from "../cursor/index.ts";

/** One message waiting: where it goes, its id, its bytes, and (on a run's last part) the cursors to save once it is acknowledged. */
export interface SpoolEntry {
  subject: string;
  id: string;
  data: string;
  /** The run's cursors, saved only when this part is acknowledged. */
  commit?: { collector: string; cursors: Record<string, Cursor>; at: string };
}

export interface Spool {
  readonly dir: string;
  /** Appends in order; drops the oldest entries past the bound (returns how many). */
  push(entries: readonly SpoolEntry[]): number;
  /** The entries waiting, oldest first, with their file names. */
  list(): { file: string; entry: SpoolEntry }[];
  remove(file: string): void;
  /** Entries and bytes waiting. */
  size(): { entries: number; bytes: number };
}

export function openSpool(dir: string, maxBytes: number): Spool {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = () =>
    readdirSync(dir)
      .filter((f) => /^\d{12}\.json$/.test(f))
      .sort();
  let seq = Number(files().at(-1)?.slice(0, 12) ?? 0);
  const size = () => {
    const list = files();
    return { entries: list.length, bytes: list.reduce((n, f) => n + statSync(join(dir, f)).size, 0) };
  };
  return {
    dir,
    push(entries) {
      for (const e of entries) {
        const name = `${String(++seq).padStart(12, "0")}.json`;
        const tmp = join(dir, `.${name}.tmp`);
        const fd = openSync(tmp, "w", 0o600);
        try {
          writeSync(fd, JSON.stringify(e));
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, join(dir, name));
      }
      let dropped = 0;
      let { bytes } = size();
      for (const f of files()) {
        if (bytes <= maxBytes) break;
        bytes -= statSync(join(dir, f)).size;
        rmSync(join(dir, f), { force: true });
        dropped++;
      }
      return dropped;
    },
    list: () => files().map((file) => ({ file, entry: JSON.parse(readFileSync(join(dir, file), "utf8")) as SpoolEntry })),
    remove: (file) => rmSync(join(dir, file), { force: true }),
    size,
  };
}
