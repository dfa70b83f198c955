// The event stream's bounds: a client that never reads is dropped once it leaves more than a bound
// of bytes unread, and the client that reads gets every line meanwhile and after; a quiet stream
// stays open past the server's idle timeout on its heartbeats. A plugin whose events are large
// (20 kB of text each, 100 a cycle) makes the stream heavy enough to fill the socket buffers.
import { afterAll, beforeAll, expect, it, setDefaultTimeout } from "bun:test";
import { connect, type Socket } from "node:net";
import { tempDir } from "../helpers/tmp.ts";
import { startWebDaemon, type WebDaemon } from "./_fleet.ts";

setDefaultTimeout(180_000);

const dir = tempDir("vc-web-sse-");
let d: WebDaemon;

const FLOOD = `
let round = 0;
const flood = definePlugin({
  name: "flood",
  events: [{
    name: "flood",
    group: "FLOOD",
    scope: ["fleet"],
    async load(q) {
      round++;
      return Array.from({ length: q.limit }, (_, i) => ({ key: \`flood:\${round}:\${i}\`, source: "flood", group: "FLOOD", machine_id: "here", at: q.to, severity: "info", title: \`flood \${round}/\${i}\`, fields: [], text: "x".repeat(20_000) }));
    },
  }],
});`;

beforeAll(async () => {
  d = await startWebDaemon(dir, { prelude: FLOOD, plugins: "flood", http: { sseMaxBufferedBytes: 4 * 1024 * 1024, heartbeatSeconds: 1, idleTimeoutSeconds: 8 } });
});

afterAll(async () => {
  await d?.stop();
});

/** A sample's value on /metrics (0 when absent). */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(new URL("/metrics", d.url))).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

it("drops a client that never reads once it falls a bound behind; the reading client gets every line, then and after", async () => {
  // The reading client: every data line, by type.
  const ac = new AbortController();
  const res = await fetch(new URL("/api/events", d.url), { headers: { accept: "text/event-stream" }, signal: ac.signal });
  const seen: { type: string; at: number }[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          for (const line of buffer.slice(0, end).split("\n"))
            if (line.startsWith("data: ")) seen.push({ type: (JSON.parse(line.slice(6)) as { type: string }).type, at: performance.now() });
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // aborted at the end
    }
  })();

  // The client that never reads: it asks, then leaves everything in its socket.
  let stalledClosed = false;
  const stalled: Socket = connect(d.port, "127.0.0.1", () => {
    stalled.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${d.port}\r\nAccept: text/event-stream\r\n\r\n`);
    stalled.pause();
  });
  stalled.on("close", () => {
    stalledClosed = true;
  });
  stalled.on("error", () => {});
  await until("both streams to open", async () => (await metric("vc_sse_clients")) === 2);

  let cycles = 0;
  while ((await metric("vc_sse_dropped_total")) === 0) {
    expect(cycles).toBeLessThan(30); // 2 MB a cycle: the socket buffers and the bound fill within a few
    await d.vc.collect({ collector: "sysprobe" });
    cycles++;
  }
  expect(await metric("vc_sse_dropped_total")).toBe(1);
  expect(await metric("vc_sse_clients")).toBe(1);
  expect(cycles).toBeGreaterThan(1);

  // The reader got every cycle's lines: a hundred events and the cycle line each time.
  await until("the reader to catch up", async () => seen.filter((e) => e.type === "cycle").length === cycles);
  expect(seen.filter((e) => e.type === "event").length).toBe(cycles * 100);

  // A quiet stream outlives the idle timeout (8 s) on its heartbeats, and still gets the next cycle.
  const quietFrom = performance.now();
  await Bun.sleep(9_000);
  expect(seen.filter((e) => e.type === "heartbeat" && e.at > quietFrom).length).toBeGreaterThanOrEqual(5);
  await d.vc.collect({ collector: "sysprobe" });
  await until("the next cycle line", async () => seen.filter((e) => e.type === "cycle").length === cycles + 1);
  expect(await metric("vc_sse_clients")).toBe(1);

  // The dropped client's connection was closed by the server (it sees the end once it reads).
  stalled.resume();
  await until("the dropped client's socket to close", async () => stalledClosed);
  ac.abort();
  await reading;
});
