// The alert state machine at fleet sizes (issue 12, point 4): the pure transition, and its persist
// step, per cycle as N alerts fire, stay firing (every row rewritten: last_seen_at, value) and
// resolve; against the same rows written a statement per row (the shape applyFindings had before:
// INSERT or UPDATE per alert, INSERT per history line).
//
// Knobs (environment): VC_BENCH_ALERTS ("50,500,2000"), VC_BENCH_CYCLES (4: "still firing" cycles).
import {
  defineRule,
  defineSource,
  fingerprint,
  gt,
  loadAlerts,
  loadSilences,
  persistTransition,
  sql,
  transition,
  type Finding,
  type RuleResult,
  type StoreTx,
  type TransitionResult,
} from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";

const sizes = (process.env.VC_BENCH_ALERTS ?? "50,500,2000").split(",").map(Number);
const cycles = Number(process.env.VC_BENCH_CYCLES ?? 4);
const none = defineSource({ name: "none", description: "findings are made here", sql: () => sql`SELECT 1` });
const rule = defineRule({ id: "bench", severity: "high", title: "Bench", source: none, when: gt("v", 1), labels: ["machine_id"], value: "v", message: "{machine_id}: {v}" });
const found = (n: number, v: number): RuleResult => ({
  rule,
  findings: Array.from({ length: n }, (_, i): Finding => {
    const labels = { machine_id: `m${i}` };
    return {
      rule: rule.id,
      severity: "high",
      title: rule.title,
      labels,
      fingerprint: fingerprint(rule.id, labels),
      machine_id: labels.machine_id,
      value: v,
      expected: "v > 1",
      received: `v = ${v}`,
      message: `m${i}: ${v}`,
      actions: [],
      row: { ...labels, v },
    };
  }),
});
const T0 = Date.parse("2026-01-25T03:00:00Z");

/** A statement per alert and per history line: the write shape before the persist step. */
async function perRow(tx: StoreTx, t: TransitionResult, isNew: Set<string>) {
  for (const r of t.rows) {
    if (isNew.has(r.alert_id)) {
      await tx.run(sql`INSERT INTO alerts(alert_id, rule_id, alert_type, machine_id, labels_json, severity, title, state, first_seen_at, last_seen_at, pending_since, fired_at, resolved_at,
          value_json, message, expected, received, evidence_json, suggested_actions_json, flapping, transitions_json, updated_at)
        VALUES (${r.alert_id}, ${r.rule_id}, ${r.rule_id}, ${r.machine_id}, ${r.labels_json}, ${r.severity}, ${r.title}, ${r.state}, ${r.first_seen_at}::TIMESTAMP, ${r.last_seen_at}::TIMESTAMP,
          ${r.pending_since}::TIMESTAMP, ${r.fired_at}::TIMESTAMP, ${r.resolved_at}::TIMESTAMP, ${r.value_json}, ${r.message}, ${r.expected}, ${r.received}, ${r.evidence_json},
          ${r.suggested_actions_json}, ${r.flapping}, ${r.transitions_json}, ${t.at}::TIMESTAMP)`);
    } else {
      await tx.run(sql`UPDATE alerts SET severity = ${r.severity}, state = ${r.state}, last_seen_at = ${r.last_seen_at}::TIMESTAMP, pending_since = ${r.pending_since}::TIMESTAMP,
          fired_at = ${r.fired_at}::TIMESTAMP, resolved_at = ${r.resolved_at}::TIMESTAMP, value_json = ${r.value_json}, message = ${r.message}, expected = ${r.expected},
          received = ${r.received}, evidence_json = ${r.evidence_json}, suggested_actions_json = ${r.suggested_actions_json}, acked_by = ${r.acked_by},
          acked_at = ${r.acked_at}::TIMESTAMP, ack_note = ${r.ack_note}, flapping = ${r.flapping}, transitions_json = ${r.transitions_json}, updated_at = ${t.at}::TIMESTAMP
        WHERE alert_id = ${r.alert_id}`);
    }
  }
  for (const h of t.history) {
    await tx.run(sql`INSERT INTO alert_history(event_id, alert_id, ts, rule_id, machine_id, event, from_state, to_state, value_json, message, notified, suppressed_by)
      VALUES (${h.event_id}, ${h.alert_id}, ${h.ts}::TIMESTAMP, ${h.rule_id}, ${h.machine_id}, ${h.event}, ${h.from_state}, ${h.to_state}, ${h.value_json}, ${h.message}, ${h.notified}, ${h.suppressed_by})`);
  }
}

type Write = "persistTransition" | "statement per row";
/** One run of fire → still firing × cycles → resolve; ms per phase (transition alone, and the whole cycle). */
async function run(n: number, write: Write) {
  const store = await createTestStore();
  const ms = { transition: [] as number[], fire: 0, firing: [] as number[], resolve: 0 };
  try {
    for (let k = 0; k <= cycles + 1; k++) {
      const now = new Date(T0 + k * 60_000);
      const t0 = performance.now();
      await store.transaction(async (tx) => {
        const previous = await loadAlerts(tx);
        const t1 = performance.now();
        const t = transition(previous, [found(k === cycles + 1 ? 0 : n, 5 + k)], now, { silences: await loadSilences(tx, now) });
        ms.transition.push(performance.now() - t1);
        if (t.rows.length !== n) throw new Error(`cycle ${k}: ${t.rows.length} rows, expected ${n}`);
        if (write === "persistTransition") await persistTransition(tx, t);
        else await perRow(tx, t, new Set(t.rows.filter((r) => !previous.some((p) => p.alert_id === r.alert_id)).map((r) => r.alert_id)));
      });
      const took = performance.now() - t0;
      if (k === 0) ms.fire = took;
      else if (k === cycles + 1) ms.resolve = took;
      else ms.firing.push(took);
    }
    const [row] = await store.query<{ n: number }>("SELECT count(*)::INTEGER n FROM alerts WHERE state = 'resolved'");
    const stored = row?.n;
    if (stored !== n) throw new Error(`${stored} resolved alerts stored, expected ${n}`);
  } finally {
    await store.close();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { transition: mean(ms.transition), fire: ms.fire, firing: mean(ms.firing), resolve: ms.resolve };
}

console.log(`alerts: one rule, N alerts: fire, ${cycles} cycles still firing, resolve (each cycle: load, transition, write, commit)`);
for (const n of sizes) {
  const fast = await run(n, "persistTransition");
  const slow = await run(n, "statement per row");
  const f = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
  console.log(`\nN = ${n}: transition alone ${fast.transition.toFixed(2)} ms per cycle (${((fast.transition / n) * 1000).toFixed(1)} µs per alert)`);
  console.log(`  ${"".padEnd(20)} ${"fire".padStart(9)} ${"firing".padStart(9)} ${"resolve".padStart(9)}`);
  console.log(`  ${"persistTransition".padEnd(20)} ${f(fast.fire)} ${f(fast.firing)} ${f(fast.resolve)}`);
  console.log(`  ${"statement per row".padEnd(20)} ${f(slow.fire)} ${f(slow.firing)} ${f(slow.resolve)}`);
  console.log(
    `  ratio (per row / persist): fire ${(slow.fire / fast.fire).toFixed(1)}×, firing ${(slow.firing / fast.firing).toFixed(1)}×, resolve ${(slow.resolve / fast.resolve).toFixed(1)}×`,
  );
}
