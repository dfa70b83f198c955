// The plugins' questions on real collected data: accounts and the oracle on a replayed morning
// (test/helpers/oracle-replay.ts: alice burns toward her limit, bob has headroom), and agents from
// ntm's attention feed collected from ntm's own outputs (test/fixtures/ntm).
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ask, createFixedClock, openCockpit, resolveConfig, type Cockpit } from "../../lib/index.ts";
import { ntmAttention } from "../../plugins/index.ts";
import { oracleReplay } from "../helpers/oracle-replay.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000);

const dir = tempDir("vc-ask-plugins-");
const replay = oracleReplay(dir);

describe("accounts on a replayed morning", () => {
  let vc: Cockpit;
  beforeAll(async () => {
    vc = await replay(70);
  });
  afterAll(async () => {
    await vc?.close();
  });
  it("when does alice hit her limit: the time with its interval, the action and the swap command", async () => {
    const r = await ask(vc, "when does alice hit her limit?");
    expect(r.intent).toBe("account_limit");
    expect(r.entities.account).toEqual({ kind: "account", value: "alice@fleet.dev", typed: "alice", how: "alias" });
    expect(r.views).toEqual(["accounts", "oracle"]);
    expect(r.text).toMatch(
      /^claude\/alice@fleet\.dev reaches its primary limit in ~\d+ min \(\d+–\d+ min\), at 2026-11-03 \d\d:\d\d UTC, before the window resets at 2026-11-03 12:30 UTC\. The oracle says slow down, or move to bob@fleet\.dev \(\d+ % headroom\)\./,
    );
    const primary = r.facts[0]!;
    expect(primary).toEqual({
      label: "claude/alice@fleet.dev primary",
      value: expect.stringMatching(
        /^7\d % used; limit in ~\d+ min \(\d+–\d+ min\), at 2026-11-03 \d\d:\d\d UTC; resets 2026-11-03 12:30 UTC; burn [\d.]+ points\/h \(confidence \w+\)$/,
      ),
      recommendation: expect.stringContaining("slow to"),
      command: "caam activate claude bob@fleet.dev",
    });
    // Misspelled, it is still alice.
    expect((await ask(vc, "when does alise hit the limit")).entities.account).toMatchObject({ value: "alice@fleet.dev", how: "fuzzy" });
  });

  it("which account should I use next: bob, with the command, and alice's forecast", async () => {
    const r = await ask(vc, "which account should I use next?");
    expect(r.intent).toBe("account_next");
    expect(r.text).toMatch(
      /^claude\/alice@fleet\.dev reaches its limit in \d+ min.*\(caam activate claude bob@fleet\.dev\)\. Per provider, the account with the most headroom: bob@fleet\.dev for claude \(80 % headroom\)\.\n/,
    );
    expect(r.facts[0]).toEqual({
      label: "claude: use bob@fleet.dev",
      value: expect.stringMatching(/^80 % headroom in its fullest window/),
      recommendation: "switch to it (caam profile bob@fleet.dev) on the machines that use claude",
      command: "caam activate claude bob@fleet.dev",
    });
    expect(r.facts[1]).toMatchObject({ label: "claude/alice@fleet.dev primary", command: "caam activate claude bob@fleet.dev" });
  });

  it("how long until my claude account runs out: the provider's windows on course to the limit", async () => {
    const r = await ask(vc, "how long until my claude account runs out?");
    expect(r.intent).toBe("account_limit");
    expect(r.entities).toEqual({ provider: { kind: "provider", value: "claude", typed: "claude", how: "value" } });
    expect(r.text.split("\n")[0]).toBe("1 claude account window is on course to hit the limit before the reset, soonest first:");
    expect(r.facts.map((f) => f.label)).toEqual(["claude/alice@fleet.dev primary"]);
  });

  it("why is m1 slow: its factors, then the oracle's part (the account it burns)", async () => {
    const r = await ask(vc, "why is m1 slow?");
    expect(r.intent).toBe("machine_health");
    expect(r.facts[0]).toMatchObject({ label: "no data (critical)", command: "vc collect --once --machine m1" });
    expect(r.text).toContain("The oracle's forecasts for m1:");
    expect(r.facts).toContainEqual(expect.objectContaining({ label: "account claude/alice@fleet.dev (primary)", command: "caam activate claude bob@fleet.dev" }));
  });
});

describe("agents from ntm's attention feed", () => {
  const FX = join(import.meta.dir, "../fixtures/ntm");
  let vc: Cockpit;
  beforeAll(async () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(
      join(bin, "ntm"),
      `#!/bin/sh
case "$*" in
  --robot-snapshot*) cat '${join(FX, "robot-snapshot.json")}' ;;
  --robot-attention*) cat '${join(FX, "robot-attention.json")}' ;;
  "--robot-events --since-cursor=117 "*) cat '${join(FX, "robot-events.json")}' ;;
  --robot-events*) echo '{"success":true,"timestamp":"2026-08-16T12:02:00Z","events":[],"next_cursor":123,"has_more":false}' ;;
  *) echo "Error: unknown flag: $1" >&2; exit 1 ;;
esac
`,
    );
    chmodSync(join(bin, "ntm"), 0o755);
    const config = await resolveConfig(
      { db: join(dir, "ntm.duckdb"), machines: [{ id: "here", ssh: "local" }], collectors: [ntmAttention({ bin: join(bin, "ntm") })] },
      { source: "test" },
    );
    vc = await openCockpit({ config, clock: createFixedClock(new Date("2026-08-16T12:20:00Z")) });
    await vc.collect();
  });
  afterAll(async () => {
    await vc?.close();
  });
  const attach = (session: string, pane: string) => `tmux attach -t ${session} \\; select-pane -t ${session}:${pane}`;

  it("which agents look stuck: each agent with its state, how long, why, ntm's next action and the command to attach", async () => {
    const r = await ask(vc, "which agents look stuck?");
    expect(r.intent).toBe("agents_stuck");
    expect(r.views).toEqual(["attention"]); // no oracle in this config: the attention view alone
    expect(r.text.split("\n")[0]).toBe("4 agents need a look: 4 wait for a person. Riskiest first:");
    expect(r.facts[0]).toEqual({
      label: "here corpus-session-1 pane 0.2 (gemini)",
      value: "waiting, waiting 20 min: agent corpus-session-1:2 stalled for 240s",
      recommendation: "robot-context (Inspect context pressure for the stalled agent)",
      command: attach("corpus-session-1", "0.2"),
    });
    expect(r.facts[1]).toMatchObject({
      label: "here corpus-session-1 pane 0.4 (claude)",
      value: expect.stringMatching(/^error, waiting 20 min: /),
      command: attach("corpus-session-1", "0.4"),
    });
  });

  it("what needs me now: triage's items, then ntm's waiting agents", async () => {
    const r = await ask(vc, "what needs me now?");
    expect(r.intent).toBe("needs_me");
    expect(r.views).toEqual(["triage", "attention"]);
    expect(r.text).toContain("4 agents wait for a person, longest and most blocking first:");
    expect(r.facts.filter((f) => f.command?.startsWith("tmux attach")).length).toBe(4);
  });

  it("why is here slow: a machine named like a common word is that machine, and its agents are part of the answer", async () => {
    const r = await ask(vc, "why is here slow?");
    expect(r.entities.machine).toMatchObject({ value: "here", how: "exact" });
    expect(r.text).toContain("Agents on here that need a look:");
    expect(r.facts).toContainEqual(expect.objectContaining({ label: "here corpus-session-1 pane 0.4 (claude)", command: attach("corpus-session-1", "0.4") }));
  });
});
