import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import { cursor, loadCursors, openStore, parseCursor, saveCursors } from "../../lib/index.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir();
const now = new Date("2026-01-25T03:00:00Z");

describe("cursors", () => {
  it("saves and loads all four kinds by key", async () => {
    await using store = await openStore({ path: join(dir, "a.duckdb") });
    const all = {
      ts: cursor.timestamp("2026-01-25T02:59:00.000Z"),
      tail: cursor.fileOffset("/home/u/.config/dcg/history.jsonl", 1234567, 98765),
      pk: cursor.pk(4242),
      custom: cursor.opaque("page=3;token=abc"),
    };
    await store.transaction((tx) => saveCursors(tx, "m1", "dcg", all, now));
    expect(await loadCursors(store, "m1", "dcg")).toEqual(all);
    expect(await loadCursors(store, "m2", "dcg")).toEqual({});
    // a later save replaces, it does not add
    await store.transaction((tx) => saveCursors(tx, "m1", "dcg", { pk: cursor.pk(5000) }, now));
    expect((await loadCursors(store, "m1", "dcg")).pk).toEqual({ kind: "pk", id: 5000 });
    const { n } = (await store.query<{ n: number }>("select count(*)::INTEGER n from ingestion_cursors"))[0]!;
    expect(n).toBe(4);
  });

  it("commits with the rows it covers: a failure between the two leaves neither", async () => {
    await using store = await openStore({ path: join(dir, "b.duckdb") });
    const err = await store
      .transaction(async (tx) => {
        await tx.insert("sys_samples", [{ machine_id: "m1", collected_at: now, source: "tail" }]);
        await saveCursors(tx, "m1", "tail", { default: cursor.fileOffset("/x", 1, 100) }, now);
        throw new Error("crash between rows and commit");
      })
      .catch((e) => e);
    expect(err.message).toContain("crash");
    expect(await store.query("select * from sys_samples")).toEqual([]);
    expect(await loadCursors(store, "m1", "tail")).toEqual({});
  });

  it("refuses a malformed cursor with the field at fault", () => {
    expect(() => parseCursor({ kind: "file_offset", path: "/x", inode: 1, offset: -5 }, "dcg cursor")).toThrow(/dcg cursor\.offset/);
    expect(() => parseCursor({ kind: "pk", id: "seven" })).toThrow(/id/);
    expect(() => parseCursor({ kind: "weird" })).toThrow();
    expect(() => parseCursor({ kind: "timestamp", at: "yesterday" })).toThrow();
  });
});
