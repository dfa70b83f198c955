/**
 * Parsers for `sysmoni --json` (system_resource_protection_script, cmd/sysmoni): one Go `Sample`
 * encoded without json tags, so keys are the Go field names (PascalCase). `Interval` is a Go
 * `time.Duration` (nanoseconds), `Timestamp` an RFC 3339 time with nanoseconds and the machine's
 * local offset, nil slices (GPUs without nvidia-smi, Throttled with nothing niced) are `null`.
 */
import * as v from "valibot";
import { issueText } from "vibe-cockpit";

const num = v.nullish(v.number());
const str = v.nullish(v.string());

const ProcessSchema = v.looseObject({
  PID: v.pipe(v.number(), v.integer()),
  Nice: num,
  CPU: num,
  Memory: num,
  Command: str,
  FDCount: num,
  ReadKBs: num,
  WriteKBs: num,
  FDDiff: num,
});

const GpuSchema = v.looseObject({ Name: str, Util: num, MemUsedMB: num, MemTotalMB: num, TempC: num });
const TempSchema = v.looseObject({ Zone: v.string(), Temp: num });

/** The parts of a Sample vc reads; everything else stays in raw_json. */
export const SampleSchema = v.looseObject({
  Timestamp: v.string(),
  Interval: num,
  CPU: v.looseObject({ Total: num, PerCore: v.nullish(v.array(v.number())), Load1: num, Load5: num, Load15: num }),
  Memory: v.looseObject({ UsedBytes: num, TotalBytes: num, SwapUsed: num, SwapTotal: num, Cached: num, Buffers: num }),
  IO: v.nullish(v.looseObject({ DiskReadMBs: num, DiskWriteMBs: num, NetRxMbps: num, NetTxMbps: num })),
  GPUs: v.nullish(v.array(v.unknown())),
  Top: v.nullish(v.array(v.unknown())),
  Throttled: v.nullish(v.array(v.unknown())),
  Inotify: v.nullish(v.looseObject({ MaxUserWatches: num, MaxUserInstances: num, NrWatches: num })),
  Temps: v.nullish(v.array(v.unknown())),
});
export type Sample = v.InferOutput<typeof SampleSchema>;

/** An RFC 3339 time with any offset and up to nanoseconds, as a UTC Date (ms precision); null if unreadable. */
export function parseGoTime(s: string | null | undefined): Date | null {
  if (!s) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/i.exec(s.trim());
  if (!m) return null;
  // Cut the fraction to milliseconds ourselves: the offset is applied by Date, the digits are not rounded up.
  const ms = (m[3] ?? "").slice(0, 3).padEnd(3, "0");
  const zone = m[4]!.toUpperCase() === "Z" ? "Z" : m[4]!.replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  const t = Date.parse(`${m[1]}T${m[2]}.${ms}${zone}`);
  return Number.isFinite(t) ? new Date(t) : null;
}

const orNull = (n: number | null | undefined) => (typeof n === "number" && Number.isFinite(n) ? n : null);
const int = (n: number | null | undefined) => (typeof n === "number" && Number.isFinite(n) ? Math.round(n) : null);

/** What one sample becomes: a sys_samples row and its side rows. */
export interface SysmoniRows {
  sample: Record<string, unknown>;
  top: Record<string, unknown>[];
  gpus: Record<string, unknown>[];
  temps: Record<string, unknown>[];
}

/**
 * The last JSON line of sysmoni's output (`--json` prints one; `--json-stream` one per tick),
 * checked against the Sample shape, and how many lines came before it. Throws a readable Error
 * when there is no sample.
 */
export function readSample(stdout: string, what = "sysmoni --json"): { raw: Record<string, unknown>; sample: Sample; tick: number } {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  let lastError = "no output";
  for (let i = lines.length - 1; i >= 0; i--) {
    let raw: unknown;
    try {
      raw = JSON.parse(lines[i]!);
    } catch (err) {
      lastError = `not JSON (${(err as Error).message})`;
      continue;
    }
    const r = v.safeParse(SampleSchema, raw);
    if (r.success) return { raw: raw as Record<string, unknown>, sample: r.output, tick: i + 1 };
    lastError = `not a sysmoni sample: ${issueText(r, "(top)")}`;
  }
  throw new Error(`${what} printed no sample (${lastError}): ${JSON.stringify(stdout.slice(0, 120))}`);
}

/**
 * sysmoni's first tick has no previous one to measure against: CPU, disk and network rates, per
 * process I/O and FDDiff all come out as 0 (FDDiff as the whole fd count). `--json` prints only
 * that first tick, so a one-shot sample with an all-zero CPU is "not measured", not "idle".
 */
export function isUnmeasured(s: Sample, tick: number): boolean {
  return tick < 2 && s.CPU.Total === 0 && (s.CPU.PerCore ?? []).every((c) => c === 0);
}

/**
 * Maps a sample to rows. `Interval` is nanoseconds (Go Duration); rates go to the core columns
 * unchanged (disk_*_mbps are MiB/s as sysmoni computes them, net_*_mbps megabits/s); a process's
 * Memory is a percent of RAM, its ReadKBs/WriteKBs KiB per second. `tick` is the sample's place in
 * sysmoni's stream (1 = the first): an unmeasured first tick (isUnmeasured) gives nulls for rates.
 */
export function mapSample(raw: Record<string, unknown>, s: Sample, warn: (m: string) => void, tick = 2): SysmoniRows {
  const unmeasured = isUnmeasured(s, tick);
  const rate = (n: number | null | undefined) => (unmeasured ? null : orNull(n));
  const total = orNull(s.Memory.TotalBytes);
  const top: Record<string, unknown>[] = [];
  const seen = new Set<number>();
  (s.Top ?? []).forEach((p, i) => {
    const r = v.safeParse(ProcessSchema, p);
    if (!r.success) {
      warn(`sysmoni Top[${i}] skipped: ${r.issues[0].message}`);
      return;
    }
    const x = r.output;
    if (seen.has(x.PID)) {
      warn(`sysmoni Top[${i}] repeats pid ${x.PID}; kept the first`);
      return;
    }
    seen.add(x.PID);
    const memPct = orNull(x.Memory);
    top.push({
      pid: x.PID,
      rank: i + 1,
      comm: x.Command ?? null,
      nice: int(x.Nice),
      cpu_pct: orNull(x.CPU),
      mem_pct: memPct,
      mem_bytes: memPct !== null && total !== null ? Math.round((memPct / 100) * total) : null,
      fd_count: int(x.FDCount),
      fd_diff: unmeasured ? null : int(x.FDDiff),
      io_read_kib_s: rate(x.ReadKBs),
      io_write_kib_s: rate(x.WriteKBs),
      raw_json: p,
    });
  });

  const gpus: Record<string, unknown>[] = [];
  (s.GPUs ?? []).forEach((g, i) => {
    const r = v.safeParse(GpuSchema, g);
    if (!r.success) return warn(`sysmoni GPUs[${i}] skipped: ${r.issues[0].message}`);
    gpus.push({
      gpu_index: i,
      name: r.output.Name ?? null,
      util_pct: orNull(r.output.Util),
      mem_used_mb: orNull(r.output.MemUsedMB),
      mem_total_mb: orNull(r.output.MemTotalMB),
      temp_c: orNull(r.output.TempC),
      raw_json: g,
    });
  });

  const temps: Record<string, unknown>[] = [];
  const zones = new Set<string>();
  (s.Temps ?? []).forEach((t, i) => {
    const r = v.safeParse(TempSchema, t);
    if (!r.success) return warn(`sysmoni Temps[${i}] skipped: ${r.issues[0].message}`);
    if (zones.has(r.output.Zone)) return;
    zones.add(r.output.Zone);
    temps.push({ zone: r.output.Zone, temp_c: orNull(r.output.Temp) });
  });

  const maxOf = (xs: (number | null)[]) => {
    const ok = xs.filter((x): x is number => x !== null);
    return ok.length ? Math.max(...ok) : null;
  };
  const used = orNull(s.Memory.UsedBytes);
  const nr = orNull(s.Inotify?.NrWatches);
  const sampledAt = parseGoTime(s.Timestamp);
  if (!sampledAt) warn(`sysmoni Timestamp ${JSON.stringify(s.Timestamp)} is not an RFC 3339 time`);
  const interval = orNull(s.Interval);
  const sample = {
    sampled_at: sampledAt,
    sample_interval_s: interval !== null ? interval / 1e9 : null, // Go Duration: nanoseconds
    cpu_total: rate(s.CPU.Total),
    cpu_cores: s.CPU.PerCore?.length ? s.CPU.PerCore.length : null,
    load1: orNull(s.CPU.Load1),
    load5: orNull(s.CPU.Load5),
    load15: orNull(s.CPU.Load15),
    mem_used_bytes: used,
    mem_total_bytes: total,
    mem_available_bytes: null, // sysmoni does not report it
    mem_cached_bytes: orNull(s.Memory.Cached),
    mem_buffers_bytes: orNull(s.Memory.Buffers),
    swap_used_bytes: orNull(s.Memory.SwapUsed),
    swap_total_bytes: orNull(s.Memory.SwapTotal),
    disk_read_mbps: rate(s.IO?.DiskReadMBs),
    disk_write_mbps: rate(s.IO?.DiskWriteMBs),
    net_rx_mbps: rate(s.IO?.NetRxMbps),
    net_tx_mbps: rate(s.IO?.NetTxMbps),
    gpu_count: s.GPUs ? gpus.length : 0,
    gpu_util_max: maxOf(gpus.map((g) => g.util_pct as number | null)),
    temp_max_c: maxOf(temps.map((t) => t.temp_c as number | null)),
    throttled_count: s.Throttled ? s.Throttled.length : 0,
    // NrWatches reads /proc/sys/fs/inotify/nr_watches, absent on Linux: 0 means "unknown" there.
    inotify_watches: nr !== null && nr > 0 ? nr : null,
    inotify_instances: null as number | null,
    inotify_max_user_watches: orNull(s.Inotify?.MaxUserWatches) || null,
    inotify_max_user_instances: orNull(s.Inotify?.MaxUserInstances) || null,
    raw_json: raw,
  };
  return { sample, top, gpus, temps };
}

/**
 * A shell script counting inotify instances and watches held by the collecting user's processes:
 * each inotify fd is a link to `anon_inode:inotify`, and its fdinfo has one `inotify wd:` line per
 * watch. Prints `inotify <instances> <watches>`, or nothing where there is no /proc.
 */
export const INOTIFY_PROBE = `[ -d /proc/self/fdinfo ] || exit 0
u=$(id -u 2>/dev/null) || exit 0
n=0; w=0
for fd in $(find /proc/[0-9]*/fd -maxdepth 1 -user "$u" -lname 'anon_inode:inotify' 2>/dev/null); do
  c=$(grep -c '^inotify' "\${fd%/fd/*}/fdinfo/\${fd##*/}" 2>/dev/null)
  [ -n "$c" ] || c=0
  n=$((n + 1)); w=$((w + c))
done
echo "inotify $n $w"`;

/** The probe's answer, or null when it printed none. */
export function parseInotifyProbe(stdout: string): { instances: number; watches: number } | null {
  const m = /^inotify (\d+) (\d+)$/m.exec(stdout);
  return m ? { instances: Number(m[1]), watches: Number(m[2]) } : null;
}
