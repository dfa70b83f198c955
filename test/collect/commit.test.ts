// A machine's runs commit together (issue 11.5: the daemon's cost in statements): one transaction,
// one insert per table for all the runs, the bookkeeping in one statement each; yet each run is told
// exactly its own rows, its cursor commits with them, a refused row costs its row and a run the
// store refuses fails alone. The records are those the same runs write one at a time.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createFixedClock, createLocalExecutor, cursor, defineCollector, resolveConfig, runCollector, runCycle, type Collector, type CollectResult } from "../../lib/index.ts";
import { commitRuns, prepareRun, type RunRecord } from "../../lib/collect/run.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { statementTrace, type Store } from "../../lib/store/store.ts";

setDefaultTimeout(30_000);

const clock = createFixedClock("2026-01-25T03:00:00Z");
const machine = { id: "m1", ssh: "local", tags: [], roles: [], paths: {} };
const limits = { timeoutMs: 10_000, maxBytes: 1 << 20, maxRows: 10_000 };
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup) await f();
});

const collector = (name: string, result: CollectResult | (() => CollectResult), extra: Partial<Collector> = {}): Collector =>
  defineCollector({ name, version: "1.2.0", schemaVersion: 3, ...extra, collect: async () => (typeof result === "function" ? result() : result) });

async function fresh(collectors: Collector[] = []): Promise<Store> {
  const store = await createTestStore(collectors);
  cleanup.push(() => store.close());
  return store;
}

const options = (store: Store, c: Collector) => ({ store, clock, collector: c, machine, exec: { stat: async () => null } as never, limits, tools: {} });
/** The runs prepared one after another, then committed together. */
async function together(store: Store, collectors: Collector[]): Promise<RunRecord[]> {
  const prepared = [];
  for (const c of collectors) prepared.push(await prepareRun(options(store, c)));
  return commitRuns(store, prepared);
}
const alone = async (store: Store, collectors: Collector[]) => {
  const out: RunRecord[] = [];
  for (const c of collectors) out.push(await runCollector(options(store, c)));
  return out;
};

/** What a record says, without its timing. */
const gist = (r: RunRecord) => ({ collector: r.collector, result: r.result, rows: r.rows, rowsByTable: r.rowsByTable, warnings: r.warnings, error: r.error, reason: r.reason });
/** What the store holds after the runs, without ids and timings. */
async function stored(store: Store) {
  return {
    audit: await store.query(
      "SELECT actor, machine_id, result, rows_inserted, warnings_count, error, json_extract(details_json, '$.rows_by_table') AS by, json_extract(details_json, '$.warnings') AS w, json_extract(details_json, '$.collector_version') AS v FROM audit_events ORDER BY actor",
    ),
    state: await store.query("SELECT machine_id, collector, last_run_at, last_result, last_ok_at, last_error, consecutive_failures FROM collector_state ORDER BY collector"),
    cursors: await store.query("SELECT machine_id, source, cursor_key, cursor_value FROM ingestion_cursors ORDER BY source, cursor_key"),
    samples: await store.query("SELECT source, collected_at, load1 FROM sys_samples ORDER BY source, collected_at"),
    dcg: await store.query("SELECT event_key, source FROM dcg_events ORDER BY event_key"),
  };
}

const at = (s: number) => new Date(Date.UTC(2026, 0, 25, 3, 0, s)).toISOString();
const sample = (s: number, over: Record<string, unknown> = {}) => ({ collected_at: at(s), load1: s, ...over });
const event = (key: string) => ({ event_key: key, ts: "2026-01-25T02:00:00Z", decision: "deny", origin: "decision_log" });

/** A machine's collectors: two write one table, one repeats a row already stored, one is skipped, one fails. */
const fleet = () => [
  collector("alpha", { rows: { sys_samples: [sample(1), sample(2)] }, cursor: cursor.pk(2) }),
  collector("beta", {
    rows: { sys_samples: [sample(1), sample(3)], dcg_events: [event("old"), event("new")] },
    cursors: { a: cursor.timestamp(at(3)), b: cursor.opaque("x") },
    warnings: ["one line skipped"],
  }),
  collector("gamma", { rows: {}, skipped: "nothing to read here" }),
  collector("delta", () => {
    throw new Error("upstream exploded");
  }),
  collector("epsilon", { rows: { dcg_events: [event("e1")] } }, { requires: { files: ["~/nope"] } }),
];

describe("a machine's runs commit together", () => {
  it("write what the same runs write one at a time, each told its own rows, in one transaction and one insert per table", async () => {
    const a = await fresh();
    const b = await fresh();
    // A row both stores already hold: beta's dcg "old" adds nothing.
    for (const s of [a, b]) await s.insert("dcg_events", [{ machine_id: "m1", source: "beta", collected_at: at(0), ...event("old") }]);

    statementTrace.counts.clear();
    statementTrace.on = true;
    let grouped: RunRecord[];
    try {
      grouped = await together(a, fleet());
    } finally {
      statementTrace.on = false;
    }
    const one = await alone(b, fleet());
    expect(grouped.map(gist)).toEqual(one.map(gist));
    expect(grouped.map(gist)).toEqual([
      { collector: "alpha", result: "ok", rows: 2, rowsByTable: { sys_samples: 2 }, warnings: [], error: undefined, reason: undefined },
      { collector: "beta", result: "ok", rows: 3, rowsByTable: { sys_samples: 2, dcg_events: 1 }, warnings: ["one line skipped"], error: undefined, reason: undefined },
      { collector: "gamma", result: "skipped", rows: 0, rowsByTable: {}, warnings: [], error: undefined, reason: "nothing to read here" },
      { collector: "delta", result: "failed", rows: 0, rowsByTable: {}, warnings: [], error: "upstream exploded", reason: undefined },
      { collector: "epsilon", result: "skipped", rows: 0, rowsByTable: {}, warnings: [], error: undefined, reason: "~/nope not found on m1" },
    ]);
    expect(await stored(a)).toEqual(await stored(b));

    const counts = statementTrace.counts;
    expect(counts.get("BEGIN TRANSACTION")?.n).toBe(1);
    expect(counts.get("COMMIT")?.n).toBe(1);
    expect(counts.get("insert sys_samples (append, insert, clear stage)")?.n).toBe(1);
    expect(counts.get("insert dcg_events (append, insert, clear stage)")?.n).toBe(1);
    const starting = (prefix: string) => [...counts].filter(([k]) => k.startsWith(prefix)).reduce((n, [, c]) => n + c.n, 0);
    expect(counts.get("insert audit_events (append, insert, clear stage)")?.n).toBe(1);
    expect(starting("INSERT INTO collector_state")).toBe(1);
    expect(starting("INSERT OR REPLACE INTO ingestion_cursors")).toBe(1);
    expect(starting("UPDATE machines")).toBe(1);
  });

  it("count rows by run when two runs give one table the same source: each run inserts alone", async () => {
    const store = await fresh();
    const mine = (name: string, s: number) => collector(name, { rows: { sys_samples: [sample(s, { source: "shared" }), sample(s + 1, { source: "shared" })] } });
    const recs = await together(store, [mine("one", 1), mine("two", 2)]);
    // two's first row (second 2) is one's second: it adds only one.
    expect(recs.map((r) => [r.collector, r.rows])).toEqual([
      ["one", 2],
      ["two", 1],
    ]);
  });

  it("a row the store refuses costs that row: the other runs and the cursors commit as they would alone", async () => {
    const checked = collector(
      "checked",
      {
        rows: {
          t_checked: [
            { id: 1, n: 5 },
            { id: 2, n: -1 },
            { id: 3, n: 7 },
          ],
        },
        cursor: cursor.pk(3),
      },
      { migrations: [{ name: "001_t_checked.sql", sql: "CREATE TABLE t_checked(machine_id VARCHAR, id INTEGER PRIMARY KEY, n INTEGER CHECK (n >= 0));" }] },
    );
    const a = await fresh([checked]);
    const b = await fresh([checked]);
    const grouped = await together(a, [...fleet(), checked]);
    const one = await alone(b, [...fleet(), checked]);
    expect(grouped.map(gist)).toEqual(one.map(gist));
    expect(gist(grouped.at(-1)!)).toMatchObject({ result: "ok", rows: 2, rowsByTable: { t_checked: 2 } });
    expect(grouped.at(-1)!.warnings[0]).toStartWith("t_checked: row 2 dropped, the store refused it (");
    expect(await stored(a)).toEqual(await stored(b));
    expect(await a.query("SELECT id FROM t_checked ORDER BY id")).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it("a run whose every row the store refuses keeps none of them, as alone; the other runs commit", async () => {
    const strict = collector(
      "strict",
      { rows: { t_strict: [{ id: 1 }, { id: 2 }] }, cursor: cursor.pk(2) },
      { migrations: [{ name: "001_t_strict.sql", sql: "CREATE TABLE t_strict(machine_id VARCHAR, id INTEGER PRIMARY KEY, must VARCHAR CHECK (must IS NOT NULL));" }] },
    );
    const a = await fresh([strict]);
    const b = await fresh([strict]);
    const grouped = await together(a, [...fleet(), strict]);
    const one = await alone(b, [...fleet(), strict]);
    expect(grouped.map(gist)).toEqual(one.map(gist));
    expect(await stored(a)).toEqual(await stored(b));
    expect(await a.query("SELECT count(*)::INTEGER AS n FROM t_strict")).toEqual([{ n: 0 }]);
    expect(grouped.at(-1)!.warnings).toHaveLength(2);
    expect(grouped.slice(0, 2).map((r) => [r.result, r.rows])).toEqual([
      ["ok", 2],
      ["ok", 4],
    ]);
  });

  it("when the shared transaction fails, each run commits alone", async () => {
    // Two runs of one collector name: collector_state cannot take both in one statement.
    const store = await fresh();
    const recs = await together(store, [collector("same", { rows: { sys_samples: [sample(1)] } }), collector("same", { rows: { sys_samples: [sample(2)] } })]);
    expect(recs.map((r) => [r.result, r.rows])).toEqual([
      ["ok", 1],
      ["ok", 1],
    ]);
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM audit_events WHERE actor = 'same'")).toEqual([{ n: 2 }]);
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM sys_samples")).toEqual([{ n: 2 }]);
  });
});

describe("a cycle's machines commit together", () => {
  it("in one transaction; a machine whose run the store refuses costs only that run, the other machines' runs as they were", async () => {
    const checked = collector(
      "checked",
      { rows: { t_checked: [{ id: 1, n: 5 }] } },
      { migrations: [{ name: "001_t_checked.sql", sql: "CREATE TABLE t_checked(machine_id VARCHAR, id INTEGER, n INTEGER CHECK (n >= 0), PRIMARY KEY (machine_id, id));" }] },
    );
    // On m2 only, one of checked's rows breaks the table's CHECK: its batch fails, m2 goes machine by machine, then run by run.
    const picky = {
      ...checked,
      collect: async (ctx: { machine: { id: string } }) => ({
        rows: {
          t_checked: [
            { id: 1, n: 5 },
            { id: 2, n: ctx.machine.id === "m2" ? -1 : 1 },
          ],
        },
        cursor: cursor.pk(2),
      }),
    } as Collector;
    const plain = collector("plain", { rows: { sys_samples: [sample(1)] }, cursor: cursor.pk(1) });
    const config = await resolveConfig({ machines: ["m1", "m2", "m3"].map((id) => ({ id, ssh: "local" })), collectors: [picky, plain] }, { source: "test", env: {} });
    const store = await fresh([checked]);
    statementTrace.counts.clear();
    statementTrace.on = true;
    let report: Awaited<ReturnType<typeof runCycle>>;
    try {
      report = await runCycle({ store, config, clock, executorFor: (m) => createLocalExecutor({ machineId: m.id }) });
    } finally {
      statementTrace.on = false;
    }
    const runs = report.machines.flatMap((m) => m.runs.map((r) => [r.machine, r.collector, r.result, r.rows, r.warnings.length]));
    expect(runs).toEqual([
      ["m1", "checked", "ok", 2, 0],
      ["m1", "plain", "ok", 1, 0],
      ["m2", "checked", "ok", 1, 1],
      ["m2", "plain", "ok", 1, 0],
      ["m3", "checked", "ok", 2, 0],
      ["m3", "plain", "ok", 1, 0],
    ]);
    expect(await store.query("SELECT machine_id, count(*)::INTEGER AS n FROM t_checked GROUP BY ALL ORDER BY ALL")).toEqual([
      { machine_id: "m1", n: 2 },
      { machine_id: "m2", n: 1 },
      { machine_id: "m3", n: 2 },
    ]);
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM ingestion_cursors")).toEqual([{ n: 6 }]);
    // The cycle's transaction is refused at t_checked (before sys_samples); then m1's, m2's (refused again), m2's runs one by one, m3's.
    expect(statementTrace.counts.get("insert sys_samples (append, insert, clear stage)")!.n).toBe(3); // m1, m2's plain alone, m3
    expect(statementTrace.counts.get("COMMIT")!.n).toBe(5); // m1, m2's last_seen_at, m2's checked (its good row), m2's plain, m3

    const clean = await fresh([checked]);
    statementTrace.counts.clear();
    statementTrace.on = true;
    try {
      await runCycle({ store: clean, config: { ...config, collectors: [checked, plain] }, clock, executorFor: (m) => createLocalExecutor({ machineId: m.id }) });
    } finally {
      statementTrace.on = false;
    }
    expect(statementTrace.counts.get("BEGIN TRANSACTION")!.n).toBe(1);
    expect(statementTrace.counts.get("insert sys_samples (append, insert, clear stage)")!.n).toBe(1);
    expect(statementTrace.counts.get("insert t_checked (append, insert, clear stage)")!.n).toBe(1);
  });
});
