import { VcError } from "../errors.ts";
import { sql, type SqlQuery } from "../store/sql.ts";

// The rule DSL: plain, readonly data made by tiny factories (valibot's style), so a rule can be
// printed, explained and checked without running it.

/** A relation rules read from: SQL over the store as of an instant (rows after `at` unseen). */
export interface Source {
  readonly kind: "source";
  readonly name: string;
  readonly description: string;
  /** The relation's SQL; `at` is the evaluation instant (ISO), `window` helpers may use it. */
  readonly sql: (at: string) => SqlQuery;
}

/** Declares a source. */
export function defineSource(s: Omit<Source, "kind">): Source {
  return { kind: "source", ...s };
}

export type Operand =
  | { readonly kind: "column"; readonly name: string }
  | { readonly kind: "threshold"; readonly name: string; readonly default: number }
  | { readonly kind: "value"; readonly value: number | string | boolean }
  | { readonly kind: "mul"; readonly left: Operand; readonly right: Operand };

export type Comparison = "<" | "<=" | ">" | ">=" | "=" | "<>";

export type Condition =
  | { readonly kind: "compare"; readonly op: Comparison; readonly left: Operand; readonly right: Operand }
  | { readonly kind: "and" | "or"; readonly conditions: readonly Condition[] }
  | { readonly kind: "true"; readonly column: string };

const operand = (x: Operand | number | string | boolean): Operand => (typeof x === "object" ? x : { kind: "value", value: x });

/** A column of the rule's source. */
export const col = (name: string): Operand => ({ kind: "column", name });
/** A number the user may override in vc.config.ts (per rule, by name). */
export const threshold = (name: string, fallback: number): Operand => ({ kind: "threshold", name, default: fallback });
/** `left × right` (e.g. cores × 1.5). */
export const mul = (left: Operand | number, right: Operand | number): Operand => ({ kind: "mul", left: operand(left), right: operand(right) });

const compare =
  (op: Comparison) =>
  (left: Operand | string, right: Operand | number | string | boolean): Condition => ({
    kind: "compare",
    op,
    left: typeof left === "string" ? col(left) : left,
    right: operand(right),
  });
export const lt = compare("<");
export const lte = compare("<=");
export const gt = compare(">");
export const gte = compare(">=");
export const eq = compare("=");
export const ne = compare("<>");
export const and = (...conditions: Condition[]): Condition => ({ kind: "and", conditions });
export const or = (...conditions: Condition[]): Condition => ({ kind: "or", conditions });
/** A boolean column that must be true. */
export const isTrue = (column: string): Condition => ({ kind: "true", column });

/** A suggested action: a title and a command (templates: `{column}` from the finding's row). */
export interface SuggestedAction {
  readonly title: string;
  readonly command?: string;
}

export type Severity = "critical" | "high" | "medium" | "low";

/** A rule: data plus a query. */
export interface Rule {
  /** When this alert fires for a machine, that machine's other alerts are inhibited (not notified). */
  readonly inhibitsMachine?: boolean;
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  readonly source: Source;
  /** When a row of the source is a finding. */
  readonly when: Condition;
  /** Hysteresis: once firing, an alert resolves only when this holds for its labels (default: `when` no longer holds). */
  readonly resolveWhen?: Condition;
  /** Columns that identify one alert (machine_id, mount …). */
  readonly labels: readonly string[];
  /** The column shown as the alert's value. */
  readonly value: string;
  /** How long a finding must persist before it fires ("10m"). */
  readonly for?: string;
  /** Keep firing this long after the finding is gone (another form of hysteresis). */
  readonly keepFiringFor?: string;
  /** Template: `{column}` replaced from the finding's row. */
  readonly message: string;
  readonly actions?: readonly SuggestedAction[];
  /** The health factors this rule is about (`disk`, `load`): triage shows the alert and that factor of its machine as one item. */
  readonly factors?: readonly string[];
  /** Its findings are agents waiting for a person: triage lists them before everything else. */
  readonly waitsForPerson?: boolean;
  /** Threshold values overriding the defaults in `when` (set from vc.config.ts). */
  readonly thresholds?: Readonly<Record<string, number>>;
}

const RULE_ID = /^[a-z][a-z0-9_]*$/;

/**
 * Declares a rule. An identity function (with a check of the id), so TypeScript infers the shape.
 * @example defineRule({ id: "disk_low", severity: "critical", source: filesystemsLatest, when: lt("free_pct", threshold("min_free_pct", 10)), labels: ["machine_id", "mount"], value: "free_pct", title: "Disk nearly full", message: "{mount} on {machine_id}: {free_pct} % free" })
 */
export function defineRule<const R extends Rule>(rule: R): R {
  if (!RULE_ID.test(rule.id)) throw new VcError("invalid_input", `rule id "${rule.id}": lower-case letters, digits and '_'`);
  return rule;
}

/** A copy of a rule with some thresholds overridden (the config's way to tune a default rule). */
export function withThresholds<R extends Rule>(rule: R, thresholds: Record<string, number>): R {
  const known = thresholdNames(rule);
  for (const name of Object.keys(thresholds)) {
    if (!known.includes(name)) {
      throw new VcError("config_invalid", `rule ${rule.id} has no threshold "${name}"`, { hint: `its thresholds: ${known.join(", ") || "(none)"}` });
    }
  }
  return { ...rule, thresholds: { ...rule.thresholds, ...thresholds } };
}

/** Every threshold a rule's conditions use, by name. */
export function thresholdNames(rule: Rule): string[] {
  return Object.keys(thresholdDefaults(rule));
}

/** Each threshold a rule's conditions use, with its default. */
export function thresholdDefaults(rule: Rule): Record<string, number> {
  const names: Record<string, number> = {};
  const visitOperand = (o: Operand): void => {
    if (o.kind === "threshold") names[o.name] ??= o.default;
    if (o.kind === "mul") visitOperand(o.left), visitOperand(o.right);
  };
  const visit = (c: Condition): void => {
    if (c.kind === "compare") visitOperand(c.left), visitOperand(c.right);
    else if (c.kind === "and" || c.kind === "or") c.conditions.forEach(visit);
  };
  visit(rule.when);
  if (rule.resolveWhen) visit(rule.resolveWhen);
  return names;
}

/** "10m", "1h", "30s", "2d" → milliseconds. */
export function parseDuration(d: string | undefined): number {
  if (!d) return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(d.trim());
  if (!m) throw new VcError("invalid_input", `"${d}" is not a duration (use 30s, 10m, 1h, 2d)`);
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "ms" | "s" | "m" | "h" | "d"];
}

function thresholdValue(o: Extract<Operand, { kind: "threshold" }>, thresholds: Readonly<Record<string, number>>): number {
  return thresholds[o.name] ?? o.default;
}

/** The SQL of an operand (values and thresholds as parameters, columns quoted). */
function operandSql(o: Operand, t: Readonly<Record<string, number>>): SqlQuery {
  switch (o.kind) {
    case "column":
      return sql`${sql.identifier(o.name)}`;
    case "threshold":
      return sql`${thresholdValue(o, t)}`;
    case "value":
      return sql`${o.value}`;
    case "mul":
      return sql`(${operandSql(o.left, t)} * ${operandSql(o.right, t)})`;
  }
}

/** The SQL of a condition. */
export function conditionSql(c: Condition, t: Readonly<Record<string, number>> = {}): SqlQuery {
  switch (c.kind) {
    case "compare":
      return sql`(${operandSql(c.left, t)} ${sql.raw(c.op)} ${operandSql(c.right, t)})`;
    case "and":
    case "or":
      if (c.conditions.length === 0) return c.kind === "and" ? sql`TRUE` : sql`FALSE`;
      return sql`(${sql.join(
        c.conditions.map((x) => conditionSql(x, t)),
        ` ${c.kind.toUpperCase()} `,
      )})`;
    case "true":
      return sql`(${sql.identifier(c.column)} IS TRUE)`;
  }
}

function operandText(o: Operand, t: Readonly<Record<string, number>>): string {
  switch (o.kind) {
    case "column":
      return o.name;
    case "threshold":
      return String(thresholdValue(o, t));
    case "value":
      return JSON.stringify(o.value);
    case "mul":
      return `${operandText(o.left, t)} × ${operandText(o.right, t)}`;
  }
}

/** The condition as a person reads it: "free_pct < 10". */
export function describeCondition(c: Condition, t: Readonly<Record<string, number>> = {}): string {
  switch (c.kind) {
    case "compare":
      return `${operandText(c.left, t)} ${c.op} ${operandText(c.right, t)}`;
    case "and":
    case "or":
      return c.conditions.map((x) => (x.kind === "and" || x.kind === "or" ? `(${describeCondition(x, t)})` : describeCondition(x, t))).join(` ${c.kind} `);
    case "true":
      return `${c.column} is true`;
  }
}

/** The columns a condition reads. */
export function conditionColumns(c: Condition): string[] {
  const out = new Set<string>();
  const visitOperand = (o: Operand): void => {
    if (o.kind === "column") out.add(o.name);
    if (o.kind === "mul") visitOperand(o.left), visitOperand(o.right);
  };
  const visit = (x: Condition): void => {
    if (x.kind === "compare") visitOperand(x.left), visitOperand(x.right);
    else if (x.kind === "true") out.add(x.column);
    else x.conditions.forEach(visit);
  };
  visit(c);
  return [...out];
}
