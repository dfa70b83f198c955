// `vc tui`: the time to build and draw one full frame (into a buffer, no terminal) of every screen
// — the tabs and the repo and event levels — at 80x24 and 200x50, for a fleet of 50 machines with
// 200 open alerts, read through the view registry from a demo store. Prints the median of 30 runs
// against the 16 ms target (one frame at 60 Hz), with JSON.stringify of the same data as a
// baseline in the same run. Then the data one poll cycle reads for the screens that used to send
// SQL (machine with its sparklines, events, beads): through the views, against the direct SQL the
// TUI sent before (the queries of lib/tui/events.ts and app.ts until issue 12), as a ratio.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCore, loadScreen } from "../../lib/tui/app.ts";
import { frame, listItems, tabsOf } from "../../lib/tui/frame.ts";
import { frameAnsi } from "../../lib/tui/render.ts";
import type { ViewState } from "../../lib/tui/types.ts";
import { reduce } from "../../lib/tui/app.ts";
import { loadedState, openFixture } from "../tui/_data.ts";
import { createTuiFleet, END } from "../tui/_fixture.ts";

const RUNS = 30;
const TARGET_MS = 16;
const dir = mkdtempSync(join(tmpdir(), "vc-bench-tui-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(fn: () => unknown, runs = RUNS): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn(); // warm up
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

try {
  const fleet = await createTuiFleet(dir, { machines: 50, alerts: 200, days: 1 });
  await using vc = await openFixture(fleet);
  console.log(`vc tui, 50 machines, 200 alerts: one full frame built and drawn to a buffer, median of ${RUNS} (target ${TARGET_MS} ms)`);
  let worst = 0;
  for (const size of [
    { width: 80, height: 24 },
    { width: 200, height: 50 },
  ]) {
    const first = await loadedState(vc, "overview", size);
    if (first.data.alerts.length !== 200 || first.data.health?.machines.length !== 50) throw new Error("the fixture does not have 50 machines and 200 alerts");
    const states: ViewState[] = [];
    for (const sc of tabsOf(first)) states.push(await loadedState(vc, sc.id, size, sc.id === "overview" || sc.id === "events" ? null : "node-03"));
    // The levels: one repo's history, one event in full.
    const repos = states.find((s) => s.screen === "repos")!;
    let repo = reduce(
      {
        ...repos,
        selected: {
          repos: Math.max(
            0,
            listItems(repos).findIndex((i) => i.machineId === "node-03"),
          ),
        },
      },
      "ENTER",
    ).state;
    repo = { ...repo, data: await loadScreen(vc, repo) };
    states.push(repo, reduce(repo, "ENTER").state);
    for (const s of states) {
      const ms = median(await time(() => frameAnsi(frame(s), null)));
      const base = median(await time(() => JSON.stringify(s.data)));
      worst = Math.max(worst, ms);
      console.log(
        `  ${`${size.width}x${size.height}`.padEnd(7)} ${s.screen.padEnd(9)} ${ms.toFixed(2).padStart(6)} ms  (${(ms / TARGET_MS).toFixed(3)} of the target; JSON.stringify of its data ${base.toFixed(2)} ms)`,
      );
    }
  }
  console.log(`  worst screen: ${worst.toFixed(2)} ms = ${(worst / TARGET_MS).toFixed(3)} of the ${TARGET_MS} ms target`);

  // The data one cycle reads: through the views vs the direct SQL the TUI sent before.
  const at = (d: Date) => `TIMESTAMP '${d.toISOString().replace("T", " ").replace("Z", "")}'`;
  const from = new Date(END.getTime() - 6 * 3_600_000);
  const dayAgo = new Date(END.getTime() - 24 * 3_600_000);
  const w = `machine_id = 'node-03' AND collected_at > ${at(from)} AND collected_at <= ${at(END)}`;
  const direct = async () => {
    await Promise.all([vc.robotHealth(), vc.robotTriage(), vc.robotAlerts(), vc.robotMachine("node-03")]);
    await Promise.all([
      vc.query(`SELECT epoch(collected_at) AS t, cpu_total, load5, 100.0 * mem_used_bytes / nullif(mem_total_bytes, 0) AS mem FROM sys_samples WHERE ${w} ORDER BY collected_at`),
      vc.query(`SELECT epoch(collected_at) AS t, max(used_pct) AS disk FROM filesystems WHERE ${w} GROUP BY collected_at ORDER BY collected_at`),
      vc.query(
        `SELECT machine_id, event_key, ts, decision, rule_id, reason, cwd FROM dcg_events WHERE decision IN ('deny', 'warn') AND ts > ${at(dayAgo)} AND ts <= ${at(END)} ORDER BY ts DESC LIMIT 100`,
      ),
      vc.query(
        `SELECT * EXCLUDE (raw_json, evidence_json) FROM process_triage_findings WHERE collected_at <= ${at(END)} AND collected_at > ${at(dayAgo)} QUALIFY collected_at = max(collected_at) OVER (PARTITION BY machine_id) AND recommendation_set IN ('kill', 'review') LIMIT 100`,
      ),
      vc.query(
        `SELECT machine_id, coalesce(domain, remote_ip) AS host, count(*) AS connects FROM rano_events WHERE event = 'connect' AND (provider IS NULL OR provider = 'unknown') AND ts > ${at(dayAgo)} AND ts <= ${at(END)} GROUP BY ALL LIMIT 50`,
      ),
      vc.query(
        `SELECT machine_id, project_id, message_id, created_ts, sender, importance, subject FROM mail_messages WHERE (importance IN ('urgent', 'high') OR ack_required) AND created_ts > ${at(dayAgo)} AND created_ts <= ${at(END)} LIMIT 50`,
      ),
      vc.query(
        `SELECT repo_id, recommendations_json, blockers_json FROM beads_triage_snapshots WHERE collected_at <= ${at(END)} QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY collected_at DESC) = 1`,
      ),
    ]);
  };
  const base = await loadedState(vc, "overview", { width: 200, height: 50 });
  const machine = {
    ...base,
    screen: "machine",
    machineId: "node-03",
    selected: { machine: listItems({ ...base, screen: "machine" }).findIndex((i) => i.machineId === "node-03") },
  };
  const views = async () => {
    const data = await loadCore(vc, base.data);
    await Promise.all(["machine", "events", "beads"].map((screen) => loadScreen(vc, { ...machine, screen, data })));
  };
  const v = median(await time(views, 15));
  const d = median(await time(direct, 15));
  console.log(`data read per cycle (fleet views + machine with sparklines, events, beads), median of 15:`);
  console.log(`  through the views ${v.toFixed(1)} ms, direct SQL as before ${d.toFixed(1)} ms: ratio ${(v / d).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
