// Each registered view's median latency through the daemon's socket vs a direct library call on
// the same store, in the same process (the 20-machine demo fleet with the tools' data).
// Target per view: socket <= 1.5 x direct + 5 ms.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runDaemon } from "../../lib/index.ts";
import { connectDaemon } from "../../lib/serve/client.ts";
import { socketPathFor } from "../../lib/store/files.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { END, TOOLS_MACHINE, createTuiFleet } from "../tui/_fixture.ts";
import { openDemoCockpit } from "../helpers/demo.ts";

const RUNS = 15;
const dir = mkdtempSync(join(tmpdir(), "vc-bench-views-"));
const fleet = await createTuiFleet(dir, { machines: 20, days: 3 });
const ids = Array.from({ length: 20 }, (_, i) => `node-${String(i + 1).padStart(2, "0")}`);
const config = join(dir, "vc.config.ts");
writeFileSync(
  config,
  `import { defineConfig } from "vibe-cockpit";
import { cass, defaultRules } from "vibe-cockpit/plugins";
export default defineConfig({ db: ${JSON.stringify(fleet.db)}, machines: ${JSON.stringify(ids.map((id) => ({ id, ssh: "local" })))}, collectors: [cass()], rules: defaultRules() });
`,
);
const env = { HOME: dir, USER: "bench", PATH: "/usr/bin:/bin" };
const vc = await openDemoCockpit(config, env, END);
const stop = new AbortController();
const daemon = runDaemon(vc, { signal: stop.signal, poll: false });
let remote = null;
while (!remote) remote = await connectDaemon(socketPathFor(fleet.db), { db: fleet.db });

const ASK: Record<string, Record<string, unknown>> = { triage: { limit: 20 }, machine: { id: TOOLS_MACHINE }, search: { query: "flock" } };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(f: () => Promise<unknown>): Promise<number> {
  await f(); // warm
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  return median(t);
}

let over = 0;
console.log(`views: median of ${RUNS} calls, 20 machines x 3 days; target socket <= 1.5 x direct + 5 ms`);
for (const view of vc.views.views) {
  const args = ASK[view.name] ?? {};
  const direct = await time(() => vc.view(view.name, args));
  const socket = await time(() => remote!.view(view.name, args));
  const ok = socket <= 1.5 * direct + 5;
  if (!ok) over++;
  console.log(
    `  ${view.name.padEnd(9)} direct ${direct.toFixed(1).padStart(7)} ms  socket ${socket.toFixed(1).padStart(7)} ms  ratio ${(socket / direct).toFixed(2)}x  ${ok ? "ok" : "OVER TARGET"}`,
  );
}
console.log(`views over target: ${over} of ${vc.views.views.length}`);
await remote.close();
stop.abort();
await daemon;
await vc.close();
rmSync(dir, { recursive: true, force: true });
