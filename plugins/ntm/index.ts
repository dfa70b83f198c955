import { checkOutput, defineCollector, runJsonAs } from "vibe-cockpit";
import { ListSchema, StatusSchema, mapNtm } from "./parse.ts";
import { ntmPlugin } from "./plugin.ts";

export interface NtmOptions {
  /** Also run `ntm list --json` for work dirs, windows and agent counts per session (default true). */
  list?: boolean;
}

/**
 * ntm's robot failure envelope as a thrown Error: `success: false` with error and error_code
 * (exit 1); `ntm list --json` fails with {success: false, error, code}.
 */
function refuseFailure(raw: unknown, what: string): void {
  const env = raw as { success?: unknown; error?: unknown; error_code?: unknown; code?: unknown } | null;
  if (env && typeof env === "object" && (env.success === false || (typeof env.error === "string" && env.error !== "" && !("sessions" in env)))) {
    throw new Error(`${what} failed: ${String(env.error ?? "no reason given")}${env.error_code || env.code ? ` (${String(env.error_code ?? env.code)})` : ""}`);
  }
}

/**
 * ntm (plan §3.1): sessions, agents and fleet activity from `ntm --robot-status` (current v2
 * headers or the legacy per-agent shape) and `ntm list --json`. A CLI snapshot: no cursor.
 * @example collectors: [ntm()]
 */
export function ntm(options: NtmOptions = {}) {
  const withList = options.list ?? true;
  return defineCollector({
    name: "ntm",
    plugin: ntmPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "ntm --robot-status and ntm list --json: tmux sessions, agents, activity totals",
    requires: { commands: ["ntm"] },
    async collect(ctx) {
      const [status, list] = await Promise.all([
        runJsonAs(ctx, ["ntm", "--robot-status"], (raw, what) => {
          refuseFailure(raw, what);
          const s = checkOutput(StatusSchema, raw, what);
          if (!Array.isArray(s.sessions) && !s.summary) throw new Error(`${what} printed neither sessions nor summary`);
          return s;
        }),
        withList
          ? runJsonAs(ctx, ["ntm", "list", "--json"], (raw, what) => {
              refuseFailure(raw, what);
              return checkOutput(ListSchema, raw, what);
            })
          : Promise.resolve(null),
      ]);
      if (!status.ok && !list?.ok) {
        throw new Error([status.error, list && !list.ok ? list.error : null].filter(Boolean).join("; "));
      }
      if (!status.ok) ctx.warn(`${status.error}; sessions and totals come from ntm list alone`);
      if (list && !list.ok) ctx.warn(`${list.error}; sessions come from --robot-status alone`);
      const mapped = mapNtm(
        {
          status: status.ok ? { parsed: status.value, raw: status.raw } : null,
          list: list?.ok ? { parsed: list.value, raw: list.raw } : null,
        },
        ctx.warn,
      );
      return { rows: { ntm_sessions_snapshot: mapped.sessions, ntm_agents_snapshot: mapped.agents, ntm_activity_snapshot: mapped.activity } };
    },
  });
}

export default ntm;
