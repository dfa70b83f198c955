import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { tempDir } from "../helpers/tmp.ts";
import { TOOLS_MACHINE, startWebDaemon, type WebDaemon } from "../web/_fleet.ts";

// The same MCP server over Streamable HTTP at /mcp on the daemon's HTTP listener: the SDK's own
// client, the daemon's guard (a token) in front of it.
const dir = tempDir("vc-mcp-http-");
const TOKEN = "mcp-test-token-0123456789";
let d: WebDaemon;

beforeAll(async () => {
  d = await startWebDaemon(dir, { fleet: 3, http: { token: TOKEN } });
}, 120_000);
afterAll(async () => {
  await d?.stop();
});

const connect = async (token: string | null) => {
  const client = new Client({ name: "vc-http-test", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", d.url), { requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {} }));
  return client;
};

describe("vc's MCP server over HTTP (/mcp)", () => {
  it("lists and calls tools through the daemon with the token", async () => {
    const client = await connect(TOKEN);
    try {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      for (const n of [
        "vc_fleet_status",
        "vc_find_capacity",
        "vc_get_recommendations",
        "vc_report_completion",
        "vc_request_resources",
        "vc_query",
        "vc_ask",
        "vc_health",
        "vc_machine",
      ])
        expect(names).toContain(n);
      const machine = await client.callTool({ name: "vc_machine", arguments: { id: TOOLS_MACHINE } });
      expect((machine.structuredContent as { schema_version: string }).schema_version).toBe("vc.robot.machine.v1");
      const report = await client.callTool({ name: "vc_report_completion", arguments: { task_id: "http-1", metrics: { outcome: "success" } } });
      expect((report.structuredContent as { recorded: boolean }).recorded).toBe(true);
      const [row] = await d.vc.store.query<{ outcome: string }>("SELECT outcome FROM task_reports WHERE task_id = 'http-1'");
      expect(row!.outcome).toBe("success");
      const bad = await client.callTool({ name: "vc_triage", arguments: { limit: -1 } }).then(
        () => "no error",
        (e: Error) => e.message,
      );
      expect(bad).toContain("limit: -1 is not a whole number from 1 to 1000");
    } finally {
      await client.close();
    }
  }, 60_000);

  it("refuses a client without the token (401 from the daemon's guard)", async () => {
    const err = await connect(null).then(
      () => "connected",
      (e: Error) => e.message,
    );
    expect(err).toContain("this vc needs its token: the request carried no bearer token");
  }, 30_000);
});
