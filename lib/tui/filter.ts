// The filter bar's language: `machine:node-0 repo:vc provider:claude window:6h`, or a bare word for
// the machine. An unknown key or a bad window is an error naming it, never silently ignored.
import type { Filter } from "./types.ts";

/** The keys the filter bar takes, and what each means. */
export const FILTER_KEYS: Record<string, string> = { machine: "machine id (part of it)", repo: "repo name", provider: "provider", window: "history: 1h, 6h, 24h, 7d" };
const ALIASES: Record<string, string> = { m: "machine", r: "repo", p: "provider", w: "window" };

/** "machine:node-0 provider:claude window:6h", or a bare word for the machine; an unknown key or a bad window is an error naming it. */
export function parseFilter(text: string): { filter: Filter; error?: string } {
  const f: Filter = {};
  for (const tok of text.trim().split(/\s+/).filter(Boolean)) {
    const [k0, ...rest] = tok.split(/[:=]/);
    const v = rest.join(":");
    if (!v) {
      f.machine = k0;
      continue;
    }
    const k = ALIASES[k0!] ?? k0!;
    if (k === "machine") f.machine = v;
    else if (k === "repo") f.repo = v;
    else if (k === "provider") f.provider = v;
    else if (k === "window") {
      const h = /^(\d+(?:\.\d+)?)\s*(h|d|m)?$/.exec(v);
      if (!h || Number(h[1]) <= 0) return { filter: f, error: `window:${v} is not a duration (like 1h, 6h, 24h, 7d)` };
      f.windowHours = Number(h[1]) * (h[2] === "d" ? 24 : h[2] === "m" ? 1 / 60 : 1);
    } else return { filter: f, error: `unknown filter key "${k0}": use ${Object.keys(FILTER_KEYS).join(", ")}` };
  }
  return { filter: f };
}

/** The filter as the text that parses back to it. */
export function formatFilter(f: Filter): string {
  return [f.machine && `machine:${f.machine}`, f.repo && `repo:${f.repo}`, f.provider && `provider:${f.provider}`, f.windowHours && `window:${windowText(f.windowHours)}`]
    .filter(Boolean)
    .join(" ");
}
const windowText = (h: number) => (h >= 24 && h % 24 === 0 ? `${h / 24}d` : `${h}h`);
