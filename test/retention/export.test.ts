// `vc export`: hive-partitioned Parquet that DuckDB's read_parquet reads back with the same rows,
// values and types, per table (TIMESTAMP, JSON, BIGINT, DOUBLE, BOOLEAN among them); a folder that
// is not empty is refused unless --append, and no file is ever replaced; --from after --to is a
// usage error; with `vc up` holding the store, export and vacuum are refused naming it, and a dry
// run goes through it.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { createDemoFleet, type DemoFleet } from "../../examples/demo-fleet.ts";
import { DEMO_TOOLS_END } from "../../examples/demo-tools.ts";
import { exportStore, openStore, pluginMigrations, type ExportResult } from "../../lib/index.ts";
import { loadTables } from "../../lib/retention/_tables.ts";
import { createParquetSink, withSnapshot } from "../../lib/retention/parquet.ts";
import { toolPlugins } from "../../plugins/index.ts";
import { isolatedEnv, vc, vcSpawn } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(90_000);

const dir = tempDir("vc-export-");
const env = isolatedEnv(dir);
const END = DEMO_TOOLS_END;
const FROM = new Date(END.getTime() - 2 * 86_400_000);
let fleet: DemoFleet;
let config: string;
let result: ExportResult;
let duck: DuckDBConnection;
let instance: DuckDBInstance;

const open = () => openStore({ path: fleet.db, pluginMigrations: pluginMigrations([], toolPlugins) });
const q = async <T = Record<string, unknown>>(text: string) => (await duck.runAndReadAll(text)).getRowObjectsJS() as T[];
const parquet = (out: string, table: string) => `read_parquet('${out}/table=${table}/**/*.parquet', hive_partitioning = true)`;

beforeAll(async () => {
  // Three machines' samples and the real tools' rows (caut, caam, pt, dcg, ntm, mail) on node-03.
  fleet = await createDemoFleet({ out: join(dir, "fleet"), machines: 3, days: 2, end: END, tools: true });
  config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
import { toolPlugins } from "vibe-cockpit/plugins";
export default defineConfig({
  db: ${JSON.stringify(fleet.db)},
  polling: { interval_seconds: 3600 },
  machines: [{ id: "node-01", ssh: "local" }],
  plugins: toolPlugins,
  retention: { raw_days: { sys_samples: 1 }, quiet_hour: 3 },
});
`,
  );
  const store = await open();
  try {
    result = await exportStore({ store, out: join(dir, "out"), from: FROM, to: new Date(END.getTime() + 3_600_000) });
  } finally {
    await store.close();
  }
  instance = await DuckDBInstance.create(":memory:");
  duck = await instance.connect();
  await duck.run(`ATTACH '${fleet.db}' AS s (READ_ONLY)`);
});
afterAll(() => {
  duck?.closeSync();
  instance?.closeSync();
});

describe("vc export", () => {
  it("writes table=<t>/date=<day>/ folders that read back with the same rows, values and types, per table", async () => {
    const out = join(dir, "out");
    const written = result.tables.filter((t) => t.rows > 0);
    expect(written.map((t) => t.table)).toEqual(
      expect.arrayContaining(["sys_samples", "filesystems", "dcg_events", "account_usage_snapshots", "mail_messages", "repo_status_snapshots"]),
    );
    const types = new Set<string>();
    for (const t of written) {
      const cols = await q<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 's' AND table_name = '${t.table}' ORDER BY column_index`,
      );
      const back = await q<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${parquet(out, t.table)}`);
      // The table's own columns with their own types, then the two partitions.
      expect({ table: t.table, columns: back.map((c) => `${c.column_name} ${c.column_type}`) }).toEqual({
        table: t.table,
        columns: [...cols.map((c) => `${c.column_name} ${c.data_type}`), "date DATE", "table VARCHAR"],
      });
      for (const c of cols) types.add(c.data_type);
      const names = cols.map((c) => `"${c.column_name}"`).join(", ");
      const range = `"${t.time_column}" >= TIMESTAMP '${FROM.toISOString().slice(0, 19)}' AND "${t.time_column}" < TIMESTAMP '${new Date(END.getTime() + 3_600_000).toISOString().slice(0, 19)}'`;
      const [counts] = await q<{ store: number; back: number; missing: number; extra: number; misfiled: number }>(`SELECT
          (SELECT count(*) FROM s."${t.table}" WHERE ${range})::INTEGER AS store,
          (SELECT count(*) FROM ${parquet(out, t.table)})::INTEGER AS back,
          (SELECT count(*) FROM (SELECT ${names} FROM s."${t.table}" WHERE ${range} EXCEPT ALL SELECT ${names} FROM ${parquet(out, t.table)}))::INTEGER AS missing,
          (SELECT count(*) FROM (SELECT ${names} FROM ${parquet(out, t.table)} EXCEPT ALL SELECT ${names} FROM s."${t.table}" WHERE ${range}))::INTEGER AS extra,
          (SELECT count(*) FROM ${parquet(out, t.table)} WHERE "date" <> CAST("${t.time_column}" AS DATE) OR "table" <> '${t.table}')::INTEGER AS misfiled`);
      expect({ table: t.table, ...counts }).toEqual({ table: t.table, store: t.rows, back: t.rows, missing: 0, extra: 0, misfiled: 0 });
      expect(t.files.every((f) => f.startsWith(`table=${t.table}/date=`) && f.endsWith(".parquet"))).toBe(true);
    }
    expect([...types]).toEqual(expect.arrayContaining(["TIMESTAMP", "JSON", "BIGINT", "DOUBLE", "BOOLEAN", "INTEGER", "VARCHAR"]));
    // The whole folder at once, as the issue writes it.
    const all = await q<{ table: string; n: number }>(
      `SELECT "table", count(*)::INTEGER AS n FROM read_parquet('${out}/**/*.parquet', hive_partitioning = true, union_by_name = true) GROUP BY 1 ORDER BY 1`,
    );
    expect(all).toEqual(written.map((t) => ({ table: t.table, n: t.rows })).sort((a, b) => a.table.localeCompare(b.table)));
    // Nothing staged is left behind.
    expect(readdirSync(out).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("refuses a folder that is not empty unless --append, and --append replaces nothing", async () => {
    const out = join(dir, "append");
    mkdirSync(out);
    writeFileSync(join(out, "NOTES.txt"), "mine\n");
    const args = ["export", "--config", config, "--from", FROM.toISOString(), "--to", END.toISOString(), "--tables", "sys_samples", "--out", out];
    const refused = await vc(args, { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`vc export: --out: ${out} is not empty (1 entry); vc export writes into an empty folder`);
    expect(readdirSync(out)).toEqual(["NOTES.txt"]);

    const first = await vc([...args, "--append", "--format", "json"], { env });
    expect(first.code).toBe(0);
    const one = JSON.parse(first.stdout) as ExportResult;
    const before = new Map(one.tables[0]!.files.map((f) => [f, { body: readFileSync(join(out, f)), ino: statSync(join(out, f)).ino }]));
    const again = await vc([...args, "--append", "--format", "json"], { env });
    expect(again.code).toBe(0);
    const two = JSON.parse(again.stdout) as ExportResult;
    // New files beside the old ones, which are as they were.
    expect(two.tables[0]!.files.some((f) => before.has(f))).toBe(false);
    for (const [f, was] of before) expect({ f, same: readFileSync(join(out, f)).equals(was.body) && statSync(join(out, f)).ino === was.ino }).toEqual({ f, same: true });
    expect(readFileSync(join(out, "NOTES.txt"), "utf8")).toBe("mine\n");
    const [n] = await q<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${parquet(out, "sys_samples")}`);
    expect(n!.n).toBe(one.rows + two.rows);
  });

  it("never moves a file onto one that exists", async () => {
    const out = join(dir, "collide");
    const store = await open();
    try {
      const sink = await createParquetSink(out, "export-collide");
      try {
        const table = (await loadTables(store.query.bind(store))).get("sys_samples")!;
        await withSnapshot(store, (conn) => sink.stage({ conn, table, where: { kind: "sql", strings: ["true"], values: [] } }));
        const stage = join(out, ".vc-staging-export-collide", "table=sys_samples");
        const [dayDir] = readdirSync(stage);
        const [file] = readdirSync(join(stage, dayDir!));
        const target = join(out, "table=sys_samples", dayDir!, file!.replace(/\.partial$/, ".parquet"));
        mkdirSync(join(out, "table=sys_samples", dayDir!), { recursive: true });
        writeFileSync(target, "someone else's file\n");
        expect(() => sink.publish("sys_samples")).toThrow(`${target} exists already; vc never replaces a file`);
        expect(readFileSync(target, "utf8")).toBe("someone else's file\n");
        sink.discard();
      } finally {
        await sink.close();
      }
    } finally {
      await store.close();
    }
    expect(existsSync(join(out, ".vc-staging-export-collide"))).toBe(false);
  });

  it("refuses --from after --to, an unknown table and a table without history, as usage errors", async () => {
    const base = ["export", "--config", config, "--out", join(dir, "never")];
    const after = await vc([...base, "--from", "2026-08-20", "--to", "2026-08-19"], { env });
    expect(after.code).toBe(2);
    expect(after.stderr).toContain("vc export: --from 2026-08-20T00:00:00.000Z is not before --to 2026-08-19T00:00:00.000Z");
    const bad = await vc([...base, "--from", "yesterday"], { env });
    expect([bad.code, bad.stderr.split("\n")[0]]).toEqual([
      2,
      'vc export: --from: expected an ISO 8601 time (2026-01-25, 2026-01-25T03:00:00Z) or a duration back from now (7d), got "yesterday"',
    ]);
    const unknown = await vc([...base, "--from", "2026-08-19", "--tables", "sys_sample"], { env });
    expect([unknown.code, unknown.stderr]).toEqual([2, 'vc export: --tables: no table "sys_sample" in the store\n  hint: did you mean sys_samples?\n']);
    const state = await vc([...base, "--from", "2026-08-19", "--tables", "machines"], { env });
    expect(state.code).toBe(2);
    expect(state.stderr).toContain('vc export: --tables: table "machines" has no time column');
    expect(existsSync(join(dir, "never"))).toBe(false);
  });

  it("with vc up holding the store: export and vacuum are refused naming it, a dry run goes through it", async () => {
    const daemon = vcSpawn(["up", "--config", config], { env: { ...env, VC_NOW: END.toISOString() } });
    const lock = `${fleet.db}.daemon.json`;
    try {
      for (let i = 0; i < 300 && !existsSync(lock); i++) await Bun.sleep(50);
      expect(existsSync(lock)).toBe(true);
      const pid = (JSON.parse(readFileSync(lock, "utf8")) as { pid: number }).pid;
      const exported = await vc(["export", "--config", config, "--from", FROM.toISOString(), "--out", join(dir, "daemon-out")], { env });
      expect(exported.code).toBe(1);
      expect(exported.stderr).toContain(`vc export: vc up (pid ${pid}) holds ${fleet.db} and serves it on`);
      expect(exported.stderr).toContain("vc export reads the whole store, which cannot go through its socket");
      const vacuum = await vc(["vacuum", "--config", config], { env });
      expect(vacuum.code).toBe(1);
      expect(vacuum.stderr).toContain(`vc vacuum: vc up (pid ${pid}) holds ${fleet.db} and serves it on`);
      expect(vacuum.stderr).toContain("it vacuums the store itself at 3:00");
      const dry = await vc(["vacuum", "--dry-run", "--config", config, "--format", "json"], { env: { ...env, VC_NOW: END.toISOString() } });
      expect(dry.code).toBe(0);
      const plan = JSON.parse(dry.stdout) as { dry_run: boolean; tables: { table: string; past_span: number; delete_rows: number }[] };
      expect(plan.dry_run).toBe(true);
      expect(plan.tables.find((t) => t.table === "sys_samples")).toMatchObject({ delete_rows: 0 });
      expect(plan.tables.find((t) => t.table === "sys_samples")!.past_span).toBeGreaterThan(0);
    } finally {
      daemon.kill("SIGTERM");
      await daemon.exited;
    }
  });
});
