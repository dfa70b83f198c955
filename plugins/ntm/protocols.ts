// Healing protocol stuck_agent_recovery (plan §6.3): an agent the failure prophecy reads as stuck
// (working, nothing printed for 10 min or more) or looping while it works is interrupted through
// ntm, given 30 s, then — when Ctrl+C brought it back to its prompt — told what happened with
// `ntm send`; the run is verified when ntm's next snapshot shows the pane printing again. The
// rollback restarts the pane's agent (ntm --robot-restart-pane); a failed run opens an incident.
//
// ntm's commands (internal/cli/root.go, send.go): `--robot-interrupt SESSION --panes SEL` sends
// Ctrl+C to the selected pane only (`ntm interrupt SESSION` would hit every agent of the session);
// `send SESSION --pane SEL --no-cass-check PROMPT` (the CASS duplicate check is skipped: a
// recovery nudge is not duplicate work, and its prompt would wait for a person);
// `--robot-restart-pane SESSION --panes SEL` respawns the pane and relaunches its agent. The
// selector is the pane as ntm reported it: W.P from the attention feed (ntm ≥ 1.20 takes it; an
// older ntm fails the step rather than reaching another pane), %N from the legacy status (every
// version's interrupt and restart take it); `send --pane` took only an index before ntm 1.20, so
// the legacy feed's send uses the pane's index.
import { commandStep, defineProtocol, isMissingTable, isoTime, readStep, sql, waitStep, type GuardianTarget, type Store, type StepContext } from "vibe-cockpit";
import { ERROR_STATES, PROPHECY_THRESHOLDS, STUCK_STATES, prophecies, type Prophecy, type ProphecyFeed } from "../oracle/prophecy.ts";

/** What the recovery step types into the agent's pane. */
export const RECOVERY_PROMPT =
  "You were interrupted because your pane showed no progress for a while. In one or two lines, say what you were doing and what held you up; then continue your task, trying a different approach if the last one kept failing.";

const RECENT = 6;

/** What a stuck_agent_recovery target carries (its `facts`). */
export interface StuckAgentFacts {
  session: string;
  /** The pane as ntm reported it (W.P, or %N in the legacy status), and its index. */
  pane: string;
  pane_index: number | null;
  /** The selector the interrupt and the restart use, and the one `ntm send --pane` uses. */
  selector: string;
  send_selector: string;
  agent_type: string | null;
  feed: ProphecyFeed;
  /** The prophecy's kinds for the pane (stuck, looping), its highest risk and probability. */
  kinds: Prophecy["kind"][];
  risk: Prophecy["risk"];
  probability: number | null;
  state: string | null;
  since: string;
  reason: string;
  indicators: Prophecy["indicators"];
  evidence: Prophecy["evidence"];
  /** The snapshot it was found in, the agent's last output then, and its context. */
  seen_at: string;
  last_output_at: string | null;
  output_age_s: number | null;
  context_percent: number | null;
  found_at: string;
}

type PaneRow = { collected_at: unknown; pane_index: number | null; state: string | null; output_age_s: number | null; context_percent: number | null };
type PaneNow = {
  collected_at: string;
  pane_index: number | null;
  state: string | null;
  output_age_s: number | null;
  context_percent: number | null;
  last_output_at: string | null;
};

const TABLE: Record<ProphecyFeed, string> = { attention: "ntm_agent_states", legacy_status: "ntm_agents_snapshot" };

/** The pane's newest rows in its feed's table at or before `at`, newest first. */
async function paneRows(store: Store, feed: ProphecyFeed, machine: string, session: string, pane: string, at: string, limit: number): Promise<PaneNow[]> {
  const q =
    feed === "attention"
      ? sql`SELECT collected_at, pane_index, state, last_output_age_s AS output_age_s, context_percent FROM ntm_agent_states
            WHERE machine_id = ${machine} AND session_name = ${session} AND pane = ${pane} AND collected_at <= ${at}::TIMESTAMP`
      : sql`SELECT collected_at, pane_index, process_state_name AS state, seconds_since_output AS output_age_s, context_percent FROM ntm_agents_snapshot
            WHERE machine_id = ${machine} AND session_name = ${session} AND pane_id = ${pane} AND collected_at <= ${at}::TIMESTAMP`;
  const rows = await store.query<PaneRow>(sql`${q} ORDER BY collected_at DESC LIMIT ${limit}`);
  return rows.map((r) => {
    const t = isoTime(r.collected_at) ?? String(r.collected_at);
    const age = r.output_age_s === null || r.output_age_s < 0 ? null : Number(r.output_age_s);
    return {
      collected_at: t,
      pane_index: r.pane_index === null ? null : Number(r.pane_index),
      state: r.state,
      output_age_s: age,
      context_percent: r.context_percent === null ? null : Number(r.context_percent),
      last_output_at: age === null ? null : new Date(Date.parse(t) - age * 1000).toISOString(),
    };
  });
}

/** The machine's newest snapshot time in a feed, at or before `at`. */
async function newestRun(store: Store, feed: ProphecyFeed, machine: string, at: string): Promise<string | null> {
  const table = feed === "attention" ? "ntm_attention_runs" : "ntm_agents_snapshot";
  const [r] = await store.query<{ t: unknown }>(
    sql`SELECT max(collected_at) AS t FROM ${sql.identifier(table)} WHERE machine_id = ${machine} AND collected_at <= ${at}::TIMESTAMP`,
  );
  return r?.t ? isoTime(r.t) : null;
}

const planned = (ctx: StepContext) => ctx.target.facts as unknown as StuckAgentFacts;
const RISK: Record<Prophecy["risk"], number> = { low: 0, medium: 1, high: 2 };

/** The pane's prophecies (stuck, or looping while it works), from the oracle's failure prophecy. */
const recoverable = (p: Prophecy) => p.kind === "stuck" || (p.kind === "looping" && STUCK_STATES.includes((p.state ?? "").toLowerCase()));

/**
 * stuck_agent_recovery: one target per agent pane the failure prophecy reads as stuck, or looping
 * while at work. Targets carry {@link StuckAgentFacts}; the treatment interrupts the pane, waits
 * 30 s and sends {@link RECOVERY_PROMPT}.
 */
export const stuckAgentRecovery = defineProtocol({
  name: "stuck_agent_recovery",
  summary: "Interrupt an agent that stopped making progress, then tell it to say what held it up and carry on (ntm); restart its pane if it does not recover",
  trigger: {
    describe: `the failure prophecy (ntm's agent states) reads an agent as stuck (working with no output for ${PROPHECY_THRESHOLDS.STUCK_S / 60} min or more) or looping while at work`,
    async find({ store, at }) {
      const atIso = at.toISOString();
      const { prophecies: list } = await prophecies(store, atIso);
      const byPane = new Map<string, Prophecy[]>();
      for (const p of list.filter(recoverable)) {
        const k = `${p.machine_id}:${p.session}:${p.pane}`;
        byPane.set(k, [...(byPane.get(k) ?? []), p]);
      }
      const targets: GuardianTarget[] = [];
      for (const [key, ps] of byPane) {
        const top = ps.reduce((a, b) => (RISK[b.risk] > RISK[a.risk] ? b : a));
        const [now] = await paneRows(store, top.feed, top.machine_id, top.session, top.pane, atIso, 1);
        if (!now) continue;
        const index = now.pane_index;
        const facts: StuckAgentFacts = {
          session: top.session,
          pane: top.pane,
          pane_index: index,
          selector: top.pane,
          send_selector: top.feed === "legacy_status" && index !== null ? String(index) : top.pane,
          agent_type: top.agent_type,
          feed: top.feed,
          kinds: ps.map((p) => p.kind),
          risk: top.risk,
          probability: top.probability,
          state: top.state,
          since: ps.map((p) => p.since).sort()[0]!,
          reason: ps.map((p) => p.reason).join(" "),
          indicators: ps.flatMap((p) => p.indicators),
          evidence: ps.flatMap((p) => p.evidence),
          seen_at: now.collected_at,
          last_output_at: now.last_output_at,
          output_age_s: now.output_age_s,
          context_percent: now.context_percent,
          found_at: atIso,
        };
        targets.push({
          key,
          machine: top.machine_id,
          title: `${top.session} pane ${top.pane}${top.agent_type ? ` (${top.agent_type})` : ""} on ${top.machine_id}: ${ps.map((p) => p.indicators[0]?.text ?? p.kind).join("; ")}`,
          facts: { ...facts },
        });
      }
      return targets.sort((a, b) => a.key.localeCompare(b.key));
    },
  },
  diagnosis: [
    readStep("evidence", async (ctx) => {
      const f = planned(ctx);
      const { prophecies: list } = await prophecies(ctx.store, ctx.at.toISOString(), { machineId: ctx.target.machine });
      const mine = list.filter((p) => p.session === f.session && p.pane === f.pane && recoverable(p));
      return {
        still_flagged: mine.length > 0,
        kinds_now: mine.map((p) => p.kind),
        reason_now: mine.map((p) => p.reason).join(" ") || null,
        evidence_now: mine.flatMap((p) => p.evidence),
      };
    }),
    readStep("recent_states", async (ctx) => {
      const f = planned(ctx);
      const at = ctx.at.toISOString();
      const rows = await paneRows(ctx.store, f.feed, ctx.target.machine, f.session, f.pane, at, RECENT);
      let tail: string | null = null;
      if (f.feed === "attention") {
        try {
          const [e] = await ctx.store.query<{ pane_tail: string }>(
            sql`SELECT pane_tail FROM ntm_agent_events WHERE machine_id = ${ctx.target.machine} AND session_name = ${f.session}
                  AND (pane_ref = ${f.pane} OR (pane_ref IS NULL AND pane_index = ${f.pane_index})) AND pane_tail IS NOT NULL
                  AND event_ts <= ${at}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
                ORDER BY event_ts DESC LIMIT 1`,
          );
          tail = e?.pane_tail.slice(-1000) ?? null;
        } catch (err) {
          if (!isMissingTable(err)) throw err;
        }
      }
      return {
        recent_states: rows.map((r) => ({ collected_at: r.collected_at, state: r.state, output_age_s: r.output_age_s, context_percent: r.context_percent })),
        pane_tail: tail,
      };
    }),
    readStep("session_peers", async (ctx) => {
      // The seed's "compare to healthy agents": do the session's other agents print, at the same snapshot?
      const f = planned(ctx);
      const seen = (await paneRows(ctx.store, f.feed, ctx.target.machine, f.session, f.pane, ctx.at.toISOString(), 1))[0]?.collected_at ?? f.seen_at;
      const table = sql.identifier(TABLE[f.feed]);
      const paneCol = sql.raw(f.feed === "attention" ? "pane" : "pane_id");
      const ageCol = sql.raw(f.feed === "attention" ? "last_output_age_s" : "seconds_since_output");
      const [r] = await ctx.store.query<{ peers: number; printing: number }>(
        sql`SELECT count(*)::INTEGER AS peers, count(*) FILTER (WHERE ${ageCol} >= 0 AND ${ageCol} < ${PROPHECY_THRESHOLDS.STUCK_S})::INTEGER AS printing
            FROM ${table} WHERE machine_id = ${ctx.target.machine} AND session_name = ${f.session} AND ${paneCol} <> ${f.pane} AND collected_at = ${seen}::TIMESTAMP`,
      );
      return { session_peers: r?.peers ?? 0, session_peers_printing: r?.printing ?? 0 };
    }),
  ],
  treatment: [
    commandStep("interrupt", {
      writes: true,
      command: (ctx) => {
        const f = planned(ctx);
        return { argv: ["ntm", "--robot-interrupt", f.session, "--panes", f.selector] };
      },
      when: (ctx) => (ctx.facts.still_flagged === false ? "the prophecy no longer reads the agent as stuck or looping: it is making progress again" : null),
      parse(stdout) {
        try {
          const out = JSON.parse(stdout) as { interrupted?: unknown; ready_for_input?: unknown; timed_out?: unknown; failed?: unknown };
          const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
          const ready = list(out.ready_for_input);
          return {
            interrupted: list(out.interrupted),
            ready_for_input: ready,
            interrupt_ready: ready.length > 0 && out.timed_out !== true,
          };
        } catch {
          return undefined;
        }
      },
    }),
    waitStep("settle", 30),
    commandStep("recovery_prompt", {
      writes: true,
      command: (ctx) => {
        const f = planned(ctx);
        return { argv: ["ntm", "send", f.session, "--pane", f.send_selector, "--no-cass-check", RECOVERY_PROMPT] };
      },
      when(ctx) {
        if (ctx.facts.still_flagged === false) return "the agent is making progress again: nothing to tell it";
        if (ctx.facts.interrupt_ready === false)
          return "Ctrl+C did not bring the pane back to its prompt (ntm: not ready for input): a prompt typed now would be lost; the verification decides, the rollback restarts the pane";
        return null;
      },
    }),
  ],
  verification: {
    describe: "ntm's next snapshot shows the agent printing again (its last output is newer than when it was found stuck), not stuck and not in an error state",
    withinSeconds: 300,
    everySeconds: 60,
    async check(ctx) {
      const f = planned(ctx);
      const m = ctx.target.machine;
      const at = ctx.at.toISOString();
      const [now] = await paneRows(ctx.store, f.feed, m, f.session, f.pane, at, 1);
      const run = await newestRun(ctx.store, f.feed, m, at);
      const where = `${f.session} pane ${f.pane} on ${m}`;
      if (!now) return { ok: false, detail: `ntm lists no ${where}` };
      if (run !== null && Date.parse(run) > Date.parse(now.collected_at))
        return { ok: false, detail: `${where} is gone from ntm's newest snapshot (${run}); last seen ${now.collected_at}` };
      if (Date.parse(now.collected_at) <= Date.parse(f.seen_at)) return { ok: false, detail: `no ntm snapshot of ${where} since ${f.seen_at}` };
      const state = (now.state ?? "unknown").toLowerCase();
      if (ERROR_STATES.includes(state)) return { ok: false, detail: `${where} is in ${state} (${now.collected_at})` };
      if (now.last_output_at === null) return { ok: false, detail: `ntm gives no output age for ${where} (${now.collected_at})` };
      const before = f.last_output_at === null ? Date.parse(f.seen_at) : Date.parse(f.last_output_at);
      if (Date.parse(now.last_output_at) <= before) return { ok: false, detail: `${where} has printed nothing since ${f.last_output_at ?? f.seen_at} (state ${state})` };
      if (now.output_age_s !== null && now.output_age_s >= PROPHECY_THRESHOLDS.STUCK_S)
        return { ok: false, detail: `${where} printed at ${now.last_output_at}, but nothing for ${now.output_age_s} s since` };
      return { ok: true, detail: `${where} printed at ${now.last_output_at} (state ${state}, ${now.collected_at})` };
    },
  },
  rollback: [
    commandStep("restart_pane", {
      writes: true,
      timeoutMs: 120_000, // ntm relaunches the agent and waits for it to be ready
      command: (ctx) => {
        const f = planned(ctx);
        return { argv: ["ntm", "--robot-restart-pane", f.session, "--panes", f.selector] };
      },
    }),
  ],
  escalation: { describe: "at the first failed run: open an incident and alert a person", afterFailures: 1 },
  cooldownMinutes: 30,
});
