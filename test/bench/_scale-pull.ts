// The pull side of the scale benchmark: a real `vc up` polling N machines that are all one loopback
// sshd (distinct machine ids, so N pooled SSH connections), each running the fallback probe and two
// cheap tool collectors (caam, caut) against the daemon fleet's fake tools. The first cycle (connects,
// tool probes, caut's history read in full) is left out; the next ones are timed, and the daemon's
// RSS and CPU time are read from /proc over them.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliEntry, isolatedEnv } from "../helpers/cli.ts";
import type { DaemonFleet } from "./_daemon-fleet.ts";
import { TICK, follow, sampleTree, stopDaemon, type TreeSample } from "./_vc-up.ts";

/** The collectors both sides run (the CLI adds the fallback probe, sysprobe, to every config). */
export const SCALE_COLLECTORS = "[caam(), caut()]";

/** A vc.config.ts for the scale benchmark: `machines` as given, the default rules, no alert channel. */
export function writeScaleConfig(dir: string, machines: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "vc.config.ts");
  writeFileSync(
    file,
    `// Written by test/bench/_scale-pull.ts: ${machines.length} machines x the fallback probe, caam and caut.
import { defineConfig } from "vibe-cockpit";
import { caam, caut, defaultRules } from "vibe-cockpit/plugins";

export default defineConfig({
  db: ${JSON.stringify(join(dir, "vc.duckdb"))},
  data_dir: ${JSON.stringify(join(dir, "data"))},
  machines: ${JSON.stringify(machines)},
  collectors: ${SCALE_COLLECTORS},
  rules: defaultRules(),
  ...${JSON.stringify(extra)},
});
`,
  );
  return file;
}

/** Bun's flags for every `vc up` of the scale benchmark (e.g. "--cpu-prof-md --cpu-prof-dir=/tmp/prof" to see where the hub's time goes). */
const bunFlags = (process.env.VC_SCALE_BUN_FLAGS ?? "").split(/\s+/).filter(Boolean);

/** Starts `vc up` on a config written by writeScaleConfig. */
export function spawnUp(dir: string, config: string, args: string[] = []) {
  const env = isolatedEnv(dir, { VC_CONFIG: config });
  return Bun.spawn(["bun", ...bunFlags, cliEntry, "up", ...args], { cwd: env.HOME, env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
}

export interface PullResult {
  machines: number;
  /** The cold first cycle (connects, tool probes): its collection seconds. */
  firstSeconds: number;
  /** Each measured cycle: the collection (the cycle line's "in S s") and the whole cycle, rules included (line to line). */
  cycles: { collect: number; whole: number }[];
  /** Runs per measured cycle, and failed runs among them. */
  runs: number;
  failed: number;
  /** CPU seconds of the daemon per measured cycle, and its RSS (max sampled, VmHWM) in MB. */
  cpuSecondsPerCycle: number;
  maxRssMb: number;
  hwmMb: number;
  /** Wall seconds the whole measurement took (start of `vc up` to its exit). */
  tookSeconds: number;
  failures: string[];
}

/**
 * Polls `n` machines of the fleet's sshd with a real `vc up --interval 1` (each cycle starts as soon as
 * the last ends), times `measured` cycles after the first, and stops it.
 */
export async function measurePull(fleet: DaemonFleet, n: number, o: { measured: number; dir: string; inFlight?: number }): Promise<PullResult> {
  const t0 = performance.now();
  const machines = Array.from({ length: n }, (_, i) => ({
    id: `pull-${String(i + 1).padStart(3, "0")}`,
    ssh: `${fleet.sshd.user}@127.0.0.1:${fleet.sshd.port}`,
    identity_file: fleet.sshd.userKey,
    known_hosts: [fleet.sshd.knownHosts],
  }));
  const config = writeScaleConfig(o.dir, machines, o.inFlight ? { polling: { max_machines_in_flight: o.inFlight } } : {});
  const p = spawnUp(o.dir, config, ["--interval", "1"]);
  const f = follow(p);
  const samples: TreeSample[] = [];
  let result: PullResult;
  try {
    await f.until(1, 900_000);
    const from = sampleTree(p.pid);
    const sampler = setInterval(() => samples.push(sampleTree(p.pid)), 2000);
    try {
      await f.until(1 + o.measured, 900_000 * o.measured);
    } finally {
      clearInterval(sampler);
    }
    const to = sampleTree(p.pid);
    samples.push(to);
    const lines = f.cycles.slice(1, 1 + o.measured);
    const cycles = lines.map((c, i) => ({ collect: c.seconds ?? Number.NaN, whole: (c.at - f.cycles[i]!.at) / 1000 }));
    const counts = /(\d+) runs in [\d.]+ s · (\d+) ok (\d+) failed/.exec(lines.at(-1)!.line);
    result = {
      machines: n,
      firstSeconds: f.cycles[0]!.seconds ?? Number.NaN,
      cycles,
      runs: Number(counts?.[1] ?? Number.NaN),
      failed: Number(counts?.[3] ?? Number.NaN),
      cpuSecondsPerCycle: (to.ticks - from.ticks) / TICK / o.measured,
      maxRssMb: Math.max(from.rssKb, ...samples.map((s) => s.rssKb)) / 1024,
      hwmMb: to.hwmKb / 1024,
      tookSeconds: 0,
      failures: [...new Set(f.lines.filter((l) => /pull-\d+\/\S+:/.test(l)).map((l) => l.replace(/.*pull-\d+\//, "").slice(0, 160)))],
    };
  } finally {
    await stopDaemon(p);
  }
  result.tookSeconds = (performance.now() - t0) / 1000;
  return result;
}
