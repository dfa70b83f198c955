// The MCP server over Streamable HTTP at /mcp on the daemon's HTTP listener (same token, Host and
// Origin rules as every route). Stateless: each request gets its own server and transport, so
// nothing is held between calls and any number of agents may call at once.
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Cockpit } from "../cockpit.ts";
import type { WebRoute } from "../web/api.ts";
import { mcpDoor } from "./door.ts";
import { createMcpServer } from "./server.ts";

/** The routes of `/mcp` for a cockpit's web server (`web.route(...mcpRoutes(vc, version))`). */
export function mcpRoutes(vc: Cockpit, version: string, ask?: (question: string) => Promise<unknown>): WebRoute[] {
  const handle = async ({ req }: { req: Request }) => {
    const server = createMcpServer(mcpDoor(vc, ask), { version });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(req);
    } finally {
      void server.close();
    }
  };
  return [
    { method: "POST", path: "/mcp", handle },
    { method: "GET", path: "/mcp", handle },
  ];
}
