// `vc robot beads`: the newest bv triage of each repo, its next picks and its blockers.
import { arg, defineView, parseJson, sql } from "vibe-cockpit";
import type { BeadsData, BeadsTriage } from "./shapes.ts";
import { noDataWarning } from "../_no-data.ts";

export type { BeadsData, BeadsTriage };

type Row = { repo_id: string; machine_id: string; repo_path: string | null; collected_at: string; recommendations_json: unknown; blockers_json: unknown };

/** A JSON array column's objects ([] for anything else). */
const objects = (v: unknown): Record<string, unknown>[] => {
  const x = parseJson(v);
  return Array.isArray(x) ? x.filter((o): o is Record<string, unknown> => typeof o === "object" && o !== null) : [];
};
const num = (v: unknown) => (typeof v === "number" ? v : undefined);

function triageOf(r: Row): BeadsTriage {
  return {
    repo_id: r.repo_id,
    machine_id: r.machine_id,
    repo_path: r.repo_path,
    collected_at: r.collected_at,
    recommendations: objects(r.recommendations_json).map((x) => ({ id: String(x.id ?? ""), title: String(x.title ?? ""), score: num(x.score) })),
    blockers: objects(r.blockers_json).map((x) => ({ id: String(x.id ?? ""), title: String(x.title ?? ""), unblocks_count: num(x.unblocks_count) })),
  };
}

/** `vc robot beads`: each repo's newest triage at or before now (or one repo's, `--repo`). */
export const beadsView = defineView({
  name: "beads",
  summary: "Per repo, bv's newest triage: the recommended next picks and the blockers to clear",
  args: { repo: arg.string("only this repo (its repo_id)", { hint: "REPO_ID", max: 500 }) },
  async run(vc, { repo }) {
    const at = vc.clock.now().toISOString();
    const rows = await vc.store.query<Row>(
      sql`SELECT repo_id, machine_id, repo_path, collected_at, recommendations_json, blockers_json FROM beads_triage_snapshots
          WHERE collected_at <= ${at}::TIMESTAMP${repo === undefined ? sql`` : sql` AND repo_id = ${repo}`}
          QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY collected_at DESC) = 1
          ORDER BY repo_path, repo_id`,
    );
    const data: BeadsData = { repos: rows.map(triageOf) };
    const warnings: string[] = [];
    if (rows.length === 0 && repo === undefined) {
      const tools = [{ collector: "beads", install: "beads: install bv (beads_viewer) or br (beads_rust) on the machines, with repos that hold a .beads directory" }];
      warnings.push(
        await noDataWarning(
          vc.store,
          tools,
          at,
          vc.config.collectors.map((c) => c.name),
        ),
      );
    }
    return { data, warnings };
  },
});
