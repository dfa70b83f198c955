import { createHash } from "node:crypto";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import { conditionColumns, conditionSql, describeCondition, type Rule, type Severity, type SuggestedAction } from "./define.ts";

/** One row that met a rule: the data behind an alert. */
export interface Finding {
  rule: string;
  severity: Severity;
  title: string;
  labels: Record<string, string>;
  /** rule + labels: one alert. */
  fingerprint: string;
  machine_id: string | null;
  value: unknown;
  /** The condition, thresholds filled in: "free_pct < 10". */
  expected: string;
  /** The values it was met with: "free_pct = 7.21". */
  received: string;
  message: string;
  actions: SuggestedAction[];
  row: Record<string, unknown>;
}

/** What one rule found, and (with resolveWhen) which alerts may resolve. */
export interface RuleResult {
  rule: Rule;
  findings: Finding[];
  /** Fingerprints whose resolve condition holds (undefined: the rule has none). */
  resolvable?: Set<string>;
  /** With resolveWhen: every fingerprint the source still has rows for (one it lost can resolve). */
  present?: Set<string>;
  error?: string;
}

/** The id of one alert: the rule and its labels. */
export function fingerprint(ruleId: string, labels: Record<string, string>): string {
  const key = `${ruleId}\u0000${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join("\u0000")}`;
  return `${ruleId}:${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return String(Math.round(v * 100) / 100);
  return String(v).replace(/[\x00-\x1f\x7f-\x9f]/g, "");
}

/** `{column}` replaced by the row's values (control characters removed). */
export function fillTemplate(template: string, row: Record<string, unknown>): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (m, k: string) => (k in row ? show(row[k]) : m));
}

function labelsOf(rule: Rule, row: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(rule.labels.map((l) => [l, row[l] === null || row[l] === undefined ? "" : String(row[l])]));
}

/**
 * Runs a rule's query as of `at`; returns its findings as data (expected, received, the rows).
 * A rule whose tables are missing or whose SQL fails returns an error, not a throw.
 */
export async function evaluateRule(store: Store, rule: Rule, at: string): Promise<RuleResult> {
  const t = rule.thresholds ?? {};
  try {
    // One query: with resolveWhen, every row of the source, each saying whether it fires and whether it resolves.
    const all = rule.resolveWhen
      ? await store.query(
          sql`SELECT *, coalesce(${conditionSql(rule.when, t)}, false) AS __fires, ${conditionSql(rule.resolveWhen, t)} AS __resolves FROM (${rule.source.sql(at)}) AS src`,
        )
      : null;
    const rows = all
      ? all.filter((r) => r.__fires === true).map(({ __fires, __resolves, ...row }) => row)
      : await store.query(sql`SELECT * FROM (${rule.source.sql(at)}) AS src WHERE ${conditionSql(rule.when, t)}`);
    const expected = describeCondition(rule.when, t);
    const cols = conditionColumns(rule.when);
    const findings = rows.map((row): Finding => {
      const labels = labelsOf(rule, row);
      return {
        rule: rule.id,
        severity: rule.severity,
        title: rule.title,
        labels,
        fingerprint: fingerprint(rule.id, labels),
        machine_id: typeof row.machine_id === "string" ? row.machine_id : null,
        value: row[rule.value] ?? null,
        expected,
        received: cols.map((c) => `${c} = ${show(row[c])}`).join(", "),
        message: fillTemplate(rule.message, row),
        actions: (rule.actions ?? []).map((a) => ({ title: fillTemplate(a.title, row), ...(a.command ? { command: fillTemplate(a.command, row) } : {}) })),
        row,
      };
    });
    let resolvable: Set<string> | undefined;
    let present: Set<string> | undefined;
    if (all) {
      present = new Set(all.map((row) => fingerprint(rule.id, labelsOf(rule, row))));
      resolvable = new Set(all.filter((row) => row.__resolves === true).map((row) => fingerprint(rule.id, labelsOf(rule, row))));
    }
    return { rule, findings, resolvable, present };
  } catch (err) {
    return { rule, findings: [], error: err instanceof Error ? err.message.split("\n")[0] : String(err) };
  }
}
