// `vc tui`: the time to build and draw one full Overview frame (into a buffer, no terminal) for a
// fleet of 50 machines with 200 open alerts, read through the library from a demo store. Prints
// the median of 50 runs against the 16 ms target (one frame at 60 Hz) and, as a baseline in the
// same run, JSON.stringify of the same data.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { frame } from "../../lib/tui/frame.ts";
import { frameAnsi } from "../../lib/tui/render.ts";
import { loadedState, openFixture } from "../tui/_data.ts";
import { createTuiFleet } from "../tui/_fixture.ts";

const RUNS = 50;
const TARGET_MS = 16;
const dir = mkdtempSync(join(tmpdir(), "vc-bench-tui-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function time(fn: () => unknown): number[] {
  for (let i = 0; i < 5; i++) fn(); // warm up
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

try {
  const fleet = await createTuiFleet(dir, { machines: 50, alerts: 200, days: 1 });
  await using vc = await openFixture(fleet);
  const t = performance.now();
  const results: Record<string, number[]> = {};
  for (const size of [
    { width: 80, height: 24 },
    { width: 200, height: 50 },
  ]) {
    const state = await loadedState(vc, "overview", size);
    if (size.width === 80) console.log(`data read through the library (health, triage, alerts): ${(performance.now() - t).toFixed(0)} ms, once per poll cycle`);
    if (state.data.alerts.length !== 200 || state.data.health?.machines.length !== 50) throw new Error("the fixture does not have 50 machines and 200 alerts");
    let bytes = 0;
    results[`${size.width}x${size.height}`] = time(() => (bytes = frameAnsi(frame(state), null).out.length));
    results[`${size.width}x${size.height} baseline`] = time(() => JSON.stringify(state.data));
    console.log(`  (${size.width}x${size.height}: ${bytes.toLocaleString("en")} bytes of ANSI per full frame)`);
  }
  console.log(`vc tui overview frame, 50 machines, 200 alerts: build + draw to a buffer, median of ${RUNS}`);
  for (const size of ["80x24", "200x50"]) {
    const ms = median(results[size]!);
    const base = median(results[`${size} baseline`]!);
    console.log(
      `  ${size.padEnd(7)} ${ms.toFixed(2)} ms  (${(ms / TARGET_MS).toFixed(3)} of the ${TARGET_MS} ms target; baseline JSON.stringify of the data ${base.toFixed(2)} ms)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
