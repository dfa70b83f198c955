// The MCP server's door onto a cockpit: the daemon's (RemoteCockpit: writes go through its routes)
// or this process's own (writes go to the store it holds).
import type { Cockpit } from "../cockpit.ts";
import type { RemoteCockpit } from "../serve/client.ts";
import { recordRequest, reportCompletion } from "./records.ts";
import type { McpDoor } from "./server.ts";

export function mcpDoor(api: Cockpit | RemoteCockpit, ask?: (question: string) => Promise<unknown>): McpDoor {
  const remote = "remote" in api && api.remote === true;
  return {
    view: (name, args = {}) => api.view(name, args),
    listViews: async () => (remote ? (api as RemoteCockpit).listViews() : (api as Cockpit).views.views.map((v) => ({ name: v.name, summary: v.summary, args: v.args }))),
    query: (sql) => api.query(sql),
    reportCompletion: (input) => (remote ? (api as RemoteCockpit).reportCompletion(input) : reportCompletion((api as Cockpit).store, input, api.clock.now())),
    recordRequest: (input) => (remote ? (api as RemoteCockpit).recordRequest(input) : recordRequest((api as Cockpit).store, input, api.clock.now())),
    ...(ask ? { ask } : {}),
  };
}
