import type { VcConfig } from "../config/define.ts";
import { sql } from "../store/sql.ts";
import { collectorStatesAt } from "../collect/state.ts";
import { realFilesystemSql } from "./filesystems.ts";
import type { Store } from "../store/store.ts";

/** Severity of a factor, a machine or the fleet, from best to worst. */
export type Severity = "ok" | "low" | "medium" | "high" | "critical";
const ORDER: Severity[] = ["ok", "low", "medium", "high", "critical"];

/** One reason a machine's score is what it is. */
export interface HealthFactor {
  id: string;
  score: number;
  severity: Severity;
  /** What was measured, as text a person can read. */
  detail: string;
  value: number | null;
}

export interface MachineHealth {
  id: string;
  score: number;
  severity: Severity;
  /** The worst factor's id, or null when all is well. */
  top_issue: string | null;
  factors: HealthFactor[];
  /** When its newest system sample was taken. */
  last_sample_at: string | null;
}

export interface FleetHealth {
  overall: { score: number; severity: Severity };
  machines: MachineHealth[];
  /** Seconds since each collector's data last arrived (the worst machine); null: never. */
  staleness: Record<string, number | null>;
  warnings: string[];
}

/** Severity for a score in [0, 1]. */
export function severityOf(score: number): Severity {
  if (score >= 0.9) return "ok";
  if (score >= 0.75) return "low";
  if (score >= 0.5) return "medium";
  if (score >= 0.25) return "high";
  return "critical";
}

export function worstSeverity(list: readonly Severity[]): Severity {
  return list.reduce<Severity>((w, s) => (ORDER.indexOf(s) > ORDER.indexOf(w) ? s : w), "ok");
}

/** Linear from 1 (at `good`) down to `floor` (at `bad`), clamped. */
function ramp(value: number, good: number, bad: number, floor = 0.1): number {
  if (value <= good) return 1;
  if (value >= bad) return floor;
  return 1 - ((value - good) / (bad - good)) * (1 - floor);
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

function factor(id: string, score: number, detail: string, value: number | null): HealthFactor {
  const s = round(Math.max(0, Math.min(1, score)), 3);
  return { id, score: s, severity: severityOf(s), detail, value: value === null ? null : round(value) };
}

interface SampleRow {
  machine_id: string;
  collected_at: string;
  cpu_total: number | null;
  cpu_cores: number | null;
  load5: number | null;
  mem_used_bytes: number | null;
  mem_total_bytes: number | null;
  swap_used_bytes: number | null;
  swap_total_bytes: number | null;
}

interface StateRow {
  machine_id: string;
  collector: string;
  last_result: string;
  last_ok_at: string | null;
  last_error: string | null;
}

/**
 * Health v0 of every configured machine, as of `now`: load against cores, memory, swap, disk
 * and data freshness. Missing or stale data lowers the score and says so; it never reads healthy.
 * Only rows at or before `now` count, so a pinned clock replays the past.
 * @example const health = await computeHealth(store, config, new Date())
 */
export async function computeHealth(store: Store, config: VcConfig, now: Date): Promise<FleetHealth> {
  const staleAfterS = config.polling.interval_seconds * config.polling.stale_after_intervals;
  const window = new Date(now.getTime() - Math.max(staleAfterS * 4, 86_400) * 1000).toISOString();
  const at = now.toISOString();
  // Factors beyond the system sample come from the plugins (account headroom, denies, backlogs …).
  const factors = (config.plugins ?? []).flatMap((p) => p.healthFactors ?? []);
  const areasP = Promise.all(factors.map(async (f) => ({ f, readings: await f.read(store, at) })));
  const [samples, disks, states, areas] = await Promise.all([
    store.query<SampleRow>(sql`SELECT machine_id, collected_at, cpu_total, cpu_cores, load5, mem_used_bytes, mem_total_bytes, swap_used_bytes, swap_total_bytes
      FROM sys_samples WHERE collected_at > ${window}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
      QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1`),
    store.query<{ machine_id: string; mount: string; used_pct: number; collected_at: string }>(sql`
      WITH latest AS (SELECT machine_id, max(collected_at) AS at FROM filesystems
                      WHERE collected_at > ${window}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP GROUP BY machine_id)
      SELECT f.machine_id, f.mount, f.used_pct, f.collected_at FROM filesystems f JOIN latest l ON f.machine_id = l.machine_id AND f.collected_at = l.at
      WHERE f.collected_at > ${window}::TIMESTAMP AND ${realFilesystemSql("f")}`),
    // As the runs stood at `now` (the time machine rebuilds a later run's state from the run records).
    collectorStatesAt(store, at) as Promise<StateRow[]>,
    areasP,
  ]);

  const warnings: string[] = [];
  const staleness: Record<string, number | null> = {};
  for (const c of config.collectors) {
    const mine = states.filter((s) => s.collector === c.name && s.last_result !== "skipped" && config.machines.some((m) => m.id === s.machine_id));
    if (mine.length === 0) continue;
    const ages = mine.map((s) => (s.last_ok_at ? Math.max(0, Math.round((now.getTime() - Date.parse(s.last_ok_at)) / 1000)) : null));
    staleness[c.name] = ages.includes(null) ? null : Math.max(...(ages as number[]));
    for (const s of mine) {
      if (s.last_result === "failed") warnings.push(`${c.name} on ${s.machine_id} failed: ${s.last_error ?? "unknown error"}`);
    }
  }

  const machines = config.machines.map((m): MachineHealth => {
    const sample = samples.find((s) => s.machine_id === m.id);
    const factors: HealthFactor[] = [];
    if (!sample) {
      factors.push(factor("no_data", 0, "no system sample yet: run `vc collect --once` or start `vc up`", null));
    } else {
      const age = (now.getTime() - Date.parse(sample.collected_at)) / 1000;
      factors.push(
        age > staleAfterS
          ? factor("stale_data", age > staleAfterS * 4 ? 0.1 : 0.3, `newest sample is ${Math.round(age)} s old (stale after ${staleAfterS} s)`, age)
          : factor("freshness", 1, `newest sample ${Math.round(age)} s old`, age),
      );
      if (sample.load5 !== null && sample.cpu_cores) {
        const ratio = sample.load5 / sample.cpu_cores;
        factors.push(factor("load", ramp(ratio, 1, 2, 0.2), `load5 ${sample.load5} on ${sample.cpu_cores} cores (${round(ratio)}×)`, ratio));
      }
      if (sample.cpu_total !== null) factors.push(factor("cpu", ramp(sample.cpu_total, 85, 100, 0.5), `CPU ${round(sample.cpu_total, 1)} % busy`, sample.cpu_total));
      if (sample.mem_total_bytes && sample.mem_used_bytes !== null) {
        const pct = (sample.mem_used_bytes / sample.mem_total_bytes) * 100;
        factors.push(factor("memory", ramp(pct, 80, 98), `memory ${round(pct, 1)} % used`, pct));
      }
      if (sample.swap_total_bytes && sample.swap_used_bytes) {
        const pct = (sample.swap_used_bytes / sample.swap_total_bytes) * 100;
        factors.push(factor("swap", ramp(pct, 25, 90, 0.3), `swap ${round(pct, 1)} % used`, pct));
      }
      const mine = disks.filter((d) => d.machine_id === m.id);
      if (mine.length > 0) {
        const worst = mine.reduce((a, b) => (b.used_pct > a.used_pct ? b : a));
        factors.push(factor("disk", ramp(worst.used_pct, 80, 95), `${worst.mount} ${round(worst.used_pct, 1)} % full`, worst.used_pct));
      }
    }
    // Account headroom, dcg denies, mail backlog, rch queue: where the machine has that data.
    if (sample) {
      for (const { f, readings } of areas) {
        const r = readings.get(m.id);
        if (r) factors.push(factor(f.id, f.score(r.value), r.detail, r.value));
      }
    }
    const failing = states.filter((s) => s.machine_id === m.id && s.last_result === "failed");
    if (failing.length > 0) {
      factors.push(factor("collector_failures", 0.6, `failing: ${failing.map((f) => f.collector).join(", ")}`, failing.length));
    }
    const worst = factors.reduce((a, b) => (b.score < a.score ? b : a));
    const score = worst.score;
    return {
      id: m.id,
      score,
      severity: severityOf(score),
      top_issue: worst.severity === "ok" ? null : worst.id,
      factors,
      last_sample_at: sample?.collected_at ?? null,
    };
  });

  const overallScore = machines.length ? round(machines.reduce((a, m) => a + m.score, 0) / machines.length, 3) : 0;
  return {
    overall: { score: overallScore, severity: worstSeverity(machines.map((m) => m.severity)) },
    machines,
    staleness,
    warnings,
  };
}
