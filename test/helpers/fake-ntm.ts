// A fake ntm for the fleet commands' tests: a shell script that records each call's exact argv
// (and the pid of the process that ran it) and answers as ntm @6cc4f0ba does: `ntm list --json`
// and `ntm --robot-status` from test/fixtures/ntm, the fleet commands with the JSON of
// internal/output/schema.go (SpawnResponse, SendResponse, InterruptResponse, KillResponse,
// RebalanceResponse). Session `gone` fails as ntm does for a missing session (its ErrorResponse on
// stdout, cobra's "Error:" on stderr, exit 1); session `halfway` as a partial interrupt (the
// failure envelope on stdout only, exit 1).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const FX = join(import.meta.dir, "../fixtures/ntm");
const US = "\x1f";

export interface FakeNtm {
  /** The folder to put first on PATH. */
  bin: string;
  /** Each call's argv after `ntm`, in order. */
  calls(): string[][];
  /** The pid of the process that started each call. */
  parents(): number[];
  /** Forgets the calls so far. */
  reset(): void;
}

const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Writes the fake ntm into `dir/bin`. */
export function writeFakeNtm(dir: string): FakeNtm {
  const bin = join(dir, "bin");
  const log = join(dir, "ntm-calls");
  mkdirSync(bin, { recursive: true });
  const at = '\\"generated_at\\":\\"2026-08-20T15:10:16Z\\"';
  writeFileSync(
    join(bin, "ntm"),
    // Each call's line in one write: calls on two machines run at once and must not interleave.
    `#!/bin/sh
line="$PPID${US}"; for a in "$@"; do line="$line$a${US}"; done; printf '%s\\n' "$line" >> ${sh(log)}
case "$1 $2" in
  "list --json") cat ${sh(join(FX, "list.json"))}; exit 0 ;;
  "--robot-status "*) cat ${sh(join(FX, "robot-status.json"))}; exit 0 ;;
esac
s="$2"
if [ "$s" = gone ]; then
  echo "{\\"success\\":false,\\"error\\":\\"session '$s' not found\\"}"
  echo "Error: session '$s' not found" >&2
  exit 1
fi
case "$1" in
  spawn) echo "{${at},\\"session\\":\\"$s\\",\\"created\\":true,\\"working_directory\\":\\"/data/projects/$s\\",\\"panes\\":[{\\"index\\":1,\\"type\\":\\"claude\\"},{\\"index\\":2,\\"type\\":\\"claude\\"},{\\"index\\":3,\\"type\\":\\"codex\\"}],\\"agent_counts\\":{\\"claude\\":2,\\"codex\\":1,\\"total\\":3}}" ;;
  send) echo "{${at},\\"session\\":\\"$s\\",\\"prompt_preview\\":\\"…\\",\\"targets\\":[1,2,3],\\"delivered\\":3,\\"failed\\":0}" ;;
  interrupt)
    if [ "$s" = halfway ]; then
      echo "{${at},\\"success\\":false,\\"session\\":\\"$s\\",\\"interrupted\\":1,\\"failed\\":1,\\"panes\\":[],\\"error\\":\\"interrupt partially failed: 1 pane(s) interrupted, 1 failed\\",\\"error_code\\":\\"PARTIAL_INTERRUPT\\"}"
      exit 1
    fi
    echo "{${at},\\"success\\":true,\\"session\\":\\"$s\\",\\"interrupted\\":3,\\"targeted_panes\\":[1,2,3],\\"panes\\":[]}" ;;
  kill) echo "{${at},\\"session\\":\\"$s\\",\\"killed\\":true}" ;;
  rebalance) echo "{${at},\\"success\\":true,\\"session\\":\\"$s\\",\\"imbalance_score\\":0.82,\\"recommendation\\":\\"rebalance\\",\\"transfers\\":[{\\"bead_id\\":\\"vc-4kq\\",\\"from_pane\\":1,\\"to_pane\\":3}],\\"workloads\\":[],\\"before\\":{},\\"after\\":{},\\"applied\\":true}" ;;
  *) echo "Error: unknown command \\"$1\\" for \\"ntm\\"" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(join(bin, "ntm"), 0o755);
  const lines = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(0, -1) : []).map((l) => l.split(US).slice(0, -1));
  return {
    bin,
    calls: () => lines().map((l) => l.slice(1)),
    parents: () => lines().map((l) => Number(l[0])),
    reset: () => rmSync(log, { force: true }),
  };
}
