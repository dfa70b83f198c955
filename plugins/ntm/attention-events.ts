// Agents that need a person, as events: on `vc watch` (after each cycle, once per wait), the
// Events screen and incidents. One event per wait: its key is the pane and when vc first saw its state.
import { defineEventSource, eventTime } from "vibe-cockpit";
import { agentsWaiting } from "./rules.ts";

type Row = {
  machine_id: string;
  session_name: string;
  pane: string;
  agent_type: string | null;
  state: string | null;
  state_since: unknown;
  first_seen: unknown;
  waited_s: number | bigint;
};

export const attentionEvents = defineEventSource({
  name: "attention",
  group: "NEEDS YOU",
  scope: ["fleet"],
  // A wait holds while ntm reports the agent waiting: vc watch says when it ends.
  ongoing: true,
  async load(q) {
    const rows = await q.store.query<Row>(agentsWaiting.sql(q.to));
    return rows
      .filter((r) => !q.machine || r.machine_id.toLowerCase().includes(q.machine.toLowerCase()))
      .map((r) => {
        const since = eventTime(r.first_seen);
        const waited = Number(r.waited_s);
        return {
          // One wait, one key: the pane and when vc first saw it in this state (a later wait is a new event).
          key: `attention:${r.machine_id}:${r.session_name}:${r.pane}:${eventTime(r.state_since)}`,
          source: "attention",
          group: "NEEDS YOU",
          machine_id: r.machine_id,
          at: since,
          severity: waited >= 1800 ? "high" : "medium",
          title: `${r.agent_type ?? "agent"} in ${r.session_name} pane ${r.pane} is ${r.state ?? "waiting"}`,
          fields: [
            ["session", r.session_name],
            ["pane", r.pane],
            ["agent", r.agent_type],
            ["state", r.state],
            ["waited s", waited],
          ] as [string, unknown][],
          command: `vc robot attention`,
        };
      })
      .slice(0, q.limit);
  },
});
