// DuckDB's memory and thread bounds (vc.config.ts `store`): applied to a real store at open (read
// back from DuckDB itself), through the config and the cockpit, refused when invalid with the field
// named; and the store hands memory back after a quiet spell (CHECKPOINT: the WAL empties).
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { openCockpit, openStore, resolveConfig, VcError, type VcConfigInput } from "../../lib/index.ts";
import { DEFAULT_STORE_LIMITS, type resolveStoreLimits } from "../../lib/store/store.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(30_000);

const dir = tempDir("vc-limits-");
let n = 0;
const dbPath = () => join(dir, `s${n++}.duckdb`);

async function settings(store: { query<T>(q: string): Promise<T[]> }) {
  const [row] = await store.query<{ memory_limit: string; threads: number }>(
    "SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads')::INTEGER AS threads",
  );
  return row!;
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<VcError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    if (err instanceof VcError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("store limits", () => {
  it("applies memory_limit and threads at open, and defaults to 128MB and one thread", async () => {
    await using bounded = await openStore({ path: dbPath(), limits: { memoryLimit: "96MiB", threads: 2 } });
    expect(await settings(bounded)).toEqual({ memory_limit: "96.0 MiB", threads: 2 });

    expect(DEFAULT_STORE_LIMITS).toMatchObject({ memoryLimit: "128MB", threads: 1 });
    await using plain = await openStore({ path: dbPath() });
    // DuckDB shows sizes in binary units: 128 MB is 122.07 MiB.
    expect(await settings(plain)).toEqual({ memory_limit: "122.0 MiB", threads: 1 });
  });

  it("applies them to a read-only open too", async () => {
    const path = dbPath();
    await (await openStore({ path })).close();
    await using ro = await openStore({ path, readOnly: true, limits: { memoryLimit: "1GiB", threads: 3 } });
    expect(await settings(ro)).toEqual({ memory_limit: "1.0 GiB", threads: 3 });
  });

  it("takes them from vc.config.ts `store` through the cockpit", async () => {
    const d = join(dir, `cfg${n++}`);
    const input: VcConfigInput = { db: join(d, "vc.duckdb"), data_dir: d, machines: [{ id: "local", ssh: "local" }], store: { memory_limit: "256MiB", threads: 2 } };
    const config = await resolveConfig(input, { source: "test", env: { HOME: d } });
    expect(config.store).toEqual({ memory_limit: "256MiB", threads: 2 });
    await using vc = await openCockpit({ config, env: { HOME: d } });
    expect(await settings(vc.store)).toEqual({ memory_limit: "256.0 MiB", threads: 2 });

    const defaults = await resolveConfig({ machines: [{ id: "local", ssh: "local" }] }, { source: "test", env: { HOME: d } });
    expect(defaults.store).toEqual({ memory_limit: "128MB", threads: 1 });
  });

  it("refuses invalid values in vc.config.ts, naming the field", async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ memory_limit: "lots" }, "store.memory_limit", /at least 32MB/],
      [{ memory_limit: "1MB" }, "store.memory_limit", /at least 32MB/],
      [{ memory_limit: 128 }, "store.memory_limit", /string/],
      [{ threads: 0 }, "store.threads", />=1/],
      [{ threads: 1.5 }, "store.threads", /integer/],
      [{ threads: 1000 }, "store.threads", /<=256/],
      [{ memory: "1GB" }, "store.memory", /never|unknown|key/i],
    ];
    for (const [store, field, expected] of cases) {
      const err = await refusal(resolveConfig({ store } as VcConfigInput, { source: "vc.config.ts", env: { HOME: dir } }));
      expect(err.code).toBe("config_invalid");
      expect(err.message).toContain(`vc.config.ts: ${field}:`);
      expect(err.message).toMatch(expected);
    }
  });

  it("refuses invalid values given to openStore, naming the field, before touching the file", async () => {
    const path = dbPath();
    const bad: [Parameters<typeof resolveStoreLimits>[0], string][] = [
      [{ memoryLimit: "a lot" }, "store.memory_limit"],
      [{ memoryLimit: "16MB" }, "store.memory_limit"],
      [{ threads: 0 }, "store.threads"],
      [{ threads: 2.5 }, "store.threads"],
      [{ releaseAfterIdleMs: -1 }, "releaseAfterIdleMs"],
    ];
    for (const [limits, field] of bad) {
      const err = await refusal(openStore({ path, limits }));
      expect(err.code).toBe("invalid_input");
      expect(err.message.startsWith(`${field}:`)).toBe(true);
    }
    expect(existsSync(path)).toBe(false);
  });

  it("checkpoints after a quiet spell, so what a cycle wrote leaves memory for the file", async () => {
    const path = dbPath();
    // 1 s of quiet: long enough that the WAL is seen before the release, even on a loaded machine.
    await using store = await openStore({ path, limits: { releaseAfterIdleMs: 1000 } });
    await store.run("CHECKPOINT");
    await store.run("CREATE TABLE t(id INTEGER PRIMARY KEY, s VARCHAR)");
    await store.transaction(async (tx) => {
      await tx.run("INSERT INTO t SELECT range, 'row ' || range FROM range(5000)");
    });
    const wal = `${path}.wal`;
    const walSize = () => (existsSync(wal) ? statSync(wal).size : 0);
    expect(walSize()).toBeGreaterThan(0); // the insert sits in the WAL (and memory) until a checkpoint
    const until = Date.now() + 10_000;
    while (walSize() > 0 && Date.now() < until) await Bun.sleep(20);
    expect(walSize()).toBe(0);
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM t")).toEqual([{ n: 5000 }]);
    expect((await settings(store)).memory_limit).toBe("122.0 MiB"); // set again to purge: unchanged
  });

  it("leaves the WAL alone when the release is off", async () => {
    const path = dbPath();
    await using store = await openStore({ path, limits: { releaseAfterIdleMs: 0 } });
    await store.run("CREATE TABLE t(id INTEGER)");
    await store.run("INSERT INTO t SELECT range FROM range(100)");
    await Bun.sleep(200);
    expect(statSync(`${path}.wal`).size).toBeGreaterThan(0);
  });

  it("names store.memory_limit when DuckDB runs out of memory", async () => {
    await using store = await openStore({ path: dbPath(), limits: { memoryLimit: "32MiB" } });
    await store.run("CREATE TABLE big(id BIGINT PRIMARY KEY, s VARCHAR)");
    const err = await refusal(store.run("INSERT INTO big SELECT range, repeat('x', 64) FROM range(3000000)"));
    expect(err.code).toBe("query_failed");
    expect(err.message).toContain("32.0 MiB used"); // DuckDB words it several ways; the numbers stay
    expect(err.hint).toBe("the store's memory_limit is 32MiB: raise store.memory_limit in vc.config.ts");
  });
});
