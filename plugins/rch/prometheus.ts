/**
 * A parser for the Prometheus text exposition format (version 0.0.4, what rchd's prometheus crate
 * writes), tolerant of the OpenMetrics additions a newer exporter may send: `# EOF`, `# UNIT`,
 * exemplars after ` # `, quoted (UTF-8) metric and label names.
 *
 * Written here rather than taken from npm: the one parser there (parse-prometheus-text-format)
 * has had no release since 2019, ships no types, folds histograms into objects (losing the
 * samples) and gives up on the whole scrape at the first bad line. This one keeps every sample,
 * reports a bad line as data and goes on.
 */

/** One sample line: `name{labels} value [timestamp]`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  /** NaN and ±Infinity as JavaScript has them. */
  value: number;
  /** Epoch milliseconds, when the line carried a timestamp. */
  timestampMs: number | null;
}

/** A metric family: `# HELP`, `# TYPE` and its samples (histogram `_bucket`/`_sum`/`_count` included). */
export interface PromFamily {
  name: string;
  /** counter | gauge | histogram | summary | untyped (OpenMetrics: also info, stateset, gaugehistogram, unknown). */
  type: string;
  help: string | null;
  unit: string | null;
  samples: PromSample[];
}

export interface PromParseError {
  /** 1-based line number. */
  line: number;
  message: string;
  text: string;
}

export interface PromParseResult {
  families: PromFamily[];
  errors: PromParseError[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)$/;

/** Suffixes a sample may add to its family's name, by family type. */
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ["_bucket", "_sum", "_count", "_created"],
  gaugehistogram: ["_bucket", "_gsum", "_gcount"],
  summary: ["_sum", "_count", "_created"],
  counter: ["_total", "_created"],
  info: ["_info"],
};

/** A Prometheus float: digits, `NaN`, `+Inf`/`-Inf` (any case, as Go's ParseFloat takes them). */
export function parsePromFloat(s: string): number | null {
  const t = s.toLowerCase();
  if (t === "nan") return Number.NaN;
  if (t === "+inf" || t === "inf" || t === "+infinity" || t === "infinity") return Number.POSITIVE_INFINITY;
  if (t === "-inf" || t === "-infinity") return Number.NEGATIVE_INFINITY;
  if (!FLOAT.test(s)) return null;
  const n = s.startsWith("0x") || s.startsWith("0X") ? Number.parseInt(s, 16) : Number(s);
  return Number.isNaN(n) ? null : n;
}

class LineError extends Error {}

/** Reads a `"…"` string at `pos` (backslash escapes `\\`, `\"`, `\n`); returns it and the position after it. */
function readQuoted(line: string, pos: number): [string, number] {
  if (line[pos] !== '"') throw new LineError(`expected '"' at column ${pos + 1}`);
  let out = "";
  for (let i = pos + 1; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\\") {
      const n = line[++i];
      if (n === "n") out += "\n";
      else if (n === "\\" || n === '"') out += n;
      else if (n === undefined) break;
      else out += `\\${n}`; // unknown escape: kept as written
    } else if (c === '"') return [out, i + 1];
    else out += c;
  }
  throw new LineError("unterminated quoted string");
}

const skipBlanks = (line: string, pos: number) => {
  while (line[pos] === " " || line[pos] === "\t") pos++;
  return pos;
};

/** Parses one sample line into its name, labels, value and timestamp. */
export function parseSampleLine(line: string, timestampUnit: "ms" | "s" = "ms"): PromSample {
  let pos = skipBlanks(line, 0);
  let name: string | null = null;
  const m = NAME.exec(line.slice(pos));
  if (m) {
    name = m[0];
    pos += name.length;
  }
  const labels: Record<string, string> = {};
  if (line[skipBlanks(line, pos)] === "{") {
    pos = skipBlanks(line, pos) + 1;
    for (;;) {
      pos = skipBlanks(line, pos);
      if (line[pos] === "}") {
        pos++;
        break;
      }
      let key: string;
      const quoted = line[pos] === '"';
      if (quoted) [key, pos] = readQuoted(line, pos);
      else {
        const l = LABEL.exec(line.slice(pos));
        if (!l) throw new LineError(`bad label name at column ${pos + 1}`);
        key = l[0];
        pos += key.length;
      }
      pos = skipBlanks(line, pos);
      if (line[pos] === "=") {
        pos = skipBlanks(line, pos + 1);
        let value: string;
        [value, pos] = readQuoted(line, pos);
        if (Object.hasOwn(labels, key)) throw new LineError(`label ${key} given twice`);
        labels[key] = value;
      } else if (name === null && quoted) {
        name = key; // OpenMetrics 2 / Prometheus 3: {"metric.name", label="v"}
      } else throw new LineError(`expected '=' after label ${key}`);
      pos = skipBlanks(line, pos);
      if (line[pos] === ",") pos++;
      else if (line[pos] !== "}") throw new LineError(`expected ',' or '}' at column ${pos + 1}`);
    }
  }
  if (name === null || name === "") throw new LineError("no metric name");
  const rest = line.slice(pos);
  if (!/^[ \t]/.test(rest)) throw new LineError("no value after the metric");
  // An exemplar (` # {trace_id="…"} 1.0`) follows the value in OpenMetrics: not part of the sample.
  const hash = rest.indexOf(" # ");
  const fields = (hash >= 0 ? rest.slice(0, hash) : rest).trim().split(/[ \t]+/);
  if (fields.length > 2 || fields[0] === "") throw new LineError(`expected 'value [timestamp]', got ${JSON.stringify(rest.trim())}`);
  const value = parsePromFloat(fields[0]!);
  if (value === null) throw new LineError(`bad value ${JSON.stringify(fields[0])}`);
  let timestampMs: number | null = null;
  if (fields[1] !== undefined) {
    const t = parsePromFloat(fields[1]);
    if (t === null || !Number.isFinite(t)) throw new LineError(`bad timestamp ${JSON.stringify(fields[1])}`);
    timestampMs = timestampUnit === "s" ? Math.round(t * 1000) : Math.trunc(t);
  }
  return { name, labels, value, timestampMs };
}

/**
 * Parses a whole exposition: families in the order they appear, each with its samples. A line it
 * cannot read is skipped and reported in `errors`; a sample with no `# TYPE` gets an untyped family.
 * @example const { families, errors } = parsePrometheusText(await (await fetch(url)).text())
 */
export function parsePrometheusText(text: string): PromParseResult {
  const families = new Map<string, PromFamily>();
  const errors: PromParseError[] = [];
  const lines = text.split("\n");
  // OpenMetrics ends with `# EOF` and writes timestamps in seconds; 0.0.4 in milliseconds.
  const openMetrics = lines.some((l) => l.trim() === "# EOF");
  const family = (name: string): PromFamily => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: "untyped", help: null, unit: null, samples: [] }));
    return f;
  };
  const familyOf = (sample: string): PromFamily => {
    const exact = families.get(sample);
    if (exact && !(exact.type === "info" && !sample.endsWith("_info"))) return exact;
    for (const [type, suffixes] of Object.entries(SUFFIXES)) {
      for (const s of suffixes) {
        if (!sample.endsWith(s)) continue;
        const f = families.get(sample.slice(0, -s.length));
        if (f && f.type === type) return f;
      }
    }
    return exact ?? family(sample);
  };

  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === "") return;
    try {
      if (trimmed.startsWith("#")) {
        const m = /^#[ \t]+(HELP|TYPE|UNIT)[ \t]+("(?:[^"\\]|\\.)*"|[^ \t]+)(?:[ \t]+(.*))?$/.exec(trimmed);
        if (!m) return; // a plain comment, or # EOF
        const name = m[2]!.startsWith('"') ? readQuoted(m[2]!, 0)[0] : m[2]!;
        const rest = m[3] ?? "";
        const f = family(name);
        if (m[1] === "HELP") f.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
        else if (m[1] === "UNIT") f.unit = rest || null;
        else {
          const type = rest.trim().toLowerCase();
          if (!/^[a-z]+$/.test(type)) throw new LineError(`bad TYPE ${JSON.stringify(rest)}`);
          if (f.type !== "untyped" && f.type !== type) throw new LineError(`${name} was already declared ${f.type}`);
          f.type = type;
        }
        return;
      }
      const sample = parseSampleLine(line, openMetrics ? "s" : "ms");
      familyOf(sample.name).samples.push(sample);
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      errors.push({ line: i + 1, message: err.message, text: line.slice(0, 200) });
    }
  });
  // Families declared (HELP/TYPE) but never sampled are left out, as an empty family says nothing.
  return { families: [...families.values()].filter((f) => f.samples.length > 0), errors };
}

/** The canonical text of a label set: `{a="x",b="y"}` sorted by name, values escaped; `""` for none. */
export function labelsKey(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "";
  const esc = (s: string) => s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
  return `{${keys.map((k) => `${k}="${esc(labels[k]!)}"`).join(",")}}`;
}
