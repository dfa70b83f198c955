// `vc ask` about agents, answered from the oracle's prophecies and the attention view: which
// agents look stuck, ntm's part of "what needs me now" (agents waiting for a person) and of "why
// is <machine> unhealthy" (its agents that look stuck).
import { defineIntent, mentions, minutesText, type AskContext, type Fact } from "vibe-cockpit";
import type { OracleData } from "../oracle/view.ts";
import type { Prophecy } from "../oracle/prophecy.ts";
import { attachCommand, type AttentionAgent, type AttentionData } from "./attention-view.ts";

const DO: Record<Prophecy["kind"], string> = {
  stuck: "look at the pane: inject a recovery prompt, or restart the agent",
  looping: "break the loop: a recovery prompt that changes its approach, or restart it",
  erroring: "read its error; restart the agent if it repeats",
  context_exhaustion: "compact its context or hand the task to a fresh agent before the context fills",
};
const RISK = ["high", "medium", "low"];

const agentLabel = (a: { machine_id: string; session: string; pane: string; agent_type: string | null }) =>
  `${a.machine_id} ${a.session} pane ${a.pane}${a.agent_type ? ` (${a.agent_type})` : ""}`;

function prophecyFact(vc: AskContext, p: Prophecy): Fact {
  const chance = p.probability === null ? "" : `, ${Math.round(p.probability * 100)} % chance of failing within the hour`;
  const signs = p.indicators.map((i) => i.text).join("; ");
  return {
    label: agentLabel(p),
    value: `${p.kind.replace("_", " ")}, ${p.risk} risk${chance}: ${p.reason}${signs && !p.reason.includes(signs) ? ` (${signs})` : ""}`,
    recommendation: DO[p.kind],
    command: attachCommand(vc, p.machine_id, p.session, p.pane),
  };
}

function waitingFact(a: AttentionAgent): Fact {
  const first = a.actions.find((x) => x.command !== a.attach);
  return {
    label: agentLabel(a),
    value: `${a.state ?? "unknown state"}, waiting ${minutesText(a.waited_s / 60)}: ${a.why.summary}`,
    recommendation: first ? `${first.label}${first.reason ? ` (${first.reason})` : ""}` : "attach and answer it",
    command: a.attach,
  };
}

/** The prophecies (riskiest first) and the agents the attention view says need a person, on one machine or all. */
async function agentsAtRisk(vc: AskContext, machine: string | undefined) {
  const [o, at] = await Promise.all([vc.optionalView("oracle", machine ? { machine } : {}, { quiet: true }), vc.optionalView("attention", {}, { quiet: true })]);
  // Their warnings about agents (not the oracle's about disks, accounts or cost).
  const warnings = [...(o?.warnings ?? []), ...(at?.warnings ?? [])].filter((w) => /\bntm|\bagents?\b/i.test(w));
  const prophecies = ((o?.data as OracleData | undefined)?.prophecies ?? []).filter((p) => !machine || p.machine_id === machine);
  prophecies.sort((a, b) => RISK.indexOf(a.risk) - RISK.indexOf(b.risk) || (b.probability ?? 0) - (a.probability ?? 0));
  const attention = at?.data as AttentionData | undefined;
  const seen = new Set(prophecies.map((p) => `${p.machine_id}\u0000${p.session}\u0000${p.pane}`));
  const waiting = (attention?.agents ?? []).filter((a) => (!machine || a.machine_id === machine) && !seen.has(`${a.machine_id}\u0000${a.session}\u0000${a.pane}`));
  return { prophecies, waiting, attention, read: Boolean(o || at), warnings: [...new Set(warnings)] };
}

const STUCK =
  /\b(?:stuck|hung|hanging|frozen|looping|loops?|looped|stalled|stalling|erroring|errors?|failing|spinning|dead|crashed|crashing|unresponsive|not (?:moving|progressing|responding|working)|going in circles|wedged|blocked)\b/;
const AGENTS = /\b(?:agents?|panes?|sessions?|workers?|claudes?|codex|gemini|bots?)\b/;

/** which agents look stuck: the oracle's prophecies (stuck, looping, erroring, context filling) and the agents waiting for a person. */
export const agentsStuck = defineIntent({
  name: "agents_stuck",
  summary: "Which agents look stuck, looping, erroring or near a full context, with the signs, the risk, what to do and the command to attach",
  examples: ["which agents look stuck?", "are any agents looping?", "which agents are erroring?"],
  match(q) {
    if (mentions(q, AGENTS) && mentions(q, STUCK)) return { score: 0.9 };
    if (mentions(q, /\b(?:what|who|anything|anyone|any) (?:is |looks |seems )?(?:stuck|hung|frozen|looping|stalled)\b/)) return { score: 0.7 };
    return null;
  },
  async answer(vc) {
    const { prophecies, waiting, attention, read, warnings } = await agentsAtRisk(vc, undefined);
    const facts = [...prophecies.map((p) => prophecyFact(vc, p)), ...waiting.map(waitingFact)];
    if (facts.length === 0) {
      const c = attention?.counts;
      const counts = c ? ` (${c.working} working, ${c.idle} idle, ${c.done} done)` : "";
      return {
        text: read ? `No agent looks stuck${counts}.` : "vc cannot tell: neither the oracle nor the attention view is registered (add ntm's collectors).",
        facts: [],
        warnings,
      };
    }
    const parts = [
      prophecies.length ? `${prophecies.length} look stuck, looping, erroring or near a full context` : "",
      waiting.length ? `${waiting.length} wait for a person` : "",
    ];
    return {
      text: `${facts.length} agent${facts.length === 1 ? "" : "s"} need${facts.length === 1 ? "s" : ""} a look: ${parts.filter(Boolean).join("; ")}. Riskiest first:`,
      facts,
      warnings,
    };
  },
});

/** ntm's part of "what needs me now": the agents waiting for a person, longest first. */
export const agentsWaiting = defineIntent({
  name: "needs_me",
  summary: "Agents waiting for a person (ntm's attention feed), longest and most blocking first",
  examples: ["which agents are waiting for me?"],
  match(q) {
    return mentions(q, AGENTS) && mentions(q, /\b(?:waiting|wait|waits|need me|needs me|need my|needs my|asking|blocked on me)\b/) ? { score: 0.9 } : null;
  },
  async answer(vc) {
    const at = await vc.optionalView("attention", {}, { quiet: true });
    const agents = (at?.data as AttentionData | undefined)?.agents ?? [];
    if (agents.length === 0) return null;
    return { text: `${agents.length} agent${agents.length === 1 ? " waits" : "s wait"} for a person, longest and most blocking first:`, facts: agents.map(waitingFact) };
  },
});

/** ntm's part of "why is <machine> unhealthy": its agents that look stuck or wait. */
export const machineAgents = defineIntent({
  name: "machine_health",
  summary: "The agents on a machine that look stuck or wait for a person",
  examples: [],
  match: () => null,
  async answer(vc, e) {
    const id = e.machine?.value;
    if (!id) return null;
    const { prophecies, waiting } = await agentsAtRisk(vc, id);
    const facts = [...prophecies.map((p) => prophecyFact(vc, p)), ...waiting.map(waitingFact)];
    return facts.length ? { text: `Agents on ${id} that need a look:`, facts } : null;
  },
});

export const ntmIntents = [agentsStuck, agentsWaiting, machineAgents];
