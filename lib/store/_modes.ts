// vc's files are its owner's alone: the store and its WAL hold every collected secret-ish string
// (commands, paths, mail subjects), alerts.jsonl the same, the lock a pid. Created owner-only
// whatever the umask; `vc doctor` names any that are not.
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";

let holders = 0;
let saved = 0;

/**
 * Makes what this process creates owner-only (umask 077 added) until the returned function is
 * called. DuckDB creates the store, and its WAL afresh after every checkpoint, with the process's
 * umask, so a writable store holds this for as long as it is open. Nested holds are counted.
 */
export function holdPrivateUmask(): () => void {
  if (holders++ === 0) {
    saved = process.umask();
    process.umask(saved | 0o077);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) process.umask(saved);
  };
}

/** A file or folder of vc's that others may read or write, and the command that fixes it. */
export interface LooseMode {
  path: string;
  /** Its permission bits, as `ls -l` would show them in octal ("644"). */
  mode: string;
  fix: string;
}

/**
 * vc's own files that group or others can reach: the store, its WAL and the files vc keeps beside
 * it (`<store>.*`: lock, socket, alerts.jsonl …), the data dir and the files vc keeps there
 * (alerts.jsonl, known_hosts). The store's folder is named only when it is the data dir (it may be
 * a home or /tmp). Symlinks are not followed.
 */
export function looseModes(o: { db: string; dataDir: string }): LooseMode[] {
  const dirs = [...new Set([dirname(o.db), o.dataDir])];
  const stem = basename(o.db).replace(/\.(duckdb|db|ddb)$/i, "");
  const files = new Set<string>([o.dataDir, o.db, `${o.db}.wal`]);
  for (const d of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {}
    for (const n of names.sort()) if (n.startsWith(`${stem}.`) || n === "alerts.jsonl" || n === "known_hosts") files.add(join(d, n));
  }
  const out: LooseMode[] = [];
  for (const path of files) {
    if (!existsSync(path)) continue;
    const st = lstatSync(path);
    if (st.isSymbolicLink() || (st.mode & 0o077) === 0) continue;
    const want = st.isDirectory() ? "700" : "600";
    out.push({ path, mode: (st.mode & 0o777).toString(8), fix: `chmod ${want} '${path.replaceAll("'", `'\\''`)}'` });
  }
  return out;
}
