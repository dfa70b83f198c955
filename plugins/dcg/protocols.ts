// The guardian's dcg protocol (plan §8.4 "dcg spike"): more than 10 denies an hour on a machine,
// read as the dcg_deny_spike rule reads dcg's events. Diagnosis: which rules denied in which
// working directories (dcg's history database records the cwd; its decision log does not).
// Treatment: the correlation and a behaviour review, as advice with dcg's own commands.
import { defineProtocol, oneLine, readStep, showArgv, sql, suggestStep, type Facts, type GuardianTarget, type ProtocolContext, type StepContext } from "vibe-cockpit";
import { dcgDeniesLastHour } from "../rules/agents.ts";

/** More denies than this in the hour before triggers the protocol (the rule's default). */
export const DCG_MAX_DENIES_PER_HOUR = 10;
/** The verification's window: the denies of the last 15 min, as an hourly rate. */
export const DCG_VERIFY_WINDOW_MIN = 15;

const HOUR_MS = 3_600_000;

interface SpikeRow {
  machine_id: string;
  denies_1h: number;
  rule_ids: number;
  last_deny_at: string;
  top_rule_id: string;
  top_rule_denies: number;
}

/** Denies of one rule in one working directory. */
export interface DenyCorrelation {
  rule_id: string;
  pack_id: string | null;
  /** null: the decision log, which records no working directory. */
  cwd: string | null;
  agent_types: string[];
  denies: number;
  last_at: string;
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : typeof x === "bigint" ? Number(x) : null);

async function findDenySpikes(ctx: ProtocolContext): Promise<GuardianTarget[]> {
  const rows = await ctx.store.query<SpikeRow>(
    sql`SELECT * FROM (${dcgDeniesLastHour.sql(ctx.at.toISOString())}) AS d WHERE denies_1h > ${DCG_MAX_DENIES_PER_HOUR} ORDER BY machine_id`,
  );
  return rows.map((r) => ({
    key: r.machine_id,
    machine: r.machine_id,
    title: `${r.machine_id}: dcg denied ${num(r.denies_1h)} commands in the last hour (most: ${oneLine(r.top_rule_id)}, ${num(r.top_rule_denies)}×)`,
    facts: {
      denies_1h: num(r.denies_1h),
      rule_ids: num(r.rule_ids),
      top_rule_id: oneLine(r.top_rule_id),
      top_rule_denies: num(r.top_rule_denies),
      last_deny_at: r.last_deny_at,
    },
  }));
}

/** The hour's denies on the machine by rule and working directory, most first (at most 20 pairs). */
async function readCorrelation(ctx: StepContext): Promise<Facts> {
  const at = ctx.at.toISOString();
  const rows = await ctx.store.query<Record<string, unknown>>(
    sql`SELECT coalesce(rule_id, pack_id, '(unknown)') AS rule_id, any_value(pack_id) AS pack_id, cwd,
               list_sort(list_distinct(list(agent_type) FILTER (WHERE agent_type IS NOT NULL))) AS agent_types,
               count(*)::INTEGER AS denies, max(ts) AS last_at
        FROM dcg_events
        WHERE machine_id = ${ctx.target.machine} AND decision = 'deny'
          AND ts > ${new Date(ctx.at.getTime() - HOUR_MS).toISOString()}::TIMESTAMP AND ts <= ${at}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
        GROUP BY ALL ORDER BY denies DESC, rule_id, cwd NULLS LAST LIMIT 20`,
  );
  const correlation: DenyCorrelation[] = rows.map((r) => ({
    rule_id: oneLine(String(r.rule_id)),
    pack_id: typeof r.pack_id === "string" ? oneLine(r.pack_id) : null,
    cwd: typeof r.cwd === "string" ? oneLine(r.cwd) : null,
    agent_types: Array.isArray(r.agent_types) ? (r.agent_types as unknown[]).map((a) => oneLine(String(a))) : [],
    denies: num(r.denies) ?? 0,
    last_at: String(r.last_at),
  }));
  const cwds = new Map<string, number>();
  for (const c of correlation) if (c.cwd) cwds.set(c.cwd, (cwds.get(c.cwd) ?? 0) + c.denies);
  return {
    correlation,
    denies_with_cwd: correlation.filter((c) => c.cwd !== null).reduce((s, c) => s + c.denies, 0),
    top_cwds: [...cwds.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([cwd, denies]) => ({ cwd, denies })),
  };
}

const correlationOf = (facts: Facts): DenyCorrelation[] => (Array.isArray(facts.correlation) ? (facts.correlation as DenyCorrelation[]) : []);

function correlationAdvice(ctx: StepContext): string | null {
  const c = correlationOf(ctx.facts);
  if (c.length === 0) return null;
  const lines = c.slice(0, 8).map((x) => `${x.rule_id} ${x.denies}× in ${x.cwd ?? "(no cwd: decision log)"}${x.agent_types.length > 0 ? ` by ${x.agent_types.join(", ")}` : ""}`);
  return `dcg's denies on ${ctx.target.machine} in the last hour, by rule and working directory: ${lines.join("; ")}`;
}

function reviewAdvice(ctx: StepContext): string | null {
  const c = correlationOf(ctx.facts);
  const top = c[0];
  if (!top) return null;
  const where = top.cwd ? `in ${top.cwd}` : `on ${ctx.target.machine}`;
  const packs = [...new Set(c.slice(0, 3).flatMap((x) => (x.pack_id ? [x.pack_id] : [])))];
  return (
    `Review what the agents ${where} keep attempting (${top.rule_id}, ${top.denies}× in the hour): tell them why dcg refuses it, or change their instructions; ` +
    `see the rules: ${packs.map((p) => showArgv(["dcg", "pack", "info", p])).join(", ") || showArgv(["dcg", "packs", "--enabled"])}; ` +
    `per-rule history: dcg stats --rules; the agents on ${ctx.target.machine}: ntm --robot-status`
  );
}

/** A dcg deny spike on a machine: where the denies come from, and a behaviour review, as advice. */
export const dcgSpike = defineProtocol({
  name: "dcg_spike",
  summary: "More than 10 dcg denies an hour on a machine: show which rules deny in which working directories and advise a behaviour review",
  trigger: { describe: `more than ${DCG_MAX_DENIES_PER_HOUR} dcg denies in the hour before`, find: findDenySpikes },
  diagnosis: [readStep("rules_by_cwd", readCorrelation)],
  treatment: [suggestStep("show_correlation", correlationAdvice), suggestStep("behaviour_review", reviewAdvice)],
  verification: {
    describe: `denies decrease: at most ${DCG_MAX_DENIES_PER_HOUR} an hour over the last ${DCG_VERIFY_WINDOW_MIN} min`,
    withinSeconds: 3600,
    everySeconds: 300,
    async check(ctx) {
      const at = ctx.at.toISOString();
      const [r] = await ctx.store.query<{ denies: number }>(
        sql`SELECT count(*)::INTEGER AS denies FROM dcg_events
            WHERE machine_id = ${ctx.target.machine} AND decision = 'deny' AND collected_at <= ${at}::TIMESTAMP
              AND ts > ${new Date(ctx.at.getTime() - DCG_VERIFY_WINDOW_MIN * 60_000).toISOString()}::TIMESTAMP AND ts <= ${at}::TIMESTAMP`,
      );
      const denies = num(r?.denies) ?? 0;
      const perHour = Math.round((denies * 60) / DCG_VERIFY_WINDOW_MIN);
      return {
        ok: perHour <= DCG_MAX_DENIES_PER_HOUR,
        detail: `${ctx.target.machine}: ${denies} denies in the last ${DCG_VERIFY_WINDOW_MIN} min (${perHour} an hour; was ${num(ctx.target.facts.denies_1h)} in the hour)`,
      };
    },
  },
  escalation: { describe: "after 3 failed runs", afterFailures: 3 },
});
