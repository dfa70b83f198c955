import { describe, expect, it } from "bun:test";
import { cell, renderCsv, renderTable } from "../../cli/_format.ts";
import { ALL_ESCAPES, countUnsafe, ESCAPE_CORPUS } from "../helpers/escapes.ts";

describe("tables and CSV for a person", () => {
  it("strip escapes, C1 and bidi controls from cells and column names", () => {
    const rows = ESCAPE_CORPUS.map(([name, s]) => ({ name, value: s, obj: { s } }));
    const table = renderTable(["name", "value", "obj", "\u202ecol\x1b[2J"], rows, 60, true);
    expect(countUnsafe(table)).toBe(0);
    expect(countUnsafe(renderCsv(["value", "\u009bcol"], rows))).toBe(0);
    expect(cell(ALL_ESCAPES)).not.toContain("\n");
  });

  it("cut long cells with … on a terminal only: piped, every cell is whole", () => {
    const note = `machine gpu-box unreachable: host key unknown; to trust it: ssh-keyscan -p 2222 10.0.0.7 >> ~/.ssh/known_hosts`;
    const rows = [{ machine: "gpu-box", note }];
    expect(renderTable(["machine", "note"], rows, 40, true)).toContain("…");
    const piped = renderTable(["machine", "note"], rows, 40, false);
    expect(piped).not.toContain("…");
    expect(piped).toContain(note);
  });
});
