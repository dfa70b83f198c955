import { defineCollector } from "vibe-cockpit";
import { cpuBusyPct, memoryFromMeminfo, parseCpuLine, parseDf, parseFree, parseLoadavg, parseMeminfo, parseMounts, parseUptime, splitSections } from "./parse.ts";
import { oomKillsFromVmstat } from "./vmstat.ts";
import { sysprobePlugin } from "./plugin.ts";
import { KNOWN_CACHES } from "./protocols.ts";

export interface SysprobeOptions {
  /** How long to wait between the two /proc/stat readings that give CPU busy (default 500 ms). */
  cpuSampleMs?: number;
}

// Every command is optional: a machine without `free` or /proc still yields what it has.
const script = (cpuSampleMs: number) => `s() { printf '\\n@@vc:%s\\n' "$1"; }
s uptime; uptime 2>/dev/null
s loadavg; cat /proc/loadavg 2>/dev/null
s meminfo; cat /proc/meminfo 2>/dev/null
s free; free -b 2>/dev/null
s df; df -P 2>/dev/null
s mounts; cat /proc/mounts 2>/dev/null
s uptime_seconds; cat /proc/uptime 2>/dev/null
s cores; getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null
s home; printf '%s\\n' "$HOME"
s caches; for d in ${KNOWN_CACHES.map((c) => c.path).join(" ")}; do [ -d "$HOME/$d" ] && printf '%s\\n' "$d"; done
s vmstat; cat /proc/vmstat 2>/dev/null
s stat1; head -n 1 /proc/stat 2>/dev/null
sleep ${(cpuSampleMs / 1000).toFixed(3)}
s stat2; head -n 1 /proc/stat 2>/dev/null
s end`;

// Pseudo filesystems whose fullness means nothing for disk health.
const PSEUDO = new Set([
  "proc",
  "sysfs",
  "devtmpfs",
  "devpts",
  "cgroup",
  "cgroup2",
  "securityfs",
  "debugfs",
  "tracefs",
  "pstore",
  "bpf",
  "mqueue",
  "hugetlbfs",
  "configfs",
  "fusectl",
  "autofs",
  "binfmt_misc",
  "squashfs",
  "nsfs",
  "ramfs",
]);

/** Turns the probe's output into one sys_samples row and filesystems rows. */
export function parseProbe(output: string, warn: (m: string) => void) {
  const sec = splitSections(output);
  if (sec.end === undefined) warn("probe output ended early; some sections are missing");
  const load = parseLoadavg(sec.loadavg ?? "") ?? parseUptime(sec.uptime ?? "");
  if (!load) warn("no load averages (neither /proc/loadavg nor uptime could be read)");
  const mem = memoryFromMeminfo(parseMeminfo(sec.meminfo ?? "")) ?? parseFree(sec.free ?? "");
  if (!mem) warn("no memory figures (neither /proc/meminfo nor free -b could be read)");
  const b1 = parseCpuLine(sec.stat1 ?? "");
  const b2 = parseCpuLine(sec.stat2 ?? "");
  const cores = Number.parseInt((sec.cores ?? "").trim(), 10);
  const uptime = Number.parseFloat((sec.uptime_seconds ?? "").trim().split(/\s+/)[0] ?? "");
  const types = parseMounts(sec.mounts ?? "");
  const df = parseDf(sec.df ?? "");
  if (df.length === 0) warn("df -P printed no filesystems");

  const sample = {
    cpu_total: b1 && b2 ? cpuBusyPct(b1, b2) : null,
    cpu_cores: Number.isFinite(cores) && cores > 0 ? cores : null,
    load1: load?.load1 ?? null,
    load5: load?.load5 ?? null,
    load15: load?.load15 ?? null,
    procs_running: load?.procs_running ?? null,
    procs_total: load?.procs_total ?? null,
    mem_total_bytes: mem?.mem_total_bytes ?? null,
    mem_used_bytes: mem?.mem_used_bytes ?? null,
    mem_available_bytes: mem?.mem_available_bytes ?? null,
    swap_total_bytes: mem?.swap_total_bytes ?? null,
    swap_used_bytes: mem?.swap_used_bytes ?? null,
    uptime_seconds: Number.isFinite(uptime) ? uptime : null,
    // No counter (an old kernel, no /proc) is no data, not zero kills: no warning, the rule stays quiet.
    oom_kills: oomKillsFromVmstat(sec.vmstat ?? ""),
  };
  const filesystems = df.filter((f) => !PSEUDO.has(types.get(f.mount) ?? "")).map((f) => ({ ...f, fs_type: types.get(f.mount) ?? null }));
  // The collecting user's HOME and which tools' caches it holds (raw_json only): the disk protocol measures and empties them.
  const caches = sec.caches === undefined ? null : sec.caches.split("\n").filter((d) => d.trim() !== "");
  return { sample: { ...sample, raw_json: { ...sample, home: (sec.home ?? "").trim() || null, caches } }, filesystems };
}

/**
 * The fallback system probe (plan §3.15): load, memory, swap, CPU busy, OOM kills and disks from
 * plain POSIX tools and /proc, on any machine. Always on.
 * @example collectors: [sysprobe()]
 */
export function sysprobe(options: SysprobeOptions = {}) {
  const cpuSampleMs = options.cpuSampleMs ?? 500;
  return defineCollector({
    name: "sysprobe",
    plugin: sysprobePlugin,
    version: "1.1.0",
    schemaVersion: 1,
    description: "uptime, df -P, free -b, /proc/loadavg, /proc/meminfo, /proc/vmstat (OOM kills): baseline health with nothing installed",
    async collect(ctx) {
      const r = await ctx.exec.run({ script: script(cpuSampleMs) });
      if (r.exitCode !== 0 && r.exitCode !== null) ctx.warn(`probe exited with ${r.exitCode}: ${r.stderr.trim().slice(0, 200)}`);
      const { sample, filesystems } = parseProbe(r.stdout, ctx.warn);
      if (sample.load1 === null && sample.mem_total_bytes === null && filesystems.length === 0) {
        throw new Error(`the probe read nothing usable on ${ctx.machine.id} (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 200)}`);
      }
      return { rows: { sys_samples: [sample], filesystems } };
    },
  });
}

export default sysprobe;
