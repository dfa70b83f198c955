import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  applyFindings,
  conditionSql,
  createFixedClock,
  defineChannel,
  defineRule,
  defineSource,
  deliverEvents,
  describeCondition,
  evaluateRule,
  explainAlert,
  finishCycle,
  gt,
  healthAt,
  listAlerts,
  ackAlert,
  silenceAlerts,
  mul,
  col,
  renderSql,
  resolveConfig,
  sql,
  threshold,
  withThresholds,
  and,
  lt,
  type AlertEvent,
  type Rule,
  type Store,
} from "../../lib/index.ts";
import { alertsJsonl, slackPayload, webhook } from "../../plugins/channels/index.ts";
import { createTestStore } from "../../lib/testkit.ts";

const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});
async function store() {
  const s = await createTestStore();
  stores.push(s);
  return s;
}

// A source over sys_samples: the sample taken exactly at `at` (tests step time by hand).
const loadNow = defineSource({
  name: "load_now",
  description: "load1 of each machine at the evaluation instant",
  sql: (at) => sql`SELECT machine_id, load1, cpu_cores FROM sys_samples WHERE collected_at = ${at}::TIMESTAMP`,
});
const rule = (extra: Record<string, unknown> = {}) =>
  defineRule({
    id: "load_test",
    severity: "high",
    title: "Load high",
    source: loadNow,
    when: gt("load1", mul(col("cpu_cores"), threshold("per_core", 1.5))),
    labels: ["machine_id"],
    value: "load1",
    message: "load {load1} on {machine_id}",
    actions: [{ title: "Look", command: "vc robot machine {machine_id}" }],
    ...extra,
  });

const T0 = Date.parse("2026-01-25T03:00:00Z");
const at = (min: number) => new Date(T0 + min * 60_000);

async function step(s: Store, r: ReturnType<typeof rule>, min: number, loads: Record<string, number>, opts: { flapTransitions?: number } = {}): Promise<AlertEvent[]> {
  const when = at(min);
  await s.insert(
    "sys_samples",
    Object.entries(loads).map(([machine_id, load1]) => ({ machine_id, collected_at: when, source: "t", load1, cpu_cores: 4 })),
  );
  const result = await evaluateRule(s, r, when.toISOString());
  return s.transaction((tx) => applyFindings(tx, [result], { at: when, flapTransitions: opts.flapTransitions }));
}

describe("rule DSL", () => {
  it("renders conditions as parameterised SQL and as text, thresholds filled in", () => {
    const c = and(gt("load1", mul(col("cpu_cores"), threshold("per_core", 1.5))), lt("load1", 1000));
    expect(describeCondition(c)).toBe("load1 > cpu_cores × 1.5 and load1 < 1000");
    expect(describeCondition(c, { per_core: 2 })).toBe("load1 > cpu_cores × 2 and load1 < 1000");
    const { text, params } = renderSql(conditionSql(c, { per_core: 2 }));
    expect(text).toBe('(("load1" > ("cpu_cores" * $1)) AND ("load1" < $2))');
    expect(params).toEqual([2, 1000]);
  });

  it("overrides thresholds by name and refuses an unknown one", () => {
    expect((withThresholds(rule(), { per_core: 3 }) as Rule).thresholds).toEqual({ per_core: 3 });
    expect(() => withThresholds(rule(), { nope: 1 })).toThrow('rule load_test has no threshold "nope"');
    expect(() => defineRule({ ...rule(), id: "Bad Id" })).toThrow("lower-case");
  });

  it("returns findings as data: labels, value, expected, received, message, actions", async () => {
    const s = await store();
    await s.insert("sys_samples", [
      { machine_id: "a", collected_at: at(0), source: "t", load1: 7, cpu_cores: 4 },
      { machine_id: "b", collected_at: at(0), source: "t", load1: 5.9, cpu_cores: 4 },
    ]);
    const r = await evaluateRule(s, rule(), at(0).toISOString());
    expect(r.error).toBeUndefined();
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({
      rule: "load_test",
      labels: { machine_id: "a" },
      machine_id: "a",
      value: 7,
      expected: "load1 > cpu_cores × 1.5",
      received: "load1 = 7, cpu_cores = 4",
      message: "load 7 on a",
      actions: [{ title: "Look", command: "vc robot machine a" }],
    });
    const broken = await evaluateRule(s, { ...rule(), source: defineSource({ name: "x", description: "", sql: () => sql`SELECT * FROM no_such_table` }) }, at(0).toISOString());
    expect(broken.error).toContain("no_such_table");
  });
});

describe("alert lifecycle", () => {
  it("goes pending, then firing after `for`, then resolved; one alert per label set", async () => {
    const s = await store();
    const r = rule({ for: "10m" });
    expect(await step(s, r, 0, { a: 9 })).toEqual([]); // pending
    expect((await listAlerts(s, { at: at(0).toISOString() }))[0]).toMatchObject({ state: "pending" });
    expect(await step(s, r, 5, { a: 9 })).toEqual([]);
    const fired = await step(s, r, 10, { a: 9 });
    expect(fired.map((e) => [e.event, e.alert_id, e.suppressed_by])).toEqual([["firing", expect.stringMatching(/^load_test:/), null]]);
    expect(await step(s, r, 12, { a: 10 })).toEqual([]); // still firing: no new notification
    const resolved = await step(s, r, 14, { a: 1 });
    expect(resolved.map((e) => e.event)).toEqual(["resolved"]);
    const [row] = await s.query<{ n: number }>("select count(*)::INTEGER n from alerts");
    expect(row!.n).toBe(1);
    const history = await s.query<{ event: string; notified: boolean }>("select event, notified from alert_history order by ts, event");
    expect(history.map((h) => h.event)).toEqual(["pending", "firing", "resolved"]);
  });

  it("never fires a dip shorter than `for`", async () => {
    const s = await store();
    const r = rule({ for: "10m" });
    await step(s, r, 0, { a: 9 });
    await step(s, r, 5, { a: 1 }); // gone before 10 min
    expect(await step(s, r, 10, { a: 9 })).toEqual([]); // pending again, from scratch
    expect(await step(s, r, 19, { a: 9 })).toEqual([]);
    expect((await step(s, r, 20, { a: 9 })).map((e) => e.event)).toEqual(["firing"]);
  });

  it("keeps firing for keepFiringFor, and until resolveWhen holds (hysteresis)", async () => {
    const s = await store();
    const keep = rule({ keepFiringFor: "5m" });
    await step(s, keep, 0, { a: 9 });
    expect(await step(s, keep, 3, { a: 1 })).toEqual([]);
    expect((await step(s, keep, 5, { a: 1 })).map((e) => e.event)).toEqual(["resolved"]);

    const s2 = await store();
    const hyst = rule({ id: "load_hyst", resolveWhen: lt("load1", 3) });
    await step(s2, hyst, 0, { a: 9 });
    expect(await step(s2, hyst, 1, { a: 5 })).toEqual([]); // below the firing line, above the resolve line
    expect((await step(s2, hyst, 2, { a: 2 })).map((e) => e.event)).toEqual(["resolved"]);
    await step(s2, hyst, 3, { b: 9 });
    expect((await step(s2, hyst, 4, {})).map((e) => e.event)).toEqual(["resolved"]); // the source lost b's row
  });

  it("detects flapping and stops notifying each change", async () => {
    const s = await store();
    const r = rule();
    const events: AlertEvent[] = [];
    for (let i = 0; i < 8; i++) events.push(...(await step(s, r, i, { a: i % 2 === 0 ? 9 : 1 }, { flapTransitions: 4 })));
    expect(events.map((e) => e.event)).toEqual(["firing", "resolved", "firing", "flapping", "firing", "resolved", "firing", "resolved"]);
    expect(events.slice(0, 4).every((e) => e.suppressed_by === null)).toBe(true);
    expect(events.slice(4).every((e) => e.suppressed_by === "flapping")).toBe(true);
    expect((await listAlerts(s, { all: true, at: at(8).toISOString() }))[0]!.flapping).toBe(true);
  });

  it("leaves a rule's alerts alone when the rule fails to evaluate", async () => {
    const s = await store();
    await step(s, rule(), 0, { a: 9 });
    const broken = { rule: rule(), findings: [], error: "boom" };
    const events = await s.transaction((tx) => applyFindings(tx, [broken], { at: at(1) }));
    expect(events).toEqual([]);
    expect((await listAlerts(s, { at: at(1).toISOString() }))[0]!.state).toBe("firing");
  });

  it("silences by matchers (until a time, or until resolved) and records why nothing was sent", async () => {
    const s = await store();
    const r = rule();
    const sil = await silenceAlerts(s, { matchers: { rule: "load_test", machine_id: "a*" }, untilResolved: true, comment: "known", by: "ops", at: at(0) });
    const events = await step(s, r, 0, { alpha: 9, b: 9 });
    const by = Object.fromEntries(events.map((e) => [e.labels.machine_id, e.suppressed_by]));
    expect(by).toEqual({ alpha: `silence:${sil.silence_id}`, b: null });
    await step(s, r, 1, { b: 9 }); // alpha resolves: the until-resolved silence expires
    const [silence] = await s.query<{ expired_at: string | null }>("select expired_at from silences");
    expect(silence!.expired_at).toBe(at(1).toISOString());
    const refire = await step(s, r, 2, { alpha: 9, b: 9 });
    expect(refire.find((e) => e.labels.machine_id === "alpha")!.suppressed_by).toBeNull();
    await expect(silenceAlerts(s, { matchers: {}, untilResolved: true, by: "x", at: at(0) })).rejects.toThrow("at least one matcher");
    await expect(silenceAlerts(s, { matchers: { rule: "x" }, by: "x", at: at(0) })).rejects.toThrow("needs an end");
  });

  it("acks an alert for one episode, audited", async () => {
    const s = await store();
    const r = rule();
    const [fire] = await step(s, r, 0, { a: 9 });
    const acked = await ackAlert(s, fire!.alert_id.slice(0, 14), { by: "jeff", note: "on it", at: at(1) });
    expect(acked.acked).toEqual({ by: "jeff", at: at(1).toISOString(), note: "on it" });
    const audit = await s.query<{ actor: string; action: string }>("select actor, action from audit_events where event_type = 'user_command'");
    expect(audit).toEqual([{ actor: "jeff", action: `alerts ack ${fire!.alert_id}` }]);
    await step(s, r, 2, { a: 1 }); // resolves: the ack is spent
    await step(s, r, 3, { a: 9 });
    expect((await listAlerts(s, { at: at(3).toISOString() }))[0]!.acked).toBeNull();
    await expect(ackAlert(s, "nope", { by: "x", at: at(3) })).rejects.toThrow('no alert "nope"');
  });

  it("inhibits a machine's other alerts while it is unreachable", async () => {
    const s = await store();
    const unreachable = defineRule({
      id: "unreachable_test",
      severity: "critical",
      title: "Unreachable",
      inhibitsMachine: true,
      source: defineSource({ name: "u", description: "", sql: (t) => sql`SELECT machine_id, 1 AS n FROM sys_samples WHERE collected_at = ${t}::TIMESTAMP AND load1 < 0` }),
      when: gt("n", 0),
      labels: ["machine_id"],
      value: "n",
      message: "{machine_id} unreachable",
    });
    const when = at(0);
    await s.insert("sys_samples", [
      { machine_id: "a", collected_at: when, source: "t", load1: 99, cpu_cores: 4 },
      { machine_id: "a", collected_at: when, source: "u", load1: -1, cpu_cores: 4 },
    ]);
    const results = [await evaluateRule(s, unreachable, when.toISOString()), await evaluateRule(s, rule(), when.toISOString())];
    const events = await s.transaction((tx) => applyFindings(tx, results, { at: when }));
    const by = Object.fromEntries(events.map((e) => [e.rule, e.suppressed_by]));
    expect(by.unreachable_test).toBeNull();
    expect(by.load_test).toMatch(/^inhibited:unreachable_test:/);
  });

  it("explains an alert: rule, query, thresholds, values, history", async () => {
    const s = await store();
    const r = withThresholds(rule(), { per_core: 2 });
    const [fire] = await step(s, r, 0, { a: 9 });
    const x = await explainAlert(s, [r], fire!.alert_id);
    expect(x.rule).toMatchObject({ id: "load_test", when: "load1 > cpu_cores × 2", thresholds: { per_core: 2 }, for: "0s", labels: ["machine_id"] });
    expect(x.rule!.query!.sql).toContain('WHERE ("load1" > ("cpu_cores" * $2))');
    expect(x.values).toMatchObject({ expected: "load1 > cpu_cores × 2", received: "load1 = 9, cpu_cores = 4", value: 9 });
    expect(x.history.map((h) => (h as { event: string }).event)).toEqual(["firing"]);
  });
});

describe("delivery", () => {
  it("writes one alerts.jsonl line per state change, and a webhook retried with backoff", async () => {
    const s = await store();
    let calls = 0;
    const bodies: unknown[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        calls++;
        if (calls <= 2) return new Response("busy", { status: 503 });
        bodies.push(await req.json());
        return new Response("ok");
      },
    });
    try {
      const dir = s.dir;
      const events = await step(s, rule(), 0, { a: 9 });
      const clock = createFixedClock(at(0));
      const reports = await deliverEvents({
        store: s,
        clock,
        channels: [alertsJsonl({ path: join(dir, "alerts.jsonl") }), webhook({ url: `http://127.0.0.1:${server.port}/hook`, attempts: 4, backoffMs: 10 })],
        events,
        ctx: { dataDir: dir, storeFile: (n: string) => join(dir, n) },
      });
      expect(reports.map((r) => [r.channel.split(" ")[0], r.ok, r.attempts])).toEqual([
        ["alerts.jsonl", true, 1],
        ["webhook", true, 3],
      ]);
      const lines = readFileSync(join(dir, "alerts.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.event, l.rule, l.machine_id])).toEqual([["firing", "load_test", "a"]]);
      expect(bodies[0]).toEqual(slackPayload(events[0]!));
      expect((bodies[0] as { text: string }).text).toContain("HIGH Load high on a: load 9 on a");
      const attempts = await s.query("select channel, attempt, status from alert_deliveries where channel like 'webhook%' order by attempt");
      expect(attempts.map((a) => (a as { status: string }).status)).toEqual(["failed", "failed", "ok"]);
      // a channel that always fails costs only its own deliveries
      const bad = defineChannel({
        name: "bad",
        deliver: async () => {
          throw new Error("down");
        },
      });
      const r2 = await deliverEvents({ store: s, clock, channels: [bad], events, ctx: { dataDir: dir, storeFile: (n: string) => join(dir, n) } });
      expect(r2).toEqual([{ channel: "bad", event_id: events[0]!.event_id, ok: false, attempts: 1, error: "down" }]);
    } finally {
      server.stop(true);
    }
  });
});

describe("end of cycle", () => {
  it("persists health, moves alerts, delivers, and snapshots only changed states; health --at reads them", async () => {
    const s = await store();
    const config = await resolveConfig({ machines: [{ id: "a", ssh: "local" }], collectors: [] }, { source: "t", env: {} });
    const delivered: AlertEvent[] = [];
    const channel = defineChannel({ name: "mem", deliver: async (e) => void delivered.push(e) });
    const clock = createFixedClock(at(0));
    const sample = (min: number, load1: number, mem = 1) =>
      s.insert("sys_samples", [{ machine_id: "a", collected_at: at(min), source: "t", load1, load5: load1, cpu_cores: 4, mem_used_bytes: mem, mem_total_bytes: 10 }]);
    await sample(0, 9);
    const one = await finishCycle({ store: s, config, clock, rules: [rule()], channels: [channel] });
    expect(one.events.map((e) => e.event)).toEqual(["firing"]);
    expect(one.snapshots).toEqual({ fleet: true, machines: 1 });
    expect(delivered).toHaveLength(1);
    const [hf] = await s.query<{ n: number }>("select count(*)::INTEGER n from health_factors");
    expect(hf!.n).toBeGreaterThan(2);
    clock.set(at(1));
    await sample(1, 9, 9.5);
    const two = await finishCycle({ store: s, config, clock, rules: [rule()], channels: [channel] });
    expect(two.events).toEqual([]);
    expect(two.snapshots.machines).toBe(1); // memory filled up: the machine's state changed
    clock.set(at(2));
    await sample(2, 9, 9.5);
    const three = await finishCycle({ store: s, config, clock, rules: [rule()], channels: [channel] });
    expect(three.snapshots).toEqual({ fleet: false, machines: 0 }); // identical state: not repeated
    const then = await healthAt(s, at(0));
    expect(then!.collected_at).toBe(at(0).toISOString());
    expect(then!.summary.firing).toHaveLength(1);
    expect(await healthAt(s, new Date(T0 - 60_000))).toBeNull();
  });
});
