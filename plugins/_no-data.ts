// Why a view has nothing from its tools: a view whose every tool is missing says so in its
// warnings, naming what to install or configure, instead of answering an empty list.
import { sql, type Store } from "vibe-cockpit";

/** A tool a view reads: its collector's name and where to get it. */
export interface ViewTool {
  collector: string;
  /** How to get it working: what to install, what to configure. */
  install: string;
}

/** "a", "a or b", "a, b or c". */
const either = (names: readonly string[]) => (names.length < 2 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`);

/**
 * The warning of a view with no data from any of `tools`: `no caut or caam data: …`, with what each
 * collector last did on each machine (skipped and why, failed and why, ran), whether the config
 * has it at all (`configured`: the config's collector names, when known), and how to get each tool.
 * @example warnings.push(await noDataWarning(store, [{ collector: "ru", install: "install ru" }], at, config.collectors.map((c) => c.name)))
 */
export async function noDataWarning(store: Store, tools: readonly ViewTool[], at: string, configured?: readonly string[]): Promise<string> {
  const names = tools.map((t) => t.collector);
  const states = await store
    .query<{ machine_id: string; collector: string; last_result: string; last_ok_at: string | null; last_error: string | null }>(
      sql`SELECT machine_id, collector, last_result, last_ok_at, last_error FROM collector_state
          WHERE collector IN (${sql.join(names.map((n) => sql`${n}`))}) ORDER BY collector, machine_id`,
    )
    .catch(() => []);
  const why: string[] = [];
  for (const t of tools) {
    if (configured && !configured.includes(t.collector)) {
      why.push(`${t.collector} is not in this config's collectors (add ${t.collector}() to vc.config.ts)`);
      continue;
    }
    const mine = states.filter((s) => s.collector === t.collector);
    if (mine.length === 0) why.push(`${t.collector} has not run yet (vc collect --once)`);
    for (const s of mine) {
      if (s.last_result === "skipped") why.push(`${t.collector} skipped on ${s.machine_id}: ${s.last_error ?? "no reason given"}`);
      else if (s.last_result === "failed") why.push(`${t.collector} failed on ${s.machine_id}: ${s.last_error ?? "unknown error"}`);
      else why.push(`${t.collector} ran on ${s.machine_id} but reported nothing by ${at} (last ok ${s.last_ok_at ?? "never"})`);
    }
  }
  return `no ${either(names)} data: ${why.join("; ")}. ${tools.map((t) => t.install).join("; ")}`;
}
