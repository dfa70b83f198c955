// `vc robot diff`: agent panes ntm reports at the later moment and not at the earlier one (new
// agents), and the other way round (gone), from each machine's newest ntm_attention run by then.
import { defineDiffSource, diffOnMachine, sql } from "vibe-cockpit";

type Pane = { machine_id: string; session_name: string; pane: string; agent_type: string | null; state: string | null };

const panesAt = (q: { machine?: string }, at: string) => sql`
  SELECT s.machine_id, s.session_name, s.pane, s.agent_type, s.state FROM ntm_agent_states s
  JOIN (SELECT machine_id, max(collected_at) AS collected_at FROM ntm_attention_runs WHERE collected_at <= ${at}::TIMESTAMP GROUP BY machine_id) r USING (machine_id, collected_at)
  WHERE true${diffOnMachine(q, "s.machine_id")}`;

export const agentsDiff = defineDiffSource({
  name: "agents",
  title: "AGENTS",
  async load(q) {
    const [before, after] = await Promise.all([q.store.query<Pane>(panesAt(q, q.from)), q.store.query<Pane>(panesAt(q, q.to))]);
    const key = (p: Pane) => `${p.machine_id}\u0000${p.session_name}\u0000${p.pane}`;
    const was = new Map(before.map((p) => [key(p), p]));
    const out = [];
    for (const p of after) {
      if (was.delete(key(p))) continue;
      out.push({
        change: "new_agent",
        machine_id: p.machine_id,
        subject: `${p.session_name}:${p.pane}`,
        from: null,
        to: p.state,
        at: null,
        text: `${p.machine_id} ${p.session_name}:${p.pane}: new ${p.agent_type ?? "agent"} (${p.state ?? "?"})`,
      });
    }
    for (const p of was.values())
      out.push({
        change: "gone",
        machine_id: p.machine_id,
        subject: `${p.session_name}:${p.pane}`,
        from: p.state,
        to: null,
        at: null,
        text: `${p.machine_id} ${p.session_name}:${p.pane}: ${p.agent_type ?? "agent"} gone`,
      });
    return out;
  },
});
