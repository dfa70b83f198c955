// 1,000 requests at once while `vc up` polls every second: every request is answered (the server
// takes a bounded number at a time and queues the rest), and the poll cycles keep starting on time
// — each cycle's start measured against when the loop should have started it.
import { afterAll, beforeAll, expect, it, setDefaultTimeout } from "bun:test";
import { tempDir } from "../helpers/tmp.ts";
import { startWebDaemon, type WebDaemon } from "./_fleet.ts";

setDefaultTimeout(180_000);

const dir = tempDir("vc-web-load-");
const INTERVAL_S = 1;
let d: WebDaemon;

beforeAll(async () => {
  d = await startWebDaemon(dir, { fleet: 3, interval: INTERVAL_S });
});

afterAll(async () => {
  await d?.stop();
});

it("answers 1,000 concurrent requests while the poll cycles keep their schedule", async () => {
  // Polling has begun.
  while (d.cycles.filter((c) => c.end).length < 2) await Bun.sleep(50);
  const paths = ["/api/health", "/api/fleet", "/api/alerts", "/api/triage?limit=5", "/metrics"];
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => fetch(new URL(paths[i % paths.length]!, d.url)).then(async (r) => (await r.arrayBuffer(), r.status))));
  const t1 = performance.now();
  const statuses = new Map<number, number>();
  for (const s of answers) statuses.set(s, (statuses.get(s) ?? 0) + 1);
  expect([...statuses]).toEqual([[200, 1000]]);

  // Wait for the cycle after the burst, then measure each start against its schedule:
  // the previous start plus the interval (or plus the previous cycle's length, when it ran longer).
  const after = d.cycles.length;
  while (d.cycles.length <= after) await Bun.sleep(50);
  const drift: number[] = [];
  const during: number[] = [];
  for (let i = 1; i < d.cycles.length; i++) {
    const prev = d.cycles[i - 1]!;
    const c = d.cycles[i]!;
    if (prev.end === undefined) continue;
    const due = prev.start + Math.max(INTERVAL_S * 1000, prev.end - prev.start);
    drift.push(c.start - due);
    if (c.start >= t0 && c.start <= t1) during.push(c.start - due);
  }
  const ms = (xs: number[]) => xs.map((x) => Math.round(x));
  const lengths = d.cycles.filter((c) => c.end !== undefined).map((c) => c.end! - c.start);
  console.log(
    `1000 requests in ${Math.round(t1 - t0)} ms; ${during.length} cycle(s) started meanwhile, drift ${JSON.stringify(ms(during))} ms; all drifts ${JSON.stringify(ms(drift))} ms; cycle lengths ${JSON.stringify(ms(lengths))} ms`,
  );
  // The cycles went on while the requests were answered (they take longer meanwhile: they share the store)…
  expect(during.length).toBeGreaterThanOrEqual(1);
  // …each started within a generous bound of when the loop should have started it.
  for (const x of drift) expect(x).toBeLessThan(1000);
  expect(d.errors).toEqual([]);
});
