// ntm's attention feed (issue 20 points 1–2): the ntm_attention collector on ntm's own outputs
// (test/fixtures/ntm, derived from ntm's code and token corpus) through a fake ntm on PATH and over
// a real sshd, the attention view's answer, and every bad input of the issue.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import type { Cockpit } from "../../lib/cockpit.ts";
import { createFakeMachine, createTestStore, runOnce, type FakeMachine } from "../../lib/testkit.ts";
import { ntm } from "../../plugins/ntm/index.ts";
import { ntmAttention } from "../../plugins/ntm/attention.ts";
import { attentionView } from "../../plugins/ntm/attention-view.ts";
import { SSH_TEST_HOME, useSshMachine } from "../helpers/sshd.ts";

setDefaultTimeout(60_000);

const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/ntm", name), "utf8");
const json = (name: string) => JSON.parse(fx(name)) as Record<string, any>;
const SNAPSHOT = fx("robot-snapshot.json");
const EVENTS = fx("robot-events.json");
const EXPIRED = fx("robot-events.cursor-expired.json");
const ATTENTION = fx("robot-attention.json");
/** The snapshot as ntm prints it once its journal has reached `cursor`. */
const snapshotAt = (cursor: number) => JSON.stringify({ ...JSON.parse(SNAPSHOT), latest_cursor: cursor });
const EMPTY_EVENTS = (next: number) => JSON.stringify({ success: true, timestamp: "2026-08-16T12:02:00Z", events: [], next_cursor: next, has_more: false });
const OLD_NTM = "Error: unknown flag: --robot-snapshot\nRun 'ntm --help' for usage.\n";

type Answer = { stdout: string; exit?: number; stderr?: string };
/** Writes a fake ntm into `bin` answering by argument prefix (first match wins); a call log beside it. */
function writeNtm(bin: string, answers: [prefix: string, answer: Answer | string][]) {
  mkdirSync(bin, { recursive: true });
  const cases = answers.map(([prefix, a], n) => {
    const ans = typeof a === "string" ? { stdout: a } : a;
    writeFileSync(join(bin, `out-${n}`), ans.stdout);
    writeFileSync(join(bin, `err-${n}`), ans.stderr ?? "");
    chmodSync(join(bin, `out-${n}`), 0o644);
    chmodSync(join(bin, `err-${n}`), 0o644);
    return `  '${prefix}'*) cat '${join(bin, `out-${n}`)}'; cat '${join(bin, `err-${n}`)}' >&2; exit ${ans.exit ?? 0} ;;`;
  });
  writeFileSync(
    join(bin, "ntm"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${join(bin, "calls")}'\ncase "$*" in\n${cases.join("\n")}\n  --version) echo 'ntm 0.0.0-fake'; exit 0 ;;\nesac\necho "Error: unknown flag: $1" >&2\nexit 1\n`,
  );
  chmodSync(join(bin, "ntm"), 0o755);
}
const calls = (bin: string) => readFileSync(join(bin, "calls"), "utf8").split("\n").filter(Boolean);

const t0 = createFixedClock("2026-08-16T12:00:00Z");
const t1 = createFixedClock("2026-08-16T12:01:00Z");

/** The feed as ntm's fixtures give it: snapshot at cursor 117, events 118–123, the attention digest. */
const feed = (over: Partial<Record<"snapshot" | "events" | "attention", Answer | string>> = {}): [string, Answer | string][] => [
  ["--robot-snapshot", over.snapshot ?? SNAPSHOT],
  ["--robot-attention", over.attention ?? ATTENTION],
  ["--robot-events --since-cursor=117 ", over.events ?? EVENTS],
  ["--robot-events --since-cursor=123 ", EMPTY_EVENTS(123)],
];

const machines: FakeMachine[] = [];
afterAll(() => {
  for (const m of machines) m.close();
});
function fakeMachine(id = "fake") {
  const m = createFakeMachine({ id });
  machines.push(m);
  return m;
}

const cockpit = (store: Cockpit["store"], clock = t1, ssh: Record<string, string> = {}) =>
  ({
    store,
    clock,
    config: { machines: Object.entries({ fake: "local", ...ssh }).map(([id, s]) => ({ id, ssh: s })), collectors: [{ name: "ntm_attention" }] },
  }) as unknown as Cockpit;

describe("ntm_attention collector", () => {
  it("stores agents' states, the events after the snapshot's cursor and the attention items; a second run adds nothing", async () => {
    const c = ntmAttention();
    await using store = await createTestStore([c]);
    const m = fakeMachine();
    writeNtm(m.bin, feed());
    const run = await runOnce({ store, collector: c, machine: m, clock: t1 });
    expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { ntm_agent_states: 8, ntm_agent_events: 6, ntm_attention_items: 4, ntm_attention_runs: 1 } });
    expect(calls(m.bin)).toContain("--robot-events --since-cursor=117 --events-limit=500");
    const [cur] = await store.query<{ cursor_value: string }>("SELECT cursor_value FROM ingestion_cursors WHERE source = 'ntm_attention'");
    expect(JSON.parse(cur!.cursor_value)).toEqual({ kind: "opaque", value: "123" });
    expect(
      await store.query(
        "SELECT session_name, pane, agent_type, state, last_output_age_s, pending_mail FROM ntm_agent_states WHERE session_name = 'corpus-session-1' ORDER BY pane",
      ),
    ).toEqual([
      { session_name: "corpus-session-1", pane: "0.1", agent_type: "codex", state: "idle", last_output_age_s: 5, pending_mail: 1 },
      { session_name: "corpus-session-1", pane: "0.2", agent_type: "gemini", state: "waiting", last_output_age_s: 18, pending_mail: 2 },
      { session_name: "corpus-session-1", pane: "0.3", agent_type: "cursor", state: "active", last_output_age_s: 31, pending_mail: 0 },
      { session_name: "corpus-session-1", pane: "0.4", agent_type: "claude", state: "error", last_output_age_s: 600, pending_mail: 0 },
      { session_name: "corpus-session-1", pane: "0.5", agent_type: "opencode", state: "unknown", last_output_age_s: null, pending_mail: 0 },
    ]);
    const [ev] = await store.query<Record<string, unknown>>(
      "SELECT cursor, event_ts, pane_index, pane_ref, event_type, next_actions_json FROM ntm_agent_events WHERE cursor = 118",
    );
    expect(ev).toEqual({
      cursor: 118,
      event_ts: "2026-08-16T12:00:05.123Z",
      pane_index: 4,
      pane_ref: "0.4",
      event_type: "agent.state_change",
      next_actions_json: JSON.stringify([{ label: "robot-tail", command: "ntm --robot-tail=corpus-session-1 --panes=0.4 --lines=50", reason: "Inspect the failing agent output" }]),
    });
    writeNtm(m.bin, feed({ snapshot: snapshotAt(123) }));
    const again = await runOnce({ store, collector: c, machine: m, clock: t1 });
    expect(again).toMatchObject({ result: "ok", warnings: [] });
    expect(again.rows).toBe(0);
    expect(calls(m.bin)).toContain("--robot-events --since-cursor=123 --events-limit=500");
  });

  it("an expired cursor resyncs from the snapshot and reads what ntm still holds: nothing lost, nothing doubled", async () => {
    const c = ntmAttention();
    await using store = await createTestStore([c]);
    const m = fakeMachine();
    writeNtm(m.bin, feed());
    await runOnce({ store, collector: c, machine: m, clock: t0 });
    // Much later: ntm garbage-collected past vc's cursor (123); it holds 96 onwards and says so.
    writeNtm(m.bin, [
      ["--robot-snapshot", snapshotAt(150)],
      ["--robot-attention", ATTENTION],
      ["--robot-events --since-cursor=123 ", { stdout: EXPIRED, exit: 1 }],
      ["--robot-events --since-cursor=95 ", EVENTS],
    ]);
    const run = await runOnce({ store, collector: c, machine: m, clock: t1 });
    expect(run.result).toBe("ok");
    expect(run.warnings).toEqual([
      "ntm's cursor 123 expired on fake (cursor 40 has expired (earliest available: 96, retention: 1h0m0s) (CURSOR_EXPIRED)): resynced from its snapshot; events read from cursor 95",
    ]);
    expect(run.rowsByTable.ntm_agent_events ?? 0).toBe(0); // 118–123 were stored already: not doubled
    expect(run.rowsByTable.ntm_agent_states).toBe(8); // the states come from the new snapshot: nothing lost
    expect(await store.query("SELECT count(*)::INTEGER AS n, count(DISTINCT cursor)::INTEGER AS d FROM ntm_agent_events")).toEqual([{ n: 6, d: 6 }]);
    const [cur] = await store.query<{ cursor_value: string }>("SELECT cursor_value FROM ingestion_cursors WHERE source = 'ntm_attention'");
    expect(JSON.parse(cur!.cursor_value).value).toBe("123");
  });

  it("a cursor from another ntm instance after a restart is detected and resynced; the new instance's events are kept beside the old", async () => {
    const c = ntmAttention();
    await using store = await createTestStore([c]);
    const m = fakeMachine();
    writeNtm(m.bin, feed());
    await runOnce({ store, collector: c, machine: m, clock: t0 });
    // ntm restarted: its journal begins again at 1; cursors 1–2 are new events with old numbers.
    const snap = json("robot-snapshot.json");
    snap.latest_cursor = 2;
    const restarted = json("robot-events.json");
    restarted.events = restarted.events.slice(0, 2).map((e: Record<string, unknown>, i: number) => ({ ...e, cursor: i + 1, ts: `2026-08-16T12:05:0${i}Z` }));
    restarted.next_cursor = 2;
    writeNtm(m.bin, [
      ["--robot-snapshot", JSON.stringify(snap)],
      ["--robot-attention", ATTENTION],
      ["--robot-events --since-cursor=0 ", JSON.stringify(restarted)],
    ]);
    const run = await runOnce({ store, collector: c, machine: m, clock: createFixedClock("2026-08-16T12:06:00Z") });
    expect(run.warnings).toEqual(["ntm's event feed on fake restarted (vc's cursor 123 is past its newest, 2): resynced from its snapshot; events read from cursor 0"]);
    expect(run.rowsByTable.ntm_agent_events).toBe(2);
    expect(await store.query("SELECT cursor, event_ts FROM ntm_agent_events WHERE cursor < 3 ORDER BY cursor")).toEqual([
      { cursor: 1, event_ts: "2026-08-16T12:05:00.000Z" },
      { cursor: 2, event_ts: "2026-08-16T12:05:01.000Z" },
    ]);
    // The restart seen only in the events page (the snapshot still above vc's cursor) is caught too.
    const m2 = fakeMachine("other");
    writeNtm(m2.bin, feed());
    await runOnce({ store, collector: c, machine: m2, clock: t0 });
    writeNtm(m2.bin, [
      ["--robot-snapshot", snapshotAt(130)],
      ["--robot-attention", ATTENTION],
      ["--robot-events --since-cursor=123 ", EMPTY_EVENTS(7)],
      ["--robot-events --since-cursor=0 ", JSON.stringify(restarted)],
    ]);
    const r2 = await runOnce({ store, collector: c, machine: m2, clock: t1 });
    expect(r2.warnings).toEqual(["ntm's event feed on other restarted (vc's cursor 123 is past its newest, 7): resynced from its snapshot; events read from cursor 0"]);
  });

  it("keeps unknown categories and types, and events out of order, once each", async () => {
    const c = ntmAttention();
    await using store = await createTestStore([c]);
    const m = fakeMachine();
    const events = json("robot-events.json");
    events.events.push({
      cursor: 124,
      ts: "2026-08-16T12:00:41Z",
      category: "quantum",
      type: "quantum.entangled",
      actionability: "sometimes",
      severity: "weird",
      summary: "a thing vc never saw",
    });
    events.events.reverse(); // out of order: newest first
    events.next_cursor = 118; // ntm's next cursor is the last event's, here the oldest
    writeNtm(m.bin, [...feed({ events: JSON.stringify(events) }), ["--robot-events --since-cursor=118 ", JSON.stringify({ ...events, next_cursor: 124 })]]);
    const run = await runOnce({ store, collector: c, machine: m, clock: t1 });
    expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { ntm_agent_events: 7 } });
    expect(await store.query("SELECT category, event_type, actionability, severity FROM ntm_agent_events WHERE cursor = 124")).toEqual([
      { category: "quantum", event_type: "quantum.entangled", actionability: "sometimes", severity: "weird" },
    ]);
    const [cur] = await store.query<{ cursor_value: string }>("SELECT cursor_value FROM ingestion_cursors WHERE source = 'ntm_attention'");
    expect(JSON.parse(cur!.cursor_value).value).toBe("124"); // the highest cursor read, not the page's last
    writeNtm(m.bin, [
      ["--robot-snapshot", snapshotAt(124)],
      ["--robot-attention", ATTENTION],
      ["--robot-events --since-cursor=124 ", EMPTY_EVENTS(124)],
    ]);
    expect(await runOnce({ store, collector: c, machine: m, clock: t1 })).toMatchObject({ result: "ok", warnings: [], rows: 0 });
  });

  it("ntm older than the attention feed: the run is skipped with the reason (vc doctor's last_error); the view falls back to the legacy status", async () => {
    const c = ntmAttention();
    const old = ntm({ list: false });
    // ntm ≤ 1.7's per-agent status, one of its agents rate-limited.
    const legacyStatus = json("robot-status.legacy-2026-02.json");
    Object.assign(legacyStatus.sessions[0].agents[0], { rate_limit_detected: true, rate_limit_match: "\x1b[31m429 Too Many Requests\x1b[0m" });
    await using store = await createTestStore([c, old]);
    const m = fakeMachine();
    writeNtm(m.bin, [
      ["--robot-status", JSON.stringify(legacyStatus)],
      ["--robot-snapshot", { stdout: "", stderr: OLD_NTM, exit: 1 }],
    ]);
    const run = await runOnce({ store, collector: c, machine: m, clock: t1 });
    expect(run.result).toBe("skipped");
    expect(run.reason).toContain("ntm on fake predates the attention feed");
    expect(run.reason).toContain("unknown flag: --robot-snapshot");
    const [state] = await store.query<{ last_result: string; last_error: string }>("SELECT last_result, last_error FROM collector_state WHERE collector = 'ntm_attention'");
    expect(state).toEqual({ last_result: "skipped", last_error: run.reason! });
    expect((await runOnce({ store, collector: old, machine: m, clock: t1 })).result).toBe("ok");
    const { data, warnings } = await attentionView.run(cockpit(store), {});
    expect(warnings).toContain("ntm on fake gives no attention feed: agents read from its legacy --robot-status (rate limits only; no waiting or error states)");
    expect((warnings ?? []).some((w) => w.startsWith("ntm_attention skipped on fake: ntm on fake predates the attention feed"))).toBe(true);
    const legacy = await store.query<{ n: number; limited: number }>(
      "SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE rate_limit_detected)::INTEGER AS limited FROM ntm_agents_snapshot",
    );
    expect(data.counts.needs_person).toBe(legacy[0]!.limited);
    expect(data.counts.needs_person + data.counts.working + data.counts.idle).toBe(legacy[0]!.n);
    expect(legacy[0]!.limited).toBe(1);
    expect(data.agents.map((a) => [a.session, a.pane, a.state, a.feed, a.why.summary])).toEqual([
      [legacyStatus.sessions[0].name, legacyStatus.sessions[0].agents[0].pane, "rate_limited", "legacy_status", "rate limit detected: 429 Too Many Requests"],
    ]);
  });

  it("a pane tail full of escape sequences and 1 MB long is stored stripped and bounded", async () => {
    const c = ntmAttention();
    await using store = await createTestStore([c]);
    const m = fakeMachine();
    const line = "\x1b[31mERR\x1b[0m \x1b]0;pwned\x07rate limit \x1b[2K\r";
    const huge = `${"x".repeat(1024 * 1024)}\n${Array.from({ length: 60 }, (_, i) => `${line}line ${i}`).join("\n")}`;
    const events = json("robot-events.json");
    events.events[0].details.last_output = huge;
    const attention = json("robot-attention.json");
    attention.digest.buckets.action_required[0].event.details.last_output = huge;
    writeNtm(m.bin, feed({ events: JSON.stringify(events), attention: JSON.stringify(attention) }));
    expect((await runOnce({ store, collector: c, machine: m, clock: t1 })).result).toBe("ok");
    for (const table of ["ntm_agent_events", "ntm_attention_items"]) {
      const [r] = await store.query<{ pane_tail: string }>(`SELECT pane_tail FROM ${table} WHERE cursor = 118`);
      expect(r!.pane_tail.length).toBeLessThanOrEqual(4000);
      expect(r!.pane_tail).not.toMatch(/[\x1b\x07\r]/);
      expect(r!.pane_tail.split("\n")).toHaveLength(40);
      expect(r!.pane_tail.split("\n").at(-1)).toBe("line 59");
    }
    const { data } = await attentionView.run(cockpit(store), {});
    expect(
      data.agents
        .find((a) => a.pane === "0.4")!
        .why.pane_tail!.split("\n")
        .at(-1),
    ).toBe("line 59");
  });
});

describe("the attention view", () => {
  it("lists who needs a person, longest-waiting and most-blocking first; counts the rest", async () => {
    const c = ntmAttention();
    await using store = await createTestStore([c]);
    const m = fakeMachine();
    writeNtm(m.bin, feed());
    await runOnce({ store, collector: c, machine: m, clock: t1 });
    const { data, warnings } = await attentionView.run(cockpit(store), {});
    expect(warnings).toEqual([]);
    expect(data.agents.map((a) => [a.session, a.pane, a.state, a.since, a.waited_s, a.blocks])).toEqual([
      // error for 600 s (its last output), a bead held: 3 + 1
      ["corpus-session-1", "0.4", "error", "2026-08-16T11:51:00.000Z", 600, 4],
      // waiting, and stalled since 12:00:12 (ntm's item): warning 2 + bead 1 + 2 unread
      ["corpus-session-1", "0.2", "waiting", "2026-08-16T12:00:12.000Z", 48, 5],
      ["corpus-session-0", "0.3", "waiting", "2026-08-16T12:00:29.000Z", 31, 5],
      // idle, but ntm says action_required (idle with unread mail) since 12:00:40
      ["corpus-session-0", "0.2", "idle", "2026-08-16T12:00:40.000Z", 20, 3],
    ]);
    expect(data.counts).toEqual({
      needs_person: 4,
      working: 2,
      idle: 1,
      done: 0,
      other: 1,
      by_state: { active: 2, idle: 2, waiting: 2, error: 1, unknown: 1 },
      items_without_agent: 0,
    });
    const err = data.agents[0]!;
    expect(err).toMatchObject({
      machine_id: "fake",
      agent_type: "claude",
      why: {
        summary: "agent entered error state in corpus-session-1 pane 0.4",
        actionability: "action_required",
        severity: "error",
        type: "agent.state_change",
        current_bead: "bd-corpus-12",
      },
      actions: [{ label: "robot-tail", command: "ntm --robot-tail=corpus-session-1 --panes=0.4 --lines=50", reason: "Inspect the failing agent output" }],
      attach: "tmux attach -t corpus-session-1 \\; select-pane -t corpus-session-1:0.4",
    });
    expect(err.why.pane_tail!.split("\n").at(-1)).toBe("Error: 429 rate_limit_error: This request would exceed your account's rate limit");
    // A remote machine's way there goes through ssh.
    expect((await attentionView.run(cockpit(store, t1, { fake: "ubuntu@worker-01.lan:2222" }), {})).data.agents[0]!.attach).toBe(
      "ssh -t -p 2222 ubuntu@worker-01.lan ntm attach corpus-session-1",
    );
  });

  it("an item about a session that no longer exists is counted, not listed; an empty store answers an empty list with a warning", async () => {
    const c = ntmAttention();
    await using store = await createTestStore([c]);
    const empty = await attentionView.run(cockpit(store), {});
    expect(empty.data.agents).toEqual([]);
    expect(empty.warnings).toEqual([
      "no ntm_attention data: ntm_attention has not run yet (vc collect --once). ntm_attention: install ntm (with the attention feed: --robot-snapshot) on the machines and add ntmAttention() to the config's collectors",
    ]);
    const m = fakeMachine();
    const attention = json("robot-attention.json");
    const gone = structuredClone(attention.digest.buckets.action_required[0]);
    gone.event = { ...gone.event, cursor: 99, session: "killed-session", details: { pane_ref: "0.1" } };
    attention.digest.buckets.action_required.push(gone);
    writeNtm(m.bin, feed({ attention: JSON.stringify(attention) }));
    await runOnce({ store, collector: c, machine: m, clock: t1 });
    const { data } = await attentionView.run(cockpit(store), {});
    expect(data.agents.map((a) => a.session)).not.toContain("killed-session");
    expect(data.counts.items_without_agent).toBe(1);
  });
});

describe("over SSH", () => {
  const remoteDir = join(SSH_TEST_HOME, `ntm-attention-${process.pid}`);
  const { overSsh } = useSshMachine(remoteDir);
  it("reads the same feed from a remote ntm", async () => {
    const bin = join(remoteDir, "bin");
    writeNtm(bin, feed());
    chmodSync(bin, 0o755);
    const c = ntmAttention({ bin: join(bin, "ntm") });
    await using store = await createTestStore([c]);
    const machine = overSsh({});
    const run = await runOnce({ store, collector: c, machine, clock: t1 });
    expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { ntm_agent_states: 8, ntm_agent_events: 6, ntm_attention_items: 4 } });
    writeNtm(bin, feed({ snapshot: snapshotAt(123) }));
    expect(await runOnce({ store, collector: c, machine, clock: t1 })).toMatchObject({ result: "ok", warnings: [], rows: 0 });
  });
});
