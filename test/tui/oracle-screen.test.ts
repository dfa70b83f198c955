// The Oracle pane (issue 14.8): a replayed morning through the real caut, caam and ntm collectors
// (test/helpers/oracle-replay.ts) gives real forecasts; the pane reads them through the `oracle`
// view only. Drawn headless (frame, frameText), then in a real terminal: `vc tui` in tmux on the
// replayed store, the o key, the captured screen.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import { openCockpit, resolveConfig, type Cockpit } from "../../lib/index.ts";
import { initialState, loadCore, loadScreen, reduce } from "../../lib/tui/app.ts";
import { emptyData, frame, frameText, listItems, type ViewState } from "../../lib/tui/frame.ts";
import { frameAnsi } from "../../lib/tui/render.ts";
import { screensFor } from "../../lib/tui/screens/index.ts";
import { caam, caut } from "../../plugins/index.ts";
import { minutesText } from "../../plugins/oracle/disk.ts";
import type { OracleAccount, OracleData } from "../../plugins/oracle/view.ts";
import { requireSystem } from "../_system.ts";
import { isolatedEnv, repoRoot } from "../helpers/cli.ts";
import { oracleReplay, START } from "../helpers/oracle-replay.ts";
import { tempDir } from "../helpers/tmp.ts";
import { openFixture } from "./_data.ts";
import { createTuiFleet, END, PLANT } from "./_fixture.ts";
import { tmuxDriver } from "./_tmux.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-oracle-screen-");
const replay = oracleReplay(dir);
/** 70 minutes in: alice burns toward her limit before her window resets; bob idles with headroom. */
const MINUTES = 70;
const NOW = new Date(START + MINUTES * 60_000);
const SWAP = "caam activate claude bob@fleet.dev";

let vc: Cockpit;
let db = "";
let alice: OracleAccount;

/** The cockpit's state on `screen`, loaded through the views as `vc tui` loads it. */
async function drawn(api: Cockpit, screen: string, width: number, height: number, now = NOW): Promise<ViewState> {
  let s = initialState({ width, height, now, staleAfterSeconds: 3600, data: emptyData(), screens: screensFor(api.config.plugins ?? []) });
  s = { ...s, data: await loadCore(api, s.data, s.screens) };
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

/** "56 min", "(42–86 min)": the view's minutes as the pane prints them (under 90 min here). */
const min = (m: number | null) => `${Math.round(m!)} min`;

beforeAll(async () => {
  vc = await replay(MINUTES);
  db = vc.config.db;
  const env = (await vc.view("oracle", {})) as { data: OracleData };
  alice = env.data.accounts.find((a) => a.key === "claude/alice@fleet.dev/primary")!;
  // What the pane must show, as the view answers it: a slow-down with the swap to bob, all under 90 minutes.
  expect(alice.action.kind).toBe("slow_down");
  expect(alice.action.to?.command).toBe(SWAP);
  expect(alice.high_min!).toBeLessThan(90);
}, 120_000);
let closed = false;
const close = async () => {
  if (!closed && vc) await vc.close();
  closed = true;
};
afterAll(close);

describe("the Oracle pane, headless", () => {
  it("is reached with o and lists each account window with its usage, time to the limit, interval and action", async () => {
    const s = await drawn(vc, "overview", 160, 48);
    expect(reduce(s, "o").state.screen).toBe("oracle");
    const o = await drawn(vc, "oracle", 160, 48);
    const t = text(o);
    expect(t[1]).toContain("4 Oracle");
    expect(t[2]).toMatch(/─ ACCOUNTS · claude \(4\)/);
    expect(listItems(o).map((i) => i.key)).toEqual([
      "oracle:account:claude/alice@fleet.dev/primary",
      "oracle:account:claude/alice@fleet.dev/secondary",
      "oracle:account:claude/bob@fleet.dev/primary",
      "oracle:account:claude/bob@fleet.dev/secondary",
    ]);
    // The account line: a bar, its usage, the time to the limit, the interval, what to do.
    const row = t.find((l) => l.startsWith("▲ alice@fleet.dev"))!;
    const used = `${Math.round(alice.used_percent)} %`;
    expect(row).toMatch(
      new RegExp(`^▲ alice@fleet\\.dev +5h +\\[█+░+\\] +${used} +${min(alice.time_to_limit_min)} +${Math.round(alice.low_min!)}–${min(alice.high_min)} slow down`),
    );
    expect(t.find((l) => l.startsWith("● bob@fleet.dev"))).toMatch(/5h +\[█░+\] +\d+ % +- +ok/);
    // The detail of the selected (the most urgent) window: the line, the action with the swap command.
    const detail = t.map((l) => l.slice(89)).join("\n");
    expect(detail).toContain(`claude/alice@fleet.dev primary window (5h)`);
    expect(detail).toContain(`${used} used · limit in ${min(alice.time_to_limit_min)} (${Math.round(alice.low_min!)}–${min(alice.high_min)})`);
    expect(detail).toMatch(new RegExp(`▲ slow down +\\$ ${SWAP}`));
    expect(detail).toMatch(/─ USAGE\s+\[█+░+\] \d+ %/);
    expect(detail).toContain(`burn ${Math.round(alice.burn_per_min * 60)} points/h · 5 agents working`);
    expect(detail).toMatch(/─ ALTERNATIVES\s+bob@fleet\.dev \d+ % used · \d+ % headroom/);
    expect(detail).toContain(`$ ${SWAP}`);
    expect(detail).toMatch(/swap by 2026-11-03 \d\d:\d\d UTC \(in \d+ min\)/);
  });

  it("fits an 80-column terminal: the line and the command on their own rows, nothing cut", async () => {
    const t = text(await drawn(vc, "oracle", 80, 24));
    const detail = t.map((l) => l.slice(35));
    const line = detail.find((l) => l.includes("used · limit"))!;
    expect(line.trimEnd()).toBe(`${Math.round(alice.used_percent)} % used · limit in ${min(alice.time_to_limit_min)} (${Math.round(alice.low_min!)}–${min(alice.high_min)})`);
    expect(detail.some((l) => l.trimEnd() === "▲ slow down")).toBe(true);
    expect(detail.some((l) => l.trimEnd() === `  $ ${SWAP}`)).toBe(true);
    // The list keeps the account, its usage and its time to the limit.
    expect(t.find((l) => l.startsWith("▲ alice@fleet"))).toMatch(new RegExp(`^▲ alice@fleet… +5h +\\d+ % +${min(alice.time_to_limit_min)}│`));
  });

  it("draws no colour under NO_COLOR: the urgency is in the marks and words", async () => {
    const f = frame(await drawn(vc, "oracle", 120, 30));
    const { out } = frameAnsi(f, null, "none");
    const codes = [...out.matchAll(/\x1b\[([0-9;]*)m/g)].flatMap((m) => (m[1] || "0").split(";").map(Number));
    expect(codes.filter((c) => (c >= 30 && c <= 49) || (c >= 90 && c <= 107))).toEqual([]);
    expect(frameText(f).join("\n")).toMatch(/▲ alice@fleet\.d\S* .* slow down/);
  });
});

describe("the Oracle pane on the demo fleet", () => {
  it("lists the disks filling within a week, soonest first, and details one with its time to 95 % and to full", async () => {
    const fleet = await createTuiFleet(join(dir, "demo"));
    await using demo = await openFixture(fleet);
    const disks = ((await demo.view("oracle", {})) as { data: OracleData }).data.disks.filter((d) => d.to_95_min !== null && d.to_95_min <= 7 * 1440);
    expect(disks.length).toBeGreaterThan(0);
    const s = await drawn(demo, "oracle", 160, 48, END);
    const items = listItems(s).filter((i) => i.group === "DISKS FILLING");
    expect(items.map((i) => i.key)).toEqual(disks.map((d) => `oracle:disk:${d.machine_id}:${d.mount}`));
    // node-07's /data is past 95 % and fills within hours.
    const i = listItems(s).findIndex((x) => x.key === "oracle:disk:node-07:/data");
    const t = text({ ...s, selected: { oracle: i } });
    expect(t.find((l) => l.startsWith("● node-07:/data"))).toMatch(/^● node-07:\/data +97 % +now +[\d.]+ h/);
    const detail = t.map((l) => l.slice(89)).join("\n");
    expect(detail).toMatch(/node-07:\/data \(\w+\)/);
    expect(detail).toMatch(/\[█+░*\] 97 % · [\d.]+ [kMGT]B free of [\d.]+ [kMGT]B/);
    expect(detail).toMatch(/fills [\d.]+ GB\/h/);
    expect(detail).toMatch(/95 % reached/);
    const d7 = disks.find((d) => d.machine_id === "node-07" && d.mount === "/data")!;
    expect(detail).toContain(`full in ${minutesText(d7.to_full_min!)}`);
    expect(detail).toMatch(/─ WHY\s+fills at/);
  });
});

describe("the Oracle pane without data", () => {
  it("says there is nothing to forecast and why; then shows planted text without its escapes", async () => {
    const config = await resolveConfig(
      { db: join(dir, "empty.duckdb"), machines: [{ id: "here", ssh: "local" }], collectors: [caut({ history: false }), caam()] },
      { source: "test" },
    );
    await using empty = await openCockpit({ config, clock: createFixedClock(NOW) });
    let t = text(await drawn(empty, "oracle", 80, 24));
    expect(t[2]).toMatch(/│ ORACLE  data never read/);
    expect(t[3]).toMatch(/^ nothing here yet +│/);
    const detail = t.map((l) => l.slice(35)).join("\n");
    expect(detail).toContain("─ ORACLE");
    expect(detail).toContain("nothing to forecast yet: no account usage,");
    // Why, from the view's warnings: the collectors have not run.
    expect(detail).toContain("no caut or caam data: caut has not run yet");

    // An account whose name carries escape sequences (as a remote caut could hand over).
    const row = (at: string, used: number) => ({
      machine_id: "here",
      collected_at: at,
      provider: "claude",
      account: `evil${PLANT}`,
      window_name: "primary",
      used_percent: used,
      window_minutes: 300,
      resets_at: "2026-11-03T12:00:00Z",
    });
    await empty.store.insert("account_usage_snapshots", [row("2026-11-03T08:50:00Z", 50), row("2026-11-03T09:00:00Z", 60), row("2026-11-03T09:10:00Z", 70)]);
    t = text(await drawn(empty, "oracle", 160, 48));
    const all = t.join("\n");
    expect(all).toContain("evilEVIL");
    expect(all).not.toContain("pwned");
  });
});

describe("the Oracle pane in tmux", () => {
  const socket = `vc-oracle-tui-${process.pid}`;
  const entry = readFileSync(join(repoRoot, "cli/index.ts"), "utf8").includes("commands/tui.ts") ? `${join(repoRoot, "cli/index.ts")} tui` : join(repoRoot, "test/tui/_main.ts");
  let env: Record<string, string>;
  const { tmux, waitFor } = tmuxDriver(socket, "oracle", () => env);

  beforeAll(async () => {
    requireSystem("tmux");
    // The TUI opens the replayed store itself: this process lets go of it first.
    await close();
    env = isolatedEnv(dir, { VC_NOW: NOW.toISOString(), TERM: "xterm-256color", COLORTERM: "truecolor" });
    writeFileSync(
      join(dir, "vc.config.ts"),
      `import { defineConfig } from "vibe-cockpit";
import { caam, caut, ntm } from "vibe-cockpit/plugins";
export default defineConfig({ db: ${JSON.stringify(db)}, data_dir: ${JSON.stringify(dir)}, machines: [{ id: "m1", ssh: "local" }, { id: "m2", ssh: "local" }], collectors: [caut({ history: false }), caam(), ntm()] });
`,
    );
  });
  afterAll(() => {
    Bun.spawnSync(["tmux", "-L", socket, "kill-server"], { env, stdout: "ignore", stderr: "ignore" });
  });

  it("shows the account line and the swap command after o, at 80x24 and 160x48, and quits cleanly", async () => {
    tmux("new-session", "-d", "-s", "oracle", "-x", "80", "-y", "24", "bash --norc --noprofile");
    tmux("set-option", "-t", "oracle", "remain-on-exit", "on");
    tmux("send-keys", "-t", "oracle", "-l", `export PS1='READY$ '; clear; bun ${entry} --config ${join(dir, "vc.config.ts")} --no-poll; echo "EXIT=$?"`);
    tmux("send-keys", "-t", "oracle", "Enter");
    await waitFor((t) => t.includes("MACHINES (2)") && t.includes("4 Orac"), "the overview with the Oracle tab");
    tmux("send-keys", "-t", "oracle", "o");
    let t = await waitFor((x) => x.includes("ACCOUNTS · claude (4)") && x.includes("$ caam activate"), "the Oracle pane");
    const used = `${Math.round(alice.used_percent)} % used · limit in ${min(alice.time_to_limit_min)} (${Math.round(alice.low_min!)}–${min(alice.high_min)})`;
    expect(t).toContain(used);
    expect(t).toContain("▲ slow down");
    expect(t).toContain(`$ ${SWAP}`);
    expect(t).toMatch(/ORACLE  data \d+ (s|min) ago/);
    for (const l of t.split("\n")) expect(l.length).toBeLessThanOrEqual(80);

    tmux("resize-window", "-t", "oracle", "-x", "160", "-y", "48");
    // The wide pane redraws in steps: wait until the detail's command line is there too.
    t = await waitFor((x) => x.includes("4 Oracle") && x.includes("BETWEEN") && new RegExp(`▲ slow down +\\$ ${SWAP}`).test(x), "the wide Oracle pane");
    expect(t).toMatch(new RegExp(`▲ alice@fleet\\.dev +5h +\\[█+░+\\] +${Math.round(alice.used_percent)} % +${min(alice.time_to_limit_min)} +\\d+–\\d+ min slow down`));
    expect(t).toMatch(new RegExp(`▲ slow down +\\$ ${SWAP}`));
    expect(t).toContain(used);
    for (const l of t.split("\n")) expect(l.length).toBeLessThanOrEqual(160);

    tmux("send-keys", "-t", "oracle", "q");
    await waitFor((x) => /EXIT=0\s*\nREADY\$/.test(x), "a clean exit");
  });
});
