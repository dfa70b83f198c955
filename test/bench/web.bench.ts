// `bun run bench web`: GET /api/health requests per second through the daemon's HTTP server (the
// guard, the route, the health view over the store, the envelope, the metrics) on the demo fleet
// (20 machines × 1 day with the tools' data) vs a bare Bun.serve answering the same JSON from
// memory — the ratio is what vc's work costs over Bun's floor. The load comes from a second process
// (keep-alive, VC_BENCH_CONCURRENCY requests in flight, VC_BENCH_SECONDS per server).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFixedClock, openCockpit, runDaemon } from "../../lib/index.ts";
import { sysprobe } from "../../plugins/index.ts";
import { END, createTuiFleet } from "../tui/_fixture.ts";

const SECONDS = Number(process.env.VC_BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.VC_BENCH_CONCURRENCY ?? 16);

const dir = mkdtempSync(join(tmpdir(), "vc-bench-web-"));
const fleet = await createTuiFleet(dir, { machines: 20 });
const config = join(dir, "vc.config.ts");
writeFileSync(
  config,
  `import { defineConfig } from "vibe-cockpit";
import { defaultRules, toolPlugins } from "vibe-cockpit/plugins";
export default defineConfig({ db: ${JSON.stringify(fleet.db)}, machines: ${JSON.stringify(fleet.machines.map((id) => ({ id, ssh: "local" })))}, plugins: toolPlugins, rules: defaultRules() });
`,
);
const vc = await openCockpit({
  file: config,
  env: { HOME: dir, USER: "bench", PATH: "/usr/bin:/bin" },
  clock: createFixedClock(END),
  alwaysOn: [sysprobe()],
  modules: { "vibe-cockpit/plugins": () => import("../../plugins/index.ts") },
});
const stop = new AbortController();
let url = "";
const daemon = runDaemon(vc, { signal: stop.signal, poll: false, http: { address: "127.0.0.1:0" }, onHttp: (u) => (url = u) });
while (!url) await Bun.sleep(20);

// The bare server: the same bytes, from memory.
const body = await (await fetch(new URL("/api/health", url))).text();
const bare = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body, { headers: { "content-type": "application/json; charset=utf-8" } }) });

/** Requests per second and latency percentiles against `target`, measured by a separate process. */
async function load(target: string): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const script = join(dir, "load.ts");
  writeFileSync(
    script,
    `const target = ${JSON.stringify(target)};
const end = performance.now() + ${SECONDS * 1000};
const lat = []; let errors = 0;
// Warm up (the first requests build the routes' and DuckDB's caches).
for (let i = 0; i < 50; i++) await (await fetch(target)).arrayBuffer();
const t0 = performance.now();
await Promise.all(Array.from({ length: ${CONCURRENCY} }, async () => {
  while (performance.now() < end) {
    const s = performance.now();
    const r = await fetch(target);
    await r.arrayBuffer();
    if (r.status !== 200) errors++;
    lat.push(performance.now() - s);
  }
}));
const secs = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
console.log(JSON.stringify({ rps: lat.length / secs, p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)], errors }));
`,
  );
  const p = Bun.spawn(["bun", script], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return JSON.parse(out);
}

const viaDaemon = await load(new URL("/api/health", url).href);
const viaBare = await load(`http://127.0.0.1:${bare.port}/api/health`);
const f = (x: number) => x.toFixed(1);
console.log(`GET /api/health, ${CONCURRENCY} in flight for ${SECONDS} s each, demo fleet of 20 machines (${body.length} bytes):`);
console.log(`  daemon   ${Math.round(viaDaemon.rps)} req/s   p50 ${f(viaDaemon.p50)} ms   p99 ${f(viaDaemon.p99)} ms   errors ${viaDaemon.errors}`);
console.log(`  bare     ${Math.round(viaBare.rps)} req/s   p50 ${f(viaBare.p50)} ms   p99 ${f(viaBare.p99)} ms   errors ${viaBare.errors}`);
console.log(`  ratio    daemon / bare = ${(viaDaemon.rps / viaBare.rps).toFixed(3)} (bare is ${f(viaBare.rps / viaDaemon.rps)}x faster)`);

bare.stop(true);
stop.abort();
await daemon;
await vc.close();
rmSync(dir, { recursive: true, force: true });
if (viaDaemon.errors + viaBare.errors > 0) process.exit(1);
