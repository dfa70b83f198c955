import { describe, expect, it } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { openStore, sql, renderSql, inlineSql } from "../../lib/index.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir();

describe("store", () => {
  it("inserts through the appender with native types, and the same rows twice add nothing", async () => {
    await using store = await openStore({ path: join(dir, "a.duckdb") });
    const rows = [
      { machine_id: "m1", collected_at: "2026-01-25T03:00:00Z", source: "t", load1: 0.5, mem_total_bytes: 2 ** 40, raw_json: { a: 1 } },
      { machine_id: "m1", collected_at: new Date("2026-01-25T03:02:00Z"), source: "t", load1: 1.5, mem_total_bytes: 8n * 2n ** 50n },
    ];
    expect(await store.insert("sys_samples", rows)).toBe(2);
    expect(await store.insert("sys_samples", rows)).toBe(0);
    // duplicates inside one batch are kept once too
    expect(await store.insert("sys_samples", [rows[0]!, rows[0]!, { ...rows[0]!, collected_at: "2026-01-25T03:04:00Z" }])).toBe(1);
    const out = await store.query("select collected_at, load1, mem_total_bytes, raw_json, typeof(collected_at) t from sys_samples order by collected_at");
    expect(out).toEqual([
      { collected_at: "2026-01-25T03:00:00.000Z", load1: 0.5, mem_total_bytes: 2 ** 40, raw_json: '{"a":1}', t: "TIMESTAMP" },
      { collected_at: "2026-01-25T03:02:00.000Z", load1: 1.5, mem_total_bytes: "9007199254740992", raw_json: null, t: "TIMESTAMP" },
      { collected_at: "2026-01-25T03:04:00.000Z", load1: 0.5, mem_total_bytes: 2 ** 40, raw_json: '{"a":1}', t: "TIMESTAMP" },
    ]);
  });

  it("names the table, column and row of a value of the wrong type", async () => {
    await using store = await openStore({ path: join(dir, "b.duckdb") });
    const err = await store.insert("sys_samples", [{ machine_id: "m", collected_at: "not a time", source: "t" }]).catch((e) => e);
    expect(err.message).toContain("sys_samples");
    expect(err.message).toContain("collected_at");
    expect(err.message).toContain("row 1");
    const err2 = await store.insert("sys_samples", [{ machine_id: "m", collected_at: "2026-01-01T00:00:00Z", source: "t", nope: 1 }]).catch((e) => e);
    expect(err2.message).toContain('no column "nope"');
  });

  it("rolls back a transaction that throws", async () => {
    await using store = await openStore({ path: join(dir, "c.duckdb") });
    await store
      .transaction(async (tx) => {
        await tx.insert("sys_samples", [{ machine_id: "m", collected_at: "2026-01-01T00:00:00Z", source: "t" }]);
        throw new Error("boom");
      })
      .catch(() => {});
    expect(await store.query("select * from sys_samples")).toHaveLength(0);
  });

  it("keeps sql interpolations as parameters, never as text", async () => {
    await using store = await openStore({ path: join(dir, "d.duckdb") });
    const evil = "x'); DROP TABLE machines; --";
    const rows = await store.query(sql`select ${evil} as v, ${42} as n`);
    expect(rows).toEqual([{ v: evil, n: 42 }]);
    expect(await store.query("select * from information_schema.tables where table_name = 'machines'")).toHaveLength(1);
    const q = sql`a ${1} b ${sql`c ${2} d`} e ${sql.identifier('we"ird')}`;
    expect(renderSql(q)).toEqual({ text: 'a $1 b c $2 d e "we""ird"', params: [1, 2] });
    expect(renderSql(q, "sqlite").text).toBe('a ?1 b c ?2 d e "we""ird"');
    expect(inlineSql(sql`where s = ${"it's"} and n > ${5}`)).toBe("where s = 'it''s' and n > 5");
  });

  it("refuses a file that is not DuckDB and leaves it untouched", async () => {
    const path = join(dir, "notes.db");
    writeFileSync(path, "these are my notes, not a database\n".repeat(10));
    const before = readFileSync(path);
    const err = await openStore({ path }).catch((e) => e);
    expect(err.code).toBe("store_not_duckdb");
    expect(err.message).toContain(path);
    expect(readFileSync(path).equals(before)).toBe(true);

    const sqlitePath = join(dir, "other.sqlite");
    const db = new Database(sqlitePath);
    db.run("create table t(x)");
    db.close();
    const sqliteBefore = readFileSync(sqlitePath);
    const err2 = await openStore({ path: sqlitePath }).catch((e) => e);
    expect(err2.message).toContain("a SQLite database");
    expect(readFileSync(sqlitePath).equals(sqliteBefore)).toBe(true);
  });

  it("says plainly when the store does not exist yet and it was asked read-only", async () => {
    const err = await openStore({ path: join(dir, "missing.duckdb"), readOnly: true }).catch((e) => e);
    expect(err.code).toBe("not_found");
    expect(err.hint).toContain("vc collect --once");
  });
});

describe("insertJsonLines", () => {
  it("inserts JSON Lines in pipelined batches, skipping and locating bad lines, leaving a partial last line", async () => {
    const { insertJsonLines } = await import("../../lib/index.ts");
    await using store = await openStore({ path: join(dir, "jsonl.duckdb") });
    const lines = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify({ machine_id: "m", collected_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), source: "j", load1: i }),
    );
    lines.splice(10, 0, "{not json");
    const text = `${lines.join("\n")}\n{"machine_id":"m","collected_at":"2026-01-02T00:00:00Z","source":"j"`;
    const bytes = new TextEncoder().encode(text);
    const r = await store.transaction((tx) => insertJsonLines(tx, "sys_samples", bytes, { batchBytes: 300 }));
    expect(r.added).toBe(50);
    expect(r.parsed).toBe(50);
    expect(r.bad).toHaveLength(1);
    expect(new TextDecoder().decode(bytes.subarray(r.bad[0]!.offset, r.bad[0]!.offset + 9))).toBe("{not json");
    expect(r.consumed).toBe(text.lastIndexOf("\n") + 1);
    const again = await store.transaction((tx) => insertJsonLines(tx, "sys_samples", bytes, { batchBytes: 1000 }));
    expect(again.added).toBe(0);
    const { n } = (await store.query<{ n: number }>("select count(*)::INTEGER n from sys_samples"))[0]!;
    expect(n).toBe(50);
  });
});

describe("JSON columns", () => {
  it("take objects, and refuse text that is not JSON by naming the column", async () => {
    await using store = await openStore({ path: join(dir, "json.duckdb") });
    const base = { machine_id: "m", source: "t" };
    expect(
      await store.insert("sys_samples", [
        { ...base, collected_at: "2026-01-01T00:00:00Z", raw_json: { a: [1, 2] } },
        { ...base, collected_at: "2026-01-01T00:01:00Z", raw_json: '{"b":true}' },
      ]),
    ).toBe(2);
    const err = await store.insert("sys_samples", [{ ...base, collected_at: "2026-01-01T00:02:00Z", raw_json: "not json {" }]).catch((e) => e);
    expect(err.message).toContain("column raw_json");
    expect(err.message).toContain("is not a JSON");
    expect(await store.query("select raw_json from sys_samples order by collected_at")).toEqual([{ raw_json: '{"a":[1,2]}' }, { raw_json: '{"b":true}' }]);
  });
});
