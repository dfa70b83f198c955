// Retention's figures (`bun run bench memory`):
//   1. store bytes per machine-day, raw and after `vc vacuum` with the retention
//      (samples 7 days, the rest 30, the 1-minute tier 30 days, the 1-hour tier 400), for the demo
//      fleet (20 machines x 30 days x 2-minute samples) and for the same fleet over a year;
//   2. vacuum and export throughput (rows/s), each as a ratio to DuckDB's own
//      COPY (SELECT …) TO … (FORMAT parquet, PARTITION_BY …) of the same rows in this process;
//   3. `vc robot series --window 7d` (whole process) on the year store after retention vs the
//      30-day raw store.
// Store bytes are DuckDB's blocks in use (pragma database_size: used_blocks x block_size); the
// file itself keeps its size after a vacuum (DuckDB reuses its free blocks, it does not shrink it).
// Vacuums run with vc's default store limits (128 MB), as `vc vacuum` and `vc up` do.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createDemoFleet } from "../../examples/demo-fleet.ts";
import { exportStore, openStore, runVacuum, type RetentionConfig } from "../../lib/index.ts";
import { loadTables } from "../../lib/retention/_tables.ts";

const END = new Date("2026-01-25T03:00:00Z");
const MACHINES = 20;
/**
 * The year: 10 machines (the demo generator writes a year of 20 machines' filesystems in one
 * INSERT, which does not fit its 2 GB); figures are per machine-day, so they hold for 20 (whose
 * store is twice the size).
 */
const YEAR_DAYS = Number(process.env.VC_BENCH_YEAR_DAYS ?? 365);
const YEAR_MACHINES = 10;
const dir = mkdtempSync(join(tmpdir(), "vc-bench-memory-"));
const cli = resolve(import.meta.dir, "../../cli/index.ts");
/** The example, and every table's raw rows a week. */
const RETENTIONS: Record<string, (out: string) => RetentionConfig> = {
  "retention as the issue's example (samples 7 d, the rest 30 d, 1-min tier 30 d, 1-h tier 400 d)": (out) => ({
    raw_days: { sys_samples: 7, default: 30 },
    rollup_days: { "1m": 30, "1h": 400 },
    delete: true,
    export_before_delete: out,
    quiet_hour: null,
  }),
  "retention of a week (every table 7 d, 1-min tier 7 d, 1-h tier 400 d)": (out) => ({
    raw_days: { default: 7 },
    rollup_days: { "1m": 7, "1h": 400 },
    delete: true,
    export_before_delete: out,
    quiet_hour: null,
  }),
};

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const kb = (b: number) => `${(b / 1e3).toFixed(1)} KB`;
const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Blocks in use x block size, the file's size, and the largest tables' column data (pragma_storage_info), of a closed store. */
async function bytesOf(db: string): Promise<{ used: number; file: number; tables: string }> {
  const store = await openStore({ path: db });
  try {
    const [r] = await store.query<{ used: number; block: number }>(
      "SELECT (used_blocks * block_size)::BIGINT AS used, block_size AS block FROM pragma_database_size() WHERE database_name = current_database()",
    );
    const names = await store.query<{ t: string }>("SELECT table_name AS t FROM duckdb_tables() WHERE schema_name = 'main' AND estimated_size > 0");
    const sizes: [string, number][] = [];
    for (const { t } of names) {
      const [b] = await store.query<{ n: number }>(`SELECT count(DISTINCT block_id)::BIGINT AS n FROM pragma_storage_info('${t}') WHERE persistent`);
      sizes.push([t, Number(b!.n) * Number(r!.block)]);
    }
    const top = sizes
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([t, b]) => `${t} ${mb(b)}`)
      .join(", ");
    return { used: Number(r!.used), file: statSync(db).size, tables: top };
  } finally {
    await store.close();
  }
}

function copy(db: string, name: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  copyFileSync(db, join(d, "vc.duckdb"));
  return join(d, "vc.duckdb");
}

/** DuckDB's own COPY of the rows `where` selects of each table, partitioned by date, in this process. */
async function duckdbCopy(db: string, out: string, parts: { table: string; time: string; where: string }[]): Promise<{ rows: number; ms: number }> {
  mkdirSync(out, { recursive: true });
  const instance = await DuckDBInstance.create(db, { threads: "1" });
  const c = await instance.connect();
  try {
    let rows = 0;
    const t = performance.now();
    for (const p of parts) {
      const r = await c.run(
        `COPY (SELECT *, CAST("${p.time}" AS DATE) AS "date" FROM "${p.table}" WHERE ${p.where}) TO '${out}/table=${p.table}' (FORMAT parquet, PARTITION_BY ("date"), OVERWRITE_OR_IGNORE)`,
      );
      rows += Number(r.rowsChanged);
    }
    return { rows, ms: performance.now() - t };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function wall(argv: string[]): Promise<number> {
  const t = performance.now();
  const p = Bun.spawn(argv, { env: { ...process.env, VC_NOW: END.toISOString(), NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${out.slice(0, 300)}`);
  return performance.now() - t;
}

interface Vacuumed {
  name: string;
  after: Awaited<ReturnType<typeof bytesOf>>;
  report: Awaited<ReturnType<typeof runVacuum>>;
  ms: number;
  phases: { rollup: number; export: number; delete: number };
  db: string;
}

/** Vacuums a copy of `db` with one retention, timing its steps (each lasts until the next one's first event). */
async function vacuumCopy(db0: string, name: string, r: (out: string) => RetentionConfig): Promise<Vacuumed> {
  const db = copy(db0, name);
  const store = await openStore({ path: db });
  const t0 = performance.now();
  const phases = { rollup: 0, export: 0, delete: 0 };
  let step: keyof typeof phases | null = null;
  let since = t0;
  const enter = (next: keyof typeof phases | null) => {
    const now = performance.now();
    if (step) phases[step] += now - since;
    [step, since] = [next, now];
  };
  let report: Awaited<ReturnType<typeof runVacuum>>;
  try {
    report = await runVacuum({
      store,
      config: { source: "bench", retention: r(join(dir, `${name}-parquet`)) },
      now: END,
      onProgress: (p) => {
        const next = p.step === "rollup" ? "rollup" : p.step === "export" || p.step === "published" ? "export" : p.step === "delete" ? "delete" : null;
        if (next !== step) enter(next);
      },
    });
    enter(null);
  } finally {
    await store.close();
  }
  const ms = performance.now() - t0;
  if (!report.ok) throw new Error(`vacuum failed: ${JSON.stringify(report.outcomes.filter((o) => o.error))}`);
  return { name, after: await bytesOf(db), report, ms, phases, db };
}

/** Generates the fleet, measures it raw, then after a vacuum with each retention. */
async function fleetFigures(days: number, machines: number) {
  const t = performance.now();
  const fleet = await createDemoFleet({ out: join(dir, `fleet-${days}`), machines, days, end: END, alerts: false });
  const genS = (performance.now() - t) / 1000;
  const raw = await bytesOf(fleet.db);
  const variants: Vacuumed[] = [];
  for (const [name, r] of Object.entries(RETENTIONS)) variants.push({ ...(await vacuumCopy(fleet.db, `${days}d-${variants.length}`, r)), name });
  return { fleet, genS, raw, variants, machineDays: machines * days };
}

function printBytes(label: string, f: Awaited<ReturnType<typeof fleetFigures>>) {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `${label}: ${f.fleet.machines.length} machines x ${f.machineDays / f.fleet.machines.length} days, ${f.fleet.samples.toLocaleString("en")} samples (generated in ${f.genS.toFixed(1)} s)`,
  );
  console.log(`  raw: ${mb(f.raw.used)} used, ${kb(f.raw.used / f.machineDays)} per machine-day (file ${mb(f.raw.file)})`);
  console.log(`       column data: ${f.raw.tables}; the rest: primary-key indexes`);
  for (const v of f.variants) {
    const exported = v.report.outcomes.reduce((a, o) => a + o.rows_exported, 0);
    console.log(
      `  ${v.name}: ${mb(v.after.used)} used, ${kb(v.after.used / f.machineDays)} per machine-day of history (raw or rolled up): ${(f.raw.used / v.after.used).toFixed(2)}x smaller (file ${mb(v.after.file)})`,
    );
    console.log(`       column data: ${v.after.tables}`);
    console.log(
      `       vacuum ${s(v.ms)}: rollups ${s(v.phases.rollup)}, export ${s(v.phases.export)}, delete and rewrite ${s(v.phases.delete)}; ${exported.toLocaleString("en")} rows exported and deleted, ${v.report.rolled_up.reduce((a, r) => a + r.rows, 0).toLocaleString("en")} raw rows rolled up`,
    );
  }
}

try {
  // ── 1. the demo fleet, 30 days ──────────────────────────────────────────────────────────────
  const month = await fleetFigures(30, MACHINES);
  printBytes("30 days", month);

  // ── 2. throughput vs DuckDB's COPY ──────────────────────────────────────────────────────────
  // Vacuum: the rows it exported (and deleted) per second, rollups included, against COPY of those rows.
  const first = month.variants[0]!;
  const parts = first.report.tables
    .filter((t) => t.mode === "delete" && t.past_span > 0)
    .map((t) => ({ table: t.table, time: t.time_column, where: `"${t.time_column}" < TIMESTAMP '${t.cutoff.slice(0, 19).replace("T", " ")}'` }));
  const vacuumRows = first.report.outcomes.reduce((a, o) => a + o.rows_exported, 0);
  const ref = await duckdbCopy(copy(month.fleet.db, "ref-vacuum"), join(dir, "ref-vacuum-out"), parts);
  if (ref.rows !== vacuumRows) throw new Error(`COPY wrote ${ref.rows} rows, the vacuum exported ${vacuumRows}`);
  // Export: the whole month of every table.
  const exportDb = copy(month.fleet.db, "export");
  const from = new Date(END.getTime() - 31 * 86_400_000);
  const to = new Date(END.getTime() + 3_600_000);
  const store = await openStore({ path: exportDb });
  let exported: Awaited<ReturnType<typeof exportStore>>;
  let exportMs: number;
  let exportParts: { table: string; time: string; where: string }[];
  try {
    const tables = await loadTables(store.query.bind(store));
    const t = performance.now();
    exported = await exportStore({ store, out: join(dir, "export-out"), from, to });
    exportMs = performance.now() - t;
    const ts = (d: Date) => d.toISOString().slice(0, 19).replace("T", " ");
    exportParts = exported.tables
      .filter((x) => x.rows > 0)
      .map((x) => ({ table: x.table, time: tables.get(x.table)!.time!, where: `"${x.time_column}" >= TIMESTAMP '${ts(from)}' AND "${x.time_column}" < TIMESTAMP '${ts(to)}'` }));
  } finally {
    await store.close();
  }
  const exportRef = await duckdbCopy(exportDb, join(dir, "ref-export-out"), exportParts);
  if (exportRef.rows !== exported.rows) throw new Error(`COPY wrote ${exportRef.rows} rows, vc export ${exported.rows}`);
  const vRate = rate(vacuumRows, first.ms);
  const vxRate = rate(vacuumRows, first.phases.export);
  const cRate = rate(ref.rows, ref.ms);
  const eRate = rate(exported.rows, exportMs);
  const ceRate = rate(exportRef.rows, exportRef.ms);
  console.log("\nthroughput, rows/s (same rows, same process, one DuckDB thread each)");
  console.log(
    `  vacuum, whole (rollups, export, count back, delete and rewrite): ${vRate.toLocaleString("en")} rows/s vs COPY ${cRate.toLocaleString("en")} rows/s: ${(vRate / cRate).toFixed(2)}x`,
  );
  console.log(`  vacuum, its export step (stream, COPY, count back, move into place): ${vxRate.toLocaleString("en")} rows/s: ${(vxRate / cRate).toFixed(2)}x`);
  console.log(
    `  vc export (stream to a scratch DuckDB, COPY, count back): ${eRate.toLocaleString("en")} rows/s vs COPY ${ceRate.toLocaleString("en")} rows/s: ${(eRate / ceRate).toFixed(2)}x`,
  );
  console.log(
    `    (${exported.rows.toLocaleString("en")} rows of ${exported.tables.filter((x) => x.rows > 0).length} tables in ${(exportMs / 1000).toFixed(1)} s; COPY ${(exportRef.ms / 1000).toFixed(1)} s)`,
  );

  // ── 3. a year ───────────────────────────────────────────────────────────────────────────────
  const year = await fleetFigures(YEAR_DAYS, YEAR_MACHINES);
  console.log("");
  printBytes(`${YEAR_DAYS} days`, year);

  // ── 4. a 7-day chart on the year store after retention vs the 30-day raw store ─────────────
  const seriesOn = async (config: string, db: string) => {
    const argv = ["bun", cli, "robot", "series", "node-01", "--window", "7d", "--config", config, "--db", db];
    await wall(argv);
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) runs.push(await wall(argv));
    return median(runs);
  };
  const monthMs = await seriesOn(month.fleet.config, month.fleet.db);
  const yearMs = await seriesOn(year.fleet.config, year.variants[0]!.db);
  console.log(
    `\nvc robot series --window 7d, whole process, median of 5: 30-day raw store ${monthMs.toFixed(0)} ms, ${YEAR_DAYS}-day store after the issue's retention ${yearMs.toFixed(0)} ms (${(yearMs / monthMs).toFixed(2)}x, target <= 1.3x)`,
  );
  // ── 5. vc robot health, whole process, on the same two stores (target <= 300 ms and <= 1.3x) ──
  const healthOn = async (config: string, db: string) => {
    const argv = ["bun", cli, "robot", "health", "--config", config, "--db", db];
    await wall(argv);
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) runs.push(await wall(argv));
    return median(runs);
  };
  const monthHealth = await healthOn(month.fleet.config, month.fleet.db);
  const yearHealth = await healthOn(year.fleet.config, year.variants[0]!.db);
  console.log(
    `vc robot health, whole process, median of 5: 30-day raw store ${monthHealth.toFixed(0)} ms, ${YEAR_DAYS}-day store after the issue's retention ${yearHealth.toFixed(0)} ms (${(yearHealth / monthHealth).toFixed(2)}x, target <= 1.3x; ${yearHealth <= 300 ? "within" : "over"} the 300 ms target)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
