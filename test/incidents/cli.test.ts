// `vc incident …` and `vc robot incidents` on the replayed fleet-day's store: the CLI opening the
// store itself, then through a daemon holding it (notes and closes are written by the daemon).
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, openCockpit, runDaemon, type Cockpit, type IncidentDetail } from "../../lib/index.ts";
import { connectDaemon } from "../../lib/serve/client.ts";
import { socketPathFor } from "../../lib/store/files.ts";
import { sysprobe } from "../../plugins/index.ts";
import { isolatedEnv, repoRoot, vc as runVc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { initialState, loadCore, loadScreen } from "../../lib/tui/app.ts";
import { emptyData, listItems, type ViewState } from "../../lib/tui/frame.ts";
import { screensFor } from "../../lib/tui/screens/index.ts";
import { configSource, dayConfig, END, replayDay } from "./_day.ts";

setDefaultTimeout(180_000);

const dir = tempDir("vc-incidents-");
const db = join(dir, "vc.duckdb");
const config = join(dir, "vc.config.ts");
let env: Record<string, string>;
const DISK = "inc-20260125-1";
const GPU = "inc-20260125-2";

const vc = (...args: string[]) => runVc([...args, "--config", config], { env });

beforeAll(async () => {
  const day = await replayDay({ path: db });
  await day.store.close();
  writeFileSync(config, configSource(db));
  env = isolatedEnv(dir, { VC_NOW: END.toISOString(), USER: "tester", PATH: `${join(repoRoot, "node_modules/.bin")}:/usr/bin:/bin` });
});

describe("vc incident, the store opened by the command", () => {
  it("lists the day's incidents, open ones first, newest first", async () => {
    const r = await vc("incident", "list");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^id\s+severity\s+state\s+opened\s+where\s+alerts\s+title$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/).slice(0, 6))).toEqual([
      [GPU, "high", "open (all alerts resolved)", "2026-01-25 12:20", "gpu", "4"],
      [DISK, "critical", "open", "2026-01-25 10:10", "orko", "2"],
    ]);
    const json = JSON.parse((await vc("incident", "list", "--json", "--state", "open")).stdout);
    expect(json.map((i: { incident_id: string }) => i.incident_id)).toEqual([GPU, DISK]);
  });

  it("vc robot incidents answers in the envelope, and names an unknown id", async () => {
    const r = await vc("robot", "incidents", "--state", "open", "--limit", "1");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.schema_version).toBe("vc.robot.incidents.v1");
    expect(out.data.incidents.map((i: { incident_id: string }) => i.incident_id)).toEqual([GPU]);
    const bad = await vc("robot", "incidents", "--id", "inc-nope");
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ schema_version: "vc.robot.error.v1", error: { code: "not_found", message: 'no incident "inc-nope"' } });
    const state = await vc("robot", "incidents", "--state", "shut");
    expect(state.code).toBe(2);
    expect(JSON.parse(state.stdout).error).toMatchObject({ code: "invalid_argument", message: 'state: "shut" is not one of open, closed, all' });
  });

  it("shows one in full: alerts, root cause, the timeline from its cause", async () => {
    const r = await vc("incident", "show", DISK);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain(`${DISK}  critical  open\nDisk nearly full on orko\n`);
    expect(r.stdout).toContain("root cause (as the timeline stands now): orko: disk low → medium: /data 85 % full (30 min before disk_low)");
    const timeline = r.stdout.slice(r.stdout.indexOf("\ntimeline ") + 1);
    expect(timeline.split("\n")[1]).toBe("09:40 ◀ health    orko       disk low → medium: /data 85 % full");
    expect(timeline).toContain("10:10 ● alert     orko       firing disk_low: /data on orko has 7.5 % free (75 GiB of 1000 GiB)");
    expect(timeline).toContain("dcg       orko       deny core.git:reset-hard: git reset --hard origin/main");
    expect(timeline).toContain("10:40   collector orko       collector sysprobe failed: sysprobe timed out after 30 s");
    // a prefix is enough when it names one incident
    expect((await vc("incident", "show", "inc-20260125-2", "--json")).code).toBe(0);
  });

  it("a note or close on an unknown incident is not_found, with a hint; nothing is written", async () => {
    for (const args of [
      ["incident", "note", "inc-nope", "looking"],
      ["incident", "close", "inc-nope", "--resolution", "fixed"],
      ["incident", "show", "inc-nope"],
      ["incident", "replay", "inc-nope"],
      ["incident", "export", "inc-nope"],
    ]) {
      const r = await vc(...args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: "" });
      expect(r.stderr).toBe(`vc incident ${args[1]}: no incident "inc-nope"\n  hint: \`vc incident list\` shows their ids\n`);
    }
    const missing = await vc("incident", "close", DISK);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing --resolution TEXT");
    const empty = await vc("incident", "note", DISK, "  ");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("text: the note is empty");
    const shown = JSON.parse((await vc("incident", "show", DISK, "--json")).stdout) as IncidentDetail;
    expect([shown.notes, shown.state]).toEqual([[], "open"]);
  });

  it("notes and closes it; the close keeps the root cause; a second close is refused", async () => {
    const note = await vc("incident", "note", DISK, "du says /data/builds holds 600 GiB of old artefacts", "--by", "jeff");
    expect({ code: note.code, stdout: note.stdout, stderr: note.stderr }).toEqual({ code: 0, stdout: `noted on ${DISK} as jeff\n`, stderr: "" });
    const close = await vc("incident", "close", DISK, "--resolution", "removed old build artefacts from /data");
    expect({ code: close.code, stdout: close.stdout }).toEqual({ code: 0, stdout: `closed ${DISK} (Disk nearly full on orko) as tester\n` });
    const again = await vc("incident", "close", "inc-20260125-1", "--resolution", "again");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`incident ${DISK} is already closed (2026-01-25T14:00:00.000Z, by tester: removed old build artefacts from /data)`);
    const d = JSON.parse((await vc("incident", "show", DISK, "--json")).stdout) as IncidentDetail;
    expect(d.state).toBe("closed");
    expect(d.notes).toEqual([expect.objectContaining({ author: "jeff", at: END.toISOString(), text: "du says /data/builds holds 600 GiB of old artefacts" })]);
    expect([d.root_cause_kept, d.root_cause.hypothesis]).toEqual([true, "orko: disk low → medium: /data 85 % full (30 min before disk_low)"]);
    // (the note and the close share the pinned clock's instant)
    expect(d.actions.map((a) => [a.actor, a.action]).sort()).toEqual([
      ["jeff", `incident note ${DISK}`],
      ["tester", `incident close ${DISK}`],
      ["vc", `incident open ${DISK}`],
    ]);
    const closed = JSON.parse((await vc("incident", "list", "--json", "--state", "closed")).stdout);
    expect(closed.map((i: { incident_id: string; resolution: string }) => [i.incident_id, i.resolution])).toEqual([[DISK, "removed old build artefacts from /data"]]);
  });

  it("replays the window step by step: health and the firing alerts as they were", async () => {
    const r = await vc("incident", "replay", GPU);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const steps = r.stdout.split("\n").filter((l) => /^\[\d+\/\d+\] /.test(l));
    const n = steps.length;
    expect(n).toBeGreaterThan(5);
    expect(r.stdout.split("\n")[0]).toBe(`${GPU} 3 high alerts on gpu: Load high, OOM kills, inotify near its limit: ${n} step(s) from 2026-01-25 11:40 to 2026-01-25 14:00`);
    // the state the window opened with: the newest snapshot at or before 11:40
    expect(steps[0]).toMatch(/^\[1\/\d+\] 2026-01-25 11:30 {2}fleet /);
    // at 12:20 the three alerts that opened it fire on gpu, whose load is high
    const at1220 = r.stdout.slice(r.stdout.indexOf("2026-01-25 12:20  fleet"));
    const block = at1220.slice(0, at1220.indexOf("\n\n"));
    expect(block).toContain("gpu          0.40 high  (load high)");
    expect(block).toContain("● high     load_high on gpu");
    expect(block).toContain("● high     oom_kill on gpu");
    expect(block).toContain("● high     inotify_high on gpu");
    // --step without a terminal does not wait
    expect((await vc("incident", "replay", GPU, "--step")).stdout).toBe(r.stdout);
  });

  it("exports the post-mortem in Markdown, to stdout or a file", async () => {
    const r = await vc("incident", "export", DISK, "--format", "md");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const md = r.stdout;
    const sections = md.split("\n").filter((l) => l.startsWith("#"));
    expect(sections).toEqual([`# ${DISK}: Disk nearly full on orko`, "## Summary", "## Root cause", "## Timeline", "## Evidence", "## Notes", "## Actions taken"]);
    expect(md).toContain("- **Resolution:** removed old build artefacts from /data");
    expect(md).toContain("**Hypothesis:** orko: disk low → medium: /data 85 % full (30 min before disk_low)");
    expect(md).toContain("- 2026-01-25 14:00 UTC **jeff**: du says /data/builds holds 600 GiB of old artefacts");
    expect(md).toContain("- 2026-01-25 14:00 UTC tester: incident close inc-20260125-1");
    expect(md).toContain("- On orko: trim the systemd journal: `journalctl --vacuum-size=500M`");
    const out = join(dir, "postmortem.md");
    const f = await vc("incident", "export", DISK, "--out", out);
    expect({ code: f.code, stdout: f.stdout, stderr: f.stderr }).toEqual({ code: 0, stdout: "", stderr: `${DISK}: post-mortem written to ${out}\n` });
    expect(readFileSync(out, "utf8")).toBe(md);
  });
});

describe("the TUI's Events screen", () => {
  it("shows the incident an alert belongs to, read through the incidents view", async () => {
    await using cockpit = await openCockpit({ config: { ...(await dayConfig()), db }, readOnly: true, clock: createFixedClock(END) });
    const base = initialState({ width: 160, height: 48, now: END, staleAfterSeconds: 600, data: emptyData("local"), screens: screensFor(cockpit.config.plugins) });
    const s: ViewState = { ...base, screen: "events", data: await loadCore(cockpit, base.data, base.screens) };
    const items = listItems({ ...s, data: await loadScreen(cockpit, s) }).filter((i) => i.alert);
    expect(items.map((i) => [i.alert!.rule, i.cells.title![0]])).toEqual([
      ["disk_low", `${DISK} · /data on orko has 3 % free (30 GiB of 1000 GiB)`],
      ["account_usage_high", expect.stringMatching(/^claude account jeff@example\.com: 88 %/)],
    ]);
    expect(items[0]!.event!.fields[0]).toEqual(["incident", DISK]);
  });
});

describe("through the daemon", () => {
  let cockpit: Cockpit;
  const stop = new AbortController();
  let daemon: Promise<number>;
  afterAll(async () => {
    stop.abort();
    await daemon;
    await cockpit?.close();
  });

  it("writes notes and closes in the daemon that holds the store", async () => {
    cockpit = await openCockpit({
      file: config,
      env,
      clock: createFixedClock(END),
      alwaysOn: [sysprobe()],
      modules: { "vibe-cockpit/plugins": () => import("../../plugins/index.ts") },
    });
    daemon = runDaemon(cockpit, { signal: stop.signal, poll: false });
    for (let i = 0; i < 100 && !(await connectDaemon(socketPathFor(db), { db })); i++) await Bun.sleep(50);
    const note = await vc("incident", "note", GPU, "the batch job on gpu leaked memory", "--by", "ana");
    expect({ code: note.code, stdout: note.stdout, stderr: note.stderr }).toEqual({ code: 0, stdout: `noted on ${GPU} as ana\n`, stderr: "" });
    const unknown = await vc("incident", "close", "inc-nope", "--resolution", "x");
    expect({ code: unknown.code, stderr: unknown.stderr }).toEqual({ code: 1, stderr: 'vc incident close: no incident "inc-nope"\n  hint: `vc incident list` shows their ids\n' });
    const close = await vc("incident", "close", GPU, "--resolution", "restarted the batch job with a memory limit", "--json");
    expect(close.code).toBe(0);
    expect(JSON.parse(close.stdout)).toMatchObject({ incident_id: GPU, state: "closed", closed_by: "tester", resolution: "restarted the batch job with a memory limit" });
    // written by the daemon: its own store says so
    const rows = await cockpit.store.query("SELECT author, text FROM incident_notes WHERE incident_id = 'inc-20260125-2'");
    expect(rows).toEqual([{ author: "ana", text: "the batch job on gpu leaked memory" }]);
    const [inc] = await cockpit.store.query<{ state: string; root_cause_json: string }>("SELECT state, root_cause_json FROM incidents WHERE incident_id = 'inc-20260125-2'");
    expect(inc!.state).toBe("closed");
    expect(JSON.parse(inc!.root_cause_json).hypothesis).toBe("gpu: load ok → high: load5 14 on 8 cores (1.75×) (10 min before load_high)");
    // its actions are its own: the other incident's note and close stay out
    const gpu = JSON.parse((await vc("incident", "show", GPU, "--json")).stdout) as IncidentDetail;
    expect(gpu.actions.map((a) => a.action).sort()).toEqual([`incident close ${GPU}`, `incident note ${GPU}`, `incident open ${GPU}`]);
    // and the views read through the socket
    const list = JSON.parse((await vc("incident", "list", "--json", "--state", "open")).stdout);
    expect(list).toEqual([]);
  });
});
