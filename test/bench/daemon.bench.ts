// `vc up`'s memory and CPU budget (issue 11, point 5): 10 SSH machines (one real sshd on
// 127.0.0.1, fake upstream tools printing the real fixture outputs) × every bundled collector.
// 1) warm-up: `vc up --interval 5` for a few cycles (every collector runs, the store fills), stopped;
// 2) measured: `vc up` again on that store at the default interval; after its first cycle, RSS and
//    CPU of the daemon (its live child processes and the reaped ones included) are sampled every
//    second over whole intervals: max RSS, VmHWM, mean CPU % of one core over the window (cycles
//    included, as an idle daemon spends it), and between cycles only. Target ≤ 150 MB, ≤ 1 %.
//
// Knobs (environment): VC_BENCH_MACHINES (10), VC_BENCH_INTERVAL (seconds; default: the config's
// default), VC_BENCH_INTERVALS (2: intervals measured), VC_BENCH_WARMUP (3: warm-up cycles),
// VC_BENCH_BUN_FLAGS (e.g. "--smol"), VC_BENCH_STORE (JSON for the config's `store`, e.g.
// '{"memory_limit":"1GB","threads":2}'), VC_BENCH_ENV (JSON: extra environment for `vc up`, e.g.
// '{"DUCKDB_JE_MALLOC_CONF":"narenas:1,tcache:false,dirty_decay_ms:0,muzzy_decay_ms:0"}': DuckDB's
// jemalloc reads its options from that variable when the process starts, never from process.env later).
// VC_BENCH_TRACE=1 prints RSS each second. RSS by mapping (code of bun and libduckdb, anonymous) is
// printed at the max and at the least.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDaemonFleet } from "./_daemon-fleet.ts";
import { TICK, follow, sampleTree, stopDaemon } from "./_vc-up.ts";

const TARGET_MB = 150;
const TARGET_CPU = 1;
const machines = Number(process.env.VC_BENCH_MACHINES ?? 10);
const intervalArg = process.env.VC_BENCH_INTERVAL;
const intervals = Number(process.env.VC_BENCH_INTERVALS ?? 2);
const warmupCycles = Number(process.env.VC_BENCH_WARMUP ?? 3);
const bunFlags = (process.env.VC_BENCH_BUN_FLAGS ?? "").split(/\s+/).filter(Boolean);
const store = process.env.VC_BENCH_STORE ? (JSON.parse(process.env.VC_BENCH_STORE) as Record<string, unknown>) : undefined;
const extraEnv = process.env.VC_BENCH_ENV ? (JSON.parse(process.env.VC_BENCH_ENV) as Record<string, string>) : {};

const dir = mkdtempSync(join(tmpdir(), "vc-bench-daemon-"));
const fleet = await startDaemonFleet(dir, { machines, store });
try {
  // 1) warm-up
  const warm = fleet.up(["--interval", "5"], { env: extraEnv });
  const w = follow(warm);
  await w.until(warmupCycles, 600_000);
  await stopDaemon(warm);
  const failures = new Set(w.lines.filter((l) => /node-\d+\/\S+:/.test(l) && !/aborted/.test(l)).map((l) => l.replace(/.*node-\d+\//, "").slice(0, 160)));
  console.log(`warm-up: ${warmupCycles} cycles of ${machines} machines x every bundled collector at a 5 s interval`);
  for (const c of w.cycles) console.log(`  ${c.line.replace(/^.*?(cycle \d+)/, "$1")}`);
  if (failures.size) console.log(`  failed runs (distinct): ${[...failures].join("\n    ")}`);

  // 2) measured
  const p = fleet.up(intervalArg ? ["--interval", intervalArg] : [], { bunFlags, env: extraEnv });
  const f = follow(p);
  const samples: ReturnType<typeof sampleTree>[] = [];
  const sampler = setInterval(() => samples.push(sampleTree(p.pid)), 1000);
  await f.until(1, 600_000);
  const from = sampleTree(p.pid);
  await f.until(1 + intervals, (intervals + 1) * 1000 * Number(intervalArg ?? 120) + 600_000);
  const to = sampleTree(p.pid);
  clearInterval(sampler);
  samples.push(to);
  await stopDaemon(p);

  const seconds = (to.t - from.t) / 1000;
  const cpuPct = ((to.ticks - from.ticks) / TICK / seconds) * 100;
  const window = samples.filter((s) => s.t >= from.t);
  const maxRssMb = Math.max(...samples.map((s) => s.rssKb)) / 1024;
  const windowRssMb = Math.max(...window.map((s) => s.rssKb)) / 1024;
  // Between cycles: from 5 s after a cycle's end (the store hands memory back 2 s after its last write) to 1 s before the next one starts.
  let idleTicks = 0;
  let idleSeconds = 0;
  let idleRssKb = 0;
  const ends = f.cycles.filter((c) => c.n >= 1 && c.n <= 1 + intervals);
  for (let i = 0; i + 1 < ends.length; i++) {
    const a = ends[i]!.at + 5000;
    const b = ends[i + 1]!.at - (ends[i + 1]!.seconds ?? 0) * 1000 - 1000;
    const inGap = window.filter((s) => s.t >= a && s.t <= b);
    if (inGap.length < 2) continue;
    idleTicks += inGap.at(-1)!.ticks - inGap[0]!.ticks;
    idleRssKb = Math.max(idleRssKb, ...inGap.map((x) => x.rssKb));
    idleSeconds += (inGap.at(-1)!.t - inGap[0]!.t) / 1000;
  }
  const idlePct = idleSeconds > 0 ? (idleTicks / TICK / idleSeconds) * 100 : NaN;
  const cycleSecs = ends.slice(1).map((c) => c.seconds ?? NaN);
  const interval = intervalArg ? Number(intervalArg) : 120;

  console.log(
    `\nmeasured: vc up${intervalArg ? ` --interval ${intervalArg}` : ""} (${interval} s interval)${bunFlags.length ? ` bun ${bunFlags.join(" ")}` : ""}${store ? ` store ${JSON.stringify(store)}` : ""}, ${machines} SSH machines`,
  );
  console.log(
    `  window: ${seconds.toFixed(0)} s = ${intervals} interval(s) after the first cycle, ${ends.length - 1} cycle(s) in it (${cycleSecs.map((s) => `${s} s`).join(", ")})`,
  );
  console.log(
    `  max RSS: ${maxRssMb.toFixed(0)} MB over the run (${windowRssMb.toFixed(0)} MB in the window; VmHWM ${(to.hwmKb / 1024).toFixed(0)} MB); target <= ${TARGET_MB} MB: ratio ${(maxRssMb / TARGET_MB).toFixed(2)}x`,
  );
  console.log(`  CPU: ${cpuPct.toFixed(2)} % of one core over the window; target <= ${TARGET_CPU} %: ratio ${(cpuPct / TARGET_CPU).toFixed(2)}x`);
  console.log(
    `  between cycles only: max RSS ${(idleRssKb / 1024).toFixed(0)} MB, CPU ${idlePct.toFixed(2)} % over ${idleSeconds.toFixed(0)} s; processes in the tree at the end: ${to.processes}`,
  );
  // Where the RSS is: code pages (bun, libduckdb, other libraries) and anonymous memory (the JS heap, Bun's and DuckDB's allocators).
  const parts = (m: Record<string, number> | null) =>
    m
      ? Object.entries(m)
          .map(([k, kb]) => `${k} ${(kb / 1024).toFixed(0)}`)
          .join(", ")
      : "?";
  const top = samples.reduce((a, b) => (b.rssKb > a.rssKb ? b : a));
  const idleSample = window.filter((x) => x.rssKb > 0).reduce((a, b) => (b.rssKb < a.rssKb ? b : a));
  console.log(`  RSS by mapping (MB) at the max: ${parts(top.map)}; at the least in the window: ${parts(idleSample.map)}`);
  if (process.env.VC_BENCH_TRACE) console.log(`  RSS MB each second: ${samples.map((x) => Math.round(x.rssKb / 1024)).join(" ")}`);
  if (maxRssMb > TARGET_MB || cpuPct > TARGET_CPU) console.log("  OVER BUDGET");
} finally {
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
}
