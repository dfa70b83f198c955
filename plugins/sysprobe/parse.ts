/**
 * Parsers for the fallback system probe (plan §3.15): the plain outputs of `uptime`, `df -P`,
 * `free -b`, /proc/loadavg, /proc/meminfo, /proc/stat and /proc/mounts. Each returns null (or
 * an empty list) for text it does not recognise; the collector turns that into a warning.
 */

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  procs_running: number | null;
  procs_total: number | null;
}

/** `/proc/loadavg`: "0.52 0.58 0.59 2/345 12345". */
export function parseLoadavg(text: string): LoadAvg | null {
  const m = /^\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:\s+(\d+)\/(\d+))?/.exec(text);
  if (!m) return null;
  return {
    load1: Number(m[1]),
    load5: Number(m[2]),
    load15: Number(m[3]),
    procs_running: m[4] ? Number(m[4]) : null,
    procs_total: m[5] ? Number(m[5]) : null,
  };
}

/** `uptime`: the load averages at the end ("load average: 0.00, 0.03, 0.00"; BSD says "averages"). */
export function parseUptime(text: string): LoadAvg | null {
  const m = /load averages?:\s*([\d.]+),?\s+([\d.]+),?\s+([\d.]+)/.exec(text);
  if (!m) return null;
  return { load1: Number(m[1]), load5: Number(m[2]), load15: Number(m[3]), procs_running: null, procs_total: null };
}

/** `/proc/meminfo` as bytes by key (values are in kB). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(\w[\w()]*):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (line.trimEnd().endsWith("kB") ? 1024 : 1);
  }
  return out;
}

export interface Memory {
  mem_total_bytes: number;
  mem_used_bytes: number;
  mem_available_bytes: number | null;
  swap_total_bytes: number;
  swap_used_bytes: number;
}

/** Memory from /proc/meminfo: used = total − available (or − free − buffers − cached on old kernels). */
export function memoryFromMeminfo(info: Record<string, number>): Memory | null {
  const total = info.MemTotal;
  if (total === undefined) return null;
  const available = info.MemAvailable ?? null;
  const free = (info.MemFree ?? 0) + (info.Buffers ?? 0) + (info.Cached ?? 0) + (info.SReclaimable ?? 0);
  return {
    mem_total_bytes: total,
    mem_used_bytes: total - (available ?? free),
    mem_available_bytes: available,
    swap_total_bytes: info.SwapTotal ?? 0,
    swap_used_bytes: (info.SwapTotal ?? 0) - (info.SwapFree ?? 0),
  };
}

/** `free -b`: procps-ng ("Mem: total used free shared buff/cache available") or the older form. */
export function parseFree(text: string): Memory | null {
  const lines = text.split("\n");
  const header =
    lines
      .find((l) => /\btotal\b/.test(l))
      ?.trim()
      .split(/\s+/) ?? [];
  const mem = lines
    .find((l) => /^Mem:/.test(l))
    ?.trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const swap = lines
    .find((l) => /^Swap:/.test(l))
    ?.trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  if (!mem || mem.length < 3 || mem.some(Number.isNaN)) return null;
  const col = (name: string) => {
    const i = header.indexOf(name);
    return i >= 0 && i < mem.length ? mem[i]! : null;
  };
  const total = mem[0]!;
  const available = col("available");
  // Old procps (before 3.3.10) printed "-/+ buffers/cache: used free": that used excludes caches.
  const oldUsed = lines
    .find((l) => l.startsWith("-/+ buffers/cache:"))
    ?.trim()
    .split(/\s+/)[2];
  const used = available !== null ? total - available : oldUsed !== undefined ? Number(oldUsed) : mem[1]!;
  return {
    mem_total_bytes: total,
    mem_used_bytes: used,
    mem_available_bytes: available,
    swap_total_bytes: swap?.[0] ?? 0,
    swap_used_bytes: swap?.[1] ?? 0,
  };
}

export interface DfRow {
  filesystem: string;
  size_bytes: number;
  used_bytes: number;
  avail_bytes: number;
  used_pct: number;
  mount: string;
}

/**
 * `df -P`: one line per filesystem, 1024-byte blocks (the header says the block size).
 * The mount point is everything after the capacity column, so it may hold spaces.
 */
export function parseDf(text: string): DfRow[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0] ?? "";
  const block = Number(/(\d+)-blocks/.exec(header)?.[1] ?? 1024);
  const rows: DfRow[] = [];
  for (const line of lines.slice(1)) {
    const m = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+|-)%?\s+(\/.*)$/.exec(line);
    if (!m) continue;
    const used = Number(m[3]) * block;
    const avail = Number(m[4]) * block;
    rows.push({
      filesystem: m[1]!.trim(),
      size_bytes: Number(m[2]) * block,
      used_bytes: used,
      avail_bytes: avail,
      used_pct: m[5] === "-" ? 0 : used + avail > 0 ? Math.round((used / (used + avail)) * 10000) / 100 : 0,
      mount: m[6]!,
    });
  }
  return rows;
}

/** `/proc/mounts`: filesystem type by mount point (octal escapes such as \040 decoded). */
export function parseMounts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [, mount, type] = line.split(" ");
    if (mount && type)
      out.set(
        mount.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))),
        type,
      );
  }
  return out;
}

/** The aggregate "cpu" line of /proc/stat as [busy, total] jiffies. */
export function parseCpuLine(text: string): [number, number] | null {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some(Number.isNaN)) return null;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3]! + (f[4] ?? 0);
  return [total - idle, total];
}

/** Percent of CPU busy between two /proc/stat readings. */
export function cpuBusyPct(before: [number, number], after: [number, number]): number | null {
  const dt = after[1] - before[1];
  if (dt <= 0) return null;
  return Math.round(((after[0] - before[0]) / dt) * 10000) / 100;
}

/** Splits the probe script's output into its `@@vc:name` sections. */
export function splitSections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let name: string | null = null;
  let buf: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^@@vc:([a-z0-9_]+)$/.exec(line);
    if (m) {
      if (name) out[name] = buf.join("\n");
      name = m[1]!;
      buf = [];
    } else if (name) buf.push(line);
  }
  if (name) out[name] = buf.join("\n");
  return out;
}
