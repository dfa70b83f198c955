import { describe, expect, it } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { openStore, loadMigrations, toMigrations, VcError } from "../../lib/index.ts";
import { defaultMigrationsDir } from "../../lib/store/migrate.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir();
let n = 0;
function migrationsCopy(): string {
  const d = join(dir, `migrations-${n++}`);
  mkdirSync(d);
  for (const f of readdirSync(defaultMigrationsDir)) copyFileSync(join(defaultMigrationsDir, f), join(d, f));
  return d;
}

describe("migrations", () => {
  it("applies every file in order and records each with its sha256", async () => {
    const db = join(dir, "a.duckdb");
    await using store = await openStore({ path: db });
    const rows = await store.query<{ version: number; name: string; checksum: string }>("select version, name, checksum from schema_migrations order by version");
    const files = loadMigrations();
    expect(rows.map((r) => r.name)).toEqual(files.map((f) => f.name));
    for (const f of files) {
      const sha = createHash("sha256").update(f.sql).digest("hex");
      expect(rows.find((r) => r.version === f.version)?.checksum).toBe(sha);
    }
    const tables = (await store.query<{ table_name: string }>("select table_name from information_schema.tables")).map((t) => t.table_name);
    for (const t of ["machines", "machine_tool_capabilities", "sys_samples", "filesystems", "ingestion_cursors", "audit_events", "schema_migrations"]) {
      expect(tables).toContain(t);
    }
  });

  it("applies nothing the second time", async () => {
    const db = join(dir, "b.duckdb");
    await (await openStore({ path: db })).close();
    await using store = await openStore({ path: db });
    const { n } = (await store.query<{ n: number }>("select count(*)::INTEGER n from schema_migrations"))[0]!;
    expect(n).toBe(loadMigrations().length);
  });

  it("stops startup when an applied migration's file changed, naming it", async () => {
    const mig = migrationsCopy();
    const db = join(dir, "c.duckdb");
    await (await openStore({ path: db, migrationsDir: mig })).close();
    const first = readdirSync(mig).sort()[0]!;
    appendFileSync(join(mig, first), "\n-- edited after the fact\n");
    const err = await openStore({ path: db, migrationsDir: mig }).catch((e) => e);
    expect(err).toBeInstanceOf(VcError);
    expect(err.code).toBe("migration_changed");
    expect(err.message).toContain(first);
  });

  it("runs each migration in a transaction: a failing one leaves nothing behind", async () => {
    const mig = migrationsCopy();
    writeFileSync(join(mig, "900_broken.sql"), "CREATE TABLE half_done(x INTEGER);\nCREATE TABLE oops(;\n");
    const db = join(dir, "d.duckdb");
    const err = await openStore({ path: db, migrationsDir: mig }).catch((e) => e);
    expect(err.code).toBe("migration_failed");
    expect(err.message).toContain("900_broken.sql");
    const okDir = migrationsCopy();
    await using store = await openStore({ path: db, migrationsDir: okDir });
    const t = await store.query("select * from information_schema.tables where table_name = 'half_done'");
    expect(t).toHaveLength(0);
    const v = await store.query("select * from schema_migrations where version = 900");
    expect(v).toHaveLength(0);
  });

  it("refuses a store migrated by a newer vc", async () => {
    const mig = migrationsCopy();
    writeFileSync(join(mig, "950_future.sql"), "CREATE TABLE future(x INTEGER);\n");
    const db = join(dir, "e.duckdb");
    await (await openStore({ path: db, migrationsDir: mig })).close();
    const err = await openStore({ path: db }).catch((e) => e);
    expect(err.code).toBe("migration_newer");
    expect(err.message).toContain("950_future.sql");
  });
});

describe("plugin migrations", () => {
  it("applies a plugin's own tables after vc's, records them under the plugin, and refuses an edited one", async () => {
    const db = join(dir, "plugin.duckdb");
    const v1 = [
      {
        source: "uptime",
        migrations: toMigrations([
          { name: "001_uptime.sql", sql: "CREATE TABLE uptime_samples(machine_id VARCHAR, collected_at TIMESTAMP, seconds DOUBLE, PRIMARY KEY (machine_id, collected_at));" },
        ]),
      },
    ];
    {
      await using store = await openStore({ path: db, pluginMigrations: v1 });
      expect(await store.insert("uptime_samples", [{ machine_id: "m", collected_at: "2026-01-01T00:00:00Z", seconds: 5 }])).toBe(1);
      const rows = await store.query("select source, version, name from schema_migrations where source <> 'core'");
      expect(rows).toEqual([{ source: "uptime", version: 1, name: "001_uptime.sql" }]);
    }
    const edited = [{ source: "uptime", migrations: toMigrations([{ name: "001_uptime.sql", sql: "CREATE TABLE uptime_samples(x INTEGER);" }]) }];
    const err = await openStore({ path: db, pluginMigrations: edited }).catch((e) => e);
    expect(err.code).toBe("migration_changed");
    expect(err.message).toContain("001_uptime.sql (plugin uptime)");
    // a store opened without the plugin still opens: plugins come and go
    await (await openStore({ path: db })).close();
    expect(() => toMigrations([{ name: "uptime.sql", sql: "" }], "plugin uptime")).toThrow('"uptime.sql" is not named NNN_description.sql');
  });
});
