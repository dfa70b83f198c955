// `vc robot diff`: repos whose state changed (status, dirty, ahead/behind) between the newest ru
// status at or before each moment; repos that appeared or disappeared.
import { defineDiffSource, diffOnMachine, sql } from "vibe-cockpit";

type Repo = { machine_id: string; repo_id: string; repo: string | null; status: string | null; dirty: boolean | null; ahead: number | null; behind: number | null };

const stateAt = (q: { from: string; to: string; machine?: string }, at: string) => sql`
  SELECT machine_id, repo_id, repo, status, dirty, ahead, behind FROM repo_status_snapshots
  WHERE collected_at = (SELECT max(collected_at) FROM repo_status_snapshots r2 WHERE r2.machine_id = repo_status_snapshots.machine_id AND r2.collected_at <= ${at}::TIMESTAMP)
  ${diffOnMachine(q)}`;

const said = (r: Repo) => `${r.status ?? "?"}${r.dirty ? ", dirty" : ""}${r.ahead ? `, ${r.ahead} ahead` : ""}${r.behind ? `, ${r.behind} behind` : ""}`;

export const reposDiff = defineDiffSource({
  name: "repos",
  title: "REPOS",
  async load(q) {
    const [before, after] = await Promise.all([q.store.query<Repo>(stateAt(q, q.from)), q.store.query<Repo>(stateAt(q, q.to))]);
    const key = (r: Repo) => `${r.machine_id}\u0000${r.repo_id}`;
    const was = new Map(before.map((r) => [key(r), r]));
    const out = [];
    for (const r of after) {
      const b = was.get(key(r));
      was.delete(key(r));
      const name = r.repo ?? r.repo_id;
      if (!b) out.push({ change: "appeared", machine_id: r.machine_id, subject: name, from: null, to: said(r), at: null, text: `${r.machine_id} ${name}: new (${said(r)})` });
      else if (said(b) !== said(r))
        out.push({ change: "state", machine_id: r.machine_id, subject: name, from: said(b), to: said(r), at: null, text: `${r.machine_id} ${name}: ${said(b)} → ${said(r)}` });
    }
    for (const b of was.values())
      out.push({
        change: "gone",
        machine_id: b.machine_id,
        subject: b.repo ?? b.repo_id,
        from: said(b),
        to: null,
        at: null,
        text: `${b.machine_id} ${b.repo ?? b.repo_id}: no longer reported`,
      });
    return out;
  },
});
