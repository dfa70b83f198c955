import { defineCollector } from "vibe-cockpit";
import { INOTIFY_PROBE, mapSample, parseInotifyProbe, readSample } from "./parse.ts";

export interface SysmoniOptions {
  /**
   * Count the collecting user's inotify watches from /proc (default true). sysmoni's own count
   * reads a file Linux does not have, so without this the "inotify near its limit" rule is blind.
   */
  inotifyProbe?: boolean;
}

/**
 * sysmoni (plan §3.10): one `sysmoni --json` sample per run into sys_samples (source "sysmoni"),
 * its top processes, GPUs and thermal zones, plus the user's inotify watches.
 * @example collectors: [sysmoni()]
 */
export function sysmoni(options: SysmoniOptions = {}) {
  const probe = options.inotifyProbe ?? true;
  return defineCollector({
    name: "sysmoni",
    version: "1.0.0",
    schemaVersion: 1,
    description: "sysmoni --json: CPU, memory, IO, network, GPUs, temperatures, top processes, inotify",
    requires: { commands: ["sysmoni"] },
    async collect(ctx) {
      // sysmoni waits one interval (1 s by default) before it prints its sample.
      const r = await ctx.exec.run(["sysmoni", "--json"]);
      if (r.exitCode !== 0) {
        throw new Error(`sysmoni --json exited with ${r.exitCode ?? "a signal"}: ${(r.stderr.trim() || r.stdout.trim()).slice(0, 200)}`);
      }
      const { raw, sample } = readSample(r.stdout);
      const rows = mapSample(raw, sample, ctx.warn);
      if (probe) {
        try {
          const p = await ctx.exec.run({ script: INOTIFY_PROBE }, { timeoutMs: 15_000, maxBytes: 4096 });
          const counted = parseInotifyProbe(p.stdout);
          if (counted) Object.assign(rows.sample, { inotify_watches: counted.watches, inotify_instances: counted.instances });
        } catch (err) {
          ctx.warn(`inotify probe failed: ${(err as Error).message}`);
        }
      }
      return {
        rows: { sys_samples: [rows.sample], sys_top_processes: rows.top, sys_gpu_samples: rows.gpus, sys_temp_samples: rows.temps },
      };
    },
  });
}

export default sysmoni;
