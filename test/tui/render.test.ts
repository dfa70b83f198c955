import { describe, expect, it } from "bun:test";
import { openScreen, type TermLike } from "../../lib/tui/render.ts";
import { emptyData, frame } from "../../lib/tui/frame.ts";
import { initialState } from "../../lib/tui/app.ts";

function fakeTerm() {
  const calls: string[] = [];
  let out = "";
  const term: TermLike = {
    width: 80,
    height: 24,
    fullscreen: (on) => calls.push(`fullscreen ${on}`),
    hideCursor: (hide) => calls.push(`hideCursor ${hide}`),
    grabInput: (o) => calls.push(`grabInput ${o === false ? "false" : "on"}`),
    styleReset: () => calls.push("styleReset"),
    on: () => term,
    stdout: { write: (s: string) => (out += s) },
  };
  return { term, calls, out: () => out };
}

describe("screen", () => {
  it("takes the terminal over and gives it back once, also from the exit handler", () => {
    const f = fakeTerm();
    const exitHandlers = process.listenerCount("exit");
    const screen = openScreen(f.term);
    expect(f.calls).toEqual(["fullscreen true", "hideCursor true", "grabInput on"]);
    expect(process.listenerCount("exit")).toBe(exitHandlers + 1);
    screen.draw(frame(initialState({ width: 80, height: 24, now: new Date(0), staleAfterSeconds: 60, data: emptyData() })));
    expect(f.out()).toContain("\x1b[24;1H");
    process.emit("exit", 0); // what a crash or process.exit() runs
    expect(f.calls.slice(3)).toEqual(["grabInput false", "styleReset", "hideCursor false", "fullscreen false"]);
    screen.restore(); // idempotent, and unregisters its handlers
    expect(f.calls.length).toBe(7);
    expect(process.listenerCount("exit")).toBe(exitHandlers);
    expect(f.out().endsWith("\x1b[0m\x1b[?25h")).toBe(true);
  });
});
