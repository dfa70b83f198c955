// What one poll cycle asks of the store (issue 11, point 5): the daemon bench's fleet (10 SSH
// machines on one loopback sshd × every bundled collector), cycles run in this process, and every
// statement the store runs counted by what it is (store.ts `statementTrace`), for the collection
// part (runCycle) and the end of the cycle (finishCycle: health, rules, alerts, snapshots) apart.
// Cycle 1 fills the store; then a cycle as `vc up` runs it every interval (collectors with a longer
// interval of their own not due), and a forced one (every collector runs).
//
// Knobs (environment): VC_BENCH_MACHINES (10), VC_BENCH_TOP (25: kinds of statement listed per part).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openFromArgs } from "../../cli/_common.ts";
import { runCycle } from "../../lib/collect/scheduler.ts";
import { finishCycle } from "../../lib/cycle.ts";
import { createExecutorFactory } from "../../lib/cockpit.ts";
import { statementTrace } from "../../lib/store/store.ts";
import { startDaemonFleet } from "./_daemon-fleet.ts";
import { rssByMapping } from "./_smaps.ts";

const machines = Number(process.env.VC_BENCH_MACHINES ?? 10);
const top = Number(process.env.VC_BENCH_TOP ?? 25);

/** CPU ticks of each thread of this process, by thread name (the JS thread is "bun"; DuckDB's statements run on libuv's pool and its own threads). */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "#");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]));
    } catch {}
  }
  return out;
}
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const TICK_MS = 1000 / (Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100);

/** Runs `fn` with the trace on; returns what it counted, the time it took and the CPU time this process spent (all threads: DuckDB's too). */
async function traced<T>(fn: () => Promise<T>) {
  statementTrace.counts.clear();
  statementTrace.on = true;
  statementTrace.rss = true;
  statementTrace.timeline = [];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const threads0 = threadTicks();
  const rss0 = process.memoryUsage.rss();
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  try {
    const out = await fn();
    const cpu = process.cpuUsage(cpu0);
    const byThread = new Map<string, number>();
    for (const [name, t] of threadTicks()) if (t - (threads0.get(name) ?? 0) > 0) byThread.set(name, (t - (threads0.get(name) ?? 0)) * TICK_MS);
    return {
      out,
      ms: performance.now() - t0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      byThread,
      peakMb: peak / 2 ** 20,
      counts: new Map(statementTrace.counts),
      timeline: { t0, rss0, steps: statementTrace.timeline ?? [] },
    };
  } finally {
    clearInterval(sampler);
    statementTrace.on = false;
    statementTrace.rss = false;
    statementTrace.timeline = null;
  }
}

/** RSS along a traced part: at its start, then after each group of consecutive statements of one kind (inserts as one group), at the end. */
function printTimeline(title: string, tl: { t0: number; rss0: number; steps: { label: string; at: number; rss0: number; rss1: number }[] }, endRss: number) {
  const groups: { label: string; n: number; from: number; to: number; at: number }[] = [];
  for (const s of tl.steps) {
    const label = s.label.startsWith("insert ") ? "inserts" : s.label.slice(0, 28);
    const last = groups.at(-1);
    if (last && last.label === label) {
      last.n++;
      last.to = s.rss1;
    } else groups.push({ label, n: 1, from: s.rss0, to: s.rss1, at: s.at - tl.t0 });
  }
  const parts = groups.map((g) => `${g.label}${g.n > 1 ? ` ×${g.n}` : ""} @${(g.at / 1000).toFixed(1)}s ${mb(g.from)}→${mb(g.to)}`);
  console.log(`  RSS timeline, ${title} (MB): start ${mb(tl.rss0)} | ${parts.join(" | ")} | end ${mb(endRss)}`);
}

function print(title: string, counts: typeof statementTrace.counts, wallMs: number, cpuMs: number, byThread: Map<string, number>) {
  const list = [...counts].sort((a, b) => b[1].ms - a[1].ms);
  // An insert is two statements (INSERT … SELECT from the stage, DELETE of the stage) after the appender's rows.
  const n = list.reduce((a, [label, c]) => a + c.n * (label.startsWith("insert ") ? 2 : 1), 0);
  const ms = list.reduce((a, [, c]) => a + c.ms, 0);
  console.log(
    `  ${title}: ${n} statements (${list.reduce((a, [, c]) => a + c.n, 0)} calls), ${ms.toFixed(0)} ms in the store (summed over statements in flight), ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU (${[
      ...byThread,
    ]
      .sort((a, b) => b[1] - a[1])
      .map(([n, ms]) => `${n} ${ms.toFixed(0)}`)
      .join(", ")})`,
  );
  for (const [label, c] of list.slice(0, top))
    console.log(`    ${String(c.n).padStart(5)} × ${(c.ms / c.n).toFixed(2).padStart(6)} ms  ${mb(c.rssGrowth).padStart(6)} MB RSS  ${label}`);
  if (list.length > top) console.log(`    … and ${list.length - top} more kinds`);
  const growth = [...counts].sort((a, b) => b[1].rssGrowth - a[1].rssGrowth).slice(0, 8);
  console.log(`    RSS grew most over: ${growth.map(([label, c]) => `${label.slice(0, 50)} (${c.n}×) ${mb(c.rssGrowth)} MB, peak ${mb(c.rssPeak)}`).join("; ")}`);
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
    print("collection (runCycle)", collect.counts, collect.ms, collect.cpuMs, collect.byThread);
    printTimeline("collection", collect.timeline, finish.timeline.rss0);
    printTimeline("end of cycle", finish.timeline, process.memoryUsage.rss());
    print("end of cycle (finishCycle)", finish.counts, finish.ms, finish.cpuMs, finish.byThread);
    const mem = process.memoryUsage();
    const duck = await store.query<{ tag: string; mb: number }>(
      "SELECT tag, round(memory_usage_bytes / 2**20, 1) AS mb FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY memory_usage_bytes DESC",
    );
    console.log(
      `  memory: peak RSS ${collect.peakMb.toFixed(0)} MB collecting, ${finish.peakMb.toFixed(0)} MB finishing; after: RSS ${(mem.rss / 2 ** 20).toFixed(0)} MB, JS heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB; DuckDB: ${duck.map((d) => `${d.tag} ${d.mb} MB`).join(", ")}`,
    );
    const parts = (m: Record<string, number> | null) =>
      m
        ? Object.entries(m)
            .map(([k, kb]) => `${k} ${(kb / 1024).toFixed(0)}`)
            .join(", ")
        : "?";
    console.log(`  RSS by mapping (MB) right after: ${parts(rssByMapping("self"))}`);
    await Bun.sleep(3000); // the store checkpoints and hands memory back 2 s after its last write
    console.log(`  RSS by mapping (MB) 3 s later: ${parts(rssByMapping("self"))}; RSS ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MB`);
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
