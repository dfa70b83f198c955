// What dcg adds beyond its collector: the machine view's dcg section and the denies factor.
import { definePlugin, hasRows, minus, ramp, readings, sql, type AreaFactor, type MachineSection } from "vibe-cockpit";
import { dcgEvents } from "./events.ts";
import { dcgDiff } from "./diff.ts";
import { dcgIntents } from "./intents.ts";
import { dcgSpike } from "./protocols.ts";

const DAY_MS = 86_400_000;

/** dcg over the last 24 h: denies and warns, the rules that denied most, the last deny. */
export const dcgSection: MachineSection = {
  name: "dcg",
  async load(q) {
    if (!(await hasRows(q, "dcg_events"))) return null;
    const since = new Date(Date.parse(q.at) - DAY_MS).toISOString();
    const window = sql`machine_id = ${q.machineId} AND ts > ${since}::TIMESTAMP AND ts <= ${q.at}::TIMESTAMP AND collected_at <= ${q.at}::TIMESTAMP`;
    const [totals] = await q.store.query<{ denies: number; warns: number; last_deny_at: string | null }>(
      sql`SELECT count(*) FILTER (WHERE decision = 'deny')::INTEGER AS denies,
                 count(*) FILTER (WHERE decision = 'warn')::INTEGER AS warns,
                 max(ts) FILTER (WHERE decision = 'deny') AS last_deny_at
          FROM dcg_events WHERE ${window}`,
    );
    const topRules = await q.store.query(
      sql`SELECT coalesce(rule_id, pack_id, '(unknown)') AS rule_id, any_value(pack_id) AS pack_id, count(*)::INTEGER AS denies, max(ts) AS last_at
          FROM dcg_events WHERE ${window} AND decision = 'deny'
          GROUP BY 1 ORDER BY denies DESC, rule_id LIMIT 5`,
    );
    return { window_hours: 24, denies: totals?.denies ?? 0, warns: totals?.warns ?? 0, last_deny_at: totals?.last_deny_at ?? null, top_rules: topRules };
  },
};

/** Health factor dcgDenies. */
export const dcgDeniesFactor: AreaFactor = {
  id: "dcg_denies",
  read: (store, at) =>
    readings(
      store,
      sql`SELECT machine_id, count(*) AS value FROM dcg_events
            WHERE decision = 'deny' AND ts <= ${at}::TIMESTAMP AND ts > ${minus(at, 3_600_000)}::TIMESTAMP GROUP BY machine_id`,
      (r) => `${r.value} dcg denies in the last hour`,
    ),
  score: ramp(3, 30, 0.4),
};

export const dcgPlugin = definePlugin({
  name: "dcg",
  machineSections: [dcgSection],
  healthFactors: [dcgDeniesFactor],
  events: [dcgEvents],
  diffs: [dcgDiff],
  intents: dcgIntents,
  protocols: [dcgSpike],
});
