import { commandFailed, defineCollector } from "vibe-cockpit";
import { INOTIFY_PROBE, mapSample, parseInotifyProbe, readSample } from "./parse.ts";
import { sysmoniPlugin } from "./plugin.ts";

// Two ticks, then head closes the pipe. An empty answer (no sysmoni, no stream) falls back to --json.
const STREAM = "sysmoni --json-stream 2>/dev/null | head -n 2";

export interface SysmoniOptions {
  /**
   * Count the collecting user's inotify watches from /proc (default true). sysmoni's own count
   * reads a file Linux does not have, so without this the "inotify near its limit" rule is blind.
   */
  inotifyProbe?: boolean;
}

/**
 * sysmoni (plan §3.10): one sample per run (the second tick of `sysmoni --json-stream`, whose
 * rates are measured; `sysmoni --json` where it cannot stream) into sys_samples (source
 * "sysmoni"), its top processes, GPUs and thermal zones, plus the user's inotify watches.
 * @example collectors: [sysmoni()]
 */
export function sysmoni(options: SysmoniOptions = {}) {
  const probe = options.inotifyProbe ?? true;
  return defineCollector({
    name: "sysmoni",
    plugin: sysmoniPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "sysmoni --json-stream: CPU, memory, IO, network, GPUs, temperatures, top processes, inotify",
    requires: { commands: ["sysmoni"] },
    async collect(ctx) {
      // `sysmoni --json` prints its first tick, which has nothing to measure rates against (CPU,
      // disk and network read 0): the second tick of `--json-stream` has them (about 2 s, at
      // sysmoni's default 1 s interval; sysmoni ends on the closed pipe at its next tick).
      let r = await ctx.exec.run({ script: STREAM });
      let what = "sysmoni --json-stream";
      if (r.stdout.trim() === "") {
        // A sysmoni that does not stream answers --json alone.
        r = await ctx.exec.run(["sysmoni", "--json"]);
        what = "sysmoni --json";
        if (r.exitCode !== 0) throw commandFailed(what, r);
      }
      const { raw, sample, tick } = readSample(r.stdout, what);
      const rows = mapSample(raw, sample, ctx.warn, tick);
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
