// Ingest benchmark: 1M JSON lines (5 fields) through the store's batch path (insertJsonLines: Bun's JSONL parser + appender
// + idempotent INSERT … ON CONFLICT DO NOTHING), against DuckDB's own read_json of the same file
// into an identical table, in the same run. Prints rows/s for both and the ratio (target ≥ 0.5×).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { insertJsonLines, openStore } from "../../lib/index.ts";

const N = Number(process.env.BENCH_ROWS ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "vc-bench-ingest-"));
const file = join(dir, "events.jsonl");
const ddl = "CREATE TABLE bench_events(id BIGINT PRIMARY KEY, ts TIMESTAMP, machine VARCHAR, value DOUBLE, ok BOOLEAN)";

function makeFile() {
  const base = Date.UTC(2026, 0, 1);
  const lines: string[] = new Array(N);
  for (let i = 0; i < N; i++) {
    lines[i] = JSON.stringify({ id: i, ts: new Date(base + i * 1000).toISOString(), machine: `m${i % 20}`, value: ((i * 7919) % 1000) / 10, ok: i % 3 !== 0 });
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
}

async function viaStore(run: number): Promise<number> {
  const store = await openStore({ path: join(dir, `store-${run}.duckdb`) });
  await store.run(ddl);
  const t0 = performance.now();
  const bytes = await Bun.file(file).bytes();
  // vc's JSONL path: Bun's native JSON Lines parser feeding the appender, pipelined, in one transaction.
  const { added, bad } = await store.transaction((tx) => insertJsonLines(tx, "bench_events", bytes));
  if (bad.length) throw new Error(`${bad.length} bad lines`);
  const ms = performance.now() - t0;
  if (added !== N) throw new Error(`store path added ${added} rows, expected ${N}`);
  await store.close();
  return ms;
}

async function viaReadJson(run: number): Promise<number> {
  const db = await DuckDBInstance.create(join(dir, `native-${run}.duckdb`));
  const c = await db.connect();
  await c.run(ddl);
  const t0 = performance.now();
  const r = await c.run(
    `INSERT INTO bench_events SELECT * FROM read_json('${file}', format = 'newline_delimited',
       columns = {id: 'BIGINT', ts: 'TIMESTAMP', machine: 'VARCHAR', value: 'DOUBLE', ok: 'BOOLEAN'}) ON CONFLICT DO NOTHING`,
  );
  const ms = performance.now() - t0;
  if (Number(r.rowsChanged) !== N) throw new Error(`read_json added ${r.rowsChanged} rows, expected ${N}`);
  c.closeSync();
  db.closeSync();
  return ms;
}

try {
  makeFile();
  // Alternate the two paths and take medians: this machine's timings are noisy.
  const RUNS = Number(process.env.BENCH_RUNS ?? 3);
  const nativeRuns: number[] = [];
  const ourRuns: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    nativeRuns.push(await viaReadJson(run));
    ourRuns.push(await viaStore(run));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const native = median(nativeRuns);
  const ours = median(ourRuns);
  const rate = (ms: number) => Math.round(N / (ms / 1000));
  console.log(`ingest ${N.toLocaleString("en")} JSON lines (5 fields), median of ${RUNS} runs each`);
  console.log(`  duckdb read_json : ${rate(native).toLocaleString("en")} rows/s (${native.toFixed(0)} ms)`);
  console.log(`  vc store batch   : ${rate(ours).toLocaleString("en")} rows/s (${ours.toFixed(0)} ms)`);
  console.log(`  ratio vc/read_json: ${(native / ours).toFixed(2)}x (target >= 0.5x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
