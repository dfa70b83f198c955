// The oracle's disk and index forecasts (issue 14 point 5) on a real migrated store: df rows as
// sysprobe writes them (its captured probe output, then a history around it) and cass health as the
// cass collector writes it (the real collector over its fixtures, plus history rows of the same shape).
import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { createFixedClock, openStore, type Store } from "../../lib/index.ts";
import { createFakeMachine, runOnce } from "../../lib/testkit.ts";
import { cass } from "../../plugins/cass/index.ts";
import { HealthSchema, healthRow } from "../../plugins/cass/parse.ts";
import { cassIndexForecast, diskForecasts, theilSen, type DiskForecast } from "../../plugins/oracle/disk.ts";
import { parseProbe } from "../../plugins/sysprobe/index.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir("vc-oracle-disk-");
let n = 0;
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});
async function freshStore() {
  const store = await openStore({ path: join(dir, `s${n++}.duckdb`) });
  stores.push(store);
  return store;
}

const GiB = 1024 ** 3;
const HOUR = 3_600_000;
const AT = "2026-08-20T12:00:00.000Z";
const atMs = Date.parse(AT);
const iso = (ms: number) => new Date(ms).toISOString();

// sysprobe's filesystems rows from its captured probe output: / (ext4, /dev/vda) beside devtmpfs
// and tmpfs mounts (/dev, /dev/shm, /sys/fs/cgroup, a tmpfs under /mnt) that are no disks.
const probe = parseProbe(readFileSync(join(import.meta.dir, "../fixtures/sysprobe/probe-output.txt"), "utf8"), () => {});
const root = probe.filesystems.find((f) => f.mount === "/")!;
const pseudo = probe.filesystems.filter((f) => f.mount !== "/");
const extraPseudo = [
  { filesystem: "overlay", fs_type: "overlay", mount: "/var/lib/docker/overlay2/3f1c/merged", size_bytes: 100 * GiB, used_bytes: 99 * GiB, avail_bytes: GiB, used_pct: 99 },
  { filesystem: "/dev/sr0", fs_type: "iso9660", mount: "/media/cdrom", size_bytes: 4 * GiB, used_bytes: 4 * GiB, avail_bytes: 0, used_pct: 100 },
];

/** One df row of `mount` with `used` bytes on a disk of used + avail = `capacity`, as sysprobe writes it. */
const dfRow = (machine: string, ms: number, mount: string, used: number, capacity: number, size = capacity) => ({
  machine_id: machine,
  collected_at: iso(ms),
  mount,
  filesystem: mount === "/" ? root.filesystem : `/dev/${mount.slice(1) || "x"}`,
  fs_type: "ext4",
  size_bytes: size,
  used_bytes: Math.round(used),
  avail_bytes: Math.round(capacity - used),
  used_pct: Math.round((used / capacity) * 10_000) / 100,
  source: "sysprobe",
  source_version: "1.1.0",
  schema_version: 1,
});

/** Every 15 min for the 30 h up to `at` (the 24 h window holds the last 96). */
const times = Array.from({ length: 121 }, (_, i) => atMs - (120 - i) * 15 * 60_000);
const hoursBefore = (ms: number) => (ms - atMs) / HOUR;

// ws-1: / fills at exactly 2 GiB/h and reads the probe's figures at `at`; the pseudo mounts beside it.
const capacity = root.used_bytes + root.avail_bytes;
const g1 = 2 * GiB;
const ws1 = times.flatMap((t) => [
  dfRow("ws-1", t, "/", root.used_bytes + g1 * hoursBefore(t), capacity, root.size_bytes),
  ...[...pseudo, ...extraPseudo].map((f) => ({ ...f, machine_id: "ws-1", collected_at: iso(t), source: "sysprobe" })),
]);

// ws-2: /data fills at 1 GiB/h with ±3 GiB of noise, and one 20 GiB file that came and went 2 h before `at`.
let seed = 42;
const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const cap2 = 500 * GiB;
const ws2 = times.map((t) => dfRow("ws-2", t, "/data", 300 * GiB + GiB * hoursBefore(t) + 3 * GiB * rand() + (t === atMs - 2 * HOUR ? 20 * GiB : 0), cap2));

// ws-3: / fills at 1 GiB/h, 40 GiB were deleted 8 h before `at`, and it fills at 1 GiB/h again.
const cap3 = 200 * GiB;
const dropAt = atMs - 8 * HOUR;
const ws3 = times.map((t) => dfRow("ws-3", t, "/", 150 * GiB + GiB * hoursBefore(t) - (t >= dropAt ? 40 * GiB : 0), cap3));

// ws-4: / shrinks by 0.5 GiB/h; /data sits at 96 % and does not move.
const ws4 = times.flatMap((t) => [dfRow("ws-4", t, "/", 80 * GiB - 0.5 * GiB * hoursBefore(t), 100 * GiB), dfRow("ws-4", t, "/data", 96 * GiB, 100 * GiB)]);

// ws-7: / grows in bursts, 3 GiB every 3 h and nothing between (1 GiB/h on average).
const ws7 = times.map((t) => dfRow("ws-7", t, "/", 20 * GiB + 3 * GiB * Math.floor((hoursBefore(t) + 30 + 0.5) / 3), 100 * GiB));

// ws-5: two readings only.
const ws5 = [dfRow("ws-5", atMs - HOUR, "/", 10 * GiB, 100 * GiB), dfRow("ws-5", atMs, "/", 11 * GiB, 100 * GiB)];

// After `at`: ws-1's disk nearly full, ws-6 appears. A forecast at `at` sees neither.
const future = [dfRow("ws-1", atMs + HOUR, "/", capacity * 0.99, capacity, root.size_bytes), dfRow("ws-6", atMs + HOUR, "/", 90 * GiB, 100 * GiB)];

async function diskStore() {
  const store = await freshStore();
  await store.insert("filesystems", [...ws1, ...ws2, ...ws3, ...ws4, ...ws5, ...ws7, ...future]);
  return store;
}
const byKey = (disks: DiskForecast[]) => new Map(disks.map((d) => [`${d.machine_id}:${d.mount}`, d]));

const store = await diskStore();
const { disks, warnings } = await diskForecasts(store, AT);
const d = byKey(disks);

describe("diskForecasts", () => {
  it("a disk filling linearly: time to 95 % and to full as computed by hand, the interval around it", () => {
    const f = d.get("ws-1:/")!;
    // At `at`: the probe's used and available bytes; 95 % is 0.95 × (used + avail) used.
    const to95 = ((0.95 * capacity - root.used_bytes) / g1) * 60;
    const toFull = (root.avail_bytes / g1) * 60;
    expect(to95).toBeCloseTo(2229.8, 1); // 74.3 GiB to go at 2 GiB/h
    expect(f.to_95_min!).toBeCloseTo(to95, 0);
    expect(f.to_full_min!).toBeCloseTo(toFull, 0);
    expect(f.to_95_low_min!).toBeLessThanOrEqual(to95 + 0.1);
    expect(f.to_95_high_min!).toBeGreaterThanOrEqual(to95 - 0.1);
    expect(f.to_full_low_min!).toBeLessThanOrEqual(toFull + 0.1);
    expect(f.to_full_high_min!).toBeGreaterThanOrEqual(toFull - 0.1);
    expect(f).toMatchObject({
      machine_id: "ws-1",
      mount: "/",
      fs_type: "ext4",
      collected_at: AT,
      used_percent: root.used_pct,
      total_bytes: root.size_bytes,
      free_bytes: root.avail_bytes,
      growth_bytes_per_hour: g1,
      samples: 96,
      history_hours: 23.8,
      reset_at: null,
      confidence: "high",
    });
    expect(f.reason).toContain("fills at 2.1 GB/h");
    expect(f.reason).toContain("95 % in ~37.2 h");
  });

  it("leaves memory, kernel and image filesystems out (tmpfs, devtmpfs, overlay, iso9660)", () => {
    expect(disks.filter((x) => x.machine_id === "ws-1").map((x) => x.mount)).toEqual(["/"]);
  });

  it("a noisy disk with a transient spike: the robust slope near the true one, inside its interval", () => {
    const f = d.get("ws-2:/data")!;
    expect(f.reset_at).toBeNull(); // the spike is no deletion
    expect(f.samples).toBe(96);
    expect(f.growth_bytes_per_hour! / GiB).toBeGreaterThan(0.9);
    expect(f.growth_bytes_per_hour! / GiB).toBeLessThan(1.1);
    expect(f.growth_low_bytes_per_hour!).toBeLessThan(f.growth_bytes_per_hour!);
    expect(f.growth_high_bytes_per_hour!).toBeGreaterThan(f.growth_bytes_per_hour!);
    expect(f.growth_low_bytes_per_hour!).toBeLessThanOrEqual(GiB);
    expect(f.growth_high_bytes_per_hour!).toBeGreaterThanOrEqual(GiB);
    expect(f.to_95_low_min!).toBeLessThan(f.to_95_min!);
    expect(f.to_95_high_min!).toBeGreaterThan(f.to_95_min!);
    // What the truth gives from the last reading: (475 GiB − used) at 1 GiB/h, within 10 %.
    const last = ws2.at(-1)!;
    const truth = ((0.95 * cap2 - last.used_bytes) / GiB) * 60;
    expect(Math.abs(f.to_95_min! - truth) / truth).toBeLessThan(0.1);
    expect(f.confidence).not.toBe("low");
  });

  it("a disk that grows in bursts: the average pace, and an interval around it", () => {
    const f = d.get("ws-7:/")!;
    expect(f.growth_bytes_per_hour).toBe(GiB);
    expect(f.growth_low_bytes_per_hour!).toBeLessThan(GiB);
    expect(f.growth_high_bytes_per_hour!).toBeGreaterThan(GiB);
    // 50 GiB used of 100: 45 GiB to 95 %, 50 GiB to full, at 1 GiB/h.
    expect(f).toMatchObject({ used_percent: 50, to_95_min: 45 * 60, to_full_min: 50 * 60 });
    expect(f.to_95_low_min!).toBeLessThan(45 * 60);
    expect(f.to_95_high_min!).toBeGreaterThan(45 * 60);
  });

  it("a deletion restarts the fit after it: the pace since, not the drop, makes the forecast", () => {
    const f = d.get("ws-3:/")!;
    expect(f.reset_at).toBe(iso(dropAt));
    expect(f.samples).toBe(33); // 8 h every 15 min, both ends
    expect(f.history_hours).toBe(8);
    expect(f.growth_bytes_per_hour).toBe(GiB);
    // 150 − 40 = 110 GiB used at `at`: 190 − 110 = 80 GiB to 95 %, 90 GiB to full, at 1 GiB/h.
    expect(f.to_95_min).toBe(80 * 60);
    expect(f.to_full_min).toBe(90 * 60);
    expect(f.reason).toContain("a deletion of 42.7 GB"); // 40 GiB less 15 min of growth
  });

  it("a shrinking disk never fills (null); one already above 95 % is there now (0)", () => {
    const shrinking = d.get("ws-4:/")!;
    expect(shrinking.growth_bytes_per_hour).toBe(-0.5 * GiB);
    expect(shrinking).toMatchObject({ to_95_min: null, to_95_low_min: null, to_95_high_min: null, to_full_min: null, to_full_high_min: null });
    expect(shrinking.reason).toContain("not growing");
    const full = d.get("ws-4:/data")!;
    expect(full).toMatchObject({ used_percent: 96, growth_bytes_per_hour: 0, to_95_min: 0, to_95_low_min: 0, to_95_high_min: 0, to_full_min: null });
    expect(full.reason).toContain("already at 96 %");
  });

  it("too few samples: no fit, low confidence", () => {
    expect(d.get("ws-5:/")).toMatchObject({ samples: 2, growth_bytes_per_hour: null, to_95_min: null, to_full_min: null, confidence: "low" });
    expect(d.get("ws-5:/")!.reason).toContain("too few to fit");
  });

  it("sorts soonest first, reads nothing after `at`, and warns about nothing on good data", () => {
    expect(disks.map((x) => `${x.machine_id}:${x.mount}`)).toEqual(["ws-4:/data", "ws-1:/", "ws-7:/", "ws-3:/", "ws-2:/data", "ws-4:/", "ws-5:/"]);
    expect(d.has("ws-6:/")).toBe(false);
    expect(warnings).toEqual([]);
  });

  it("is causal: the rows after `at` count only for a later instant", async () => {
    const later = byKey((await diskForecasts(store, iso(atMs + HOUR))).disks);
    expect(later.get("ws-1:/")!.used_percent).toBeGreaterThan(98);
    expect(later.has("ws-6:/")).toBe(true);
  });

  it("one machine, on request; an unknown one is a warning, not an error", async () => {
    const one = await diskForecasts(store, AT, { machineId: "ws-3" });
    expect(one.disks.map((x) => x.machine_id)).toEqual(["ws-3"]);
    expect(one.disks[0]).toEqual(d.get("ws-3:/")!);
    const none = await diskForecasts(store, AT, { machineId: "nope" });
    expect(none.disks).toEqual([]);
    expect(none.warnings).toEqual([`no df of a real filesystem of nope in the 24 h before ${AT} (sysprobe collects them)`]);
  });

  it("a shorter history window reads fewer samples", async () => {
    const f = byKey((await diskForecasts(store, AT, { historyHours: 6 })).disks).get("ws-1:/")!;
    expect(f.samples).toBe(24);
    expect(f.growth_bytes_per_hour).toBe(g1);
    const bad = await diskForecasts(store, AT, { historyHours: -1 });
    expect(bad.warnings).toEqual(["historyHours must be a positive number of hours (got -1); read 24 h"]);
  });

  it("no data, a missing table, an instant that is no time: empty lists and a warning naming the collector", async () => {
    const empty = await freshStore();
    const none = await diskForecasts(empty, AT);
    expect(none.disks).toEqual([]);
    expect(none.warnings).toHaveLength(1);
    expect(none.warnings[0]).toStartWith("no sysprobe data: sysprobe has not run yet");
    await empty.run("DROP TABLE filesystems");
    expect(await diskForecasts(empty, AT)).toEqual({
      disks: [],
      warnings: ["the store has no filesystems table: sysprobe: built in, needs only df and /proc; add sysprobe() to vc.config.ts's collectors"],
    });
    expect(await diskForecasts(store, "yesterday")).toEqual({ disks: [], warnings: ['"yesterday" is not a time: no forecast'] });
  });
});

describe("theilSen", () => {
  it("is the median pairwise slope, with the interval around it", () => {
    const pts = [0, 1, 2, 3, 4, 5, 6, 7].map((x) => ({ x, y: 2 * x + (x === 3 ? 50 : 0) }));
    const f = theilSen(pts)!;
    expect(f.slope).toBe(2); // one outlier does not move it
    expect(f.low).toBeLessThanOrEqual(2);
    expect(f.high).toBeGreaterThanOrEqual(2);
    expect(theilSen([{ x: 1, y: 1 }])).toBeNull();
  });
});

// ---- cass ----

const cassFx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/cass", name), "utf8");
const HEALTH = JSON.parse(cassFx("health.json"));
const STATS = cassFx("stats.json");
const NOT_INIT = cassFx("health.not-initialized.json");
const CAT = Date.parse("2026-08-20T15:05:00Z");
const CASS_AT = iso(CAT);
const MIN = 60_000;

/** `cass health --json` with its index last built at `indexedMs`, as seen at `nowMs`. */
function healthAt(indexedMs: number, nowMs: number, o: { threshold?: number | null; conversations?: number } = {}) {
  const h = structuredClone(HEALTH);
  h.state.index.last_indexed_at = iso(indexedMs).replace("Z", "+00:00");
  h.state.index.age_seconds = Math.round((nowMs - indexedMs) / 1000);
  if (o.threshold === null) delete h.state.index.stale_threshold_seconds;
  else if (o.threshold !== undefined) h.state.index.stale_threshold_seconds = o.threshold;
  if (o.conversations !== undefined) h.db.conversations = o.conversations;
  return h;
}
/** The cass_index_status row the collector writes for `h`, collected at `nowMs`. */
const statusRow = (machine: string, h: unknown, nowMs: number) => ({
  ...healthRow(v.parse(HealthSchema, h), h, 0),
  machine_id: machine,
  collected_at: iso(nowMs),
  source: "cass",
  source_version: "1.0.0",
  schema_version: 1,
});

// ws-1: the real collector every 10 min from 13:00 to 15:20; cass re-indexes at :17, :37, :57.
const cassStore = await freshStore();
const fakes: { close(): unknown }[] = [];
afterAll(async () => {
  for (const m of fakes) await m.close();
});
const collector = cass({ timeline: false });
for (let t = Date.parse("2026-08-20T13:00:00Z"); t <= CAT + 15 * MIN; t += 10 * MIN) {
  const indexed = Date.parse("2026-08-20T12:57:00Z") + Math.floor((t - Date.parse("2026-08-20T12:57:00Z")) / (20 * MIN)) * 20 * MIN;
  const machine = createFakeMachine({ id: "ws-1", tools: { cass: { "health --json": JSON.stringify(healthAt(indexed, t)), "stats --json": STATS } } });
  fakes.push(machine);
  const rec = await runOnce({ store: cassStore, collector, machine, clock: createFixedClock(iso(t)) });
  if (rec.result !== "ok" || rec.warnings.length) throw new Error(`cass collector at ${iso(t)}: ${rec.result} ${rec.warnings.join("; ")}`);
}
// ws-2: re-indexed hourly at :50, over cass's 30 min threshold; its archive gains 6 sessions an hour.
const ws2Rows = [];
for (let t = Date.parse("2026-08-20T11:55:00Z"); t <= CAT; t += 10 * MIN) {
  const indexed = Date.parse("2026-08-20T11:50:00Z") + Math.floor((t - Date.parse("2026-08-20T11:50:00Z")) / HOUR) * HOUR;
  ws2Rows.push(statusRow("ws-2", healthAt(indexed, t, { conversations: 1000 + Math.round(((t - Date.parse("2026-08-20T11:55:00Z")) / HOUR) * 6) }), t));
}
// ws-3: a cass that reports no threshold, re-indexed every 12 h: vc's rule (24 h) decides.
const ws3Rows = [0, 1, 2, 3, 4, 5].map((i) => {
  const t = CAT - 10 * MIN - (5 - i) * 12 * HOUR;
  return statusRow("ws-3", healthAt(t - 20 * MIN, t, { threshold: null }), t);
});
// ws-5: re-indexed every 10 min until 14:40, then no more: overdue, stale at 14:40 + 30 min.
const ws5Rows = [];
for (let t = Date.parse("2026-08-20T13:02:00Z"); t <= CAT; t += 5 * MIN) {
  const indexed = Math.min(Date.parse("2026-08-20T13:00:00Z") + Math.floor((t - Date.parse("2026-08-20T13:00:00Z")) / (10 * MIN)) * 10 * MIN, Date.parse("2026-08-20T14:40:00Z"));
  ws5Rows.push(statusRow("ws-5", healthAt(indexed, t), t));
}
// ws-4: never indexed (cass exits 1 and prints its JSON).
await cassStore.insert("cass_index_status", [...ws2Rows, ...ws3Rows, ...ws5Rows, { ...statusRow("ws-4", JSON.parse(NOT_INIT), CAT - 5 * MIN), exit_code: 1 }]);
const cassAnswer = await cassIndexForecast(cassStore, CASS_AT);
const byMachine = new Map(cassAnswer.indexes.map((x) => [x.machine_id, x]));

describe("cassIndexForecast", () => {
  it("a regular refresh under cass's threshold stays fresh: no stale_at, but the deadline if it stops", () => {
    expect(byMachine.get("ws-1")).toEqual({
      machine_id: "ws-1",
      collected_at: "2026-08-20T15:00:00.000Z",
      state: "healthy",
      index_status: "ready",
      rebuilding: false,
      last_index_at: "2026-08-20T14:57:00.000Z",
      index_age_min: 8,
      refresh_interval_min: 20,
      refreshes: 6, // 12:57 … 14:57
      next_refresh_at: "2026-08-20T15:17:00.000Z",
      stale_threshold_min: 30, // cass's stale_threshold_seconds: 1800
      threshold_source: "cass",
      stale_now: false,
      stale_at: null,
      stale_in_min: null,
      deadline_at: "2026-08-20T15:27:00.000Z",
      sessions_per_hour: 0, // the stats' conversations do not move
      pending_sessions: 3,
      reason:
        "index 8 min old; refreshed every ~20 min (median of 6 gaps); under cass's 30 min threshold: stays fresh at this pace (stale at 2026-08-20T15:27:00.000Z if no refresh comes)",
    });
  });

  it("a refresh slower than the threshold goes stale at last index + threshold", () => {
    expect(byMachine.get("ws-2")).toMatchObject({
      last_index_at: "2026-08-20T14:50:00.000Z",
      index_age_min: 15,
      refresh_interval_min: 60,
      refreshes: 3,
      threshold_source: "cass",
      stale_now: false,
      stale_at: "2026-08-20T15:20:00.000Z",
      stale_in_min: 15,
      sessions_per_hour: 6, // from cass health's conversations: no stats rows for ws-2
    });
    expect(byMachine.get("ws-2")!.reason).toContain("slower than cass's 30 min threshold: stale in 15 min");
    expect(byMachine.get("ws-2")!.reason).toContain("misses ~6 new sessions/h");
  });

  it("without cass's threshold, vc's cass_index_stale rule (24 h) is the notion", () => {
    expect(byMachine.get("ws-3")).toMatchObject({
      index_age_min: 30,
      refresh_interval_min: 720,
      refreshes: 5,
      stale_threshold_min: 1440,
      threshold_source: "vc_rule",
      stale_now: false,
      stale_at: null,
    });
  });

  it("an index never built is stale now", () => {
    expect(byMachine.get("ws-4")).toMatchObject({ state: "not_initialized", index_status: "missing", last_index_at: null, stale_now: true, stale_in_min: 0, refreshes: 0 });
    expect(byMachine.get("ws-4")!.reason).toContain("cass index --full");
  });

  it("an overdue refresh (1.5 intervals without one): the threshold decides", () => {
    expect(byMachine.get("ws-5")).toMatchObject({
      last_index_at: "2026-08-20T14:40:00.000Z",
      index_age_min: 25,
      refresh_interval_min: 10,
      refreshes: 10,
      stale_now: false,
      stale_at: "2026-08-20T15:10:00.000Z",
      stale_in_min: 5,
    });
    expect(byMachine.get("ws-5")!.reason).toContain("the next refresh is overdue: stale in 5 min");
  });

  it("sorts soonest stale first and warns about nothing", () => {
    expect(cassAnswer.indexes.map((x) => x.machine_id)).toEqual(["ws-4", "ws-5", "ws-2", "ws-1", "ws-3"]);
    expect(cassAnswer.warnings).toEqual([]);
  });

  it("is causal: a later collection counts only for a later instant", async () => {
    // At 15:15 the collector's 15:10 run (index 14:57) is the newest; 15:20's (index 15:17) is not seen.
    const f = (await cassIndexForecast(cassStore, iso(CAT + 10 * MIN), { machineId: "ws-1" })).indexes;
    expect(f.map((x) => [x.machine_id, x.collected_at, x.last_index_at, x.index_age_min, x.stale_at])).toEqual([
      ["ws-1", "2026-08-20T15:10:00.000Z", "2026-08-20T14:57:00.000Z", 18, null],
    ]);
    // At 15:50 the index of 15:17 is 33 min old: past cass's 30 min.
    const stale = (await cassIndexForecast(cassStore, "2026-08-20T15:50:00Z", { machineId: "ws-1" })).indexes[0]!;
    expect(stale).toMatchObject({ last_index_at: "2026-08-20T15:17:00.000Z", stale_now: true, stale_at: "2026-08-20T15:47:00.000Z", stale_in_min: 0 });
  });

  it("no data, missing tables: empty lists and a warning naming the collector", async () => {
    const empty = await freshStore();
    const none = await cassIndexForecast(empty, CASS_AT);
    expect(none.indexes).toEqual([]);
    expect(none.warnings[0]).toStartWith("no cass data: cass has not run yet");
    expect((await cassIndexForecast(cassStore, CASS_AT, { machineId: "nope" })).warnings).toEqual([
      `no cass health of nope in the 168 h before ${CASS_AT} (the cass collector writes it)`,
    ]);
    await empty.run("DROP TABLE cass_stats_snapshots");
    await empty.run("DROP TABLE cass_index_status");
    const missing = await cassIndexForecast(empty, CASS_AT);
    expect(missing.indexes).toEqual([]);
    expect(missing.warnings[0]).toStartWith("the store has no cass_index_status table: cass: install coding_agent_session_search");
  });
});
