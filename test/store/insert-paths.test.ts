// A batch reaches DuckDB one of two ways (store.ts insertOn): a small one as one list parameter per
// column (no stage table: a poll cycle's few rows per table cost no temp table's memory), a large one
// through a temp stage table and the appender. The same rows must land the same either way. And the
// store's release after a quiet spell evicts the blocks it cached, while reads keep answering.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { openStore } from "../../lib/index.ts";
import { statementTrace } from "../../lib/store/store.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(30_000);

const dir = tempDir("vc-insert-paths-");
let n = 0;
const dbPath = () => join(dir, `s${n++}.duckdb`);

const COLUMNS = `id INTEGER, k VARCHAR, ts TIMESTAMP, tstz TIMESTAMPTZ, big BIGINT, ub UBIGINT, small SMALLINT, f FLOAT, d DOUBLE,
  b BOOLEAN, j JSON, tags VARCHAR[], PRIMARY KEY (id, k)`;

/** Rows with every kind of value a column plan handles: nulls, non-ASCII and long text, JSON, BIGINTs past 2^53, several time forms. */
function rows(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i,
    k: i % 3 === 0 ? `ключ-${i}` : i % 3 === 1 ? `k${i}` : `a long key that is well over twelve bytes, number ${i} ✓`,
    ts:
      i % 4 === 0
        ? null
        : i % 4 === 1
          ? new Date(Date.UTC(2026, 0, 1) + i * 60_000)
          : i % 4 === 2
            ? `2026-01-02T03:04:${String(i % 60).padStart(2, "0")}.123Z`
            : Date.UTC(2026, 1, 1) + i,
    tstz: i % 5 === 0 ? null : new Date(Date.UTC(2026, 2, 1) + i * 1000),
    big: i % 6 === 0 ? null : i % 6 === 1 ? 2n ** 60n + BigInt(i) : -i * 1000,
    ub: i % 7 === 0 ? null : BigInt(i) * 10n ** 15n,
    small: i % 8 === 0 ? null : (i % 60000) - 30000,
    f: i % 9 === 0 ? null : i / 8,
    d: i % 10 === 0 ? null : i * Math.PI,
    b: i % 11 === 0 ? null : i % 2 === 0,
    j: i % 12 === 0 ? null : { i, nested: { list: [i, "x", null] }, text: 'é\n"q"' },
    tags: i % 13 === 0 ? null : [`t${i % 5}`, "ü"],
  }));
}

const all = (store: { query<T>(q: string): Promise<T[]> }, table: string) => store.query(`SELECT *, typeof(big) AS big_type FROM ${table} ORDER BY id, k`);

describe("insert paths", () => {
  it("lands the same rows through list parameters (small batches) as through the stage table (large ones)", async () => {
    await using store = await openStore({ path: dbPath() });
    await store.run(`CREATE TABLE small_batches(${COLUMNS})`);
    await store.run(`CREATE TABLE one_batch(${COLUMNS})`);
    const data = rows(1500); // 1500 × 12 values: over the list parameters' bound, so the stage table takes it whole
    statementTrace.counts.clear();
    statementTrace.on = true;
    try {
      let added = 0;
      for (let i = 0; i < data.length; i += 40) added += await store.insert("small_batches", data.slice(i, i + 40));
      expect(added).toBe(1500);
      expect(await store.insert("one_batch", data)).toBe(1500);
    } finally {
      statementTrace.on = false;
    }
    const a = await all(store, "small_batches");
    expect(a).toHaveLength(1500);
    expect(await all(store, "one_batch")).toEqual(a);
    expect(a[1]).toMatchObject({ id: 1, big: "1152921504606846977", ts: "2026-01-01T00:01:00.000Z", j: '{"i":1,"nested":{"list":[1,"x",null]},"text":"é\\n\\"q\\""}' });
    // Only the large batch made a stage table (temp tables are the writer connection's own).
    const temp = await store.transaction((tx) => tx.query<{ name: string }>("SELECT table_name AS name FROM duckdb_tables() WHERE temporary ORDER BY 1"));
    expect(temp.map((t) => t.name)).toEqual(["_stage_x_one_batch"]);
  });

  it("adds nothing for rows already present, and counts what it added by owner, on both paths", async () => {
    await using store = await openStore({ path: dbPath() });
    await store.run(`CREATE TABLE t(${COLUMNS})`);
    const data = rows(1500);
    expect(await store.insert("t", data.slice(0, 10))).toBe(10);
    expect(await store.insert("t", data.slice(0, 10))).toBe(0);
    // the large path: 10 present, 1490 new, counted by b (true, false, null)
    const counts = await store.insertCounted("t", data, ["b"]);
    const expected = new Map<string, number>();
    for (const r of data.slice(10)) expected.set(r.b === null ? "" : String(r.b), (expected.get(r.b === null ? "" : String(r.b)) ?? 0) + 1);
    expect(counts).toEqual(expected);
    // the small path, counted by k
    expect(await store.insertCounted("t", data.slice(0, 20), ["k"])).toEqual(new Map());
    const more: Record<string, unknown>[] = data.slice(0, 3).map((r) => ({ ...r, id: Number(r.id) + 10_000 }));
    expect(await store.insertCounted("t", more, ["k"])).toEqual(new Map(more.map((r) => [String(r.k), 1])));
  });

  it("names the table, column and row of a bad value on both paths, and writes nothing of the batch", async () => {
    await using store = await openStore({ path: dbPath() });
    await store.run(`CREATE TABLE t(${COLUMNS})`);
    for (const size of [5, 1500]) {
      const data = rows(size);
      data[3] = { ...data[3], small: 70_000 };
      const err = await store.insert("t", data).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toBe("table t, column small: 70000 is not a SMALLINT (row 4)");
    }
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM t")).toEqual([{ n: 0 }]);
  });
});

describe("release after a quiet spell", () => {
  const cached = async (store: { query<T>(q: string): Promise<T[]> }) =>
    (await store.query<{ mb: number }>("SELECT coalesce(sum(memory_usage_bytes), 0) / 2**20 AS mb FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"))[0]!.mb;

  it("evicts the blocks reads cached, and reads during the release still answer", async () => {
    const path = dbPath();
    {
      await using setup = await openStore({ path, limits: { releaseAfterIdleMs: 0 } });
      await setup.run("CREATE TABLE t(id INTEGER PRIMARY KEY, s VARCHAR)");
      await setup.run("INSERT INTO t SELECT range, md5(range::VARCHAR) FROM range(200000)");
    }
    // Opened after the writes: only a write starts the quiet-spell timer, so nothing can release
    // the blocks between the scan below and measuring them, however slow the machine.
    await using store = await openStore({ path, limits: { releaseAfterIdleMs: 100 } });
    const total = async () => (await store.query<{ n: number }>("SELECT sum(length(s))::INTEGER AS n FROM t"))[0]!.n;
    const expected = await total();
    const before = await cached(store);
    expect(before).toBeGreaterThan(2); // the scan loaded the table's blocks
    // A write starts the quiet-spell timer; reads go on through the release.
    await store.run("INSERT INTO t VALUES (-1, '')");
    const answers: number[] = [];
    const until = performance.now() + 600;
    while (performance.now() < until) answers.push(await total());
    expect(answers.length).toBeGreaterThan(1);
    expect(new Set(answers)).toEqual(new Set([expected]));
    // Once quiet (no read loading them again), the cached blocks are gone.
    await store.run("INSERT INTO t VALUES (-2, '')");
    await Bun.sleep(500);
    expect(await cached(store)).toBeLessThan(before / 4);
    const [limit] = await store.query<{ v: string }>("SELECT current_setting('memory_limit') AS v");
    expect(limit!.v).toBe("122.0 MiB"); // back to the configured 128MB
  });
});
