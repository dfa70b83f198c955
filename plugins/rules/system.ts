// System rules of plan §8.2: disk, load, swap, OOM kills, inotify, plus the machine that cannot
// be reached (which inhibits the machine's other alerts).
import { and, col, defineRule, defineSource, gt, gte, isTrue, lt, mul, realFilesystemSql, sql, threshold } from "vibe-cockpit";
import { COUNTER_LOOKBACK_MS, SAMPLE_FRESH_MS, SNAPSHOT_FRESH_MS, before } from "./_window.ts";

const MiB = 1_048_576;
const GiB = 1_073_741_824;

// Read-only images are full by design (most are pseudo filesystems too; iso9660, udf and erofs are not).
export const ALWAYS_FULL_FS = ["squashfs", "iso9660", "udf", "erofs"];

/**
 * Each machine's disks from its newest df within 15 min, with the free share as df counts it:
 * memory and kernel filesystems (tmpfs on /dev/shm, cgroup …) are no disks (lib/health/filesystems.ts).
 */
export const filesystemsLatest = defineSource({
  name: "filesystems_latest",
  description: "per machine and mount: the newest df within 15 min (free_pct = 100 − df's capacity)",
  sql: (at) => sql`
    WITH latest AS (
      SELECT machine_id, max(collected_at) AS collected_at FROM filesystems
      WHERE collected_at > ${before(at, SAMPLE_FRESH_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
      GROUP BY machine_id)
    SELECT f.machine_id, f.mount, f.filesystem, f.fs_type, f.collected_at, f.used_pct,
           round(100 - f.used_pct, 2) AS free_pct,
           round(f.avail_bytes / ${GiB}, 2) AS avail_gb, round(f.size_bytes / ${GiB}, 2) AS size_gb
    FROM filesystems f JOIN latest l ON f.machine_id = l.machine_id AND f.collected_at = l.collected_at
    WHERE f.size_bytes > 0 AND coalesce(f.fs_type, '') NOT IN (${sql.join(ALWAYS_FULL_FS.map((t) => sql`${t}`))}) AND ${realFilesystemSql("f")}`,
});

/** Disk nearly full, per filesystem. */
export const diskLow = defineRule({
  id: "disk_low",
  severity: "critical",
  title: "Disk nearly full",
  source: filesystemsLatest,
  when: lt("free_pct", threshold("min_free_pct", 10)),
  factors: ["disk"],
  labels: ["machine_id", "mount"],
  value: "free_pct",
  message: "{mount} on {machine_id} has {free_pct} % free ({avail_gb} GiB of {size_gb} GiB)",
  actions: [
    { title: "See the disks and the busiest processes of {machine_id}", command: "vc robot machine {machine_id}" },
    // The mount comes from the machine's df: named in the title, never spliced into a command.
    { title: "On {machine_id}: find the largest directories on {mount} (du -xh --max-depth=2, sorted)" },
    { title: "On {machine_id}: trim the systemd journal", command: "journalctl --vacuum-size=500M" },
  ],
});

/** Each machine's newest sample with load and cores, within 15 min. */
export const loadLatest = defineSource({
  name: "load_latest",
  description: "per machine: the newest sample within 15 min that has load5 and the core count",
  sql: (at) => sql`
    SELECT machine_id, source, collected_at, load1, load5, load15, cpu_cores, round(load5 / cpu_cores, 2) AS load_per_core
    FROM sys_samples
    WHERE collected_at > ${before(at, SAMPLE_FRESH_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
      AND load5 IS NOT NULL AND cpu_cores > 0
    QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC, source) = 1`,
});

/** load5 above cores × 1.5 for 10 minutes. */
export const loadHigh = defineRule({
  id: "load_high",
  severity: "high",
  title: "Load high",
  source: loadLatest,
  when: gt("load5", mul(col("cpu_cores"), threshold("per_core", 1.5))),
  for: "10m",
  factors: ["load"],
  labels: ["machine_id"],
  value: "load5",
  message: "{machine_id}: load5 {load5} on {cpu_cores} cores ({load_per_core} per core)",
  actions: [
    { title: "See the busiest processes of {machine_id}", command: "vc robot machine {machine_id}" },
    { title: "On {machine_id}: ask pt which processes are stuck or abandoned (it suggests, you decide)", command: "pt robot plan --format json" },
  ],
});

/**
 * Swap in use and growing: per machine, its newest sample against the oldest of the same source
 * in the 15 min before it (one source per machine: the one that sampled last).
 */
export const swapTrend = defineSource({
  name: "swap_trend",
  description: "per machine: swap used in the newest sample and its growth over the 15 min before it",
  sql: (at) => sql`
    WITH s AS (
      SELECT machine_id, source, collected_at, swap_used_bytes, swap_total_bytes,
             row_number() OVER (PARTITION BY machine_id, source ORDER BY collected_at DESC) AS newest,
             row_number() OVER (PARTITION BY machine_id, source ORDER BY collected_at) AS oldest
      FROM sys_samples
      WHERE collected_at > ${before(at, SAMPLE_FRESH_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
        AND swap_used_bytes IS NOT NULL)
    SELECT cur.machine_id, cur.source, cur.collected_at, prev.collected_at AS since_at,
           cur.swap_used_bytes / ${MiB} AS swap_used_mb,
           (cur.swap_used_bytes - prev.swap_used_bytes) / ${MiB} AS swap_rise_mb,
           round(100.0 * cur.swap_used_bytes / nullif(cur.swap_total_bytes, 0), 2) AS swap_used_pct
    FROM s cur JOIN s prev ON cur.machine_id = prev.machine_id AND cur.source = prev.source
    WHERE cur.newest = 1 AND prev.oldest = 1 AND prev.collected_at < cur.collected_at
    QUALIFY row_number() OVER (PARTITION BY cur.machine_id ORDER BY cur.collected_at DESC, cur.source) = 1`,
});

/** Swap in use and rising. */
export const swapRising = defineRule({
  id: "swap_rising",
  severity: "medium",
  title: "Swap in use and rising",
  source: swapTrend,
  when: and(gt("swap_used_mb", threshold("min_used_mb", 0)), gt("swap_rise_mb", threshold("min_rise_mb", 0))),
  factors: ["swap"],
  labels: ["machine_id"],
  value: "swap_used_mb",
  message: "{machine_id}: swap {swap_used_mb} MiB used ({swap_used_pct} %), up {swap_rise_mb} MiB since {since_at}",
  actions: [
    { title: "See memory and the biggest processes of {machine_id}", command: "vc robot machine {machine_id}" },
    { title: "On {machine_id}: ask pt which processes can go (it suggests, you decide)", command: "pt robot plan --format json" },
  ],
});

/**
 * The kernel's OOM-kill counter (/proc/vmstat oom_kill): kills between each machine's two newest
 * samples. The newest must be within 15 min; the one before may be up to a day older, so kills
 * during an outage count. A smaller counter means a reboot: its value is the kills since then.
 */
export const oomCounter = defineSource({
  name: "oom_counter",
  description: "per machine: OOM kills between its two newest samples that carry the counter",
  sql: (at) => sql`
    WITH s AS (
      SELECT machine_id, source, collected_at, oom_kills,
             row_number() OVER (PARTITION BY machine_id, source ORDER BY collected_at DESC) AS n
      FROM sys_samples
      WHERE collected_at > ${before(at, COUNTER_LOOKBACK_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
        AND oom_kills IS NOT NULL)
    SELECT cur.machine_id, cur.source, cur.collected_at, prev.collected_at AS previous_at,
           cur.oom_kills, prev.oom_kills AS previous_oom_kills,
           CASE WHEN cur.oom_kills >= prev.oom_kills THEN cur.oom_kills - prev.oom_kills ELSE cur.oom_kills END AS new_oom_kills
    FROM s cur JOIN s prev ON cur.machine_id = prev.machine_id AND cur.source = prev.source AND cur.n = 1 AND prev.n = 2
    WHERE cur.collected_at > ${before(at, SAMPLE_FRESH_MS)}::TIMESTAMP
    QUALIFY row_number() OVER (PARTITION BY cur.machine_id ORDER BY cur.collected_at DESC, cur.source) = 1`,
});

/** The kernel killed processes for lack of memory; stays firing 30 min after the last kill seen. */
export const oomKill = defineRule({
  id: "oom_kill",
  severity: "high",
  title: "OOM kills",
  source: oomCounter,
  when: gt("new_oom_kills", threshold("min_kills", 0)),
  keepFiringFor: "30m",
  factors: ["memory"],
  labels: ["machine_id"],
  value: "new_oom_kills",
  message: "{machine_id}: the kernel OOM-killed {new_oom_kills} process(es) between {previous_at} and {collected_at}",
  actions: [
    { title: "See memory and the biggest processes of {machine_id}", command: "vc robot machine {machine_id}" },
    { title: "On {machine_id}: which processes the kernel killed", command: "journalctl -k --since -1h --grep 'Out of memory|oom-kill'" },
    { title: "On {machine_id}: ask pt what else can go (it suggests, you decide)", command: "pt robot plan --format json" },
  ],
});

/** Each machine's newest sample with inotify limits (sysmoni), within 15 min. */
export const inotifyLatest = defineSource({
  name: "inotify_latest",
  description: "per machine: inotify watches and instances against the per-user limits, newest sample within 15 min",
  sql: (at) => sql`
    WITH s AS (
      SELECT machine_id, source, collected_at, inotify_watches, inotify_max_user_watches, inotify_instances, inotify_max_user_instances,
             round(100.0 * inotify_watches / nullif(inotify_max_user_watches, 0), 2) AS watches_pct,
             round(100.0 * inotify_instances / nullif(inotify_max_user_instances, 0), 2) AS instances_pct
      FROM sys_samples
      WHERE collected_at > ${before(at, SAMPLE_FRESH_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
        AND (inotify_max_user_watches IS NOT NULL OR inotify_max_user_instances IS NOT NULL)
      QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC, source) = 1)
    SELECT *, greatest(coalesce(watches_pct, 0), coalesce(instances_pct, 0)) AS used_pct,
           CASE WHEN coalesce(instances_pct, 0) > coalesce(watches_pct, 0) THEN 'instances' ELSE 'watches' END AS nearest_limit,
           coalesce(CAST(inotify_watches AS VARCHAR), '?') || '/' || coalesce(CAST(inotify_max_user_watches AS VARCHAR), '?') AS watches,
           coalesce(CAST(inotify_instances AS VARCHAR), '?') || '/' || coalesce(CAST(inotify_max_user_instances AS VARCHAR), '?') AS instances
    FROM s WHERE watches_pct IS NOT NULL OR instances_pct IS NOT NULL`,
});

/** inotify watches or instances near the per-user limit: file watchers start failing. */
export const inotifyHigh = defineRule({
  id: "inotify_high",
  severity: "high",
  title: "inotify near its limit",
  source: inotifyLatest,
  when: gt("used_pct", threshold("max_used_pct", 90)),
  labels: ["machine_id"],
  value: "used_pct",
  message: "{machine_id}: inotify {nearest_limit} at {used_pct} % of the per-user limit (watches {watches}, instances {instances})",
  actions: [
    { title: "See the processes of {machine_id}", command: "vc robot machine {machine_id}" },
    { title: "On {machine_id}: raise the watch limit (as root)", command: "sysctl -w fs.inotify.max_user_watches=1048576" },
  ],
});

/**
 * Whether vc can reach each machine. When the scheduler cannot connect, it records every due
 * collector's run as failed with "machine <id> unreachable: …" (lib/collect/scheduler.ts): so a
 * machine is unreachable when its newest run failed that way. failed_attempts is the longest
 * run of consecutive failures among its collectors in that state (one per poll); silent_minutes
 * the time since any of its collectors last succeeded (or since vc first saw it). Machines whose
 * newest run is older than 30 min are not judged: vc is not polling them.
 */
export const machineReachability = defineSource({
  name: "machine_reachability",
  description: "per machine: whether its newest collector run failed as unreachable, how many polls in a row, since when silent",
  sql: (at) => sql`
    WITH runs AS (
      SELECT machine_id, collector, last_run_at, last_result, last_ok_at, last_error, consecutive_failures,
             last_result = 'failed' AND starts_with(coalesce(last_error, ''), 'machine ' || machine_id || ' unreachable') AS unreachable
      FROM collector_state
      WHERE last_result <> 'skipped' AND last_run_at <= ${at}::TIMESTAMP),
    per AS (
      SELECT machine_id,
             max(last_run_at) AS last_run_at,
             arg_max(unreachable, last_run_at) AS unreachable,
             arg_max(last_error, last_run_at) AS last_error,
             coalesce(max(consecutive_failures) FILTER (WHERE unreachable), 0) AS failed_attempts,
             max(last_ok_at) FILTER (WHERE last_ok_at <= ${at}::TIMESTAMP) AS last_ok_at
      FROM runs GROUP BY machine_id)
    SELECT p.machine_id, p.last_run_at, p.unreachable, p.failed_attempts, p.last_ok_at, p.last_error,
           round(date_diff('second', coalesce(p.last_ok_at, m.first_seen_at, p.last_run_at), ${at}::TIMESTAMP) / 60.0, 1) AS silent_minutes
    FROM per p LEFT JOIN machines m ON m.machine_id = p.machine_id
    WHERE p.last_run_at > ${before(at, SNAPSHOT_FRESH_MS)}::TIMESTAMP`,
});

/** vc could not reach the machine on its last polls; its other alerts are inhibited meanwhile. */
export const machineUnreachable = defineRule({
  id: "machine_unreachable",
  severity: "critical",
  title: "Machine unreachable",
  source: machineReachability,
  when: and(isTrue("unreachable"), gte("failed_attempts", threshold("min_failed_polls", 3))),
  inhibitsMachine: true,
  factors: ["stale_data", "no_data", "collector_failures"],
  labels: ["machine_id"],
  value: "silent_minutes",
  message: "{machine_id} unreachable for {failed_attempts} polls, nothing collected for {silent_minutes} min: {last_error}",
  actions: [
    { title: "Check the connection to every machine", command: "vc doctor" },
    { title: "See what vc last knew about {machine_id}", command: "vc robot machine {machine_id}" },
  ],
});
