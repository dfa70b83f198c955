import { afterEach, describe, expect, it } from "bun:test";
import {
  VcError,
  applyFindings,
  createFixedClock,
  evaluateRule,
  finishCycle,
  resolveConfig,
  fingerprint,
  sql,
  thresholdDefaults,
  type AlertEvent,
  type Finding,
  type Rule,
  type RuleResult,
  type Store,
} from "../../lib/index.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce } from "../../lib/testkit.ts";
import { caam } from "../../plugins/caam/index.ts";
import { caut } from "../../plugins/caut/index.ts";
import {
  DEFAULT_RULES,
  accountUsageHigh,
  cassIndexStale,
  dcgDenySpike,
  dcgNewRule,
  defaultRules,
  diskLow,
  dirtyRepos,
  inotifyHigh,
  loadHigh,
  machineUnreachable,
  mailAckOverdue,
  mailUrgentBacklog,
  oomKill,
  ranoUnknownDomain,
  rchQueueSaturated,
  swapRising,
} from "../../plugins/rules/index.ts";

// Every rule of the default pack on rows inserted into a fresh, migrated store, evaluated as of
// one instant. Times are minutes before (negative: after) that instant; nothing waits on a clock.
const AT = "2026-03-10T12:00:00.000Z";
const T = Date.parse(AT);
const ago = (minutes: number) => new Date(T - minutes * 60_000).toISOString();
const at = (minutes: number) => new Date(T + minutes * 60_000).toISOString();
const fixture = (tool: string, name: string) => readFileSync(join(import.meta.dir, "../fixtures", tool, name), "utf8");
const MiB = 1_048_576;
const GiB = 1_073_741_824;

let store: Store & { dir: string };
afterEach(async () => {
  await store?.close();
});
async function fresh() {
  store = await createTestStore();
  return store;
}

/** A rule's findings as of `when`, sorted by fingerprint; the evaluation must not fail. */
async function findings(rule: Rule, when = AT): Promise<Finding[]> {
  const r = await evaluateRule(store, rule, when);
  expect(r.error).toBeUndefined();
  return r.findings.sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
}

/** What a test compares: the finding minus the row behind it. */
const brief = (f: Finding) => ({ labels: f.labels, value: f.value, expected: f.expected, received: f.received, message: f.message });
const briefs = async (rule: Rule, when = AT) => (await findings(rule, when)).map(brief).sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));

/** One lifecycle step at `when`: the rules evaluated, their findings applied in one transaction. */
async function step(rules: Rule[], when: string): Promise<AlertEvent[]> {
  const results: RuleResult[] = [];
  for (const r of rules) results.push(await evaluateRule(store, r, when));
  return store.transaction((tx) => applyFindings(tx, results, { at: new Date(when) }));
}
const eventsOf = (events: AlertEvent[]) => events.map((e) => `${e.event} ${e.rule} ${e.machine_id}${e.suppressed_by ? ` (${e.suppressed_by})` : ""}`);

const sample = (machine_id: string, minutesAgo: number, extra: Record<string, unknown> = {}) => ({
  machine_id,
  collected_at: ago(minutesAgo),
  source: "sysprobe",
  ...extra,
});

describe("the default pack", () => {
  it("has every MVP rule of plan §8.2, plus machine_unreachable", () => {
    expect(DEFAULT_RULES.map((r) => r.id)).toEqual([
      "machine_unreachable",
      "disk_low",
      "load_high",
      "swap_rising",
      "oom_kill",
      "inotify_high",
      "dcg_deny_spike",
      "dcg_new_rule",
      "rano_unknown_domain",
      "mail_urgent_backlog",
      "mail_ack_overdue",
      "rch_queue_saturated",
      "cass_index_stale",
      "dirty_repos",
      "account_usage_high",
    ]);
    expect(Object.fromEntries(DEFAULT_RULES.map((r) => [r.id, thresholdDefaults(r)]))).toEqual({
      machine_unreachable: { min_failed_polls: 3 },
      disk_low: { min_free_pct: 10 },
      load_high: { per_core: 1.5 },
      swap_rising: { min_used_mb: 0, min_rise_mb: 0 },
      oom_kill: { min_kills: 0 },
      inotify_high: { max_used_pct: 90 },
      dcg_deny_spike: { max_per_hour: 10 },
      dcg_new_rule: { min_denies: 0 },
      rano_unknown_domain: { min_connections: 0 },
      mail_urgent_backlog: { max_unread: 5 },
      mail_ack_overdue: { max_overdue: 3 },
      rch_queue_saturated: { max_queue: 10 },
      cass_index_stale: { max_age_hours: 24 },
      dirty_repos: { max_dirty: 10 },
      account_usage_high: { max_used_pct: 85 },
    });
  });

  it("names only columns its source has, in labels, value, conditions, messages and actions", async () => {
    await fresh();
    for (const rule of DEFAULT_RULES) {
      const { columns } = await store.select(sql`SELECT * FROM (${rule.source.sql(AT)}) AS src LIMIT 0`);
      const used = new Set<string>([...rule.labels, rule.value]);
      const templates = [rule.message, ...(rule.actions ?? []).flatMap((a) => [a.title, a.command ?? ""])];
      for (const t of templates) for (const m of t.matchAll(/\{([A-Za-z0-9_]+)\}/g)) used.add(m[1]!);
      const missing = [...used].filter((c) => !columns.includes(c));
      expect({ rule: rule.id, missing }).toEqual({ rule: rule.id, missing: [] });
      expect(rule.actions?.length).toBeGreaterThan(0);
      expect(rule.labels.length).toBeGreaterThan(0);
    }
  });

  it("evaluates every rule on an empty store without error and without findings", async () => {
    await fresh();
    for (const rule of DEFAULT_RULES) expect(await findings(rule)).toEqual([]);
  });

  it("applies threshold overrides by rule id", async () => {
    const rules = defaultRules({ disk_low: { min_free_pct: 20 }, load_high: { per_core: 2 } });
    expect(rules.map((r) => r.id)).toEqual(DEFAULT_RULES.map((r) => r.id));
    expect(rules.find((r) => r.id === "disk_low")!.thresholds).toEqual({ min_free_pct: 20 });
    expect(rules.find((r) => r.id === "load_high")!.thresholds).toEqual({ per_core: 2 });
    expect(rules.find((r) => r.id === "swap_rising")).toBe(swapRising);
    expect(defaultRules()).toEqual([...DEFAULT_RULES]);
  });

  it("refuses an unknown rule id, naming it and the known ones", () => {
    let err: unknown;
    try {
      defaultRules({ disk_ful: { min_free_pct: 20 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VcError);
    expect((err as VcError).code).toBe("config_invalid");
    expect((err as VcError).message).toContain('"disk_ful"');
    for (const r of DEFAULT_RULES) expect((err as VcError).message).toContain(r.id);
  });

  it("refuses an unknown threshold name, naming the rule's thresholds", () => {
    let err: unknown;
    try {
      defaultRules({ disk_low: { min_free: 20 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VcError);
    expect((err as VcError).message).toBe('rule disk_low has no threshold "min_free"');
    expect((err as VcError).hint).toBe("its thresholds: min_free_pct");
  });
});

describe("the default pack in a config and a poll cycle", () => {
  it("passes config validation and runs at the end of a cycle without rule errors", async () => {
    await fresh();
    const config = await resolveConfig({ machines: [{ id: "orko", ssh: "local" }], rules: defaultRules({ disk_low: { min_free_pct: 15 } }) }, { source: "t", env: {} });
    expect(config.rules.map((r) => r.id)).toEqual(DEFAULT_RULES.map((r) => r.id));
    await store.insert("filesystems", [{ machine_id: "orko", collected_at: ago(1), mount: "/", used_pct: 86, size_bytes: 100 * GiB, avail_bytes: 14 * GiB }]);
    const outcome = await finishCycle({ store, config, clock: createFixedClock(AT), rules: config.rules, channels: [] });
    expect(outcome.ruleErrors).toEqual([]);
    expect(eventsOf(outcome.events)).toEqual(["firing disk_low orko"]);
    expect(outcome.events[0]!.expected).toBe("free_pct < 15");
  });
});

describe("disk_low", () => {
  const fs = (machine_id: string, minutesAgo: number, mount: string, used_pct: number, extra: Record<string, unknown> = {}) => ({
    machine_id,
    collected_at: ago(minutesAgo),
    mount,
    used_pct,
    size_bytes: 100 * GiB,
    avail_bytes: Math.round(((100 - used_pct) / 100) * 100 * GiB),
    fs_type: "ext4",
    ...extra,
  });

  async function seed() {
    await fresh();
    await store.insert("filesystems", [
      fs("orko", 2, "/", 90.01), // 9.99 % free: fires
      fs("orko", 2, "/data", 90), // exactly 10 % free: does not
      fs("orko", 2, "/snap/core", 100, { fs_type: "squashfs" }), // read-only image, full by design
      fs("orko", 2, "/dev/shm", 97, { fs_type: "tmpfs" }), // memory, not a disk
      fs("orko", 2, "/sys/fs/cgroup", 100, { fs_type: "cgroup2" }), // the kernel's, not a disk
      fs("calm", 10, "/", 99), // an older df…
      fs("calm", 2, "/", 50), // …superseded by the newest
      fs("gone", 16, "/", 99), // newest df older than 15 min: stale
      fs("later", -1, "/", 99), // collected after the instant: unseen
    ]);
  }

  it("fires per filesystem below 10 % free, not at 10 %, not on stale or superseded data", async () => {
    await seed();
    const f = await findings(diskLow);
    expect(f.map(brief)).toEqual([
      {
        labels: { machine_id: "orko", mount: "/" },
        value: 9.99,
        expected: "free_pct < 10",
        received: "free_pct = 9.99",
        message: "/ on orko has 9.99 % free (9.99 GiB of 100 GiB)",
      },
    ]);
    expect(f[0]!.machine_id).toBe("orko");
    expect(f[0]!.severity).toBe("critical");
    expect(f[0]!.fingerprint).toBe(fingerprint("disk_low", { machine_id: "orko", mount: "/" }));
    expect(f[0]!.actions[0]).toEqual({ title: "See the disks and the busiest processes of orko", command: "vc robot machine orko" });
  });

  it("takes its threshold from defaultRules overrides", async () => {
    await seed();
    const rule = defaultRules({ disk_low: { min_free_pct: 20 } }).find((r) => r.id === "disk_low")!;
    expect((await briefs(rule)).map((b) => [b.labels.mount, b.expected, b.received])).toEqual([
      ["/", "free_pct < 20", "free_pct = 9.99"],
      ["/data", "free_pct < 20", "free_pct = 10"],
    ]);
  });
});

describe("load_high", () => {
  it("fires above cores × 1.5, not at it, not on stale samples", async () => {
    await fresh();
    await store.insert("sys_samples", [
      sample("hot", 1, { load1: 7, load5: 6.01, load15: 5, cpu_cores: 4 }),
      sample("edge", 1, { load1: 7, load5: 6, load15: 5, cpu_cores: 4 }),
      sample("gone", 16, { load5: 100, cpu_cores: 4 }),
      sample("nocores", 1, { load5: 100 }), // no core count: cannot judge
    ]);
    expect(await briefs(loadHigh)).toEqual([
      {
        labels: { machine_id: "hot" },
        value: 6.01,
        expected: "load5 > cpu_cores × 1.5",
        received: "load5 = 6.01, cpu_cores = 4",
        message: "hot: load5 6.01 on 4 cores (1.5 per core)",
      },
    ]);
  });

  it("uses the newest sample of any source", async () => {
    await fresh();
    await store.insert("sys_samples", [sample("m", 3, { load5: 20, cpu_cores: 4 }), sample("m", 1, { source: "sysmoni", load5: 2, cpu_cores: 4 })]);
    expect(await findings(loadHigh)).toEqual([]);
  });

  it("is pending for 10 min before it fires, and resolves when load drops", async () => {
    await fresh();
    await store.insert("sys_samples", [
      sample("hot", 1, { load5: 8, cpu_cores: 4 }),
      sample("hot", -4, { load5: 8.5, cpu_cores: 4 }),
      sample("hot", -9, { load5: 9, cpu_cores: 4 }),
      sample("hot", -11, { load5: 2, cpu_cores: 4 }),
    ]);
    expect(await step([loadHigh], AT)).toEqual([]);
    const [pending] = await store.query<{ state: string }>("SELECT state FROM alerts");
    expect(pending!.state).toBe("pending");
    expect(await step([loadHigh], at(5))).toEqual([]);
    const fired = await step([loadHigh], at(10));
    expect(eventsOf(fired)).toEqual(["firing load_high hot"]);
    expect(fired[0]).toMatchObject({ value: 9, message: "hot: load5 9 on 4 cores (2.25 per core)", expected: "load5 > cpu_cores × 1.5" });
    expect(eventsOf(await step([loadHigh], at(12)))).toEqual(["resolved load_high hot"]);
  });

  it("never fires when the load dips before 10 min are up", async () => {
    await fresh();
    await store.insert("sys_samples", [
      sample("spiky", 1, { load5: 8, cpu_cores: 4 }),
      sample("spiky", -5, { load5: 2, cpu_cores: 4 }),
      sample("spiky", -7, { load5: 8, cpu_cores: 4 }),
    ]);
    expect(await step([loadHigh], AT)).toEqual([]);
    expect(await step([loadHigh], at(6))).toEqual([]);
    expect(await step([loadHigh], at(10))).toEqual([]);
    const [a] = await store.query<{ state: string; fired_at: string | null }>("SELECT state, fired_at FROM alerts");
    expect(a).toEqual({ state: "pending", fired_at: null });
  });
});

describe("swap_rising", () => {
  it("fires when swap is in use and grew over the last 15 min, not when flat, shrinking or unused", async () => {
    await fresh();
    await store.insert("sys_samples", [
      // rising: 100 MiB 14 min ago, 200.5 MiB now (the sample 20 min ago is outside the window)
      sample("rising", 20, { swap_used_bytes: 0, swap_total_bytes: 1024 * MiB }),
      sample("rising", 14, { swap_used_bytes: 100 * MiB, swap_total_bytes: 1024 * MiB }),
      sample("rising", 7, { swap_used_bytes: 150 * MiB, swap_total_bytes: 1024 * MiB }),
      sample("rising", 1, { swap_used_bytes: 200.5 * MiB, swap_total_bytes: 1024 * MiB }),
      // by one byte: still rising
      sample("creeping", 10, { swap_used_bytes: 64 * MiB, swap_total_bytes: 1024 * MiB }),
      sample("creeping", 1, { swap_used_bytes: 64 * MiB + 1, swap_total_bytes: 1024 * MiB }),
      sample("flat", 10, { swap_used_bytes: 500 * MiB, swap_total_bytes: 1024 * MiB }),
      sample("flat", 1, { swap_used_bytes: 500 * MiB, swap_total_bytes: 1024 * MiB }),
      sample("shrinking", 10, { swap_used_bytes: 500 * MiB, swap_total_bytes: 1024 * MiB }),
      sample("shrinking", 1, { swap_used_bytes: 400 * MiB, swap_total_bytes: 1024 * MiB }),
      sample("unused", 10, { swap_used_bytes: 0, swap_total_bytes: 0 }),
      sample("unused", 1, { swap_used_bytes: 0, swap_total_bytes: 0 }),
      sample("single", 1, { swap_used_bytes: 300 * MiB, swap_total_bytes: 1024 * MiB }), // nothing to compare with
      // newest sample 16 min old: stale
      sample("gone", 30, { swap_used_bytes: 1 * MiB, swap_total_bytes: 1024 * MiB }),
      sample("gone", 16, { swap_used_bytes: 900 * MiB, swap_total_bytes: 1024 * MiB }),
    ]);
    const f = await briefs(swapRising);
    expect(f.map((x) => x.labels.machine_id)).toEqual(["creeping", "rising"]);
    expect(f[1]).toEqual({
      labels: { machine_id: "rising" },
      value: 200.5,
      expected: "swap_used_mb > 0 and swap_rise_mb > 0",
      received: "swap_used_mb = 200.5, swap_rise_mb = 100.5",
      message: `rising: swap 200.5 MiB used (19.58 %), up 100.5 MiB since ${ago(14)}`,
    });
  });

  it("compares samples of one source only: the one that sampled last", async () => {
    await fresh();
    await store.insert("sys_samples", [
      sample("m", 10, { swap_used_bytes: 100 * MiB }),
      sample("m", 3, { swap_used_bytes: 300 * MiB }), // sysprobe: rising…
      sample("m", 8, { source: "sysmoni", swap_used_bytes: 300 * MiB }),
      sample("m", 1, { source: "sysmoni", swap_used_bytes: 300 * MiB }), // …but sysmoni sampled last: flat
    ]);
    expect(await findings(swapRising)).toEqual([]);
  });

  it("takes a minimum rise from the config", async () => {
    await fresh();
    await store.insert("sys_samples", [sample("m", 10, { swap_used_bytes: 100 * MiB }), sample("m", 1, { swap_used_bytes: 164 * MiB })]);
    const rule = (min: number) => defaultRules({ swap_rising: { min_rise_mb: min } }).find((r) => r.id === "swap_rising")!;
    expect(await findings(rule(64))).toEqual([]);
    expect((await briefs(rule(63.9)))[0]!.received).toBe("swap_used_mb = 164, swap_rise_mb = 64");
  });
});

describe("oom_kill", () => {
  it("fires when the counter grew between a machine's two newest samples, counting kills since a reboot", async () => {
    await fresh();
    await store.insert("sys_samples", [
      sample("killed", 5, { oom_kills: 3 }),
      sample("killed", 3, { oom_kills: 5 }),
      sample("killed", 1, { oom_kills: 7 }),
      sample("killed", 0.5, { source: "sysmoni" }), // sysmoni has no counter: its samples do not count
      sample("calm", 3, { oom_kills: 7 }),
      sample("calm", 1, { oom_kills: 7 }),
      sample("rebooted", 3, { oom_kills: 9 }),
      sample("rebooted", 1, { oom_kills: 1 }),
      sample("rebooted-clean", 3, { oom_kills: 9 }),
      sample("rebooted-clean", 1, { oom_kills: 0 }),
      sample("outage", 300, { oom_kills: 0 }), // the previous sample may be hours old…
      sample("outage", 1, { oom_kills: 4 }),
      sample("gone", 20, { oom_kills: 0 }),
      sample("gone", 16, { oom_kills: 4 }), // …the newest may not
      sample("single", 1, { oom_kills: 12 }),
      sample("later", 1, { oom_kills: 0 }),
      sample("later", -1, { oom_kills: 4 }), // after the instant: unseen
    ]);
    expect(await briefs(oomKill)).toEqual([
      {
        labels: { machine_id: "killed" },
        value: 2,
        expected: "new_oom_kills > 0",
        received: "new_oom_kills = 2",
        message: `killed: the kernel OOM-killed 2 process(es) between ${ago(3)} and ${ago(1)}`,
      },
      {
        labels: { machine_id: "outage" },
        value: 4,
        expected: "new_oom_kills > 0",
        received: "new_oom_kills = 4",
        message: `outage: the kernel OOM-killed 4 process(es) between ${ago(300)} and ${ago(1)}`,
      },
      {
        labels: { machine_id: "rebooted" },
        value: 1,
        expected: "new_oom_kills > 0",
        received: "new_oom_kills = 1",
        message: `rebooted: the kernel OOM-killed 1 process(es) between ${ago(3)} and ${ago(1)}`,
      },
    ]);
  });

  it("keeps firing for 30 min after the last kill seen", async () => {
    await fresh();
    await store.insert("sys_samples", [
      sample("m", 3, { oom_kills: 0 }),
      sample("m", 1, { oom_kills: 1 }),
      sample("m", -1, { oom_kills: 1 }), // no more kills
      sample("m", -20, { oom_kills: 1 }),
    ]);
    expect(eventsOf(await step([oomKill], AT))).toEqual(["firing oom_kill m"]);
    expect(await findings(oomKill, at(2))).toEqual([]);
    expect(await step([oomKill], at(2))).toEqual([]);
    expect(await step([oomKill], at(29))).toEqual([]);
    const [a] = await store.query<{ state: string }>("SELECT state FROM alerts");
    expect(a!.state).toBe("firing");
    expect(eventsOf(await step([oomKill], at(30)))).toEqual(["resolved oom_kill m"]);
  });
});

describe("inotify_high", () => {
  it("fires above 90 % of the watch or instance limit, not at 90 %", async () => {
    await fresh();
    const ino = (machine_id: string, extra: Record<string, unknown>, minutesAgo = 1) => sample(machine_id, minutesAgo, { source: "sysmoni", ...extra });
    await store.insert("sys_samples", [
      ino("watched", { inotify_watches: 9001, inotify_max_user_watches: 10000, inotify_instances: 10, inotify_max_user_instances: 128 }),
      ino("edge", { inotify_watches: 9000, inotify_max_user_watches: 10000, inotify_instances: 115, inotify_max_user_instances: 128 }),
      ino("instances", { inotify_watches: null, inotify_max_user_watches: 10000, inotify_instances: 116, inotify_max_user_instances: 128 }),
      ino("unknown", { inotify_watches: null, inotify_max_user_watches: 10000, inotify_instances: null, inotify_max_user_instances: 128 }),
      ino("gone", { inotify_watches: 9999, inotify_max_user_watches: 10000 }, 16),
      sample("probeonly", 1, { load5: 1 }), // no inotify data at all
    ]);
    expect(await briefs(inotifyHigh)).toEqual([
      {
        labels: { machine_id: "instances" },
        value: 90.63,
        expected: "used_pct > 90",
        received: "used_pct = 90.63",
        message: "instances: inotify instances at 90.63 % of the per-user limit (watches ?/10000, instances 116/128)",
      },
      {
        labels: { machine_id: "watched" },
        value: 90.01,
        expected: "used_pct > 90",
        received: "used_pct = 90.01",
        message: "watched: inotify watches at 90.01 % of the per-user limit (watches 9001/10000, instances 10/128)",
      },
    ]);
  });
});

describe("machine_unreachable", () => {
  const state = (machine_id: string, collector: string, minutesAgo: number, result: string, error: string | null, failures: number, okMinutesAgo: number | null) => ({
    machine_id,
    collector,
    last_run_at: ago(minutesAgo),
    last_result: result,
    last_error: error,
    consecutive_failures: failures,
    last_ok_at: okMinutesAgo === null ? null : ago(okMinutesAgo),
  });
  const unreachable = (id: string) => `machine ${id} unreachable: connect ECONNREFUSED 10.0.0.9:22`;

  async function seed() {
    await fresh();
    await store.insert("machines", [{ machine_id: "never", ssh_target: "x", allow_write_commands: false, allow_autopilot: false, first_seen_at: ago(9), last_seen_at: ago(1) }]);
    await store.insert("collector_state", [
      // 3 polls in a row could not connect; the last success was 7 min ago
      state("down", "sysprobe", 1, "failed", unreachable("down"), 3, 7),
      state("down", "dcg", 1.01, "failed", unreachable("down"), 3, 7.01),
      state("down", "ru", 8, "ok", null, 0, 8), // every 5 min: its last run was before the outage
      // only two polls so far
      state("blip", "sysprobe", 1, "failed", unreachable("blip"), 2, 5),
      // reachable: its tool fails, not the connection
      state("broken", "sysprobe", 1, "failed", "exit 1: no such file", 9, 60),
      // was unreachable, connected again on the newest poll
      state("back", "sysprobe", 3, "failed", unreachable("back"), 5, 30),
      state("back", "dcg", 1, "ok", null, 0, 1),
      // never reached since vc first saw it 9 min ago
      state("never", "sysprobe", 1, "failed", unreachable("never"), 4, null),
      // vc stopped polling it 40 min ago: not judged
      state("dropped", "sysprobe", 40, "failed", unreachable("dropped"), 12, 80),
      // a skipped collector says nothing about the connection
      state("skippy", "beads", 1, "skipped", "no bv on PATH", 0, null),
    ]);
  }

  it("fires when the newest runs could not connect, 3 polls in a row, not after 2, not for other failures", async () => {
    await seed();
    expect(await briefs(machineUnreachable)).toEqual([
      {
        labels: { machine_id: "down" },
        value: 7,
        expected: "unreachable is true and failed_attempts >= 3",
        received: "unreachable = true, failed_attempts = 3",
        message: `down unreachable for 3 polls, nothing collected for 7 min: ${unreachable("down")}`,
      },
      {
        labels: { machine_id: "never" },
        value: 9,
        expected: "unreachable is true and failed_attempts >= 3",
        received: "unreachable = true, failed_attempts = 4",
        message: `never unreachable for 4 polls, nothing collected for 9 min: ${unreachable("never")}`,
      },
    ]);
    expect(machineUnreachable.inhibitsMachine).toBe(true);
  });

  it("inhibits the machine's other alerts while it fires", async () => {
    await seed();
    await store.insert("filesystems", [
      { machine_id: "down", collected_at: ago(8), mount: "/", used_pct: 95, size_bytes: GiB, avail_bytes: 0.05 * GiB },
      { machine_id: "broken", collected_at: ago(1), mount: "/", used_pct: 95, size_bytes: GiB, avail_bytes: 0.05 * GiB },
    ]);
    const events = await step([machineUnreachable, diskLow], AT);
    const id = fingerprint("machine_unreachable", { machine_id: "down" });
    expect(eventsOf(events).sort()).toEqual([
      "firing disk_low broken",
      `firing disk_low down (inhibited:${id})`,
      "firing machine_unreachable down",
      "firing machine_unreachable never",
    ]);
  });
});

describe("dcg_deny_spike", () => {
  let n = 0;
  const ev = (machine_id: string, minutesAgo: number, decision: string, rule_id: string | null, extra: Record<string, unknown> = {}) => ({
    machine_id,
    collected_at: ago(Math.max(minutesAgo - 0.5, 0)),
    event_key: `k${n++}`,
    ts: ago(minutesAgo),
    decision,
    rule_id,
    pack_id: rule_id?.split(":")[0] ?? null,
    origin: "decision_log",
    ...extra,
  });

  it("fires above 10 denies in the hour before, not at 10, counting only denies seen by then", async () => {
    await fresh();
    const spike = [
      ...Array.from({ length: 7 }, (_, i) => ev("spiky", 59 - i, "deny", "core.git:reset-hard")),
      ...Array.from({ length: 4 }, (_, i) => ev("spiky", 20 - i, "deny", "core.filesystem:rm-rf-general")),
    ];
    const edge = [
      ...Array.from({ length: 10 }, (_, i) => ev("edge", 50 - i, "deny", "core.git:reset-hard")),
      ev("edge", 61, "deny", "core.git:reset-hard"), // over an hour ago
      ev("edge", 5, "warn", "core.git:stash-drop"), // not a deny
      ev("edge", 2, "deny", "core.git:reset-hard", { collected_at: at(1) }), // collected after the instant
      ev("edge", -1, "deny", "core.git:reset-hard"), // after the instant
    ];
    await store.insert("dcg_events", [...spike, ...edge]);
    expect(await briefs(dcgDenySpike)).toEqual([
      {
        labels: { machine_id: "spiky" },
        value: 11,
        expected: "denies_1h > 10",
        received: "denies_1h = 11",
        message: "spiky: dcg denied 11 commands in the last hour (2 rules; most: core.git:reset-hard, 7×)",
      },
    ]);
  });
});

describe("dcg_new_rule", () => {
  let n = 0;
  const ev = (machine_id: string, minutesAgo: number, decision: string, rule_id: string | null, reason: string | null = null) => ({
    machine_id,
    collected_at: ago(Math.max(minutesAgo - 0.5, 0)),
    event_key: `n${n++}`,
    ts: ago(minutesAgo),
    decision,
    rule_id,
    origin: "history_db",
    reason,
  });

  it("fires for a rule id denying for the first time on a machine, not for one seen before the hour", async () => {
    await fresh();
    await store.insert("dcg_events", [
      ev("a", 10, "deny", "core.git:reset-hard", "git reset --hard destroys uncommitted changes"),
      ev("a", 4, "deny", "core.git:reset-hard", "git reset --hard destroys uncommitted changes."),
      ev("a", 120, "warn", "core.filesystem:rm-rf-general"), // seen (as a warning) two hours ago
      ev("a", 10, "deny", "core.filesystem:rm-rf-general"),
      ev("a", 61, "deny", "core.git:push-force"), // first seen just over an hour ago
      ev("a", 30, "deny", "core.git:push-force"),
      ev("a", 5, "warn", "core.git:stash-drop"), // new, but a warning
      ev("a", 5, "deny", null), // no rule id
      ev("b", 120, "deny", "core.git:reset-hard"), // known on b
      ev("b", 3, "deny", "core.git:reset-hard"),
      ev("a", 25 * 60, "allow", "core.misc:baseline"), // a's dcg history reaches back over a day
      ev("b", 25 * 60, "allow", "core.misc:baseline"),
      ev("c", 5, "deny", "core.git:reset-hard"), // c's history starts today: no baseline, nothing is "new"
    ]);
    expect(await briefs(dcgNewRule)).toEqual([
      {
        labels: { machine_id: "a", rule_id: "core.git:reset-hard" },
        value: 2,
        expected: "denies_1h > 0",
        received: "denies_1h = 2",
        message: `a: dcg rule core.git:reset-hard denied for the first time (2× since ${ago(10)}): git reset --hard destroys uncommitted changes.`,
      },
    ]);
  });

  it("stops finding it once its first deny is over an hour old", async () => {
    await fresh();
    await store.insert("dcg_events", [ev("a", 10, "deny", "core.git:reset-hard"), ev("a", 25 * 60, "allow", "core.misc:baseline")]);
    expect(await findings(dcgNewRule)).toHaveLength(1);
    expect(await findings(dcgNewRule, at(51))).toEqual([]);
  });
});

describe("rano_unknown_domain", () => {
  let n = 0;
  const ev = (minutesAgo: number, event: string, provider: string | null, domain: string | null, comm = "node") => ({
    machine_id: "m",
    collected_at: ago(Math.max(minutesAgo - 0.5, 0)),
    event_key: `r${n++}`,
    ts: ago(minutesAgo),
    event,
    provider,
    domain,
    comm,
  });

  it("fires per domain that rano could not attribute to a provider, in the last hour", async () => {
    await fresh();
    await store.insert("rano_events", [
      ev(30, "connect", "unknown", "paste.example.net", "node"),
      ev(20, "connect", "unknown", "paste.example.net", "curl"),
      ev(19, "close", "unknown", "paste.example.net", "curl"), // closes are not connections
      ev(10, "connect", null, "telemetry.example.org", "python3"),
      ev(10, "connect", "openai", "api.openai.com"),
      ev(10, "connect", "unknown", null), // no domain: nothing to name
      ev(10, "connect", "unknown", ""),
      ev(61, "connect", "unknown", "old.example.com"), // over an hour ago
    ]);
    expect(await briefs(ranoUnknownDomain)).toEqual([
      {
        labels: { machine_id: "m", domain: "paste.example.net" },
        value: 2,
        expected: "connections > 0",
        received: "connections = 2",
        message: `m: 2 connection(s) to paste.example.net (no known provider) by curl, node in the last hour, last at ${ago(20)}`,
      },
      {
        labels: { machine_id: "m", domain: "telemetry.example.org" },
        value: 1,
        expected: "connections > 0",
        received: "connections = 1",
        message: `m: 1 connection(s) to telemetry.example.org (no known provider) by python3 in the last hour, last at ${ago(10)}`,
      },
    ]);
  });
});

describe("mail rules", () => {
  const msg = (machine_id: string, project_id: string, message_id: number, minutesAgo: number, importance: string, ack_required: boolean) => ({
    machine_id,
    collected_at: ago(Math.max(minutesAgo - 1, 0)),
    project_id,
    project_key: `/data/projects/${project_id}`,
    message_id,
    created_ts: ago(minutesAgo),
    importance,
    ack_required,
    sender: "BlueLake",
    subject: `m${message_id}`,
  });
  const rcpt = (machine_id: string, project_id: string, message_id: number, minutesAgo: number, recipient: string, read?: number, ack?: number) => ({
    machine_id,
    collected_at: ago(Math.max(Math.min(minutesAgo - 1, read ?? Infinity, ack ?? Infinity), 0)),
    project_id,
    message_id,
    message_created_ts: ago(minutesAgo),
    recipient,
    kind: "to",
    state: `${read === undefined ? "unread" : "read"}${ack === undefined ? "" : "+acked"}`,
    read_ts: read === undefined ? null : ago(read),
    ack_ts: ack === undefined ? null : ago(ack),
  });
  const fresh30 = (machine_id: string, okMinutesAgo: number) => ({
    machine_id,
    collector: "mcp_agent_mail",
    last_run_at: ago(okMinutesAgo),
    last_result: "ok",
    last_ok_at: ago(okMinutesAgo),
    consecutive_failures: 0,
  });

  it("mail_urgent_backlog fires above 5 urgent unread deliveries per project, not at 5", async () => {
    await fresh();
    await store.insert("collector_state", [fresh30("a", 2), fresh30("stale", 40)]);
    const messages = [];
    const recipients = [];
    // p1: 3 urgent messages to 2 agents each = 6 unread deliveries
    for (const id of [1, 2, 3]) {
      messages.push(msg("a", "p1", id, 30 + id, "urgent", false));
      recipients.push(rcpt("a", "p1", id, 30 + id, "GreenCastle"), rcpt("a", "p1", id, 30 + id, "RedPond"));
    }
    // p2: 5 unread, plus one read, one read only after the instant (unread then), one normal
    for (const id of [11, 12, 13, 14]) {
      messages.push(msg("a", "p2", id, 20, "urgent", false));
      recipients.push(rcpt("a", "p2", id, 20, "GreenCastle"));
    }
    messages.push(msg("a", "p2", 15, 20, "urgent", false), msg("a", "p2", 16, 20, "normal", false));
    recipients.push(rcpt("a", "p2", 15, 20, "RedPond", 10), rcpt("a", "p2", 15, 20, "GreenCastle", -5), rcpt("a", "p2", 16, 20, "RedPond"));
    // the same backlog as p1 on a machine whose mail was last collected 40 min ago
    for (const id of [1, 2, 3, 4, 5, 6, 7]) {
      messages.push(msg("stale", "p1", id, 60, "urgent", false));
      recipients.push(rcpt("stale", "p1", id, 60, "GreenCastle"));
    }
    await store.insert("mail_messages", messages);
    await store.insert("mail_recipients", recipients);
    expect(await briefs(mailUrgentBacklog)).toEqual([
      {
        labels: { machine_id: "a", project_id: "p1" },
        value: 6,
        expected: "urgent_unread > 5",
        received: "urgent_unread = 6",
        message: `a: 6 urgent deliveries unread in /data/projects/p1 (2 agents; oldest from ${ago(33)})`,
      },
    ]);
    // the read after the instant: one more unread on p2 makes 6 once the read is not seen yet
    const p2 = await store.query<{ urgent_unread: number }>(sql`SELECT urgent_unread FROM (${mailUrgentBacklog.source.sql(AT)}) WHERE project_id = 'p2'`);
    expect(p2).toEqual([{ urgent_unread: 5 }]);
  });

  it("mail_ack_overdue fires above 3 deliveries unacked for over an hour, not at 3", async () => {
    await fresh();
    await store.insert("collector_state", [fresh30("a", 2)]);
    const messages = [];
    const recipients = [];
    // p1: 4 ack-required deliveries, 61–64 min old, unacked (one acked only after the instant)
    for (const id of [1, 2, 3]) {
      messages.push(msg("a", "p1", id, 60 + id, "normal", true));
      recipients.push(rcpt("a", "p1", id, 60 + id, "GreenCastle", 50));
    }
    messages.push(msg("a", "p1", 4, 64, "high", true));
    recipients.push(rcpt("a", "p1", 4, 64, "RedPond", 40, -2));
    // p2: 3 overdue, one 59 min old (not yet overdue), one acked, one not ack-required
    for (const id of [11, 12, 13]) {
      messages.push(msg("a", "p2", id, 90, "normal", true));
      recipients.push(rcpt("a", "p2", id, 90, "GreenCastle"));
    }
    messages.push(msg("a", "p2", 14, 59, "normal", true), msg("a", "p2", 15, 90, "normal", true), msg("a", "p2", 16, 90, "normal", false));
    recipients.push(rcpt("a", "p2", 14, 59, "GreenCastle"), rcpt("a", "p2", 15, 90, "GreenCastle", 80, 70), rcpt("a", "p2", 16, 90, "GreenCastle"));
    await store.insert("mail_messages", messages);
    await store.insert("mail_recipients", recipients);
    expect(await briefs(mailAckOverdue)).toEqual([
      {
        labels: { machine_id: "a", project_id: "p1" },
        value: 4,
        expected: "overdue > 3",
        received: "overdue = 4",
        message: "a: 4 ack-required deliveries in /data/projects/p1 unacknowledged for over 1 h (2 agents; oldest 1.1 h)",
      },
    ]);
    // an hour later the 59-minute message is overdue too (p2 reaches 4) and p1's late ack is seen (down to 3)
    await store.run(sql`UPDATE collector_state SET last_ok_at = ${at(58)}::TIMESTAMP, last_run_at = ${at(58)}::TIMESTAMP`);
    expect((await briefs(mailAckOverdue, at(60))).map((b) => [b.labels.project_id, b.value])).toEqual([["p2", 4]]);
  });
});

describe("rch_queue_saturated", () => {
  it("fires above 10 queued builds with no worker available, not at 10, not with a worker free", async () => {
    await fresh();
    const snap = (machine_id: string, minutesAgo: number, queue_depth: number, workers_available: number) => ({
      machine_id,
      collected_at: ago(minutesAgo),
      success: true,
      daemon_state: "running",
      posture: "degraded",
      queue_depth,
      workers_available,
      workers_total: 3,
      workers_healthy: 1,
    });
    await store.insert("rch_status_snapshots", [
      snap("jammed", 1, 11, 0),
      snap("edge", 1, 10, 0),
      snap("busy", 1, 50, 1),
      snap("gone", 16, 50, 0),
      snap("drained", 5, 40, 0),
      snap("drained", 1, 0, 0),
    ]);
    expect(await briefs(rchQueueSaturated)).toEqual([
      {
        labels: { machine_id: "jammed" },
        value: 11,
        expected: "queue_depth > 10 and workers_available = 0",
        received: "queue_depth = 11, workers_available = 0",
        message: "jammed: 11 builds queued and no rch worker available (1 of 3 healthy, posture degraded)",
      },
    ]);
  });
});

describe("cass_index_stale", () => {
  it("fires when the index is over 24 h old at the instant, not at 24 h", async () => {
    await fresh();
    const h = 60;
    await store.insert("cass_index_status", [
      { machine_id: "stale", collected_at: ago(2), state: "healthy", index_status: "ready", last_index_at: ago(24 * h + 0.6) },
      { machine_id: "edge", collected_at: ago(2), state: "healthy", index_status: "ready", last_index_at: ago(24 * h) },
      // no last index time: its age when collected plus the time since
      { machine_id: "aged", collected_at: ago(12), state: "degraded", index_status: "stale", freshness_seconds: 86_000 },
      { machine_id: "gone", collected_at: ago(31), state: "healthy", index_status: "ready", last_index_at: ago(48 * h) },
    ]);
    expect(await briefs(cassIndexStale)).toEqual([
      {
        labels: { machine_id: "aged" },
        value: 24.09,
        expected: "index_age_hours > 24",
        received: "index_age_hours = 24.09",
        message: "aged: cass index last refreshed 24.09 h ago (index stale, cass degraded)",
      },
      {
        labels: { machine_id: "stale" },
        value: 24.01,
        expected: "index_age_hours > 24",
        received: "index_age_hours = 24.01",
        message: "stale: cass index last refreshed 24.01 h ago (index ready, cass healthy)",
      },
    ]);
  });
});

describe("dirty_repos", () => {
  it("fires above 10 dirty repos in a machine's newest ru status, not at 10", async () => {
    await fresh();
    const repos = (machine_id: string, minutesAgo: number, dirty: number, clean: number) =>
      Array.from({ length: dirty + clean }, (_, i) => ({
        machine_id,
        collected_at: ago(minutesAgo),
        repo_id: `github.com/acme/r${String(i).padStart(2, "0")}`,
        repo: `acme/r${String(i).padStart(2, "0")}`,
        dirty: i < dirty,
        status: "current",
      }));
    await store.insert("repo_status_snapshots", [
      ...repos("messy", 3, 11, 1),
      ...repos("edge", 3, 10, 5),
      ...repos("cleaned", 20, 30, 0),
      ...repos("cleaned", 3, 2, 28),
      ...repos("gone", 31, 30, 0),
    ]);
    expect(await briefs(dirtyRepos)).toEqual([
      {
        labels: { machine_id: "messy" },
        value: 11,
        expected: "dirty_repos > 10",
        received: "dirty_repos = 11",
        message: "messy: 11 of 12 repos have uncommitted changes (e.g. acme/r00, acme/r01, acme/r02, acme/r03, acme/r04)",
      },
    ]);
  });
});

describe("account_usage_high", () => {
  it("fires at 85 % of a window, per provider, account and window, from caut and caam", async () => {
    await fresh();
    const usage = (machine_id: string, minutesAgo: number, provider: string, account: string, window_name: string, used_percent: number, resetsIn = 120) => ({
      machine_id,
      collected_at: ago(minutesAgo),
      provider,
      account,
      window_name,
      used_percent,
      window_minutes: window_name === "primary" ? 300 : 10080,
      resets_at: at(resetsIn),
    });
    await store.insert("account_usage_snapshots", [
      usage("a", 2, "claude", "me@example.com", "primary", 85),
      usage("a", 2, "claude", "me@example.com", "secondary", 84.99),
      usage("b", 10, "codex", "team@example.com", "primary", 97), // an older reading of the same account…
      usage("a", 3, "codex", "team@example.com", "primary", 40), // …the newest wins
      usage("a", 2, "gemini", "", "primary", 99, -1), // the window reset a minute ago
      usage("a", 31, "claude", "old@example.com", "primary", 99), // stale
    ]);
    await store.insert("account_limits_snapshot", [
      {
        machine_id: "b",
        collected_at: ago(1),
        provider: "claude",
        profile: "work",
        window_name: "secondary",
        utilization: 0.912,
        utilization_pct: 91.2,
        window_minutes: 10080,
        resets_at: at(3000),
      },
      // caam gives no length for some windows: the message leaves it out rather than saying "null".
      {
        machine_id: "b",
        collected_at: ago(1),
        provider: "claude",
        profile: "work",
        window_name: "tertiary",
        utilization: 0.9,
        utilization_pct: 90,
        window_minutes: null,
        resets_at: at(3000),
      },
    ]);
    expect(await briefs(accountUsageHigh)).toEqual([
      {
        labels: { provider: "claude", account: "me@example.com", window_name: "primary" },
        value: 85,
        expected: "used_pct >= 85",
        received: "used_pct = 85",
        message: `claude account me@example.com: 85 % of its primary window (300 min) used, resets ${at(120)} (from caut on a 85 %)`,
      },
      {
        labels: { provider: "claude", account: "work", window_name: "secondary" },
        value: 91.2,
        expected: "used_pct >= 85",
        received: "used_pct = 91.2",
        message: `claude account work: 91.2 % of its secondary window (10080 min) used, resets ${at(3000)} (from caam profile work on b 91.2 %)`,
      },
      {
        labels: { provider: "claude", account: "work", window_name: "tertiary" },
        value: 90,
        expected: "used_pct >= 85",
        received: "used_pct = 90",
        message: `claude account work: 90 % of its tertiary window used, resets ${at(3000)} (from caam profile work on b 90 %)`,
      },
    ]);
    const f = await findings(accountUsageHigh);
    expect(f.map((x) => x.machine_id).sort()).toEqual(["a", "b", "b"]);
    expect(f[0]!.actions.map((a) => a.command)).toEqual(["vc robot accounts", "caam limits --format json", "caam recommend"]);
  });

  it("raises one alert per account and window from caut and caam's real outputs, both as its evidence", async () => {
    // caut names the Claude account jeff@flywheel.dev; caam's profile "work" holds the same windows,
    // and caam status says claude's active profile "work" is jeff@flywheel.dev. caam's codex profile
    // "main" is near its limit too, an account no tool names by email.
    store = await createTestStore([caut(), caam()]);
    const orko = createFakeMachine({
      id: "orko",
      tools: {
        caut: { "usage --json": fixture("caut", "usage.json") },
        caam: { "limits --format json": fixture("caam", "limits.format-json.json"), "status --json": fixture("caam", "status.json") },
      },
    });
    // trj reads the same account with caut alone, earlier: one alert still, the newest reading its value.
    const older = JSON.parse(fixture("caut", "usage.json"));
    older.data = older.data.filter((p: { provider: string }) => p.provider === "claude");
    older.data[0].usage.primary.usedPercent = 86;
    const trj = createFakeMachine({ id: "trj", tools: { caut: { "usage --json": JSON.stringify(older) } } });
    try {
      expect((await runOnce({ store, collector: caut(), machine: trj, clock: createFixedClock("2026-08-20T15:05:00Z") })).result).toBe("ok");
      for (const c of [caut(), caam()]) expect((await runOnce({ store, collector: c, machine: orko, clock: createFixedClock("2026-08-20T15:10:00Z") })).result).toBe("ok");
    } finally {
      await orko.close();
      await trj.close();
    }
    const when = "2026-08-20T15:12:00.000Z";
    const found = (await findings(accountUsageHigh, when)).sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
    expect(found.map((f) => [f.labels, f.value, f.machine_id, f.row.tools, f.row.evidence])).toEqual([
      [{ provider: "claude", account: "jeff@flywheel.dev", window_name: "primary" }, 87, "orko", "caut+caam", "caut on orko 87 %, caam profile work on orko 87 %"],
      [{ provider: "claude", account: "jeff@flywheel.dev", window_name: "tertiary" }, 91, "orko", "caut+caam", "caut on orko 91 %, caam profile work on orko 91 %"],
      [{ provider: "codex", account: "main", window_name: "primary" }, 96, "orko", "caam", "caam profile main on orko 96 %"],
      [{ provider: "codex", account: "main", window_name: "secondary" }, 88, "orko", "caam", "caam profile main on orko 88 %"],
    ]);
    expect(found[0]!.message).toBe(
      "claude account jeff@flywheel.dev: 87 % of its primary window (300 min) used, resets 2026-08-20T16:59:59.652Z (from caut on orko 87 %, caam profile work on orko 87 %)",
    );
    expect(found[0]!.row).toMatchObject({ caut_used_pct: 87, caut_machine_id: "orko", caam_profile: "work", caam_used_pct: 87, caam_machine_id: "orko" });
    // Through a poll cycle's alert lifecycle: four alerts fire (six before: each tool its own), two for the Claude account.
    const config = await resolveConfig(
      {
        machines: [
          { id: "orko", ssh: "local" },
          { id: "trj", ssh: "local" },
        ],
        rules: [accountUsageHigh],
      },
      { source: "t", env: {} },
    );
    const outcome = await finishCycle({ store, config, clock: createFixedClock(when), rules: config.rules, channels: [] });
    expect(outcome.ruleErrors).toEqual([]);
    expect(outcome.ruleWarnings).toEqual([]);
    const firing = outcome.events.filter((e) => e.event === "firing");
    expect(firing).toHaveLength(4);
    expect(firing.filter((e) => e.message?.startsWith("claude account"))).toHaveLength(2);
  });
});
