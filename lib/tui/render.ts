// Drawing frames: to an ANSI string (a buffer, for the benchmark and tests) and to the terminal
// through terminal-kit (fullscreen, raw keys, resize), redrawing only the rows that changed, and
// putting the terminal back on quit, Ctrl-C, a signal or a crash.
import type { Frame, Row } from "./frame.ts";
import type { Style } from "./theme.ts";

const sgrCache = new WeakMap<Style, string>();
function sgr(st: Style): string {
  let s = sgrCache.get(st);
  if (s === undefined) {
    s = `\x1b[0;${st.bold ? "1;" : ""}${st.inverse ? "7;" : ""}38;2;${st.fg[0]};${st.fg[1]};${st.fg[2]};48;2;${st.bg[0]};${st.bg[1]};${st.bg[2]}m`;
    sgrCache.set(st, s);
  }
  return s;
}

/** One row as ANSI (24-bit colour); the text of runs is already safe (see lib/tui/text.ts). */
export function rowAnsi(row: Row): string {
  let out = "";
  for (const r of row) out += sgr(r.style) + r.text;
  return `${out}\x1b[0m`;
}

/**
 * The bytes that turn `prev` on screen into `next`: every row when there is no previous frame
 * or the size changed, else only the rows that differ. Keeps the rows drawn in `cache`.
 */
export function frameAnsi(next: Frame, cache: { rows: string[]; width: number; height: number } | null): { out: string; rows: string[]; changed: number } {
  const full = !cache || cache.width !== next.width || cache.height !== next.height;
  const rows = next.rows.map(rowAnsi);
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
 */
export function openScreen(term: TermLike): Screen {
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
      const r = frameAnsi(f, cache);
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
