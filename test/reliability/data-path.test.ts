// The data path holds against hostile values: a bad value costs its field, a bad row its row,
// never the batch or the cycle; runCollector never throws (issue 13: D1, D12, the runs that threw
// and the runs that failed whole at insert).
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createFixedClock, cursor, defineCollector, runCollector, type Collector, type CollectResult } from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { jsonText, repairJsonText, sanitizeRows } from "../../lib/store/_values.ts";
import type { Store } from "../../lib/store/store.ts";
import { openStore } from "../../lib/store/store.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, repoRoot, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000); // megabytes of JSON through DuckDB in one test

const clock = createFixedClock("2026-01-25T03:00:00Z");
const machine = { id: "m1", ssh: "local", tags: [], roles: [], paths: {} };
const limits = { timeoutMs: 10_000, maxBytes: 1 << 20, maxRows: 10_000 };
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup) await f();
});

/** A collector that returns `result` (or what `fn` returns) as is. */
const returning = (result: CollectResult | (() => CollectResult), extra: Partial<Collector> = {}): Collector =>
  defineCollector({ name: "t", version: "1.0.0", schemaVersion: 1, ...extra, collect: async () => (typeof result === "function" ? result() : result) });

async function fresh(collectors: Collector[] = []): Promise<Store> {
  const store = await createTestStore(collectors);
  cleanup.push(() => store.close());
  return store;
}

const run = (store: Store, collector: Collector) => runCollector({ store, clock, collector, machine, exec: {} as never, limits, tools: {} });

const sample = (over: Record<string, unknown> = {}) => ({ collected_at: "2026-01-25T03:00:00Z", load1: 1, ...over });
const count = async (store: Store, table: string) => (await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`))[0]!.n;

describe("lone UTF-16 surrogates (D1)", () => {
  it("repairs a lone surrogate escape in JSON text to U+FFFD and leaves pairs and escaped backslashes alone", () => {
    expect(repairJsonText('{"a":"x\\udc80y"}')).toBe('{"a":"x\\ufffdy"}');
    expect(repairJsonText('{"a":"\\ud83d\\ude00","b":"\\\\udc80","c":"\\\\\\ud800"}')).toBe('{"a":"\\ud83d\\ude00","b":"\\\\udc80","c":"\\\\\\ufffd"}');
    expect(repairJsonText('["\\uD800\\uD83D\\uDE00"]')).toBe('["\\ufffd\\uD83D\\uDE00"]');
    expect(jsonText({ "k\udc80": "v\ud800" })).toBe('{"k\\ufffd":"v\\ufffd"}');
    expect(JSON.parse(jsonText({ a: "\udc80" })!)).toEqual({ a: "\ufffd" });
  });

  it("stores a row whose raw_json, JSON text or VARCHAR holds a lone surrogate, repaired, with a warning", async () => {
    const store = await fresh();
    const rec = await run(
      store,
      returning({
        rows: {
          sys_samples: [sample({ raw_json: { cmd: "rm \udc80", "key\ud800": 1 } }), sample({ collected_at: "2026-01-25T03:01:00Z", raw_json: '{"cmd":"ls \\udc80"}' })],
          dcg_events: [{ event_key: "k\udc80", ts: "2026-01-25T02:00:00Z", decision: "deny", origin: "decision_log", reason: "bad \udc80 byte" }],
        },
      }),
    );
    expect({ result: rec.result, error: rec.error, rows: rec.rowsByTable }).toEqual({ result: "ok", error: undefined, rows: { sys_samples: 2, dcg_events: 1 } });
    expect(rec.warnings).toEqual([
      "sys_samples.raw_json: lone UTF-16 surrogates replaced by U+FFFD (row 1)",
      "sys_samples.raw_json: lone UTF-16 surrogates replaced by U+FFFD (row 2)",
      "dcg_events.event_key: lone UTF-16 surrogates replaced by U+FFFD (row 1)",
      "dcg_events.reason: lone UTF-16 surrogates replaced by U+FFFD (row 1)",
    ]);
    const raws = await store.query<{ r: string }>("SELECT raw_json AS r FROM sys_samples ORDER BY collected_at");
    expect(raws.map((x) => JSON.parse(x.r))).toEqual([{ cmd: "rm \ufffd", "key\ufffd": 1 }, { cmd: "ls \ufffd" }]);
    expect(await store.query("SELECT event_key, reason FROM dcg_events")).toEqual([{ event_key: "k\ufffd", reason: "bad \ufffd byte" }]);
  });

  it("writes the run record when a warning, an error or a cursor holds a lone surrogate", async () => {
    const store = await fresh();
    const warned = await run(store, returning({ rows: { sys_samples: [sample()] }, warnings: ["line \udc80 skipped"], cursor: cursor.opaque("after \ud800") }));
    expect({ result: warned.result, rows: warned.rows }).toEqual({ result: "ok", rows: 1 });
    const failing = returning(() => {
      throw new Error("cannot read \udc80");
    });
    const failed = await run(store, { ...failing, name: "u" });
    expect(failed.result).toBe("failed");
    const audits = await store.query<{ actor: string; result: string; error: string | null; d: string }>(
      "SELECT actor, result, error, details_json AS d FROM audit_events WHERE event_type = 'collector_run' ORDER BY actor",
    );
    expect(audits.map((a) => [a.actor, a.result, a.error])).toEqual([
      ["t", "ok", null],
      ["u", "failed", "cannot read \ufffd"],
    ]);
    expect(JSON.parse(audits[0]!.d).warnings).toEqual(["line \ufffd skipped"]);
    const [c] = await store.query<{ v: string }>("SELECT cursor_value AS v FROM ingestion_cursors WHERE source = 't'");
    expect(JSON.parse(c!.v)).toEqual({ kind: "opaque", value: "after \ufffd" });
  });
});

describe("values out of range (D12)", () => {
  it("stores null for a number its column cannot hold, naming the table, the field and the value", async () => {
    const store = await fresh();
    const rec = await run(
      store,
      returning({
        rows: {
          sys_samples: [
            // biome-ignore lint/correctness/noPrecisionLoss: u64 max as a JSON parser hands it over (2^64, rounded)
            sample({ procs_total: Number.POSITIVE_INFINITY, mem_total_bytes: 18446744073709551615, load5: 2 }),
            sample({ collected_at: "2026-01-25T03:01:00Z", procs_running: 2 ** 40, mem_used_bytes: 18446744073709551615n, cpu_cores: 1.5 }),
            sample({ collected_at: "2026-01-25T03:02:00Z", procs_total: 7 }),
          ],
        },
      }),
    );
    expect({ result: rec.result, error: rec.error, rows: rec.rows }).toEqual({ result: "ok", error: undefined, rows: 3 });
    expect(rec.warnings).toEqual([
      "sys_samples.mem_total_bytes: 18446744073709552000 does not fit BIGINT; stored as null (row 1)",
      "sys_samples.procs_total: Infinity does not fit INTEGER; stored as null (row 1)",
      "sys_samples.cpu_cores: 1.5 does not fit INTEGER; stored as null (row 2)",
      "sys_samples.mem_used_bytes: 18446744073709551615 does not fit BIGINT; stored as null (row 2)",
      "sys_samples.procs_running: 1099511627776 does not fit INTEGER; stored as null (row 2)",
    ]);
    expect(await store.query("SELECT load5, procs_total, procs_running, mem_total_bytes, mem_used_bytes, cpu_cores FROM sys_samples ORDER BY collected_at")).toEqual([
      { load5: 2, procs_total: null, procs_running: null, mem_total_bytes: null, mem_used_bytes: null, cpu_cores: null },
      { load5: null, procs_total: null, procs_running: null, mem_total_bytes: null, mem_used_bytes: null, cpu_cores: null },
      { load5: null, procs_total: 7, procs_running: null, mem_total_bytes: null, mem_used_bytes: null, cpu_cores: null },
    ]);
  });

  it("drops a row whose required column is missing or unusable, and keeps the others", async () => {
    const store = await fresh();
    const event = (key: string, ts: unknown) => ({ event_key: key, ts, decision: "deny", origin: "decision_log" });
    const rec = await run(
      store,
      returning({
        rows: {
          dcg_events: [event("a", "2026-01-25T02:00:00Z"), event("b", 1e17), event("c", "not a time"), { ...event("d", "2026-01-25T02:00:01Z"), decision: null }, event("e", 1e12)],
        },
      }),
    );
    expect({ result: rec.result, rows: rec.rows }).toEqual({ result: "ok", rows: 2 });
    expect(rec.warnings).toEqual([
      "dcg_events: row 2 dropped (ts: 100000000000000000 does not fit TIMESTAMP, and the column is required)",
      'dcg_events: row 3 dropped (ts: "not a time" does not fit TIMESTAMP, and the column is required)',
      "dcg_events: row 4 dropped (decision is missing, and the column is required)",
    ]);
    expect(await store.query("SELECT event_key, ts FROM dcg_events ORDER BY event_key")).toEqual([
      { event_key: "a", ts: "2026-01-25T02:00:00.000Z" },
      { event_key: "e", ts: "2001-09-09T01:46:40.000Z" },
    ]);
  });

  it("keeps JSON nested too deep to stringify, clipped, with a warning", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const store = await fresh();
    const rec = await run(store, returning({ rows: { sys_samples: [sample({ raw_json: { deep } })] } }));
    expect({ result: rec.result, rows: rec.rows }).toEqual({ result: "ok", rows: 1 });
    expect(rec.warnings).toEqual(["sys_samples.raw_json: nested deeper than 256 levels or not plain JSON; clipped (row 1)"]);
    const [r] = await store.query<{ d: number }>("SELECT json_array_length(raw_json->'$.deep')::INTEGER AS d FROM sys_samples");
    expect(r!.d).toBe(1);
  });

  it("sanitizes rows without touching good ones", () => {
    const columns = [
      { name: "a", type: "INTEGER", nullable: false },
      { name: "b", type: "JSON", nullable: true },
      { name: "c", type: "TIMESTAMP", nullable: true },
    ];
    const good = { a: 1, b: '{"x":1}', c: "2026-01-01T00:00:00Z" };
    expect(sanitizeRows("t", columns, [{ ...good }])).toEqual({ rows: [good], changes: [], dropped: 0 });
    expect(sanitizeRows("t", columns, [{ a: 1, b: "{not json", c: -1e16 }]).changes).toEqual([
      't.b: "{not json" is not JSON; stored as null (row 1)',
      "t.c: -10000000000000000 does not fit TIMESTAMP; stored as null (row 1)",
    ]);
  });
});

describe("a bad row costs its row, never the batch", () => {
  // A table with a rule DuckDB enforces and vc cannot foresee: the store refuses the row at insert.
  const checked = returning(
    {
      rows: {
        t_checked: [
          { id: 1, n: 5 },
          { id: 2, n: -1 },
          { id: 3, n: 7 },
          { id: 4, n: -2 },
          { id: 5, n: 9 },
        ],
      },
      cursor: cursor.pk(5),
    },
    { migrations: [{ name: "001_t_checked.sql", sql: "CREATE TABLE t_checked(machine_id VARCHAR, id INTEGER PRIMARY KEY, n INTEGER CHECK (n >= 0));" }] },
  );

  it("finds the rows the store refuses, leaves them out with a warning and commits the rest with the cursor", async () => {
    const store = await fresh([checked]);
    const rec = await run(store, checked);
    expect({ result: rec.result, error: rec.error, rows: rec.rowsByTable }).toEqual({ result: "ok", error: undefined, rows: { t_checked: 3 } });
    expect(rec.warnings).toHaveLength(2);
    expect(rec.warnings[0]).toStartWith("t_checked: row 2 dropped, the store refused it (");
    expect(rec.warnings[0]).toContain("CHECK");
    expect(rec.warnings[1]).toStartWith("t_checked: row 4 dropped");
    expect(await store.query("SELECT id FROM t_checked ORDER BY id")).toEqual([{ id: 1 }, { id: 3 }, { id: 5 }]);
    expect(await store.query("SELECT cursor_value FROM ingestion_cursors WHERE source = 't'")).toEqual([{ cursor_value: '{"kind":"pk","id":5}' }]);
    // The store's staging survived the probes' rollbacks: the next runs insert as usual.
    const again = await run(store, checked);
    expect({ result: again.result, rows: again.rows }).toEqual({ result: "ok", rows: 0 });
    const next = await run(store, returning({ rows: { t_checked: [{ id: 6, n: 1 }] } }, { migrations: checked.migrations }));
    expect({ result: next.result, rows: next.rows }).toEqual({ result: "ok", rows: 1 });
  });

  it("commits rows that each carry a document of megabytes, in statements small enough for the store's memory", async () => {
    const store = await fresh();
    const doc = (i: number) => ({ doc: "x".repeat(3_000_000), i });
    const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => sample({ collected_at: new Date(Date.UTC(2026, 0, 25, 3, 0, from + i)), raw_json: doc(i) }));
    const fits = await run(store, returning({ rows: { sys_samples: rows(12) } }));
    expect({ result: fits.result, error: fits.error, rows: fits.rows, warnings: fits.warnings }).toEqual({ result: "ok", error: undefined, rows: 12, warnings: [] });
    // 60 MB in one batch: the largest values give way until it fits in 48 MiB; every row stays.
    const over = await run(store, returning({ rows: { sys_samples: rows(20, 100) } }));
    expect({ result: over.result, error: over.error, rows: over.rows }).toEqual({ result: "ok", error: undefined, rows: 20 });
    expect(over.warnings).toHaveLength(4);
    expect(over.warnings[0]).toMatch(/^sys_samples\.raw_json: a value of 3000017 bytes in a batch of more than 48 MiB; stored as null \(row \d+ kept\)$/);
    const [n] = await store.query<{ kept: number; nulled: number }>(
      "SELECT count(raw_json)::INTEGER AS kept, count(*) FILTER (raw_json IS NULL)::INTEGER AS nulled FROM sys_samples",
    );
    expect(n).toEqual({ kept: 28, nulled: 4 });
    // One value past 4 MiB costs its field (JSON) or is cut (text, between characters).
    const huge = await run(
      store,
      returning({
        rows: {
          sys_samples: [sample({ collected_at: "2026-01-25T04:00:00Z", raw_json: { doc: "y".repeat(5_000_000) } })],
          dcg_events: [{ event_key: "k", ts: "2026-01-25T02:00:00Z", decision: "deny", origin: "decision_log", reason: "€".repeat(2_000_000) }],
        },
      }),
    );
    expect({ result: huge.result, rows: huge.rowsByTable }).toEqual({ result: "ok", rows: { sys_samples: 1, dcg_events: 1 } });
    expect(huge.warnings).toEqual([
      "sys_samples.raw_json: a value of 5000010 bytes, more than the 4 MiB a value may hold; stored as null (row 1)",
      "dcg_events.reason: a value of 6000000 bytes, more than the 4 MiB a value may hold; cut there (row 1)",
    ]);
    // 4 MiB holds 1,398,101 whole "€" (3 bytes each).
    expect(await store.query("SELECT length(reason)::INTEGER AS n, strlen(reason)::INTEGER AS b FROM dcg_events")).toEqual([{ n: 1398101, b: 1398101 * 3 }]);
  });

  it("still fails a run whose rows name a column the table does not have (a collector's bug, not its data)", async () => {
    const store = await fresh();
    const rec = await run(store, returning({ rows: { sys_samples: [sample(), sample({ collected_at: "2026-01-25T03:01:00Z", nope: 1 })] } }));
    expect(rec.result).toBe("failed");
    expect(rec.error).toContain('table sys_samples has no column "nope"');
    expect(await count(store, "sys_samples")).toBe(0);
  });
});

describe("runCollector never throws", () => {
  it("returns a failed record when the store is closed under it", async () => {
    const store = await fresh();
    await store.close();
    const rec = await run(store, returning({ rows: { sys_samples: [sample()] } }));
    expect(rec.result).toBe("failed");
    expect(rec.error).toBeString();
  });

  it("returns a failed record for a result that cannot even be shown (a BigInt, a cycle)", async () => {
    const store = await fresh();
    const cyclic: Record<string, unknown> = { n: 1n };
    cyclic.self = cyclic;
    const rec = await run(store, returning(cyclic as never));
    expect(rec.result).toBe("failed");
    expect(rec.error).toBe("t returned an object instead of { rows: { table: [...] } }");
  });

  it("keeps warnings and errors to a readable length", async () => {
    const store = await fresh();
    const huge = "x".repeat(1_000_000);
    const rec = await run(store, returning({ rows: {}, warnings: [huge] }));
    expect(rec.warnings[0]!.length).toBeLessThan(2100);
    const failed = await run(
      store,
      returning(() => {
        throw new Error(huge);
      }),
    );
    expect(failed.error!.length).toBeLessThan(2100);
  });
});

describe("one malformed string does not stop a cycle (D1, end to end)", () => {
  it("vc collect --once stores the good dcg lines around one with lone surrogate escapes, writes the run records and exits 0", async () => {
    const env = isolatedEnv(tempDir());
    const home = env.HOME!;
    mkdirSync(join(home, ".config/dcg"), { recursive: true });
    const line = (command: string, extra = "") => `{"timestamp":"2026-01-25T02:00:00Z","decision":"deny","mode":"deny","command":${JSON.stringify(command)}${extra}}\n`;
    // As Python's json.dumps writes undecodable bytes: an escaped lone surrogate.
    writeFileSync(join(home, "decisions.jsonl"), line("rm -rf /a") + line("rm -rf /b", ',"reason":"bad \\udc80 byte"') + line("rm -rf /c"));
    writeFileSync(join(home, ".config/dcg/config.toml"), '[logging]\nenabled = true\nformat = "json"\nfile = "~/decisions.jsonl"\n');
    const config = join(home, "vc.config.ts");
    writeFileSync(
      config,
      `import { defineConfig } from "vibe-cockpit";
import { dcg } from ${JSON.stringify(join(repoRoot, "plugins/dcg/index.ts"))};
export default defineConfig({ db: "~/vc.duckdb", machines: [{ id: "here", ssh: "local" }], collectors: [dcg()] });
`,
    );
    const r = await vc(["collect", "--once", "--config", config], { env: { ...env, VC_NOW: "2026-01-25T03:00:00Z" } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.not.stringContaining("Malformed JSON") });
    await using store = await openStore({ path: join(home, "vc.duckdb"), readOnly: true });
    expect(await store.query("SELECT reason FROM dcg_events ORDER BY reason NULLS FIRST")).toEqual([{ reason: null }, { reason: null }, { reason: "bad \ufffd byte" }]);
    expect(await store.query("SELECT actor, result, warnings_count FROM audit_events WHERE event_type = 'collector_run' AND actor = 'dcg'")).toEqual([
      { actor: "dcg", result: "ok", warnings_count: 2 },
    ]);
  });
});
