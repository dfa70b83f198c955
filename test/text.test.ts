import { describe, expect, it } from "bun:test";
import { escapeJsonControls, oneLine, safeJson, stripControl } from "../lib/text.ts";
import { ALL_ESCAPES, countUnsafe, ESCAPE_CORPUS, UNSAFE } from "./helpers/escapes.ts";

describe("stripControl: the one sanitizer of human output", () => {
  for (const [name, s] of ESCAPE_CORPUS) {
    it(`leaves nothing a terminal acts on: ${name}`, () => {
      const out = stripControl(s);
      expect(out).not.toMatch(UNSAFE);
      expect(out.startsWith("a") || out.startsWith("ok")).toBe(true);
    });
  }

  it("keeps the visible text around and between sequences", () => {
    expect(stripControl("a\x1b]0;pwned\x07b")).toBe("ab");
    expect(stripControl("a\x1b]52;c;cHduZWQ=\x1b\\b")).toBe("ab");
    expect(stripControl("\x1b[31;1mred\x1b[0m")).toBe("red");
    expect(stripControl("a\u009b2Jb")).toBe("ab");
    expect(stripControl("a\u009d0;pwned\u009cb")).toBe("ab");
    expect(stripControl("a\x1bP1$qm\x1b\\b")).toBe("ab");
    expect(stripControl("a\u202eb\u2066c\u200fd")).toBe("abcd");
    expect(stripControl("a\x1b]8;;http://x\x07click\x1b]8;;\x07b")).toBe("aclickb");
  });

  it("keeps newlines, tabs and ordinary Unicode", () => {
    expect(stripControl("line 1\n\tline 2 — café ✓ 東京")).toBe("line 1\n\tline 2 — café ✓ 東京");
  });

  it("oneLine folds newlines, tabs and carriage returns into spaces", () => {
    expect(oneLine("a\r\nb\tc\x1b[2Jd")).toBe("a b cd");
    expect(countUnsafe(oneLine(ALL_ESCAPES))).toBe(0);
  });
});

describe("escapeJsonControls: robot output carries controls as escapes", () => {
  it("writes DEL, C1 and bidi controls as \\u escapes, the value unchanged", () => {
    const value = { msg: ALL_ESCAPES, nested: [{ "\u202ekey": "\u009b31m" }], n: 1 };
    for (const text of [escapeJsonControls(JSON.stringify(value)), safeJson(value, 2)]) {
      expect(text).not.toMatch(UNSAFE);
      expect(JSON.parse(text)).toEqual(value);
    }
    expect(safeJson({ m: "\u202e\u009b" })).toBe('{"m":"\\u202e\\u009b"}');
  });

  it("leaves ordinary Unicode raw", () => {
    expect(safeJson({ m: "café ✓ 東京" })).toBe('{"m":"café ✓ 東京"}');
  });
});
