// `vc robot health` as a whole process on a demo fleet (20 machines × 30 days × 2-min samples)
// and on the same fleet with 10× the history. Prints the median wall time of 5 runs of each, the
// growth (10× / 1×, target ≤ 1.3×) and, as a baseline in the same run, a bare `bun` start.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createDemoFleet } from "../../examples/demo-fleet.ts";

const RUNS = 5;
const cli = resolve(import.meta.dir, "../../cli/index.ts");
const end = new Date("2026-01-25T03:00:00Z");
const dir = mkdtempSync(join(tmpdir(), "vc-bench-health-"));

async function wall(argv: string[], env: Record<string, string>): Promise<number> {
  const t = performance.now();
  const p = Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  const ms = performance.now() - t;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${out.slice(0, 300)}`);
  return ms;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(days: number) {
  const t = performance.now();
  const fleet = await createDemoFleet({ out: join(dir, `d${days}`), machines: 20, days, end });
  const genS = (performance.now() - t) / 1000;
  const env = { VC_NOW: end.toISOString(), NO_COLOR: "1" };
  const argv = ["bun", cli, "robot", "health", "--config", fleet.config];
  await wall(argv, env); // warm the page cache
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await wall(argv, env));
  return { samples: fleet.samples, genS, ms: median(runs) };
}

try {
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) bare.push(await wall(["bun", "-e", "0"], {}));
  const one = await measure(30);
  const ten = await measure(300);
  console.log(`vc robot health, whole process, median of ${RUNS}`);
  console.log(`  baseline: bare bun start       ${median(bare).toFixed(0)} ms`);
  console.log(`  1x  history (${one.samples.toLocaleString("en")} samples) ${one.ms.toFixed(0)} ms (target <= 300 ms)`);
  console.log(`  10x history (${ten.samples.toLocaleString("en")} samples) ${ten.ms.toFixed(0)} ms`);
  console.log(`  growth 10x/1x: ${(ten.ms / one.ms).toFixed(2)}x (target <= 1.3x)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
