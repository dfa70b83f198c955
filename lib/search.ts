// Content search across the fleet: vc keeps facts (health, alerts, repos), the upstream tools keep
// content (cass indexes every agent session). searchContent() asks each machine's collectors that
// can search (a collector's `search`), in parallel and bounded, and returns the hits with the
// machine they came from; a machine that fails costs its own line in `errors`, not the answer.
import type { Collector, SearchHit } from "./collect/define.ts";
import { machineInfo, selectTargets, type ExecutorFactory } from "./collect/scheduler.ts";
import type { VcConfig } from "./config/define.ts";
import { VcError, errorMessage } from "./errors.ts";
import { mapPool } from "./_pool.ts";

export interface SearchOptions {
  /** Only these machines (ids); default every machine a searching collector runs on. */
  machines?: readonly string[];
  /** Hits per machine and collector (default 20, at most 200). */
  limit?: number;
  /** Per machine (default 15 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface SearchResult {
  query: string;
  /** Best first within each machine; machines in config order. */
  hits: (SearchHit & { machine_id: string; collector: string })[];
  /** Machines and collectors that could not answer, and why. */
  errors: { machine_id: string; collector: string; error: string }[];
  /** The machines asked. */
  machines: string[];
}

/** Searches the content the fleet's tools index (agent sessions through cass). */
export async function searchContent(o: { config: VcConfig; executorFor: ExecutorFactory; query: string } & SearchOptions): Promise<SearchResult> {
  const query = o.query.trim();
  if (!query) throw new VcError("invalid_input", "query: empty; give the words to search for");
  const limit = o.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new VcError("invalid_input", `limit: ${limit} is not a whole number from 1 to 200`);
  for (const id of o.machines ?? []) selectTargets(o.config, { machine: id });
  const searchers = o.config.collectors.filter((c): c is Collector & Required<Pick<Collector, "search">> => typeof c.search === "function");
  const jobs = o.config.machines
    .filter((m) => !o.machines || o.machines.includes(m.id))
    .flatMap((m) => searchers.filter((c) => !m.collectors || m.collectors.includes(c.name)).map((c) => ({ m, c })));
  const timeoutMs = o.timeoutMs ?? 15_000;
  const result: SearchResult = { query, hits: [], errors: [], machines: [...new Set(jobs.map((j) => j.m.id))] };
  if (searchers.length === 0) {
    result.errors.push({ machine_id: "-", collector: "-", error: "no configured collector can search content (add one whose tool indexes sessions to vc.config.ts)" });
    return result;
  }
  if (jobs.length === 0) {
    result.errors.push({
      machine_id: "-",
      collector: "-",
      error: `no searching collector (${searchers.map((c) => c.name).join(", ")}) runs on ${o.machines?.join(", ") ?? "any machine"}`,
    });
    return result;
  }
  const answers = await mapPool(jobs, 8, async ({ m, c }) => {
    const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const info = machineInfo(m);
    try {
      const exec = await o.executorFor(info);
      const hits = await c.search({ machine: info, exec, path: (key, fallback) => info.paths[`${c.name}.${key}`] ?? fallback, signal, limit, timeoutMs }, query);
      return { m, c, hits };
    } catch (err) {
      return { m, c, error: signal.aborted && !o.signal?.aborted ? `no answer within ${timeoutMs / 1000} s` : errorMessage(err) };
    }
  });
  for (const a of answers) {
    if ("error" in a) result.errors.push({ machine_id: a.m.id, collector: a.c.name, error: a.error! });
    else for (const h of a.hits.slice(0, limit)) result.hits.push({ ...h, machine_id: a.m.id, collector: a.c.name });
  }
  return result;
}
