// Within seconds (issue 20.3): `vc up` follows each machine's ntm through its blocking attention
// wait, so an agent that starts waiting for a person is on `vc watch` as an attention event without
// waiting for the next poll (the poll interval here is an hour), and leaves the attention view
// once ntm says it is handled. A fake ntm on PATH changes state when the test says so.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { followSources } from "../../lib/follow.ts";
import { openCockpit, resolveConfig, runDaemon } from "../../lib/index.ts";
import { createFakeMachine } from "../../lib/testkit.ts";
import { ntmAttention } from "../../plugins/index.ts";
import { lineWaiter } from "../helpers/dcg-watch.ts";
import { isolatedEnv, vc, vcSpawn } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { until, writeFollowConfig, writeFollowNtm } from "../helpers/ntm-follow.ts";
import { SSH_TEST_HOME, startSshd } from "../helpers/sshd.ts";

setDefaultTimeout(90_000); // real processes
const FX = join(import.meta.dir, "../fixtures/ntm");
/** An ntm whose attention wait answers at once, every time, with the same wake (an older ntm, or a wrapper that does not block). */
const ntmThatNeverBlocks = () =>
  createFakeMachine({
    tools: { ntm: { "--robot-snapshot": readFileSync(join(FX, "robot-snapshot.json"), "utf8"), "--robot-attention*": readFileSync(join(FX, "robot-attention.json"), "utf8") } },
  });

/** `vc up` and `vc watch` on one machine running the fake ntm (`ssh`: its target, else local); returns the wake-to-line time. */
async function followOnce(machine: { ssh: string; identity_file?: string; known_hosts?: string[] }, ntmDir: string, label: string): Promise<number> {
  const dir = tempDir("vc-follow-");
  const env = isolatedEnv(dir);
  const ntm = writeFollowNtm(ntmDir);
  const cfg = writeFollowConfig(dir, ntmDir, machine);

  const up = vcSpawn(["up", "--config", cfg], { env });
  try {
    const socket = join(dir, "vc.sock");
    await until("the daemon's socket", () => existsSync(socket));
    // The daemon's first cycle ran; then it follows: a wait from ntm's latest cursor is open.
    await until("the follow's wait", () => ntm.calls().some((c) => c.startsWith("--robot-attention --attention-cursor=117 ")));
    const w = vcSpawn(["watch", "--config", cfg], { env });
    try {
      const out = lineWaiter(w.stdout as ReadableStream<Uint8Array>);
      await out.next((l) => l.includes('"heartbeat"'));
      const polls = ntm.calls().filter((c) => c.startsWith("--robot-snapshot")).length;
      // claude in corpus-session-0 pane 0.1 stops working and waits for a person.
      const t0 = performance.now();
      ntm.setState(118, { "corpus-session-0:0.1": "waiting" });
      const line = await out.next((l) => l.includes('"type":"event"') && l.includes('"source":"attention"') && l.includes("corpus-session-0 pane 0.1"));
      const ms = performance.now() - t0;
      console.log(`  attention event on vc watch ${ms.toFixed(0)} ms after ntm's change (${label})`);
      expect(JSON.parse(line).event).toMatchObject({ source: "attention", machine_id: "here", title: "claude in corpus-session-0 pane 0.1 is waiting" });
      // It came from the follow, not a poll (an hour away): the triggered run read the snapshot again.
      expect(ntm.calls().filter((c) => c.startsWith("--robot-snapshot")).length).toBeGreaterThan(polls);
      // Handled: ntm says it works again; the attention view (through the daemon) no longer lists it.
      ntm.setState(119, { "corpus-session-0:0.1": "active" });
      // …and vc watch says the wait ended, with the key of the event that began it.
      const begun = JSON.parse(line).event.key as string;
      const ended = JSON.parse(await out.next((l) => l.includes('"type":"event_end"') && l.includes(begun)));
      expect(ended).toMatchObject({ type: "event_end", key: begun, event: { source: "attention", machine_id: "here" } });
      await until("the agent to leave the attention view", async () => {
        const r = await vc(["robot", "attention", "--config", cfg], { env });
        const agents = JSON.parse(r.stdout).data.agents as { session: string; pane: string }[];
        return !agents.some((a) => a.session === "corpus-session-0" && a.pane === "0.1");
      });
      return ms;
    } finally {
      w.kill("SIGINT");
      await w.exited;
    }
  } finally {
    up.kill("SIGTERM");
    await up.exited;
  }
}

describe("vc up follows ntm", () => {
  it("puts an agent that starts waiting on vc watch within seconds, with no poll, and drops it from attention once handled", async () => {
    await followOnce({ ssh: "local" }, join(tempDir("vc-follow-ntm-"), "ntm"), "local");
  });

  it("does the same over SSH: the wait is a channel of the machine's pooled connection", async () => {
    const sshd = await startSshd();
    const ntmDir = join(SSH_TEST_HOME, `ntm-follow-${process.pid}`);
    try {
      await followOnce({ ssh: `${sshd.user}@127.0.0.1:${sshd.port}`, identity_file: sshd.userKey, known_hosts: [sshd.knownHosts] }, ntmDir, "over SSH");
    } finally {
      await sshd.stop();
      rmSync(ntmDir, { recursive: true, force: true });
    }
  });
});

describe("the follows end with the daemon's loop", () => {
  it("returns from runDaemon after maxCycles while a follow waits (no signal needed)", async () => {
    const dir = tempDir("vc-follow-max-");
    const ntmDir = join(dir, "ntm");
    const ntm = writeFollowNtm(ntmDir);
    const cfg = writeFollowConfig(dir, ntmDir);
    await using c = await openCockpit({ file: cfg, env: isolatedEnv(dir) });
    const never = new AbortController().signal;
    // Two cycles a moment apart: the first makes the collector ready, the follow then opens its wait.
    c.config.polling.interval_seconds = 6;
    const n = await runDaemon(c, { signal: never, maxCycles: 2, socketPath: false });
    expect(n).toBe(2);
    expect(ntm.calls().some((x) => x.startsWith("--robot-attention --attention-cursor=117 "))).toBe(true);
  });
});

describe("a wait that does not block", () => {
  it("is asked less and less often: a quarter second, then doubling, not four times a second", async () => {
    const m = ntmThatNeverBlocks();
    try {
      const config = await resolveConfig({ machines: [{ id: "m", ssh: "local" }], collectors: [ntmAttention()] }, { source: "test", env: {} });
      const stop = new AbortController();
      const changes: number[] = [];
      const following = followSources({
        config,
        executorFor: () => m.exec,
        signal: stop.signal,
        ready: async () => true,
        onChange: () => changes.push(performance.now()),
      });
      await Bun.sleep(4000);
      stop.abort();
      await following;
      const waits = m.calls("ntm").filter((c) => c.startsWith("--robot-attention"));
      // At once, then after 0.25, 0.5, 1 and 2 s: five waits in four seconds (sixteen at a quarter second each).
      expect(waits.length).toBeGreaterThanOrEqual(3);
      expect(waits.length).toBeLessThanOrEqual(6);
      expect(changes.length).toBe(waits.length);
    } finally {
      m.close();
    }
  });
});

describe("wakes close together", () => {
  it("are collected in one cycle for the machines that woke, not a cycle (rules, health, alerts) per wake", async () => {
    const m = ntmThatNeverBlocks();
    const dir = tempDir("vc-follow-gather-");
    try {
      const config = await resolveConfig(
        { db: join(dir, "vc.duckdb"), data_dir: dir, machines: ["a", "b", "c", "d"].map((id) => ({ id, ssh: "local" })), collectors: [ntmAttention()] },
        { source: "test", env: {} },
      );
      await using c = await openCockpit({ config, executorFor: () => m.exec });
      await c.collect(); // the collector is ready on every machine: the follows open their waits
      const cycles: string[][] = [];
      c.subscribe((_outcome, report) => cycles.push(report.machines.map((x) => x.machine).sort()));
      const stop = new AbortController();
      const following = c.follow({ signal: stop.signal });
      await Bun.sleep(2500);
      stop.abort();
      await following;
      await c.collect({ machine: "a" }); // after the last follow cycle
      cycles.pop();
      const wakes = m.calls("ntm").filter((x) => x.includes("--attention-timeout=30s")).length;
      // Four machines wake at once, then again and again (this ntm does not block): about four wakes each.
      expect(wakes).toBeGreaterThanOrEqual(8);
      expect(cycles.length).toBeGreaterThanOrEqual(1);
      expect(cycles.length).toBeLessThan(wakes / 2);
      // The first wakes of the four machines came together: one cycle collected all four.
      expect(cycles).toContainEqual(["a", "b", "c", "d"]);
    } finally {
      m.close();
    }
  });
});
