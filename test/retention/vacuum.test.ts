// `vc vacuum`: a dry run says per table what it would roll up, export and delete and changes
// nothing; deletion off, rows past their span are exported once; deletion on, exactly what is
// exported is deleted and the table rewritten so its space is reused; the daemon vacuums once a day
// at the quiet hour, audited; the command prints plain progress lines when piped.
import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createDemoFleet } from "../../examples/demo-fleet.ts";
import { createFixedClock, openCockpit, openStore, resolveConfig, runDaemon, runVacuum, sql, vacuumAtQuietHour, type RetentionConfig, type Store } from "../../lib/index.ts";
import { isolatedEnv, vc as runVc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(90_000);

const dir = tempDir("vc-vacuum-");
const END = new Date("2026-01-25T03:00:00Z");
let base: string;
let n = 0;

beforeAll(async () => {
  base = (await createDemoFleet({ out: join(dir, "base"), machines: 3, days: 6, end: END })).db;
});

/** A copy of the base store for one test. */
function copy(): string {
  const d = join(dir, `s${n++}`);
  mkdirSync(d);
  copyFileSync(base, join(d, "vc.duckdb"));
  return join(d, "vc.duckdb");
}

const retention = (r: Partial<RetentionConfig>): RetentionConfig => ({
  raw_days: {},
  rollup_days: { "1m": 2, "1h": null },
  delete: false,
  export_before_delete: null,
  quiet_hour: null,
  ...r,
});
const counts = async (store: Store) =>
  Object.fromEntries(
    await Promise.all(
      ["sys_samples", "filesystems", "rollups_1m", "rollups_1h", "retention_runs", "audit_events"].map(async (t) => [
        t,
        (await store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM ${sql.identifier(t)}`))[0]!.n,
      ]),
    ),
  );
const parquetRows = async (out: string, table: string) => {
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    return Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${out}/table=${table}/**/*.parquet')`)).getRows()[0]![0]);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
};

describe("vc vacuum", () => {
  it("--dry-run says per table what it would roll up, export and delete, and the bytes, and changes nothing", async () => {
    const store = await openStore({ path: copy() });
    try {
      const before = await counts(store);
      const out = join(dir, "dry-out");
      const plan = await runVacuum({
        store,
        config: { source: "t", retention: retention({ raw_days: { sys_samples: 2, default: 4 }, delete: true, export_before_delete: out }) },
        now: END,
        dryRun: true,
      });
      const sys = plan.tables.find((t) => t.table === "sys_samples")!;
      const fs = plan.tables.find((t) => t.table === "filesystems")!;
      expect(sys).toMatchObject({ span: "raw_days.sys_samples", days: 2, cutoff: "2026-01-23T00:00:00.000Z", mode: "delete", compact: true, resume: null });
      expect(fs).toMatchObject({ span: "raw_days.default", days: 4, cutoff: "2026-01-21T00:00:00.000Z", mode: "delete" });
      const [past] = await store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM sys_samples WHERE collected_at < TIMESTAMP '2026-01-23 00:00:00'`);
      expect([sys.past_span, sys.export_rows, sys.delete_rows]).toEqual([past!.n, past!.n, past!.n]);
      expect(sys.bytes).toBeGreaterThan(0);
      expect(sys.bytes_freed).toBeGreaterThan(0);
      expect(sys.bytes_freed).toBeLessThan(sys.bytes);
      expect(plan.bytes.method).toContain("pragma_storage_info");
      // What passes its span is rolled up before it goes: into the hour tier (the minute tier keeps
      // 2 days, all of which the raw rows still cover).
      expect(plan.rollups.map((r) => `${r.table} ${r.tier} ${r.from} ${r.to}`)).toEqual([
        "sys_samples 1h 2026-01-19T03:00:00.000Z 2026-01-23T00:00:00.000Z",
        "filesystems 1h 2026-01-19T03:00:00.000Z 2026-01-21T00:00:00.000Z",
      ]);
      expect(plan.unretained).toContain("dcg_events");
      expect(await counts(store)).toEqual(before);
      expect(existsSync(out)).toBe(false);
    } finally {
      await store.close();
    }
  });

  it("with deletion off, exports the rows past their span once and deletes nothing", async () => {
    const store = await openStore({ path: copy() });
    const out = join(dir, "keep-out");
    const config = { source: "t", retention: retention({ raw_days: { sys_samples: 2 }, export_before_delete: out }) };
    try {
      const first = await runVacuum({ store, config, now: END });
      const [past] = await store.query<{ n: number; all: number }>(
        sql`SELECT count(*) FILTER (WHERE collected_at < TIMESTAMP '2026-01-23 00:00:00')::INTEGER AS n, count(*)::INTEGER AS all FROM sys_samples`,
      );
      expect(first.outcomes).toEqual([expect.objectContaining({ table: "sys_samples", state: "done", rows_exported: past!.n, rows_deleted: 0 })]);
      expect(await parquetRows(out, "sys_samples")).toBe(past!.n);
      // A day later: only the day that passed its span.
      const later = await runVacuum({ store, config, now: new Date(END.getTime() + 86_400_000) });
      const [day] = await store.query<{ n: number }>(
        sql`SELECT count(*)::INTEGER AS n FROM sys_samples WHERE collected_at >= TIMESTAMP '2026-01-23 00:00:00' AND collected_at < TIMESTAMP '2026-01-24 00:00:00'`,
      );
      expect(later.outcomes.map((o) => [o.table, o.rows_exported, o.rows_deleted])).toEqual([["sys_samples", day!.n, 0]]);
      // Nothing deleted, nothing rolled up: the raw rows are all there.
      expect(later.rolled_up).toEqual([]);
      expect(await parquetRows(out, "sys_samples")).toBe(past!.n + day!.n);
      const [now] = await store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM sys_samples`);
      expect(now!.n).toBe(past!.all);
    } finally {
      await store.close();
    }
  });

  it("with deletion on, deletes exactly what it exported, rewrites the table and frees its space; audited", async () => {
    const store = await openStore({ path: copy() });
    const out = join(dir, "delete-out");
    try {
      const [before] = await store.query<{ n: number; past: number }>(
        sql`SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE collected_at < TIMESTAMP '2026-01-24 00:00:00')::INTEGER AS past FROM filesystems`,
      );
      const [blocksBefore] = await store.query<{ n: number }>(sql`SELECT count(DISTINCT block_id)::INTEGER AS n FROM pragma_storage_info('filesystems') WHERE persistent`);
      const report = await runVacuum({ store, config: { source: "t", retention: retention({ raw_days: { filesystems: 1 }, delete: true, export_before_delete: out }) }, now: END });
      expect(report.outcomes).toEqual([
        expect.objectContaining({ table: "filesystems", state: "done", rows_exported: before!.past, rows_deleted: before!.past, compacted: true, error: null }),
      ]);
      expect(await parquetRows(out, "filesystems")).toBe(before!.past);
      const [after] = await store.query<{ n: number; oldest: string }>(sql`SELECT count(*)::INTEGER AS n, min(collected_at) AS oldest FROM filesystems`);
      expect(after).toEqual({ n: before!.n - before!.past, oldest: "2026-01-24T00:00:00.000Z" });
      // Rewritten: its primary key and its space as a fresh table's.
      expect(await store.query(sql`SELECT constraint_column_names AS k FROM duckdb_constraints() WHERE table_name = 'filesystems' AND constraint_type = 'PRIMARY KEY'`)).toEqual([
        { k: ["machine_id", "collected_at", "mount"] },
      ]);
      await expect(store.run(sql`INSERT INTO filesystems (machine_id, collected_at, mount) SELECT machine_id, collected_at, mount FROM filesystems LIMIT 1`)).rejects.toThrow(
        /constraint/i,
      );
      // (The store as a whole grew by the new rollup tiers.)
      const [blocks] = await store.query<{ n: number }>(sql`SELECT count(DISTINCT block_id)::INTEGER AS n FROM pragma_storage_info('filesystems') WHERE persistent`);
      expect(blocks!.n).toBeLessThan(blocksBefore!.n / 2);
      const [audit] = await store.query<{ actor: string; result: string; details_json: string }>(
        sql`SELECT actor, result, details_json FROM audit_events WHERE event_type = 'retention_vacuum'`,
      );
      expect(audit).toMatchObject({ actor: "user", result: "ok" });
      expect(JSON.parse(audit!.details_json).tables).toEqual([expect.objectContaining({ table: "filesystems", deleted: before!.past, exported: before!.past })]);
      expect(await store.query(sql`SELECT state, rows_planned, rows_exported, rows_deleted FROM retention_runs`)).toEqual([
        { state: "done", rows_planned: before!.past, rows_exported: before!.past, rows_deleted: before!.past },
      ]);
      // Again at once: nothing past its span, nothing written.
      const again = await runVacuum({ store, config: { source: "t", retention: retention({ raw_days: { filesystems: 1 }, delete: true, export_before_delete: out }) }, now: END });
      expect(again.outcomes).toEqual([]);
      expect(await parquetRows(out, "filesystems")).toBe(before!.past);
    } finally {
      await store.close();
    }
  });

  it("runs in the daemon once a day at the quiet hour, audited as vc up", async () => {
    const db = copy();
    const hour = END.getHours(); // local time, as the config means it
    const config = await resolveConfig(
      { db, machines: [{ id: "node-01", ssh: "local" }], retention: { raw_days: { sys_samples: 2 }, delete: true, quiet_hour: hour } },
      { source: "t", env: {} },
    );
    const clock = createFixedClock(new Date(END.getTime() - 3_600_000));
    const vc = await openCockpit({ config, clock });
    try {
      expect(await vacuumAtQuietHour(vc)).toBeNull(); // an hour early
      clock.set(END);
      await runDaemon(vc, { signal: new AbortController().signal, maxCycles: 1, socketPath: false });
      const audits = await vc.store.query<{ actor: string; result: string }>(sql`SELECT actor, result FROM audit_events WHERE event_type = 'retention_vacuum'`);
      expect(audits).toEqual([{ actor: "vc up", result: "ok" }]);
      const [oldest] = await vc.store.query<{ t: string }>(sql`SELECT min(collected_at) AS t FROM sys_samples`);
      expect(oldest!.t).toBe("2026-01-23T00:00:00.000Z");
      clock.advance(30 * 60_000);
      expect(await vacuumAtQuietHour(vc)).toBeNull(); // done today
      clock.advance(24 * 3_600_000);
      expect((await vacuumAtQuietHour(vc))?.ok).toBe(true); // the next day
    } finally {
      await vc.close();
    }
  });

  it("prints plain progress lines when piped, then the table of what it did", async () => {
    const db = copy();
    const cfgDir = join(dir, "cli");
    mkdirSync(cfgDir);
    const config = join(cfgDir, "vc.config.ts");
    writeFileSync(
      config,
      `import { defineConfig } from "vibe-cockpit";
export default defineConfig({ db: ${JSON.stringify(db)}, machines: [{ id: "node-01", ssh: "local" }],
  retention: { raw_days: { sys_samples: 2 }, rollup_days: { "1m": 2 }, delete: true, export_before_delete: ${JSON.stringify(join(cfgDir, "parquet"))} } });
`,
    );
    const env = isolatedEnv(cfgDir, { VC_NOW: END.toISOString() });
    const dry = await runVc(["vacuum", "--dry-run", "--config", config], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("nothing was changed");
    expect(dry.stdout).toMatch(/sys_samples +raw_days\.sys_samples = 2d +2026-01-23/);
    const run = await runVc(["vacuum", "--config", config], { env });
    expect(run.code).toBe(0);
    expect(run.stderr.split("\n")).toEqual(
      expect.arrayContaining([
        "rolling up sys_samples into the 1h tier",
        expect.stringMatching(/^sys_samples: \d+ file\(s\) written$/),
        expect.stringMatching(/^sys_samples: rewriting without [\d,]+ rows$/),
      ]),
    );
    expect(run.stderr).not.toContain("\r");
    expect(run.stdout).toMatch(/sys_samples +\S+ +done +[\d,]+ +[\d,]+ +yes +\d/);
    expect(readdirSync(join(cfgDir, "parquet"))).toEqual(["table=sys_samples"]);
  });
});
