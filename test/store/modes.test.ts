import { describe, expect, it } from "bun:test";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../lib/index.ts";
import { looseModes } from "../../lib/store/_modes.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir("vc-modes-");
const mode = (p: string) => statSync(p).mode & 0o777;

describe("file modes", () => {
  it("a fresh store, its WAL and its folder are owner-only whatever the umask, and the umask comes back on close", async () => {
    const old = process.umask(0);
    try {
      const path = join(dir, "fresh", "vc.duckdb");
      const store = await openStore({ path });
      await store.run("CREATE TABLE t(x INTEGER)");
      await store.run("INSERT INTO t VALUES (1)");
      expect(existsSync(`${path}.wal`)).toBe(true);
      expect(mode(`${path}.wal`)).toBe(0o600);
      expect(mode(path)).toBe(0o600);
      expect(mode(join(dir, "fresh"))).toBe(0o700);
      // a checkpoint drops the WAL; DuckDB creates the next one afresh, owner-only too
      await store.run("CHECKPOINT");
      await store.run("INSERT INTO t VALUES (2)");
      expect(mode(`${path}.wal`)).toBe(0o600);
      await store.close();
      expect(process.umask()).toBe(0);
    } finally {
      process.umask(old);
    }
  });

  it("names vc's files others can reach, with the chmod that fixes each, and no one else's", () => {
    const data = join(dir, "data");
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    const db = join(data, "vc.duckdb");
    for (const f of [db, `${db}.wal`, join(data, "vc.alerts.jsonl"), join(data, "alerts.jsonl"), join(data, "known_hosts"), join(data, "notes.txt")])
      writeFileSync(f, "", { mode: 0o644 });
    chmodSync(join(data, "known_hosts"), 0o600);
    const loose = looseModes({ db, dataDir: data });
    expect(loose.map((l) => [l.path, l.mode, l.fix])).toEqual([
      [data, "755", `chmod 700 '${data}'`],
      [db, "644", `chmod 600 '${db}'`],
      [`${db}.wal`, "644", `chmod 600 '${db}.wal'`],
      [join(data, "alerts.jsonl"), "644", `chmod 600 '${join(data, "alerts.jsonl")}'`],
      [join(data, "vc.alerts.jsonl"), "644", `chmod 600 '${join(data, "vc.alerts.jsonl")}'`],
    ]);
    for (const l of loose) chmodSync(l.path, l.path === data ? 0o700 : 0o600);
    expect(looseModes({ db, dataDir: data })).toEqual([]);
  });
});
