// What a page gets from the shell: its route's parts, a way to move, say something and redraw,
// a signal that aborts when it goes, and a place to leave what must be freed then.
import type { WatchLine } from "./data.ts";

export interface PageContext {
  /** The route's parts after the page's name (`#/machine/node-01` → ["node-01"]). */
  params: string[];
  /** The route's query (`#/events?window=6h`). */
  query: URLSearchParams;
  go(hash: string): void;
  toast(text: string, kind?: "ok" | "bad"): void;
  /** Redraw the page with fresh data. */
  refresh(): void;
  /** This drawing replaces one of the same route (a live update): swap once, whole, without placeholders. */
  redraw: boolean;
  /** Run `fn` when this drawing is replaced or the page goes (charts, timers). */
  cleanup(fn: () => void): void;
  signal: AbortSignal;
}

export interface Page {
  title(params: string[]): string;
  /** Which nav entry it belongs to. */
  nav: string;
  draw(ctx: PageContext): Promise<Node>;
  /** Whether a watch line makes it redraw (default: alert changes, events and finished cycles). */
  liveOn?(line: WatchLine): boolean;
}
