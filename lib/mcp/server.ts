// The agents' door (plan §7.6): an MCP server over the same answers a person gets. Every registered
// view is a read-only tool (its arguments' JSON Schema from the registry), `vc_query` is the
// read-only SQL of `vc query`, and the five tools of the plan answer from views: fleet status,
// capacity, recommendations, a task's completion report (stored once per task id) and a resource
// request (advice, recorded — never a pretend allocation). Resources: each machine, and every view
// that needs no argument (the alerts, the repos …). Prompts: triage the fleet, check the accounts. Through the daemon when one serves
// the store (the door it is given), else on the store itself.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { isVcError, errorMessage } from "../errors.ts";
import type { RobotEnvelope } from "../robot/envelope.ts";
import type { QueryResult } from "../store/store.ts";
import type { ArgsSpec } from "../views/define.ts";
import { argsJsonSchema } from "../views/schema.ts";
import type { ReportResult } from "./records.ts";

/** What the MCP server needs of a cockpit: views, read-only SQL, and the two agent records. */
export interface McpDoor {
  view(name: string, args?: Record<string, unknown>): Promise<RobotEnvelope<unknown>>;
  listViews(): Promise<{ name: string; summary: string; args: ArgsSpec }[]>;
  query(sql: string): Promise<QueryResult>;
  reportCompletion(input: unknown): Promise<ReportResult>;
  recordRequest(input: unknown): Promise<{ request_id: string }>;
  /** `vc ask` when the library has it: the answer to a question in words. */
  ask?(question: string): Promise<unknown>;
}

type Json = Record<string, unknown>;
type Tool = { name: string; description: string; inputSchema: Json; readOnly: boolean; call(args: Json): Promise<unknown> };

const invalid = (message: string) => new McpError(ErrorCode.InvalidParams, message);
const str = (args: Json, k: string, max = 1000): string | undefined => {
  const v = args[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalid(`${k}: expected a string, got ${typeof v}`);
  if (v.length > max) throw invalid(`${k}: at most ${max} characters`);
  return v;
};
const data = <T>(e: RobotEnvelope<unknown>) => e.data as T;

interface TriageItem {
  id: string;
  rank: number;
  severity: string;
  title: string;
  machine_id: string | null;
  message: string;
  kind: string;
}
interface Triage {
  items: TriageItem[];
  suggestions: Record<string, { title: string; command?: string }[]>;
}
interface FleetRow {
  id: string;
  score: number | null;
  severity: string | null;
  load_per_core: number | null;
  mem_pct: number | null;
  disk_pct: number | null;
  disk_mount: string | null;
  alerts: number;
  poll_age_s: number | null;
}
interface OracleAccount {
  key: string;
  provider: string;
  account: string;
  window: string;
  used_percent: number;
  time_to_limit_min: number | null;
  to_reset_min: number | null;
  resets_at: string | null;
  action: { kind: string; text: string; to: { command: string | null } | null };
}

/** A machine's headroom 0..1 (the least of CPU, memory and disk), with why. */
function headroom(m: FleetRow): { score: number; reasons: string[] } {
  const cpu = m.load_per_core === null ? null : Math.max(0, 1 - m.load_per_core);
  const mem = m.mem_pct === null ? null : Math.max(0, 1 - m.mem_pct / 100);
  const disk = m.disk_pct === null ? null : Math.max(0, 1 - m.disk_pct / 100);
  const parts = [cpu, mem, disk].filter((x): x is number => x !== null);
  const reasons = [
    m.load_per_core === null ? "load unknown" : `load ${m.load_per_core.toFixed(2)} per core`,
    m.mem_pct === null ? "memory unknown" : `memory ${m.mem_pct.toFixed(0)} % used`,
    m.disk_pct === null ? "disk unknown" : `fullest disk ${m.disk_mount ?? ""} ${m.disk_pct.toFixed(0)} % used`,
  ];
  if (m.alerts > 0) reasons.push(`${m.alerts} open alert(s)`);
  const stale = m.poll_age_s !== null && m.poll_age_s > 900;
  if (stale) reasons.push(`last poll ${Math.round(m.poll_age_s! / 60)} min ago`);
  const score = parts.length === 0 ? 0 : Math.min(...parts) * (m.alerts > 0 ? 0.8 : 1) * (stale ? 0.5 : 1);
  return { score: Math.round(score * 100) / 100, reasons };
}

const matches = (text: string | null | undefined, needle: string) => (text ?? "").toLowerCase().includes(needle.toLowerCase());

/** The tools: the five of the plan, `vc_query`, `vc_ask` when available, then one per registered view. */
export async function mcpTools(door: McpDoor): Promise<Tool[]> {
  const views = await door.listViews();
  const has = (name: string) => views.some((v) => v.name === name);
  const oracle = async (): Promise<OracleAccount[] | null> => (has("oracle") ? data<{ accounts: OracleAccount[] }>(await door.view("oracle", {})).accounts : null);

  const capacity = async (args: Json) => {
    const task = str(args, "task_type", 200);
    const tokens = args.estimated_tokens;
    if (tokens !== undefined && (typeof tokens !== "number" || !Number.isInteger(tokens) || tokens < 0 || tokens > 1e12))
      throw invalid(`estimated_tokens: expected a whole number from 0 to 1000000000000, got ${JSON.stringify(tokens)}`);
    const fleet = data<{ machines: FleetRow[] }>(await door.view("fleet", {})).machines;
    const machines = fleet
      .map((m) => ({ machine_id: m.id, ...headroom(m), health: m.severity }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);
    const accounts = await oracle();
    const notes: string[] = [];
    if (tokens !== undefined)
      notes.push(
        "vc measures accounts in percent of their window, not in tokens (the providers report percent): accounts are ranked by headroom and time to the limit; estimated_tokens was not used to filter them",
      );
    if (accounts === null) notes.push("no account forecasts: this config has no `oracle` view (its accounts plugin is not loaded)");
    if (task) notes.push(`task_type "${task}" is recorded with a request but does not change the ranking: vc has no per-task profiles yet`);
    const ranked = (accounts ?? [])
      .filter((a) => a.action.kind === "continue" || a.action.kind === "slow_down")
      .sort((a, b) => a.used_percent - b.used_percent)
      .map((a) => ({
        account: `${a.provider}/${a.account}`,
        window: a.window,
        headroom_percent: Math.round(100 - a.used_percent),
        time_to_limit_min: a.time_to_limit_min,
        resets_at: a.resets_at,
        reason:
          a.time_to_limit_min === null ? "lasts until its window resets at the current burn" : `reaches its limit in ${Math.round(a.time_to_limit_min)} min at the current burn`,
      }));
    return { machines, accounts: ranked, notes };
  };

  const tools: Tool[] = [
    {
      name: "vc_fleet_status",
      description: "Fleet health, open alerts and what to do next (DO NEXT) — for the whole fleet, or a scope: a machine id, a repo or an account (matched as text)",
      inputSchema: { type: "object", properties: { scope: { type: "string", description: "a machine id, repo or account; empty: the fleet" } }, additionalProperties: false },
      readOnly: true,
      async call(args) {
        const scope = str(args, "scope", 200);
        const [health, alerts, triage] = await Promise.all([door.view("health", {}), door.view("alerts", {}), door.view("triage", { limit: 50 })]);
        const machineIds = data<{ machines: { id: string }[] }>(health).machines.map((m) => m.id);
        const isMachine = scope !== undefined && machineIds.includes(scope);
        const inScope = (x: { machine_id: string | null; message?: string | null; title?: string | null; labels?: Record<string, string> }) =>
          !scope || (isMachine ? x.machine_id === scope : matches(x.message, scope) || matches(x.title, scope) || Object.values(x.labels ?? {}).some((v) => matches(v, scope)));
        const open = data<{ alerts: { alert_id: string; severity: string; title: string; machine_id: string | null; message: string | null; labels: Record<string, string> }[] }>(
          alerts,
        ).alerts.filter(inScope);
        const t = data<Triage>(triage);
        const next = t.items.filter(inScope).slice(0, 5);
        return {
          scope: scope ?? "fleet",
          scope_kind: !scope ? "fleet" : isMachine ? "machine" : "text",
          health: isMachine ? data<{ machines: { id: string }[] }>(health).machines.find((m) => m.id === scope) : data<{ overall: unknown }>(health).overall,
          open_alerts: open,
          do_next: next.map((i) => ({ ...i, commands: t.suggestions[i.id] ?? [] })),
          ...(scope && !isMachine && open.length === 0 && next.length === 0 ? { note: `nothing open mentions "${scope}" (machines: ${machineIds.join(", ")})` } : {}),
        };
      },
    },
    {
      name: "vc_find_capacity",
      description: "Where to run work: machines ranked by load, memory and disk headroom, and accounts with headroom before their reset (the oracle's forecasts), with reasons",
      inputSchema: {
        type: "object",
        properties: {
          task_type: { type: "string", description: "what the work is (kept with the answer)" },
          estimated_tokens: { type: "integer", minimum: 0, maximum: 1e12, description: "how many tokens the work needs" },
        },
        additionalProperties: false,
      },
      readOnly: true,
      call: capacity,
    },
    {
      name: "vc_get_recommendations",
      description: "What to do, with evidence and the command: triage items and the oracle's account actions, optionally about one machine, repo or account",
      inputSchema: { type: "object", properties: { context: { type: "string", description: "a machine id, repo or account to focus on" } }, additionalProperties: false },
      readOnly: true,
      async call(args) {
        const context = str(args, "context", 200);
        const t = data<Triage>(await door.view("triage", { limit: 50 }));
        const about = (x: { machine_id?: string | null; title?: string; message?: string }) =>
          !context || x.machine_id === context || matches(x.title, context) || matches(x.message, context);
        const items = t.items.filter(about).map((i) => ({
          source: "triage",
          rank: i.rank,
          severity: i.severity,
          title: i.title,
          machine_id: i.machine_id,
          evidence: i.message,
          commands: t.suggestions[i.id] ?? [],
        }));
        const accounts = ((await oracle()) ?? [])
          .filter((a) => a.action.kind !== "continue" && (!context || matches(`${a.provider}/${a.account}`, context)))
          .map((a) => ({
            source: "oracle",
            severity: a.action.kind === "swap_now" || a.action.kind === "emergency_pause" ? "high" : "medium",
            title: `${a.provider}/${a.account} (${a.window}): ${a.action.kind.replace("_", " ")}`,
            machine_id: null,
            evidence: `${Math.round(a.used_percent)} % used; ${a.time_to_limit_min === null ? "no limit before the reset" : `limit in ${Math.round(a.time_to_limit_min)} min`}`,
            commands: a.action.to?.command ? [{ title: a.action.text, command: a.action.to.command }] : [{ title: a.action.text }],
          }));
        return { context: context ?? null, recommendations: [...accounts, ...items] };
      },
    },
    {
      name: "vc_report_completion",
      description: "Report a finished task (agent, machine, repo, duration, tokens, outcome): stored once per task_id and acknowledged",
      inputSchema: {
        type: "object",
        properties: {
          task_id: { type: "string", minLength: 1, maxLength: 200 },
          metrics: {
            type: "object",
            properties: {
              agent: { type: "string" },
              machine: { type: "string" },
              repo: { type: "string" },
              duration_s: { type: "number", minimum: 0 },
              tokens: { type: "number", minimum: 0 },
              outcome: { type: "string" },
            },
          },
        },
        required: ["task_id"],
        additionalProperties: false,
      },
      readOnly: false,
      call: (args) => door.reportCompletion(args),
    },
    {
      name: "vc_request_resources",
      description: "Ask which machine or account to use for an amount of work: an advisory answer from vc's data, recorded with its outcome — nothing is allocated or reserved",
      inputSchema: {
        type: "object",
        properties: {
          resource_type: { type: "string", enum: ["machine", "account"] },
          amount: { type: "number", minimum: 0, description: "how much (cores or tokens), for the record" },
        },
        required: ["resource_type"],
        additionalProperties: false,
      },
      readOnly: false,
      async call(args) {
        const type = args.resource_type;
        if (type !== "machine" && type !== "account") throw invalid(`resource_type: expected "machine" or "account", got ${JSON.stringify(type)}`);
        const amount = args.amount;
        if (amount !== undefined && (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0))
          throw invalid(`amount: expected a number from 0, got ${JSON.stringify(amount)}`);
        const c = await capacity({});
        const best = type === "machine" ? (c.machines.find((m) => m.score > 0.2) ?? null) : (c.accounts[0] ?? null);
        const advice = best
          ? {
              use: type === "machine" ? (best as { machine_id: string }).machine_id : (best as { account: string }).account,
              why: best,
              alternatives: (type === "machine" ? c.machines : c.accounts).slice(1, 4),
            }
          : {
              use: null,
              why: type === "machine" ? "no machine has headroom (every one is above 80 % load, memory or disk, or unknown)" : "no account with headroom is known",
              notes: c.notes,
            };
        const { request_id } = await door.recordRequest({ resource_type: type, amount: amount ?? null, outcome: best ? "advised" : "none_available", advice });
        return { request_id, advisory: true, allocated: false, ...advice };
      },
    },
    {
      name: "vc_query",
      description: "Read-only SQL over vc's DuckDB store (as `vc query`): SELECT, WITH, DESCRIBE, SHOW, EXPLAIN, PRAGMA; anything that writes is refused",
      inputSchema: { type: "object", properties: { sql: { type: "string", minLength: 1, maxLength: 100000 } }, required: ["sql"], additionalProperties: false },
      readOnly: true,
      async call(args) {
        const sql = str(args, "sql", 100_000);
        if (!sql) throw invalid("sql: required");
        return door.query(sql);
      },
    },
  ];
  if (door.ask)
    tools.push({
      name: "vc_ask",
      description: "Ask vc a question in words (why is a machine slow, which account next, what changed, what needs me): answered from its views",
      inputSchema: { type: "object", properties: { question: { type: "string", minLength: 1, maxLength: 2000 } }, required: ["question"], additionalProperties: false },
      readOnly: true,
      async call(args) {
        const q = str(args, "question", 2000);
        if (!q?.trim()) throw invalid("question: required");
        return door.ask!(q);
      },
    });
  for (const v of views)
    tools.push({
      name: `vc_${v.name.replace(/-/g, "_")}`,
      description: `${v.summary} (the view "${v.name}", as \`vc robot ${v.name}\`)`,
      inputSchema: argsJsonSchema(v.args),
      readOnly: true,
      call: (args) => door.view(v.name, args),
    });
  return tools;
}

/** The error an MCP client gets: a bad argument is InvalidParams naming it; the rest says what failed. */
function asMcpError(err: unknown): McpError {
  if (err instanceof McpError) return err;
  if (isVcError(err)) {
    const code =
      err.code === "invalid_argument" || err.code === "usage" || err.code === "invalid_input" || err.code === "not_found" ? ErrorCode.InvalidParams : ErrorCode.InternalError;
    return new McpError(code, `${err.message}${err.hint ? ` (${err.hint})` : ""}`, { vc_code: err.code });
  }
  return new McpError(ErrorCode.InternalError, errorMessage(err));
}

/** The MCP server for a door. Connect it to a transport (stdio, Streamable HTTP). */
export function createMcpServer(door: McpDoor, o: { version: string }): Server {
  const server = new Server({ name: "vibe-cockpit", version: o.version }, { capabilities: { tools: {}, resources: {}, prompts: {} } });
  let tools: Promise<Tool[]> | null = null;
  const toolList = () => (tools ??= mcpTools(door));

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: (await toolList()).map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema, annotations: { readOnlyHint: t.readOnly } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    const list = await toolList();
    const tool = list.find((t) => t.name === req.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `no tool "${req.params.name}" (tools: ${list.map((t) => t.name).join(", ")})`);
    const args = (req.params.arguments ?? {}) as Json;
    try {
      const result = await tool.call(args);
      const structured = (result && typeof result === "object" && !Array.isArray(result) ? result : { result }) as Json;
      return { content: [{ type: "text", text: JSON.stringify(result, null, 2) }], structuredContent: structured };
    } catch (err) {
      throw asMcpError(err);
    }
  });

  // Resources: each machine (vc://machine/{id}), and every view that needs no argument as vc://<view> (alerts, repos, health …).
  const plainViews = async () => (await door.listViews()).filter((v) => !Object.values(v.args).some((a) => a.kind === "string" && a.required));
  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    const machines = data<{ machines: { id: string }[] }>(await door.view("machines", {})).machines;
    return {
      resources: [
        ...machines.map((m) => ({
          uri: `vc://machine/${encodeURIComponent(m.id)}`,
          name: `machine ${m.id}`,
          mimeType: "application/json",
          description: `vc robot machine ${m.id}`,
        })),
        ...(await plainViews()).map((v) => ({ uri: `vc://${v.name}`, name: v.name, mimeType: "application/json", description: `${v.summary} (vc robot ${v.name})` })),
      ],
    };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: "vc://machine/{id}",
        name: "machine",
        mimeType: "application/json",
        description: "one machine: health factors, disks, agents, accounts … (vc robot machine <id>)",
      },
    ],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    const uri = req.params.uri;
    const machine = /^vc:\/\/machine\/(.+)$/.exec(uri);
    const view = /^vc:\/\/([a-z][a-z0-9_-]*)$/.exec(uri);
    try {
      const envelope = machine
        ? await door.view("machine", { id: decodeURIComponent(machine[1]!) })
        : view && (await plainViews()).some((v) => v.name === view[1])
          ? await door.view(view[1]!, {})
          : null;
      if (!envelope) throw new McpError(ErrorCode.InvalidParams, `no resource ${uri} (vc://machine/{id}, or vc://<view> for a view that needs no argument)`);
      return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify(envelope, null, 2) }] };
    } catch (err) {
      throw asMcpError(err);
    }
  });

  const prompts = [
    {
      name: "triage_fleet",
      description: "Look over the fleet and say what to do first, with the commands",
      text: "Call vc_fleet_status, then vc_get_recommendations. List the three most important things to do now, each with its evidence (the numbers) and the exact command to run, most urgent first. Say which machines and accounts are fine.",
    },
    {
      name: "check_accounts",
      description: "Which provider account runs out next, and where to move the work",
      text: "Call vc_get_recommendations and vc_find_capacity. For each account that reaches its limit before its reset, say when, and the account to move to with its command. Mention accounts with headroom.",
    },
  ];
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: prompts.map(({ name, description }) => ({ name, description })) }));
  server.setRequestHandler(GetPromptRequestSchema, async (req) => {
    const p = prompts.find((x) => x.name === req.params.name);
    if (!p) throw new McpError(ErrorCode.InvalidParams, `no prompt "${req.params.name}" (prompts: ${prompts.map((x) => x.name).join(", ")})`);
    return { description: p.description, messages: [{ role: "user", content: { type: "text", text: p.text } }] };
  });
  return server;
}
