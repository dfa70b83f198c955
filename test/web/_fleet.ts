// The web tests' daemon: `runDaemon` in this process with HTTP on 127.0.0.1 (port 0), over the demo
// fleet of test/tui/_fixture.ts (the real collectors' data, alerts, planted escapes) or over an
// empty store of one local machine. Raw HTTP for what fetch() will not send (a foreign Host).
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { runDaemon, type Cockpit, type DaemonOptions, type WebServerOptions } from "../../lib/index.ts";
import { isolatedEnv, repoRoot } from "../helpers/cli.ts";
import { openDemoCockpit } from "../helpers/demo.ts";
import { END, TOOLS_MACHINE, createTuiFleet } from "../tui/_fixture.ts";

export { END, TOOLS_MACHINE };

export interface WebDaemon {
  vc: Cockpit;
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  config: string;
  env: Record<string, string>;
  /** Each cycle's start and end (performance.now(), ms), the daemon's and the tests' alike. */
  cycles: { start: number; end?: number }[];
  errors: unknown[];
  stop(): Promise<void>;
}

export interface WebDaemonOptions {
  /** The demo fleet with this many machines (node-01 …), or undefined: one local machine "here" and an empty store. */
  fleet?: number;
  http?: Partial<WebServerOptions>;
  /** Poll every `interval` seconds (default: no polling, cycles when a test asks). */
  interval?: number;
  /** Lines added to the config module (imports and consts) and entries added to its plugins. */
  prelude?: string;
  plugins?: string;
}

/** Writes the config, opens the cockpit on a fixed clock (END) and starts the daemon with HTTP. */
export async function startWebDaemon(dir: string, o: WebDaemonOptions = {}): Promise<WebDaemon> {
  const machines = o.fleet ? ["node-01", "node-02", TOOLS_MACHINE].slice(0, o.fleet) : ["here"];
  const db = o.fleet ? (await createTuiFleet(dir, { machines: Math.max(3, o.fleet) })).db : join(dir, "vc.duckdb");
  const config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `import { defineConfig, definePlugin } from "vibe-cockpit";
import { defaultRules, toolPlugins } from "vibe-cockpit/plugins";
${o.prelude ?? ""}
export default defineConfig({
  db: ${JSON.stringify(db)},
  polling: { interval_seconds: ${o.interval ?? 3600} },
  machines: ${JSON.stringify(machines.map((id) => ({ id, ssh: "local" })))},
  plugins: [...toolPlugins, ${o.plugins ?? ""}],
  rules: defaultRules(),
});
`,
  );
  const env = isolatedEnv(dir, { VC_NOW: END.toISOString(), PATH: `${join(repoRoot, "node_modules/.bin")}:/usr/bin:/bin` });
  const vc = await openDemoCockpit(config, env, END);
  const stop = new AbortController();
  const cycles: WebDaemon["cycles"] = [];
  // When each cycle starts and ends, as the daemon's loop calls it.
  const collect = vc.collect;
  vc.collect = (x) => {
    const c: WebDaemon["cycles"][number] = { start: performance.now() };
    cycles.push(c);
    return collect(x).finally(() => {
      c.end = performance.now();
    });
  };
  const errors: unknown[] = [];
  let url = "";
  const options: DaemonOptions = {
    signal: stop.signal,
    poll: o.interval !== undefined,
    http: { address: "127.0.0.1:0", ...o.http },
    onHttp: (u) => {
      url = u;
    },
    onError: (err) => errors.push(err),
  };
  const daemon = runDaemon(vc, options);
  daemon.catch(() => {});
  for (let i = 0; i < 400 && !url; i++) await Bun.sleep(25);
  if (!url) {
    stop.abort();
    await daemon;
    throw new Error(`the daemon did not serve HTTP: ${errors.map(String).join("; ")}`);
  }
  return {
    vc,
    url,
    port: Number(new URL(url).port),
    config,
    env,
    cycles,
    errors,
    async stop() {
      stop.abort();
      await daemon;
      await vc.close();
    },
  };
}

/** What the server answered to a raw request: status, headers (lower-case names) and body. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One HTTP/1.1 request written as is (any Host, any Origin), read until the server closes. */
export function rawRequest(port: number, head: string, body = ""): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // Written, not ended: Bun drops the answer to a request whose client half-closed the connection.
    const s = connect(port, "127.0.0.1", () => s.write(`${head.trim().replace(/\n/g, "\r\n")}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", reject);
    s.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [top = "", ...rest] = text.split("\r\n\r\n");
      const [status = "", ...lines] = top.split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      resolve({ status: Number(status.split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    });
  });
}

/** The next `data:` lines of an event stream, parsed, until `until` holds for one of them (or `timeoutMs`). */
export async function readEvents(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: (e: { type: string }) => boolean,
  timeoutMs = 30_000,
): Promise<{ type: string; [k: string]: unknown }[]> {
  const seen: { type: string }[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const { value, done } = await Promise.race([reader.read(), Bun.sleep(Math.max(1, deadline - performance.now())).then(() => ({ value: undefined, done: true }))]);
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split("\n")) if (line.startsWith("data: ")) seen.push(JSON.parse(line.slice(6)));
      if (seen.length && until(seen.at(-1)!)) return seen as never;
      end = buffer.indexOf("\n\n");
    }
  }
  return seen as never;
}
