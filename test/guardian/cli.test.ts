// The guardian from the command line, as a person uses it: a dry run that changes nothing, a run
// waiting for approval in `vc up`, approved through the daemon, the audit log, bad input, and two
// daemons on one store (one serves).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, startUp, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { makeTank, tankLog, writeTankConfig } from "./_tank.ts";

setDefaultTimeout(120_000);

const root = tempDir("vc-guardian-cli-");
const env = isolatedEnv(root, { USER: "dana" });

/** A config of one local machine with the tank plugin, in `dir`, in this autopilot mode. */
function setup(name: string, autopilot: string) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const tool = join(dir, "tool");
  const bin = makeTank(tool, 96);
  const cfg = writeTankConfig(dir, {
    bin,
    machines: ["here"],
    autopilot: autopilot.replaceAll("BIN", bin),
    db: join(dir, "data", "vc.duckdb"),
    dataDir: join(dir, "data"),
    extra: "\n  polling: { interval_seconds: 3600 },",
  });
  const run = (...args: string[]) => vc([...args, "--config", cfg], { env });
  return { dir, tool, bin, cfg, run };
}

describe("dry run", () => {
  const s = setup("dry", `{ mode: "execute-safe", safe_commands: { allow: ["BIN inspect"] } }`);
  test("shows every command with the gate's answer, and runs and writes nothing", async () => {
    expect((await s.run("collect", "--once")).code).toBe(0);
    const human = await s.run("guardian", "check", "--dry-run");
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("dry run: nothing runs, nothing is written");
    expect(human.stdout).toContain(`[here] ${s.bin} inspect`);
    expect(human.stdout).toContain(`✓ allowlisted by "${s.bin} inspect"`);
    expect(human.stdout).toContain(`[here] ${s.bin} drain 50`);
    expect(human.stdout).toContain("✗ no entry of autopilot.safe_commands.allow covers it");
    const json = JSON.parse((await s.run("guardian", "check", "--dry-run", "--json")).stdout);
    expect(json.items.map((i: { action: string; protocol: string }) => [i.protocol, i.action])).toEqual([["tank_drain", "planned"]]);
    expect(tankLog(s.tool)).toEqual([]);
    const runs = JSON.parse((await s.run("robot", "guardian")).stdout);
    expect(runs.data.runs).toEqual([]);
    expect(runs.data.protocols.map((p: { name: string; plugin: string }) => [p.name, p.plugin])).toContainEqual(["tank_drain", "tank"]);
  });
});

describe("approval through the daemon", () => {
  const s = setup("approval", `{ mode: "execute-with-approval" }`);
  let up: Awaited<ReturnType<typeof startUp>>;
  beforeAll(async () => {
    up = await startUp(["--config", s.cfg], { env, socket: join(s.dir, "data", "vc.sock") });
  });
  afterAll(async () => {
    up?.kill("SIGTERM");
    await up?.exited;
  });

  test("the daemon's check leaves a pending run; approved by a person, exactly its commands run; all of it is audited", async () => {
    let pending: { run_id: string; plan: { command?: string }[] }[] = [];
    for (const end = Date.now() + 30_000; pending.length === 0 && Date.now() < end; await Bun.sleep(200))
      pending = JSON.parse((await s.run("guardian", "pending", "--json")).stdout);
    expect(pending).toHaveLength(1);
    expect(pending[0]!.plan.filter((p) => p.command).map((p) => p.command)).toEqual([`${s.bin} inspect`, `${s.bin} drain 50`, `${s.bin} refill 96`]);
    expect(tankLog(s.tool)).toEqual([]);
    const human = await s.run("guardian", "pending");
    expect(human.stdout).toContain(`vc guardian approve ${pending[0]!.run_id}`);

    // A second daemon on the same store is refused: one serves, and one guardian runs.
    const second = await vc(["up", "--config", s.cfg], { env, timeoutMs: 30_000 });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/held|holds|serves|lock/i);

    const approved = await s.run("guardian", "approve", pending[0]!.run_id, "--json");
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ status: "verified", decided_by: "dana" });
    expect(tankLog(s.tool)).toEqual(["inspect", "drain 50"]);

    const again = await s.run("guardian", "approve", pending[0]!.run_id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`run ${pending[0]!.run_id} is verified by dana`);
    const unknown = await s.run("guardian", "deny", "g-00000000");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no guardian run "g-00000000"');

    const audit = JSON.parse((await s.run("audit", "--json")).stdout) as { event_type: string; actor: string; action: string; result: string }[];
    expect(
      audit
        .filter((a) => a.event_type !== "guardian_run")
        .map((a) => [a.event_type, a.actor, a.action, a.result])
        .reverse(),
    ).toEqual([
      ["user_command", "dana", `guardian approve ${pending[0]!.run_id}`, "ok"],
      ["autopilot_action", "autopilot (approved by dana)", `${s.bin} inspect`, "ok"],
      ["autopilot_action", "autopilot (approved by dana)", `${s.bin} drain 50`, "ok"],
    ]);
    const show = await s.run("guardian", "show", pending[0]!.run_id);
    expect(show.stdout).toContain("verified");
    expect(show.stdout).toContain("drain");
    expect(show.stdout).toContain("exit 0");
    const machine = await s.run("robot", "audit", "--machine", "nowhere");
    expect(machine.code).not.toBe(0);
    expect(JSON.parse(machine.stdout).error.message).toContain('no machine "nowhere"');
  });
});

describe("bad input", () => {
  test("an allowlist entry with a shell metacharacter is refused when the config loads, naming the entry", async () => {
    const s = setup("meta", `{ mode: "execute-safe", safe_commands: { allow: ["BIN drain 50; rm -rf ~"] } }`);
    const r = await s.run("guardian", "status");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("autopilot.safe_commands.allow[0]");
    expect(r.stderr).toContain('holds the shell metacharacter ";"');
  });

  test("--since that is neither a time nor a span", async () => {
    const s = setup("since", `{ mode: "suggest" }`);
    expect((await s.run("collect", "--once")).code).toBe(0);
    const r = await s.run("audit", "--since", "yesterday");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('since: "yesterday" is neither an ISO 8601 time');
  });
});
