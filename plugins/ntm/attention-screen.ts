// The "Needs you" pane and its Overview strip (issue 20.4): every agent waiting for a person, longest
// and most blocking first, from the `attention` view; the detail shows why (ntm's summary, the
// pane's last lines), ntm's next actions and the command that opens the pane.
import {
  type Cell,
  type Column,
  type Line,
  type ListItem,
  type LoadContext,
  type ViewState,
  H,
  L,
  absolute,
  ageOf,
  clean,
  defineScreen,
  fieldLines,
  has,
  paragraph,
  since,
  span,
  styles,
} from "vibe-cockpit/tui";
import type { AttentionAgent, AttentionData } from "./attention-view.ts";
import { agentWaiting, agentWaitingLong } from "./rules.ts";

const COLUMNS: Column[] = [
  { id: "dot", title: "", width: 1, priority: 1 },
  { id: "machine", title: "MACHINE", width: 8, priority: 1 },
  { id: "where", title: "SESSION:PANE", width: 18, priority: 1, flex: 2 },
  { id: "agent", title: "AGENT", width: 6, priority: 3 },
  { id: "state", title: "STATE", width: 7, priority: 2 },
  { id: "waited", title: "WAITED", width: 7, priority: 1, align: "right" },
  { id: "why", title: "WHY", width: 12, priority: 4, flex: 3 },
];

const WAITING_RULES: ReadonlySet<string> = new Set([agentWaiting.id, agentWaitingLong.id]);

/** The pane and its strip read the same view (the strip every cycle, the pane when shown). */
const readAttention = async ({ view }: { view: LoadContext["view"] }) => (await view("attention")).data as AttentionData;

/** The waiting agent's open agent_waiting alert, if one fired. */
const alertOf = (s: ViewState, a: AttentionAgent) =>
  s.data.alerts.find(
    (x) => x.state !== "resolved" && WAITING_RULES.has(x.rule) && x.labels.machine_id === a.machine_id && x.labels.session_name === a.session && x.labels.pane === a.pane,
  );

const sevStyle = (a: AttentionAgent) => (a.waited_s >= 1800 || a.blocks >= 3 ? styles.critical : styles.warning);

export const needsYouScreen = defineScreen<AttentionData>({
  id: "attention",
  title: "Needs you",
  short: "Needs",
  key: "n",
  columns: () => ({ "*": COLUMNS }),
  load: readAttention,
  items: (s, d): ListItem[] =>
    (d?.agents ?? [])
      .filter((a) => has(a.machine_id, s.filter.machine))
      .map((a) => ({
        key: `attention:${a.machine_id}:${a.session}:${a.pane}`,
        group: "WAITING FOR YOU",
        machineId: a.machine_id,
        value: a,
        // Its alert (agent_waiting…), so x and s ack and silence it here too: ntm's code has no
        // attention ack yet, so acknowledging stays in vc, audited.
        alert: alertOf(s, a),
        // Enter: the whole of it on the event level — the pane's tail in full, what to run, how to get there.
        event: {
          key: `attention:${a.machine_id}:${a.session}:${a.pane}:${a.since}`,
          source: "attention",
          group: "NEEDS YOU",
          machine_id: a.machine_id,
          at: a.since,
          severity: a.waited_s >= 1800 ? "high" : "medium",
          title: `${a.agent_type ?? "agent"} in ${a.session} pane ${a.pane} is ${a.state ?? "waiting"}: ${a.why.summary}`,
          fields: [
            ["state", a.state],
            ["waited", span(a.waited_s)],
            ["actionability", a.why.actionability],
            ["bead", a.why.current_bead],
            ["unread mail", a.why.pending_mail],
            ...a.actions.map((x): [string, unknown] => [x.label, `${x.command}${x.reason ? `  (${x.reason})` : ""}`]),
          ],
          text: a.why.pane_tail ?? undefined,
          command: a.attach,
          alert: alertOf(s, a),
        },
        text: `${a.why.summary} ${a.why.pane_tail ?? ""}`,
        cells: {
          dot: ["●", sevStyle(a)],
          machine: [a.machine_id, styles.text],
          where: [`${a.session}:${a.pane}`, styles.text],
          agent: [a.agent_type ?? "", styles.dim],
          state: [a.state ?? "", sevStyle(a)],
          waited: [span(a.waited_s), sevStyle(a)],
          why: [a.why.summary, styles.dim],
        },
      })),
  age: (s, d) => {
    const ages = (d?.machines ?? []).map((m) => m.staleness_s);
    return ages.length ? Math.min(...ages) : ageOf(null, s.now);
  },
  detail(s, d, item, w) {
    const a = item?.value as AttentionAgent | undefined;
    if (!a) {
      const c = d?.counts;
      return [H("NEEDS YOU"), L(d ? `nobody waits for you: ${c?.working ?? 0} working, ${c?.idle ?? 0} idle, ${c?.done ?? 0} done` : "loading…", styles.dim)];
    }
    const lines: Line[] = [
      [
        [`${clean(a.agent_type ?? "agent")} in ${clean(a.session)} pane ${clean(a.pane)} `, styles.title],
        [`on ${clean(a.machine_id)}`, styles.dim],
      ],
      [
        [`● ${clean(a.state ?? "waiting")} for ${span(a.waited_s)} `, sevStyle(a)],
        [`(since ${absolute(a.since)})`, styles.dim],
      ],
      H("WHY"),
      ...paragraph(a.why.summary, w),
      ...fieldLines(
        [
          ["actionability", a.why.actionability],
          ["severity", a.why.severity],
          ["bead", a.why.current_bead],
          ["unread mail", a.why.pending_mail],
          ["account", a.account],
        ],
        w,
      ),
    ];
    if (a.why.pane_tail)
      lines.push(
        H("PANE (last lines)"),
        ...a.why.pane_tail
          .split("\n")
          .slice(-8)
          .map((l) => L(`  ${clean(l)}`, styles.dim)),
      );
    lines.push(H("DO"));
    for (const act of a.actions.slice(0, 4))
      lines.push([
        ["→ ", styles.title],
        [clean(act.label), styles.text],
        [act.command ? `  $ ${clean(act.command)}` : "", styles.dim],
      ]);
    lines.push([
      ["→ ", styles.title],
      ["open the pane  ", styles.text],
      [`$ ${clean(a.attach)}`, styles.dim],
    ]);
    const alert = item?.alert;
    if (alert)
      lines.push(
        L(`alert ${clean(alert.alert_id)} ${alert.acked ? `acked by ${clean(alert.acked.by)}` : alert.silenced_by ? "silenced" : "firing"} · x ack · s silence 1h`, styles.dim),
      );
    lines.push(L(`seen ${since(ageOf(a.collected_at, s.now))} · ${a.feed === "attention" ? "ntm attention feed" : "ntm status (no attention feed on this ntm)"}`, styles.dim));
    return lines;
  },
  strip: {
    load: readAttention,
    cells(_s, d): Cell[] | null {
      const agents = (d as AttentionData).agents;
      if (!agents.length) return null;
      const oldest = Math.max(...agents.map((a) => a.waited_s));
      return [
        [` NEEDS YOU ${agents.length} `, styles.stale],
        [` ${agents.length === 1 ? "an agent waits" : `${agents.length} agents wait`}; the oldest for ${span(oldest)}: `, styles.warning],
        [`${clean(agents[0]!.machine_id)} ${clean(agents[0]!.session)}:${clean(agents[0]!.pane)} ${clean(agents[0]!.why.summary)}`, styles.text],
        ["  (n: the list)", styles.dim],
      ];
    },
  },
});
