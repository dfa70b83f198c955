import { beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { openStore, queryReadOnly, type Store } from "../../lib/index.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir();
const path = join(dir, "ro.duckdb");

const writes: Record<string, string> = {
  INSERT: "INSERT INTO machines VALUES ('x', 'local', NULL, NULL, false, false, now(), now(), NULL)",
  UPDATE: "UPDATE machines SET ssh_target = 'evil'",
  DELETE: "DELETE FROM machines",
  DROP: "DROP TABLE machines",
  CREATE: "CREATE TABLE evil(x INTEGER)",
  "CREATE TEMP": "CREATE TEMP TABLE evil AS SELECT 1",
  ATTACH: "ATTACH '/tmp/evil.duckdb' AS evil",
  COPY: "COPY machines TO '/tmp/evil.csv'",
  INSTALL: "INSTALL httpfs",
  LOAD: "LOAD httpfs",
  "PRAGMA write": "PRAGMA enable_profiling",
  SET: "SET enable_external_access = true",
  "read_csv of /etc/passwd": "SELECT * FROM read_csv('/etc/passwd')",
  read_text: "SELECT * FROM read_text('/etc/hostname')",
  "multi-statement": "SELECT 1; DROP TABLE machines",
  "multi-statement after a comment": "SELECT 1 -- harmless\n; DELETE FROM machines",
  EXPORT: "EXPORT DATABASE '/tmp/evil'",
  CHECKPOINT: "CHECKPOINT",
  VACUUM: "VACUUM",
  CALL: "CALL pragma_version()",
};

async function expectIntact(store: Store) {
  const rows = await store.query<{ machine_id: string; ssh_target: string }>("select machine_id, ssh_target from machines");
  expect(rows).toEqual([{ machine_id: "m1", ssh_target: "local" }]);
}

describe("read-only SQL", () => {
  beforeAll(async () => {
    await using store = await openStore({ path });
    await store.run("INSERT INTO machines VALUES ('m1', 'local', NULL, NULL, false, false, now(), now(), NULL)");
  });

  for (const mode of ["read-write store (daemon side)", "read-only store (CLI side)"] as const) {
    describe(mode, () => {
      for (const [name, text] of Object.entries(writes)) {
        it(`refuses ${name}`, async () => {
          await using store = await openStore({ path, readOnly: mode.startsWith("read-only") });
          const err = await queryReadOnly(store, text).catch((e) => e);
          expect(err?.code).toBe("query_refused");
          expect(err.message.length).toBeGreaterThan(10);
          await expectIntact(store);
        });
      }

      it("answers a SELECT with columns and rows", async () => {
        await using store = await openStore({ path, readOnly: mode.startsWith("read-only") });
        const r = await queryReadOnly(store, "select machine_id, ssh_target, 1 + 1 AS two from machines");
        expect(r.columns).toEqual(["machine_id", "ssh_target", "two"]);
        expect(r.rows).toEqual([{ machine_id: "m1", ssh_target: "local", two: 2 }]);
      });

      it("has no sequence a SELECT could advance (DuckDB sequences are not transactional)", async () => {
        await using store = await openStore({ path, readOnly: mode.startsWith("read-only") });
        expect(await store.query("select * from duckdb_sequences()")).toEqual([]);
        const err = await queryReadOnly(store, "select nextval('audit_events_seq')").catch((e) => e);
        expect(err.code).toBe("query_failed");
      });
    });
  }

  it("reports SQL that does not parse as a query error, not a refusal", async () => {
    await using store = await openStore({ path, readOnly: true });
    const err = await queryReadOnly(store, "selec oops").catch((e) => e);
    expect(err.code).toBe("query_failed");
  });
});
