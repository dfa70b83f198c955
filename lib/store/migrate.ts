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

/** Migrations of one source: vc's core schema ("core") or a plugin's own tables (its name). */
export interface MigrationSource {
  source: string;
  migrations: Migration[];
}

/** What a plugin may bring: a folder of `NNN_*.sql` files, or the files' names and text. */
export type MigrationsInput = string | readonly { name: string; sql: string }[];

/** Reads `NNN_*.sql` files in order, each with its sha256. */
export function loadMigrations(dir: string = defaultMigrationsDir): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d+_.+\.sql$/.test(f));
  return toMigrations(
    files.map((name) => ({ name, sql: readFileSync(join(dir, name), "utf8") })),
    dir,
  );
}

/** Numbered migrations from names and SQL text; the version is the name's leading number. */
export function toMigrations(input: MigrationsInput, where = "migrations"): Migration[] {
  if (typeof input === "string") return loadMigrations(input);
  const migrations = input.map(({ name, sql }) => {
    if (!/^\d+_.+\.sql$/.test(name)) throw new VcError("migration_failed", `${where}: "${name}" is not named NNN_description.sql`);
    return {
      version: Number.parseInt(name, 10),
      name,
      description: name
        .replace(/^\d+_/, "")
        .replace(/\.sql$/, "")
        .replaceAll("_", " "),
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    };
  });
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new VcError("migration_failed", `${where}: two migrations share version ${migrations[i]!.version}: ${migrations[i - 1]!.name}, ${migrations[i]!.name}`);
    }
  }
  return migrations;
}

const ledger = `CREATE TABLE IF NOT EXISTS schema_migrations(
  source VARCHAR NOT NULL,
  version INTEGER NOT NULL,
  name VARCHAR NOT NULL,
  description VARCHAR,
  checksum VARCHAR NOT NULL,
  applied_at TIMESTAMP NOT NULL,
  PRIMARY KEY (source, version)
)`;

interface Applied {
  source: string;
  version: number;
  name: string;
  checksum: string;
}

/**
 * Applies pending migrations in order — vc's core first, then each plugin's — each in its own
 * transaction, and refuses to go on when an applied migration's file has changed since.
 * Read-only stores are only checked. Returns the names applied now.
 */
export async function migrate(
  conn: DuckDBConnection,
  options: {
    clock: Clock;
    dir?: string;
    sources?: readonly MigrationSource[];
    readOnly?: boolean;
    pending?: string[];
    /** Told of a plugin source whose migration failed; the rest load (without it, the failure throws). Core failures always throw. */
    onSourceFailed?: (source: string, err: VcError) => void;
  },
): Promise<string[]> {
  const sources: MigrationSource[] = [{ source: "core", migrations: loadMigrations(options.dir) }, ...(options.sources ?? [])];
  const ledgerRows = await conn
    .runAndReadAll("SELECT source, version, name, checksum FROM main.schema_migrations ORDER BY source, version")
    .then((r) => r.getRowObjects() as unknown as Applied[])
    .catch((err: unknown) => {
      if (/Table with name schema_migrations does not exist/i.test(errorMessage(err))) return null; // a new store
      throw new VcError("migration_failed", `cannot read this store's migration ledger: ${errorMessage(err).split("\n")[0]}`, {
        hint: "the store was made by an incompatible (development) build of vc: point --db at a new file",
      });
    });
  const applied = ledgerRows ?? [];
  if (!ledgerRows && !options.readOnly) await conn.run(ledger);

  const done: string[] = [];
  nextSource: for (const { source, migrations } of sources) {
    const byVersion = new Map(migrations.map((m) => [m.version, m]));
    const mine = applied.filter((a) => a.source === source);
    for (const a of mine) {
      const m = byVersion.get(a.version);
      if (!m) {
        // Core migrations unknown to this vc mean a newer vc wrote the store; plugins may come and go.
        if (source !== "core") continue;
        throw new VcError("migration_newer", `the store has migration ${a.name}, which this vc does not know`, {
          hint: "this store was written by a newer vc: upgrade vc, or point --db at another file",
        });
      }
      if (m.checksum !== a.checksum) {
        const who = source === "core" ? "" : ` (plugin ${source})`;
        throw new VcError("migration_changed", `migration ${m.name}${who} was changed after it was applied to this store`, {
          hint: `recorded sha256 ${a.checksum.slice(0, 12)}…, file now ${m.checksum.slice(0, 12)}…; restore the file and add a new numbered migration instead`,
          details: { source, migration: m.name, recorded: a.checksum, current: m.checksum },
        });
      }
    }
    const have = new Set(mine.map((a) => a.version));
    if (options.readOnly) {
      options.pending?.push(...migrations.filter((x) => !have.has(x.version)).map((x) => x.name));
      continue;
    }
    for (const m of migrations.filter((x) => !have.has(x.version))) {
      await conn.run("BEGIN TRANSACTION");
      try {
        await conn.run(m.sql);
        await conn.run("INSERT INTO schema_migrations(source, version, name, description, checksum, applied_at) VALUES ($1, $2, $3, $4, $5, $6::TIMESTAMP)", [
          source,
          m.version,
          m.name,
          m.description,
          m.checksum,
          options.clock.now().toISOString(),
        ]);
        await conn.run("COMMIT");
        done.push(source === "core" ? m.name : `${source}/${m.name}`);
      } catch (err) {
        await conn.run("ROLLBACK").catch(() => {});
        const failure = new VcError("migration_failed", `migration ${m.name}${source === "core" ? "" : ` (plugin ${source})`} failed: ${errorMessage(err)}`, { cause: err });
        if (source === "core" || !options.onSourceFailed) throw failure;
        options.onSourceFailed(source, failure);
        continue nextSource;
      }
    }
  }
  return done;
}
