// A replayed morning for the oracle (issue 14's check): two machines work on the claude account
// alice, a third claude account (bob) idles with headroom. The real caut, caam and ntm collectors
// read, every two minutes of a fixed clock, what the tools would print (the upstream fixtures with
// the usage, the active profile and the agent counts of that moment); each cycle's oracle step
// forecasts. Shared by the oracle's tests and the TUI's Oracle pane tests.
import { afterAll } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, openCockpit, resolveConfig, type Cockpit, type Collector, type CycleOutcome } from "../../lib/index.ts";
import { createFakeMachine, type FakeMachine } from "../../lib/testkit.ts";
import { caam, caut, ntm } from "../../plugins/index.ts";

const fx = (p: string) => JSON.parse(readFileSync(join(import.meta.dir, "../fixtures", p), "utf8"));
const usageFx = fx("caut/usage.json");
const limitsFx = fx("caam/limits.format-json.json") as Record<string, unknown>[];
const statusFx = fx("caam/status.json");
const ntmFx = fx("ntm/robot-status.json");

export const START = Date.parse("2026-11-03T08:00:00Z");
/** alice's 5-hour window resets long after her limit. */
export const RESET = "2026-11-03T12:30:00Z";
export const BOB_RESET = "2026-11-03T10:00:00Z";
export const STEP_MS = 2 * 60_000;
/** Points per agent-minute. */
export const PER_AGENT = 0.1;
/** Agents working on alice: m1 3, m2 1 then 2 from minute 30. */
export const agentsAt = (machine: string, min: number) => (machine === "m1" ? 3 : min < 30 ? 1 : 2);

type State = { alice: number; bob: number };

function cautUsage(at: Date, s: State) {
  const claude = usageFx.data.find((d: { provider: string }) => d.provider === "claude");
  const one = (account: string, used: number, resetsAt: string) => ({
    ...claude,
    account,
    usage: {
      ...claude.usage,
      primary: { usedPercent: Math.round(used * 10) / 10, windowMinutes: 300, resetsAt },
      secondary: { usedPercent: 20, windowMinutes: 10080, resetsAt: "2026-11-08T07:00:00Z" },
      tertiary: undefined,
      updatedAt: at.toISOString(),
      identity: { accountEmail: account, loginMethod: "oauth" },
    },
  });
  return { ...usageFx, generatedAt: at.toISOString(), data: [one("alice@fleet.dev", s.alice, RESET)] };
}

function caamLimits(at: Date, s: State) {
  const claude = limitsFx.find((p) => p.provider === "claude")!;
  const usage = claude.usage as Record<string, unknown>;
  const profile = (name: string, used: number, resetsAt: string) => ({
    ...claude,
    profile_name: name,
    usage: {
      ...usage,
      profile_name: name,
      primary_window: { utilization: used / 100, used_percent: Math.floor(used), resets_at: resetsAt, window_duration: 18_000_000_000_000 },
      secondary_window: { utilization: 0.2, used_percent: 20, resets_at: "2026-11-08T07:00:00Z", window_duration: 604_800_000_000_000 },
      fetched_at: at.toISOString(),
    },
  });
  return [profile("alice@fleet.dev", s.alice, RESET), profile("bob@fleet.dev", s.bob, BOB_RESET)];
}

function caamStatus() {
  const claude = statusFx.tools.find((t: { tool: string }) => t.tool === "claude");
  return {
    ...statusFx,
    tools: [{ ...claude, active_profile: "alice@fleet.dev", identity: { ...claude.identity, email: "alice@fleet.dev" } }],
    warnings: undefined,
    recommendations: undefined,
  };
}

function ntmStatus(at: Date, working: number) {
  return {
    ...ntmFx,
    timestamp: at.toISOString(),
    generated_at: at.toISOString(),
    summary: {
      ...ntmFx.summary,
      total_agents: working,
      claude_count: working,
      codex_count: 0,
      gemini_count: 0,
      agents_by_type: { claude: working },
      agents_by_state: { active: working },
    },
  };
}

/** A fake machine whose caut, caam and ntm print what `write` last put under its HOME. */
function replayMachine(id: string): FakeMachine & { write(at: Date, s: State, working: number): void } {
  const m = createFakeMachine({ id, systemPath: true });
  const tool = (name: string, cases: Record<string, string>) => {
    const arms = Object.entries(cases).map(([args, file]) => `  "${args}") cat "$HOME/replay/${file}" ;;`);
    writeFileSync(
      join(m.bin, name),
      `#!/bin/sh\ncase "$*" in\n${arms.join("\n")}\n  --version) echo "${name} 0.0.0-replay" ;;\n  *) echo "replay ${name}: no answer for $*" >&2; exit 64 ;;\nesac\n`,
    );
    chmodSync(join(m.bin, name), 0o755);
  };
  tool("caut", { "usage --json": "caut.json" });
  tool("caam", { "limits --format json": "limits.json", "status --json": "status.json" });
  tool("ntm", { "--robot-status": "ntm.json", "list --json": "ntm-list.json" });
  mkdirSync(join(m.home, "replay"), { recursive: true });
  return Object.assign(m, {
    write(at: Date, s: State, working: number) {
      const put = (f: string, v: unknown) => writeFileSync(join(m.home, "replay", f), JSON.stringify(v));
      put("caut.json", cautUsage(at, s));
      put("limits.json", caamLimits(at, s));
      put("status.json", caamStatus());
      put("ntm.json", ntmStatus(at, working));
      put("ntm-list.json", { sessions: [] });
    },
  });
}

export interface ReplayOptions {
  collectors?: Collector[];
  /** Agents working on alice per machine at a minute (default `agentsAt`). */
  agents?: (machine: string, min: number) => number;
  each?: (vc: Cockpit, min: number, outcome: CycleOutcome) => Promise<void>;
}

/** Replays the morning's first `minutes` into a new store under the dir; the cockpit is left open at the last cycle's clock. */
export type Replay = (minutes: number, o?: ReplayOptions) => Promise<Cockpit>;

/**
 * The replay's two machines (m1, m2, closed after the file's tests) and a `replay` writing each
 * run's store under `dir` (a `tempDir`).
 * @example const replay = oracleReplay(tempDir("vc-oracle-")); await using vc = await replay(70);
 */
export function oracleReplay(dir: string): Replay {
  const machines = { m1: replayMachine("m1"), m2: replayMachine("m2") };
  afterAll(() => {
    for (const m of Object.values(machines)) m.close();
  });
  let runs = 0;
  return async (minutes, o = {}) => {
    const agents = o.agents ?? agentsAt;
    const config = await resolveConfig(
      {
        db: join(dir, `replay-${++runs}.duckdb`),
        machines: [
          { id: "m1", ssh: "local" },
          { id: "m2", ssh: "local" },
        ],
        collectors: o.collectors ?? [caut({ history: false }), caam(), ntm()],
      },
      { source: "test" },
    );
    const clock = createFixedClock(START);
    const vc = await openCockpit({ config, clock, executorFor: (m) => machines[m.id as "m1" | "m2"].exec });
    const s: State = { alice: 40, bob: 15 };
    for (let min = 0; min <= minutes; min += STEP_MS / 60_000) {
      const at = new Date(START + min * 60_000);
      clock.set(at);
      for (const [id, m] of Object.entries(machines)) m.write(at, s, agents(id, min));
      const r = await vc.collect();
      await o.each?.(vc, min, r.outcome);
      const working = agents("m1", min) + agents("m2", min);
      s.alice = Math.min(100, s.alice + working * PER_AGENT * 2);
      s.bob += 0.05;
    }
    return vc;
  };
}
