// A vacuum killed with SIGKILL (a real child process) at each step that matters, and at random
// moments: the store opens and is whole (every row is in the store or in a readable Parquet file,
// none invented), the next vacuum finishes the job, and in the end every deleted row is in the
// export exactly once and every kept row is in the store.
import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { createDemoFleet } from "../../examples/demo-fleet.ts";
import { openStore, runVacuum, sql } from "../../lib/index.ts";
import { CRASH_NOW, crashRetention } from "./_crash.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000);

const dir = tempDir("vc-crash-");
const child = join(import.meta.dir, "_vacuum-child.ts");
const TABLES = ["filesystems", "sys_samples"] as const;
let base: string;

beforeAll(async () => {
  base = (await createDemoFleet({ out: join(dir, "base"), machines: 3, days: 3, end: CRASH_NOW })).db;
});

/** Runs the child until it says `until` (or is done), then kills it with SIGKILL; returns what it said. */
async function killAt(db: string, out: string, o: { step?: string; afterMs?: number }): Promise<string> {
  const p = Bun.spawn(["bun", child, db, out, ...(o.step ? [o.step] : [])], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let said = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of p.stdout as ReadableStream<Uint8Array>) {
      said += decoder.decode(chunk);
      if (/STOPPED|DONE/.test(said)) break;
    }
  })();
  const timer = o.afterMs !== undefined ? setTimeout(() => p.kill("SIGKILL"), o.afterMs) : undefined;
  await Promise.race([reading, p.exited]);
  clearTimeout(timer);
  p.kill("SIGKILL");
  await p.exited;
  if (o.step && !said.includes(`STOPPED ${o.step}`)) throw new Error(`the child never reached ${o.step}: ${said} ${await new Response(p.stderr).text()}`);
  return said.trim();
}

/** Rows of the original store, of the store now and of the export, compared per table in a DuckDB of the test's own. */
async function tally(db: string, out: string) {
  // Opened once by vc first: an interrupted transaction is rolled back, the WAL replayed.
  await (await openStore({ path: db })).close();
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    await c.run(`ATTACH '${base}' AS o (READ_ONLY)`);
    await c.run(`ATTACH '${db}' AS s (READ_ONLY)`);
    const n = async (q: string) => Number((await c.runAndReadAll(`SELECT count(*) FROM (${q})`)).getRows()[0]![0]);
    const out_: Record<string, { original: number; store: number; exported: number; lost: number; invented: number; both: number; duplicated: number }> = {};
    for (const t of TABLES) {
      const cols = (
        await c.runAndReadAll(`SELECT string_agg('"' || column_name || '"', ', ' ORDER BY column_index) FROM duckdb_columns() WHERE database_name = 'o' AND table_name = '${t}'`)
      ).getRows()[0]![0] as string;
      // A table's folder may be left with no file in it by a kill between making it and moving the first file in.
      const dir = join(out, `table=${t}`);
      const files = existsSync(dir) && [...new Bun.Glob("**/*.parquet").scanSync({ cwd: dir })].length > 0;
      const pq = files ? `SELECT ${cols} FROM read_parquet('${out}/table=${t}/**/*.parquet', hive_partitioning = false)` : `SELECT ${cols} FROM o.${t} WHERE false`;
      out_[t] = {
        original: await n(`SELECT * FROM o.${t}`),
        store: await n(`SELECT * FROM s.${t}`),
        exported: await n(pq),
        lost: await n(`SELECT ${cols} FROM o.${t} EXCEPT SELECT ${cols} FROM s.${t} EXCEPT ${pq}`),
        invented: await n(`(SELECT ${cols} FROM s.${t} UNION ALL ${pq}) EXCEPT SELECT ${cols} FROM o.${t}`),
        both: await n(`SELECT ${cols} FROM s.${t} INTERSECT ${pq}`),
        duplicated: await n(`${pq} EXCEPT ALL SELECT DISTINCT * FROM (${pq})`),
      };
    }
    const runs = (await c.runAndReadAll("SELECT table_name, state FROM s.retention_runs ORDER BY table_name, planned_at")).getRowObjectsJS() as {
      table_name: string;
      state: string;
    }[];
    return { tables: out_, runs, staging: existsSync(out) ? readdirSync(out).filter((f) => f.startsWith(".")) : [] };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** After the crash: whole. After the next vacuum: done, each deleted row exported once. */
async function crashThenFinish(name: string, o: { step?: string; afterMs?: number }) {
  const d = join(dir, name);
  mkdirSync(d);
  const db = join(d, "vc.duckdb");
  const out = join(d, "parquet");
  copyFileSync(base, db);
  const said = await killAt(db, out, o);
  const crashed = await tally(db, out);
  for (const t of TABLES) {
    const x = crashed.tables[t]!;
    expect({ name, said, t, lost: x.lost, invented: x.invented, duplicated: x.duplicated }).toEqual({ name, said, t, lost: 0, invented: 0, duplicated: 0 });
  }
  // The next vacuum finishes the job.
  const store = await openStore({ path: db });
  try {
    await runVacuum({ store, config: { source: "crash-test", retention: crashRetention(out) }, now: CRASH_NOW });
    const [cut] = await store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM sys_samples WHERE collected_at < TIMESTAMP '2026-01-24 00:00:00'`);
    expect(cut!.n).toBe(0);
  } finally {
    await store.close();
  }
  const done = await tally(db, out);
  for (const t of TABLES) {
    const x = done.tables[t]!;
    expect({ name, t, lost: x.lost, invented: x.invented, both: x.both, duplicated: x.duplicated, whole: x.store + x.exported }).toEqual({
      name,
      t,
      lost: 0,
      invented: 0,
      both: 0,
      duplicated: 0,
      whole: x.original,
    });
    expect(x.exported).toBeGreaterThan(0);
  }
  expect({ name, states: [...new Set(done.runs.map((r) => r.state))], staging: done.staging }).toEqual({ name, states: ["done"], staging: [] });
  return { crashed, done };
}

describe("vacuum killed with SIGKILL", () => {
  it("while exporting a table: nothing deleted, the half-written export removed and written again", async () => {
    const { crashed } = await crashThenFinish("mid-export", { step: "export:sys_samples" });
    expect(crashed.tables.sys_samples).toMatchObject({ store: crashed.tables.sys_samples!.original });
  });

  it("after a table's files were moved into place, before the run recorded it: exported again, never twice", async () => {
    const { crashed } = await crashThenFinish("after-publish", { step: "published:filesystems" });
    expect(crashed.tables.filesystems!.exported).toBeGreaterThan(0);
    expect(crashed.tables.filesystems!.both).toBe(crashed.tables.filesystems!.exported);
    expect(crashed.runs.find((r) => r.table_name === "filesystems")?.state).toBe("planned");
  });

  it("inside the deletion's transaction: rolled back, the export kept, the next vacuum deletes", async () => {
    const { crashed } = await crashThenFinish("mid-delete", { step: "delete:sys_samples" });
    expect(crashed.tables.sys_samples!.store).toBe(crashed.tables.sys_samples!.original);
    expect(crashed.runs.find((r) => r.table_name === "sys_samples")?.state).toBe("exported");
    expect(crashed.runs.find((r) => r.table_name === "filesystems")?.state).toBe("done");
  });

  it("at random moments", async () => {
    // The child takes about 0.6 s here, its vacuum about 0.4 s of it: kills spread over that (rollups, exports, deletions).
    for (let i = 0; i < 3; i++) await crashThenFinish(`random-${i}`, { afterMs: 150 + Math.floor(Math.random() * 400) });
  });
});
