import { defineCollector, type CollectContext } from "vibe-cockpit";
import { ListSchema, StatusSchema, checkOutput, mapNtm, parseJsonOutput, type ListOutput, type Status } from "./parse.ts";

export interface NtmOptions {
  /** Also run `ntm list --json` for work dirs, windows and agent counts per session (default true). */
  list?: boolean;
}

type Outcome<T> = { ok: true; parsed: T; raw: unknown } | { ok: false; error: string };

/** Runs one ntm command and reads its JSON; any failure is returned as text, not thrown. */
async function read<T>(ctx: CollectContext, args: string[], check: (raw: unknown) => T): Promise<Outcome<T>> {
  const what = `ntm ${args.join(" ")}`;
  const r = await ctx.exec.run(["ntm", ...args]);
  let raw: unknown;
  try {
    raw = parseJsonOutput(r.stdout);
  } catch {
    const why = r.stderr.trim().split("\n").slice(-3).join(" ").slice(0, 300) || JSON.stringify(r.stdout.slice(0, 120));
    return { ok: false, error: `${what} exited ${r.exitCode} without JSON: ${why}` };
  }
  // ntm's robot failure envelope: success=false with error and error_code (exit 1).
  // `ntm list --json` fails with {success: false, error, code}.
  const env = raw as { success?: unknown; error?: unknown; error_code?: unknown; code?: unknown } | null;
  if (env && typeof env === "object" && (env.success === false || (typeof env.error === "string" && env.error !== "" && !("sessions" in env)))) {
    return { ok: false, error: `${what} failed: ${String(env.error ?? "no reason given")}${env.error_code || env.code ? ` (${String(env.error_code ?? env.code)})` : ""}` };
  }
  try {
    const parsed = check(raw);
    if (r.exitCode !== 0) ctx.warn(`${what} exited ${r.exitCode} but printed its JSON; read it`);
    return { ok: true, parsed, raw };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
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
    version: "1.0.0",
    schemaVersion: 1,
    description: "ntm --robot-status and ntm list --json: tmux sessions, agents, activity totals",
    requires: { commands: ["ntm"] },
    async collect(ctx) {
      const [status, list] = await Promise.all([
        read<Status>(ctx, ["--robot-status"], (raw) => {
          const s = checkOutput(StatusSchema, raw, "ntm --robot-status");
          if (!Array.isArray(s.sessions) && !s.summary) throw new Error("ntm --robot-status printed neither sessions nor summary");
          return s;
        }),
        withList ? read<ListOutput>(ctx, ["list", "--json"], (raw) => checkOutput(ListSchema, raw, "ntm list --json")) : Promise.resolve(null),
      ]);
      if (!status.ok && (!list || !list.ok)) {
        throw new Error([status.error, list && !list.ok ? list.error : null].filter(Boolean).join("; "));
      }
      if (!status.ok) ctx.warn(`${status.error}; sessions and totals come from ntm list alone`);
      if (list && !list.ok) ctx.warn(`${list.error}; sessions come from --robot-status alone`);
      const mapped = mapNtm(
        {
          status: status.ok ? { parsed: status.parsed, raw: status.raw } : null,
          list: list?.ok ? { parsed: list.parsed, raw: list.raw } : null,
        },
        ctx.warn,
      );
      return { rows: { ntm_sessions_snapshot: mapped.sessions, ntm_agents_snapshot: mapped.agents, ntm_activity_snapshot: mapped.activity } };
    },
  });
}

export default ntm;
