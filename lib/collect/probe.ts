import type { Clock } from "../clock.ts";
import type { Executor } from "../exec/types.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import type { ToolInfo } from "./define.ts";

const TOOL_NAME = /^[A-Za-z0-9._+-]+$/;

// Tool names arrive as positional arguments, never inside the script text.
const PROBE_SCRIPT = `T=""; command -v timeout >/dev/null 2>&1 && T="timeout 5"
for t in "$@"; do
  p=$(command -v "$t" 2>/dev/null) || { printf '%s\\t0\\t\\t\\n' "$t"; continue; }
  v=$( ($T "$t" --version </dev/null 2>&1 || true) | head -n 1 | tr -d '\\t\\r')
  printf '%s\\t1\\t%s\\t%s\\n' "$t" "$p" "$v"
done`;

/** Runs `command -v` and `--version` for each tool on a machine, in one command. */
export async function probeTools(exec: Executor, tools: readonly string[], signal?: AbortSignal): Promise<Record<string, ToolInfo>> {
  const names = [...new Set(tools)].filter((t) => TOOL_NAME.test(t));
  const out: Record<string, ToolInfo> = {};
  if (names.length === 0) return out;
  const r = await exec.run({ script: PROBE_SCRIPT, args: names }, { timeoutMs: 10_000 + names.length * 5_000, maxBytes: 256 * 1024, signal });
  for (const line of r.stdout.split("\n")) {
    const [name, ok, path, version] = line.split("\t");
    if (!name || !names.includes(name)) continue;
    out[name] = { available: ok === "1", path: path || null, version: version?.trim() || null };
  }
  for (const name of names) out[name] ??= { available: false, path: null, version: null };
  return out;
}

/**
 * Tool capabilities of a machine, probed again when any is unknown or older than `ttlHours`;
 * results are cached in `machine_tool_capabilities`.
 */
export async function ensureTools(
  store: Store,
  exec: Executor,
  tools: readonly string[],
  options: { clock: Clock; ttlHours: number; force?: boolean; signal?: AbortSignal },
): Promise<Record<string, ToolInfo>> {
  const names = [...new Set(tools)];
  if (names.length === 0) return {};
  const now = options.clock.now();
  const fresh = new Date(now.getTime() - options.ttlHours * 3600_000);
  const cached = await store.query<{ tool_name: string; available: boolean; path: string | null; version: string | null; checked_at: string }>(
    sql`SELECT tool_name, available, path, version, checked_at FROM machine_tool_capabilities WHERE machine_id = ${exec.machineId}`,
  );
  const known: Record<string, ToolInfo> = {};
  for (const row of cached) {
    if (Date.parse(row.checked_at) >= fresh.getTime()) known[row.tool_name] = { available: row.available, path: row.path, version: row.version };
  }
  const missing = options.force ? names : names.filter((n) => !known[n]);
  if (missing.length > 0) {
    const probed = await probeTools(exec, missing, options.signal);
    await store.transaction(async (tx) => {
      for (const [name, info] of Object.entries(probed)) {
        await tx.run(sql`INSERT OR REPLACE INTO machine_tool_capabilities(machine_id, tool_name, available, path, version, checked_at)
          VALUES (${exec.machineId}, ${name}, ${info.available}, ${info.path}, ${info.version}, ${now.toISOString()}::TIMESTAMP)`);
      }
    });
    Object.assign(known, probed);
  }
  return Object.fromEntries(names.map((n) => [n, known[n] ?? { available: false, path: null, version: null }]));
}
