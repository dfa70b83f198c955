// A `vc up` process as the daemon benchmarks watch it: its cycles as they end (the "cycle N … in S s"
// lines of its stderr), and the RSS and CPU time of its process tree read from /proc. Shared by
// daemon.bench.ts and scale.bench.ts.
import { readdirSync, readFileSync } from "node:fs";
import { lineWaiter } from "../helpers/dcg-watch.ts";
import { rssByMapping } from "./_smaps.ts";

/** Clock ticks per second (/proc's CPU times are in ticks). */
export const TICK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** One process's CPU time (its reaped children included) in ticks, its RSS and peak RSS in kB, its parent. */
export function readProc(pid: number): { ppid: number; ticks: number; rssKb: number; hwmKb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd (state) on
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
  } catch {
    return null; // gone
  }
}

export type TreeSample = ReturnType<typeof sampleTree>;

/** The daemon and its live descendants, summed. */
export function sampleTree(root: number) {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const pids = [root];
  for (let i = 0; i < pids.length; i++) for (const [p, pp] of parent) if (pp === pids[i]) pids.push(p);
  let ticks = 0;
  let rssKb = 0;
  let hwmKb = 0;
  for (const pid of pids) {
    const r = readProc(pid);
    if (!r) continue;
    ticks += r.ticks;
    rssKb += r.rssKb;
    if (pid === root) hwmKb = r.hwmKb;
  }
  return { t: performance.now(), ticks, rssKb, hwmKb, processes: pids.length, map: rssByMapping(root) };
}

export interface CycleLine {
  n: number;
  at: number;
  seconds: number | null;
  line: string;
}

/** Follows `vc up`'s stderr: the "cycle N … in S s" lines as they come, and every line for the record. */
export function follow(p: ReturnType<typeof Bun.spawn>) {
  const w = lineWaiter(p.stderr as ReadableStream<Uint8Array>);
  void new Response(p.stdout as ReadableStream<Uint8Array>).text();
  const cycles: CycleLine[] = [];
  const cycleOf = (line: string) => Number(/\bcycle (\d+)\b/.exec(line)?.[1] ?? NaN);
  const tail = () => w.lines.slice(-30).join("\n");
  return {
    cycles,
    lines: w.lines,
    /** The first line that matches (already seen, or the next one). */
    next: w.next,
    /** Waits for cycles up to `n`, one by one (so each is timed when its line arrives). */
    async until(n: number, timeoutMs: number): Promise<void> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const giveUp = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no cycle ${n} within ${timeoutMs / 1000} s; vc up said:\n${tail()}`)), timeoutMs);
        void p.exited.then((code) => reject(new Error(`vc up exited with ${code} before cycle ${n}:\n${tail()}`)));
      });
      try {
        while ((cycles.at(-1)?.n ?? 0) < n) {
          const want = (cycles.at(-1)?.n ?? 0) + 1;
          const line = await Promise.race([w.next((l) => cycleOf(l) === want), giveUp]);
          const sec = /\bin ([\d.]+) s\b/.exec(line);
          cycles.push({ n: want, at: performance.now(), seconds: sec ? Number(sec[1]) : null, line });
        }
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** SIGTERM, then SIGKILL after 30 s. */
export async function stopDaemon(p: ReturnType<typeof Bun.spawn>) {
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), 30_000);
  await p.exited;
  clearTimeout(t);
}
