// What the tests that compare vc's doors (library, socket, CLI, HTTP) ask each registered view,
// and what may differ between two askings of one view. On the demo fleet of test/tui/_fixture.ts.
import { END, TOOLS_MACHINE } from "../tui/_fixture.ts";

/** The arguments each view is asked with: every view in the registry must have an entry here. */
export const VIEW_ASK: Record<string, Record<string, string | number | boolean>> = {
  health: {},
  triage: { limit: 3 },
  machine: { id: TOOLS_MACHINE },
  machines: {},
  fleet: { machine: "node" },
  series: { machine: TOOLS_MACHINE, window: "1h", points: 20 },
  accounts: {},
  repos: {},
  beads: {},
  attention: {},
  oracle: { machine: TOOLS_MACHINE },
  events: { window: "24h", machine: "node-03" },
  alerts: { all: true },
  incidents: { state: "all" },
  guardian: { limit: 5 },
  audit: { limit: 20 },
  diff: { from: new Date(END.getTime() - 3_600_000).toISOString() },
  search: { query: "flock", limit: 5 },
  doctor: {},
};

/** An answer without what may differ between two askings of one view: probe latencies and who holds the store. */
export function stableAnswer(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x), (k, v) => {
    if (k === "latency_ms") return "…";
    if (k === "detail" && typeof v === "string" && /opened read-only|writable, migrations current|serves .*on|none serves/.test(v)) return "…";
    if (typeof v === "string") return v.replace(/, \d+ ms\)/, ", … ms)");
    return v;
  });
}
