// `vc fleet` (issue 18.5) as a person runs it: the real CLI in its own process, a config with a
// machine that allows write commands and one that does not, a fake ntm on PATH recording the exact
// argv it receives; the audit log read back from the store; and one run through `vc up`.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, startUp, vc } from "../helpers/cli.ts";
import { writeFakeNtm } from "../helpers/fake-ntm.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000);

const dir = tempDir("vc-fleet-cli-");
const ntm = writeFakeNtm(dir);
const env = isolatedEnv(dir, { PATH: `${ntm.bin}:${process.env.PATH}`, USER: "carol" });
const cfg = join(dir, "vc.config.ts");
writeFileSync(
  cfg,
  `import { defineConfig } from "vibe-cockpit";
export default defineConfig({
  db: ${JSON.stringify(join(dir, "data", "vc.duckdb"))},
  data_dir: ${JSON.stringify(join(dir, "data"))},
  polling: { interval_seconds: 3600 },
  machines: [{ id: "orko", ssh: "local", allow_write_commands: true }, { id: "locked", ssh: "local" }],
  collectors: [],
});
`,
);

const fleet = (...args: string[]) => vc(["fleet", ...args, "--config", cfg], { env });

interface AuditRow {
  actor: string;
  machine_id: string;
  action: string;
  result: string;
  purpose: string;
}
/** The user_command rows of the audit log, oldest first. */
async function audit(): Promise<AuditRow[]> {
  const r = await vc(
    [
      "query",
      "SELECT actor, machine_id, action, result, details_json->>'purpose' AS purpose FROM audit_events WHERE event_type = 'user_command' ORDER BY ts, action",
      "--format",
      "json",
      "--config",
      cfg,
    ],
    { env },
  );
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

describe("vc fleet without a daemon", () => {
  it("each operation runs the exact ntm command on the machine and is audited as the person's command", async () => {
    ntm.reset();
    const send = await fleet("send", "vibe_cockpit", "fix the failing test; then run it", "--machine", "orko", "--type", "cc,cod", "--by", "alice", "--json");
    expect({ code: send.code, stderr: send.stderr }).toEqual({ code: 0, stderr: "" });
    const r = JSON.parse(send.stdout);
    expect(r).toMatchObject({ op: "send", by: "alice", dry_run: false, ok: true });
    expect(r.machines).toHaveLength(1);
    expect(r.machines[0]).toMatchObject({ machine: "orko", ok: true, warnings: [] });
    expect(r.machines[0].steps[0]).toMatchObject({
      session: "vibe_cockpit",
      status: "ok",
      ran: true,
      exit_code: 0,
      summary: "delivered to 3 pane(s)",
      output: { session: "vibe_cockpit", delivered: 3, failed: 0 },
    });
    expect(r.machines[0].steps[0].audit_id).toMatch(/\S/);

    for (const args of [
      ["spawn", "newproj", "--machine", "orko", "--cc", "2", "--cod", "1", "--prompt", "read AGENTS.md first"],
      ["interrupt", "mail-rust", "--machine", "orko"],
      ["stop", "frankentui", "--machine", "orko", "--pane", "2,%7"],
      ["rebalance", "vibe_cockpit", "--machine", "orko", "--filter", "cc", "--threshold", "0.5"],
    ]) {
      const out = await fleet(...args);
      expect({ args, code: out.code, stderr: out.stderr }).toEqual({ args, code: 0, stderr: "" });
    }
    expect(ntm.calls()).toEqual([
      ["send", "vibe_cockpit", "--cc", "--cod", "--no-cass-check", "--json", "--", "fix the failing test; then run it"],
      ["spawn", "newproj", "--cc=2", "--cod=1", "--prompt=read AGENTS.md first", "--safety", "--json"],
      ["interrupt", "mail-rust", "--json"],
      ["kill", "frankentui", "--pane=2,%7", "--force", "--json"],
      ["rebalance", "vibe_cockpit", "--apply", "--filter=cc", "--threshold=0.5", "--json"],
    ]);
    expect(await audit()).toEqual([
      {
        actor: "alice",
        machine_id: "orko",
        action: "ntm send vibe_cockpit --cc --cod --no-cass-check --json -- 'fix the failing test; then run it'",
        result: "ok",
        purpose: "fleet send",
      },
      { actor: "carol", machine_id: "orko", action: "ntm spawn newproj --cc=2 --cod=1 '--prompt=read AGENTS.md first' --safety --json", result: "ok", purpose: "fleet spawn" },
      { actor: "carol", machine_id: "orko", action: "ntm interrupt mail-rust --json", result: "ok", purpose: "fleet interrupt" },
      { actor: "carol", machine_id: "orko", action: "ntm kill frankentui --pane=2,%7 --force --json", result: "ok", purpose: "fleet stop" },
      { actor: "carol", machine_id: "orko", action: "ntm rebalance vibe_cockpit --apply --filter=cc --threshold=0.5 --json", result: "ok", purpose: "fleet rebalance" },
    ]);
  });

  it("prints a table for a person", async () => {
    const out = await fleet("interrupt", "mail-rust", "--machine", "orko");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/machine\s+session\s+command\s+result\s+detail/);
    expect(out.stdout).toMatch(/orko\s+mail-rust\s+ntm interrupt mail-rust --json\s+ok\s+interrupted 3 pane\(s\)/);
  });

  it("refuses on a machine that does not allow write commands: exit 1 with the reason, recorded, ntm never called", async () => {
    ntm.reset();
    const before = (await audit()).length;
    const out = await fleet("send", "vibe_cockpit", "hello", "--machine", "locked", "--json");
    expect(out.code).toBe(1);
    expect(out.stderr).toBe("vc fleet send: locked vibe_cockpit: refused: locked does not allow write commands (allow_write_commands: false)\n");
    expect(JSON.parse(out.stdout).machines[0].steps[0]).toMatchObject({ status: "refused", refused: "writes_not_allowed", ran: false });
    expect(ntm.calls()).toEqual([]);
    expect((await audit()).slice(before)).toEqual([
      { actor: "carol", machine_id: "locked", action: "ntm send vibe_cockpit --no-cass-check --json -- hello", result: "refused", purpose: "fleet send" },
    ]);
  });

  it("a failed ntm command exits 1 with ntm's stderr", async () => {
    const out = await fleet("stop", "gone", "--machine", "orko");
    expect(out.code).toBe(1);
    expect(out.stderr).toBe("vc fleet stop: orko gone: failed: exit 1: Error: session 'gone' not found\n");
    expect(out.stdout).toMatch(/orko\s+gone\s+ntm kill gone --force --json\s+failed\s+exit 1: Error: session 'gone' not found/);
    expect((await audit()).at(-1)).toEqual({ actor: "carol", machine_id: "orko", action: "ntm kill gone --force --json", result: "failed", purpose: "fleet stop" });
  });

  it("migrate exits 1 with not_implemented, saying what ntm would need; nothing runs or is recorded", async () => {
    ntm.reset();
    const before = (await audit()).length;
    for (const extra of [[], ["--dry-run"]]) {
      const out = await fleet("migrate", "vibe_cockpit", "--machine", "orko", "--to", "locked", ...extra);
      expect(out.code).toBe(1);
      expect(out.stdout).toBe("");
      expect(out.stderr).toContain("vc fleet migrate: ntm cannot move session vibe_cockpit from orko to locked. ntm has no migrate operation");
      expect(out.stderr).toContain("ntm would need a command that exports a session to another host and resumes its agents there");
      expect(out.stderr).toContain("hint: by hand: ntm checkpoint save vibe_cockpit");
    }
    expect(ntm.calls()).toEqual([]);
    expect(await audit()).toHaveLength(before);
  });

  it("--dry-run prints the exact argv per machine and runs nothing, audits nothing", async () => {
    ntm.reset();
    const before = (await audit()).length;
    const spawn = await fleet("spawn", "newproj", "--machine", "orko", "--cc", "3", "--dry-run", "--json");
    expect(spawn.code).toBe(0);
    expect(JSON.parse(spawn.stdout)).toMatchObject({
      dry_run: true,
      ok: true,
      machines: [{ machine: "orko", steps: [{ status: "planned", ran: false, argv: ["ntm", "spawn", "newproj", "--cc=3", "--safety", "--json"], audit_id: null }] }],
    });
    const stop = await fleet("emergency-stop", "--all", "--kill", "--dry-run");
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/orko\s+—\s+ntm list --json\s+planned/);
    expect(stop.stdout).toMatch(/locked\s+<session>\s+ntm kill <session> --force --json\s+planned\s+once for each session ntm list reports with agents/);
    expect(stop.stdout).toContain("dry run: nothing ran");
    // The machine that does not allow writes gets the same plan: a dry run asks no gate.
    const locked = await fleet("stop", "proj", "--machine", "locked", "--dry-run", "--json");
    expect(JSON.parse(locked.stdout).machines[0].steps[0]).toMatchObject({ status: "planned", command: "ntm kill proj --force --json" });
    expect(ntm.calls()).toEqual([]);
    expect(await audit()).toHaveLength(before);
  });

  it("emergency-stop --all stops every session with agents where writes are allowed and reports each refusal", async () => {
    ntm.reset();
    const out = await fleet("emergency-stop", "--all", "--json", "--by", "dave");
    expect(out.code).toBe(1);
    const r = JSON.parse(out.stdout);
    const seen = r.machines.map((m: { machine: string; ok: boolean; steps: { session: string | null; command: string; status: string }[] }) => [
      m.machine,
      m.ok,
      m.steps.map((s) => [s.session, s.command, s.status]),
    ]);
    expect(seen).toEqual([
      [
        "orko",
        true,
        [
          [null, "ntm list --json", "ok"],
          ["frankentui", "ntm interrupt frankentui --json", "ok"],
          ["mail-rust", "ntm interrupt mail-rust --json", "ok"],
          ["vibe_cockpit", "ntm interrupt vibe_cockpit --json", "ok"],
        ],
      ],
      [
        "locked",
        false,
        [
          [null, "ntm list --json", "ok"],
          ["frankentui", "ntm interrupt frankentui --json", "refused"],
          ["mail-rust", "ntm interrupt mail-rust --json", "refused"],
          ["vibe_cockpit", "ntm interrupt vibe_cockpit --json", "refused"],
        ],
      ],
    ]);
    // Listing is a read: it runs on both; the interrupts only where writes are allowed.
    const calls = ntm.calls().map((c) => c.join(" "));
    expect(calls.sort()).toEqual(["interrupt frankentui --json", "interrupt mail-rust --json", "interrupt vibe_cockpit --json", "list --json", "list --json"]);
    expect(out.stderr.split("\n").filter(Boolean)).toEqual([
      "vc fleet emergency-stop: locked frankentui: refused: locked does not allow write commands (allow_write_commands: false)",
      "vc fleet emergency-stop: locked mail-rust: refused: locked does not allow write commands (allow_write_commands: false)",
      "vc fleet emergency-stop: locked vibe_cockpit: refused: locked does not allow write commands (allow_write_commands: false)",
    ]);
    const rows = (await audit()).filter((a) => a.actor === "dave");
    expect(rows.map((a) => `${a.machine_id} ${a.action} ${a.result}`).sort()).toEqual([
      "locked ntm interrupt frankentui --json refused",
      "locked ntm interrupt mail-rust --json refused",
      "locked ntm interrupt vibe_cockpit --json refused",
      "locked ntm list --json ok",
      "orko ntm interrupt frankentui --json ok",
      "orko ntm interrupt mail-rust --json ok",
      "orko ntm interrupt vibe_cockpit --json ok",
      "orko ntm list --json ok",
    ]);
  });

  it("bad input: an unknown machine, a missing session, a spawn count that is not a positive whole number", async () => {
    ntm.reset();
    const unknown = await fleet("interrupt", "proj", "--machine", "nowhere");
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({ code: 1, stderr: 'vc fleet interrupt: no machine "nowhere" in the config\n  hint: machines: orko, locked\n' });
    const noSession = await fleet("interrupt", "--machine", "orko");
    expect(noSession.code).toBe(2);
    expect(noSession.stderr).toContain("missing argument <SESSION>");
    const noMachine = await fleet("interrupt", "proj");
    expect(noMachine.code).toBe(2);
    expect(noMachine.stderr).toContain("missing --machine MACHINE");
    for (const [flag, value] of [
      ["--cc", "0"],
      ["--cc", "-2"],
      ["--cod", "1.5"],
      ["--gmi", "many"],
    ] as const) {
      const out = await fleet("spawn", "proj", "--machine", "orko", flag, value);
      expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 2, stderr: `vc fleet spawn: ${flag}: expected a positive whole number of agents, got "${value}"\n` });
    }
    const none = await fleet("spawn", "proj", "--machine", "orko");
    expect({ code: none.code, stderr: none.stderr }).toEqual({ code: 2, stderr: "vc fleet spawn: spawn needs at least one agent count: --cc, --cod, --gmi or --agy\n" });
    const badName = await fleet("stop", "my.proj", "--machine", "orko");
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('session "my.proj": ntm session names are letters, digits, _ and -');
    const both = await fleet("emergency-stop", "--all", "--machine", "orko");
    expect(both.code).toBe(2);
    expect(ntm.calls()).toEqual([]);
  });
});

describe("vc fleet through vc up", () => {
  let up: Awaited<ReturnType<typeof startUp>>;
  beforeAll(async () => {
    up = await startUp(["--config", cfg], { env, socket: join(dir, "data", "vc.sock") });
  });
  afterAll(async () => {
    up?.kill("SIGTERM");
    await up?.exited;
  });

  it("runs the command in the daemon (ntm's parent is vc up) and the daemon writes the audit", async () => {
    ntm.reset();
    const out = await fleet("interrupt", "vibe_cockpit", "--machine", "orko", "--by", "erin", "--json");
    expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(out.stdout).machines[0].steps[0]).toMatchObject({ status: "ok", summary: "interrupted 3 pane(s)" });
    expect(ntm.calls()).toEqual([["interrupt", "vibe_cockpit", "--json"]]);
    expect(ntm.parents()).toEqual([up.pid]);
    const refused = await fleet("interrupt", "vibe_cockpit", "--machine", "locked", "--by", "erin");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("locked does not allow write commands");
    expect(ntm.calls()).toHaveLength(1);
    // Read through the daemon too (it holds the store).
    const rows = (await audit()).filter((a) => a.actor === "erin");
    expect(rows).toEqual([
      { actor: "erin", machine_id: "orko", action: "ntm interrupt vibe_cockpit --json", result: "ok", purpose: "fleet interrupt" },
      { actor: "erin", machine_id: "locked", action: "ntm interrupt vibe_cockpit --json", result: "refused", purpose: "fleet interrupt" },
    ]);
  });
});
