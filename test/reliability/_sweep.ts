// The mutation sweep: every collector's real fixtures (test/fixtures/<tool>/…), mutated — bytes
// flipped, cut, lines duplicated or deleted, numbers made huge, lone surrogates, deep nesting, very
// long strings, escape sequences, values of another type, SQLite values and pages — and run through
// runCollector against a real, freshly migrated DuckDB store. Used by test/reliability/mutation.test.ts
// (a few runs per collector) and test/bench/reliability/mutation.ts (the larger sweep, with figures).
//
// What a run may do: succeed, be skipped, or fail readably. What it must not do:
// - throw out of runCollector;
// - fail because a parser threw a TypeError, RangeError, ReferenceError or a non-JSON SyntaxError
//   (an uncaught exception inside a parser: the run fails for a bug, not for its input);
// - fail as a whole after the collector returned at least one row — "a well-formed row": a record
//   the collector's own parsing and schema checks accepted and handed to the store. Such a run lost
//   good rows to a bad one (a whole-batch insert failure);
// - hang (no answer within HANG_MS, well past the collector's own timeout).
import { Database } from "bun:sqlite";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Collector, RunResult } from "../../lib/index.ts";
import { createFixedClock } from "../../lib/clock.ts";
import { runCollector } from "../../lib/collect/run.ts";
import { createFakeMachine, createTestStore, type FakeMachine } from "../../lib/testkit.ts";
import { afsc } from "../../plugins/afsc/index.ts";
import { beads } from "../../plugins/beads/index.ts";
import { caam } from "../../plugins/caam/index.ts";
import { cass } from "../../plugins/cass/index.ts";
import { caut } from "../../plugins/caut/index.ts";
import { cloudBenchmarker } from "../../plugins/cloud_benchmarker/index.ts";
import { dcg } from "../../plugins/dcg/index.ts";
import { mcpAgentMail } from "../../plugins/mcp_agent_mail/index.ts";
import { ntm } from "../../plugins/ntm/index.ts";
import { pt } from "../../plugins/pt/index.ts";
import { rano } from "../../plugins/rano/index.ts";
import { rch } from "../../plugins/rch/index.ts";
import { ru } from "../../plugins/ru/index.ts";
import { sysmoni } from "../../plugins/sysmoni/index.ts";
import { sysprobe } from "../../plugins/sysprobe/index.ts";

const fx = (tool: string, name: string) => readFileSync(join(import.meta.dir, "../fixtures", tool, name), "utf8");

/** One input of a collector that a mutation may change. */
export type Input =
  | { kind: "tool"; tool: string /** Arguments as one string; a trailing `*` matches by prefix. */; args: string; text: string; exit?: number }
  | { kind: "file"; path: string; text: string }
  | { kind: "sqlite"; path: string; sql: string }
  | { kind: "http"; route: string; text: string }
  /** What any `{ script }` the collector runs prints (sysprobe's probe reads /proc: its output is the fixture). */
  | { kind: "script"; text: string };

/** A collector with its real fixtures, as its test file feeds them. */
export interface Target {
  name: string;
  collector: () => Collector;
  inputs: Input[];
  /** Files that stay as they are. */
  home?: Record<string, string>;
  /** Per-machine path overrides; `{http}` is the fake machine's loopback server. */
  paths?: Record<string, string>;
}

const DCG_LOG = ".local/share/dcg/decisions.jsonl";
const MAILBOX = ".mcp_agent_mail_git_mailbox_repo/storage.sqlite3";
const AFSC = ".local/share/afsc/results/results_20260820_061112.jsonl";

/** Every collector of plugins/, with the fixtures its tests use. */
export function targets(): Target[] {
  const issues = fx("beads", "issues.jsonl");
  return [
    { name: "afsc", collector: () => afsc(), inputs: [{ kind: "file", path: AFSC, text: fx("afsc", "results.jsonl") }] },
    {
      name: "beads",
      collector: () => beads({ repos: ["~/projects/vc", "~/projects/br/"], useRu: false }),
      inputs: [
        { kind: "tool", tool: "bv", args: "--robot-triage", text: fx("beads", "bv-robot-triage.json") },
        { kind: "tool", tool: "br", args: "ready --json", text: fx("beads", "br-ready.json") },
        { kind: "file", path: "projects/vc/.beads/issues.jsonl", text: issues },
        { kind: "file", path: "projects/br/.beads/issues.jsonl", text: `${issues.split("\n").slice(0, 3).join("\n")}\n` },
      ],
    },
    {
      name: "caam",
      collector: () => caam(),
      inputs: [
        { kind: "tool", tool: "caam", args: "limits --format json", text: fx("caam", "limits.format-json.json") },
        { kind: "tool", tool: "caam", args: "status --json", text: fx("caam", "status.json") },
      ],
    },
    {
      name: "cass",
      collector: () => cass(),
      inputs: [
        { kind: "tool", tool: "cass", args: "health --json", text: fx("cass", "health.json") },
        { kind: "tool", tool: "cass", args: "stats --json", text: fx("cass", "stats.json") },
        { kind: "tool", tool: "cass", args: "timeline --json", text: fx("cass", "timeline.json") },
      ],
    },
    {
      name: "caut",
      collector: () => caut(),
      inputs: [
        { kind: "tool", tool: "caut", args: "usage --json", text: fx("caut", "usage.json") },
        { kind: "sqlite", path: ".local/share/caut/usage-history.sqlite", sql: fx("caut", "usage-history.sql") },
      ],
    },
    {
      name: "cloud_benchmarker",
      collector: () => cloudBenchmarker({ utcOffset: "+02:00" }),
      inputs: [
        { kind: "http", route: "/data/raw/", text: fx("cloud_benchmarker", "data-raw.json") },
        { kind: "http", route: "/data/overall/", text: fx("cloud_benchmarker", "data-overall.json") },
      ],
      paths: { "cloud_benchmarker.url": "{http}" },
    },
    {
      name: "dcg",
      collector: () => dcg(),
      inputs: [
        { kind: "file", path: DCG_LOG, text: fx("dcg", "decision-log.jsonl") },
        { kind: "sqlite", path: ".config/dcg/history.db", sql: fx("dcg", "history-db.sql") },
        { kind: "file", path: ".config/dcg/config.toml", text: `[logging]\nenabled = true\nformat = "json"\nfile = "~/${DCG_LOG}"\n` },
      ],
    },
    { name: "mcp_agent_mail", collector: () => mcpAgentMail(), inputs: [{ kind: "sqlite", path: MAILBOX, sql: fx("mcp_agent_mail", "storage.sqlite3.sql") }] },
    {
      name: "mcp_agent_mail(python)",
      collector: () => mcpAgentMail(),
      inputs: [{ kind: "sqlite", path: MAILBOX, sql: fx("mcp_agent_mail", "storage.sqlite3.python-legacy.sql") }],
    },
    {
      name: "ntm",
      collector: () => ntm(),
      inputs: [
        { kind: "tool", tool: "ntm", args: "--robot-status", text: fx("ntm", "robot-status.json") },
        { kind: "tool", tool: "ntm", args: "list --json", text: fx("ntm", "list.json") },
      ],
    },
    { name: "pt", collector: () => pt(), inputs: [{ kind: "tool", tool: "pt", args: "robot plan --format json", text: fx("pt", "robot-plan.format-json.json"), exit: 1 }] },
    { name: "rano", collector: () => rano(), inputs: [{ kind: "tool", tool: "rano", args: "export --format jsonl --since*", text: fx("rano", "export.jsonl") }] },
    {
      name: "rch",
      collector: () => rch(),
      inputs: [
        { kind: "tool", tool: "rch", args: "status --json", text: fx("rch", "status.json") },
        { kind: "http", route: "/metrics", text: fx("rch", "metrics.txt") },
      ],
      paths: { "rch.metrics_url": "{http}/metrics" },
    },
    {
      name: "ru",
      collector: () => ru(),
      inputs: [
        { kind: "tool", tool: "ru", args: "list --json", text: fx("ru", "list.json") },
        { kind: "tool", tool: "ru", args: "status --no-fetch --json", text: fx("ru", "status.no-fetch.json") },
      ],
    },
    { name: "sysmoni", collector: () => sysmoni({ inotifyProbe: false }), inputs: [{ kind: "tool", tool: "sysmoni", args: "--json", text: fx("sysmoni", "json.json") }] },
    { name: "sysprobe", collector: () => sysprobe({ cpuSampleMs: 0 }), inputs: [{ kind: "script", text: fx("sysprobe", "probe-output.txt") }] },
  ];
}

// ── mutations ────────────────────────────────────────────────────────────────────────────────────

export const OPS = ["none", "flip", "truncate", "dupLine", "delLine", "hugeNumber", "surrogate", "deep", "longString", "escape", "typeSwap", "sqlValue", "sqlBytes"] as const;
export type Op = (typeof OPS)[number];

/** One mutation, as fast-check draws it: which input, what to do, and three numbers that pick where and what. */
export interface Mutation {
  input: number;
  op: Op;
  a: number;
  b: number;
  c: number;
}

const enc = new TextEncoder();
const HUGE = ["1e999", "-1e999", "18446744073709551615", "1e300", "-9223372036854775809", "340282366920938463463374607431768211456", "9007199254740993", "4.9e-324", "1e-400"];
const ESCAPES = ["\\u001b[2J", "\\u001b]0;pwned\\u0007", "\\u009b31m", "\\u202e", "\\u0000", "\\u001b]52;c;aGk=\\u0007", "\\\\", "\\ud83d\\ude00"];
const SWAPS = ["null", '"text"', "0", "-1", "{}", "[]", "true", '"2026-13-45T99:99:99Z"', '"9999-12-31T23:59:59Z"', '"0001-01-01T00:00:00Z"', "1e999", '""', '"NaN"'];
const SQL_VALUES = [
  "9223372036854775807",
  "-9223372036854775808",
  "1e999",
  "-1e999",
  "'1e999'",
  "'18446744073709551615'",
  "CAST(X'EDB280' AS TEXT)",
  `'{"a":"\\udc80"}'`,
  `'${"[".repeat(5000)}${"]".repeat(5000)}'`,
  "randomblob(16)",
  "NULL",
  "'not a time'",
  "'2026-02-30T25:61:61Z'",
  "printf('%.*c', 200000, 'x')",
  "-1",
  "0",
  "'\u001b[2J\u009b\u202e'",
];

const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;
const matches = (text: string, re: RegExp) => [...text.matchAll(re)];
const NUMBER = /-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/g;
const STRING = /"(?:[^"\\\n]|\\.)*"/g;
const VALUE = /"(?:[^"\\\n]|\\.)*"|-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b|\btrue\b|\bfalse\b|\bnull\b/g;

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const bufs = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bufs) out.set(b, at), (at += b.length);
  return out;
}

/** Replaces the match `m` (of `text`) by `by`. */
const splice = (text: string, index: number, length: number, by: string | Uint8Array) => concat(text.slice(0, index), by, text.slice(index + length));

/** A text input mutated; the result may be any bytes. */
export function mutateText(text: string, m: Mutation): Uint8Array {
  const { a, b, c } = m;
  switch (m.op) {
    case "flip": {
      const bytes = enc.encode(text);
      if (bytes.length === 0) return bytes;
      for (let i = 0; i <= b % 8; i++) bytes[(a + i * (c + 1)) % bytes.length]! ^= (c >> i) & 0xff || 0x80;
      return bytes;
    }
    case "truncate": {
      const bytes = enc.encode(text);
      return bytes.subarray(0, a % (bytes.length + 1));
    }
    case "dupLine":
    case "delLine": {
      const lines = text.split("\n");
      const i = a % lines.length;
      if (m.op === "dupLine") lines.splice(i, 0, lines[i]!);
      else lines.splice(i, 1);
      return enc.encode(lines.join("\n"));
    }
    case "hugeNumber":
    case "deep": {
      const found = matches(text, NUMBER);
      if (found.length === 0) return enc.encode(text);
      const at = pick(found, a);
      const depth = pick([300, 5000, 100_000], b);
      const by = m.op === "hugeNumber" ? pick(HUGE, b) : c % 2 ? `${"[".repeat(depth)}1${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
      return splice(text, at.index!, at[0].length, by);
    }
    case "surrogate":
    case "longString":
    case "escape": {
      // Inside a string literal (just after its opening quote), else anywhere.
      const found = matches(text, STRING);
      const at = found.length ? pick(found, a).index! + 1 : a % (text.length + 1);
      const by =
        m.op === "surrogate"
          ? pick<string | Uint8Array>(["\\udc80", "\\ud800", "\\udfff\\ud800", new Uint8Array([0xed, 0xb2, 0x80]), "\\ud800\\ud83d\\ude00"], b)
          : m.op === "longString"
            ? pick(["x", "\\u00e9", "\\\\", "€"], c).repeat(pick([70_000, 1_000_000, 3_000_000], b))
            : pick(ESCAPES, b);
      return splice(text, at, 0, by);
    }
    case "typeSwap": {
      const found = matches(text, VALUE);
      if (found.length === 0) return enc.encode(text);
      const at = pick(found, a);
      return splice(text, at.index!, at[0].length, pick(SWAPS, b));
    }
    default:
      return enc.encode(text);
  }
}

// ── one collector's machine and store ───────────────────────────────────────────────────────────

/** What one run came to. */
export type Outcome = "ok" | "skipped" | "clean_failure" | "parser_exception" | "whole_batch_failure" | "runcollector_throw" | "hang";

export interface CaseResult {
  outcome: Outcome;
  /** The error, for the outcomes that are defects. */
  detail?: string;
}

/** How long a run may take before it counts as a hang: well past the collector's own 10 s limit. */
export const HANG_MS = 30_000;
const LIMITS = { timeoutMs: 10_000, maxBytes: 16 * 1024 * 1024, maxRows: 100_000 };
const BUG_ERRORS = new Set(["TypeError", "RangeError", "ReferenceError", "InternalError", "EvalError", "URIError"]);

/** True for an error a parser should never let out: a JS engine error, not a readable failure. */
export function isBugError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (BUG_ERRORS.has(err.name) || BUG_ERRORS.has(err.constructor?.name)) return true;
  return err.name === "SyntaxError" && !/JSON/i.test(err.message);
}

const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * One collector on a fake machine (its fixtures in HOME, its tools on PATH answering from files
 * a mutation rewrites, a loopback HTTP server) with one fresh store; each run uses a new machine id,
 * so no cursor carries over from one mutation to the next.
 */
export async function createSweep(target: Target) {
  const routes: Record<string, { body: string }> = {};
  const machine: FakeMachine = createFakeMachine({ home: target.home, http: routes, paths: target.paths });
  const collector = target.collector();
  const store = await createTestStore([collector]);
  const answers = join(machine.dir, "answers");
  const templates = join(machine.dir, "templates");
  mkdirSync(answers);
  mkdirSync(templates);

  // The fake tools: each answers its arguments from answers/<input index>.
  const byTool = new Map<string, { i: number; input: Extract<Input, { kind: "tool" }> }[]>();
  target.inputs.forEach((input, i) => {
    if (input.kind === "tool") byTool.set(input.tool, [...(byTool.get(input.tool) ?? []), { i, input }]);
  });
  for (const [tool, list] of byTool) {
    const cases = list.map(({ i, input }) => {
      const pattern = input.args.endsWith("*") ? `${sh(input.args.slice(0, -1))}*` : sh(input.args);
      return `  ${pattern}) cat ${sh(join(answers, String(i)))}; exit ${input.exit ?? 0} ;;`;
    });
    const file = join(machine.bin, tool);
    writeFileSync(
      file,
      `#!/bin/sh\ncase "$*" in\n${cases.join("\n")}\n  --version) echo '${tool} 0.0.0-fake'; exit 0 ;;\nesac\necho "fake ${tool}: no answer for: $*" >&2\nexit 64\n`,
      { mode: 0o755 },
    );
  }
  // SQLite inputs: built once from their SQL, copied into place for each run.
  target.inputs.forEach((input, i) => {
    if (input.kind === "sqlite") buildSqlite(join(templates, String(i)), input.sql);
  });

  let script: Uint8Array = new Uint8Array();
  const exec = {
    ...machine.exec,
    async run(command: Parameters<typeof machine.exec.run>[0], options?: Parameters<typeof machine.exec.run>[1]): Promise<RunResult> {
      if (Array.isArray(command) || !target.inputs.some((x) => x.kind === "script")) return machine.exec.run(command, options);
      const max = options?.maxBytes ?? LIMITS.maxBytes;
      const cut = script.subarray(0, max);
      let invalidUtf8 = false;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(cut);
      } catch {
        invalidUtf8 = true;
      }
      return { stdout: new TextDecoder().decode(cut), stderr: "", exitCode: 0, durationMs: 0, truncated: script.length > max, timedOut: false, invalidUtf8, bytes: script.length };
    },
  };

  const place = (i: number, m: Mutation | null) => {
    const input = target.inputs[i]!;
    const mutate = m && m.input % target.inputs.length === i ? m : null;
    if (input.kind === "sqlite") {
      const file = join(machine.home, input.path);
      mkdirSync(dirname(file), { recursive: true });
      if (!mutate || mutate.op === "none") copyFileSync(join(templates, String(i)), file);
      else if (mutate.op === "sqlValue") {
        copyFileSync(join(templates, String(i)), file);
        setSqliteValue(file, mutate);
      } else if (mutate.op === "sqlBytes") {
        copyFileSync(join(templates, String(i)), file);
        const bytes = readFileSync(file);
        for (let k = 0; k <= mutate.b % 16; k++) bytes[(mutate.a + k * (mutate.c + 97)) % bytes.length]! ^= 0xff;
        writeFileSync(file, bytes);
      } else buildSqlite(file, new TextDecoder().decode(mutateText(input.sql, mutate)));
      return;
    }
    const bytes = mutate ? mutateText(input.text, mutate) : enc.encode(input.text);
    if (input.kind === "tool") writeFileSync(join(answers, String(i)), bytes);
    else if (input.kind === "file") {
      const file = join(machine.home, input.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, bytes);
    } else if (input.kind === "http") {
      // A copy for each answer: a Response takes over (detaches) the buffer it is given.
      routes[input.route] = {
        get body() {
          return bytes.slice() as unknown as string;
        },
      };
    } else script = bytes;
  };

  let n = 0;
  const clock = createFixedClock("2026-08-20T16:00:00Z");
  const tools = Object.fromEntries([...(collector.requires?.commands ?? [])].map((t) => [t, { available: true, path: join(machine.bin, t), version: "0.0.0-fake" }]));

  return {
    machine,
    store,
    /** Runs the collector once on its fixtures with `m` applied (null: the real fixtures). */
    async run(m: Mutation | null): Promise<CaseResult> {
      for (let i = 0; i < target.inputs.length; i++) place(i, m);
      let returned = 0;
      let thrown: unknown;
      const watched: Collector = {
        ...collector,
        async collect(ctx) {
          try {
            const r = await collector.collect(ctx);
            returned = Object.values(r?.rows ?? {}).reduce((sum, list) => sum + (Array.isArray(list) ? list.length : 0), 0);
            return r;
          } catch (err) {
            thrown = err;
            throw err;
          }
        },
      };
      const info = { ...machine.info, id: `m${++n}` };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hang = new Promise<"hang">((resolve) => (timer = setTimeout(() => resolve("hang"), HANG_MS)));
      try {
        const rec = await Promise.race([runCollector({ store, clock, collector: watched, machine: info, exec, limits: LIMITS, tools }), hang]);
        if (rec === "hang") return { outcome: "hang", detail: `no answer in ${HANG_MS / 1000} s` };
        if (rec.result === "ok") return { outcome: "ok" };
        if (rec.result === "skipped") return { outcome: "skipped" };
        if (isBugError(thrown))
          return { outcome: "parser_exception", detail: `${(thrown as Error).name}: ${rec.error}\n${(thrown as Error).stack?.split("\n").slice(1, 4).join("\n")}` };
        if (returned > 0 && thrown === undefined) return { outcome: "whole_batch_failure", detail: `${returned} rows lost: ${rec.error}` };
        return { outcome: "clean_failure" };
      } catch (err) {
        return { outcome: "runcollector_throw", detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await store.close();
      machine.close();
    },
  };
}

/** A SQLite file from SQL text, statement by statement: a statement a mutation broke is left out, the rest are kept. */
function buildSqlite(file: string, sqlText: string) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, "");
  const db = new Database(file);
  try {
    db.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF"); // a fixture, not a database to keep: no fsync per statement
    for (const stmt of sqlText.split(/;\s*\n/)) {
      try {
        if (stmt.trim()) db.exec(stmt);
      } catch {
        // a statement the mutation broke
      }
    }
  } finally {
    db.close();
  }
}

/** One value of one row of one table of a SQLite file set to something hostile. */
function setSqliteValue(file: string, m: Mutation) {
  const db = new Database(file);
  try {
    const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    if (tables.length === 0) return;
    const t = pick(tables, m.a).name;
    const cols = db.query<{ name: string }, []>(`SELECT name FROM pragma_table_info('${t.replaceAll("'", "''")}')`).all();
    if (cols.length === 0) return;
    const col = pick(cols, m.b).name;
    const q = (s: string) => `"${s.replaceAll('"', '""')}"`;
    const [{ n }] = db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${q(t)}`).all() as [{ n: number }];
    if (n === 0) return;
    try {
      db.exec(`UPDATE ${q(t)} SET ${q(col)} = ${pick(SQL_VALUES, m.a + m.b + m.c)} WHERE rowid = (SELECT rowid FROM ${q(t)} LIMIT 1 OFFSET ${m.c % n})`);
    } catch {
      // a constraint refused it: the file stays as it was
    }
  } finally {
    db.close();
  }
}

// ── the sweep ────────────────────────────────────────────────────────────────────────────────────

/** Counts of outcomes over a sweep, with the first few defects described. */
export interface SweepTally {
  runs: number;
  byOutcome: Record<Outcome, number>;
  defects: { target: string; mutation: Mutation | null; outcome: Outcome; detail?: string }[];
}

export const DEFECTS: readonly Outcome[] = ["parser_exception", "whole_batch_failure", "runcollector_throw", "hang"];

export function emptyTally(): SweepTally {
  return {
    runs: 0,
    byOutcome: { ok: 0, skipped: 0, clean_failure: 0, parser_exception: 0, whole_batch_failure: 0, runcollector_throw: 0, hang: 0 },
    defects: [],
  };
}

export function count(tally: SweepTally, target: string, m: Mutation | null, r: CaseResult) {
  tally.runs++;
  tally.byOutcome[r.outcome]++;
  if (DEFECTS.includes(r.outcome) && tally.defects.length < 50) tally.defects.push({ target, mutation: m, outcome: r.outcome, detail: r.detail });
}
