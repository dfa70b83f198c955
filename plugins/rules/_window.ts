// How far back the default rules look. A source sees only rows at or before the instant `at`,
// and only fresh ones: a machine that stopped reporting must not keep its old alerts firing
// (machine_unreachable says so instead).

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

/** Samples collected every poll (sys_samples, filesystems, rch): the newest within 15 min. */
export const SAMPLE_FRESH_MS = 15 * MINUTE_MS;
/** Snapshots of slower collectors (ru every 5 min, cass, accounts) and collector runs: 30 min. */
export const SNAPSHOT_FRESH_MS = 30 * MINUTE_MS;
/** Event tables (dcg, rano) are counted over the hour before `at`. */
export const EVENT_WINDOW_MS = HOUR_MS;
/** How far back a counter's previous sample may be (OOM kills across a machine's outage). */
export const COUNTER_LOOKBACK_MS = 24 * HOUR_MS;

/** The instant `ms` before `at`, as ISO text (a parameter for `::TIMESTAMP`). */
export function before(at: string, ms: number): string {
  return new Date(Date.parse(at) - ms).toISOString();
}
