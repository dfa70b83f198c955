import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import Ajv from "ajv";
import { runDaemon, type Cockpit } from "../../lib/index.ts";
import { repoRoot } from "../helpers/cli.ts";
import { demoEnv, openDemoCockpit, writeDemoConfig } from "../helpers/demo.ts";
import { tempDir } from "../helpers/tmp.ts";
import { END, TOOLS_MACHINE, createTuiFleet } from "../tui/_fixture.ts";

// `vc mcp` with the SDK's own Client over stdio, on the demo fleet: without a daemon (it opens the
// store) and with one (it goes through the daemon's socket). Every tool is called.
const dir = tempDir("vc-mcp-");
let config: string;
let env: Record<string, string>;

beforeAll(async () => {
  const fleet = await createTuiFleet(dir, { machines: 3 });
  config = writeDemoConfig(dir, fleet.db, ["node-01", "node-02", TOOLS_MACHINE]);
  env = demoEnv(dir, END);
});

async function session(): Promise<Client> {
  const client = new Client({ name: "vc-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: join(repoRoot, "node_modules/.bin/bun"), args: [join(repoRoot, "cli/index.ts"), "mcp", "--config", config], env, stderr: "pipe" }),
  );
  return client;
}

/** The arguments each tool is called with (a tool without an entry here fails the test). */
const CALLS: Record<string, Record<string, unknown>> = {
  vc_fleet_status: { scope: TOOLS_MACHINE },
  vc_find_capacity: { task_type: "build", estimated_tokens: 200000 },
  vc_get_recommendations: {},
  vc_report_completion: { task_id: "task-1", metrics: { agent: "cc-1", machine: TOOLS_MACHINE, repo: "vibe_cockpit", duration_s: 420, tokens: 120000, outcome: "success" } },
  vc_request_resources: { resource_type: "machine", amount: 4 },
  vc_query: { sql: "SELECT count(*) AS n FROM sys_samples" },
  vc_ask: { question: "why is node-03 unhealthy?" },
  vc_health: {},
  vc_triage: { limit: 3 },
  vc_machine: { id: TOOLS_MACHINE },
  vc_machines: {},
  vc_fleet: {},
  vc_series: { machine: TOOLS_MACHINE, window: "1h", points: 20 },
  vc_alerts: { all: true },
  vc_events: { window: "24h" },
  vc_diff: { from: new Date(END.getTime() - 3_600_000).toISOString() },
  vc_search: { query: "flock", limit: 5 },
  vc_doctor: {},
  vc_accounts: {},
  vc_oracle: {},
  vc_repos: {},
  vc_beads: {},
  vc_attention: {},
  vc_incidents: {},
  vc_guardian: { limit: 5 },
  vc_audit: { limit: 10 },
};

async function everyTool(client: Client) {
  const { tools } = await client.listTools();
  const ajv = new Ajv({ strict: false });
  for (const t of tools) {
    expect({ tool: t.name, valid: ajv.validateSchema(t.inputSchema) }).toEqual({ tool: t.name, valid: true });
    ajv.compile(t.inputSchema);
  }
  const names = tools.map((t) => t.name);
  for (const name of ["vc_fleet_status", "vc_find_capacity", "vc_get_recommendations", "vc_report_completion", "vc_request_resources", "vc_query"]) expect(names).toContain(name);
  for (const name of names) {
    const args = CALLS[name];
    expect({ tool: name, tested: args !== undefined }).toEqual({ tool: name, tested: true });
    const r = await client.callTool({ name, arguments: args });
    expect({ tool: name, isError: r.isError ?? false }).toEqual({ tool: name, isError: false });
    const content = r.content as { type: string; text: string }[];
    expect(content[0]!.type).toBe("text");
    expect(JSON.parse(content[0]!.text)).toEqual(JSON.parse(JSON.stringify(r.structuredContent)) as never);
  }
  return names;
}

async function mcpError(p: Promise<unknown>): Promise<string> {
  return p.then(
    (r) => `no error: ${JSON.stringify(r).slice(0, 200)}`,
    (e: Error) => e.message,
  );
}

describe("vc mcp over stdio", () => {
  it("without a daemon: every tool answers; the plan's tools say what they did", async () => {
    const client = await session();
    try {
      await everyTool(client);
      const status = (await client.callTool({ name: "vc_fleet_status", arguments: { scope: TOOLS_MACHINE } })).structuredContent as { scope_kind: string; health: { id: string } };
      expect(status.scope_kind).toBe("machine");
      expect(status.health.id).toBe(TOOLS_MACHINE);
      const cap = (await client.callTool({ name: "vc_find_capacity", arguments: { estimated_tokens: 5000 } })).structuredContent as {
        machines: { machine_id: string; score: number; reasons: string[] }[];
        notes: string[];
      };
      expect(cap.machines.length).toBe(3);
      expect(cap.machines[0]!.reasons.join(" ")).toMatch(/load .* per core/);
      expect(cap.notes.join(" ")).toContain("not in tokens");
      const req = (await client.callTool({ name: "vc_request_resources", arguments: { resource_type: "account" } })).structuredContent as {
        advisory: boolean;
        allocated: boolean;
        request_id: string;
      };
      expect(req).toMatchObject({ advisory: true, allocated: false });
      const answer = (await client.callTool({ name: "vc_ask", arguments: { question: "why is node-3 unhealthy" } })).structuredContent as {
        intent: string;
        entities: Record<string, { value: string }>;
      };
      expect(answer.intent).toBe("machine_health");
      expect(Object.values(answer.entities).map((e) => e.value)).toContain("node-03");
      // Resources and prompts.
      const resources = await client.listResources();
      const uris = resources.resources.map((r) => r.uri);
      expect(uris.slice(0, 3)).toEqual(["vc://machine/node-01", "vc://machine/node-02", `vc://machine/${TOOLS_MACHINE}`]);
      for (const u of ["vc://alerts", "vc://repos", "vc://health", "vc://accounts"]) expect(uris).toContain(u);
      expect(uris).not.toContain("vc://machine");
      const repos = await client.readResource({ uri: "vc://repos" });
      expect(JSON.parse((repos.contents[0] as { text: string }).text).schema_version).toBe("vc.robot.repos.v1");
      expect(await mcpError(client.readResource({ uri: "vc://nope" }))).toContain("no resource vc://nope");
      const machine = await client.readResource({ uri: `vc://machine/${TOOLS_MACHINE}` });
      expect(JSON.parse((machine.contents[0] as { text: string }).text).schema_version).toBe("vc.robot.machine.v1");
      const prompts = await client.listPrompts();
      expect(prompts.prompts.map((p) => p.name)).toEqual(["triage_fleet", "check_accounts"]);
      expect(((await client.getPrompt({ name: "triage_fleet" })).messages[0]!.content as { text: string }).text).toContain("vc_fleet_status");
    } finally {
      await client.close();
    }
  }, 120_000);

  it("bad input: unknown tool, wrong types, a huge estimated_tokens, a writing vc_query, a second report of one task", async () => {
    const client = await session();
    try {
      expect(await mcpError(client.callTool({ name: "vc_nope", arguments: {} }))).toContain('no tool "vc_nope"');
      expect(await mcpError(client.callTool({ name: "vc_triage", arguments: { limit: "abc" } }))).toContain('limit: "abc" is not a whole number from 1 to 1000');
      expect(await mcpError(client.callTool({ name: "vc_fleet_status", arguments: { scope: 5 } }))).toContain("scope: expected a string");
      expect(await mcpError(client.callTool({ name: "vc_find_capacity", arguments: { estimated_tokens: 1e20 } }))).toContain("estimated_tokens: expected a whole number");
      expect(await mcpError(client.callTool({ name: "vc_query", arguments: { sql: "DELETE FROM alerts" } }))).toMatch(/read-only|refused|only/i);
      expect(await mcpError(client.callTool({ name: "vc_machine", arguments: { id: "node-99" } }))).toContain('no machine "node-99"');
      expect(await mcpError(client.callTool({ name: "vc_request_resources", arguments: { resource_type: "gpu" } }))).toContain('resource_type: expected "machine" or "account"');
      const first = (await client.callTool({ name: "vc_report_completion", arguments: { task_id: "twice", metrics: { outcome: "success" } } })).structuredContent as {
        recorded: boolean;
      };
      const second = (await client.callTool({ name: "vc_report_completion", arguments: { task_id: "twice", metrics: { outcome: "failure" } } })).structuredContent as {
        recorded: boolean;
      };
      expect([first.recorded, second.recorded]).toEqual([true, false]);
      expect(await mcpError(client.callTool({ name: "vc_report_completion", arguments: { task_id: "" } }))).toContain("task_id");
      expect(await mcpError(client.callTool({ name: "vc_ask", arguments: { question: "why is orka slow" } }))).toContain("no machine named 'orka'");
    } finally {
      await client.close();
    }
  }, 120_000);

  it("with the daemon serving the store: the tools go through it, and the reports land in its store", async () => {
    const vc: Cockpit = await openDemoCockpit(config, env, END);
    const stop = new AbortController();
    const daemon = runDaemon(vc, { signal: stop.signal, poll: false });
    try {
      await Bun.sleep(300);
      const client = await session();
      try {
        await everyTool(client);
        await client.callTool({ name: "vc_report_completion", arguments: { task_id: "through-daemon", metrics: { tokens: 10 } } });
      } finally {
        await client.close();
      }
      const [row] = await vc.store.query<{ tokens: bigint }>("SELECT tokens FROM task_reports WHERE task_id = 'through-daemon'");
      expect(Number(row!.tokens)).toBe(10);
    } finally {
      stop.abort();
      await daemon;
      await vc.close();
    }
  }, 120_000);
});

afterAll(() => {});
