import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { VcError, errorMessage } from "../errors.ts";
import type { Clock } from "../clock.ts";
import type { DuckDBConnection } from "@duckdb/node-api";

/** The migrations that ship with vc. */
export const defaultMigrationsDir = fileURLToPath(new URL("../../migrations/", import.meta.url));

/** One numbered SQL file: `NNN_description.sql`. */
export interface Migration {
  version: number;
  name: string;
  description: string;
  sql: string;
  checksum: string;
}

/** Reads `NNN_*.sql` files in order, each with its sha256. */
export function loadMigrations(dir: string = defaultMigrationsDir): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d+_.+\.sql$/.test(f));
  const migrations = files.map((name) => {
    const bytes = readFileSync(join(dir, name));
    const version = Number.parseInt(name, 10);
    return {
      version,
      name,
      description: name.replace(/^\d+_/, "").replace(/\.sql$/, "").replaceAll("_", " "),
      sql: bytes.toString("utf8"),
      checksum: createHash("sha256").update(bytes).digest("hex"),
    };
  });
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new VcError("migration_failed", `two migrations share version ${migrations[i]!.version}: ${migrations[i - 1]!.name}, ${migrations[i]!.name}`);
    }
  }
  return migrations;
}

const ledger = `CREATE TABLE IF NOT EXISTS schema_migrations(
  version INTEGER PRIMARY KEY,
  name VARCHAR NOT NULL,
  description VARCHAR,
  checksum VARCHAR NOT NULL,
  applied_at TIMESTAMP NOT NULL
)`;

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Applies pending migrations in order, each in its own transaction, and refuses to go on
 * when an applied migration's file has changed since. Read-only stores are only checked.
 * Returns the versions applied now.
 */
export async function migrate(
  conn: DuckDBConnection,
  options: { clock: Clock; dir?: string; readOnly?: boolean },
): Promise<number[]> {
  const migrations = loadMigrations(options.dir);
  let applied: Applied[] = [];
  const ledgerRows = await conn
    .runAndReadAll("SELECT version, name, checksum FROM main.schema_migrations ORDER BY version")
    .then((r) => r.getRowObjects() as unknown as Applied[])
    .catch(() => null); // no ledger yet: a new store
  if (ledgerRows) applied = ledgerRows;
  else if (!options.readOnly) await conn.run(ledger);

  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const a of applied) {
    const m = byVersion.get(a.version);
    if (!m) {
      throw new VcError("migration_newer", `the store has migration ${a.name}, which this vc does not know`, {
        hint: "this store was written by a newer vc: upgrade vc, or point --db at another file",
      });
    }
    if (m.checksum !== a.checksum) {
      throw new VcError("migration_changed", `migration ${m.name} was changed after it was applied to this store`, {
        hint: `recorded sha256 ${a.checksum.slice(0, 12)}…, file now ${m.checksum.slice(0, 12)}…; restore the file and add a new numbered migration instead`,
        details: { migration: m.name, recorded: a.checksum, current: m.checksum },
      });
    }
  }

  const done = new Set(applied.map((a) => a.version));
  const pending = migrations.filter((m) => !done.has(m.version));
  if (options.readOnly) return [];
  for (const m of pending) {
    await conn.run("BEGIN TRANSACTION");
    try {
      await conn.run(m.sql);
      await conn.run(
        "INSERT INTO schema_migrations(version, name, description, checksum, applied_at) VALUES ($1, $2, $3, $4, $5::TIMESTAMP)",
        [m.version, m.name, m.description, m.checksum, options.clock.now().toISOString()],
      );
      await conn.run("COMMIT");
    } catch (err) {
      await conn.run("ROLLBACK").catch(() => {});
      throw new VcError("migration_failed", `migration ${m.name} failed: ${errorMessage(err)}`, { cause: err });
    }
  }
  return pending.map((m) => m.version);
}
