import * as v from "valibot";
import { cursor, defineCollector, errorMessage, isoTime, issueText, runJson, sql, type CollectContext, type Cursor } from "vibe-cockpit";
import { UsageOutputSchema, historyRows, statusEvents, usageRows, type StatusMemory } from "./parse.ts";
import { accountsPlugin } from "../accounts/index.ts";

export interface CautOptions {
  /** Also ask providers' status pages (`caut usage --json --status`; network, slower). Default false. */
  status?: boolean;
  /** Read caut's history database when it exists (default true). Path key: `caut.history`. */
  history?: boolean;
}

const HISTORY_PATH = "~/.local/share/caut/usage-history.sqlite";

function memoryFrom(c: Cursor | undefined, warn: (m: string) => void): StatusMemory {
  if (c?.kind !== "opaque") return {};
  try {
    const m = JSON.parse(c.value) as unknown;
    if (m && typeof m === "object" && !Array.isArray(m)) return m as StatusMemory;
  } catch {}
  warn("caut status memory was unreadable; provider errors are reported afresh");
  return {};
}

/**
 * Rows of caut's history table after the cursor, at most `limit`. Restarts from 0 when the file
 * was recreated (its ids start over); the natural key drops what was read before.
 */
async function readHistory(ctx: CollectContext, limit: number) {
  const path = ctx.path("history", HISTORY_PATH);
  if (!(await ctx.exec.stat(path))) return null;
  let after = ctx.cursors.history?.kind === "pk" ? ctx.cursors.history.id : 0;
  try {
    if (after > 0) {
      const [m] = await ctx.exec.sqlite(path, "SELECT max(id) AS max_id FROM usage_snapshots");
      const max = Number(m?.max_id ?? 0);
      if (max < after) {
        ctx.warn(`caut history ${path} restarted (max id ${max} < cursor ${after}); reading it from the start`);
        after = 0;
      }
    }
    if (limit <= 0) {
      ctx.warn(`caut history not read this run: max_rows (${ctx.limits.maxRows}) already used`);
      return { rows: [], cursor: cursor.pk(after) };
    }
    const raw = await ctx.exec.sqlite(path, sql`SELECT * FROM usage_snapshots WHERE id > ${after} ORDER BY id LIMIT ${limit}`);
    const last = raw.reduce((m, r) => Math.max(m, Number(r.id) || 0), after);
    if (raw.length === limit) ctx.warn(`caut history: read ${limit} rows (max_rows); the rest comes next run`);
    return { rows: historyRows(raw, ctx.warn), cursor: cursor.pk(last) };
  } catch (err) {
    ctx.warn(`caut history ${path} not read: ${errorMessage(err)}`);
    return null;
  }
}

/**
 * caut (plan §3.2): usage per provider/account/window from `caut usage --json`, provider
 * errors and status changes as events, and caut's own history database when present.
 * A partial failure (caut exits non-zero but prints its JSON) is data plus warnings.
 * @example collectors: [caut()]
 */
export function caut(options: CautOptions = {}) {
  const args = ["usage", "--json", ...(options.status ? ["--status"] : [])];
  return defineCollector({
    name: "caut",
    plugin: accountsPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "caut usage --json: rate-limit windows per provider account, provider errors",
    requires: { commands: ["caut"] },
    async collect(ctx) {
      const what = `caut ${args.join(" ")}`;
      const r = await runJson(ctx.exec, ["caut", ...args]);
      if (!r.ok) throw new Error(r.error);
      const env = v.safeParse(UsageOutputSchema, r.raw);
      if (!env.success) throw new Error(`${what} printed a different shape than the caut.v1 envelope (${issueText(env)})`);
      const out = env.output;
      if (!out.schemaVersion.startsWith("caut.v1")) ctx.warn(`${what}: schemaVersion ${out.schemaVersion}, read as caut.v1`);
      const errors = (out.errors ?? []).filter((e): e is string => typeof e === "string");
      if (r.exitCode !== 0) {
        ctx.warn(`${what} exited ${r.exitCode} (partial failure${errors.length ? `: ${errors.join("; ").slice(0, 300)}` : ""}); its JSON was read`);
      } else if (errors.length) ctx.warn(`caut provider errors: ${errors.join("; ").slice(0, 300)}`);

      const { rows, payloads } = usageRows(out, ctx.warn);
      const ts = isoTime(out.generatedAt) ?? ctx.now.toISOString();
      const { events, after } = statusEvents(out, payloads, memoryFrom(ctx.cursor, ctx.warn), ts, ctx.warn);
      const used = rows.length + events.length;
      const history = options.history === false ? null : await readHistory(ctx, ctx.limits.maxRows - used);
      return {
        rows: { account_usage_snapshots: rows, account_status_events: events, caut_usage_history: history?.rows },
        cursor: cursor.opaque(JSON.stringify(after)),
        ...(history ? { cursors: { history: history.cursor } } : {}),
      };
    },
  });
}

export default caut;
