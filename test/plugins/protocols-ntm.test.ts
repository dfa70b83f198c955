// stuck_agent_recovery (issue 18 point 2): the real ntm_attention collector reads ntm's fixtures
// (test/fixtures/ntm) every five minutes with the agents changed run by run, the legacy ntm
// collector reads ntm ≤ 1.7's status on a second machine; the protocol's trigger reads the
// failure prophecy from that store, its steps plan ntm's real commands, and its verification
// re-reads ntm's tables after later collections.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import { resolveConfig, type CommandStep, type GuardianTarget, type ProtocolContext, type Step, type StepContext, type VcConfig } from "../../lib/index.ts";
import { createFakeMachine, createTestStore, runOnce } from "../../lib/testkit.ts";
import { ntm } from "../../plugins/ntm/index.ts";
import { ntmAttention } from "../../plugins/ntm/attention.ts";
import { ntmPlugin } from "../../plugins/ntm/plugin.ts";
import { RECOVERY_PROMPT, stuckAgentRecovery } from "../../plugins/ntm/protocols.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-protocols-ntm-");
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/ntm", name), "utf8");
type Agent = Record<string, unknown>;
const SNAPSHOT = JSON.parse(fx("robot-snapshot.json")) as { latest_cursor: number; sessions: { name: string; agents: Agent[] }[] };
const LEGACY = JSON.parse(fx("robot-status.legacy-2026-02.json")) as { sessions: { name: string; agents: Agent[] }[] };

/** ntm_attention's runs: 12:01, then every five minutes; the legacy status from the fifth run. */
const time = (i: number) => new Date(Date.parse("2026-08-16T12:01:00Z") + i * 5 * 60_000);
const RUNS = 7;
const AT = new Date("2026-08-16T12:31:30Z");

/**
 * ntm's snapshot at run `i`. corpus-session-1 0.3 (cursor) stays active and prints nothing after
 * 12:00:29 (stuck); corpus-session-0 0.2 (codex) goes in and out of compacting while it prints
 * (looping at work); corpus-session-1 0.2 (gemini) goes back and forth between waiting and active
 * (looping, but waiting for a person now: not the protocol's).
 */
function snapshotAt(i: number, change?: (agent: (session: string, pane: string) => Agent) => void) {
  const snap = structuredClone(SNAPSHOT);
  snap.latest_cursor = 123;
  const agent = (session: string, pane: string) => snap.sessions.find((s) => s.name === session)!.agents.find((a) => a.pane === pane)!;
  Object.assign(agent("corpus-session-1", "0.3"), { last_output_age_sec: 31 + 300 * i });
  Object.assign(agent("corpus-session-0", "0.2"), { state: i % 2 === 1 ? "compacting" : "active", last_output_age_sec: 6 });
  Object.assign(agent("corpus-session-1", "0.2"), { state: i % 2 === 0 ? "waiting" : "active", last_output_age_sec: 12 });
  change?.(agent);
  return snap;
}

/** ntm ≤ 1.7's status at legacy run `i`: %3 codex's process runs without printing. */
function legacyAt(i: number, drop?: string) {
  const status = structuredClone(LEGACY);
  const agents = status.sessions[0]!.agents;
  Object.assign(agents.find((a) => a.pane === "%3")!, { process_state: "R", process_state_name: "running", seconds_since_output: 400 + 300 * i });
  if (drop) status.sessions[0]!.agents = agents.filter((a) => a.pane !== drop);
  return status;
}

const attention = ntmAttention();
const legacy = ntm({ list: false });
let store: Awaited<ReturnType<typeof createTestStore>>;
let config: VcConfig;

/** One collection on machine `id` at `at`, by a fake ntm printing these. */
async function collect(id: string, at: Date, answers: { snapshot?: unknown; status?: unknown }) {
  const m = createFakeMachine({
    id,
    tools: {
      ntm: {
        "--robot-snapshot": JSON.stringify(answers.snapshot ?? {}),
        "--robot-events*": fx("robot-events.json"),
        "--robot-attention*": fx("robot-attention.json"),
        "--robot-status": JSON.stringify(answers.status ?? {}),
      },
    },
  });
  try {
    const run = await runOnce({ store, collector: answers.snapshot ? attention : legacy, machine: m, clock: createFixedClock(at) });
    expect(run.result).toBe("ok");
  } finally {
    m.close();
  }
}

beforeAll(async () => {
  store = await createTestStore([attention, legacy]);
  config = await resolveConfig(
    {
      db: join(dir, "unused.duckdb"),
      machines: [
        { id: "fake", ssh: "local" },
        { id: "old", ssh: "local" },
      ],
      collectors: [attention, legacy],
    },
    { source: "test" },
  );
  for (let i = 0; i < RUNS; i++) {
    await collect("fake", time(i), { snapshot: snapshotAt(i) });
    if (i >= 4) await collect("old", time(i), { status: legacyAt(i - 4) });
  }
});
afterAll(async () => {
  await store?.close();
});

const step = <K extends Step["kind"]>(steps: readonly Step[] | undefined, name: string, kind: K) => {
  const s = steps?.find((x) => x.name === name);
  if (s?.kind !== kind) throw new Error(`no ${kind} step ${name}`);
  return s as Extract<Step, { kind: K }>;
};
const stepCtx = (base: ProtocolContext, target: GuardianTarget, facts = target.facts): StepContext => ({ ...base, target, facts });
const base = (): ProtocolContext => ({ store, config, at: AT });
const targetOf = async (key: string) => (await stuckAgentRecovery.trigger.find(base())).find((t) => t.key === key)!;
/** The argv of every command step, as planned for the target with these facts. */
const argvs = (steps: readonly Step[], ctx: StepContext) => steps.filter((s): s is CommandStep => s.kind === "command").map((s) => s.command(ctx)?.argv ?? null);

describe("stuck_agent_recovery", () => {
  it("is contributed by the ntm plugin, and escalates at the first failure", () => {
    expect(ntmPlugin.protocols).toEqual([stuckAgentRecovery]);
    expect(stuckAgentRecovery.escalation.afterFailures).toBe(1);
  });

  it("finds the stuck agents and the one looping at work, from the failure prophecy, on both feeds", async () => {
    const targets = await stuckAgentRecovery.trigger.find(base());
    // corpus-session-1 0.2 loops too, but it waits for a person now; 0.4's looping pane tail is in an error state.
    expect(targets.map((t) => [t.key, t.facts.kinds, t.facts.risk])).toEqual([
      ["fake:corpus-session-0:0.2", ["looping"], "medium"],
      ["fake:corpus-session-1:0.3", ["stuck"], "high"],
      ["old:vibe_cockpit:%3", ["stuck"], "medium"],
    ]);
    const stuck = targets[1]!;
    expect(stuck.machine).toBe("fake");
    expect(stuck.title).toBe("corpus-session-1 pane 0.3 (cursor) on fake: no output for 31 min while ntm reports it active");
    expect(stuck.facts).toEqual({
      session: "corpus-session-1",
      pane: "0.3",
      pane_index: 3,
      selector: "0.3",
      send_selector: "0.3",
      agent_type: "cursor",
      feed: "attention",
      kinds: ["stuck"],
      risk: "high",
      probability: null,
      state: "active",
      since: "2026-08-16T12:00:29.000Z",
      reason: expect.stringContaining("no output for 31 min while ntm reports it active."),
      indicators: [{ name: "no_output_s", value: 1831, threshold: 600, text: "no output for 31 min while ntm reports it active" }],
      evidence: [
        { table: "ntm_agent_states", collected_at: "2026-08-16T12:31:00.000Z", summary: "state active; no output for 31 min" },
        { table: "ntm_agent_states", collected_at: "2026-08-16T12:26:00.000Z", summary: "state active; no output for 26 min" },
        { table: "ntm_agent_states", collected_at: "2026-08-16T12:21:00.000Z", summary: "state active; no output for 21 min" },
      ],
      seen_at: "2026-08-16T12:31:00.000Z",
      last_output_at: "2026-08-16T12:00:29.000Z",
      output_age_s: 1831,
      context_percent: 41,
      found_at: AT.toISOString(),
    });
    expect(targets[2]!.facts).toMatchObject({ session: "vibe_cockpit", pane: "%3", pane_index: 3, selector: "%3", send_selector: "3", feed: "legacy_status", agent_type: "codex" });
  });

  it("diagnoses from the evidence rows, the pane's recent states and its session's other agents", async () => {
    const t = await targetOf("fake:corpus-session-1:0.3");
    let facts = { ...t.facts };
    for (const s of stuckAgentRecovery.diagnosis) if (s.kind === "read") facts = { ...facts, ...(await s.read(stepCtx(base(), t, facts))) };
    expect(facts).toMatchObject({
      still_flagged: true,
      kinds_now: ["stuck"],
      evidence_now: t.facts.evidence,
      session_peers: 4,
      session_peers_printing: 2, // 0.1 and 0.2; 0.4 has printed nothing for 10 min, 0.5 gives no age
    });
    expect((facts.recent_states as { collected_at: string; output_age_s: number }[]).map((r) => [r.collected_at, r.output_age_s])).toEqual(
      [6, 5, 4, 3, 2, 1].map((i) => [time(i).toISOString(), 31 + 300 * i]),
    );
    expect(facts.pane_tail).toBeNull(); // ntm's events give no tail for pane 3
  });

  it("interrupts the pane, waits 30 s and sends the recovery prompt, with ntm's exact argv", async () => {
    const t = await targetOf("fake:corpus-session-1:0.3");
    const ctx = stepCtx(base(), t);
    expect(stuckAgentRecovery.treatment.map((s) => [s.kind, s.name])).toEqual([
      ["command", "interrupt"],
      ["wait", "settle"],
      ["command", "recovery_prompt"],
    ]);
    expect(step(stuckAgentRecovery.treatment, "settle", "wait").seconds).toBe(30);
    expect(argvs(stuckAgentRecovery.treatment, ctx)).toEqual([
      ["ntm", "--robot-interrupt", "corpus-session-1", "--panes", "0.3"],
      ["ntm", "send", "corpus-session-1", "--pane", "0.3", "--no-cass-check", RECOVERY_PROMPT],
    ]);
    expect(argvs(stuckAgentRecovery.rollback, ctx)).toEqual([["ntm", "--robot-restart-pane", "corpus-session-1", "--panes", "0.3"]]);
    // The legacy status: the pane's tmux id for the interrupt and the restart, its index for send.
    const old = stepCtx(base(), await targetOf("old:vibe_cockpit:%3"));
    expect(argvs([...stuckAgentRecovery.treatment, ...stuckAgentRecovery.rollback], old)).toEqual([
      ["ntm", "--robot-interrupt", "vibe_cockpit", "--panes", "%3"],
      ["ntm", "send", "vibe_cockpit", "--pane", "3", "--no-cass-check", RECOVERY_PROMPT],
      ["ntm", "--robot-restart-pane", "vibe_cockpit", "--panes", "%3"],
    ]);
  });

  it("reads ntm's interrupt output, and skips the prompt when Ctrl+C did not bring the pane back, or both steps once the agent progresses", async () => {
    const t = await targetOf("fake:corpus-session-1:0.3");
    const interrupt = step(stuckAgentRecovery.treatment, "interrupt", "command");
    const prompt = step(stuckAgentRecovery.treatment, "recovery_prompt", "command");
    const ready = interrupt.parse!(
      JSON.stringify({ success: true, session: "corpus-session-1", interrupted: ["3"], ready_for_input: ["3"], failed: [], timed_out: false }),
      stepCtx(base(), t),
    );
    expect(ready).toEqual({ interrupted: ["3"], ready_for_input: ["3"], interrupt_ready: true });
    expect(prompt.when!(stepCtx(base(), t, { ...t.facts, still_flagged: true, ...ready }))).toBeNull();
    const hung = interrupt.parse!(JSON.stringify({ success: false, interrupted: ["3"], ready_for_input: [], timed_out: true }), stepCtx(base(), t));
    expect(prompt.when!(stepCtx(base(), t, { ...t.facts, ...hung }))).toMatch(/^Ctrl\+C did not bring the pane back to its prompt/);
    expect(interrupt.when!(stepCtx(base(), t, { ...t.facts, still_flagged: true }))).toBeNull();
    const calm = stepCtx(base(), t, { ...t.facts, still_flagged: false });
    expect(interrupt.when!(calm)).toBe("the prophecy no longer reads the agent as stuck or looping: it is making progress again");
    expect(prompt.when!(calm)).toBe("the agent is making progress again: nothing to tell it");
  });

  it("verifies by ntm's snapshots after the treatment: fails while the pane is silent or gone, holds once it prints", async () => {
    const t = await targetOf("fake:corpus-session-1:0.3");
    const check = (at: Date, target = t) => stuckAgentRecovery.verification.check(stepCtx({ store, config, at }, target));
    expect(await check(AT)).toEqual({ ok: false, detail: "no ntm snapshot of corpus-session-1 pane 0.3 on fake since 2026-08-16T12:31:00.000Z" });
    // 12:36: still nothing printed.
    await collect("fake", time(7), { snapshot: snapshotAt(7) });
    expect(await check(time(7))).toEqual({ ok: false, detail: "corpus-session-1 pane 0.3 on fake has printed nothing since 2026-08-16T12:00:29.000Z (state active)" });
    // 12:41: it printed 4 s before the snapshot.
    await collect("fake", time(8), { snapshot: snapshotAt(8, (agent) => Object.assign(agent("corpus-session-1", "0.3"), { last_output_age_sec: 4 })) });
    expect(await check(time(8))).toEqual({ ok: true, detail: "corpus-session-1 pane 0.3 on fake printed at 2026-08-16T12:40:56.000Z (state active, 2026-08-16T12:41:00.000Z)" });
    // The legacy machine's next status lists no %3: the pane is gone.
    const old = await targetOf("old:vibe_cockpit:%3");
    await collect("old", time(7), { status: legacyAt(3, "%3") });
    expect(await check(time(7), old)).toEqual({
      ok: false,
      detail: "vibe_cockpit pane %3 on old is gone from ntm's newest snapshot (2026-08-16T12:36:00.000Z); last seen 2026-08-16T12:31:00.000Z",
    });
    // An error state is no recovery.
    await collect("fake", time(9), { snapshot: snapshotAt(9, (agent) => Object.assign(agent("corpus-session-1", "0.3"), { state: "error", last_output_age_sec: 2 })) });
    expect(await check(time(9))).toEqual({ ok: false, detail: "corpus-session-1 pane 0.3 on fake is in error (2026-08-16T12:46:00.000Z)" });
  });

  it("finds nothing on a store whose agents all print", async () => {
    const calm = await createTestStore([attention]);
    try {
      for (let i = 0; i < 3; i++) {
        const m = createFakeMachine({
          id: "calm",
          tools: {
            ntm: {
              "--robot-snapshot": JSON.stringify({ ...SNAPSHOT, latest_cursor: 123 }),
              "--robot-events*": fx("robot-events.json"),
              "--robot-attention*": fx("robot-attention.json"),
            },
          },
        });
        await runOnce({ store: calm, collector: attention, machine: m, clock: createFixedClock(time(i)) });
        m.close();
      }
      expect(await stuckAgentRecovery.trigger.find({ store: calm, config, at: time(2) })).toEqual([]);
    } finally {
      await calm.close();
    }
  });
});
