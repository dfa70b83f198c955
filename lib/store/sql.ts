/** A SQL text with its parameters kept apart; built by the `sql` tag, rendered per dialect. */
export interface SqlQuery {
  readonly kind: "sql";
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
}

/** A fragment put into the text as is (identifiers, trusted SQL). */
interface RawSql {
  readonly kind: "raw";
  readonly text: string;
}

function isSql(v: unknown): v is SqlQuery {
  return typeof v === "object" && v !== null && (v as SqlQuery).kind === "sql";
}
function isRaw(v: unknown): v is RawSql {
  return typeof v === "object" && v !== null && (v as RawSql).kind === "raw";
}

/**
 * SQL as a tagged template: every interpolation becomes a parameter, never text.
 * Nested `sql` fragments are spliced in with their own parameters; `sql.raw` and
 * `sql.identifier` are the deliberate escape hatches.
 * @example sql`select * from messages where id > ${after} limit ${n}`
 */
export function sql(strings: TemplateStringsArray | readonly string[], ...values: unknown[]): SqlQuery {
  const outStrings: string[] = [strings[0] ?? ""];
  const outValues: unknown[] = [];
  values.forEach((value, i) => {
    const next = strings[i + 1] ?? "";
    if (isSql(value)) {
      outStrings[outStrings.length - 1] += value.strings[0] ?? "";
      value.values.forEach((v, j) => {
        outValues.push(v);
        outStrings.push(value.strings[j + 1] ?? "");
      });
      outStrings[outStrings.length - 1] += next;
    } else if (isRaw(value)) {
      outStrings[outStrings.length - 1] += value.text + next;
    } else {
      outValues.push(value);
      outStrings.push(next);
    }
  });
  return { kind: "sql", strings: outStrings, values: outValues };
}

/** Trusted SQL text put in as is. Never pass anything that came from outside. */
sql.raw = (text: string): RawSql => ({ kind: "raw", text });

/** A quoted identifier (table or column name). */
sql.identifier = (name: string): RawSql => ({ kind: "raw", text: quoteIdentifier(name) });

/** Several fragments joined by a separator. */
sql.join = (parts: readonly SqlQuery[], separator = ", "): SqlQuery => {
  if (parts.length === 0) return sql``;
  const strings: string[] = [""];
  for (let i = 0; i < parts.length; i++) strings.push(i === parts.length - 1 ? "" : separator);
  return sql(strings, ...parts);
};

/** Double-quotes an identifier the way DuckDB and SQLite read it. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Text with `$1, $2 …` placeholders (DuckDB) or `?1, ?2 …` (SQLite) and the parameters. */
export function renderSql(query: SqlQuery | string, dialect: "duckdb" | "sqlite" = "duckdb"): { text: string; params: unknown[] } {
  if (typeof query === "string") return { text: query, params: [] };
  const mark = dialect === "duckdb" ? "$" : "?";
  let text = query.strings[0] ?? "";
  for (let i = 0; i < query.values.length; i++) text += `${mark}${i + 1}${query.strings[i + 1] ?? ""}`;
  return { text, params: [...query.values] };
}

/**
 * SQL text with every parameter written as a literal, for a remote `sqlite3` that takes no
 * parameters. Only numbers, bigints, booleans, null and strings are accepted.
 */
export function inlineSql(query: SqlQuery | string): string {
  if (typeof query === "string") return query;
  let text = query.strings[0] ?? "";
  query.values.forEach((v, i) => {
    text += sqlLiteral(v) + (query.strings[i + 1] ?? "");
  });
  return text;
}

/** One value as a SQL literal (strings single-quoted with quotes doubled). */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new TypeError(`cannot inline ${v} into SQL`);
    return String(v);
  }
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean") return v ? "1" : "0";
  if (typeof v === "string") {
    if (v.includes("\0")) throw new TypeError("cannot inline a NUL byte into SQL");
    return `'${v.replaceAll("'", "''")}'`;
  }
  if (v instanceof Date) return `'${v.toISOString()}'`;
  throw new TypeError(`cannot inline a ${typeof v} into SQL`);
}
