// Fleet commands (issue 18.5): the argv of each operation exactly as ntm parses it, the checks on
// what a person typed, and runFleet through a real cockpit (a real DuckDB, the gate, the audit
// log) whose machines run a fake ntm that records its argv and answers with ntm's JSON.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, createLocalExecutor, isVcError, openCockpit, resolveConfig, type Cockpit } from "../../lib/index.ts";
import { checkSession, fleetArgv, listedSessions, parseCount, runFleet, type FleetRequest } from "../../plugins/ntm/fleet.ts";
import { writeFakeNtm } from "../helpers/fake-ntm.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-fleet-");
const ntm = writeFakeNtm(dir);
const env = { HOME: dir, USER: "t", PATH: `${ntm.bin}:/usr/bin:/bin` };

/** The VcError a call throws: its code and message. */
function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (err) {
    if (isVcError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("did not throw");
}

describe("the argv of each fleet operation", () => {
  it("is the ntm command line as ntm's cobra definitions take it", () => {
    expect(fleetArgv({ op: "spawn", session: "proj", counts: { cc: 2, cod: 1 }, prompt: "read AGENTS.md" })).toEqual([
      "ntm",
      "spawn",
      "proj",
      "--cc=2",
      "--cod=1",
      "--prompt=read AGENTS.md",
      "--safety",
      "--json",
    ]);
    expect(fleetArgv({ op: "spawn", session: "proj", counts: { gmi: 1, agy: 3 } })).toEqual(["ntm", "spawn", "proj", "--gmi=1", "--agy=3", "--safety", "--json"]);
    // A prompt after `--`, so one starting with - is the prompt and not a flag.
    expect(fleetArgv({ op: "send", session: "proj", prompt: "-v is verbose; fix it" })).toEqual([
      "ntm",
      "send",
      "proj",
      "--no-cass-check",
      "--json",
      "--",
      "-v is verbose; fix it",
    ]);
    expect(fleetArgv({ op: "send", session: "proj", prompt: "go", types: ["cc", "cod", "cc"] })).toEqual([
      "ntm",
      "send",
      "proj",
      "--cc",
      "--cod",
      "--no-cass-check",
      "--json",
      "--",
      "go",
    ]);
    expect(fleetArgv({ op: "send", session: "proj", prompt: "go", pane: "1.2" })).toEqual(["ntm", "send", "proj", "--pane=1.2", "--no-cass-check", "--json", "--", "go"]);
    expect(fleetArgv({ op: "send", session: "proj", prompt: "go", all: true })).toEqual(["ntm", "send", "proj", "--all", "--no-cass-check", "--json", "--", "go"]);
    expect(fleetArgv({ op: "interrupt", session: "mail-rust" })).toEqual(["ntm", "interrupt", "mail-rust", "--json"]);
    expect(fleetArgv({ op: "stop", session: "proj" })).toEqual(["ntm", "kill", "proj", "--force", "--json"]);
    expect(fleetArgv({ op: "stop", session: "proj", pane: "2,%7" })).toEqual(["ntm", "kill", "proj", "--pane=2,%7", "--force", "--json"]);
    expect(fleetArgv({ op: "rebalance", session: "proj" })).toEqual(["ntm", "rebalance", "proj", "--apply", "--json"]);
    expect(fleetArgv({ op: "rebalance", session: "proj", filter: "cc", threshold: 0.5 })).toEqual([
      "ntm",
      "rebalance",
      "proj",
      "--apply",
      "--filter=cc",
      "--threshold=0.5",
      "--json",
    ]);
  });

  it("refuses what ntm would refuse or misread: a bad session name, a count that is not a positive whole number, a bad pane, a multi-line prompt", () => {
    for (const s of ["", "-rf", "a.b", "a:b", "a b", "x;y"]) expect(thrown(() => checkSession(s)).code).toBe("invalid_argument");
    for (const n of ["0", "-1", "1.5", "two", "", "1e3"])
      expect(thrown(() => parseCount("cc", n))).toEqual({ code: "invalid_argument", message: `--cc: expected a positive whole number of agents, got "${n}"` });
    expect(parseCount("cod", "12")).toBe(12);
    const cases: [FleetRequest & { op: Exclude<FleetRequest["op"], "emergency-stop"> }, string][] = [
      [{ op: "spawn", session: "proj", counts: {} }, "spawn needs at least one agent count: --cc, --cod, --gmi or --agy"],
      [{ op: "spawn", session: "proj", counts: { cc: 0 } }, "--cc: expected a positive whole number of agents, got 0"],
      [{ op: "spawn", session: "proj--x", counts: { cc: 1 } }, 'session "proj--x": ntm reserves -- in a new session\'s name for labels'],
      [{ op: "send", session: "proj", prompt: "line one\nline two" }, "the prompt: the prompt must be one line without control characters"],
      [{ op: "send", session: "proj", prompt: "  " }, "the prompt: the prompt is empty"],
      [{ op: "send", session: "proj", prompt: "go", pane: "first" }, '--pane: expected a pane selector N, W.P or %N, got "first"'],
      [{ op: "send", session: "proj", prompt: "go", pane: "1", all: true }, "--pane picks one pane: it cannot be combined with --type or --all"],
      [{ op: "send", session: "proj", prompt: "go", all: true, types: ["cc"] }, "--all sends to every agent pane: it cannot be combined with --type"],
      [
        { op: "rebalance", session: "proj", filter: "gpt" },
        '--filter: expected one of claude, cc, codex, cod, gemini, gmi, antigravity, agy, cursor, windsurf, ws, aider, ollama, got "gpt"',
      ],
      [{ op: "rebalance", session: "proj", threshold: -1 }, "--threshold: expected a number ≥ 0, got -1"],
    ];
    for (const [req, message] of cases) expect(thrown(() => fleetArgv(req))).toEqual({ code: "invalid_argument", message });
  });

  it("migrate is not_implemented and says what ntm has and what it would need", () => {
    const e = thrown(() => fleetArgv({ op: "migrate", session: "proj", to: "zeus" }, "orko"));
    expect(e.code).toBe("not_implemented");
    expect(e.message).toContain("ntm cannot move session proj from orko to zeus");
    expect(e.message).toContain("ntm checkpoint save|export");
    expect(e.message).toContain("ntm would need a command that exports a session to another host and resumes its agents there");
  });

  it("reads the sessions of ntm list --json (test/fixtures/ntm/list.json)", () => {
    const raw = JSON.parse(readFileSync(join(import.meta.dir, "../fixtures/ntm/list.json"), "utf8"));
    expect(listedSessions(raw)).toEqual({
      sessions: [
        { name: "frankentui", agents: 4 },
        { name: "mail-rust", agents: 3 },
        { name: "vibe_cockpit", agents: 5 },
      ],
      more: false,
    });
    expect(listedSessions({ success: false, error: "tmux not running" })).toBeNull();
    expect(listedSessions(null)).toBeNull();
  });
});

describe("runFleet through a cockpit", () => {
  let vc: Cockpit;
  let started = 0;
  const T0 = new Date("2026-08-20T15:20:00Z");

  beforeAll(async () => {
    const config = await resolveConfig(
      {
        db: join(dir, "vc.duckdb"),
        data_dir: dir,
        machines: [
          { id: "orko", ssh: "local", allow_write_commands: true },
          { id: "locked", ssh: "local" },
        ],
        collectors: [],
      },
      { source: "test", env },
    );
    vc = await openCockpit({
      config,
      clock: createFixedClock(T0),
      env,
      executorFor: (m) => {
        started++;
        return createLocalExecutor({ machineId: m.id, home: dir, env });
      },
    });
  });
  afterAll(async () => {
    await vc?.close();
  });

  const audit = () =>
    vc.store.query<{ actor: string; machine_id: string; action: string; result: string; error: string | null; purpose: string; session: string | null }>(
      "SELECT actor, machine_id, action, result, error, details_json->>'purpose' AS purpose, details_json->>'session' AS session FROM audit_events WHERE event_type = 'user_command' ORDER BY action",
    );

  it("a dry run reaches no executor and audits nothing", async () => {
    ntm.reset();
    const r = await runFleet(vc, { op: "emergency-stop" }, { machines: ["orko", "locked"], by: "alice", dryRun: true });
    expect(r.ok).toBe(true);
    expect(r.machines.map((m) => [m.machine, m.steps.map((s) => [s.status, s.command])])).toEqual([
      [
        "orko",
        [
          ["planned", "ntm list --json"],
          ["planned", "ntm interrupt <session> --json"],
        ],
      ],
      [
        "locked",
        [
          ["planned", "ntm list --json"],
          ["planned", "ntm interrupt <session> --json"],
        ],
      ],
    ]);
    const send = await runFleet(vc, { op: "send", session: "proj", prompt: "go" }, { machines: ["orko"], by: "alice", dryRun: true });
    expect(send.machines[0]!.steps[0]).toMatchObject({ status: "planned", ran: false, argv: ["ntm", "send", "proj", "--no-cass-check", "--json", "--", "go"], audit_id: null });
    expect(started).toBe(0);
    expect(ntm.calls()).toEqual([]);
    expect(await audit()).toEqual([]);
  });

  it("emergency-stop lists the sessions and stops each one with agents, audited as the person's commands", async () => {
    ntm.reset();
    const r = await runFleet(vc, { op: "emergency-stop", kill: true }, { machines: ["orko"], by: "alice" });
    expect(ntm.calls()).toEqual([
      ["list", "--json"],
      ["kill", "frankentui", "--force", "--json"],
      ["kill", "mail-rust", "--force", "--json"],
      ["kill", "vibe_cockpit", "--force", "--json"],
    ]);
    expect(r.ok).toBe(true);
    expect(r.machines[0]!.steps.map((s) => [s.session, s.status, s.summary])).toEqual([
      [null, "ok", "3 session(s)"],
      ["frankentui", "ok", "killed"],
      ["mail-rust", "ok", "killed"],
      ["vibe_cockpit", "ok", "killed"],
    ]);
    expect(await audit()).toEqual([
      { actor: "alice", machine_id: "orko", action: "ntm kill frankentui --force --json", result: "ok", error: null, purpose: "fleet emergency-stop", session: "frankentui" },
      { actor: "alice", machine_id: "orko", action: "ntm kill mail-rust --force --json", result: "ok", error: null, purpose: "fleet emergency-stop", session: "mail-rust" },
      { actor: "alice", machine_id: "orko", action: "ntm kill vibe_cockpit --force --json", result: "ok", error: null, purpose: "fleet emergency-stop", session: "vibe_cockpit" },
      { actor: "alice", machine_id: "orko", action: "ntm list --json", result: "ok", error: null, purpose: "fleet emergency-stop (list sessions)", session: null },
    ]);
  });

  it("on a machine that does not allow write commands every stop is refused, recorded, and never reaches ntm", async () => {
    ntm.reset();
    const r = await runFleet(vc, { op: "interrupt", session: "vibe_cockpit" }, { machines: ["locked"], by: "bob" });
    expect(ntm.calls()).toEqual([]);
    expect(r.ok).toBe(false);
    expect(r.machines[0]!.steps[0]).toMatchObject({
      status: "refused",
      ran: false,
      refused: "writes_not_allowed",
      error: "locked does not allow write commands (allow_write_commands: false)",
    });
    const rows = (await audit()).filter((a) => a.actor === "bob");
    expect(rows).toEqual([
      {
        actor: "bob",
        machine_id: "locked",
        action: "ntm interrupt vibe_cockpit --json",
        result: "refused",
        error: "locked does not allow write commands (allow_write_commands: false)",
        purpose: "fleet interrupt",
        session: "vibe_cockpit",
      },
    ]);
  });

  it("a failed ntm command is failed with ntm's words: its stderr, or its JSON error when stderr says nothing", async () => {
    ntm.reset();
    const gone = await runFleet(vc, { op: "stop", session: "gone" }, { machines: ["orko"], by: "alice" });
    expect(gone.ok).toBe(false);
    expect(gone.machines[0]!.steps[0]).toMatchObject({ status: "failed", ran: true, exit_code: 1, error: "exit 1: Error: session 'gone' not found" });
    const half = await runFleet(vc, { op: "interrupt", session: "halfway" }, { machines: ["orko"], by: "alice" });
    expect(half.machines[0]!.steps[0]).toMatchObject({
      status: "failed",
      exit_code: 1,
      error: "exit 1; ntm: interrupt partially failed: 1 pane(s) interrupted, 1 failed (PARTIAL_INTERRUPT)",
    });
    expect(ntm.calls()).toEqual([
      ["kill", "gone", "--force", "--json"],
      ["interrupt", "halfway", "--json"],
    ]);
    const rows = await vc.store.query<{ action: string; result: string }>(
      "SELECT action, result FROM audit_events WHERE action IN ('ntm kill gone --force --json', 'ntm interrupt halfway --json') ORDER BY action",
    );
    expect(rows).toEqual([
      { action: "ntm interrupt halfway --json", result: "failed" },
      { action: "ntm kill gone --force --json", result: "failed" },
    ]);
  });

  it("an unknown machine and migrate stop before anything runs", async () => {
    ntm.reset();
    await expect(runFleet(vc, { op: "interrupt", session: "proj" }, { machines: ["nowhere"], by: "alice" })).rejects.toMatchObject({
      code: "unknown_machine",
      message: 'no machine "nowhere" in the config',
    });
    await expect(runFleet(vc, { op: "migrate", session: "proj", to: "locked" }, { machines: ["orko"], by: "alice" })).rejects.toMatchObject({ code: "not_implemented" });
    expect(ntm.calls()).toEqual([]);
  });
});
