import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Cockpit } from "../../lib/index.ts";
import { reduce } from "../../lib/tui/app.ts";
import { frame, frameText, listItems, parseFilter, screens, selectedItem, type ScreenId, type ViewState } from "../../lib/tui/frame.ts";
import { frameAnsi } from "../../lib/tui/render.ts";
import { clean, sparkline } from "../../lib/tui/text.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadedState, openFixture } from "./_data.ts";
import { createTuiFleet } from "./_fixture.ts";

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

const expected: Record<ScreenId, RegExp[]> = {
  overview: [/fleet 84% critical/, /ALERTS \(4\)/, /MACHINES \(20\)/, /DO NEXT/, /node-07/],
  machine: [/node-07/, /cpu  [▁▂▃▄▅▆▇█]/, /load [▁▂▃▄▅▆▇█]/, /mem  [▁▂▃▄▅▆▇█]/, /disk [▁▂▃▄▅▆▇█]/, /FILESYSTEMS/, /\/data +97%/, /TOP PROCESSES/, /RCH/, /AGENTS/],
  repos: [/REPOS \(2\)/, /clean-repo/, /dirty/],
  accounts: [/no account data/],
  agents: [/AGENTS \(ntm\)/, /MAIL/, /BlueFox|urgent/, /FILE RESERVATIONS/],
  events: [/DCG DENIES/, /PT FINDINGS/, /RANO/],
  beads: [/BEADS/, /NEXT PICKS/],
  oracle: [/ORACLE/, /not available yet/],
  guardian: [/GUARDIAN/, /not available yet/, /OPEN ALERTS/],
};

describe("frame", () => {
  for (const size of SIZES) {
    for (const sc of screens) {
      it(`draws ${sc.id} at ${size.width}x${size.height} with its content, no row wider than the screen`, async () => {
        const s = await loadedState(vc, sc.id, size, sc.id === "machine" || sc.id === "agents" || sc.id === "events" ? "node-07" : null);
        const text = check(s).join("\n");
        for (const re of expected[sc.id]) expect(text).toMatch(re);
        // Every screen says how old its data is.
        expect(text).toMatch(/data (\d+[smhd] old|never)/);
        expect(text).toContain(`${sc.key} ${size.width >= 110 ? sc.title : sc.short}`);
      });
    }
  }

  it("marks stale data STALE", async () => {
    const s = await loadedState(vc, "machine", { width: 100, height: 30 }, "node-19");
    const text = check(s);
    expect(text[2]).toContain("STALE");
    expect(text.join("\n")).toMatch(/node-19.*stale_data/);
    // The whole fleet is stale an hour later.
    const later = check({ ...s, screen: "overview", now: new Date(s.now.getTime() + 3_600_000) });
    expect(later[0]).toContain("STALE");
  });

  it("never lets a planted escape sequence through (alert, repo name, mail subject)", async () => {
    for (const [screen, m] of [["overview", null], ["repos", null], ["agents", "node-07"]] as const) {
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
    for (const [width, height] of [[30, 8], [10, 2], [39, 30]] as const) {
      const text = check({ ...s, width, height });
      expect(text[0]).toContain(width >= 22 ? "terminal too small" : "vc:");
    }
  });

  it("draws the help overlay", async () => {
    const s = await loadedState(vc, "overview", SIZES[0]!);
    const text = check(reduce(s, "?").state).join("\n");
    expect(text).toContain("KEYS");
    expect(text).toContain("silence the selected alert for 1h");
  });
});

describe("keys", () => {
  it("moves the selection and drills from an alert into its machine", async () => {
    const s = await loadedState(vc, "overview", SIZES[0]!);
    expect(selectedItem(s)?.kind).toBe("alert");
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
    expect(frameText(frame(repos)).join("\n")).toContain("filter machine:node-02");
  });

  it("jumps to screens by letter, digit and function key", async () => {
    const s = await loadedState(vc, "overview", SIZES[0]!);
    const to = (k: string) => reduce(s, k).state.screen;
    expect([to("a"), to("g"), to("m"), to("b"), to("e"), to("o"), to("G")]).toEqual(["accounts", "repos", "agents", "beads", "events", "oracle", "guardian"]);
    expect([to("F1"), to("F2"), to("F3"), to("F7"), to("5"), to("9")]).toEqual(["overview", "machine", "repos", "beads", "agents", "guardian"]);
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
    expect(parseFilter("machine:node-0 repo:x provider=claude window:2d")).toEqual({ machine: "node-0", repo: "x", provider: "claude", windowHours: 48 });
    expect(parseFilter("node-1")).toEqual({ machine: "node-1" });
    let s = await loadedState(vc, "overview", SIZES[0]!);
    s = reduce(s, "f").state;
    for (const k of "node-07") s = reduce(s, k).state;
    s = reduce(s, "ENTER").state;
    expect(s.filter).toEqual({ machine: "node-07" });
    expect(listItems(s).map((i) => i.key)).toEqual(["machine:node-07"]);
    expect(frameText(frame(s)).join("\n")).toContain("filter machine:node-07");
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
  it("strips escapes and controls and keeps one cell per character", () => {
    expect(clean("a\x1b[31mb\x1b]0;t\x07c\x07\td\ne")).toBe("abc d e");
    expect(clean("界😀x\u0301")).toBe("??x");
  });
  it("draws a sparkline of exactly the width", () => {
    expect(sparkline([0, 50, 100], 3, 100)).toBe("▁▅█");
    expect(sparkline([], 5)).toBe("     ");
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4).length).toBe(4);
  });
});

describe("events and beads screens", () => {
  it("show rano connections and bv's next picks and blockers, escapes stripped", async () => {
    const ev = await loadedState(vc, "events", { width: 120, height: 40 }, "node-01");
    const evText = check(ev).join("\n");
    expect(evText).toContain("RANO (connections by provider, domain)");
    expect(evText).toMatch(/anthropic\s+api\.anthropic\.com\s+2×/);
    expect(evText).toMatch(/unknown\s+evil.*\.example\s+1×/);
    const beads = await loadedState(vc, "beads", { width: 120, height: 40 });
    const beadsText = check(beads).join("\n");
    expect(beadsText).toContain("NEXT PICKS (bv)");
    expect(beadsText).toContain("vc-2");
    expect(beadsText).toMatch(/vc-3\s+Blocker to clear\s+unblocks 3/);
  });
});
