import { defineCommand } from "citty";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer } from "../../lib/mcp/server.ts";
import { mcpDoor } from "../../lib/mcp/door.ts";
import pkg from "../../package.json" with { type: "json" };
import { ask, loadConfig } from "../../lib/index.ts";
import { configArgs, guard, openApiFromArgs, storeArgs } from "../_common.ts";

/** `vc mcp`: the MCP server on stdio (JSON-RPC on stdin/stdout; diagnostics on stderr). */
export default defineCommand({
  meta: {
    name: "mcp",
    description:
      "The MCP server for agents on stdio: every view as a read-only tool, vc_query, vc_fleet_status, vc_find_capacity, vc_get_recommendations, vc_report_completion, vc_request_resources; resources vc://machine/{id}, vc://alerts, vc://repos. Through the daemon when one serves the store.",
  },
  args: { ...storeArgs },
  run: ({ args }) =>
    guard(async () => {
      const vc = await openApiFromArgs(args);
      // vc_ask resolves names against the config (the daemon's client has none of its own).
      const config = "config" in vc ? vc.config : await loadConfig(configArgs(args));
      const server = createMcpServer(
        mcpDoor(vc, (q) => ask(vc, q, { config })),
        { version: pkg.version },
      );
      const closed = new Promise<void>((resolve) => {
        server.onclose = () => resolve();
      });
      await server.connect(new StdioServerTransport());
      process.stdin.on("end", () => void server.close());
      await closed;
      await vc.close();
    }),
});
