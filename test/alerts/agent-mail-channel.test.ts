import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { createFixedClock, deliverEvents, type AlertEvent, type ChannelContext, type Store } from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { agentMail } from "../../plugins/channels/index.ts";
import { UNSAFE } from "../helpers/escapes.ts";
import { tempDir } from "../helpers/tmp.ts";

// A stand-in for mcp_agent_mail on 127.0.0.1: its MCP tools under their own names with the
// parameters of its server (src/mcp_agent_mail/app.py: ensure_project, register_agent,
// send_message, reply_message), stateless Streamable HTTP with JSON responses as it serves them,
// the same identity rules (re-registering a name needs its registration_token, sending needs the
// sender_token), and a record of every call.
const dir = tempDir("vc-agent-mail-");
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

type Json = Record<string, unknown>;
type Prop = "string" | "string?" | "integer" | "boolean?" | "list" | "list?";
const TOOLS: Record<string, Record<string, Prop>> = {
  ensure_project: { human_key: "string", identity_mode: "string?", format: "string?" },
  register_agent: {
    project_key: "string",
    program: "string",
    model: "string",
    name: "string?",
    task_description: "string?",
    attachments_policy: "string?",
    registration_token: "string?",
    format: "string?",
  },
  send_message: {
    project_key: "string",
    sender_name: "string",
    to: "list",
    subject: "string",
    body_md: "string",
    cc: "list?",
    bcc: "list?",
    attachment_paths: "list?",
    convert_images: "boolean?",
    importance: "string?",
    ack_required: "boolean?",
    thread_id: "string?",
    broadcast: "boolean?",
    topic: "string?",
    auto_contact_if_blocked: "boolean?",
    sender_token: "string?",
    format: "string?",
  },
  reply_message: {
    project_key: "string",
    message_id: "integer",
    sender_name: "string",
    body_md: "string",
    to: "list?",
    cc: "list?",
    bcc: "list?",
    subject_prefix: "string?",
    sender_token: "string?",
    format: "string?",
  },
};

function schemaOf(props: Record<string, Prop>) {
  const type = (p: Prop) => (p.startsWith("list") ? { type: "array", items: { type: "string" } } : { type: p.replace("?", "") });
  return {
    type: "object" as const,
    properties: Object.fromEntries(Object.entries(props).map(([k, p]) => [k, type(p)])),
    required: Object.entries(props)
      .filter(([, p]) => !p.endsWith("?"))
      .map(([k]) => k),
  };
}

interface Call {
  tool: string;
  args: Json;
  authorization: string | null;
}
interface Sent {
  id: number;
  project_key: string;
  sender_name: string;
  to: string[];
  subject: string;
  body_md: string;
  importance: string;
  thread_id: string | null;
}

class ToolFailure extends Error {}

function startFakeAgentMail(o: { bearer?: string } = {}) {
  const calls: Call[] = [];
  const projects = new Set<string>();
  const agents = new Map<string, { name: string; token: string }>(); // key: project \0 name
  const sent: Sent[] = [];
  const key = (project: string, name: string) => `${project}\0${name.toLowerCase()}`;
  const project = (k: unknown) => {
    if (!projects.has(String(k))) throw new ToolFailure(`Project '${k}' not found. Call ensure_project first.`);
    return String(k);
  };
  const tools: Record<string, (a: Json) => Json> = {
    ensure_project(a) {
      const human = String(a.human_key);
      if (!human.startsWith("/")) throw new ToolFailure(`human_key must be an absolute directory path, got: '${human}'.`);
      projects.add(human);
      return { id: projects.size, slug: human.replace(/[^a-z0-9]+/gi, "-"), human_key: human };
    },
    register_agent(a) {
      const p = project(a.project_key);
      const name = String(a.name ?? `GreenCastle${agents.size}`);
      const existing = agents.get(key(p, name));
      if (existing) {
        if (!a.registration_token) throw new ToolFailure(`register_agent for an existing identity requires registration_token for agent '${name}'.`);
        if (a.registration_token !== existing.token) throw new ToolFailure(`Invalid registration_token for agent '${name}'.`);
        return { name: existing.name, program: a.program, model: a.model, registration_token: existing.token };
      }
      const agent = { name, token: `tok-${crypto.randomUUID()}` };
      agents.set(key(p, name), agent);
      return { id: agents.size, name, program: a.program, model: a.model, task_description: a.task_description ?? "", registration_token: agent.token };
    },
    send_message(a) {
      const p = project(a.project_key);
      const sender = agents.get(key(p, String(a.sender_name)));
      if (!sender) throw new ToolFailure(`Agent '${a.sender_name}' not found in project '${p}'.`);
      if (a.sender_token !== sender.token) throw new ToolFailure(`send_message requires sender_token for agent '${sender.name}'.`);
      const to = a.to as string[];
      const unknown = to.filter((n) => !agents.has(key(p, n)));
      if (unknown.length > 0) throw new ToolFailure(`Unknown recipient(s): ${unknown.join(", ")}. Register them first.`);
      const thread = a.thread_id === undefined ? null : String(a.thread_id);
      if (thread !== null && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(thread)) throw new ToolFailure(`Invalid thread_id: '${thread}'.`);
      const m: Sent = {
        id: sent.length + 1,
        project_key: p,
        sender_name: sender.name,
        to,
        subject: String(a.subject),
        body_md: String(a.body_md),
        importance: String(a.importance ?? "normal"),
        thread_id: thread,
      };
      sent.push(m);
      return { deliveries: [{ project: p, payload: { ...m, from: sender.name } }], count: 1 };
    },
    reply_message() {
      throw new ToolFailure("not used by vc");
    },
  };

  function check(tool: string, args: Json) {
    const props = TOOLS[tool]!;
    for (const k of Object.keys(args)) if (!(k in props)) throw new ToolFailure(`${tool}: unexpected argument '${k}'`);
    for (const [k, p] of Object.entries(props)) {
      const v = args[k];
      if (v === undefined || v === null) {
        if (!p.endsWith("?")) throw new ToolFailure(`${tool}: missing required argument '${k}'`);
        continue;
      }
      const ok = p.startsWith("list") ? Array.isArray(v) && v.every((x) => typeof x === "string") : p.startsWith("integer") ? Number.isInteger(v) : typeof v === p.replace("?", "");
      if (!ok) throw new ToolFailure(`${tool}: '${k}' has the wrong type`);
    }
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path !== "/mcp/" && path !== "/api/") return new Response("not found", { status: 404 });
      const authorization = req.headers.get("authorization");
      if (o.bearer && authorization !== `Bearer ${o.bearer}`) return new Response(JSON.stringify({ detail: "Unauthorized" }), { status: 401 });
      const mcp = new Server({ name: "mcp-agent-mail", version: "test" }, { capabilities: { tools: {} } });
      mcp.setRequestHandler(ListToolsRequestSchema, async () => ({
        tools: Object.entries(TOOLS).map(([name, props]) => ({ name, inputSchema: schemaOf(props) })),
      }));
      mcp.setRequestHandler(CallToolRequestSchema, async (r) => {
        const tool = r.params.name;
        const args = (r.params.arguments ?? {}) as Json;
        calls.push({ tool, args, authorization });
        try {
          if (!(tool in tools)) throw new ToolFailure(`Unknown tool: ${tool}`);
          check(tool, args);
          const result = tools[tool]!(args);
          return { content: [{ type: "text", text: JSON.stringify(result) }], structuredContent: result };
        } catch (err) {
          if (!(err instanceof ToolFailure)) throw err;
          return { isError: true, content: [{ type: "text", text: `Error calling tool '${tool}': ${err.message}` }] };
        }
      });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await mcp.connect(transport);
      try {
        return await transport.handleRequest(req);
      } finally {
        void mcp.close();
      }
    },
  });
  const url = `http://127.0.0.1:${server.port}/mcp/`;
  /** An agent registered by someone else (the person reading the alerts). */
  const addAgent = (projectKey: string, name: string) => {
    projects.add(projectKey);
    agents.set(key(projectKey, name), { name, token: `tok-${name}` });
  };
  return { url, calls, sent, agents, addAgent, stop: () => server.stop(true) };
}

const PROJECT = "/data/projects/fleet";
const clock = createFixedClock("2026-01-25T03:00:00Z");

const alert = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  type: "alert",
  event: "firing",
  event_id: `e-${crypto.randomUUID()}`,
  alert_id: "disk_low:orko:/data",
  rule: "disk_low",
  severity: "critical",
  title: "Disk almost full",
  machine_id: "orko",
  labels: { mount: "/data" },
  value: 97.2,
  message: "/data is 97.2% full",
  expected: "< 90%",
  received: "97.2%",
  actions: [{ title: "Find what grew", command: "du -xh /data --max-depth=2" }],
  at: "2026-01-25T03:00:00.000Z",
  suppressed_by: null,
  ...over,
});

const ctxIn = (sub: string): ChannelContext => ({ dataDir: dir, storeFile: (name) => join(dir, sub, `vc.${name}`) });

async function store() {
  const s = await createTestStore();
  stores.push(s);
  return s;
}

let fake: ReturnType<typeof startFakeAgentMail>;
beforeAll(() => {
  fake = startFakeAgentMail({ bearer: "mail-secret" });
  fake.addAgent(PROJECT, "BlueLake");
});
afterAll(() => fake?.stop());

describe("agentMail channel", () => {
  it("opens one thread per alert: the firing message, then the resolution in the same thread", async () => {
    const s = await store();
    const channel = agentMail({ url: fake.url, project: PROJECT, to: ["BlueLake"], token: "mail-secret", attempts: 1 });
    expect(channel.name).toBe(`agent-mail 127.0.0.1:${new URL(fake.url).port}`);
    const ctx = ctxIn("one");
    const firing = alert();
    const resolved = alert({ event: "resolved", message: "/data is 71% full", received: "71%" });
    const r1 = await deliverEvents({ store: s, clock, channels: [channel], events: [firing], ctx });
    const r2 = await deliverEvents({ store: s, clock, channels: [channel], events: [resolved], ctx });
    expect([...r1, ...r2]).toEqual([
      { channel: channel.name, event_id: firing.event_id, ok: true, attempts: 1 },
      { channel: channel.name, event_id: resolved.event_id, ok: true, attempts: 1 },
    ]);

    // registered once, then one send_message per state change; every request carried the bearer token
    expect(fake.calls.map((c) => c.tool)).toEqual(["ensure_project", "register_agent", "send_message", "send_message"]);
    expect(new Set(fake.calls.map((c) => c.authorization))).toEqual(new Set(["Bearer mail-secret"]));
    expect(fake.calls[0]!.args).toEqual({ human_key: PROJECT });
    expect(fake.calls[1]!.args).toEqual({ project_key: PROJECT, program: "vc", model: "none", name: "AmberBeacon", task_description: "vc alert notifications" });
    const token = fake.agents.get(`${PROJECT}\0amberbeacon`)!.token;
    for (const c of fake.calls.slice(2)) expect(c.args.sender_token).toBe(token);

    expect(fake.sent).toHaveLength(2);
    const [first, second] = fake.sent;
    expect(first).toMatchObject({
      project_key: PROJECT,
      sender_name: "AmberBeacon",
      to: ["BlueLake"],
      subject: "[vc] FIRING critical: Disk almost full on orko",
      importance: "urgent",
      thread_id: "vc-alert-disk_low-orko--data",
    });
    expect(first!.body_md).toContain("/data is 97.2% full");
    expect(first!.body_md).toContain("- expected: < 90%");
    expect(first!.body_md).toContain("- Find what grew: `du -xh /data --max-depth=2`");
    expect(second).toMatchObject({ subject: "[vc] RESOLVED: Disk almost full on orko", thread_id: first!.thread_id, sender_name: "AmberBeacon" });
    expect(second!.body_md).toContain("- received: 71%");

    const rows = await s.query<{ status: string; error: string | null }>("SELECT status, error FROM alert_deliveries ORDER BY ts, event_id");
    expect(rows.map((r) => r.status)).toEqual(["ok", "ok"]);

    // A restarted vc (a new channel, the same store) is the same agent to the server: it proves it
    // with the token it kept, owner-only, beside the store.
    const tokenFile = join(dir, "one", "vc.agent-mail.jsonl");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    fake.calls.length = 0;
    const again = agentMail({ url: fake.url, project: PROJECT, to: ["BlueLake"], token: "mail-secret", attempts: 1 });
    const escalated = alert({ event: "escalated" });
    const [r3] = await deliverEvents({ store: s, clock, channels: [again], events: [escalated], ctx });
    expect(r3).toMatchObject({ ok: true });
    expect(fake.calls[1]).toMatchObject({ tool: "register_agent", args: { name: "AmberBeacon", registration_token: token } });
    expect(fake.sent[2]).toMatchObject({ thread_id: first!.thread_id, subject: "[vc] ESCALATED critical: Disk almost full on orko" });
  });

  it("maps importance from severity, with the caller's overrides", async () => {
    const channel = agentMail({ url: fake.url, project: PROJECT, sender: "vc-alerts", to: ["BlueLake"], token: "mail-secret", importance: { medium: "high" } });
    const ctx = ctxIn("importance");
    for (const severity of ["high", "medium", "low", "weird"]) await channel.deliver(alert({ severity, alert_id: `imp-${severity}` }), ctx);
    const mine = fake.sent.filter((m) => m.sender_name === "vc-alerts");
    expect(mine.map((m) => [m.thread_id, m.importance])).toEqual([
      ["vc-alert-imp-high", "high"],
      ["vc-alert-imp-medium", "high"],
      ["vc-alert-imp-low", "low"],
      ["vc-alert-imp-weird", "normal"],
    ]);
  });

  it("strips escape sequences and controls from what it sends", async () => {
    const channel = agentMail({ url: fake.url, project: PROJECT, sender: "GoldOwl", to: ["BlueLake"], token: "mail-secret" });
    await channel.deliver(alert({ alert_id: "esc", title: "disk \x1b]0;pwned\x07full\u202e", message: "line \x1b[31mred\x1b[0m\nnext\u009b2J" }), ctxIn("esc"));
    const m = fake.sent.at(-1)!;
    expect(m.subject).toBe("[vc] FIRING critical: disk full on orko");
    expect(m.body_md).toContain("line red\nnext\n");
    expect(`${m.subject}${m.body_md}`).not.toMatch(UNSAFE);
  });

  it("a tool error is a failed delivery with the server's own message, naming the server and the tool", async () => {
    const s = await store();
    const channel = agentMail({ url: fake.url, project: PROJECT, sender: "RedFox", to: ["GhostFox"], token: "mail-secret", attempts: 1 });
    const e = alert();
    const [report] = await deliverEvents({ store: s, clock, channels: [channel], events: [e], ctx: ctxIn("tool-error") });
    expect(report).toMatchObject({ ok: false, attempts: 1 });
    expect(report!.error).toBe(`mcp_agent_mail at ${fake.url}: send_message: Error calling tool 'send_message': Unknown recipient(s): GhostFox. Register them first.`);
    const rows = await s.query<{ status: string; error: string }>("SELECT status, error FROM alert_deliveries");
    expect(rows).toEqual([{ status: "failed", error: report!.error! }]);
  });

  it("an agent already registered by someone else, without its token, fails saying what to do", async () => {
    const channel = agentMail({ url: fake.url, project: PROJECT, sender: "BlueLake", to: ["BlueLake"], token: "mail-secret", attempts: 1 });
    const err = await channel.deliver(alert(), ctxIn("taken")).then(
      () => "delivered",
      (e: Error) => e.message,
    );
    expect(err).toContain(
      `mcp_agent_mail at ${fake.url}: register_agent: Error calling tool 'register_agent': register_agent for an existing identity requires registration_token`,
    );
    expect(err).toContain("pass its token as senderToken");
    // with that token it is the same agent
    const ok = agentMail({ url: fake.url, project: PROJECT, sender: "BlueLake", senderToken: "tok-BlueLake", to: ["BlueLake"], token: "mail-secret" });
    await ok.deliver(alert({ alert_id: "self" }), ctxIn("taken"));
    expect(fake.sent.at(-1)).toMatchObject({ sender_name: "BlueLake", thread_id: "vc-alert-self" });
  });

  it("a wrong bearer token is a failed delivery naming the server", async () => {
    const channel = agentMail({ url: fake.url, project: PROJECT, to: ["BlueLake"], token: "wrong", attempts: 1 });
    const err = await channel.deliver(alert(), ctxIn("bearer")).then(
      () => "delivered",
      (e: Error) => e.message,
    );
    expect(err).toBe(
      `mcp_agent_mail at ${fake.url}: initialize: the server answered HTTP 401: Streamable HTTP error: Error POSTing to endpoint: {"detail":"Unauthorized"} (check the token option against the server's HTTP_BEARER_TOKEN)`,
    );
    expect(fake.calls.filter((c) => c.authorization === "Bearer wrong")).toEqual([]);
  });

  it("an unreachable server is a failed delivery naming its URL", async () => {
    // a port that was just free: nothing listens on it
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = probe.port;
    probe.stop(true);
    const url = `http://127.0.0.1:${port}/mcp/`;
    const s = await store();
    const e = alert();
    const [report] = await deliverEvents({
      store: s,
      clock,
      channels: [agentMail({ url, project: PROJECT, to: ["BlueLake"], attempts: 2, backoffMs: 1 })],
      events: [e],
      ctx: ctxIn("down"),
    });
    expect(report).toMatchObject({ ok: false, attempts: 2 });
    expect(report!.error).toStartWith(`mcp_agent_mail at ${url}: initialize: cannot reach the server:`);
    const rows = await s.query<{ attempt: number; status: string }>("SELECT attempt, status FROM alert_deliveries ORDER BY attempt");
    expect(rows).toEqual([
      { attempt: 1, status: "failed" },
      { attempt: 2, status: "failed" },
    ]);
  });

  it("refuses a channel with no recipient or a relative project key", () => {
    expect(() => agentMail({ project: PROJECT, to: [] })).toThrow(/names no recipient/);
    expect(() => agentMail({ project: "fleet", to: ["BlueLake"] })).toThrow(/project "fleet" is not an absolute directory path/);
  });
});
