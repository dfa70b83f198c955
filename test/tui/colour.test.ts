// The cockpit's colours at every depth a terminal may have: 24-bit, 256, 16, and none (NO_COLOR),
// drawn from the same frames as a real screen (the fixture fleet, read through the library).
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cockpit } from "../../lib/index.ts";
import { emptyData, frame, listItems, tabsOf, type ViewState } from "../../lib/tui/frame.ts";
import { initialState } from "../../lib/tui/app.ts";
import { frameAnsi, openScreen, type TermLike } from "../../lib/tui/render.ts";
import { ansi16, ansi256, colorDepth, colors, styles, styleSgr, type ColorDepth } from "../../lib/tui/theme.ts";
import { loadedState, openFixture } from "./_data.ts";
import { createTuiFleet, TOOLS_MACHINE } from "./_fixture.ts";

setDefaultTimeout(60_000);

let vc: Cockpit;
const dir = mkdtempSync(join(tmpdir(), "vc-tui-colour-"));
const states: ViewState[] = [];
beforeAll(async () => {
  const fleet = await createTuiFleet(dir);
  vc = await openFixture(fleet);
  const first = await loadedState(vc, "overview", { width: 80, height: 24 });
  for (const sc of tabsOf(first))
    states.push(await loadedState(vc, sc.id, { width: 80, height: 24 }, sc.id === "machine" ? "node-07" : sc.id === "agents" || sc.id === "mail" ? TOOLS_MACHINE : null));
  // The overview with its second item selected too (the selection moves).
  states.push({ ...states[0]!, selected: { overview: 1 } });
});
afterAll(async () => {
  await vc?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every SGR sequence of some ANSI output, as its list of codes: 38;2;r;g;b is one code "38;2", 38;5;n is "38;5". */
function sgrCodes(ansi: string): string[][] {
  const out: string[][] = [];
  for (const m of ansi.matchAll(/\x1b\[([0-9;]*)m/g)) {
    const p = m[1] === "" ? ["0"] : m[1]!.split(";");
    const codes: string[] = [];
    for (let i = 0; i < p.length; i++) {
      if ((p[i] === "38" || p[i] === "48") && p[i + 1] === "2") codes.push(`${p[i]};2`), (i += 4);
      else if ((p[i] === "38" || p[i] === "48") && p[i + 1] === "5") codes.push(`${p[i]};5`), (i += 2);
      else codes.push(String(Number(p[i])));
    }
    out.push(codes);
  }
  return out;
}
const textOf = (ansi: string) => ansi.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
const draw = (s: ViewState, depth: ColorDepth) => frameAnsi(frame(s), null, depth).out;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => String(a + i));
const attributes = new Set(["0", "1", "2", "7"]);
const ansi16Codes = new Set([...attributes, ...range(30, 37), ...range(40, 47), ...range(90, 97), ...range(100, 107)]);

describe("colour depth", () => {
  it("follows NO_COLOR, TERM, COLORTERM and what terminal-kit detected", () => {
    const cases: [Record<string, string>, { trueColor?: boolean; "256colors"?: boolean } | undefined, ColorDepth][] = [
      [{ TERM: "xterm-256color", COLORTERM: "truecolor", NO_COLOR: "1" }, { trueColor: true }, "none"],
      [{ TERM: "xterm-256color", NO_COLOR: "" }, undefined, "256"], // an empty NO_COLOR does not count
      [{ TERM: "dumb" }, undefined, "none"],
      [{ TERM: "xterm-256color", COLORTERM: "truecolor" }, undefined, "truecolor"],
      [{ TERM: "xterm", COLORTERM: "24bit" }, undefined, "truecolor"],
      [{ TERM: "xterm-kitty" }, { trueColor: true, "256colors": true }, "truecolor"],
      [{ TERM: "screen-256color" }, undefined, "256"],
      [{ TERM: "xterm" }, { "256colors": true, trueColor: false }, "256"],
      [{ TERM: "xterm" }, { "256colors": false, trueColor: false }, "16"],
      [{ TERM: "linux" }, undefined, "16"],
      [{}, undefined, "16"],
    ];
    for (const [env, support, want] of cases) expect([env, colorDepth(env, support)]).toEqual([env, want]);
  });

  it("maps colours to the nearest xterm 256 colour, never to the 16 the user's palette decides", () => {
    expect(ansi256([0, 0, 0])).toBe(16);
    expect(ansi256([255, 255, 255])).toBe(231);
    expect(ansi256([255, 0, 0])).toBe(196);
    expect(ansi256([135, 175, 215])).toBe(16 + 36 * 2 + 6 * 3 + 4);
    expect(ansi256([128, 128, 128])).toBe(244); // a grey goes to the grey ramp
    // The three backgrounds stay three different colours.
    const bgs = [colors.bgPrimary, colors.bgSecondary, colors.bgSelected].map(ansi256);
    expect(new Set(bgs).size).toBe(3);
    for (const c of Object.values(colors)) expect(ansi256(c)).toBeGreaterThanOrEqual(16);
  });

  it("on 16 colours, never draws text in its background's colour", () => {
    expect(ansi16([250, 10, 10])).toBe(9); // a colour the scheme does not name: the nearest
    for (const [name, st] of Object.entries(styles)) {
      const codes = styleSgr(st, "16").split(";").map(Number);
      const fg = codes.find((c) => (c >= 30 && c <= 37) || (c >= 90 && c <= 97))!;
      const bg = codes.find((c) => (c >= 40 && c <= 47) || (c >= 100 && c <= 107))!;
      expect([name, fg + 10]).not.toEqual([name, bg]);
    }
  });
});

describe("frames at each depth", () => {
  it("NO_COLOR: not one colour code on any screen; the selection and the active tab in reverse video", () => {
    for (const s of states) {
      const ansi = draw(s, "none");
      for (const codes of sgrCodes(ansi)) for (const c of codes) expect(attributes.has(c) ? c : `colour code ${c}`).toBe(c);
      expect(ansi).not.toMatch(/\x1b\[[0-9;]*(38|48);/);
    }
    // The overview's selected row is the one drawn in reverse video.
    const rows = (i: number) => frameAnsi(frame({ ...states.at(-1)!, selected: { overview: i } }), null, "none").rows;
    const overview = states.find((s) => s.screen === "overview")!;
    const listRow = 4; // the first item of the list, under the bars, the section title and the column header
    expect(listItems(overview).length).toBeGreaterThan(1);
    expect(rows(0)[listRow]).toMatch(/^\x1b\[0;1;7m/);
    expect(rows(1)[listRow]).not.toContain(";7m");
    expect(rows(1)[listRow + 1]).toMatch(/^\x1b\[0;1;7m/);
    // The active tab too.
    expect(rows(0)[1]).toMatch(/^\x1b\[0;1;7m 1 /);
  });

  it("16 colours: only the ANSI 30–37/90–97 and 40–47/100–107 codes; the selection black on white", () => {
    for (const s of states) {
      for (const codes of sgrCodes(draw(s, "16"))) for (const c of codes) expect(ansi16Codes.has(c) ? c : `not an ANSI 16 code: ${c}`).toBe(c);
    }
    const overview = frameAnsi(frame(states.find((s) => s.screen === "overview")!), null, "16").rows;
    expect(overview[4]).toMatch(/^\x1b\[0;1;30;47m/);
  });

  it("256 colours: 38;5 and 48;5 only, no 24-bit code", () => {
    for (const s of states) {
      const codes = sgrCodes(draw(s, "256")).flat();
      expect(codes).toContain("38;5");
      expect(codes).toContain("48;5");
      expect(codes).not.toContain("38;2");
      expect(codes).not.toContain("48;2");
      for (const c of codes) expect(["38;5", "48;5", ...attributes].includes(c) ? c : `unexpected ${c}`).toBe(c);
    }
  });

  it("24-bit colour where the terminal shows it; the same text at every depth", () => {
    for (const s of states) {
      const full = draw(s, "truecolor");
      expect(sgrCodes(full).flat()).toContain("38;2");
      for (const d of ["256", "16", "none"] as const) expect(textOf(draw(s, d))).toBe(textOf(full));
    }
  });

  it("a screen opened with NO_COLOR set draws no colour", () => {
    let out = "";
    const term: TermLike = {
      width: 80,
      height: 24,
      fullscreen: () => {},
      hideCursor: () => {},
      grabInput: () => {},
      styleReset: () => {},
      on: () => term,
      stdout: { write: (s: string) => (out += s) },
      support: { trueColor: true, "256colors": true },
    };
    const saved = process.env.NO_COLOR;
    process.env.NO_COLOR = "1";
    try {
      const screen = openScreen(term);
      screen.draw(frame(initialState({ width: 80, height: 24, now: new Date(0), staleAfterSeconds: 60, data: emptyData() })));
      screen.draw(frame(states[0]!));
      screen.restore();
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
    expect(out).toContain("ALERTS (4)");
    expect(out).not.toMatch(/\x1b\[[0-9;]*(38|48);/);
    for (const c of sgrCodes(out).flat()) expect(attributes.has(c) ? c : `colour code ${c}`).toBe(c);
  });
});
