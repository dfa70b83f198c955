import { createHash } from "node:crypto";
import type { Clock } from "./clock.ts";
import type { VcConfig } from "./config/define.ts";
import { deliverEvents, type Channel, type DeliveryReport } from "./alerts/channel.ts";
import { advanceAlerts, type AlertEvent } from "./alerts/lifecycle.ts";
import type { RuleWarning } from "./alerts/transition.ts";
import { computeHealth, type FleetHealth } from "./health/index.ts";
import { advanceIncidents, type IncidentsAdvance } from "./incidents/open.ts";
import type { Rule } from "./rules/define.ts";
import { evaluateRule, type RuleResult } from "./rules/evaluate.ts";
import { storeFile } from "./store/files.ts";
import { sql } from "./store/sql.ts";
import { errorMessage } from "./errors.ts";
import type { Store } from "./store/store.ts";

/** What the end of a poll cycle did: health, alert changes, deliveries, snapshots. */
export interface CycleOutcome {
  at: string;
  health: FleetHealth;
  events: AlertEvent[];
  /** Plugins' derivations (`derive`) that failed, or warned: `plugin/name` and what it said. */
  deriveErrors: { derivation: string; error: string }[];
  deriveWarnings: { derivation: string; warning: string }[];
  /** Rules that could not be evaluated (their alerts were left as they were). */
  ruleErrors: { rule: string; error: string }[];
  /** What was wrong with rules' findings without stopping them (a label set repeated: the first finding kept). */
  ruleWarnings: RuleWarning[];
  deliveries: DeliveryReport[];
  /** Snapshots written (identical consecutive states are not repeated). */
  snapshots: { fleet: boolean; machines: number };
  /** Incidents this cycle opened, and open ones its alerts joined (ids). */
  incidents: IncidentsAdvance;
}

const hash = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);

/**
 * The end of every poll cycle, in `vc up` and `vc collect --once` alike: health into
 * health_factors/health_summary, every rule evaluated, alerts moved through their lifecycle,
 * notifications delivered, and the fleet's state snapshotted for time travel. All on one clock.
 */
export async function finishCycle(o: { store: Store; config: VcConfig; clock: Clock; rules: readonly Rule[]; channels: readonly Channel[] }): Promise<CycleOutcome> {
  const { store, config, clock } = o;
  const atDate = clock.now();
  const at = atDate.toISOString();
  const deriveErrors: CycleOutcome["deriveErrors"] = [];
  const deriveWarnings: CycleOutcome["deriveWarnings"] = [];
  if (!store.readOnly)
    for (const p of config.plugins ?? [])
      for (const d of p.derive ?? []) {
        const derivation = `${p.name}/${d.name}`;
        try {
          const r = await d.run({ store, at, config });
          for (const warning of r?.warnings ?? []) deriveWarnings.push({ derivation, warning });
        } catch (err) {
          deriveErrors.push({ derivation, error: errorMessage(err) });
        }
      }
  const health = await computeHealth(store, config, atDate);

  const results: RuleResult[] = [];
  for (const rule of o.rules) results.push(await evaluateRule(store, rule, at));
  const ruleErrors = results.filter((r) => r.error).map((r) => ({ rule: r.rule.id, error: r.error! }));

  const { events, ruleWarnings, snapshots, incidents } = await store.transaction(async (tx) => {
    await tx.insert(
      "health_factors",
      health.machines.flatMap((m) =>
        m.factors.map((f) => ({ machine_id: m.id, collected_at: at, factor_id: f.id, severity: f.severity, score: f.score, value: f.value, details_json: { detail: f.detail } })),
      ),
    );
    await tx.insert(
      "health_summary",
      health.machines.map((m) => ({
        machine_id: m.id,
        collected_at: at,
        overall_score: m.score,
        severity: m.severity,
        worst_factor_id: m.top_issue,
        details_json: { factors: m.factors.length },
      })),
    );
    const { events, warnings: ruleWarnings } = await advanceAlerts(tx, results, {
      at: atDate,
      flapWindowMs: config.alerting.flap_window_minutes * 60_000,
      flapTransitions: config.alerting.flap_transitions,
    });
    const incidents = await advanceIncidents(tx, { at: atDate, events, config });

    // Snapshots: a machine's state is its health and its firing alerts; written when it changed.
    const firing = await tx.query<{ alert_id: string; machine_id: string | null; severity: string; rule_id: string }>(
      "SELECT alert_id, machine_id, severity, rule_id FROM alerts WHERE state = 'firing' ORDER BY alert_id",
    );
    const lastMachine = new Map(
      (await tx.query<{ machine_id: string; hash: string }>("SELECT machine_id, arg_max(hash, collected_at) AS hash FROM machine_state_snapshots GROUP BY machine_id")).map((r) => [
        r.machine_id,
        r.hash,
      ]),
    );
    const changed = health.machines.flatMap((m) => {
      const summary = {
        score: m.score,
        severity: m.severity,
        top_issue: m.top_issue,
        factors: m.factors.map((f) => ({ id: f.id, score: f.score, severity: f.severity })),
        firing: firing.filter((a) => a.machine_id === m.id).map((a) => a.alert_id),
      };
      const h = hash(summary);
      return lastMachine.get(m.id) === h ? [] : [sql`(${m.id}, ${at}::TIMESTAMP, ${h}, ${m.score}, ${JSON.stringify({ ...summary, last_sample_at: m.last_sample_at })})`];
    });
    // The machines whose state changed, in one statement.
    if (changed.length > 0) {
      await tx.run(sql`INSERT INTO machine_state_snapshots(machine_id, collected_at, hash, health_score, summary_json) VALUES ${sql.join(changed)} ON CONFLICT DO NOTHING`);
    }
    const machines = changed.length;
    const fleet = {
      overall: health.overall,
      machines: health.machines.map((m) => ({ id: m.id, score: m.score, severity: m.severity, top_issue: m.top_issue })),
      firing: firing.map((a) => ({ alert_id: a.alert_id, rule: a.rule_id, machine_id: a.machine_id, severity: a.severity })),
    };
    const fh = hash(fleet);
    const [last] = await tx.query<{ hash: string }>("SELECT hash FROM fleet_state_snapshots ORDER BY collected_at DESC LIMIT 1");
    let fleetWritten = false;
    if (last?.hash !== fh) {
      await tx.run(sql`INSERT INTO fleet_state_snapshots(collected_at, hash, fleet_health_score, risk_level, summary_json)
        VALUES (${at}::TIMESTAMP, ${fh}, ${health.overall.score}, ${health.overall.severity}, ${JSON.stringify({ ...fleet, staleness: health.staleness, warnings: health.warnings })}) ON CONFLICT DO NOTHING`);
      fleetWritten = true;
    }
    return { events, ruleWarnings, snapshots: { fleet: fleetWritten, machines }, incidents };
  });

  const deliveries = o.channels.length
    ? await deliverEvents({ store, clock, channels: o.channels, events, ctx: { dataDir: config.data_dir, storeFile: (name) => storeFile(store.path, name) } })
    : [];
  return { at, health, events, deriveErrors, deriveWarnings, ruleErrors, ruleWarnings, deliveries, snapshots, incidents };
}

/** The fleet's state as snapshotted at or before `at` (time travel, plan §5.4). */
export async function healthAt(
  store: Store,
  at: Date,
): Promise<{
  collected_at: string;
  summary: { overall: FleetHealth["overall"]; machines: unknown[]; firing: unknown[]; staleness?: Record<string, number | null>; warnings?: string[] };
} | null> {
  const [row] = await store.query<{ collected_at: string; summary_json: string }>(
    sql`SELECT collected_at, summary_json FROM fleet_state_snapshots WHERE collected_at <= ${at.toISOString()}::TIMESTAMP ORDER BY collected_at DESC LIMIT 1`,
  );
  return row ? { collected_at: row.collected_at, summary: JSON.parse(row.summary_json) } : null;
}
