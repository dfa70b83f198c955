// What test/retention/crash.test.ts and its child process share: the instant and the retention.
import type { RetentionConfig } from "../../lib/index.ts";

export const CRASH_NOW = new Date("2026-01-25T03:00:00Z");

/** Samples and filesystems kept a day (the rest exported to `out`, then deleted). */
export const crashRetention = (out: string): RetentionConfig => ({
  raw_days: { sys_samples: 1, filesystems: 1 },
  rollup_days: { "1m": 2, "1h": null },
  delete: true,
  export_before_delete: out,
  quiet_hour: null,
});
