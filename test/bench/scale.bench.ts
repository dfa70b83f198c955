// Pull vs push at N = 20, 100, 500 machines (issue 19, point 4), one table:
// - pull: a real `vc up` polling N machines that are one loopback sshd (N machine ids, N pooled
//   connections), each with the fallback probe plus caam and caut answering from the real fixtures.
//   The cold first cycle is left out; the next cycles run back to back (--interval 1) and are timed,
//   whole (collection, rules, alerts). Reported as a share of the default interval (120 s), with the
//   daemon's CPU seconds per cycle (→ % of one core at that interval) and its RSS. Target: 100
//   machines ≤ 10 % of the interval.
// - push: a simulator publishing as N nodes through the node's publishing code (toBatches on the
//   runs the real collectors made on a fake machine, re-stamped per node) to a real nats-server; the
//   hub is a real `vc up` with `ingest: { nats }` and N machines `ssh: "push"`. A backlog (about
//   1500 messages) drained by a bare JetStream consumer that only acks (3 times, median) and then by
//   the hub (first delivery to last ack, as the server reports them): rows/s and the ratio, target ≥ 0.5×;
//   beside them, the same rows committed straight into a fresh store by the hub's commit code (what
//   the store alone allows, so the table shows what NATS and the hub add to it). Then 30 single batches,
//   publish → row answered by a query through the daemon's socket (what `vc query` does).
// - push at N = 500, one node cycle per machine per minute in real time (not compressed): the hub's
//   CPU and RSS over the window, its own poll cycle included. Targets ≤ 25 % of one core, ≤ 300 MB.
// Everything runs on this machine: the sshd, the fake tools and nats-server share its cores with the hub.
//
// Knobs (environment): VC_SCALE_MACHINES ("20,100,500"), VC_SCALE_PULL_CYCLES (2 measured cycles),
// VC_SCALE_BACKLOG (1500 messages), VC_SCALE_SAMPLES (30 latency samples), VC_SCALE_STEADY_SECONDS
// (120), VC_SCALE_STEADY_MACHINES (the largest N), VC_SCALE_BUN_FLAGS (Bun's flags for every `vc up`,
// e.g. "--cpu-prof-md --cpu-prof-dir=/tmp/prof").
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { PollingSchema } from "../../lib/config/schema.ts";
import { renderTable } from "../../cli/_format.ts";
import { startDaemonFleet } from "./_daemon-fleet.ts";
import { measurePull, type PullResult } from "./_scale-pull.ts";
import { measurePush, measureSteady, percentile, templateRuns, type PushResult, type SteadyResult } from "./_scale-push.ts";

const NS = (process.env.VC_SCALE_MACHINES ?? "20,100,500").split(",").map(Number);
const PULL_CYCLES = Number(process.env.VC_SCALE_PULL_CYCLES ?? 2);
const BACKLOG = Number(process.env.VC_SCALE_BACKLOG ?? 1500);
const SAMPLES = Number(process.env.VC_SCALE_SAMPLES ?? 30);
const STEADY_SECONDS = Number(process.env.VC_SCALE_STEADY_SECONDS ?? 120);
const STEADY_N = Number(process.env.VC_SCALE_STEADY_MACHINES ?? Math.max(...NS));
const INTERVAL = v.parse(PollingSchema, {}).interval_seconds;
const IN_FLIGHT = v.parse(PollingSchema, {}).max_machines_in_flight;
const TARGET = { pullShare: 0.1, pullAt: 100, ratio: 0.5, rssMb: 300, cpuPct: 25 };

const median = (xs: number[]) => percentile(xs, 50);
const f1 = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : "?");
const pct = (x: number) => `${f1(x * 100)} %`;
const verdict = (ok: boolean, ratio: number) => `${ok ? "met" : "NOT met"} (${ratio < 0.1 ? ratio.toFixed(3) : ratio.toFixed(2)}x)`;

const dir = mkdtempSync(join(tmpdir(), "vc-bench-scale-"));
const t0 = performance.now();
const took: string[] = [];
const stamp = (what: string, from: number) => took.push(`${what} ${((performance.now() - from) / 1000).toFixed(0)} s`);
const fleet = await startDaemonFleet(join(dir, "fleet"), { machines: 1 });
const pull: PullResult[] = [];
const push: PushResult[] = [];
let steady: SteadyResult | undefined;
try {
  for (const n of NS) {
    const t = performance.now();
    pull.push(await measurePull(fleet, n, { measured: PULL_CYCLES, dir: join(dir, `pull-${n}`) }));
    stamp(`pull N=${n}`, t);
  }
  const templates = await templateRuns(join(dir, "template"), fleet.remote);
  const perCycle = templates.reduce((k, r) => k + Object.values(r.batches).reduce((x, b) => x + b.length, 0), 0);
  for (const n of NS) {
    const t = performance.now();
    push.push(await measurePush(templates, n, { dir: join(dir, `push-${n}`), cycles: Math.max(1, Math.round(BACKLOG / (templates.length * n))), samples: SAMPLES }));
    stamp(`push N=${n}`, t);
  }
  if (STEADY_SECONDS > 0) {
    const t = performance.now();
    steady = await measureSteady(templates, STEADY_N, { dir: join(dir, `steady-${STEADY_N}`), seconds: STEADY_SECONDS });
    stamp(`push steady N=${STEADY_N}`, t);
  }

  // The table: one column per N, then the target and whether it is met.
  const cols = ["figure", ...NS.map((n) => `N=${n}`), "target", "verdict"];
  const rows: Record<string, string>[] = [];
  const row = (figure: string, cells: string[], target = "", v = "") =>
    rows.push({ figure, ...Object.fromEntries(NS.map((n, i) => [`N=${n}`, cells[i] ?? ""])), target, verdict: v });
  const at = <T extends { machines: number }>(xs: T[], n: number) => xs.find((x) => x.machines === n);

  const whole = (r: PullResult) => median(r.cycles.map((c) => c.whole));
  const pull100 = at(pull, TARGET.pullAt);
  row(
    "pull: cycle, whole (median)",
    pull.map((r) => `${f1(whole(r))} s`),
  );
  row(
    "pull: of which collecting",
    pull.map((r) => `${f1(median(r.cycles.map((c) => c.collect)))} s`),
  );
  row(
    `pull: cycle / ${INTERVAL} s interval`,
    pull.map((r) => pct(whole(r) / INTERVAL)),
    `<= ${pct(TARGET.pullShare)} at N=${TARGET.pullAt}`,
    pull100 ? verdict(whole(pull100) / INTERVAL <= TARGET.pullShare, whole(pull100) / INTERVAL / TARGET.pullShare) : "",
  );
  row(
    "pull: first cycle (connects, probes)",
    pull.map((r) => `${f1(r.firstSeconds)} s`),
  );
  row(
    "pull: runs per cycle (failed)",
    pull.map((r) => `${r.runs} (${r.failed})`),
  );
  row(
    "pull: hub CPU per cycle",
    pull.map((r) => `${f1(r.cpuSecondsPerCycle)} s`),
  );
  row(
    `pull: hub CPU at ${INTERVAL} s interval`,
    pull.map((r) => `${f1((r.cpuSecondsPerCycle / INTERVAL) * 100)} %`),
    "of one core",
  );
  row(
    "pull: hub max RSS",
    pull.map((r) => `${f1(r.maxRssMb)} MB`),
  );

  row(
    "push: backlog messages (rows)",
    push.map((r) => `${r.backlog.messages} (${r.backlog.rows})`),
    `${perCycle} rows/node cycle`,
  );
  row(
    "push: hub ingest (first delivery→last ack)",
    push.map((r) => `${f1(r.hubRowsPerSec)} rows/s`),
  );
  row(
    "push: bare consumer, ack only",
    push.map((r) => `${f1(r.bareRowsPerSec)} rows/s`),
  );
  row(
    "push: the same rows, store alone (hub's commit code)",
    push.map((r) => `${f1(r.storeRowsPerSec)} rows/s`),
    "no NATS, no parsing",
  );
  row(
    "push: hub / store alone",
    push.map((r) => `${(r.hubRowsPerSec / r.storeRowsPerSec).toFixed(2)}x`),
    "what the hub adds",
  );
  const worst = Math.min(...push.map((r) => r.hubRowsPerSec / r.bareRowsPerSec));
  row(
    "push: hub / bare",
    push.map((r) => `${(r.hubRowsPerSec / r.bareRowsPerSec).toFixed(4)}x`),
    `>= ${TARGET.ratio}x`,
    verdict(worst >= TARGET.ratio, worst / TARGET.ratio),
  );
  row(
    "push: hub messages/s",
    push.map((r) => f1(r.backlog.messages / r.hubDrainSeconds)),
  );
  row(
    "push: longest pause between commits",
    push.map((r) => `${f1(r.longestPauseMs / 1000)} s`),
    "the hub waiting, not working",
  );
  row(
    "push: hub ingest, pauses > 1 s left out",
    push.map((r) => `${f1(r.hubWorkingRowsPerSec)} rows/s (${(r.hubWorkingRowsPerSec / r.bareRowsPerSec).toFixed(3)}x)`),
  );
  row(
    "push: hub CPU / RSS while draining",
    push.map((r) => `${f1(r.drainCpuPct)} % / ${f1(r.drainRssMb)} MB`),
  );
  row(
    "push: socket's first answer, draining",
    push.map((r) => `${f1(r.firstAnswerMs)} ms`),
    "vc's clients wait 300 ms",
  );
  row(
    "push: publish→visible p50 / p95",
    push.map((r) => `${f1(percentile(r.latencyMs, 50))} / ${f1(percentile(r.latencyMs, 95))} ms`),
    `${SAMPLES} single batches`,
  );
  row(
    "push: committed rows (parked)",
    push.map((r) => `${r.committedRows} (${r.parked})`),
  );
  if (steady) {
    const i = NS.indexOf(steady.machines);
    const only = (s: string) => NS.map((_, k) => (k === i ? s : ""));
    row(`push: 1 cycle/machine/min, ${f1(steady.seconds)} s real time`, only(`${steady.messages} msgs, ${steady.rows} rows`));
    row(
      "push: hub CPU over that window",
      only(`${f1(steady.cpuPct)} %`),
      `<= ${TARGET.cpuPct} % of one core`,
      verdict(steady.cpuPct <= TARGET.cpuPct, steady.cpuPct / TARGET.cpuPct),
    );
    row("push: hub max RSS over that window", only(`${f1(steady.maxRssMb)} MB`), `<= ${TARGET.rssMb} MB`, verdict(steady.maxRssMb <= TARGET.rssMb, steady.maxRssMb / TARGET.rssMb));
    row(
      "push: publish→commit p50 / p95 there",
      only(`${f1(steady.commitLatencyMs.p50)} / ${f1(steady.commitLatencyMs.p95)} ms`),
      "",
      steady.parked ? `${steady.parked} parked` : "",
    );
  }
  console.log(
    `scale: pull = one loopback sshd, N machine ids, fallback probe + caam + caut, ${IN_FLIGHT} machines in flight; push = N simulated nodes (same runs, toBatches) → nats-server → vc up\n`,
  );
  console.log(renderTable(cols, rows, 200, false));

  // Where pull stops being enough: the largest N's cycle per machine, extrapolated (cycles grow linearly with N at a fixed number in flight).
  const big = pull.at(-1);
  if (big) {
    const perMachine = whole(big) / big.machines;
    console.log(
      `\npull at N=${big.machines}: ${(perMachine * 1000).toFixed(0)} ms of cycle per machine → ${TARGET.pullShare * 100} % of the ${INTERVAL} s interval at about ${Math.floor((TARGET.pullShare * INTERVAL) / perMachine)} machines, the whole interval at about ${Math.floor(INTERVAL / perMachine)}`,
    );
  }
  for (const r of pull.filter((x) => x.failures.length)) console.log(`pull N=${r.machines}: failed runs: ${r.failures.join("; ")}`);
  console.log(`took: ${took.join(", ")}; ${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
} finally {
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
}
