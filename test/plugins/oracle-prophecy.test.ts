// Failure prophecy (issue 14 point 7): agents that look stuck, looping, erroring or close to a
// full context, from ntm's agent states as the real collectors store them. The ntm_attention
// collector runs over ntm's fixtures (test/fixtures/ntm) every five minutes with the agents
// changed run by run; the ntm collector reads the legacy status on a second machine; the past
// episodes that calibrate a probability are history rows added to the same tables.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import { createFakeMachine, createTestStore, runOnce, type FakeMachine } from "../../lib/testkit.ts";
import { ntm } from "../../plugins/ntm/index.ts";
import { ntmAttention } from "../../plugins/ntm/attention.ts";
import { prophecies, repeatedLine, type Prophecy } from "../../plugins/oracle/prophecy.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-prophecy-");
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/ntm", name), "utf8");
const SNAPSHOT = JSON.parse(fx("robot-snapshot.json")) as { latest_cursor: number; sessions: { name: string; agents: Record<string, unknown>[] }[] };
const LEGACY = JSON.parse(fx("robot-status.legacy-2026-02.json")) as { sessions: { name: string; agents: Record<string, unknown>[] }[] };

/** The runs: 12:01 (the fixtures as they are), then every five minutes to 12:31. */
const RUNS = Array.from({ length: 7 }, (_, i) => `2026-08-16T12:${String(1 + 5 * i).padStart(2, "0")}:00.000Z`);
const AT = "2026-08-16T12:31:30.000Z";

/**
 * ntm's snapshot at run `i`. corpus-session-0: 0.1 claude works and prints all along (healthy);
 * 0.2 codex works, its context climbing 3 points every 5 min to 91 %. corpus-session-1: 0.2 gemini
 * goes back and forth between waiting and active; 0.3 cursor stays active and prints nothing after
 * 12:00:29; 0.4 claude (in error in the fixture) goes active and back into error twice.
 */
function snapshotAt(i: number) {
  const snap = structuredClone(SNAPSHOT);
  if (i === 0) return snap;
  snap.latest_cursor = 123;
  const agent = (session: string, pane: string) => snap.sessions.find((s) => s.name === session)!.agents.find((a) => a.pane === pane)!;
  Object.assign(agent("corpus-session-0", "0.2"), { state: "active", last_output_age_sec: 4, context_percent: 73 + 3 * i });
  Object.assign(agent("corpus-session-1", "0.2"), { state: i % 2 === 0 ? "waiting" : "active", last_output_age_sec: 12 });
  Object.assign(agent("corpus-session-1", "0.3"), { last_output_age_sec: 31 + 300 * i });
  Object.assign(agent("corpus-session-1", "0.4"), { state: i === 1 || i === 3 ? "active" : "error", last_output_age_sec: i === 1 || i === 3 ? 20 : 40 });
  return snap;
}

/** ntm ≤ 1.7's status at legacy run `i`: %3 codex's process runs without printing; %5 claude sleeps 12 min without output (at its prompt). */
function legacyAt(i: number) {
  const status = structuredClone(LEGACY);
  const codex = status.sessions[0]!.agents.find((a) => a.pane === "%3")!;
  Object.assign(codex, { process_state: "R", process_state_name: "running", seconds_since_output: 400 + 300 * i });
  return status;
}

/** A fake ntm answering from files in `state` (rewritten between runs). */
function writeNtm(m: FakeMachine, state: string) {
  writeFileSync(join(state, "events.json"), fx("robot-events.json"));
  writeFileSync(join(state, "attention.json"), fx("robot-attention.json"));
  writeFileSync(join(state, "no-events.json"), JSON.stringify({ success: true, timestamp: "2026-08-16T12:02:00Z", events: [], next_cursor: 123, has_more: false }));
  writeFileSync(
    join(m.bin, "ntm"),
    `#!/bin/sh
case "$*" in
  --robot-snapshot*) cat '${state}/snapshot.json' ;;
  --robot-status*) cat '${state}/status.json' ;;
  --robot-attention*) cat '${state}/attention.json' ;;
  "--robot-events --since-cursor=117 "*) cat '${state}/events.json' ;;
  --robot-events*) cat '${state}/no-events.json' ;;
  --version) echo 'ntm 0.0.0-fake' ;;
  *) echo "Error: unknown flag: $1" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(join(m.bin, "ntm"), 0o755);
}

const attention = ntmAttention();
const legacy = ntm({ list: false });
const fake = createFakeMachine({ id: "fake" });
const old = createFakeMachine({ id: "old" });
let store: Awaited<ReturnType<typeof createTestStore>>;

beforeAll(async () => {
  store = await createTestStore([attention, legacy]);
  writeNtm(fake, dir);
  writeNtm(old, dir);
  for (const [i, t] of RUNS.entries()) {
    writeFileSync(join(dir, "snapshot.json"), JSON.stringify(snapshotAt(i)));
    const run = await runOnce({ store, collector: attention, machine: fake, clock: createFixedClock(t) });
    expect(run).toMatchObject({ result: "ok", warnings: [] });
    if (i >= 4) {
      writeFileSync(join(dir, "status.json"), JSON.stringify(legacyAt(i - 4)));
      expect((await runOnce({ store, collector: legacy, machine: old, clock: createFixedClock(t) })).result).toBe("ok");
    }
  }
});
afterAll(async () => {
  await store?.close();
  fake.close();
  old.close();
});

const find = (list: Prophecy[], session: string, pane: string, kind: Prophecy["kind"]) => list.find((p) => p.session === session && p.pane === pane && p.kind === kind);

/**
 * Past stuck episodes on machine `hist` (pane hist-s 0.1), one every 3 h from 2026-08-10: the agent
 * works and prints, then goes 25 min without output while active (rows every 5 min from +30 min,
 * output age 600 s to 2100 s), then prints again. In the episodes numbered below `failing` it fails
 * 35 min after the episode began (+65 min): it falls into an error state and recovers, or (`gone`)
 * its pane is missing from that run of ntm (killed, restarted), and back in the next.
 */
async function addStuckHistory(episodes: number, failing: number, first = 0, how: "error" | "gone" = "error") {
  const base = Date.parse("2026-08-10T00:00:00Z");
  const states: Record<string, unknown>[] = [];
  const runs: Record<string, unknown>[] = [];
  for (let e = first; e < first + episodes; e++) {
    for (let o = 0; o < 180; o += 5) {
      const t = new Date(base + (e * 180 + o) * 60_000).toISOString();
      const stuck = o >= 30 && o <= 55;
      const fails = e < failing && o === 65;
      runs.push({ machine_id: "hist", collected_at: t, agents: fails && how === "gone" ? 0 : 1, source: "test-history" });
      if (fails && how === "gone") continue;
      states.push({
        machine_id: "hist",
        collected_at: t,
        session_name: "hist-s",
        pane: "0.1",
        pane_index: 1,
        agent_type: "claude",
        state: fails ? "error" : "active",
        last_output_age_s: stuck ? 600 + (o - 30) * 60 : 10,
        context_percent: 30,
        source: "test-history",
      });
    }
  }
  await store.insert("ntm_agent_states", states);
  await store.insert("ntm_attention_runs", runs);
}

describe("prophecies", () => {
  it("flags a stuck agent (active, nothing printed for 30 min) with its indicators and its rows, newest first", async () => {
    const { prophecies: list, warnings } = await prophecies(store, AT);
    expect(warnings).toEqual([]);
    const p = find(list, "corpus-session-1", "0.3", "stuck")!;
    expect(p).toMatchObject({
      machine_id: "fake",
      agent_type: "cursor",
      feed: "attention",
      state: "active",
      risk: "high", // 1831 s ≥ 30 min, nothing to calibrate against yet
      probability: null,
      since: "2026-08-16T12:00:29.000Z", // 12:31:00 − 1831 s: its last output
      indicators: [{ name: "no_output_s", value: 1831, threshold: 600, text: "no output for 31 min while ntm reports it active" }],
      basis: { episodes: 0, failed: 0, age_s: 1200 }, // flagged since 12:11 (631 s)
    });
    expect(p.evidence).toEqual([
      { table: "ntm_agent_states", collected_at: RUNS[6], summary: "state active; no output for 31 min" },
      { table: "ntm_agent_states", collected_at: RUNS[5], summary: "state active; no output for 26 min" },
      { table: "ntm_agent_states", collected_at: RUNS[4], summary: "state active; no output for 21 min" },
    ]);
    expect(p.reason).toBe(
      "no output for 31 min while ntm reports it active. Not calibrated: 0 past stuck episode(s) reached this age (20 min) in the history (ntm attention feed, last 14 d), 20 needed; risk high from thresholds (no output for 30 min or more).",
    );
  });

  it("does not flag a healthy working agent, nor idle ones, nor a high but flat context", async () => {
    const { prophecies: list } = await prophecies(store, AT);
    expect(list.filter((p) => p.session === "corpus-session-0" && p.pane === "0.1")).toEqual([]);
    expect(list.filter((p) => p.session === "corpus-session-1" && p.pane === "0.1")).toEqual([]);
    // 0.4 sits at 88 % all along: near full, not rising.
    expect(find(list, "corpus-session-1", "0.4", "context_exhaustion")).toBeUndefined();
    expect(list.map((p) => [p.machine_id, p.session, p.pane, p.kind, p.risk]).sort((a, b) => String(a).localeCompare(String(b)))).toEqual([
      ["fake", "corpus-session-0", "0.2", "context_exhaustion", "high"],
      ["fake", "corpus-session-1", "0.2", "looping", "medium"],
      ["fake", "corpus-session-1", "0.3", "stuck", "high"],
      ["fake", "corpus-session-1", "0.4", "erroring", "high"],
      ["fake", "corpus-session-1", "0.4", "looping", "medium"],
      ["old", "vibe_cockpit", "%3", "stuck", "medium"],
    ]);
  });

  it("flags a repeating error state as erroring, and the same waiting state re-entered as looping", async () => {
    const { prophecies: list } = await prophecies(store, AT);
    const err = find(list, "corpus-session-1", "0.4", "erroring")!;
    expect(err.indicators).toEqual([
      { name: "error_entries", value: 2, threshold: 2, text: "entered an error state 2 time(s) in the last 2 h (error)" },
      { name: "error_events", value: 1, threshold: 2, text: "ntm reported 1 error event(s) in the last 2 h" },
      { name: "in_error_state", value: 1, threshold: 1, text: "in error in its newest snapshot" },
    ]);
    expect(err.risk).toBe("high");
    expect(err.since).toBe("2026-08-16T12:00:05.123Z"); // ntm's event of the first error
    expect(err.evidence).toEqual([
      { table: "ntm_agent_states", collected_at: RUNS[6], summary: "state error; still in error" },
      { table: "ntm_agent_states", collected_at: RUNS[4], summary: "state error; entered from active" },
      { table: "ntm_agent_states", collected_at: RUNS[2], summary: "state error; entered from active" },
      { table: "ntm_agent_events", ts: "2026-08-16T12:00:05.123Z", summary: "agent.state_change: agent entered error state in corpus-session-1 pane 0.4" },
    ]);
    // Its pane tail (ntm's event 118) repeats one test run six times: looping, shown but not calibrated.
    const loop = find(list, "corpus-session-1", "0.4", "looping")!;
    expect(loop).toMatchObject({
      probability: null,
      basis: null,
      indicators: [{ name: "repeated_output_lines", value: 6, threshold: 5, text: "its last pane lines repeat «[#:#] running go test ./internal/robot/ (pass #)» 6 times" }],
    });
    expect(loop.reason).toContain("Not calibrated: history calibrates looping by repeated states, and this one is flagged by its output alone");
    const waiting = find(list, "corpus-session-1", "0.2", "looping")!;
    expect(waiting.indicators).toEqual([{ name: "state_reentries", value: 3, threshold: 3, text: "entered «waiting» 3 time(s) in the last 2 h" }]);
    expect(waiting.since).toBe(RUNS[2]!);
    expect(waiting.evidence.map((e) => [e.collected_at, e.summary])).toEqual([
      [RUNS[6], "state waiting; entered from active"],
      [RUNS[4], "state waiting; entered from active"],
      [RUNS[2], "state waiting; entered from active"],
    ]);
  });

  it("flags a context near full and rising, with the minutes to full at its recent pace", async () => {
    const { prophecies: list } = await prophecies(store, AT);
    const ctx = find(list, "corpus-session-0", "0.2", "context_exhaustion")!;
    // 76 % at 12:06, +3 every 5 min: 91 % at 12:31. From 79 % (the last value under 80) on, 0.6
    // points a minute: 9 points left = 15 min. The rise within the hour counts from 27 % at 12:01.
    expect(ctx.indicators).toEqual([
      { name: "context_percent", value: 91, threshold: 80, text: "context at 91 %" },
      { name: "context_rise_1h", value: 64, threshold: 0, text: "up 64 points within the last hour" },
      { name: "minutes_to_full", value: 15, threshold: 15, text: "full in about 15 min at its recent pace (6 points per 10 min)" },
    ]);
    expect(ctx.since).toBe(RUNS[3]!); // 82 % at 12:16: the first snapshot over 80 % and rising
    expect(ctx.risk).toBe("high");
  });

  it("reads the legacy status: a running process without output is stuck; a sleeping one is an agent at its prompt", async () => {
    const { prophecies: list } = await prophecies(store, AT, { machineId: "old" });
    expect(list.map((p) => [p.session, p.pane, p.kind])).toEqual([["vibe_cockpit", "%3", "stuck"]]);
    expect(list[0]).toMatchObject({
      feed: "legacy_status",
      state: "running",
      risk: "medium",
      indicators: [{ name: "no_output_s", value: 1000, threshold: 600, text: "no output for 17 min while its process is running (R)" }],
      evidence: [
        { table: "ntm_agents_snapshot", collected_at: RUNS[6], summary: "process running (R); no output for 17 min" },
        { table: "ntm_agents_snapshot", collected_at: RUNS[5], summary: "process running (R); no output for 12 min" },
        { table: "ntm_agents_snapshot", collected_at: RUNS[4], summary: "process running (R); no output for 7 min" },
      ],
    });
  });

  it("the machineId filter: that machine's agents only; an unknown machine answers a warning", async () => {
    const fakeOnly = await prophecies(store, AT, { machineId: "fake" });
    expect(new Set(fakeOnly.prophecies.map((p) => p.machine_id))).toEqual(new Set(["fake"]));
    expect(fakeOnly.prophecies).toHaveLength(5);
    const none = await prophecies(store, AT, { machineId: "nowhere" });
    expect(none).toEqual({
      prophecies: [],
      calibration: null,
      warnings: ["no ntm agent data for machine nowhere at or before 2026-08-16T12:31:30.000Z (collectors: ntm_attention, or ntm on ntm ≤ 1.7)"],
    });
  });

  it("is causal: rows collected after `at` change nothing; an earlier `at` sees only what was known then", async () => {
    const before = await prophecies(store, AT);
    // Later: every agent prints and works again, ntm reports new errors, and a run at 12:36 says so.
    await store.insert("ntm_agent_states", [
      { machine_id: "fake", collected_at: "2026-08-16T12:36:00Z", session_name: "corpus-session-1", pane: "0.3", state: "active", last_output_age_s: 1, source: "test-later" },
    ]);
    await store.insert("ntm_attention_runs", [{ machine_id: "fake", collected_at: "2026-08-16T12:36:00Z", agents: 1, source: "test-later" }]);
    await store.insert("ntm_agent_events", [
      // Happened before `at` but collected after it: not known at `at`.
      {
        machine_id: "fake",
        cursor: 500,
        event_ts: "2026-08-16T12:30:00Z",
        collected_at: "2026-08-16T12:36:00Z",
        session_name: "corpus-session-1",
        pane_index: 4,
        pane_ref: "0.4",
        event_type: "agent.error",
        source: "test-later",
      },
    ]);
    expect(await prophecies(store, AT)).toEqual(before);
    // At 12:16:30 the cursor agent had been silent 931 s, 0.4 had erred once, 0.2 re-entered waiting once.
    const early = await prophecies(store, "2026-08-16T12:16:30Z");
    expect(find(early.prophecies, "corpus-session-1", "0.3", "stuck")!.indicators[0]!.value).toBe(931);
    expect(find(early.prophecies, "corpus-session-1", "0.4", "erroring")).toBeUndefined();
    expect(find(early.prophecies, "corpus-session-1", "0.2", "looping")).toBeUndefined();
    expect(early.prophecies.some((p) => p.machine_id === "old")).toBe(false); // its first run was at 12:21
    await store.run("DELETE FROM ntm_agent_states WHERE source = 'test-later'");
    await store.run("DELETE FROM ntm_attention_runs WHERE source = 'test-later'");
    await store.run("DELETE FROM ntm_agent_events WHERE source = 'test-later'");
  });

  it("a probability only with 20 past episodes at this age: null with 19, the failed fraction with 25", async () => {
    // 19 past stuck episodes, 8 of which fell into an error state within the hour.
    await addStuckHistory(19, 8);
    const few = await prophecies(store, AT);
    const stuck = find(few.prophecies, "corpus-session-1", "0.3", "stuck")!;
    expect(stuck).toMatchObject({ probability: null, risk: "high", basis: { episodes: 19, failed: 8, age_s: 1200 } });
    expect(stuck.reason).toContain("Not calibrated: 19 past stuck episode(s) reached this age (20 min)");
    expect(few.calibration!.kinds).toEqual([{ feed: "attention", kind: "stuck", episodes: 19, failed: 8, probability: null }]);

    // Six more, two failing (their pane gone from one ntm snapshot): 25 episodes, each still stuck
    // 20 min in (they last 25 min), and 10 of them failed 35 min after they began, inside the hour
    // after 20 min: p = 10 / 25 = 0.4.
    await addStuckHistory(6, 21, 19, "gone");
    const enough = await prophecies(store, AT);
    const p = find(enough.prophecies, "corpus-session-1", "0.3", "stuck")!;
    expect(p).toMatchObject({ probability: 0.4, risk: "medium", basis: { episodes: 25, failed: 10, age_s: 1200 } });
    expect(p.reason).toBe(
      "no output for 31 min while ntm reports it active. 10 of 25 past stuck episodes that reached this age (20 min; ntm attention feed, last 14 d) failed within the next hour (an error state, a restart or the pane gone): p = 0.4; risk medium from it (thresholds alone: high, no output for 30 min or more).",
    );
    expect(enough.calibration).toMatchObject({
      horizon_minutes: 60,
      min_episodes: 20,
      kinds: [{ feed: "attention", kind: "stuck", episodes: 25, failed: 10, probability: 0.4 }],
    });
    // Episodes older than the calibration span do not count: with 4 days, those begun since
    // 08-12 12:31:30, the 22nd to the 25th (08-12 15:30 … 08-13 00:30).
    const recent = await prophecies(store, AT, { calibrationDays: 4 });
    expect(find(recent.prophecies, "corpus-session-1", "0.3", "stuck")!.basis).toEqual({ episodes: 4, failed: 0, age_s: 1200 });
    // Other machines' history calibrates a filtered answer too.
    expect(find((await prophecies(store, AT, { machineId: "fake" })).prophecies, "corpus-session-1", "0.3", "stuck")!.probability).toBe(0.4);
  });
});

describe("no data", () => {
  it("an empty store answers an empty list and a warning naming the collectors to add, without throwing", async () => {
    await using empty = await createTestStore([attention, legacy]);
    expect(await prophecies(empty, AT)).toEqual({
      prophecies: [],
      calibration: null,
      warnings: [
        "no ntm_attention or ntm data: ntm_attention has not run yet (vc collect --once); ntm has not run yet (vc collect --once). ntm_attention: install ntm (with the attention feed: --robot-snapshot) on the machines and add ntmAttention() to the config's collectors; ntm: add ntm() to the config's collectors (per-agent rows come from ntm ≤ 1.7's --robot-status)",
      ],
    });
  });

  it("a store without the ntm plugin's tables (its migrations never ran) answers the same way", async () => {
    await using bare = await createTestStore([]);
    const r = await prophecies(bare, AT);
    expect(r.prophecies).toEqual([]);
    expect(r.calibration).toBeNull();
    expect(r.warnings[0]).toStartWith("no ntm_attention or ntm data: ");
    expect((await prophecies(bare, "not a time")).warnings).toEqual(['prophecies: "not a time" is not a time']);
  });
});

describe("repeatedLine", () => {
  it("counts a line repeated with other numbers; short or letterless lines do not count", () => {
    expect(repeatedLine("step 1 of the build\nstep 2 of the build\n────────\n> \nstep 3 of the build")).toEqual({ line: "step # of the build", count: 3 });
    expect(repeatedLine("ok\nok\nok\nok\nok")).toBeNull();
    expect(repeatedLine(null)).toBeNull();
  });
});
