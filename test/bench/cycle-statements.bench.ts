// What one poll cycle asks of the store (issue 11, point 5): the daemon bench's fleet (10 SSH
// machines on one loopback sshd × every bundled collector), cycles run in this process, and every
// statement the store runs counted by what it is (store.ts `statementTrace`), for the collection
// part (runCycle) and the end of the cycle (finishCycle: health, rules, alerts, snapshots) apart.
// Cycle 1 fills the store; then a cycle as `vc up` runs it every interval (collectors with a longer
// interval of their own not due), and a forced one (every collector runs).
//
// Knobs (environment): VC_BENCH_MACHINES (10), VC_BENCH_TOP (25: kinds of statement listed per part).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openFromArgs } from "../../cli/_common.ts";
import { runCycle } from "../../lib/collect/scheduler.ts";
import { finishCycle } from "../../lib/cycle.ts";
import { createExecutorFactory } from "../../lib/cockpit.ts";
import { statementTrace } from "../../lib/store/store.ts";
import { startDaemonFleet } from "./_daemon-fleet.ts";

const machines = Number(process.env.VC_BENCH_MACHINES ?? 10);
const top = Number(process.env.VC_BENCH_TOP ?? 25);

/** Runs `fn` with the trace on; returns what it counted, and the time it took. */
async function traced<T>(fn: () => Promise<T>) {
  statementTrace.counts.clear();
  statementTrace.on = true;
  const t0 = performance.now();
  try {
    const out = await fn();
    return { out, ms: performance.now() - t0, counts: new Map(statementTrace.counts) };
  } finally {
    statementTrace.on = false;
  }
}

function print(title: string, counts: Map<string, { n: number; ms: number }>, wallMs: number) {
  const list = [...counts].sort((a, b) => b[1].ms - a[1].ms);
  const n = list.reduce((a, [, c]) => a + c.n, 0);
  const ms = list.reduce((a, [, c]) => a + c.ms, 0);
  console.log(`  ${title}: ${n} statements, ${ms.toFixed(0)} ms in the store (${wallMs.toFixed(0)} ms wall)`);
  for (const [label, c] of list.slice(0, top)) console.log(`    ${String(c.n).padStart(5)} × ${(c.ms / c.n).toFixed(2).padStart(6)} ms  ${label}`);
  if (list.length > top) console.log(`    … and ${list.length - top} more kinds`);
}

const dir = mkdtempSync(join(tmpdir(), "vc-bench-stmts-"));
const fleet = await startDaemonFleet(dir, { machines });
const vc = await openFromArgs({ config: fleet.config }, { env: fleet.env });
const executors = new Map<string, ReturnType<ReturnType<typeof createExecutorFactory>>>();
const factory = createExecutorFactory(vc.config, { env: fleet.env });
const executorFor = (m: { id: string }) => {
  if (!executors.has(m.id)) executors.set(m.id, factory(m as never));
  return executors.get(m.id)!;
};
try {
  const { store, config, clock } = vc;
  const cycle = async (title: string, force: boolean) => {
    const collect = await traced(() => runCycle({ store, config, clock, executorFor, force }));
    const runs = collect.out.machines.flatMap((m) => m.runs);
    const by = (r: string) => runs.filter((x) => x.result === r).length;
    const finish = await traced(() => finishCycle({ store, config, clock, rules: config.rules, channels: config.channels }));
    console.log(`\n${title}: ${runs.length} runs (${by("ok")} ok, ${by("failed")} failed, ${by("skipped")} skipped), ${finish.out.events.length} alert changes`);
    print("collection (runCycle)", collect.counts, collect.ms);
    print("end of cycle (finishCycle)", finish.counts, finish.ms);
    const failed = runs.filter((r) => r.result === "failed");
    for (const r of failed.slice(0, 5)) console.log(`    failed: ${r.machine}/${r.collector}: ${r.error?.slice(0, 160)}`);
  };
  await cycle("cycle 1 (empty store)", false);
  await cycle("cycle 2 (as vc up's next interval)", false);
  await cycle("cycle 3 (forced: every collector)", true);
} finally {
  await Promise.all([...executors.values()].map(async (e) => (await e).close().catch(() => {})));
  await vc.close();
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
}
