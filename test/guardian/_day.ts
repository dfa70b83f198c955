// A replayed morning for the guardian (issue 18's check): one machine, orko, whose tools are fakes
// that answer from files and record every command vc sends them that is not a collector's read.
// From 08:00 every 10 minutes: its disk fills (df), alice's claude account races to its limit
// (caam, active on orko), and an agent stops printing (ntm, corpus-session-1 pane 0.3). The tools
// react to the real remedies: `npm cache clean --force` frees the disk, `caam activate claude
// spare` moves orko to bob's account, `ntm --robot-interrupt` brings the pane back.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { caamLimits, caamStatus } from "../helpers/caam.ts";

const fixtures = join(import.meta.dir, "../fixtures");
const read = (p: string) => readFileSync(join(fixtures, p), "utf8");
const SNAPSHOT = JSON.parse(read("ntm/robot-snapshot.json")) as { latest_cursor: number; sessions: { name: string; agents: Record<string, unknown>[] }[] };

export const DAY_START = Date.parse("2026-11-03T08:00:00Z");
export const STEP_MIN = 10;
export const STEPS = 12;
export const at = (i: number) => new Date(DAY_START + i * STEP_MIN * 60_000);
/** ntm's snapshot with pane 0.3 of corpus-session-1 silent for `age` seconds (the other panes as the fixture has them). */
function snapshot(now: Date, cursor: number, age: number) {
  const s = structuredClone(SNAPSHOT);
  s.latest_cursor = cursor;
  Object.assign(s, { ts: now.toISOString(), timestamp: now.toISOString() });
  const pane = s.sessions.find((x) => x.name === "corpus-session-1")!.agents.find((a) => a.pane === "0.3")!;
  Object.assign(pane, { state: "active", last_output_age_sec: age });
  return s;
}

const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The fake machine: its bin (tools), home (with an npm cache), and state folder. */
export function makeOrko(dir: string) {
  const bin = join(dir, "bin");
  const home = join(dir, "home");
  const state = join(dir, "state");
  for (const d of [bin, home, state, join(home, ".npm/_cacache")]) mkdirSync(d, { recursive: true });
  const log = join(state, "calls.log");
  const record = `printf '%s\\n' "$(basename "$0") $*" >> ${sh(log)}`;
  const S = sh(state);
  const tools: Record<string, string> = {
    df: `case "$1" in -P) cat ${S}/df.out ;; *) exit 2 ;; esac`,
    du: `${record}\nshift\nfor p in "$@"; do case "$p" in *_cacache) printf '%s\\t%s\\n' "$(cat ${S}/npm_kb)" "$p" ;; *) printf '4\\t%s\\n' "$p" ;; esac; done`,
    npm: `${record}\n[ "$*" = "cache clean --force" ] || exit 2\necho 0 > ${S}/npm_kb\ncp ${S}/df.after ${S}/df.out`,
    caam: `case "$*" in
  --version) echo "caam 0.9.0-fake" ;;
  "limits --format json") cat ${S}/limits.json ;;
  "status --json") cat ${S}/status.json ;;
  "limits claude --format json") ${record}; cat ${S}/limits.json ;;
  "activate claude "*) ${record}; cp ${S}/status.$3.json ${S}/status.json; cp ${S}/limits.after.json ${S}/limits.json; echo "activated $3" ;;
  *) ${record}; echo "caam: unknown $*" >&2; exit 2 ;;
esac`,
    ntm: `case "$1" in
  --version) echo "ntm 1.20.0-fake" ;;
  --robot-snapshot) cat ${S}/snapshot.json ;;
  --robot-events*) cat ${sh(join(fixtures, "ntm/robot-events.json"))} ;;
  --robot-attention*) cat ${sh(join(fixtures, "ntm/robot-attention.json"))} ;;
  --robot-interrupt) ${record}; touch ${S}/recovered; cp ${S}/snapshot.after.json ${S}/snapshot.json; printf '{"success":true,"session":"%s","interrupted":["%s"],"ready_for_input":["%s"],"timed_out":false}\\n' "$2" "$4" "$4" ;;
  send) ${record}; printf '{"success":true}\\n' ;;
  *) ${record}; echo "ntm: unknown $*" >&2; exit 2 ;;
esac`,
  };
  for (const [name, body] of Object.entries(tools)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(state, "npm_kb"), "900000\n");
  writeFileSync(join(state, "status.json"), JSON.stringify(caamStatus("work")));

  const df = (usedPct: number) => {
    const size = 100_000_000;
    const used = Math.round((size * usedPct) / 100);
    return `Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vdb1 ${size} ${used} ${size - used} ${Math.ceil(usedPct)}% ${home}\n`;
  };
  return {
    bin,
    home,
    /** What vc sent the tools beyond the collectors' reads, one `tool args` line each. */
    calls: (): string[] => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []),
    /** The tools' answers at step `i`, after whatever remedies ran before it. */
    step(i: number) {
      const now = at(i);
      const cleaned = readFileSync(join(state, "npm_kb"), "utf8").trim() === "0";
      const swapped = JSON.parse(readFileSync(join(state, "status.json"), "utf8")).tools[0].active_profile === "spare";
      const recovered = existsSync(join(state, "recovered"));
      writeFileSync(join(state, "df.out"), df(cleaned ? 70 : 84 + 1.2 * i));
      writeFileSync(join(state, "df.after"), df(70));
      const work = swapped ? 86 : 42 + 4.5 * i;
      writeFileSync(join(state, "limits.json"), JSON.stringify(caamLimits(now, { work, spare: 12 })));
      writeFileSync(join(state, "limits.after.json"), JSON.stringify(caamLimits(now, { work, spare: 12 })));
      writeFileSync(join(state, "status.spare.json"), JSON.stringify(caamStatus("spare")));
      writeFileSync(join(state, "snapshot.json"), JSON.stringify(snapshot(now, 120 + i, recovered ? 4 : 31 + 600 * i)));
      writeFileSync(join(state, "snapshot.after.json"), JSON.stringify(snapshot(now, 121 + i, 2)));
    },
  };
}
