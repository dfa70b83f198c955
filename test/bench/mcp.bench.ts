// `bun run bench mcp`: the median tool-call latency of `vc mcp` over stdio (the SDK's Client, a real
// child process on the demo fleet's store) vs the same view asked in process, for vc_health,
// vc_triage and vc_fleet. Target per tool: stdio <= 2x in-process + 10 ms.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { END, createTuiFleet } from "../tui/_fixture.ts";
import { openDemoCockpit } from "../helpers/demo.ts";

const RUNS = 25;
const root = resolve(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "vc-bench-mcp-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const fleet = await createTuiFleet(dir, { machines: 20 });
  const config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
import { defaultRules, toolPlugins } from "vibe-cockpit/plugins";
export default defineConfig({ db: ${JSON.stringify(fleet.db)}, machines: ${JSON.stringify(fleet.machines.map((id) => ({ id, ssh: "local" })))}, collectors: [], plugins: toolPlugins, rules: defaultRules() });
`,
  );
  const env = { HOME: dir, PATH: "/usr/bin:/bin", VC_NOW: END.toISOString(), XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") };
  const asks: [string, string, Record<string, unknown>][] = [
    ["vc_health", "health", {}],
    ["vc_triage", "triage", { limit: 10 }],
    ["vc_fleet", "fleet", {}],
  ];
  const inProcess: Record<string, number> = {};
  {
    await using vc = await openDemoCockpit(config, env, END);
    for (const [, view, args] of asks) {
      await vc.view(view, args);
      const t: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await vc.view(view, args);
        t.push(performance.now() - t0);
      }
      inProcess[view] = median(t);
    }
  }
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(root, "cli/index.ts"), "mcp", "--config", config], env }));
  try {
    for (const [tool, view, args] of asks) {
      await client.callTool({ name: tool, arguments: args });
      const t: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await client.callTool({ name: tool, arguments: args });
        t.push(performance.now() - t0);
      }
      const stdio = median(t);
      const base = inProcess[view]!;
      console.log(
        `${tool.padEnd(10)} stdio ${stdio.toFixed(1)} ms vs in process ${base.toFixed(1)} ms: ratio ${(stdio / base).toFixed(2)}, target <= 2x + 10 ms = ${(2 * base + 10).toFixed(1)} ms (${stdio <= 2 * base + 10 ? "met" : "NOT met"})`,
      );
    }
  } finally {
    await client.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
