// The Guardian screen (issue 18.4) on real runs: a cockpit whose plugin brings the tank_drain
// protocol (test/guardian/_tank.ts: a fake `tank` recording every argv it receives), the autopilot
// in execute-with-approval, runs made by guardianCheck and decided by the cockpit. Drawn headless
// (frame, reduce, the screen's actions run against the cockpit), then in a real terminal: `vc tui`
// in tmux, p, a then y, d then y, and the tool's argv.log and the store read afterwards.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, openCockpit, sql, type Cockpit } from "../../lib/index.ts";
import { initialState, loadCore, loadScreen, reduce, type TuiAction } from "../../lib/tui/app.ts";
import { emptyData, frame, frameText, listItems, type ViewState } from "../../lib/tui/frame.ts";
import { frameAnsi } from "../../lib/tui/render.ts";
import type { ScreenAction } from "../../lib/tui/screen.ts";
import { screensFor } from "../../lib/tui/screens/index.ts";
import type { GuardianData } from "../../lib/views/guardian.ts";
import { requireSystem } from "../_system.ts";
import { makeTank, tankLog, writeTankConfig } from "../guardian/_tank.ts";
import { isolatedEnv, repoRoot } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { PLANT } from "./_fixture.ts";
import { tmuxDriver } from "./_tmux.ts";

setDefaultTimeout(120_000);

const root = tempDir("vc-tui-guardian-");

/** A fleet of two local machines ("here", "there") sharing one tank, its config file written as a user's would be. */
function writeFleet(name: string): { dir: string; tool: string; bin: string; config: string } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const tool = join(dir, "tool");
  const bin = makeTank(tool, 95);
  const config = writeTankConfig(dir, { bin, machines: ["here", "there"], autopilot: '{ mode: "execute-with-approval" }', db: join(dir, "vc.duckdb"), dataDir: dir });
  return { dir, tool, bin, config };
}

const openFleet = async (config: string) => openCockpit({ config: await loadConfig({ file: config, env: {} }), env: {} });

/**
 * Runs as the lead's engine makes them: a check makes a pending run per machine; the one on
 * "there" is denied (bob), and the next check makes a new pending run there. Left: two pending
 * runs (here, there) and one denied.
 */
async function makeRuns(vc: Cockpit): Promise<{ here: string; there: string; denied: string }> {
  await vc.collect();
  const first = await vc.guardianCheck();
  expect(first.items.map((i) => [i.machine, i.action]).sort()).toEqual([
    ["here", "pending"],
    ["there", "pending"],
  ]);
  const denied = first.items.find((i) => i.machine === "there")!.run_id!;
  await vc.denyRun(denied, { by: "bob", reason: "not during the demo" });
  const second = await vc.guardianCheck();
  const there = second.items.find((i) => i.machine === "there" && i.action === "pending")!.run_id!;
  return { here: first.items.find((i) => i.machine === "here")!.run_id!, there, denied };
}

/** The cockpit's state on `screen`, read through the views as `vc tui` reads it. */
async function drawn(api: Cockpit, screen: string, width: number, height: number, base?: ViewState): Promise<ViewState> {
  let s = base ?? initialState({ width, height, now: new Date(), staleAfterSeconds: 3600, data: emptyData(), screens: screensFor(api.config.plugins ?? []) });
  s = { ...s, width, height, now: new Date(), data: await loadCore(api, s.data, s.screens) };
  s = { ...s, screen };
  return { ...s, data: await loadScreen(api, s) };
}

/** Every row exactly the terminal's width, and nothing a terminal would act on. */
function text(s: ViewState): string[] {
  const f = frame(s);
  expect(f.rows.length).toBe(s.height);
  for (const row of f.rows) for (const run of row) expect(run.text).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  const lines = frameText(f);
  for (const l of lines) expect(l.length).toBe(s.width);
  return lines;
}

const select = (s: ViewState, key: string): ViewState => {
  const i = listItems(s).findIndex((x) => x.key === key);
  expect(i).toBeGreaterThanOrEqual(0);
  return { ...s, selected: { ...s.selected, [s.screen]: i } };
};
const screenAction = (a: TuiAction | undefined): ScreenAction => {
  expect(a?.type).toBe("screen");
  return (a as Extract<TuiAction, { type: "screen" }>).action;
};

describe("the Guardian screen, headless", () => {
  let vc: Cockpit;
  let fleet: ReturnType<typeof writeFleet>;
  let runs: Awaited<ReturnType<typeof makeRuns>>;
  beforeAll(async () => {
    fleet = writeFleet("headless");
    vc = await openFleet(fleet.config);
    runs = await makeRuns(vc);
  });
  afterAll(async () => {
    await vc?.close();
  });

  it("is reached with p and lists the pending runs, the recent runs and the protocols", async () => {
    const over = await drawn(vc, "overview", 160, 48);
    expect(reduce(over, "p").state.screen).toBe("guardian");
    const s = await drawn(vc, "guardian", 160, 48);
    const t = text(s);
    expect(t[1]).toMatch(/\d Guardian/);
    expect(listItems(s).map((i) => [i.group, i.key])).toEqual([
      ["PENDING APPROVAL", `guardian:run:${runs.here}`],
      ["PENDING APPROVAL", `guardian:run:${runs.there}`],
      ["RECENT RUNS", `guardian:run:${runs.denied}`],
      ["PROTOCOLS", "guardian:protocol:tank_drain"],
    ]);
    const all = t.join("\n");
    expect(all).toMatch(/─ PENDING APPROVAL \(2\)/);
    expect(all).toMatch(/─ RECENT RUNS \(1\)/);
    expect(all).toMatch(/─ PROTOCOLS \(1\)/);
    expect(all).toMatch(new RegExp(`– denied +${runs.denied} +tank_drain +there .*denied: not during the demo`));
    // The protocol's last run is the newest: the pending one on "there".
    expect(all).toMatch(/\? tank_drain +tank +a tank above 90 % +pending/);
  });

  it("details a pending run: its exact commands, the gate's answer beside each, its expiry", async () => {
    const s = select(await drawn(vc, "guardian", 160, 48), `guardian:run:${runs.here}`);
    const detail = text(s)
      .map((l) => l.slice(90))
      .join("\n");
    expect(detail).toContain(`? PENDING ${runs.here} tank_drain on here`);
    expect(detail).toContain("the tank on here at 95 %");
    expect(detail).toMatch(/made \d+ s ago \(.* UTC\) · expires in (59|60) min/);
    expect(detail).toContain("─ PLAN · 2 commands run on approval");
    expect(detail).toMatch(/1\. diagnosis · history: read readings=1/);
    expect(detail).toContain(`$ [here] ${fleet.bin} inspect`);
    expect(detail).toContain(`$ [here] ${fleet.bin} drain 50`);
    expect(detail).toMatch(/gate ✗ it waits for a person's approval/);
    expect(detail).toMatch(/advice: find out why the tank on here filled/);
    expect(detail).toContain("a approve · d deny · Enter: the run in full");
  });

  it("says why not when a or d is pressed on something other than a pending run", async () => {
    let s = select(await drawn(vc, "guardian", 120, 30), "guardian:protocol:tank_drain");
    expect(reduce(s, "a").state.message).toBe("select a pending run first: a approves it, d denies it");
    s = select(s, `guardian:run:${runs.denied}`);
    expect(reduce(s, "d").state.message).toBe(`${runs.denied} is denied: only a pending run can be denied`);
    // The app's own keys stay theirs; the help names the screen's.
    expect(reduce(s, "?").state.mode).toBe("help");
    expect(text(reduce(s, "?").state).join("\n")).toMatch(/a +approve the selected pending run/);
  });

  it("approves with a then y: exactly its commands run, it is verified, who approved is recorded; n leaves it", async () => {
    let s = select(await drawn(vc, "guardian", 120, 30), `guardian:run:${runs.here}`);
    let r = reduce(s, "a");
    expect(r.state.mode).toBe("confirm");
    expect(r.action).toBeUndefined();
    const question = `approve ${runs.here} (tank_drain on here): its 2 commands run now? y/n`;
    expect(text(r.state)[28]).toContain(question);
    // Any key but y: nothing runs.
    r = reduce(r.state, "n");
    expect([r.state.mode, r.state.message, r.action]).toEqual(["normal", "cancelled", undefined]);
    expect(tankLog(fleet.tool)).toEqual([]);

    r = reduce(reduce(r.state, "a").state, "y");
    expect(r.state.message).toBe(`approving ${runs.here}: its commands run, then its verification…`);
    const said = await screenAction(r.action).run({ api: vc, by: "tui:alice" });
    expect(said).toMatch(new RegExp(`^approved ${runs.here}: verified · verified: level 50 %$`));
    expect(tankLog(fleet.tool)).toEqual(["inspect", "drain 50"]);
    const [row] = await vc.store.query<{ status: string; decided_by: string }>(sql`SELECT status, decided_by FROM guardian_runs WHERE run_id = ${runs.here}`);
    expect(row).toEqual({ status: "verified", decided_by: "tui:alice" });

    // Read again, the run is among the recent ones, verified.
    s = await drawn(vc, "guardian", 120, 30, r.state);
    expect(
      listItems(s)
        .filter((i) => i.group === "PENDING APPROVAL")
        .map((i) => i.key),
    ).toEqual([`guardian:run:${runs.there}`]);
    expect(text(s).join("\n")).toMatch(new RegExp(`✓ verified +${runs.here}`));
  });

  it("opens a run in full on Enter: its plan, every step with its exit code and output, its verification", async () => {
    let s = select(await drawn(vc, "guardian", 120, 60), `guardian:run:${runs.here}`);
    const r = reduce(s, "ENTER");
    expect(r.state.screen).toBe("guardian-run");
    expect(r.action).toEqual({ type: "load" });
    s = { ...r.state, data: await loadScreen(vc, r.state) };
    const t = text(s).join("\n");
    expect(t).toContain(`✓ VERIFIED ${runs.here} tank_drain on here`);
    expect(t).toMatch(/decided by tui:alice \d+ s ago · ended \d+ s ago/);
    expect(t).toContain("─ FACTS");
    expect(t).toMatch(/level=95/);
    expect(t).toMatch(/─ PLAN +\n/);
    // The gate's answer as it was when the run was planned, before the approval.
    expect(t).toMatch(/gate when planned ✗ it waits for a person's approval/);
    expect(t).toContain(`$ [here] ${fleet.bin} refill 95`);
    expect(t).toContain("─ WHAT HAPPENED");
    expect(t).toMatch(/2\. diagnosis · inspect ✓ ok exit 0 \d+ ms/);
    expect(t).toContain('│ {"level": 95, "valve": "ok"}');
    expect(t).toMatch(/3\. treatment · drain ✓ ok exit 0/);
    expect(t).toContain("─ VERIFICATION");
    expect(t).toMatch(/✓ ok level 50 %/);
    expect(t).toContain("↑↓ scroll · Esc back");
    // Down scrolls; Esc goes back to the list.
    expect(reduce(s, "DOWN").state.scroll).toBe(1);
    expect(reduce(s, "ESCAPE").state.screen).toBe("guardian");
  });

  it("denies with d then y: none of its commands runs", async () => {
    const before = tankLog(fleet.tool);
    const s = select(await drawn(vc, "guardian", 120, 30), `guardian:run:${runs.there}`);
    const r = reduce(reduce(s, "d").state, "y");
    expect(reduce(s, "d").state.confirm?.confirm).toBe(`deny ${runs.there} (tank_drain on there): none of its 2 commands runs? y/n`);
    expect(await screenAction(r.action).run({ api: vc, by: "tui:alice" })).toBe(`denied ${runs.there}: denied`);
    expect(tankLog(fleet.tool)).toEqual(before);
    const [row] = await vc.store.query<{ status: string; decided_by: string; reason: string }>(
      sql`SELECT status, decided_by, reason FROM guardian_runs WHERE run_id = ${runs.there}`,
    );
    expect(row).toEqual({ status: "denied", decided_by: "tui:alice", reason: "denied: denied in vc tui" });
  });

  it("shows an error when the cockpit refuses (a run decided meanwhile)", async () => {
    const d = (await vc.robotGuardian()).data as GuardianData;
    const run = d.runs.find((x) => x.run_id === runs.there)!;
    // The row as it was drawn before the deny landed: the cockpit says no.
    const s = await drawn(vc, "guardian", 120, 30);
    const stale = { ...s, data: { ...s.data, screens: { ...s.data.screens, guardian: { key: "", data: { ...d, pending: [{ ...run, status: "pending" as const }] } } } } };
    const r = reduce(reduce(select(stale, `guardian:run:${runs.there}`), "a").state, "y");
    await expect(screenAction(r.action).run({ api: vc, by: "tui:alice" })).rejects.toThrow(`run ${runs.there} is denied by tui:alice`);
  });

  it("draws no colour under NO_COLOR: the outcome is in the marks and words", async () => {
    const f = frame(await drawn(vc, "guardian", 120, 30));
    const { out } = frameAnsi(f, null, "none");
    const codes = [...out.matchAll(/\x1b\[([0-9;]*)m/g)].flatMap((m) => (m[1] || "0").split(";").map(Number));
    expect(codes.filter((c) => (c >= 30 && c <= 49) || (c >= 90 && c <= 107))).toEqual([]);
    const t = frameText(f).join("\n");
    expect(t).toMatch(/✓ verified/);
    expect(t).toMatch(/– denied/);
  });

  it("never lets escape sequences in a run's reason or a step's output reach the terminal", async () => {
    await vc.store.run(sql`UPDATE guardian_runs SET reason = ${`verified: ${PLANT}`} WHERE run_id = ${runs.here}`);
    await vc.store.run(sql`UPDATE guardian_steps SET output_excerpt = ${`out ${PLANT}\nline two`} WHERE run_id = ${runs.here} AND step = 'inspect'`);
    let s = select(await drawn(vc, "guardian", 160, 48), `guardian:run:${runs.here}`);
    let t = text(s).join("\n");
    expect(t).toContain("EVIL");
    expect(t).not.toContain("pwned");
    const r = reduce(s, "ENTER");
    s = { ...r.state, data: await loadScreen(vc, r.state) };
    t = text(s).join("\n");
    expect(t).toContain("│ out EVIL");
    expect(t).toContain("│ line two");
    expect(t).not.toContain("pwned");
  });
});

describe("the Guardian screen in tmux", () => {
  const socket = `vc-guardian-tui-${process.pid}`;
  const entry = readFileSync(join(repoRoot, "cli/index.ts"), "utf8").includes("commands/tui.ts") ? `${join(repoRoot, "cli/index.ts")} tui` : join(repoRoot, "test/tui/_main.ts");
  let env: Record<string, string>;
  let fleet: ReturnType<typeof writeFleet>;
  let runs: Awaited<ReturnType<typeof makeRuns>>;
  const { tmux, keys, waitFor } = tmuxDriver(socket, "g", () => env);

  beforeAll(async () => {
    requireSystem("tmux");
    fleet = writeFleet("tmux");
    env = isolatedEnv(fleet.dir, { USER: "alice", TERM: "xterm-256color", COLORTERM: "truecolor" });
    const vc = await openFleet(fleet.config);
    try {
      runs = await makeRuns(vc);
    } finally {
      // The TUI opens the store itself: this process lets go of it first.
      await vc.close();
    }
  });
  afterAll(() => {
    Bun.spawnSync(["tmux", "-L", socket, "kill-server"], { env, stdout: "ignore", stderr: "ignore" });
  });

  it("approves one pending run with a, y and denies the other with d, y; the tool saw exactly the approved commands", async () => {
    tmux("new-session", "-d", "-s", "g", "-x", "120", "-y", "32", "bash --norc --noprofile");
    tmux("set-option", "-t", "g", "remain-on-exit", "on");
    tmux("send-keys", "-t", "g", "-l", `export PS1='READY$ '; clear; bun ${entry} --config ${fleet.config} --no-poll; echo "EXIT=$?"`);
    keys("Enter");
    await waitFor((t) => t.includes("MACHINES (2)"), "the overview");
    keys("p");
    // The CLI adds the local probe (sysprobe), whose disk protocol is listed too.
    let t = await waitFor((x) => x.includes("PENDING APPROVAL (2)") && /PROTOCOLS \(\d\)/.test(x) && x.includes("$ [here]"), "the Guardian screen");
    expect(t).toContain("RECENT RUNS (1)");
    expect(t).toContain(`? PENDING ${runs.here} tank_drain on here`);
    expect(t).toMatch(/gate ✗ it waits for a person's approval/);
    for (const l of t.split("\n")) expect(l.length).toBeLessThanOrEqual(120);

    keys("a");
    await waitFor((x) => x.includes(`approve ${runs.here} (tank_drain on here): its 2 commands run now? y/n`), "the confirmation");
    keys("y");
    t = await waitFor((x) => x.includes(`approved ${runs.here}: verified`), "the approval's outcome");
    expect(tankLog(fleet.tool)).toEqual(["inspect", "drain 50"]);
    t = await waitFor((x) => x.includes("PENDING APPROVAL (1)"), "the list read again");
    expect(t).toMatch(new RegExp(`✓ verified +${runs.here}`));

    keys("Home");
    keys("d");
    await waitFor((x) => x.includes(`deny ${runs.there} (tank_drain on there): none of its 2 commands runs? y/n`), "the deny confirmation");
    keys("y");
    await waitFor((x) => x.includes(`denied ${runs.there}: denied`), "the deny's outcome");
    expect(tankLog(fleet.tool)).toEqual(["inspect", "drain 50"]);

    keys("q");
    await waitFor((x) => /EXIT=0\s*\nREADY\$/.test(x), "a clean exit");
    await using vc = await openCockpit({ config: await loadConfig({ file: fleet.config, env: {} }), env: {}, readOnly: true });
    const rows = await vc.store.query<{ run_id: string; status: string; decided_by: string | null }>(sql`SELECT run_id, status, decided_by FROM guardian_runs ORDER BY created_at`);
    // Who decided: $USER, as the TUI acts.
    expect(rows.find((r) => r.run_id === runs.here)).toMatchObject({ status: "verified", decided_by: "tui:alice" });
    expect(rows.find((r) => r.run_id === runs.there)).toMatchObject({ status: "denied", decided_by: "tui:alice" });
    const audit = await vc.store.query<{ actor: string; action: string }>(
      sql`SELECT actor, action FROM audit_events WHERE event_type = 'user_command' AND actor = 'tui:alice' ORDER BY ts`,
    );
    expect(audit.map((a) => a.action)).toEqual([`guardian approve ${runs.here}`, `guardian deny ${runs.there}`]);
  });
});
