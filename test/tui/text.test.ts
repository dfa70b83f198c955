// Wide characters in the cockpit: CJK and emoji are drawn as themselves, two cells each
// (Bun.stringWidth), and every column still lines up.
import { describe, expect, it } from "bun:test";
import { initialState } from "../../lib/tui/app.ts";
import { emptyData, frame, frameText, type TuiData } from "../../lib/tui/frame.ts";
import { frameAnsi } from "../../lib/tui/render.ts";
import { breakAt, clean, fit, textWidth } from "../../lib/tui/text.ts";

const NOW = new Date("2026-01-25T03:00:00Z");

/** The grapheme drawn at display column `col` of a line (undefined past its end). */
function at(line: string, col: number): string | undefined {
  let x = 0;
  for (const { segment } of new Intl.Segmenter().segment(line)) {
    if (x === col) return segment;
    x += Bun.stringWidth(segment);
    if (x > col) return undefined;
  }
  return undefined;
}

function machine(id: string, score: number, top_issue: string | null = null) {
  const severity = score >= 0.9 ? "ok" : score >= 0.5 ? "medium" : "critical";
  return { id, score, severity, top_issue, factors: [], last_sample_at: "2026-01-25T02:59:00Z" };
}

function fleet(ids: [string, number, string?][]): TuiData {
  const machines = ids.map(([id, score, issue]) => machine(id, score, issue ?? null));
  return {
    ...emptyData(),
    loadedAt: NOW.toISOString(),
    lastCycleAt: NOW.toISOString(),
    health: { overall: { score: 0.7, severity: "medium" }, machines, staleness: {}, warnings: [] },
  } as TuiData;
}

describe("clean", () => {
  it("keeps CJK, Hangul and emoji, and drops invisible characters a terminal would draw its own way", () => {
    expect(clean("東京-gpu 🚀 한국")).toBe("東京-gpu 🚀 한국");
    // ZWJ, zero-width space, soft hyphen, BOM, variation selector 16: gone (❤ stays one cell).
    expect(clean("a\u200db\u200bc\u00add\ufeffe ❤\ufe0f")).toBe("abcde ❤");
    expect(clean("界😀x\u0301\x1b[31m")).toBe("界😀x\u0301");
  });
});

describe("fit", () => {
  it("pads and cuts by cells, not by UTF-16 units", () => {
    expect(fit("東京", 6)).toBe("東京  ");
    expect(textWidth(fit("東京-gpu-box", 8))).toBe(8);
    expect(fit("東京-gpu-box", 8)).toBe("東京-gp…");
    // A wide character that would cross the edge leaves a space instead of half a glyph.
    expect(fit("東京東京", 4)).toBe("東… ");
    expect(fit("🚀rocket", 3)).toBe("🚀…");
    expect(fit("abc", 1)).toBe("…");
  });

  it("breaks text at a space that fits in the cells, else inside a word, never inside a character", () => {
    expect(breakAt("東京 の 大きな 機械", 7)).toBe(4);
    expect(breakAt("東京東京東京", 5)).toBe(2);
    expect(breakAt("short", 10)).toBe(5);
    // Narrower than its first character: still one character, so a wrap loop always moves on.
    expect(breakAt("東京", 1)).toBe(1);
  });
});

describe("a frame with wide characters", () => {
  for (const size of [
    { width: 80, height: 24 },
    { width: 200, height: 50 },
  ]) {
    it(`draws a CJK name and an emoji as themselves and keeps the columns in line at ${size.width}x${size.height}`, () => {
      const data = fleet([
        ["東京-gpu", 0.3, "ディスク"],
        ["🚀-box", 0.6, "load"],
        ["plain-01", 0.95],
        // Longer than the list pane: cut at its edge, once between two wide characters and once
        // in the middle of one (the odd start puts a character across the edge).
        ["長い名前の機械長い名前の機械長い名前の機械長い名前の機械長い名前", 0.5],
        ["x長い名前の機械長い名前の機械長い名前の機械長い名前の機械長い名前", 0.5],
      ]);
      const s = initialState({ width: size.width, height: size.height, now: NOW, staleAfterSeconds: 600, data });
      const f = frame(s);
      const lines = frameText(f);
      expect(lines).toHaveLength(size.height);
      for (const line of lines) expect(textWidth(line), line).toBe(size.width);
      const text = lines.join("\n");
      expect(text).toContain("東京-gpu");
      expect(text).toContain("🚀-box");
      expect(text).toContain("ディスク");
      const body = lines.slice(2, size.height - 2);
      expect(body.join("\n")).not.toContain("?");

      // The divider between the list and the details stands in one column on every body row,
      // whatever the names before it.
      const divider = body[0]!.indexOf("│");
      expect(divider).toBeGreaterThan(10);
      for (const line of body) expect(at(line, divider), line).toBe("│");
      // The rows holding the wide names reach the divider at the same column as the plain one.
      for (const name of ["東京-gpu", "🚀-box", "plain-01", "● 長い名前", "● x長い名前"]) {
        const row = body.find((l) => l.includes(name));
        expect(row, name).toBeDefined();
        expect(at(row!, divider)).toBe("│");
      }

      // What reaches the terminal is the same text, row by row.
      const ansi = frameAnsi(f, null, "none").rows.map((r) => r.replace(/\x1b\[[0-9;]*m/g, ""));
      expect(ansi).toEqual(lines);
    });
  }
});
