/**
 * /proc/vmstat for the fallback probe. Kept beside parse.ts rather than in it so the probe's
 * other parsers stay as they are; it follows their contract (null for text it does not know).
 */

/** `/proc/vmstat`: one `name value` counter per line, by name. Lines that are not one are skipped. */
export function parseVmstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^([a-z0-9_]+) (\d+)\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The kernel's OOM-kill counter since boot (Linux 4.13+), or null where /proc/vmstat has none. */
export function oomKillsFromVmstat(text: string): number | null {
  return parseVmstat(text).oom_kill ?? null;
}
