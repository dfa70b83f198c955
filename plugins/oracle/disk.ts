// The oracle's disk and index forecasts (issue 14 point 5): when each real filesystem reaches 95 %
// and 100 %, from its own df history, and when cass's session index counts as stale at the pace it
// is refreshed. Causal: an answer at `at` reads only rows collected at or before `at`.
//
// Disk growth is a Theil–Sen slope (the median of the pairwise slopes) of used bytes over time:
// one burst or one odd reading barely moves it. A big drop in used bytes (files deleted) starts the
// fit again after the drop, so a cleanup is not read as shrinkage. The interval is Sen's rank
// interval of that slope at 80 % (the 10th to 90th percentile of where the slope may be), widened
// when the readings run in streaks (bursty writes) rather than scatter around the line.
import { isMissingTable, isoFromMs, realFilesystemSql, sql, thresholdDefaults, type SqlQuery, type Store } from "vibe-cockpit";
import { noDataWarning, type ViewTool } from "../_no-data.ts";
import { cassIndexStale } from "../rules/agents.ts";
import { ALWAYS_FULL_FS } from "../rules/system.ts";

export type ForecastConfidence = "low" | "medium" | "high";

/** One real filesystem of one machine: how full it is, how fast it fills, and when it is full. */
export interface DiskForecast {
  machine_id: string;
  mount: string;
  fs_type?: string | null;
  /** The newest df of this mount at or before `at`. */
  collected_at: string;
  used_percent: number;
  total_bytes: number;
  free_bytes: number;
  /** Theil–Sen slope of used bytes per hour over the fit's samples; null with fewer than 3. */
  growth_bytes_per_hour: number | null;
  /** Sen's 80 % interval of that slope. */
  growth_low_bytes_per_hour: number | null;
  growth_high_bytes_per_hour: number | null;
  /** Samples the fit used (those after the last big drop, within the history window). */
  samples: number;
  /** Hours between the fit's first and last sample. */
  history_hours: number;
  /** When a big drop (a deletion) restarted the fit, the time of the first sample after it. */
  reset_at: string | null;
  /** Minutes from `at` until 95 % used: 0 when already there, null when not growing or too few samples. */
  to_95_min: number | null;
  to_95_low_min: number | null;
  /** null: the slow end of the interval does not fill (its slope is not above zero). */
  to_95_high_min: number | null;
  to_full_min: number | null;
  to_full_low_min: number | null;
  to_full_high_min: number | null;
  confidence: ForecastConfidence;
  reason: string;
}

export interface DiskForecastOptions {
  machineId?: string;
  /** How many hours of df history the fit reads (default 24). */
  historyHours?: number;
}

/** One df reading of one mount, as the filesystems table holds it. */
export interface DiskSample {
  collected_at: string;
  size_bytes: number | null;
  used_bytes: number;
  avail_bytes: number | null;
  used_pct: number | null;
}

export const diskDefaults = { historyHours: 24 } as const;
export const cassIndexDefaults = { historyHours: 168 } as const;

/** A decrease in used bytes counts as a deletion (restarting the fit) above this share of the disk… */
const DROP_SHARE = 0.005;
/** …and above this many robust standard deviations of the sample-to-sample change. */
const DROP_SIGMAS = 4;
/** …below the median of this many readings before it. */
const DROP_LOOKBACK = 5;
/** Pairwise slopes are O(n²): a longer history is thinned evenly to this many samples. */
const MAX_FIT_POINTS = 200;
/** z of a two-sided 80 % interval (the 10th and 90th percentiles). */
const Z80 = 1.2816;
/** df older than this, at `at`, is worth a warning: the forecast counts from it. */
const OLD_SAMPLE_MIN = 60;

/** The collector behind the filesystems table, and how to get it. */
export const DISK_TOOLS: readonly ViewTool[] = [{ collector: "sysprobe", install: "sysprobe: built in, needs only df and /proc; add sysprobe() to vc.config.ts's collectors" }];

/** The collector behind cass's tables, and how to get it. */
export const CASS_TOOLS: readonly ViewTool[] = [
  {
    collector: "cass",
    install:
      "cass: install coding_agent_session_search (github.com/Dicklesworthstone/coding_agent_session_search) on the machines and add cass() to vc.config.ts's collectors, so `cass health --json` answers",
  },
];

const DISK_SOURCE = { table: "filesystems", tools: DISK_TOOLS, what: "df of a real filesystem", by: "sysprobe collects them", defaultHours: diskDefaults.historyHours };
const CASS_SOURCE = { table: "cass_index_status", tools: CASS_TOOLS, what: "cass health", by: "the cass collector writes it", defaultHours: cassIndexDefaults.historyHours };

const HOUR_MS = 3_600_000;
const MIN_MS = 60_000;

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The Theil–Sen slope of y over x and Sen's 80 % rank interval; null with fewer than 2 distinct x. */
export function theilSen(points: readonly { x: number; y: number }[]): { slope: number; low: number; high: number } | null {
  let pts = points;
  if (pts.length > MAX_FIT_POINTS) pts = Array.from({ length: MAX_FIT_POINTS }, (_, i) => points[Math.round((i * (points.length - 1)) / (MAX_FIT_POINTS - 1))]!);
  const slopes: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dx = pts[j]!.x - pts[i]!.x;
      if (dx !== 0) slopes.push((pts[j]!.y - pts[i]!.y) / dx);
    }
  }
  if (slopes.length === 0) return null;
  slopes.sort((a, b) => a - b);
  const slope = median(slopes);
  const n = pts.length;
  const N = slopes.length;
  // Sen (1968): the interval's ranks are (N ∓ z·√Var(S)) / 2, S being Kendall's statistic. Disk use
  // comes in bursts, so residuals run in streaks: Var(S) is inflated for their lag-1 autocorrelation
  // (Yue & Wang 2004's effective sample size for an AR(1)), else the interval would be too narrow.
  const c = Z80 * Math.sqrt(((n * (n - 1) * (2 * n + 5)) / 18) * serialFactor(pts, slope));
  const lo = Math.min(N - 1, Math.max(0, Math.round((N - c) / 2) - 1));
  const hi = Math.max(0, Math.min(N - 1, Math.round((N + c) / 2)));
  return { slope, low: slopes[lo]!, high: slopes[hi]! };
}

/** n / n*: how much serial correlation of the residuals (lag 1, as an AR(1), capped at 0.9) widens the variance. */
function serialFactor(pts: readonly { x: number; y: number }[], slope: number): number {
  const intercept = median(pts.map((p) => p.y - slope * p.x));
  const r = pts.map((p) => p.y - slope * p.x - intercept);
  const mean = r.reduce((a, b) => a + b, 0) / r.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < r.length; i++) {
    den += (r[i]! - mean) ** 2;
    if (i > 0) num += (r[i]! - mean) * (r[i - 1]! - mean);
  }
  const rho = den > 0 ? Math.min(0.9, Math.max(0, num / den)) : 0;
  let factor = 1;
  for (let k = 1, p = rho; k < r.length && p > 1e-6; k++, p *= rho) factor += 2 * (1 - k / r.length) * p;
  return factor;
}

/** Minutes until `left` more bytes are used at `perHour`, from a reading `elapsedMin` old: 0 when none are left. */
function reach(left: number, perHour: number | null, elapsedMin: number): number | null {
  if (left <= 0) return 0;
  if (perHour === null || !(perHour > 0)) return null;
  return round1(Math.max(0, (left / perHour) * 60 - elapsedMin));
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** "3.2 GB", "850 MB" (decimal units, as df -H prints them). */
export function bytesText(b: number): string {
  const a = Math.abs(b);
  if (a >= 1e12) return `${(b / 1e12).toFixed(2)} TB`;
  if (a >= 1e9) return `${(b / 1e9).toFixed(1)} GB`;
  if (a >= 1e6) return `${(b / 1e6).toFixed(0)} MB`;
  return `${(b / 1e3).toFixed(0)} kB`;
}

const fixed1 = (x: number) => x.toFixed(1).replace(/\.0$/, "");

/** "45 min", "3.5 h", "2.1 d". */
export function minutesText(m: number): string {
  if (m < 90) return `${Math.round(m)} min`;
  if (m < 48 * 60) return `${fixed1(m / 60)} h`;
  return `${fixed1(m / 1440)} d`;
}

/** " (a–b)" of an interval, nothing when both ends read the same. */
const range = (lo: string, hi: string) => (lo === hi ? "" : ` (${lo}–${hi})`);
const span = (lo: number | null, hi: number | null) => (lo === null ? "" : range(minutesText(lo), hi === null ? "never" : minutesText(hi)));

/**
 * The forecast for one mount from its df readings at or before `at` (any order), or null with none.
 * @example forecastFilesystem("ws-1", "/", "ext4", rows, "2026-08-20T12:00:00Z")
 */
export function forecastFilesystem(machineId: string, mount: string, fsType: string | null, samples: readonly DiskSample[], at: string): DiskForecast | null {
  const atMs = Date.parse(at);
  const rows = samples
    .map((s) => ({ s, t: Date.parse(s.collected_at) }))
    .filter((r) => Number.isFinite(r.t) && r.t <= atMs && typeof r.s.used_bytes === "number" && Number.isFinite(r.s.used_bytes))
    .sort((a, b) => a.t - b.t);
  const last = rows.at(-1);
  if (!last) return null;
  const used = last.s.used_bytes;
  const avail = Math.max(0, last.s.avail_bytes ?? (last.s.size_bytes ?? used) - used);
  const capacity = used + avail;
  const usedPercent = last.s.used_pct ?? (capacity > 0 ? Math.round((used / capacity) * 10_000) / 100 : 100);

  // The last big drop restarts the fit: what was deleted says nothing about the pace since. A drop
  // is a reading well below the median of the few before it, so one transient spike (a big file
  // written and removed) is no drop; the noise scale is the MAD of sample-to-sample changes.
  const diffs = rows.slice(1).map((r, i) => r.s.used_bytes - rows[i]!.s.used_bytes);
  const mid = median(diffs);
  const sigma = diffs.length ? 1.4826 * median(diffs.map((d) => Math.abs(d - mid))) : 0;
  const dropAt = Math.max(DROP_SHARE * capacity, DROP_SIGMAS * sigma);
  const fall = (i: number) => median(rows.slice(Math.max(0, i - DROP_LOOKBACK), i).map((r) => r.s.used_bytes)) - rows[i]!.s.used_bytes;
  let start = 0;
  for (let i = rows.length - 1; i >= 1; i--) {
    if (fall(i) > dropAt) {
      // The readings just after a drop still sit below the median before it: the drop is the first of the run.
      start = i;
      while (start > 1 && fall(start - 1) > dropAt) start--;
      break;
    }
  }
  const dropped = start > 0 ? rows[start - 1]!.s.used_bytes - rows[start]!.s.used_bytes : 0;
  const fit = rows.slice(start);
  const resetAt = start > 0 ? fit[0]!.s.collected_at : null;
  const hours = (fit.at(-1)!.t - fit[0]!.t) / HOUR_MS;
  const ts = fit.length >= 3 ? theilSen(fit.map((r) => ({ x: (r.t - fit[0]!.t) / HOUR_MS, y: r.s.used_bytes }))) : null;

  const elapsed = (atMs - last.t) / MIN_MS;
  const to95Left = 0.95 * capacity - used;
  const [slope, low, high] = ts ? [ts.slope, ts.low, ts.high] : [null, null, null];
  // An interval only when growing: the fast end of the slope gives the earliest time, the slow end
  // the latest (null when it is not above zero: it never fills).
  const [fast, slow] = slope !== null && slope > 0 ? [high, low] : [null, null];
  const f = {
    to_95_min: reach(to95Left, slope, elapsed),
    to_95_low_min: reach(to95Left, fast, elapsed),
    to_95_high_min: reach(to95Left, slow, elapsed),
    to_full_min: reach(avail, slope, elapsed),
    to_full_low_min: reach(avail, fast, elapsed),
    to_full_high_min: reach(avail, slow, elapsed),
  };

  let confidence: ForecastConfidence = "low";
  if (ts && slope !== null && low !== null && high !== null) {
    const growing = slope > 0;
    const width = growing ? (high - low) / slope : Number.POSITIVE_INFINITY;
    const clear = growing ? low > 0 && width <= 0.5 : high <= 0;
    if (fit.length >= 12 && hours >= 6 && clear) confidence = "high";
    else if (fit.length >= 6 && hours >= 2 && (!growing || (low > 0 && width <= 1.5))) confidence = "medium";
  }

  const parts: string[] = [];
  if (resetAt) parts.push(`a deletion of ${bytesText(dropped)} before ${resetAt} restarted the fit`);
  if (!ts) parts.push(`${fit.length} sample${fit.length === 1 ? "" : "s"}${resetAt ? " since" : ` in the last ${round1(hours)} h`}: too few to fit (3 needed)`);
  else if (!(slope! > 0)) parts.push(`not growing (${slope === 0 ? "flat" : `shrinks ${bytesText(-slope!)}/h`} over ${round1(hours)} h, ${fit.length} samples)`);
  else {
    const [lo, hi] = [bytesText(low!), bytesText(high!)];
    parts.push(`fills at ${bytesText(slope!)}/h (${lo === hi ? "" : `${lo}–${hi}/h; `}Theil–Sen over ${round1(hours)} h, ${fit.length} samples)`);
  }
  if (to95Left <= 0) parts.push(`already at ${usedPercent} %`);
  else if (f.to_95_min !== null) parts.push(`95 % in ~${minutesText(f.to_95_min)}${span(f.to_95_low_min, f.to_95_high_min)}`);
  if (f.to_full_min !== null) parts.push(`full in ~${minutesText(f.to_full_min)}${span(f.to_full_low_min, f.to_full_high_min)}`);
  if (elapsed >= OLD_SAMPLE_MIN) parts.push(`newest df ${minutesText(elapsed)} before the forecast`);

  return {
    machine_id: machineId,
    mount,
    fs_type: fsType,
    collected_at: last.s.collected_at,
    used_percent: usedPercent,
    total_bytes: last.s.size_bytes ?? capacity,
    free_bytes: avail,
    growth_bytes_per_hour: slope === null ? null : Math.round(slope),
    growth_low_bytes_per_hour: low === null ? null : Math.round(low),
    growth_high_bytes_per_hour: high === null ? null : Math.round(high),
    samples: fit.length,
    history_hours: round1(hours),
    reset_at: resetAt,
    ...f,
    confidence,
    reason: parts.join("; "),
  };
}

/** Soonest first: by time to 95 %, then to full (unknown last), then machine and mount. */
const soonest = (a: number | null, b: number | null) => (a ?? Number.POSITIVE_INFINITY) - (b ?? Number.POSITIVE_INFINITY) || 0;

/** The instant and the history window a forecast reads, and its machine filter as SQL. */
interface HistoryWindow {
  atMs: number;
  /** `at` and the window's start, as ISO times: rows with since < collected_at <= until. */
  until: string;
  since: string;
  mine: SqlQuery;
}

/** What a forecast reads: its table, the collector that writes it, and what one row is called. */
interface HistorySource {
  table: string;
  tools: readonly ViewTool[];
  /** "df of a real filesystem": in "no df of a real filesystem of ws-1 in the 24 h before …". */
  what: string;
  /** "sysprobe collects them". */
  by: string;
  defaultHours: number;
}

/**
 * The rows `query` reads over the window before `at`, or none with a warning: `at` not a time, the
 * table missing (naming its collector), or no rows (why, per `noDataWarning`, or for one machine).
 */
async function readHistory<T>(
  store: Store,
  at: string,
  opts: { machineId?: string; historyHours?: number },
  source: HistorySource,
  query: (w: HistoryWindow) => SqlQuery,
): Promise<{ rows: T[]; window: HistoryWindow | null; warnings: string[] }> {
  const warnings: string[] = [];
  const atMs = Date.parse(at);
  const until = isoFromMs(atMs);
  if (until === null) return { rows: [], window: null, warnings: [`"${at}" is not a time: no forecast`] };
  let hours = opts.historyHours ?? source.defaultHours;
  if (!(Number.isFinite(hours) && hours > 0)) {
    warnings.push(`historyHours must be a positive number of hours (got ${hours}); read ${source.defaultHours} h`);
    hours = source.defaultHours;
  }
  const since = isoFromMs(atMs - hours * HOUR_MS) ?? "1970-01-01T00:00:00.000Z";
  const mine = opts.machineId === undefined ? sql`` : sql` AND machine_id = ${opts.machineId}`;
  const w = { atMs, until, since, mine };
  let rows: T[];
  try {
    rows = await store.query<T>(query(w));
  } catch (err) {
    if (!isMissingTable(err)) throw err;
    warnings.push(`the store has no ${source.table} table: ${source.tools.map((t) => t.install).join("; ")}`);
    return { rows: [], window: w, warnings };
  }
  if (rows.length === 0) {
    const span = round1((atMs - Date.parse(since)) / HOUR_MS);
    if (opts.machineId !== undefined) warnings.push(`no ${source.what} of ${opts.machineId} in the ${span} h before ${until} (${source.by})`);
    else warnings.push(`${await noDataWarning(store, source.tools, until)} (read the ${span} h before ${until})`);
  }
  return { rows, window: w, warnings };
}

/** The df history is read one sample (the newest) per this many minutes: a day of 2-minute samples is 96 points, not 720 (the fit's cost is quadratic). */
const BUCKET_MIN = 15;

type FsRow = DiskSample & { machine_id: string; mount: string; fs_type: string | null };

/** The df history of each machine's real disks: the mounts of its newest df in the window. */
const diskHistory = ({ since, until, mine }: HistoryWindow) => sql`
  WITH latest AS (
    SELECT machine_id, max(collected_at) AS collected_at FROM filesystems
    WHERE collected_at > ${since}::TIMESTAMP AND collected_at <= ${until}::TIMESTAMP${mine} GROUP BY machine_id),
  disks AS (
    SELECT f.machine_id, f.mount, f.fs_type FROM filesystems f JOIN latest l USING (machine_id, collected_at)
    WHERE f.size_bytes > 0 AND coalesce(f.fs_type, '') NOT IN (${sql.join(ALWAYS_FULL_FS.map((t) => sql`${t}`))}) AND ${realFilesystemSql("f")})
  SELECT h.machine_id, h.mount, d.fs_type, h.collected_at, h.size_bytes, h.used_bytes, h.avail_bytes, h.used_pct
  FROM filesystems h JOIN disks d USING (machine_id, mount)
  WHERE h.collected_at > ${since}::TIMESTAMP AND h.collected_at <= ${until}::TIMESTAMP AND h.used_bytes IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY h.machine_id, h.mount, floor(epoch(h.collected_at) / ${sql.raw(String(BUCKET_MIN * 60))}) ORDER BY h.collected_at DESC) = 1
  ORDER BY h.machine_id, h.mount, h.collected_at`;

/**
 * Per real filesystem of each machine (its mounts in its newest df at or before `at`), the time to
 * 95 % and to full with an interval, from the last `historyHours` of df. Soonest first. Missing
 * tables or no data give empty lists and a warning naming the collector, never a throw.
 * @example const { disks, warnings } = await diskForecasts(store, new Date().toISOString())
 */
export async function diskForecasts(store: Store, at: string, opts: DiskForecastOptions = {}): Promise<{ disks: DiskForecast[]; warnings: string[] }> {
  const { rows, window: w, warnings } = await readHistory<FsRow>(store, at, opts, DISK_SOURCE, diskHistory);
  if (!w || rows.length === 0) return { disks: [], warnings };
  const { atMs, until } = w;

  const groups = new Map<string, FsRow[]>();
  for (const r of rows) {
    const k = `${r.machine_id}\u0000${r.mount}`;
    const list = groups.get(k) ?? [];
    list.push(r);
    groups.set(k, list);
  }
  const disks: DiskForecast[] = [];
  const old = new Map<string, number>();
  for (const list of groups.values()) {
    const first = list[0]!;
    const f = forecastFilesystem(first.machine_id, first.mount, first.fs_type, list, until);
    if (!f) continue;
    disks.push(f);
    const age = (atMs - Date.parse(f.collected_at)) / MIN_MS;
    if (age >= OLD_SAMPLE_MIN) old.set(f.machine_id, age);
  }
  for (const [machine, age] of old) warnings.push(`${machine}: newest df is ${minutesText(age)} old at ${until}; its forecasts count from then`);
  disks.sort((a, b) => soonest(a.to_95_min, b.to_95_min) || soonest(a.to_full_min, b.to_full_min) || a.machine_id.localeCompare(b.machine_id) || a.mount.localeCompare(b.mount));
  return { disks, warnings };
}

/** One machine's cass index: how old, how often refreshed, and when it counts as stale. */
export interface CassIndexForecast {
  machine_id: string;
  /** The newest `cass health` at or before `at`. */
  collected_at: string;
  /** cass's status (healthy, rebuilding, not_initialized …) and its index's (ready, stale, building, missing …). */
  state: string | null;
  index_status: string | null;
  rebuilding: boolean | null;
  /** When cass last indexed (its last_indexed_at, else the health time minus the index's age). */
  last_index_at: string | null;
  /** Minutes from last_index_at to `at`. */
  index_age_min: number | null;
  /** The median gap between observed refreshes (changes of last_index_at); null with fewer than one gap. */
  refresh_interval_min: number | null;
  /** Gaps the median is taken over. */
  refreshes: number;
  /** last_index_at plus the refresh interval. */
  next_refresh_at: string | null;
  /** The age at which the index counts as stale, and whose notion that is: cass's stale_threshold_seconds, else vc's cass_index_stale rule. */
  stale_threshold_min: number;
  threshold_source: "cass" | "vc_rule";
  /** Stale at `at` (its age is past the threshold, or cass has no index at all). */
  stale_now: boolean;
  /** When it counts as stale at its current refresh pattern: null when refreshes come before the threshold (or there is no index to age). */
  stale_at: string | null;
  /** Minutes from `at` to stale_at: 0 once stale, null when stale_at is. */
  stale_in_min: number | null;
  /** last_index_at plus the threshold: stale then unless refreshed, whatever the pattern. */
  deadline_at: string | null;
  /** New conversations per hour in cass's archive (what a stale index misses), from its stats history. */
  sessions_per_hour: number | null;
  pending_sessions: number | null;
  reason: string;
}

export interface CassIndexForecastOptions {
  machineId?: string;
  /** How many hours of cass history the refresh pattern reads (default 168: a week). */
  historyHours?: number;
}

/** Past this many refresh intervals without one, the pattern is overdue: the threshold decides. */
const OVERDUE_FACTOR = 1.5;

interface IndexRow {
  machine_id: string;
  collected_at: string;
  state: string | null;
  index_status: string | null;
  index_stale: boolean | null;
  rebuilding: boolean | null;
  last_index_at: string | null;
  freshness_seconds: number | null;
  total_sessions: number | null;
  pending_sessions: number | null;
  stale_threshold_s: number | null;
}

/** Every cass health in the window, with cass's stale threshold from its JSON. */
const indexHistory = ({ since, until, mine }: HistoryWindow) => sql`
  SELECT machine_id, collected_at, state, index_status, index_stale, rebuilding,
         coalesce(last_index_at, collected_at - to_seconds(freshness_seconds)) AS last_index_at, freshness_seconds,
         total_sessions, pending_sessions,
         TRY_CAST(json_extract(raw_json, '$.state.index.stale_threshold_seconds') AS DOUBLE) AS stale_threshold_s
  FROM cass_index_status
  WHERE collected_at > ${since}::TIMESTAMP AND collected_at <= ${until}::TIMESTAMP${mine}
  ORDER BY machine_id, collected_at`;

/**
 * Per machine, cass's index age at `at`, its typical refresh interval (the median gap between
 * observed changes of last_index_at over `historyHours`), and when it counts as stale (cass's own
 * threshold when it reports one, else vc's cass_index_stale rule's), soonest first. Missing tables
 * or no data give empty lists and a warning naming the collector, never a throw.
 * @example const { indexes } = await cassIndexForecast(store, new Date().toISOString(), { machineId: "ws-1" })
 */
export async function cassIndexForecast(store: Store, at: string, opts: CassIndexForecastOptions = {}): Promise<{ indexes: CassIndexForecast[]; warnings: string[] }> {
  const { rows, window: w, warnings } = await readHistory<IndexRow>(store, at, opts, CASS_SOURCE, indexHistory);
  if (!w || rows.length === 0) return { indexes: [], warnings };
  const { atMs, since, until, mine } = w;
  const sessions = await sessionsPerHour(store, since, until, mine);

  const byMachine = new Map<string, IndexRow[]>();
  for (const r of rows) {
    const list = byMachine.get(r.machine_id);
    if (list) list.push(r);
    else byMachine.set(r.machine_id, [r]);
  }
  const ruleHours = thresholdDefaults(cassIndexStale).max_age_hours ?? 24;
  const indexes: CassIndexForecast[] = [];
  for (const [machine, list] of byMachine) {
    const latest = list.at(-1)!;
    const cassThreshold = [...list].reverse().find((r) => typeof r.stale_threshold_s === "number" && r.stale_threshold_s > 0)?.stale_threshold_s ?? null;
    const thresholdMin = cassThreshold !== null ? cassThreshold / 60 : ruleHours * 60;
    const source = cassThreshold !== null ? "cass" : "vc_rule";
    const whose = source === "cass" ? "cass's" : "vc's cass_index_stale";

    // Refreshes: each later last_index_at than the one before (2 s of rounding tolerated).
    const times: number[] = [];
    for (const r of list) {
      const t = r.last_index_at ? Date.parse(r.last_index_at) : Number.NaN;
      if (Number.isFinite(t) && (times.length === 0 || t > times.at(-1)! + 2000)) times.push(t);
    }
    const gaps = times.slice(1).map((t, i) => (t - times[i]!) / MIN_MS);
    const interval = gaps.length ? round1(median(gaps)) : null;
    const lastIndex = times.length ? times.at(-1)! : null;
    const age = lastIndex === null ? null : Math.max(0, (atMs - lastIndex) / MIN_MS);
    const deadline = lastIndex === null ? null : lastIndex + thresholdMin * MIN_MS;
    const rate = sessions.get(machine) ?? null;

    let staleNow: boolean;
    let staleAt: number | null;
    const parts: string[] = [];
    if (lastIndex === null || age === null || deadline === null) {
      staleNow = latest.index_stale === true || latest.index_status === "missing" || latest.index_status === "stale" || latest.state === "not_initialized";
      staleAt = staleNow ? atMs : null;
      parts.push(`cass reports no index time (cass ${latest.state ?? "?"}, index ${latest.index_status ?? "?"})${staleNow ? ": build it with cass index --full" : ""}`);
    } else {
      staleNow = age >= thresholdMin;
      parts.push(`index ${minutesText(age)} old`);
      if (interval !== null) parts.push(`refreshed every ~${minutesText(interval)} (median of ${gaps.length} gap${gaps.length === 1 ? "" : "s"})`);
      else parts.push("no refresh seen yet");
      const overdue = interval !== null && age > interval * OVERDUE_FACTOR;
      if (staleNow) {
        staleAt = deadline;
        parts.push(`stale since ${isoFromMs(deadline)} (${whose} threshold ${minutesText(thresholdMin)})`);
      } else if (interval !== null && interval < thresholdMin && !overdue) {
        staleAt = null;
        parts.push(`under ${whose} ${minutesText(thresholdMin)} threshold: stays fresh at this pace (stale at ${isoFromMs(deadline)} if no refresh comes)`);
      } else {
        staleAt = deadline;
        const why = interval === null ? "no pattern to count on" : overdue ? "the next refresh is overdue" : `slower than ${whose} ${minutesText(thresholdMin)} threshold`;
        parts.push(`${why}: stale in ${minutesText((deadline - atMs) / MIN_MS)}`);
      }
    }
    if (latest.rebuilding) parts.push("a rebuild is running");
    if (rate !== null && rate > 0 && (staleNow || staleAt !== null)) parts.push(`a stale index misses ~${round1(rate)} new sessions/h`);

    indexes.push({
      machine_id: machine,
      collected_at: latest.collected_at,
      state: latest.state,
      index_status: latest.index_status,
      rebuilding: latest.rebuilding,
      last_index_at: lastIndex === null ? null : isoFromMs(lastIndex),
      index_age_min: age === null ? null : round1(age),
      refresh_interval_min: interval,
      refreshes: gaps.length,
      next_refresh_at: lastIndex !== null && interval !== null ? isoFromMs(lastIndex + interval * MIN_MS) : null,
      stale_threshold_min: round1(thresholdMin),
      threshold_source: source,
      stale_now: staleNow,
      stale_at: staleAt === null ? null : isoFromMs(staleAt),
      stale_in_min: staleAt === null ? null : round1(Math.max(0, (staleAt - atMs) / MIN_MS)),
      deadline_at: deadline === null ? null : isoFromMs(deadline),
      sessions_per_hour: rate === null ? null : round1(rate),
      pending_sessions: latest.pending_sessions,
      reason: parts.join("; "),
    });
  }
  indexes.sort((a, b) => soonest(a.stale_in_min, b.stale_in_min) || a.machine_id.localeCompare(b.machine_id));
  return { indexes, warnings };
}

/** Per machine, the Theil–Sen rate of cass's archived conversations per hour: its stats total, else the health's. */
async function sessionsPerHour(store: Store, since: string, until: string, mine: SqlQuery): Promise<Map<string, number>> {
  const stats = await store
    .query<{ machine_id: string; collected_at: string; n: number }>(sql`
      SELECT machine_id, collected_at, metric_value AS n FROM cass_stats_snapshots
      WHERE metric_name = 'conversations' AND dimension_key = '' AND metric_value IS NOT NULL
        AND collected_at > ${since}::TIMESTAMP AND collected_at <= ${until}::TIMESTAMP${mine}
      UNION ALL
      SELECT machine_id, collected_at, total_sessions AS n FROM cass_index_status s
      WHERE total_sessions IS NOT NULL AND collected_at > ${since}::TIMESTAMP AND collected_at <= ${until}::TIMESTAMP${mine}
        AND NOT EXISTS (SELECT 1 FROM cass_stats_snapshots c WHERE c.machine_id = s.machine_id AND c.metric_name = 'conversations'
                        AND c.collected_at > ${since}::TIMESTAMP AND c.collected_at <= ${until}::TIMESTAMP)
      ORDER BY machine_id, collected_at`)
    .catch((err: unknown) => {
      if (isMissingTable(err)) return [];
      throw err;
    });
  const points = new Map<string, { x: number; y: number }[]>();
  for (const r of stats) {
    const p = { x: Date.parse(r.collected_at) / HOUR_MS, y: Number(r.n) };
    const list = points.get(r.machine_id);
    if (list) list.push(p);
    else points.set(r.machine_id, [p]);
  }
  const out = new Map<string, number>();
  for (const [machine, p] of points) {
    const fit = p.length >= 2 ? theilSen(p) : null;
    if (fit) out.set(machine, Math.max(0, fit.slope));
  }
  return out;
}
