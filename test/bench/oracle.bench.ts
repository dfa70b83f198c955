// The oracle's quality target (issue 14): the backtest on test/fixtures/oracle/dev-traces.jsonl,
// scored by the upstream score.ts (kept byte for byte as score.ts.txt) against the linear-60-minute
// baseline, with and without the fleet signal. Target: MAE ≤ 0.75× the baseline's, F1 ≥ its F1.
// Also the backtest's throughput (snapshots per second) and the interval's coverage of the truth.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backtest, type OracleForecast, type UsageSnapshot } from "../../plugins/oracle/model.ts";

const fixtures = join(import.meta.dir, "..", "fixtures", "oracle");
const traces = join(fixtures, "dev-traces.jsonl");
const truthPath = join(fixtures, "dev-truth.jsonl");
const jsonLines = async (p: string) =>
  (await Bun.file(p).text())
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const snapshots: UsageSnapshot[] = await jsonLines(traces);
const truth: { account: string; ts: string; ttl_min: number | null; to_reset_min: number }[] = await jsonLines(truthPath);

const dir = mkdtempSync(join(tmpdir(), "vc-bench-oracle-"));
try {
  const score = join(dir, "score.ts");
  copyFileSync(join(fixtures, "score.ts.txt"), score);
  console.log(`oracle backtest on ${snapshots.length} snapshots, ${truth.length} checkpoints`);
  for (const fleet of [true, false]) {
    const t0 = performance.now();
    const forecasts: OracleForecast[] = [...backtest(snapshots, { fleet })];
    const ms = performance.now() - t0;
    const out = join(dir, `forecasts-${fleet ? "fleet" : "time"}.jsonl`);
    writeFileSync(out, forecasts.map((f) => JSON.stringify({ account: f.account, ts: f.ts, time_to_limit_min: f.time_to_limit_min })).join("\n") + "\n");
    const p = Bun.spawnSync([process.execPath, score, traces, truthPath, out], { stderr: "inherit" });
    if (p.exitCode !== 0) throw new Error(`score.ts exited with ${p.exitCode}`);
    const text = p.stdout.toString();
    const base = /baseline .*MAE ([\d.]+) min\s+F1 ([\d.]+)/.exec(text);
    const mine = /forecasts\s+MAE ([\d.]+) min\s+F1 ([\d.]+)/.exec(text);
    const ratio = /ratio ([\d.]+)/.exec(text);
    // Interval coverage: the true time to the limit (capped at the reset) inside [low, high].
    const byKey = new Map(forecasts.map((f) => [`${f.account} ${Date.parse(f.ts)}`, f]));
    let covered = 0;
    for (const r of truth) {
      const f = byKey.get(`${r.account} ${Date.parse(r.ts)}`);
      if (!f) continue;
      const cap = (v: number | null) => (v === null ? r.to_reset_min : Math.min(r.to_reset_min, v));
      const real = cap(r.ttl_min);
      if (cap(f.low_min) <= real + 1e-9 && real <= cap(f.high_min) + 1e-9) covered++;
    }
    const label = fleet ? "with fleet signal   " : "without fleet signal";
    console.log(
      `  ${label}  MAE ${mine?.[1]} min vs baseline ${base?.[1]} min: ratio ${ratio?.[1]} (target <= 0.75)  F1 ${mine?.[2]} vs baseline ${base?.[2]} (${Number(mine?.[2]) >= Number(base?.[2]) ? ">=" : "<"})  interval coverage ${((100 * covered) / truth.length).toFixed(0)} %`,
    );
    console.log(`  ${label}  backtest ${(snapshots.length / (ms / 1000)).toFixed(0)} snapshots/s (${ms.toFixed(0)} ms)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
