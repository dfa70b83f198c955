// `vc robot diff`: dcg rules that fired (deny or warn) in the span and never before it.
import { defineDiffSource, diffOnMachine, sql } from "vibe-cockpit";

export const dcgDiff = defineDiffSource({
  name: "dcg",
  title: "DCG RULES",
  async load(q) {
    const rows = await q.store.query<{ machine_id: string; rule: string; first: string; n: number }>(
      sql`WITH span AS (
            SELECT machine_id, coalesce(rule_id, pack_id, '(unknown)') AS rule, min(ts) AS first, count(*)::INTEGER AS n
            FROM dcg_events WHERE decision IN ('deny', 'warn') AND ts > ${q.from}::TIMESTAMP AND ts <= ${q.to}::TIMESTAMP AND collected_at <= ${q.to}::TIMESTAMP${diffOnMachine(q)}
            GROUP BY ALL)
          SELECT s.* FROM span s WHERE NOT EXISTS (
            SELECT 1 FROM dcg_events e WHERE e.machine_id = s.machine_id AND coalesce(e.rule_id, e.pack_id, '(unknown)') = s.rule AND e.ts <= ${q.from}::TIMESTAMP)
          ORDER BY first`,
    );
    return rows.map((r) => ({
      change: "new_rule",
      machine_id: r.machine_id,
      subject: r.rule,
      from: null,
      to: r.n,
      at: r.first,
      text: `${r.machine_id}: dcg rule ${r.rule} fired for the first time (${r.n}× in the span)`,
    }));
  },
});
