// What changed between two moments (plan §5.4, `vc robot diff --from T1 --to T2`): alerts opened and
// closed, health factors that moved, machines that appeared or went quiet — vc's own — and what each
// plugin says changed in its tool's data (`diffs` in definePlugin: repos that changed state,
// accounts' usage, new dcg rules, new agents …). Every source reads only rows collected by `to`.
import type { VcConfig } from "./config/define.ts";
import { computeHealth } from "./health/index.ts";
import type { Plugin } from "./plugin/define.ts";
import { sql } from "./store/sql.ts";
import type { Store } from "./store/store.ts";
import { errorMessage, isMissingTable } from "./errors.ts";

/** One change: what, where, from what to what, as a line a person reads. */
export interface DiffEntry {
  /** What kind of change ("opened", "resolved", "moved", "appeared", "quiet", "state", "usage", "new_rule", "new_agent" …). */
  change: string;
  machine_id: string | null;
  /** What changed: an alert id, a factor, a repo, an account … */
  subject: string;
  from: unknown;
  to: unknown;
  /** When, if the change has one instant. */
  at: string | null;
  text: string;
}

/** What a diff source is asked. */
export interface DiffQuery {
  store: Store;
  config: VcConfig;
  /** ISO 8601: changes after `from`, up to and including `to`. */
  from: string;
  to: string;
  /** Only this machine. */
  machine?: string;
}

/** One section of the diff, contributed by vc or a plugin. */
export interface DiffSource {
  /** Unique: "alerts", "repos" … */
  name: string;
  /** The section's heading ("REPOS"). */
  title: string;
  load(q: DiffQuery): Promise<DiffEntry[]>;
}

/** Declares a diff source (an identity function, for the types). */
export function defineDiffSource(source: DiffSource): DiffSource {
  return source;
}

export interface DiffData {
  from: string;
  to: string;
  machine: string | null;
  sections: { name: string; title: string; entries: DiffEntry[] }[];
  /** Sources that failed (the others answered). */
  errors: { source: string; error: string }[];
}

/** ` AND <column> = machine` when the diff is about one machine. */
export const diffOnMachine = (q: Pick<DiffQuery, "machine">, column = "machine_id") => (q.machine ? sql` AND ${sql.raw(column)} = ${q.machine}` : sql``);
const onMachine = diffOnMachine;

/** Alerts that fired or resolved in the span (their history's state changes). */
const alertChanges = defineDiffSource({
  name: "alerts",
  title: "ALERTS",
  async load(q) {
    const rows = await q.store.query<{
      alert_id: string;
      ts: string;
      event: string;
      machine_id: string | null;
      rule_id: string;
      message: string | null;
      title: string | null;
      severity: string | null;
    }>(
      sql`SELECT h.alert_id, h.ts, h.event, h.machine_id, h.rule_id, coalesce(h.message, a.message) AS message, a.title, a.severity
          FROM alert_history h LEFT JOIN alerts a USING (alert_id)
          WHERE h.event IN ('firing', 'resolved') AND h.ts > ${q.from}::TIMESTAMP AND h.ts <= ${q.to}::TIMESTAMP${onMachine(q, "h.machine_id")}
          ORDER BY h.ts, h.alert_id`,
    );
    return rows.map((r) => ({
      change: r.event === "firing" ? "opened" : "resolved",
      machine_id: r.machine_id,
      subject: r.alert_id,
      from: r.event === "firing" ? "pending" : "firing",
      to: r.event,
      at: r.ts,
      text: `${r.event === "firing" ? "fired" : "resolved"}: ${r.severity ? `[${r.severity}] ` : ""}${r.title ?? r.rule_id}${r.machine_id ? ` on ${r.machine_id}` : ""}${r.message ? ` — ${r.message}` : ""}`,
    }));
  },
});

const ORDER = ["ok", "low", "medium", "high", "critical"];

/** Health factors whose severity changed between the two moments (health as computed from the rows of each). */
const healthChanges = defineDiffSource({
  name: "health",
  title: "HEALTH FACTORS",
  async load(q) {
    const [a, b] = await Promise.all([computeHealth(q.store, q.config, new Date(q.from)), computeHealth(q.store, q.config, new Date(q.to))]);
    const out: DiffEntry[] = [];
    for (const m of b.machines) {
      if (q.machine && m.id !== q.machine) continue;
      const before = new Map((a.machines.find((x) => x.id === m.id)?.factors ?? []).map((f) => [f.id, f]));
      const ids = new Set([...before.keys(), ...m.factors.map((f) => f.id)]);
      for (const id of ids) {
        const f0 = before.get(id);
        const f1 = m.factors.find((f) => f.id === id);
        const s0 = f0?.severity ?? "ok";
        const s1 = f1?.severity ?? "ok";
        if (s0 === s1) continue;
        const worse = ORDER.indexOf(s1) > ORDER.indexOf(s0);
        out.push({
          change: worse ? "worse" : "better",
          machine_id: m.id,
          subject: id,
          from: s0,
          to: s1,
          at: null,
          text: `${m.id} ${id}: ${s0} → ${s1}${f1?.detail ? ` (${f1.detail})` : f0?.detail ? ` (was: ${f0.detail})` : ""}`,
        });
      }
    }
    return out.sort((x, y) => ORDER.indexOf(String(y.to)) - ORDER.indexOf(String(x.to)) || (x.machine_id ?? "").localeCompare(y.machine_id ?? ""));
  },
});

/** Machines first seen in the span, and machines that sent samples before it but none in its last quarter. */
const machineChanges = defineDiffSource({
  name: "machines",
  title: "MACHINES",
  async load(q) {
    const span = Date.parse(q.to) - Date.parse(q.from);
    const quiet = new Date(Date.parse(q.to) - Math.max(10 * 60_000, span / 4)).toISOString();
    const rows = await q.store.query<{ machine_id: string; first: string | null; before: string | null; last: string | null }>(
      sql`SELECT machine_id, min(collected_at) AS first,
                 max(collected_at) FILTER (WHERE collected_at <= ${q.from}::TIMESTAMP) AS before,
                 max(collected_at) FILTER (WHERE collected_at <= ${q.to}::TIMESTAMP) AS last
          FROM sys_samples WHERE collected_at <= ${q.to}::TIMESTAMP${onMachine(q)} GROUP BY machine_id ORDER BY machine_id`,
    );
    const out: DiffEntry[] = [];
    for (const r of rows) {
      if (r.first && r.first > q.from)
        out.push({
          change: "appeared",
          machine_id: r.machine_id,
          subject: r.machine_id,
          from: null,
          to: r.first,
          at: r.first,
          text: `${r.machine_id} first reported at ${r.first}`,
        });
      else if (r.before && r.last && r.last < quiet)
        out.push({
          change: "quiet",
          machine_id: r.machine_id,
          subject: r.machine_id,
          from: r.before,
          to: r.last,
          at: r.last,
          text: `${r.machine_id} went quiet: its last sample is from ${r.last}`,
        });
    }
    return out;
  },
});

/** vc's own sections: alerts, health, machines. */
export const coreDiffSources: readonly DiffSource[] = [alertChanges, healthChanges, machineChanges];

/** Every section for a config: vc's own, then each plugin's in plugin order. */
export function diffSources(plugins: readonly Plugin[]): DiffSource[] {
  return [...coreDiffSources, ...plugins.flatMap((p) => p.diffs ?? [])];
}

/** The diff between two moments: every source asked; one that fails is an error beside the others. */
export async function loadDiff(sources: readonly DiffSource[], q: DiffQuery): Promise<DiffData> {
  const errors: DiffData["errors"] = [];
  const sections = await Promise.all(
    sources.map(async (s) => {
      try {
        return { name: s.name, title: s.title, entries: await s.load(q) };
      } catch (err) {
        // A tool whose tables this store does not have changed nothing.
        if (!isMissingTable(err)) errors.push({ source: s.name, error: errorMessage(err) });
        return { name: s.name, title: s.title, entries: [] };
      }
    }),
  );
  return { from: q.from, to: q.to, machine: q.machine ?? null, sections, errors };
}
