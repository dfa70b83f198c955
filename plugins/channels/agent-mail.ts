// An alert channel into mcp_agent_mail (github.com/Dicklesworthstone/mcp_agent_mail and its Rust
// port): each alert is one thread of messages, its first state change opening it and the later
// ones (escalated, resolved …) following in the same thread, through the server's own MCP tools.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { appendPrivateFile, defineChannel, errorMessage, oneLine, stripControl, VcError, type AlertEvent, type ChannelContext } from "vibe-cockpit";

/** mcp_agent_mail's `importance` values. */
export type MailImportance = "low" | "normal" | "high" | "urgent";

/**
 * The server's MCP endpoint on its default host and port (HTTP_HOST 127.0.0.1, HTTP_PORT 8765): the
 * Rust server's default path, which the Python server also mounts beside its own `/api/`.
 */
export const AGENT_MAIL_DEFAULT_URL = "http://127.0.0.1:8765/mcp/";

/** Severity → importance, unless `importance` says otherwise. */
export const DEFAULT_IMPORTANCE: Readonly<Record<string, MailImportance>> = { critical: "urgent", high: "high", medium: "normal", low: "low" };

export interface AgentMailOptions {
  /** The server's MCP endpoint (default {@link AGENT_MAIL_DEFAULT_URL}). */
  url?: string;
  /** The project's key: an absolute directory path (`ensure_project`'s `human_key`). */
  project: string;
  /**
   * vc's agent name in the project (default "AmberBeacon"). An adjective+noun from the servers' word
   * lists is valid everywhere; the Python server also takes ids with a separator ("vc-alerts").
   */
  sender?: string;
  /** The agents that receive the alerts (at least one). They must accept the sender: contact policy `open`, or an approved contact. */
  to: readonly string[];
  /** The server's bearer token (its HTTP_BEARER_TOKEN), sent as `Authorization: Bearer …`. */
  token?: string;
  /**
   * The sender's registration token, when the agent was registered elsewhere. Otherwise vc registers
   * it and keeps the token it is given in `<store>.agent-mail.jsonl` (owner-only), so a restarted
   * vc is still the same agent to the server.
   */
  senderToken?: string;
  /** Severity → importance, over {@link DEFAULT_IMPORTANCE}; an unknown severity is "normal". */
  importance?: Readonly<Record<string, MailImportance>>;
  /** Per call (default 10 s). */
  timeoutMs?: number;
  /** Attempts per event (default 3). */
  attempts?: number;
  backoffMs?: number;
}

/** The thread of an alert's messages: `vc-alert-<alert id>` in the characters a thread id may hold (at most 128). */
export function alertThreadId(alertId: string): string {
  return `vc-alert-${alertId}`.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 128);
}

/** The mail of one state change: subject, Markdown body and importance. */
export function agentMailMessage(e: AlertEvent, importance: Readonly<Record<string, MailImportance>> = DEFAULT_IMPORTANCE) {
  const head = e.event === "resolved" ? "RESOLVED" : `${e.event.toUpperCase()} ${e.severity}`;
  const where = e.machine_id ? ` on ${oneLine(e.machine_id)}` : "";
  const subject = oneLine(`[vc] ${head}: ${e.title}${where}`).slice(0, 200);
  const code = (s: string) => (s.includes("`") ? `\`\` ${s} \`\`` : `\`${s}\``);
  const lines = [
    `**${head}**: ${oneLine(e.title)}${where}`,
    "",
    stripControl(e.message),
    "",
    `- rule: ${code(oneLine(e.rule))}`,
    `- expected: ${oneLine(e.expected)}`,
    `- received: ${oneLine(e.received)}`,
    `- at: ${oneLine(e.at)}`,
    `- alert: ${code(oneLine(e.alert_id))}`,
  ];
  if (e.actions.length > 0) {
    lines.push("", "Suggested actions:");
    for (const a of e.actions) lines.push(`- ${oneLine(a.title)}${a.command ? `: ${code(oneLine(a.command))}` : ""}`);
  }
  return { subject, body_md: `${lines.join("\n")}\n`, importance: { ...DEFAULT_IMPORTANCE, ...importance }[e.severity] ?? "normal" };
}

type ToolResult = { isError?: boolean; content?: unknown; structuredContent?: unknown };

/** A tool's answer as an object: its structured content, or its text as JSON. */
function payloadOf(result: ToolResult): Record<string, unknown> {
  const sc = result.structuredContent;
  if (sc && typeof sc === "object") {
    const inner = (sc as { result?: unknown }).result;
    return inner && typeof inner === "object" && Object.keys(sc).length === 1 ? (inner as Record<string, unknown>) : (sc as Record<string, unknown>);
  }
  try {
    const parsed = JSON.parse(textOf(result));
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    return {};
  }
}

function textOf(result: ToolResult): string {
  const content = Array.isArray(result.content) ? (result.content as { type?: string; text?: string }[]) : [];
  return content
    .filter((c) => c.type === "text" && typeof c.text === "string")
    .map((c) => c.text)
    .join("\n");
}

interface SavedToken {
  url: string;
  project: string;
  sender: string;
  registration_token: string;
}

/**
 * Sends each alert state change as a message through mcp_agent_mail's MCP tools: `ensure_project`
 * and `register_agent` once (again after a failure), then `send_message` with the alert's thread
 * (`thread_id` {@link alertThreadId}), so an alert's firing, escalation and resolution are one thread.
 * Errors name the server and the tool, with the server's own message.
 * @example channels: [agentMail({ project: "/data/projects/fleet", to: ["BlueLake"] })]
 */
export function agentMail(options: AgentMailOptions) {
  const url = options.url ?? AGENT_MAIL_DEFAULT_URL;
  const endpoint = new URL(url);
  const sender = options.sender ?? "AmberBeacon";
  const timeout = options.timeoutMs ?? 10_000;
  if (options.to.length === 0) throw new VcError("invalid_input", "agentMail: `to` names no recipient");
  if (!isAbsolute(options.project))
    throw new VcError("invalid_input", `agentMail: project ${JSON.stringify(options.project)} is not an absolute directory path (mcp_agent_mail's project key)`);
  // The registered identity: the name the server gave (it may normalise it) and its token.
  let identity: { name: string; token: string | undefined } | undefined;

  const where = `mcp_agent_mail at ${url}`;
  // The server's words are untrusted text on their way to a terminal: one line, controls stripped.
  const fail = (tool: string, message: string, hint?: string) =>
    new VcError("exec_failed", `${where}: ${tool}: ${oneLine(message)}${hint ? ` (${hint})` : ""}`, hint ? { hint } : {});

  async function call(client: Client, tool: string, args: Record<string, unknown>, signal: AbortSignal | undefined, hint?: (message: string) => string | undefined) {
    let result: ToolResult;
    try {
      result = (await client.callTool({ name: tool, arguments: args }, undefined, { timeout, ...(signal ? { signal } : {}) })) as ToolResult;
    } catch (err) {
      throw fail(tool, errorMessage(err));
    }
    if (result.isError) {
      const message = textOf(result) || "the tool reported an error without a message";
      throw fail(tool, message, hint?.(message));
    }
    return payloadOf(result);
  }

  function savedToken(file: string): string | undefined {
    if (!existsSync(file)) return undefined;
    let found: string | undefined;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const t = JSON.parse(line) as SavedToken;
        if (t.url === url && t.project === options.project && t.sender === sender && typeof t.registration_token === "string") found = t.registration_token;
      } catch {
        // a torn line: the ones after it still count
      }
    }
    return found;
  }

  async function register(client: Client, ctx: ChannelContext) {
    await call(client, "ensure_project", { human_key: options.project }, ctx.signal);
    const file = ctx.storeFile("agent-mail.jsonl");
    const known = options.senderToken ?? savedToken(file);
    const agent = await call(
      client,
      "register_agent",
      {
        project_key: options.project,
        program: "vc",
        model: "none",
        name: sender,
        task_description: "vc alert notifications",
        ...(known ? { registration_token: known } : {}),
      },
      ctx.signal,
      (message) =>
        /registration_token/.test(message) ? `the agent ${sender} is registered with a token vc does not have: pass its token as senderToken, or pick another sender` : undefined,
    );
    const token = typeof agent.registration_token === "string" ? agent.registration_token : undefined;
    if (token && token !== known && options.senderToken === undefined) {
      appendPrivateFile(file, `${JSON.stringify({ url, project: options.project, sender, registration_token: token } satisfies SavedToken)}\n`);
    }
    return { name: typeof agent.name === "string" ? agent.name : sender, token: token ?? known };
  }

  return defineChannel({
    name: `agent-mail ${endpoint.host}`,
    attempts: options.attempts ?? 3,
    backoffMs: options.backoffMs ?? 1000,
    async deliver(event, ctx) {
      // The MCP client (and the schema libraries under it) loads when a message is first sent, not
      // with every process that reads the config: ~10 MB of RSS a daemon would otherwise always hold.
      const [{ Client }, { StreamableHTTPClientTransport, StreamableHTTPError }] = await Promise.all([
        import("@modelcontextprotocol/sdk/client/index.js"),
        import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
      ]);
      const client = new Client({ name: "vc", version: "1" });
      const transport = new StreamableHTTPClientTransport(endpoint, options.token ? { requestInit: { headers: { authorization: `Bearer ${options.token}` } } } : {});
      try {
        await client.connect(transport, { timeout, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      } catch (err) {
        if (!(err instanceof StreamableHTTPError) || typeof err.code !== "number") throw fail("initialize", `cannot reach the server: ${errorMessage(err)}`);
        const hint = err.code === 401 || err.code === 403 ? "check the token option against the server's HTTP_BEARER_TOKEN" : undefined;
        throw fail("initialize", `the server answered HTTP ${err.code}: ${errorMessage(err)}`, hint);
      }
      try {
        identity ??= await register(client, ctx);
        const m = agentMailMessage(event, options.importance);
        await call(
          client,
          "send_message",
          {
            project_key: options.project,
            sender_name: identity.name,
            to: [...options.to],
            subject: m.subject,
            body_md: m.body_md,
            importance: m.importance,
            thread_id: alertThreadId(event.alert_id),
            ...(identity.token ? { sender_token: identity.token } : {}),
          },
          ctx.signal,
        );
      } catch (err) {
        identity = undefined; // registered again next time: the server may have lost or renamed the agent
        throw err;
      } finally {
        await client.close().catch(() => {});
      }
    },
  });
}
