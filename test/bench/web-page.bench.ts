// The dashboard's Overview in Chromium for a fleet of 50 machines: the time from navigation to the
// machines table drawn (the page's own mark, taken as the table enters the DOM; target ≤ 1 s on
// this machine), and the bytes transferred — the page's files (gzipped), the fleet view the table
// waits for, the alerts and DO NEXT asked after it, and the 50 sparklines fetched last. Each run is a fresh browser context (cold
// cache, new connection) against a real daemon on 127.0.0.1 serving a demo store.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Request } from "playwright-core";
import { createFixedClock, openCockpit, resolveConfig, runDaemon } from "../../lib/index.ts";
import { createDashboard } from "../../lib/web/ui/index.ts";
import { sysprobe, toolPlugins } from "../../plugins/index.ts";
import { requireSystem } from "../_system.ts";
import { createTuiFleet, END } from "../tui/_fixture.ts";

const MACHINES = 50;
const RUNS = 15;
const TARGET_MS = 1000;
const dir = mkdtempSync(join(tmpdir(), "vc-bench-web-page-"));
const stop = new AbortController();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]!;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** What part of the page a request is: its files, the view the table needs, the alerts and DO NEXT, the sparklines, or the event stream. */
function kind(r: Request): "files" | "table" | "panels" | "sparklines" | "stream" | "other" {
  const path = new URL(r.url()).pathname;
  if (path === "/" || path.startsWith("/assets/")) return "files";
  if (path === "/api/events") return "stream";
  if (/^\/api\/machines\/[^/]+\/series$/.test(path)) return "sparklines";
  if (path === "/api/fleet") return "table";
  if (["/api/triage", "/api/alerts"].includes(path)) return "panels";
  return "other";
}

let daemon: Promise<number> | undefined;
try {
  const fleet = await createTuiFleet(dir, { machines: MACHINES, alerts: 20, days: 1 });
  const config = await resolveConfig(
    { db: fleet.db, polling: { interval_seconds: 120 }, machines: fleet.machines.map((id) => ({ id, ssh: `demo@${id}.invalid` })), collectors: [sysprobe()], plugins: toolPlugins },
    { source: "bench web-page" },
  );
  const vc = await openCockpit({ config, clock: createFixedClock(END) });
  let url = "";
  daemon = runDaemon(vc, {
    signal: stop.signal,
    poll: false,
    socketPath: false,
    http: { address: "127.0.0.1:0", ui: createDashboard({ cockpit: vc }) },
    onHttp: (u) => {
      url = u;
    },
  }).finally(() => vc.close());
  for (let i = 0; i < 400 && !url; i++) await Bun.sleep(25);
  if (!url) throw new Error("the daemon did not serve HTTP");

  const browser = await chromium.launch({ executablePath: requireSystem("chromium"), args: ["--no-sandbox"] });
  const times: number[] = [];
  let bytes: Record<string, number> = {};
  let requests: Record<string, number> = {};
  for (let run = -2; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const sizes: Promise<[string, number]>[] = [];
    page.on("requestfinished", (r) => sizes.push(r.sizes().then((s) => [kind(r), s.responseBodySize + s.responseHeadersSize + s.requestHeadersSize + s.requestBodySize])));
    await page.goto(url);
    await page.waitForSelector(`[data-table=machines] tbody tr:nth-child(${MACHINES})`);
    const drawn = await page.evaluate(() => performance.getEntriesByName("vc:drawn:overview")[0]?.startTime ?? Number.NaN);
    // Then the sparklines: every row's, fetched after the table.
    await page.waitForFunction((n) => document.querySelectorAll(".spark-slot svg.spark").length === n, MACHINES);
    await page.close();
    await context.close();
    if (run < 0) continue; // warm-up: the daemon's first bundle build and DuckDB's caches
    times.push(drawn);
    if (run === 0) {
      bytes = {};
      requests = {};
      for (const [k, n] of await Promise.all(sizes)) {
        bytes[k] = (bytes[k] ?? 0) + n;
        requests[k] = (requests[k] ?? 0) + 1;
      }
    }
  }
  await browser.close();
  const total = Object.entries(bytes).reduce((s, [k, n]) => (k === "stream" ? s : s + n), 0);
  console.log(`web dashboard, Overview in Chromium (${requireSystem("chromium")}), ${MACHINES} machines, cold cache each run, ${RUNS} runs`);
  console.log(
    `  navigation → machines table drawn: median ${median(times).toFixed(0)} ms, p90 ${p90(times).toFixed(0)} ms (target ${TARGET_MS} ms: ${(median(times) / TARGET_MS).toFixed(2)} of it)`,
  );
  console.log(`  bytes transferred (headers and bodies, gzipped where sent so), one cold load:`);
  for (const k of ["files", "table", "panels", "sparklines", "other"]) if (bytes[k]) console.log(`    ${k.padEnd(10)} ${kb(bytes[k]!).padStart(10)} in ${requests[k]} request(s)`);
  console.log(`    ${"total".padEnd(10)} ${kb(total).padStart(10)} (before the table: ${kb((bytes.files ?? 0) + (bytes.table ?? 0))}; the event stream left out)`);
  if (median(times) > TARGET_MS) process.exitCode = 1;
} finally {
  stop.abort();
  await daemon?.catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
