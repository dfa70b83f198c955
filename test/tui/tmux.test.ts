// `vc tui` end to end in a real terminal: tmux runs it in a shell at 80×24 (and 160×48), keys go
// in with send-keys, the screen comes back with capture-pane.
import { afterAll, afterEach, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedEnv, repoRoot, vc as runVc } from "../helpers/cli.ts";
import type { DemoFleet } from "../../examples/demo-fleet.ts";
import { createTuiFleet, END, TOOLS_MACHINE } from "./_fixture.ts";
import { openFixture } from "./_data.ts";
import { requireSystem } from "../_system.ts";
import { writeFollowNtm } from "../helpers/ntm-follow.ts";

setDefaultTimeout(60_000);

const hasTmux = Bun.spawnSync(["sh", "-c", "command -v tmux"]).exitCode === 0;
// The command as a user runs it; until cli/index.ts lists it, the same command run on its own.
const entry = readFileSync(join(repoRoot, "cli/index.ts"), "utf8").includes("commands/tui.ts") ? `${join(repoRoot, "cli/index.ts")} tui` : join(repoRoot, "test/tui/_main.ts");
const socket = `vc-tui-test-${process.pid}`;
let env: Record<string, string>;
let config: string;
let fleet: DemoFleet;
let dir = "";

function tmux(...args: string[]): string {
  const r = Bun.spawnSync(["tmux", "-L", socket, ...args], { env, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}
const screen = (session: string, escapes = false) => tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", session);
const keys = (session: string, ...k: string[]) => tmux("send-keys", "-t", session, ...k);
const typed = (session: string, text: string) => tmux("send-keys", "-t", session, "-l", text);

async function waitFor(session: string, pred: (text: string) => boolean, what: string, ms = 15_000): Promise<string> {
  const until = Date.now() + ms;
  let text = "";
  while (Date.now() < until) {
    text = screen(session);
    if (pred(text)) return text;
    await Bun.sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; the screen:\n${text}`);
}
const has = (s: string) => (t: string) => t.includes(s);

let n = 0;
let live: string | null = null;
// A test that failed half-way leaves its cockpit running (holding the store): quit it before the next.
afterEach(async () => {
  if (!live) return;
  const s = live;
  live = null;
  try {
    if (!/EXIT=\d+\s*\nREADY\$/.test(screen(s))) {
      keys(s, "Escape");
      keys(s, "q");
      await waitFor(s, (t) => /EXIT=\d+\s*\nREADY\$/.test(t), "the cockpit to quit", 10_000);
    }
  } finally {
    tmux("kill-session", "-t", s);
  }
});
/** A shell in a new tmux session with `vc tui` started in it; resolves once the overview is drawn. */
async function start(
  size: { x: number; y: number } = { x: 80, y: 24 },
  extra = "--no-poll",
  o: { config?: string; prefix?: string; ready?: (t: string) => boolean } = {},
): Promise<string> {
  const session = `t${n++}`;
  live = session;
  tmux("new-session", "-d", "-s", session, "-x", String(size.x), "-y", String(size.y), "bash --norc --noprofile");
  tmux("set-option", "-t", session, "remain-on-exit", "on");
  typed(session, `export PS1='READY$ '; clear; ${o.prefix ?? ""}bun ${entry} --config ${o.config ?? config} ${extra}; echo "EXIT=$?"`);
  keys(session, "Enter");
  await waitFor(session, o.ready ?? ((t) => t.includes("fleet health 82 % critical") && t.includes("node-07")), "the overview");
  return session;
}
async function quit(session: string): Promise<string> {
  keys(session, "q");
  return waitFor(session, (t) => /EXIT=0\s*\nREADY\$/.test(t), "a clean exit and the prompt");
}

beforeAll(async () => {
  requireSystem("tmux"); // missing: every test here fails with the package and the install command (test/_system.ts)
  dir = mkdtempSync(join(tmpdir(), "vc-tui-tmux-"));
  env = isolatedEnv(dir, { VC_NOW: END.toISOString(), TERM: "xterm-256color", COLORTERM: "truecolor" });
  fleet = await createTuiFleet(dir);
  config = fleet.config;
  // One idle session keeps this test's tmux server alive while the others come and go.
  tmux("new-session", "-d", "-s", "keeper", "-x", "80", "-y", "24", "sleep 600");
});
afterAll(() => {
  if (hasTmux) Bun.spawnSync(["tmux", "-L", socket, "kill-server"], { env, stdout: "ignore", stderr: "ignore" });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("vc tui in tmux", () => {
  it("draws the overview at 80x24 and leaves a clean shell on q", async () => {
    const s = await start();
    const text = screen(s);
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/VC ● fleet health 82 % critical │ alerts 4 firing/);
    expect(text).toContain("ALERTS (4)");
    expect(text).toContain("MACHINES (20)");
    expect(text).toContain("DO NEXT");
    expect(lines[23]).toMatch(/\? help \/ search f filter w window r refresh/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const after = await quit(s);
    expect(after).not.toContain("MACHINES (20)");
  });

  it("never lets a planted escape sequence reach the terminal", async () => {
    const s = await start();
    const check = () => {
      const raw = screen(s, true);
      expect(raw).toContain("EVIL");
      expect(raw).not.toContain("\x1b[31mEVIL");
      expect(tmux("display-message", "-p", "-t", s, "#{pane_title}")).not.toContain("pwned");
    };
    check(); // the alert title in the list
    keys(s, "g");
    await waitFor(s, has("repoEVIL"), "the repos screen");
    check();
    keys(s, "l");
    keys(s, "Home"); // node-07, the worst machine, heads the table
    await waitFor(s, has("BlueFox"), "the mail of node-07");
    check();
    await quit(s);
  });

  it("drills from the overview into a machine and back, and jumps between screens", async () => {
    const s = await start();
    for (let i = 0; i < 5; i++) keys(s, "Down"); // past the 4 alerts: node-19
    keys(s, "Enter");
    let t = await waitFor(s, (x) => x.includes("LAST 6 h") && x.includes("DISKS"), "the machine screen");
    expect(t).toMatch(/node-19 ● health 10 % critical/);
    expect(t).toMatch(/cpu  [▁▂▃▄▅▆▇█]/);
    expect(t.split("\n")[2]).toContain("STALE");
    keys(s, "Down");
    t = await waitFor(s, has("node-13 ● health 20 %"), "the next machine");
    // The breadcrumb names the machine drilled into.
    expect(screen(s).split("\n")[1]).toContain("overview › node-13");
    keys(s, "Escape");
    await waitFor(s, has("DO NEXT"), "the overview again");
    for (const [k, want] of [
      ["a", "USE NEXT"],
      ["e", "DCG DENIES"],
      ["b", "NEXT PICKS"],
      ["l", "FILE RESERVATIONS"],
      ["g", "REPOS (3)"],
      ["F1", "DO NEXT"],
    ] as const) {
      keys(s, k);
      await waitFor(s, has(want), `${k} → ${want}`);
    }
    keys(s, "?");
    await waitFor(s, has("any key closes"), "the help overlay");
    keys(s, "Space");
    await waitFor(s, (x) => !x.includes("any key closes"), "the overlay to close");
    await quit(s);
  });

  it("drills from a repo to one event and climbs back with Esc", async () => {
    const s = await start();
    keys(s, "g");
    await waitFor(s, has("REPOS (3)"), "the repos screen");
    keys(s, "Down");
    keys(s, "Down");
    await waitFor(s, has("vibe_cockpit on node-03"), "vibe_cockpit selected");
    keys(s, "Enter");
    let t = await waitFor(s, (x) => x.includes("NTM SESSIONS (1)") && x.includes("REPO "), "the repo level");
    expect(t).toContain("DCG DENIES (1)");
    expect(t).toMatch(/deny core\.git:reset/);
    keys(s, "Down"); // past ntm's session: sources come in plugin order
    keys(s, "Enter");
    t = await waitFor(s, has("↑↓ scroll"), "the event level");
    expect(t).toMatch(/● HIGH deny core\.git:reset-hard: git reset --hard HEAD/);
    expect(t).toMatch(/cwd +\/data\/projects\/vibe_cockpit/);
    for (const l of t.split("\n")) expect(l.length).toBeLessThanOrEqual(80);
    keys(s, "Escape");
    await waitFor(s, (x) => x.includes("NTM SESSIONS (1)") && !x.includes("↑↓ scroll"), "back on the repo level");
    keys(s, "Escape");
    await waitFor(s, (x) => x.includes("REPOS (3)") && x.includes("repoEVIL"), "back on the repos list");
    keys(s, "Escape");
    await waitFor(s, has("DO NEXT"), "back on the overview");
    await quit(s);
  });

  for (const size of [
    { x: 80, y: 24 },
    { x: 200, y: 50 },
  ]) {
    it(`draws every screen at ${size.x}x${size.y} without overflowing, with its data's age`, async () => {
      const s = await start(size);
      // key, title, what the screen shows
      const want: [string, string, string][] = [
        ["1", "OVERVIEW", "DO NEXT"],
        ["2", "MACHINE", "DISKS"],
        ["g", "REPOS", "REPOS (3)"],
        ["a", "ACCOUNTS", "USE NEXT"],
        ["m", "AGENTS", "AGENTS (ntm)"],
        ["l", "MAIL", "FILE RESERVATIONS"],
        ["e", "EVENTS", "PT FINDINGS"],
        ["b", "BEADS", "NEXT PICKS"],
      ];
      for (const [key, title, shows] of want) {
        keys(s, key);
        const t = await waitFor(s, (x) => x.includes(shows) && x.includes(`${title} `), `screen ${key} (${title})`);
        const lines = t.split("\n");
        for (const l of lines) expect(l.length).toBeLessThanOrEqual(size.x);
        expect(lines[2]).toMatch(/data (\d+ (s|min|h|d) ago|never read)/);
        expect(lines[size.y - 1]).toContain("? help");
      }
      await quit(s);
    });
  }

  it("searches session content through cass on Enter and opens a hit", async () => {
    // A config on the fleet's store whose one machine is this one, with a cass on PATH that
    // prints the real search output (test/fixtures/cass/search.json).
    const d = join(dir, "search");
    mkdirSync(join(d, "bin"), { recursive: true });
    const out = join(d, "search.json");
    writeFileSync(out, readFileSync(join(import.meta.dir, "../fixtures/cass/search.json")));
    writeFileSync(
      join(d, "bin/cass"),
      `#!/bin/sh\nif [ "$1" = search ]; then echo "$@" >> ${JSON.stringify(join(d, "calls"))}; cat ${JSON.stringify(out)}; exit 0; fi\nexit 64\n`,
      { mode: 0o755 },
    );
    const cfg = join(d, "vc.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig } from "vibe-cockpit";\nimport { cass } from "vibe-cockpit/plugins";\nexport default defineConfig({ db: ${JSON.stringify(fleet.db)}, machines: [{ id: "${TOOLS_MACHINE}", ssh: "local" }], collectors: [cass()] });\n`,
    );
    const s = await start({ x: 120, y: 30 }, "--no-poll", {
      config: cfg,
      prefix: `PATH=${join(d, "bin")}:$PATH `,
      ready: (t) => t.includes("1 machines") && t.includes("DO NEXT"),
    });
    keys(s, "/");
    typed(s, "flock");
    keys(s, "Enter");
    let t = await waitFor(s, (x) => x.includes("SESSIONS (content search) (3)") && x.includes("content: 3 hits"), "the cass hits in the list");
    expect(readFileSync(join(d, "calls"), "utf8").trim()).toBe("search --json --limit 20 -- flock");
    keys(s, "Enter");
    t = await waitFor(s, (x) => x.includes("CONTENT") && x.includes("↑↓ scroll"), "the hit opened as an event");
    expect(t).toContain("Fix rch worker lock contention");
    expect(t).toContain("I traced the stall: the second build waits on the flock held by the first worker;");
    expect(t).toMatch(/\$ cass view \/home\/ubuntu\/\.claude\/projects\/-data-projects-remote-compilation-helper\/3f1c2a9e-5b7d-4e21-9c0a/);
    keys(s, "Escape");
    keys(s, "Escape");
    await waitFor(s, (x) => !x.includes("SESSIONS (content search)") && !x.includes('search "flock"'), "the search cleared");
    await quit(s);
  });

  it("searches and filters the list", async () => {
    const s = await start();
    keys(s, "/");
    typed(s, "node-13");
    keys(s, "Enter");
    let t = await waitFor(s, (x) => x.includes('search "node-13"') && x.includes("MACHINES (1)"), "the search");
    expect(t).toContain("MACHINES (1)");
    expect(t).not.toContain("● node-07");
    keys(s, "Escape");
    await waitFor(s, has("MACHINES (20)"), "the search cleared");
    keys(s, "f");
    typed(s, "machine:node-01");
    keys(s, "Enter");
    t = await waitFor(s, (x) => x.includes("filter machine:node-01") && !x.includes("▏"), "the filter applied");
    expect(t).toContain("MACHINES (1)");
    expect(t).toContain("ALERTS (1)");
    await quit(s);
  });

  it("draws no colour with NO_COLOR (selection in reverse video), only the ANSI 16 on TERM=xterm, 256 on screen-256color", async () => {
    // What tmux holds on screen, re-encoded by capture-pane -e: 39/49 are its own "default colour".
    const codes = (raw: string) => [...raw.matchAll(/\x1b\[([0-9;]*)m/g)].flatMap((m) => (m[1] || "0").split(";").map(Number));
    const colour = (c: number) => (c >= 30 && c <= 38) || (c >= 40 && c <= 48) || (c >= 90 && c <= 97) || (c >= 100 && c <= 107);
    const cases = [
      { prefix: "NO_COLOR=1 ", allowed: (c: number) => !colour(c), selected: /^\x1b\[1;7m● crit node-01/ },
      { prefix: "TERM=xterm COLORTERM= ", allowed: (c: number) => c !== 38 && c !== 48, selected: /^\x1b\[1m\x1b\[30m\x1b\[47m● crit node-01/ },
    ];
    for (const c of cases) {
      const s = await start(undefined, "--no-poll", { prefix: c.prefix });
      const raw = screen(s, true);
      expect(raw).toContain("MACHINES (20)");
      for (const code of codes(raw)) expect([c.prefix, code, c.allowed(code)]).toEqual([c.prefix, code, true]);
      expect(raw.split("\n")[4]).toMatch(c.selected); // under the bars, the group title and the column header
      await quit(s);
    }
    const s = await start(undefined, "--no-poll", { prefix: "TERM=screen-256color COLORTERM= " });
    const raw = screen(s, true);
    expect(raw).toContain("\x1b[38;5;");
    expect(raw).not.toContain("38;2;");
    await quit(s);
  });

  it("redraws on resize", async () => {
    const s = await start();
    tmux("resize-window", "-t", s, "-x", "160", "-y", "48");
    let t = await waitFor(s, (x) => x.includes("1 Overview  2 Machine") && /\? help/.test(x.split("\n")[47] ?? ""), "the wide tabs and the hints on the last row");
    expect(t.split("\n")[0]).toContain("20 machines │ in-process");
    tmux("resize-window", "-t", s, "-x", "80", "-y", "24");
    t = await waitFor(s, (x) => x.includes("1 Over  2 Mach") && x.split("\n")[23]!.includes("? help"), "the narrow tabs");
    for (const l of t.split("\n")) expect(l.length).toBeLessThanOrEqual(80);
    await quit(s);
  });

  it("draws every screen at 160x48", async () => {
    const s = await start({ x: 160, y: 48 });
    expect(screen(s)).toContain("1 Overview  2 Machine  3 Accounts");
    keys(s, "Enter");
    // Enter on an alert drills into its machine.
    await waitFor(s, (x) => x.includes("LAST 6 h") && x.includes("node-01 ● health 100 % ok"), "the machine screen");
    keys(s, "C-c");
    await waitFor(s, /EXIT=0\s*\nREADY\$/.test.bind(/EXIT=0\s*\nREADY\$/), "Ctrl-C to quit cleanly");
  });

  it("restores the terminal when killed with SIGTERM", async () => {
    const s = await start();
    const shell = tmux("display-message", "-p", "-t", s, "#{pane_pid}").trim();
    const child = Bun.spawnSync(["pgrep", "-P", shell]).stdout.toString().trim().split("\n")[0]!;
    expect(child).toMatch(/^\d+$/);
    process.kill(Number(child), "SIGTERM");
    const t = await waitFor(s, (x) => /EXIT=0\s*\nREADY\$/.test(x), "a clean exit after SIGTERM");
    expect(t).not.toContain("MACHINES (20)");
  });

  it("runs the poll loop in-process when no daemon runs, and refreshes on r", async () => {
    const local = join(dir, "local");
    mkdirSync(local, { recursive: true });
    const cfg = join(local, "vc.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig } from "vibe-cockpit";\nimport { sysprobe } from "vibe-cockpit/plugins";\nexport default defineConfig({ db: ${JSON.stringify(join(local, "vc.duckdb"))}, polling: { interval_seconds: 30 }, machines: [{ id: "here", ssh: "local" }], collectors: [sysprobe()] });\n`,
    );
    const s = await start({ x: 100, y: 30 }, "", { config: cfg, prefix: "env -u VC_NOW ", ready: (t) => /polled \d+ (s|min) ago/.test(t) && t.includes("● here") });
    keys(s, "Enter");
    await waitFor(s, (t) => /sysprobe +ok/.test(t) && /cpu +[▁▂▃▄▅▆▇█]/.test(t), "the local machine's detail from the in-process poll");
    keys(s, "r");
    await waitFor(s, has("refreshed at"), "the refresh");
    // Meanwhile the TUI serves the store: an agent's robot commands and a query still answer.
    const { VC_NOW: _n, ...plain } = env;
    const robot = await runVc(["robot", "health", "--config", cfg], { env: plain });
    expect(robot.code).toBe(0);
    expect(JSON.parse(robot.stdout)).toMatchObject({ schema_version: "vc.robot.health.v1", data: { machines: [{ id: "here" }] } });
    const q = await runVc(["query", "select count(*) > 0 as polled from sys_samples", "--format", "json", "--config", cfg], { env: plain });
    expect({ code: q.code, stderr: q.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(q.stdout)).toEqual([{ polled: true }]);
    await quit(s);
  });

  it("attaches to the daemon when vc up runs, and follows its stream", async () => {
    const d = join(dir, "daemon");
    mkdirSync(d, { recursive: true });
    const cfg = join(d, "vc.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig } from "vibe-cockpit";\nimport { sysprobe } from "vibe-cockpit/plugins";\nexport default defineConfig({ db: ${JSON.stringify(join(d, "vc.duckdb"))}, data_dir: ${JSON.stringify(d)}, polling: { interval_seconds: 1 }, machines: [{ id: "here", ssh: "local" }], collectors: [sysprobe()] });\n`,
    );
    const { VC_NOW: _now, ...upEnv } = env;
    const up = Bun.spawn(["bun", join(repoRoot, "cli/index.ts"), "up", "--config", cfg], { env: upEnv, stdout: "ignore", stderr: "pipe" });
    try {
      const until = Date.now() + 20_000;
      while (!existsSync(join(d, "vc.sock")) && Date.now() < until) await Bun.sleep(100);
      const s = await start({ x: 100, y: 30 }, "", { config: cfg, prefix: "env -u VC_NOW ", ready: (t) => t.includes("via vc up") && t.includes("● here") });
      await waitFor(s, (t) => /daemon \d+ (s|min) ago/.test(t), "an event from the daemon's stream");
      keys(s, "Enter");
      await waitFor(s, (t) => /sysprobe +ok/.test(t) && t.includes("DISKS"), "the machine read through the daemon");
      await quit(s);
    } finally {
      up.kill("SIGTERM");
      await up.exited;
    }
  });

  it("acks and silences the selected alert through the library", async () => {
    const s = await start();
    keys(s, "x");
    await waitFor(s, has("acked rule0:0"), "the ack");
    expect(screen(s)).toMatch(/✓ crit node-01/);
    keys(s, "Down");
    keys(s, "s");
    await waitFor(s, has("silenced rule1 on node-02 for 1h"), "the silence");
    await quit(s);
    await using vc = await openFixture(fleet);
    const alerts = await vc.alerts();
    expect(alerts.find((a) => a.alert_id === "rule0:0")?.acked?.by).toMatch(/^tui:/);
    expect(alerts.find((a) => a.alert_id === "rule1:1")?.silenced_by).toMatch(/^silence-/);
    const audit = await vc.query("SELECT action FROM audit_events WHERE actor LIKE 'tui:%' ORDER BY ts");
    expect(audit.rows.map((r) => String(r.action))).toEqual([expect.stringContaining("ack"), expect.stringContaining("silence")]);
  });

  it("acks an alert from the Events screen and from its event level", async () => {
    const s = await start();
    keys(s, "e");
    await waitFor(s, has("PT FINDINGS"), "the events screen");
    keys(s, "Down");
    keys(s, "Down");
    keys(s, "Enter");
    await waitFor(s, (x) => x.includes("↑↓ scroll") && x.includes("rule2:2"), "the alert's event level");
    keys(s, "x");
    await waitFor(s, has("acked rule2:2"), "the ack");
    keys(s, "Escape");
    keys(s, "Down");
    keys(s, "x");
    await waitFor(s, has("acked rule3:3"), "the ack from the list");
    await quit(s);
    await using vc = await openFixture(fleet);
    const alerts = await vc.alerts();
    expect(alerts.find((a) => a.alert_id === "rule2:2")?.acked?.by).toMatch(/^tui:/);
    expect(alerts.find((a) => a.alert_id === "rule3:3")?.acked?.by).toMatch(/^tui:/);
  });
});

describe("vc tui: who needs you", () => {
  it("heads the Overview with the Needs you strip and lists the waiting agents on n", async () => {
    // A store from a fake ntm printing ntm's own outputs (three agents waiting for a person).
    const d = join(dir, "needs-you");
    mkdirSync(d, { recursive: true });
    writeFollowNtm(join(d, "ntm"));
    const cfg = join(d, "vc.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig } from "vibe-cockpit";\nimport { ntmAttention } from "vibe-cockpit/plugins";\nexport default defineConfig({ db: ${JSON.stringify(join(d, "vc.duckdb"))}, data_dir: ${JSON.stringify(d)}, machines: [{ id: "here", ssh: "local" }], collectors: [ntmAttention({ bin: ${JSON.stringify(join(d, "ntm", "ntm"))} })] });\n`,
    );
    const { VC_NOW: _n, ...plain } = env;
    const c = await runVc(["collect", "--once", "--config", cfg], { env: plain });
    expect({ code: c.code, stderr: c.stderr }).toEqual({ code: 0, stderr: "" });
    const s = await start({ x: 120, y: 30 }, "--no-poll", { config: cfg, prefix: "env -u VC_NOW ", ready: (t) => t.includes("● here") });
    const t = await waitFor(s, (x) => /NEEDS YOU \d+/.test(x.split("\n")[2] ?? ""), "the Needs you strip");
    expect(t.split("\n")[2]).toMatch(/NEEDS YOU \d+ +\d+ agents wait; the oldest for \d+ (s|min|h|d): here corpus-session-\d:0\.\d/);
    keys(s, "n");
    const pane = await waitFor(s, has("WAITING FOR YOU"), "the Needs you pane");
    expect(pane).toMatch(/here +corpus-session-1:0\.4 +claude +error/);
    expect(pane).toMatch(/→ open the pane +\$ tmux attach -t corpus-session-/);
    for (const l of pane.split("\n")) expect(l.length).toBeLessThanOrEqual(120);
    await quit(s);
  });
});

describe("vc tui without a terminal", () => {
  it("says it needs one and exits 1", async () => {
    const home = mkdtempSync(join(tmpdir(), "vc-tui-notty-"));
    const p = Bun.spawn(["bun", ...entry.split(" ")], { env: isolatedEnv(home), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    rmSync(home, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(err).toContain("vc tui: needs a terminal");
  });
});
