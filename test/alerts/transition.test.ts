import { afterAll, describe, expect, it } from "bun:test";
import {
  ackMuter,
  createFixedClock,
  defineRule,
  defineSource,
  finishCycle,
  fingerprint,
  firstMute,
  flappingMuter,
  gt,
  inhibitionMuter,
  loadAlerts,
  loadSilences,
  lt,
  persistTransition,
  resolveConfig,
  silenceMuter,
  sql,
  transition,
  type AlertChange,
  type AlertRow,
  type Finding,
  type Muter,
  type Rule,
  type RuleResult,
  type Silence,
  type Store,
  type TransitionOptions,
  type TransitionResult,
} from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";

// transition() is pure: these tests build findings by hand and carry the alerts from one step to the
// next the way persistTransition would (rows replaced by id). Only the last block opens a store.

const none = defineSource({ name: "none", description: "never queried: transition reads no store", sql: () => sql`SELECT 1` });
const rule = (extra: Partial<Rule> = {}): Rule => ({
  ...defineRule({
    id: "load_test",
    severity: "high",
    title: "Load high",
    source: none,
    when: gt("load1", 6),
    labels: ["machine_id"],
    value: "load1",
    message: "load {load1} on {machine_id}",
  }),
  ...extra,
});
const unreachable = rule({ id: "unreachable_test", severity: "critical", title: "Unreachable", inhibitsMachine: true });

type Seen = Record<string, number | { value: number; severity: Rule["severity"] }>;
function finding(r: Rule, labels: Record<string, string>, value = 9, severity = r.severity): Finding {
  return {
    rule: r.id,
    severity,
    title: r.title,
    labels,
    fingerprint: fingerprint(r.id, labels),
    machine_id: labels.machine_id ?? null,
    value,
    expected: "load1 > 6",
    received: `load1 = ${value}`,
    message: `load ${value} on ${labels.machine_id}`,
    actions: [{ title: "Look", command: `vc robot machine ${labels.machine_id}` }],
    row: { ...labels, load1: value },
  };
}
const fp = (r: Rule, machine: string) => fingerprint(r.id, { machine_id: machine });
function result(r: Rule, seen: Seen, o: { resolvable?: string[]; present?: string[]; error?: string } = {}): RuleResult {
  const findings = Object.entries(seen).map(([m, v]) => (typeof v === "number" ? finding(r, { machine_id: m }, v) : finding(r, { machine_id: m }, v.value, v.severity)));
  return {
    rule: r,
    findings,
    ...(o.resolvable ? { resolvable: new Set(o.resolvable.map((m) => fp(r, m))) } : {}),
    ...(o.present ? { present: new Set(o.present.map((m) => fp(r, m))) } : {}),
    ...(o.error ? { error: o.error, findings: [] } : {}),
  };
}

const T0 = Date.parse("2026-01-25T03:00:00Z");
const at = (min: number) => new Date(T0 + min * 60_000);

interface Step {
  min: number;
  seen: Seen;
  resolvable?: string[];
  present?: string[];
  error?: string;
  /** Acknowledge this machine's alert before the step (what `vc alerts ack` writes). */
  ack?: string;
}

/** Machine a found, gone, found… at these minutes. */
const flips = (minutes: number[]): Step[] => minutes.map((min, i): Step => ({ min, seen: i % 2 ? {} : { a: 9 } }));

/** Runs the steps in order on one rule, carrying the alerts between them; returns the last transition and the alerts after it. */
function walk(r: Rule, steps: Step[], options: TransitionOptions = {}, state = new Map<string, AlertRow>()): { last: TransitionResult; state: Map<string, AlertRow> } {
  let n = 0;
  let last: TransitionResult | undefined;
  for (const s of steps) {
    if (s.ack) state.set(fp(r, s.ack), { ...state.get(fp(r, s.ack))!, acked_by: "jeff", acked_at: at(s.min).toISOString(), ack_note: "on it" });
    last = transition([...state.values()], [result(r, s.seen, s)], at(s.min), { newId: () => `e${++n}`, ...options });
    for (const row of last.rows) state.set(row.alert_id, row);
  }
  return { last: last!, state };
}
const events = (t: TransitionResult) => t.events.map((e) => `${e.event} ${e.machine_id}${e.suppressed_by ? ` (${e.suppressed_by})` : ""}`);
const history = (t: TransitionResult) => t.history.map((h) => `${h.event} ${h.from_state}→${h.to_state}${h.notified ? " notified" : ""}`);

describe("transition: each state change", () => {
  const cases: { name: string; rule?: Partial<Rule>; steps: Step[]; events: string[]; history: string[]; state: AlertRow["state"] | "unwritten" }[] = [
    { name: "a new finding fires at once without `for`", steps: [{ min: 0, seen: { a: 9 } }], events: ["firing a"], history: ["firing null→firing notified"], state: "firing" },
    {
      name: "a new finding waits as pending with `for`",
      rule: { for: "10m" },
      steps: [{ min: 0, seen: { a: 9 } }],
      events: [],
      history: ["pending null→pending"],
      state: "pending",
    },
    {
      name: "pending stays pending until `for` has passed",
      rule: { for: "10m" },
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 9, seen: { a: 9 } },
      ],
      events: [],
      history: [],
      state: "pending",
    },
    {
      name: "pending fires once `for` has passed",
      rule: { for: "10m" },
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 10, seen: { a: 9 } },
      ],
      events: ["firing a"],
      history: ["firing pending→firing notified"],
      state: "firing",
    },
    {
      name: "pending that goes away resolves unnotified",
      rule: { for: "10m" },
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 5, seen: {} },
      ],
      events: [],
      history: ["inactive pending→resolved"],
      state: "resolved",
    },
    {
      name: "firing and still found: nothing to say",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: { a: 10 } },
      ],
      events: [],
      history: [],
      state: "firing",
    },
    {
      name: "firing resolves when the finding is gone",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {} },
      ],
      events: ["resolved a"],
      history: ["resolved firing→resolved notified"],
      state: "resolved",
    },
    {
      name: "keepFiringFor holds a firing alert",
      rule: { keepFiringFor: "5m" },
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 4, seen: {} },
      ],
      events: [],
      history: [],
      state: "unwritten",
    },
    {
      name: "keepFiringFor passed: resolved",
      rule: { keepFiringFor: "5m" },
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 5, seen: {} },
      ],
      events: ["resolved a"],
      history: ["resolved firing→resolved notified"],
      state: "resolved",
    },
    {
      name: "resolveWhen not holding keeps it firing",
      rule: { resolveWhen: lt("load1", 3) },
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {}, present: ["a"], resolvable: [] },
      ],
      events: [],
      history: [],
      state: "unwritten",
    },
    {
      name: "resolveWhen holding resolves",
      rule: { resolveWhen: lt("load1", 3) },
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {}, present: ["a"], resolvable: ["a"] },
      ],
      events: ["resolved a"],
      history: ["resolved firing→resolved notified"],
      state: "resolved",
    },
    {
      name: "resolveWhen: a row the source lost resolves",
      rule: { resolveWhen: lt("load1", 3) },
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {}, present: [], resolvable: [] },
      ],
      events: ["resolved a"],
      history: ["resolved firing→resolved notified"],
      state: "resolved",
    },
    {
      name: "a rise in severity escalates",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: { a: { value: 20, severity: "critical" } } },
      ],
      events: ["escalated a"],
      history: ["escalated firing→firing notified"],
      state: "firing",
    },
    {
      name: "a fall in severity says nothing",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: { a: { value: 7, severity: "low" } } },
      ],
      events: [],
      history: [],
      state: "firing",
    },
    {
      name: "a resolved alert that comes back fires again",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {} },
        { min: 90, seen: { a: 9 } },
      ],
      events: ["firing a"],
      history: ["firing resolved→firing notified"],
      state: "firing",
    },
    {
      name: "a rule that failed leaves its alerts as they were",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {}, error: "boom" },
      ],
      events: [],
      history: [],
      state: "unwritten",
    },
    {
      name: "the fourth change within the flap window flaps",
      steps: flips([0, 1, 2, 3]),
      events: ["flapping a"],
      history: ["flapping firing→resolved notified"],
      state: "resolved",
    },
    {
      name: "changes an hour apart never flap",
      steps: flips([0, 61, 122, 183]),
      events: ["resolved a"],
      history: ["resolved firing→resolved notified"],
      state: "resolved",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { last } = walk(rule(c.rule), c.steps);
      expect(events(last)).toEqual(c.events);
      expect(history(last)).toEqual(c.history);
      const row = last.rows.find((x) => x.alert_id === fp(rule(), "a"));
      expect(row?.state ?? "unwritten").toBe(c.state);
      expect(last.warnings).toEqual([]);
    });
  }

  it("stamps each state with its instant and keeps first sighting, pending start and ack across an episode", () => {
    const r = rule({ for: "10m" });
    const { state } = walk(r, [
      { min: 0, seen: { a: 9 } },
      { min: 10, seen: { a: 9 } },
      { min: 11, seen: { a: 12 }, ack: "a" },
    ]);
    expect(state.get(fp(r, "a"))).toMatchObject({
      state: "firing",
      first_seen_at: at(0).toISOString(),
      pending_since: at(0).toISOString(),
      fired_at: at(10).toISOString(),
      last_seen_at: at(11).toISOString(),
      value_json: "12",
      acked_by: "jeff",
      resolved_at: null,
      transitions_json: JSON.stringify([at(10).toISOString()]),
    });
    // resolved, then back: a new episode — the ack is spent, the first sighting stays.
    const { state: later } = walk(
      r,
      [
        { min: 12, seen: {} },
        { min: 13, seen: { a: 9 } },
      ],
      {},
      state,
    );
    expect(later.get(fp(r, "a"))).toMatchObject({
      state: "pending",
      first_seen_at: at(0).toISOString(),
      pending_since: at(13).toISOString(),
      acked_by: null,
      acked_at: null,
      ack_note: null,
      resolved_at: null,
    });
  });

  it("leaves what it was given untouched (no I/O, no mutation)", () => {
    const r = rule();
    const { state } = walk(r, [{ min: 0, seen: { a: 9, b: 9 } }]);
    const previous = [...state.values()].map((row) => Object.freeze({ ...row }));
    const copy = structuredClone(previous);
    const silences = [Object.freeze({ silence_id: "s1", matchers: Object.freeze({ machine_id: "a" }), ends_at: null, until_resolved: true })];
    const t = transition(previous, [result(r, { b: 9 })], at(1), { silences });
    expect(events(t)).toEqual(["resolved a (silence:s1)"]);
    expect(previous).toEqual(copy);
    expect(t.expiredSilences).toEqual(["s1"]);
  });
});

describe("transition: the mute chain", () => {
  const silence = (matchers: Record<string, string>, o: Partial<Silence> = {}): Silence => ({ silence_id: "s1", matchers, ends_at: null, until_resolved: false, ...o });
  const cases: { name: string; steps: Step[]; options?: TransitionOptions; events: string[]; expired?: string[] }[] = [
    {
      name: "a silence mutes what it matches",
      steps: [{ min: 0, seen: { a: 9, b: 9 } }],
      options: { silences: [silence({ machine_id: "a" })] },
      events: ["firing a (silence:s1)", "firing b"],
    },
    {
      name: "a silence matches the rule id with wildcards",
      steps: [{ min: 0, seen: { a: 9 } }],
      options: { silences: [silence({ rule: "load_*" })] },
      events: ["firing a (silence:s1)"],
    },
    {
      name: "a silence that has ended mutes nothing",
      steps: [{ min: 0, seen: { a: 9 } }],
      options: { silences: [silence({ machine_id: "a" }, { ends_at: at(0).toISOString() })] },
      events: ["firing a"],
    },
    {
      name: "an until-resolved silence ends when its alert resolves",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {} },
      ],
      options: { silences: [silence({ machine_id: "a" }, { until_resolved: true })] },
      events: ["resolved a (silence:s1)"],
      expired: ["s1"],
    },
    {
      name: "a timed silence does not end with its alert",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {} },
      ],
      options: { silences: [silence({ machine_id: "a" }, { ends_at: at(60).toISOString() })] },
      events: ["resolved a (silence:s1)"],
      expired: [],
    },
    {
      name: "a flapping alert's changes are muted, but not the one that says it flaps",
      steps: flips([0, 1, 2, 3, 4]),
      events: ["firing a (flapping)"],
    },
    {
      name: "an acknowledged alert does not notify its escalation",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: { a: { value: 20, severity: "critical" } }, ack: "a" },
      ],
      events: ["escalated a (acked)"],
    },
    {
      name: "flapping is asked before the ack (the built-in order: silence, inhibition, flapping, ack)",
      steps: [...flips([0, 1, 2, 3, 4]), { min: 5, seen: { a: { value: 20, severity: "critical" } }, ack: "a" }],
      events: ["escalated a (flapping)"],
    },
    {
      name: "an ack does not mute the resolution",
      steps: [
        { min: 0, seen: { a: 9 } },
        { min: 1, seen: {}, ack: "a" },
      ],
      events: ["resolved a"],
    },
    {
      name: "the first mute in the chain names the reason (silence before flapping)",
      steps: flips([0, 1, 2, 3, 4]),
      options: { silences: [silence({ machine_id: "a" })] },
      events: ["firing a (silence:s1)"],
    },
    {
      name: "a mute of one's own joins the chain after the built-in ones",
      steps: [{ min: 0, seen: { a: 9, b: 9 } }],
      options: { silences: [silence({ machine_id: "a" })], mutes: [{ name: "night", mutes: () => "night" }] },
      events: ["firing a (silence:s1)", "firing b (night)"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { last } = walk(rule(), c.steps, c.options);
      expect(events(last)).toEqual(c.events);
      // history says the same: notified, or why not
      expect(last.history.filter((h) => last.events.some((e) => e.event_id === h.event_id)).map((h) => [h.notified, h.suppressed_by])).toEqual(
        last.events.map((e) => [e.suppressed_by === null, e.suppressed_by]),
      );
      if (c.expired) expect(last.expiredSilences).toEqual(c.expired);
    });
  }

  it("inhibits a machine's other alerts while an inhibiting rule fires for it", () => {
    const load = rule();
    const t = transition([], [result(unreachable, { a: 1 }), result(load, { a: 9, b: 9 })], at(0));
    expect(events(t)).toEqual(["firing a", `firing a (inhibited:${fp(unreachable, "a")})`, "firing b"]);
    expect(t.events.map((e) => e.rule)).toEqual(["unreachable_test", "load_test", "load_test"]);
    // the machine is back: its alerts notify again
    const back = transition(t.rows, [result(unreachable, {}), result(load, {})], at(1));
    expect(events(back)).toEqual(["resolved a", "resolved a", "resolved b"]);
  });

  it("each muter alone: the reason it gives, or null", () => {
    const { state } = walk(rule(), [{ min: 0, seen: { a: 9 } }]);
    const row = state.get(fp(rule(), "a"))!;
    const change = (over: Partial<AlertRow> = {}, event: AlertChange["event"]["event"] = "firing", machine = "a"): AlertChange => ({
      event: { ...walk(rule(), [{ min: 0, seen: { [machine]: 9 } }]).last.events[0]!, event },
      row: { ...row, ...over },
      from: "pending",
    });
    const inhibitor = { ...row, alert_id: "unreachable_test:x", rule_id: "unreachable_test" };
    const table: [string, Muter, AlertChange, string | null][] = [
      ["silence", silenceMuter([{ silence_id: "s", matchers: { machine_id: "a" }, ends_at: at(1).toISOString(), until_resolved: false }]), change(), "silence:s"],
      ["silence, other machine", silenceMuter([{ silence_id: "s", matchers: { machine_id: "a" }, ends_at: null, until_resolved: false }]), change({}, "firing", "b"), null],
      ["inhibition", inhibitionMuter([inhibitor], new Set(["unreachable_test"])), change(), "inhibited:unreachable_test:x"],
      ["inhibition, resolved inhibitor", inhibitionMuter([{ ...inhibitor, state: "resolved" }], new Set(["unreachable_test"])), change(), null],
      ["inhibition, rule not inhibiting", inhibitionMuter([inhibitor], new Set()), change(), null],
      ["flapping", flappingMuter, change({ flapping: true }, "resolved"), "flapping"],
      ["flapping, the flapping event itself", flappingMuter, change({ flapping: true }, "flapping"), null],
      ["ack, escalated", ackMuter, change({ acked_by: "jeff" }, "escalated"), "acked"],
      ["ack, firing", ackMuter, change({ acked_by: "jeff" }, "firing"), null],
    ];
    for (const [name, muter, c, reason] of table) expect([name, muter.mutes(c, at(0))]).toEqual([name, reason]);
    expect(firstMute([flappingMuter, ackMuter], change({ flapping: true, acked_by: "jeff" }, "escalated"), at(0))).toBe("flapping");
    expect(firstMute([ackMuter, flappingMuter], change({ flapping: true, acked_by: "jeff" }, "escalated"), at(0))).toBe("acked");
    expect(firstMute([], change(), at(0))).toBeNull();
  });
});

describe("transition: a repeated label set", () => {
  it("keeps the first finding and warns naming the rule and the labels", () => {
    const r = rule();
    const dup: RuleResult = {
      rule: r,
      findings: [finding(r, { machine_id: "a" }, 9), finding(r, { machine_id: "b" }, 9), finding(r, { machine_id: "a" }, 50), finding(r, { machine_id: "a" }, 51)],
    };
    const t = transition([], [dup], at(0));
    expect(t.rows.map((x) => [JSON.parse(x.labels_json).machine_id, x.value_json])).toEqual([
      ["a", "9"],
      ["b", "9"],
    ]);
    expect(events(t)).toEqual(["firing a", "firing b"]);
    expect(t.warnings).toEqual([
      {
        rule: "load_test",
        labels: { machine_id: "a" },
        warning: 'rule load_test: 3 findings have the labels machine_id="a"; the first was kept (add a label that tells them apart)',
      },
    ]);
  });

  it("warns for a rule without labels whose source has several rows, and never across rules", () => {
    const bare = rule({ id: "bare", labels: [] });
    const t = transition([], [{ rule: bare, findings: [finding(bare, {}), finding(bare, {})] }, result(rule(), { a: 9 }), result(rule({ id: "other" }), { a: 9 })], at(0));
    expect(t.warnings.map((w) => w.warning)).toEqual(["rule bare: 2 findings have the labels (no labels); the first was kept (add a label that tells them apart)"]);
    expect(t.rows).toHaveLength(3);
  });
});

describe("persisting a transition", () => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it("reads back identically: rows, history and ended silences", async () => {
    const s = await createTestStore();
    stores.push(s);
    await s.run(
      sql`INSERT INTO silences(silence_id, matchers_json, created_at, created_by, ends_at, until_resolved) VALUES ('s1', '{"machine_id":"b"}', ${at(0).toISOString()}::TIMESTAMP, 't', NULL, true)`,
    );
    const r = rule({ for: "2m" });
    const odd = finding(r, { machine_id: "c" }, 9);
    odd.message = 'quotes " and \\ and ünïcödé ✓ and a tab\t';
    odd.row = { machine_id: "c", load1: 9, nested: { list: [1, null, "x"] } };
    const steps: RuleResult[][] = [
      [result(r, { a: 9, b: 9 }), { rule: r, findings: [odd] }],
      [result(r, { a: 9, b: 9 })],
      [result(r, { a: 9, b: 9 }), result(unreachable, { a: 1 })],
      [result(r, { a: { value: 30, severity: "critical" } }), result(unreachable, { a: 1 })],
      [result(r, {})],
    ];
    for (const [i, results] of steps.entries()) {
      const now = at(i * 2);
      const t = await s.transaction(async (tx) => {
        const t = transition(await loadAlerts(tx), results, now, { silences: await loadSilences(tx, now) });
        await persistTransition(tx, t);
        return t;
      });
      expect(t.rows.length).toBeGreaterThan(0);
      const stored = new Map((await s.transaction((tx) => loadAlerts(tx))).map((row) => [row.alert_id, row]));
      for (const row of t.rows) expect(stored.get(row.alert_id)).toEqual(row);
      const ids = t.history.map((h) => h.event_id);
      const back = await s.query(
        `SELECT event_id, alert_id, ts, rule_id, machine_id, event, from_state, to_state, value_json, message, notified, suppressed_by FROM alert_history WHERE event_id IN (${ids.map((x) => `'${x}'`).join(", ") || "''"})`,
      );
      expect(back.sort((a, b) => ids.indexOf(a.event_id as string) - ids.indexOf(b.event_id as string))).toEqual(t.history as unknown as Record<string, unknown>[]);
      const [sil] = await s.query<{ expired_at: string | null }>("SELECT expired_at FROM silences");
      expect([i, sil!.expired_at]).toEqual([i, i >= 3 ? at(6).toISOString() : null]); // b resolved at step 3: its until-resolved silence ended
    }
    const history = await s.query<{ ts: string; event: string; rule_id: string; machine_id: string; notified: boolean; suppressed_by: string | null }>(
      "SELECT ts, event, rule_id, machine_id, notified, suppressed_by FROM alert_history",
    );
    expect(history.map((h) => `${h.ts.slice(14, 16)} ${h.event} ${h.rule_id} ${h.machine_id} ${h.notified ? "notified" : (h.suppressed_by ?? "-")}`).sort()).toEqual([
      "00 pending load_test a -",
      "00 pending load_test b -",
      "00 pending load_test c -",
      "02 firing load_test a notified",
      "02 firing load_test b silence:s1",
      "02 inactive load_test c -",
      "04 firing unreachable_test a notified",
      `06 escalated load_test a inhibited:${fp(unreachable, "a")}`,
      "06 resolved load_test b silence:s1",
      `08 resolved load_test a notified`,
    ]);
  });

  it("reports a repeated label set in the cycle's outcome", async () => {
    const s = await createTestStore();
    stores.push(s);
    const config = await resolveConfig({ machines: [{ id: "a", ssh: "local" }], collectors: [] }, { source: "t", env: {} });
    const disks = defineSource({ name: "disks_now", description: "", sql: (t) => sql`SELECT machine_id, mount, used_pct FROM filesystems WHERE collected_at = ${t}::TIMESTAMP` });
    const full = defineRule({
      id: "disk_full_test",
      severity: "high",
      title: "Disk full",
      source: disks,
      when: gt("used_pct", 90),
      labels: ["machine_id"],
      value: "used_pct",
      message: "{mount} on {machine_id}",
    });
    await s.insert(
      "filesystems",
      ["/", "/data"].map((mount) => ({ machine_id: "a", collected_at: at(0), mount, size_bytes: 100, used_bytes: 95, avail_bytes: 5, used_pct: 95 })),
    );
    const outcome = await finishCycle({ store: s, config, clock: createFixedClock(at(0)), rules: [full], channels: [] });
    expect(outcome.ruleErrors).toEqual([]);
    expect(outcome.ruleWarnings).toEqual([
      {
        rule: "disk_full_test",
        labels: { machine_id: "a" },
        warning: 'rule disk_full_test: 2 findings have the labels machine_id="a"; the first was kept (add a label that tells them apart)',
      },
    ]);
    expect(outcome.events.map((e) => e.event)).toEqual(["firing"]);
  });
});
