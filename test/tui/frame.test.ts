import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Cockpit } from "../../lib/index.ts";
import { reduce } from "../../lib/tui/app.ts";
import { frame, frameText, listItems, parseFilter, selectedAlert, selectedItem, tabsOf, type ViewState } from "../../lib/tui/frame.ts";
import { loadCore, loadScreen } from "../../lib/tui/app.ts";
import { sessionEvents } from "../../lib/tui/screens/common.ts";
import { defineScreen } from "../../lib/tui/screen.ts";
import { styles } from "../../lib/tui/theme.ts";
import { screensFor } from "../../lib/tui/screens/index.ts";
import { frameAnsi } from "../../lib/tui/render.ts";
import { clean, sparkline } from "../../lib/tui/text.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadedState, openFixture } from "./_data.ts";
import { createTuiFleet, TOOLS_MACHINE, TOOLS_REPO } from "./_fixture.ts";

setDefaultTimeout(60_000);

let vc: Cockpit;
const dir = mkdtempSync(join(tmpdir(), "vc-tui-frame-"));
beforeAll(async () => {
  const fleet = await createTuiFleet(dir);
  vc = await openFixture(fleet);
});
afterAll(async () => {
  await vc?.close();
  rmSync(dir, { recursive: true, force: true });
});

const END_MS = Date.parse("2026-08-20T15:00:00Z");
const SIZES = [
  { width: 80, height: 24 },
  { width: 160, height: 48 },
];

function check(s: ViewState): string[] {
  const f = frame(s);
  expect(f.rows.length).toBe(s.height);
  const text = frameText(f);
  for (const line of text) expect(line.length).toBe(s.width);
  for (const row of f.rows) for (const run of row) expect(run.text).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  return text;
}

const expected: Record<string, RegExp[]> = {
  overview: [/fleet health 82 % critical/, /ALERTS \(4\)/, /MACHINES \(20\)/, /DO NEXT/, /node-07 +10 %/, /HEALTH/],
  machine: [
    /node-07 ● health 10 %/,
    /cpu  [▁▂▃▄▅▆▇█]+ now \d+ %/,
    /cpu, mem, disk on 0–100 %; load [\d.]+–[\d.]+/,
    /load [▁▂▃▄▅▆▇█]/,
    /mem  [▁▂▃▄▅▆▇█]/,
    /disk [▁▂▃▄▅▆▇█]/,
    /LAST 6 h/,
    /DISKS/,
    /\/data +97 % full/,
  ],
  repos: [/REPOS \(3\)/, /clean-repo/, /dirty/],
  // node-03's accounts come from the real caut/caam outputs.
  accounts: [
    /ACCOUNTS \(caut\) \(2\)/,
    /claude +jeff@flywheel/,
    /91 %/,
    /PROFILES \(caam\) \(6\)/,
    /▶ claude +work/,
    /old-contractor +error/,
    /WINDOWS/,
    /primary +87 % used/,
    /USE NEXT \(claude\)/,
  ],
  agents: [/AGENTS \(ntm\)/, /12 agents in 3 sessions, 1 attached/, /SESSIONS \(3\)/],
  mail: [/MAIL: 0 urgent unread, 6 awaiting ack/, /! \[vc-7ab\] Blocked/, /FILE RESERVATIONS: 3 active/],
  events: [/ALERTS \(4\)/, /DCG DENIES \(3\)/, /deny core\.git/, /PT FINDINGS \(4\)/, /MAIL \(6\)/],
  // The demo fleet has no attention feed: the pane says nobody waits, with the counts.
  attention: [/NEEDS YOU/, /nobody waits for you: \d+ working/],
  beads: [/REPOS WITH BEADS \(1\)/, /NEXT PICKS \(bv\)/],
  oracle: [/ACCOUNTS · claude \(\d+\)/, /DISKS FILLING \(\d+\)/, /node-07:\/data +97 %/, /─ ALTERNATIVES/],
  // No run yet on the demo fleet: the plugins' protocols with their triggers.
  guardian: [/PROTOCOLS \(\d+\)/, /─ PROTOCOL/, /trigger +the oracle/],
};

/** The tab screens the fixture's config has: the core's and the bundled plugins'. */
const tabIds = ["overview", "machine", "accounts", "oracle", "attention", "agents", "mail", "repos", "beads", "events", "guardian"];

describe("frame", () => {
  it("has a tab per screen, the plugins' between the core's", async () => {
    const s = await loadedState(vc, "overview", SIZES[1]!);
    expect(
      tabsOf(s)
        .map((t) => t.id)
        .sort(),
    ).toEqual([...tabIds].sort());
    const tabs = check(s)[1]!;
    for (const t of tabsOf(s)) expect(tabs).toContain(t.title);
  });

  for (const size of SIZES) {
    for (const id of tabIds) {
      it(`draws ${id} at ${size.width}x${size.height} with its content, no row wider than the screen`, async () => {
        const s = await loadedState(vc, id, size, id === "machine" ? "node-07" : id === "agents" || id === "mail" ? TOOLS_MACHINE : null);
        const text = check(s).join("\n");
        for (const re of expected[id]!) expect(text).toMatch(re);
        // Every screen says how old its data is, in words.
        expect(text).toMatch(/data (\d+ (s|min|h|d) ago|never read)/);
        const i = tabsOf(s).findIndex((t) => t.id === id);
        const sc = tabsOf(s)[i]!;
        expect(text).toContain(`${i < 9 ? i + 1 : sc.key} ${size.width >= 110 ? sc.title : (sc.short ?? sc.title)}`);
      });
    }
  }

  it("lays the machine list out as a table: more columns when wide, cut words end in an ellipsis", async () => {
    const narrow = await loadedState(vc, "machine", { width: 80, height: 24 }, "node-07");
    const wide = await loadedState(vc, "machine", { width: 200, height: 50 }, "node-07");
    const header = (s: typeof narrow) => check(s).find((l) => l.includes("MACHINE ") && l.includes("HEALTH"))!;
    const hn = header(narrow);
    const hw = header(wide);
    for (const col of ["MACHINE", "HEALTH", "MEM", "DISK"]) expect(hn).toContain(col);
    for (const col of ["MACHINE", "HEALTH", "LOAD/CPU", "MEM", "DISK", "ALERTS", "AGENTS", "POLLED"]) expect(hw).toContain(col);
    expect(hn).not.toContain("POLLED");
    // node-07: health 10 % while its /data disk is 97 % full — each number under its own header.
    const row = check(wide).find((l) => /^● node-07 /.test(l))!;
    expect(row).toMatch(/node-07\s+10 %.*97 %/);
    expect(row).toMatch(/\d+ (s|min) ago/);
    // A detail line longer than its pane ends in "…", never a word cut silently.
    const acc = await loadedState(vc, "accounts", { width: 80, height: 24 });
    const windows = check(acc).filter((l) => /primary|secondary/.test(l));
    expect(windows.length).toBeGreaterThan(0);
    for (const l of windows) expect(l.trimEnd()).toMatch(/…$|\)$/);
  });

  it("leaves pseudo filesystems out of the machine's disks and shows the absolute time beside a relative one", async () => {
    const s = await loadedState(vc, "machine", { width: 160, height: 60 }, "node-07");
    const t = check(s).join("\n");
    expect(t).not.toMatch(/\/dev\/shm|\/sys\/fs\/cgroup|\/run\/user/);
    expect(t).toMatch(/\/ +\d+ % full/);
    const ev = check(await loadedState(vc, "events", { width: 160, height: 48 })).join("\n");
    expect(ev).toMatch(/30 min ago \(2026-08-20 14:45 UTC\)/);
  });

  it("marks stale data STALE", async () => {
    const s = await loadedState(vc, "machine", { width: 100, height: 30 }, "node-19");
    const text = check(s);
    expect(text.join("\n")).toMatch(/node-19 ● health 10 %[\s\S]*top issue: .*stale/);
    // The whole fleet is stale an hour later.
    const later = check({ ...s, screen: "overview", now: new Date(s.now.getTime() + 3_600_000) });
    expect(later[0]).toContain("STALE");
    expect(later[2]).toContain("STALE");
  });

  it("shows ERR with the reason when a view fails, and draws the rest of the screen", async () => {
    const s = await loadedState(vc, "overview", SIZES[1]!);
    // A screen whose view fails (a machine nobody configured), as a plugin's pane could.
    const broken = defineScreen({
      id: "broken",
      title: "Broken",
      key: "z",
      load: async ({ view }) => (await view("series", { machine: "no-such-machine" })).data,
      items: () => [],
      detail: () => [],
    });
    let b: ViewState = { ...s, screens: [...s.screens, broken], screen: "broken" };
    b = { ...b, data: await loadScreen(vc, b) };
    const t = check(b);
    expect(b.data.screens.broken?.error).toMatch(/no-such-machine/);
    expect(t[2]).toMatch(/ERR/);
    expect(t.join("\n")).toMatch(/ERR +.*no-such-machine/);
    expect(t.join("\n")).not.toContain("nothing here yet");
    expect(t[0]).toContain("fleet health 82 %");
    expect(t[1]).toContain("Broken");
    // A fleet view that failed is named in the top bar; what did load is still drawn.
    const failed = check({ ...s, data: { ...s.data, failed: { fleet: "fleet: store closed" }, fleet: null } });
    expect(failed[0]).toContain("ERR fleet");
    expect(failed.join("\n")).toContain("MACHINES (20)");
  });

  it("never lets a planted escape sequence through (alert, repo name, mail subject)", async () => {
    for (const [screen, m] of [
      ["overview", null],
      ["repos", null],
      ["mail", "node-07"],
      ["events", null],
    ] as const) {
      for (const size of SIZES) {
        const s = await loadedState(vc, screen, size, m);
        const all = [s, ...listItems(s).map((_, i) => ({ ...s, selected: { [screen]: i } }))];
        let sawPlant = false;
        for (const st of all) {
          const f = frame(st);
          const ansi = frameAnsi(f, null).out;
          const text = frameText(f).join("\n");
          if (text.includes("EVIL")) sawPlant = true;
          expect(text).not.toContain("\x1b");
          expect(text).not.toContain("\x07");
          expect(ansi).not.toContain("\x1b[2J\x1b]0;pwned");
          expect(ansi).not.toContain("\x1b]0;");
          expect(ansi).not.toContain("\x1b[31mEVIL");
        }
        expect(sawPlant).toBe(true);
      }
    }
  });

  it("fits a terminal too small for the layout", async () => {
    const s = await loadedState(vc, "overview", SIZES[0]!);
    for (const [width, height] of [
      [30, 8],
      [10, 2],
      [39, 30],
    ] as const) {
      const text = check({ ...s, width, height });
      expect(text[0]).toContain(width >= 22 ? "terminal too small" : "vc:");
    }
  });

  it("draws the help overlay with every screen's key", async () => {
    const s = await loadedState(vc, "overview", SIZES[1]!);
    const text = check(reduce(s, "?").state).join("\n");
    expect(text).toContain("KEYS");
    expect(text).toContain("silence the selected alert for 1h");
    expect(text).toContain("1 Overview 2 Machine");
  });
});

describe("keys", () => {
  it("moves the selection and drills from an alert into its machine", async () => {
    const s = await loadedState(vc, "overview", SIZES[1]!);
    expect(selectedItem(s)?.alert).toBeDefined();
    let t = reduce(reduce(s, "DOWN").state, "DOWN").state;
    expect(t.selected.overview).toBe(2);
    t = reduce(t, "UP").state;
    expect(selectedItem(t)?.machineId).toBe("node-02");
    const r = reduce(t, "ENTER");
    expect(r.state.screen).toBe("machine");
    expect(r.action?.type).toBe("load");
    expect(selectedItem(r.state)?.machineId).toBe("node-02");
    expect(reduce(r.state, "ESCAPE").state.screen).toBe("overview");
    const repos = reduce(r.state, "ENTER").state;
    expect(repos.screen).toBe("repos");
    expect(repos.filter.machine).toBe("node-02");
    const text = frameText(frame({ ...repos, data: await loadScreen(vc, repos) })).join("\n");
    expect(text).toContain("filter machine:node-02");
    // The breadcrumb names the machine drilled into.
    expect(text).toContain("overview › node-02 › repos");
    expect(text).toContain("REPOS (1)");
  });

  it("keeps the machine it entered through the breadcrumb, from the machine list too", async () => {
    let s = await loadedState(vc, "machine", SIZES[1]!, "node-03");
    const i = listItems(s).findIndex((x) => x.machineId === "node-01");
    s = reduce({ ...s, selected: { machine: i } }, "ENTER").state;
    s = { ...s, data: await loadScreen(vc, s) };
    const t = frameText(frame(s)).join("\n");
    expect(s.screen).toBe("repos");
    expect(s.filter.machine).toBe("node-01");
    expect(t).toContain("node-01 › repos");
    expect(t).not.toContain("node-03 › repos");
    expect(t).toContain("REPOS (1)");
    expect(t).not.toContain("nothing matches");
  });

  it("jumps to screens by letter, digit and function key", async () => {
    const s = await loadedState(vc, "overview", SIZES[0]!);
    const to = (k: string) => reduce(s, k).state.screen;
    expect([to("a"), to("g"), to("m"), to("l"), to("b"), to("e")]).toEqual(["accounts", "repos", "agents", "mail", "beads", "events"]);
    const tabs = tabsOf(s).map((t) => t.id);
    expect([to("F1"), to("F2"), to("3"), to("F8")]).toEqual([tabs[0]!, tabs[1]!, tabs[2]!, tabs[7]!]);
    expect(to("9")).toBe(tabs[8]!);
    expect(to("n")).toBe("attention");
  });

  it("searches as you type, keeps it on Enter and clears it on Esc", async () => {
    let s = await loadedState(vc, "overview", SIZES[0]!);
    for (const k of ["/", "n", "o", "d", "e", "-", "1", "3"]) s = reduce(s, k).state;
    expect(s.mode).toBe("search");
    expect(listItems(s).map((i) => i.machineId)).toEqual(["node-13"]);
    s = reduce(s, "ENTER").state;
    expect(s.mode).toBe("normal");
    expect(frameText(frame(s)).join("\n")).toContain('search "node-13"');
    s = reduce(s, "ESCAPE").state;
    expect(listItems(s).length).toBe(24);
  });

  it("filters by machine, repo, provider and window", async () => {
    expect(parseFilter("machine:node-0 repo:x provider=claude window:2d")).toEqual({ filter: { machine: "node-0", repo: "x", provider: "claude", windowHours: 48 } });
    expect(parseFilter("node-1")).toEqual({ filter: { machine: "node-1" } });
    let s = await loadedState(vc, "overview", SIZES[0]!);
    s = reduce(s, "f").state;
    for (const k of "node-07") s = reduce(s, k).state;
    s = reduce(s, "ENTER").state;
    expect(s.filter).toEqual({ machine: "node-07" });
    expect(listItems(s).map((i) => i.key)).toEqual(["machine:node-07"]);
    expect(frameText(frame(s)).join("\n")).toContain("filter machine:node-07");
  });

  it("names an unknown filter key and keeps the bar open to fix it", async () => {
    expect(parseFilter("bogus:1").error).toBe('unknown filter key "bogus": use machine, repo, provider, window');
    expect(parseFilter("window:abc").error).toContain("window:abc is not a duration");
    let s = await loadedState(vc, "overview", SIZES[0]!);
    s = reduce(s, "f").state;
    for (const k of "bogus:1") s = reduce(s, k).state;
    const r = reduce(s, "ENTER");
    expect(r.state.mode).toBe("filter");
    expect(r.state.filter).toEqual({});
    expect(r.action).toBeUndefined();
    expect(frameText(frame(r.state)).join("\n")).toContain('unknown filter key "bogus"');
  });

  it("DO NEXT honours the filter", async () => {
    const s = await loadedState(vc, "overview", SIZES[1]!);
    const all = frameText(frame(s)).join("\n");
    expect(all).toMatch(/\d\. node-13 /);
    const f = { ...s, filter: { machine: "node-07" }, selected: { overview: 0 } };
    const lines = frameText(frame(f));
    const doNext = lines.slice(lines.findIndex((l) => l.includes("─ DO NEXT")));
    const items = doNext.filter((l) => /│ \d+\. /.test(l));
    expect(items.length).toBeGreaterThan(0);
    for (const l of items) expect(l).toMatch(/\d+\. node-07 /);
    expect(frameText(frame({ ...s, filter: { machine: "node-05" } })).join("\n")).toContain('nothing to do on machines matching "node-05"');
  });

  it("steps the history window with w: 1 h, 6 h, 24 h, 7 d", async () => {
    let s = await loadedState(vc, "machine", SIZES[1]!, "node-07");
    const seen: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      s = reduce(s, "w").state;
      seen.push(s.filter.windowHours);
    }
    expect(seen).toEqual([24, 168, 1, 6]);
    s = reduce(s, "w").state;
    s = { ...s, data: await loadScreen(vc, s) };
    expect(frameText(frame(s)).join("\n")).toContain("LAST 1 d");
  });

  it("drills overview → machine → repos → repo → event, and Esc climbs back one level at a time", async () => {
    let s = await loadedState(vc, "overview", SIZES[1]!);
    const step = async (key: string) => {
      s = reduce(s, key).state;
      s = { ...s, data: await loadScreen(vc, s) };
      return frameText(frame(s)).join("\n");
    };
    const at = listItems(s).findIndex((i) => i.key === `machine:${TOOLS_MACHINE}`);
    s = { ...s, selected: { overview: at } };
    let t = await step("ENTER");
    expect(s.screen).toBe("machine");
    expect(t).toMatch(/node-03 ● health 51 %/);
    t = await step("ENTER");
    expect(s.screen).toBe("repos");
    expect(t).toContain("filter machine:node-03");
    expect(t).toContain("REPOS (1)");
    t = await step("ENTER");
    expect(s.screen).toBe("repo");
    // The repo's events: dcg denies in its folder, its mail project, its ntm session, open beads, status changes.
    expect(t).toMatch(/vibe_cockpit on node-03 dirty ↓3 on main/);
    for (const g of ["DCG DENIES (1)", "MAIL (", "NTM SESSIONS (1)", "OPEN BEADS (1)", "STATUS CHANGES (2)"]) expect(t).toContain(g);
    expect(t).toContain("deny core.git:reset-hard");
    expect(t).not.toContain("Done already"); // a closed bead
    expect(t).toContain("overview › node-03 › repos › vibe_cockpit");
    expect(t).toContain(TOOLS_REPO);
    // Sources come in plugin order: select the deny and open it.
    s = { ...s, selected: { ...s.selected, repo: listItems(s).findIndex((i) => i.event?.source === "dcg") } };
    t = await step("ENTER");
    expect(s.screen).toBe("event");
    expect(t).toMatch(/EVENT\s+data/);
    expect(t).toMatch(/● HIGH deny core\.git:reset-hard/);
    expect(t).toMatch(/command\s+git reset --hard/);
    expect(t).toMatch(/cwd\s+\/data\/projects\/vibe_cockpit/);
    expect(t).toContain("Esc back");
    for (const back of ["repo", "repos", "machine", "overview"]) {
      await step("ESCAPE");
      expect(s.screen).toBe(back);
    }
    expect(s.filter).toEqual({});
    expect(selectedItem(s)?.machineId).toBe(TOOLS_MACHINE);
  });

  it("opens an event from the Events screen, scrolls it, and acks an alert there", async () => {
    let s = await loadedState(vc, "events", SIZES[0]!);
    expect(selectedItem(s)?.event?.source).toBe("alerts");
    expect(reduce(s, "x").action).toMatchObject({ type: "ack", alert: { alert_id: "rule0:0" } });
    const pt = listItems(s).findIndex((i) => i.event?.source === "pt");
    s = reduce({ ...s, selected: { events: pt } }, "ENTER").state;
    expect(s.screen).toBe("event");
    const t = check(s).join("\n");
    expect(t).toMatch(/KILL pid 418822/);
    expect(t).toMatch(/classification\s+abandoned/);
    // Not an alert: x says so instead of acking.
    expect(reduce(s, "x").action).toBeUndefined();
    // Longer than the screen: it scrolls (a short event does not move).
    const small = { ...s, height: 12 };
    const down = reduce(reduce(small, "DOWN").state, "DOWN").state;
    expect(down.scroll).toBe(2);
    expect(check(down)[3]).toBe(check(small)[5]);
    expect(reduce(down, "HOME").state.scroll).toBe(0);
    // An alert opened as an event can be acked and silenced from there.
    const alert = reduce({ ...s, screen: "events", back: [], selected: { events: 1 } }, "ENTER").state;
    expect(alert.screen).toBe("event");
    expect(selectedAlert(alert)?.alert_id).toBe("rule1:1");
    expect(reduce(alert, "s").action).toMatchObject({ type: "silence", alert: { alert_id: "rule1:1" } });
    expect(check(alert).join("\n")).toContain("x ack · s silence 1h");
  });

  it("lists cass hits after vc's facts when a search is kept, and opens one as an event", async () => {
    let s = await loadedState(vc, "overview", SIZES[1]!);
    for (const k of ["/", ..."flock"]) s = reduce(s, k).state;
    const r = reduce(s, "ENTER");
    expect(r.action).toEqual({ type: "search", query: "flock" });
    s = r.state;
    expect(listItems(s)).toEqual([]);
    // What cockpit.search() answered (the cass fixture's hits on node-03, node-05 without an index).
    const hits = JSON.parse(await Bun.file(join(import.meta.dir, "../fixtures/cass/search.json")).text()).hits as Record<string, unknown>[];
    const { searchHits } = await import("../../plugins/cass/search.ts");
    const found = {
      query: "flock",
      machines: ["node-03", "node-05"],
      hits: searchHits({ hits }).map((h) => ({ ...h, machine_id: "node-03", collector: "cass" })),
      errors: [{ machine_id: "node-05", collector: "cass", error: "cass has no index on node-05 yet: run `cass index --full` there" }],
    };
    s = {
      ...s,
      data: {
        ...s.data,
        sessions: { query: "flock", pending: false, events: sessionEvents(found), errors: ["node-05: cass has no index on node-05 yet: run `cass index --full` there"] },
      },
    };
    const t = check(s).join("\n");
    expect(t).toContain("SESSIONS (content search) (3)");
    expect(t).toContain("content: 3 hits");
    expect(t).toContain("node-05: cass has no index");
    expect(t).toMatch(/claude_code Fix rch worker lock contention/);
    const ev = reduce(s, "ENTER").state;
    expect(ev.screen).toBe("event");
    const e = check(ev).join("\n");
    expect(e).toContain("CONTENT");
    expect(e).toContain("switching to a per-target lock lets both proceed");
    expect(e).toMatch(/\$ cass view \/home\/ubuntu\/\.claude\/projects\/.*\.jsonl -n 418/);
    // Esc goes back to the list; Esc again drops the search and its hits.
    const back = reduce(ev, "ESCAPE").state;
    expect(back.screen).toBe("overview");
    expect(listItems(back).length).toBe(3);
    const cleared = reduce(back, "ESCAPE").state;
    expect(cleared.search).toBe("");
    expect(cleared.data.sessions).toBeUndefined();
    expect(listItems(cleared).length).toBe(24);
  });

  it("narrows the Events screen to a time window and a machine from the filter bar", async () => {
    let s = await loadedState(vc, "events", SIZES[1]!);
    expect(frameText(frame(s)).join("\n")).toContain("DCG DENIES (3)");
    s = reduce(s, "f").state;
    for (const k of "window:15m") s = reduce(s, k).state;
    s = reduce(s, "ENTER").state;
    s = { ...s, data: await loadScreen(vc, s) };
    let t = check(s).join("\n");
    expect(s.filter).toEqual({ windowHours: 0.25 });
    expect(t).toContain("DCG DENIES (1)"); // 15:05 only; 14:56 and 14:48 are older than 15 minutes
    expect(t).toContain("filter window:0.25h");
    s = { ...s, filter: { machine: "NODE-0" } };
    s = { ...s, data: await loadScreen(vc, s) };
    expect(check(s).join("\n")).toContain("DCG DENIES (3)"); // node-03 matches "node-0" as in every list
    s = { ...s, filter: { machine: "node-07" } };
    s = { ...s, data: await loadScreen(vc, s) };
    t = check(s).join("\n");
    expect(t).not.toContain("DCG DENIES");
    expect(t).toContain("MAIL (1)");
    expect(t).toContain("BlueFox");
  });

  it("recommends where to move work on the accounts screen, or says every account is near its limit", async () => {
    const s = await loadedState(vc, "accounts", SIZES[1]!);
    const main = listItems(s).findIndex((i) => (i.value as any)?.p?.profile === "main");
    let t = check({ ...s, selected: { accounts: main } }).join("\n");
    expect(t).toMatch(/codex\/main on node-03 \(caam\)/);
    expect(t).toMatch(/USE NEXT \(codex\)\s*\n.*codex\/(ops@flywheel\.dev|team) 41 % used/);
    const l = s.data.screens.accounts!;
    const a = l.data as any;
    const full = {
      ...s,
      data: {
        ...s.data,
        screens: {
          accounts: {
            ...l,
            data: { ...a, accounts: a.accounts.map((x: any) => ({ ...x, max_used_percent: 90 })), profiles: a.profiles.map((x: any) => ({ ...x, max_used_percent: 95 })) },
          },
        },
      },
    };
    t = check(full).join("\n");
    // (wrapped in the pane: read it as one line)
    expect(t.replace(/ *\n[^│\n]*│ */g, " ")).toContain("every claude account is near its limit (the least used: alt at 95 %)");
  });

  it("strips escapes from cass content, dcg commands and caam profile names on every level", async () => {
    const { PLANT } = await import("./_fixture.ts");
    const { searchHits } = await import("../../plugins/cass/search.ts");
    const hit = {
      title: `t${PLANT}`,
      snippet: `s${PLANT}`,
      content: `c${PLANT} `.repeat(40),
      source_path: `/p${PLANT}.jsonl`,
      line_number: 3,
      agent: `a${PLANT}`,
      workspace: `/w${PLANT}`,
      score: 1,
      created_at: END_MS,
    };
    const found = {
      query: "q",
      machines: ["node-03"],
      hits: searchHits({ hits: [hit] }).map((h) => ({ ...h, machine_id: "node-03", collector: "cass" })),
      errors: [{ machine_id: "node-05", collector: "cass", error: `e${PLANT}` }],
    };
    let s = await loadedState(vc, "overview", SIZES[0]!);
    s = { ...s, search: "q", data: { ...s.data, sessions: { query: "q", pending: false, events: sessionEvents(found), errors: [`node-05: e${PLANT}`] } } };
    const acc = await loadedState(vc, "accounts", SIZES[0]!);
    const al = acc.data.screens.accounts!;
    const ad = al.data as any;
    const evil = {
      ...acc,
      data: { ...acc.data, screens: { accounts: { ...al, data: { ...ad, profiles: ad.profiles.map((p: any) => ({ ...p, profile: `${p.profile}${PLANT}`, active: false })) } } } },
      selected: { accounts: 0 },
    };
    for (const st of [s, reduce(s, "ENTER").state, evil]) {
      for (const size of SIZES) {
        const f = frame({ ...st, ...size });
        const text = frameText(f).join("\n");
        expect(text).toContain("EVIL");
        expect(text).not.toContain("\x1b");
        expect(frameAnsi(f, null).out).not.toContain("\x1b]0;pwned");
      }
    }
  });

  it("asks for ack and silence only on an alert, and quits on q and Ctrl-C", async () => {
    const s = await loadedState(vc, "overview", SIZES[0]!);
    const ack = reduce(s, "x").action;
    expect(ack?.type).toBe("ack");
    expect(reduce(s, "s").action?.type).toBe("silence");
    const onMachine = reduce(s, "END").state;
    expect(reduce(onMachine, "x").action).toBeUndefined();
    expect(reduce(onMachine, "x").state.message).toContain("select an alert");
    expect(reduce(s, "q").action?.type).toBe("quit");
    expect(reduce(s, "CTRL_C").action?.type).toBe("quit");
  });
});

describe("render", () => {
  it("redraws only the rows that changed, and everything after a resize", async () => {
    const s = await loadedState(vc, "overview", SIZES[0]!);
    const first = frameAnsi(frame(s), null);
    expect(first.changed).toBe(24);
    const cache = { rows: first.rows, width: 80, height: 24 };
    expect(frameAnsi(frame(s), cache).changed).toBe(0);
    const moved = frameAnsi(frame(reduce(s, "DOWN").state), cache);
    expect(moved.changed).toBeGreaterThan(0);
    expect(moved.changed).toBeLessThan(24);
    expect(frameAnsi(frame({ ...s, width: 100, height: 30 }), cache).changed).toBe(30);
  });
});

describe("text", () => {
  it("strips escapes and controls and keeps CJK and emoji (two cells each: see text.test.ts)", () => {
    expect(clean("a\x1b[31mb\x1b]0;t\x07c\x07\td\ne")).toBe("abc d e");
    expect(clean("界😀x\u0301\u200b")).toBe("界😀x\u0301");
  });
  it("draws a sparkline of exactly the width", () => {
    expect(sparkline([0, 50, 100], 3, 100)).toBe("▁▅█");
    expect(sparkline([], 5)).toBe("     ");
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4).length).toBe(4);
  });
});

describe("machine and beads screens", () => {
  it("show rano connections and bv's next picks and blockers, escapes stripped", async () => {
    const ev = await loadedState(vc, "machine", { width: 120, height: 60 }, "node-01");
    const evText = check(ev).join("\n");
    // rano's machine section, drawn as it comes (the Machine screen names no plugin's section).
    expect(evText).toContain("CONNECTIONS");
    expect(evText).toMatch(/api\.anthropic\.com.*connects=2/);
    expect(evText).toMatch(/evil.*\.example/);
    const beads = await loadedState(vc, "beads", { width: 120, height: 40 });
    const beadsText = check(beads).join("\n");
    expect(beadsText).toContain("NEXT PICKS (bv)");
    expect(beadsText).toContain("vc-2");
    expect(beadsText).toMatch(/vc-3\s+Blocker to clear\s+unblocks 3/);
  });
});

describe("screens from plugins", () => {
  const pane = (id: string, key?: string) => defineScreen({ id, title: id, key, items: () => [], detail: () => [] });
  it("puts each plugin's panes between the core's tabs, in plugin order", () => {
    const ids = screensFor([
      { name: "a", screens: [pane("one", "1x")] },
      { name: "b", screens: [pane("two")] },
    ]).map((s) => s.id);
    expect(ids).toEqual(["overview", "machine", "one", "two", "events", "guardian", "repo", "event", "guardian-run"]);
  });
  it("refuses two screens with one id or one key, naming both owners", () => {
    expect(() =>
      screensFor([
        { name: "a", screens: [pane("x")] },
        { name: "b", screens: [pane("x")] },
      ]),
    ).toThrow('TUI screen id "x" is claimed by both plugin a and plugin b');
    expect(() =>
      screensFor([
        { name: "a", screens: [pane("x", "u")] },
        { name: "b", screens: [pane("y", "u")] },
      ]),
    ).toThrow('TUI screen key "u" is claimed by both plugin a and plugin b');
    expect(() => screensFor([{ name: "a", screens: [pane("events")] }])).toThrow('TUI screen id "events" is claimed by both vc and plugin a');
  });
});

describe("the Overview's strips", () => {
  it("draws a screen's strip above the lists, read with the fleet views, and ERR for a strip whose read fails", async () => {
    const base = await loadedState(vc, "overview", SIZES[0]!);
    const firing = defineScreen({
      id: "firing",
      title: "Firing",
      key: "z",
      items: () => [],
      detail: () => [],
      strip: {
        load: async ({ view }) => ((await view("alerts")).data as { alerts: { state: string }[] }).alerts.filter((a) => a.state === "firing").length,
        cells: (_s, n) => (n ? [[` NEEDS YOU ${n} `, styles.stale]] : null),
      },
    });
    const broken = defineScreen({
      id: "broken",
      title: "Broken",
      items: () => [],
      detail: () => [],
      strip: { load: async ({ view }) => view("series", { machine: "nope" }), cells: () => null },
    });
    const screens = [...base.screens, firing, broken];
    const s = { ...base, screens, data: await loadCore(vc, base.data, screens) };
    const t = check(s);
    expect(t[2]).toContain("NEEDS YOU 4");
    expect(t[3]).toMatch(/ERR +Broken: .*nope/);
    expect(t[4]).toContain("ALERTS (4)"); // the lists start below the strips
    // Not on other screens; and a strip with nothing to say takes no row.
    expect(check({ ...s, screen: "events" })[2]).not.toContain("NEEDS YOU");
    const quiet = { ...s, data: { ...s.data, strips: { firing: { key: "", data: 0 } } } };
    expect(check(quiet)[2]).toContain("ALERTS (4)");
  });
});
