// Drawing frames: to an ANSI string (a buffer, for the benchmark and tests) and to the terminal
// through terminal-kit (fullscreen, raw keys, resize), redrawing only the rows that changed, and
// putting the terminal back on quit, Ctrl-C, a signal or a crash. Colours are drawn at the depth
// the terminal shows (24-bit, 256, 16, or none with NO_COLOR: see lib/tui/theme.ts).
import type { Frame, Row } from "./frame.ts";
import { colorDepth, styleSgr, type ColorDepth, type Style, type TermSupport } from "./theme.ts";

const sgrCache: Record<ColorDepth, WeakMap<Style, string>> = { truecolor: new WeakMap(), "256": new WeakMap(), "16": new WeakMap(), none: new WeakMap() };
function sgr(st: Style, depth: ColorDepth): string {
  let s = sgrCache[depth].get(st);
  if (s === undefined) {
    const params = styleSgr(st, depth);
    s = `\x1b[0${params ? `;${params}` : ""}m`;
    sgrCache[depth].set(st, s);
  }
  return s;
}

/** One row as ANSI at a colour depth (24-bit by default); the text of runs is already safe (see lib/tui/text.ts). */
export function rowAnsi(row: Row, depth: ColorDepth = "truecolor"): string {
  let out = "";
  let last = "";
  for (const r of row) {
    const code = sgr(r.style, depth);
    // Runs that look the same at this depth need no new code (common with 16 colours and none).
    if (code !== last) out += code;
    out += r.text;
    last = code;
  }
  return `${out}\x1b[0m`;
}

/**
 * The bytes that turn `prev` on screen into `next`: every row when there is no previous frame
 * or the size changed, else only the rows that differ. Keeps the rows drawn in `cache`.
 */
export function frameAnsi(
  next: Frame,
  cache: { rows: string[]; width: number; height: number } | null,
  depth: ColorDepth = "truecolor",
): { out: string; rows: string[]; changed: number } {
  const full = !cache || cache.width !== next.width || cache.height !== next.height;
  const rows = next.rows.map((r) => rowAnsi(r, depth));
  let out = full ? "\x1b[0m\x1b[2J" : "";
  let changed = 0;
  rows.forEach((r, y) => {
    if (full || cache!.rows[y] !== r) {
      out += `\x1b[${y + 1};1H${r}`;
      changed++;
    }
  });
  return { out, rows, changed };
}

/** The parts of terminal-kit's Terminal the cockpit uses. */
export interface TermLike {
  width: number;
  height: number;
  fullscreen(on: boolean): unknown;
  hideCursor(hide?: boolean): unknown;
  grabInput(options: false | { mouse?: string | boolean }): unknown;
  styleReset(): unknown;
  on(event: "key", fn: (name: string, matches: string[], data: { isCharacter?: boolean; codepoint?: number }) => void): unknown;
  on(event: "resize", fn: (width: number, height: number) => void): unknown;
  off?(event: string, fn: (...args: never[]) => void): unknown;
  stdout: { write(s: string): unknown };
  /** What terminal-kit detected (colour depth among others). */
  support?: TermSupport;
}

/** terminal-kit's terminal (required at run time: it cannot be bundled, and has no types). */
export function loadTerminal(): TermLike {
  const termkit = require("terminal-kit") as { terminal: TermLike };
  return termkit.terminal;
}

export interface Screen {
  /** Draws a frame, only the rows that changed. */
  draw(f: Frame): void;
  /** Forgets what is on screen: the next draw repaints everything (after a resize). */
  invalidate(): void;
  /** Puts the terminal back (idempotent). */
  restore(): void;
  size(): { width: number; height: number };
}

/**
 * Takes over the terminal: fullscreen, hidden cursor, raw keys. The terminal is restored by
 * `restore()` and, whatever happens, on process exit, on an uncaught error and on SIGTERM/SIGHUP.
 * Draws at `depth`, by default what NO_COLOR, TERM, COLORTERM and terminal-kit say the terminal shows.
 */
export function openScreen(term: TermLike, depth: ColorDepth = colorDepth(process.env, term.support)): Screen {
  let cache: { rows: string[]; width: number; height: number } | null = null;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      term.grabInput(false);
      term.styleReset();
      term.hideCursor(false);
      term.fullscreen(false);
      term.stdout.write("\x1b[0m\x1b[?25h");
    } catch {
      // the terminal is gone: nothing to restore
    }
  };
  const onCrash = (err: unknown) => {
    restore();
    process.stderr.write(`vc tui: internal error (a bug; please report it):\n${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  };
  process.on("exit", restore);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  term.fullscreen(true);
  term.hideCursor(true);
  term.grabInput({ mouse: false });
  return {
    draw(f) {
      const r = frameAnsi(f, cache, depth);
      cache = { rows: r.rows, width: f.width, height: f.height };
      if (r.out) term.stdout.write(r.out);
    },
    invalidate() {
      cache = null;
    },
    restore() {
      restore();
      process.off("exit", restore);
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
    },
    size: () => ({ width: term.width, height: term.height }),
  };
}
