// The strict command line: unknown flags and commands, bad values, robot envelopes for every
// failure, help wrapped at the terminal's width without colour when piped, snake_case JSON.
// The parser and the help renderer are checked in-process on vc's real commands; every form a
// user types is checked on the real CLI, as a separate process.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ArgsDef, CommandDef } from "citty";
import { parseLine } from "../../cli/_main.ts";
import { closest, editDistance } from "../../lib/spell.ts";
import { renderHelp, wrap } from "../../cli/_help.ts";
import { snakeKeys } from "../../cli/_common.ts";
import pkg from "../../package.json" with { type: "json" };
import { cliEntry, isolatedEnv, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000); // these tests start real processes

const dir = tempDir("vc-strict-");
let n = 0;
function fresh(extra: Record<string, string> = {}) {
  const d = join(dir, `case${n++}`);
  mkdirSync(d, { recursive: true });
  const env = isolatedEnv(d, extra);
  return { env, store: join(env.XDG_DATA_HOME!, "vc", "vc.duckdb") };
}
const ESC = "\x1b";

describe("the parser", () => {
  const args = {
    db: { type: "string", valueHint: "PATH" },
    machine: { type: "string", alias: ["m"], valueHint: "ID" },
    "until-resolved": { type: "boolean" },
    poll: { type: "boolean", default: true },
    format: { type: "enum", options: ["json", "toon"], default: "json" },
    limit: { type: "string" },
    id: { type: "positional", required: true },
    rest: { type: "positional", required: false },
  } as const satisfies ArgsDef;
  const parse = (...tokens: string[]) => parseLine(tokens, args, "vc x").args;
  const fails = (tokens: string[]) => {
    try {
      parseLine(tokens, args, "vc x");
    } catch (err) {
      return { code: (err as { code: string }).code, message: (err as Error).message };
    }
    throw new Error(`${tokens.join(" ")} parsed`);
  };

  it("takes --flag value, --flag=value, aliases, --no-<flag>, kebab and camel names, -- and positionals", () => {
    const a = parse("--db", "/tmp/x", "-m", "a", "--until-resolved", "--no-poll", "--format=toon", "ID1", "--", "--not-a-flag");
    expect(a).toMatchObject({ db: "/tmp/x", machine: "a", m: "a", "until-resolved": true, untilResolved: true, poll: false, format: "toon", id: "ID1", rest: "--not-a-flag" });
    expect(a._).toEqual(["ID1", "--not-a-flag"]);
    expect(parse("--untilResolved", "X")).toMatchObject({ "until-resolved": true, id: "X", poll: true, format: "json" });
    expect(parse("--limit", "-5", "X").limit).toBe("-5"); // a negative number is a value, for the command to judge
    expect(parse("--poll=false", "X").poll).toBe(false);
    expect(parse("X", "--machine=a=b").machine).toBe("a=b");
  });

  it("refuses unknown flags with the closest name, missing values and arguments, extra words", () => {
    expect(fails(["X", "--machin", "a"])).toEqual({ code: "usage", message: "unknown flag --machin (did you mean --machine?)" });
    expect(fails(["X", "--untilresolvd"]).message).toContain("did you mean --until-resolved?");
    expect(fails(["X", "--zzzzzz"]).message).toBe("unknown flag --zzzzzz (see vc x --help)");
    expect(fails(["X", "-q"]).message).toContain("unknown flag -q");
    expect(fails(["X", "--no-db"]).message).toContain("unknown flag --no-db"); // only booleans have --no-
    expect(fails(["X", "--machine"]).message).toBe("--machine needs a value (ID)");
    expect(fails(["X", "--machine", "--db", "p"]).message).toBe("--machine needs a value (ID)");
    expect(fails([])).toEqual({ code: "usage", message: "missing argument <ID>" });
    expect(fails(["X", "Y", "Z"]).message).toBe('unexpected argument "Z" (see vc x --help)');
    expect(fails(["X", "--no-poll=1"]).code).toBe("usage");
  });

  it("names the flag and the accepted values for a bad enum or boolean value", () => {
    expect(fails(["X", "--format", "yaml"])).toEqual({ code: "invalid_argument", message: '--format: expected one of json, toon; got "yaml"' });
    expect(fails(["X", "--poll=maybe"])).toEqual({ code: "invalid_argument", message: '--poll: expected true or false, got "maybe"' });
  });

  it("suggests by Damerau–Levenshtein distance: a swap is one edit", () => {
    expect(editDistance("helth", "health")).toBe(1);
    expect(editDistance("hetlh", "health")).toBe(2);
    expect(editDistance("ab", "ba")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(closest("heatlh", ["health", "help", "alerts"])).toBe("health"); // t and l swapped
    expect(closest("colect", ["collect", "doctor"])).toBe("collect");
    expect(closest("--mach", ["--machine", "--db"])).toBe("--machine"); // a prefix
    expect(closest("xyz", ["health", "triage"])).toBeUndefined();
  });

  it("snake_cases keys of machine-readable output, not the names inside data maps", () => {
    expect(snakeKeys({ startedAt: "t", durationMs: 1, runs: [{ rowsByTable: { myTable: 1 }, HTTPServer: 1 }], staleness: { myCollector: 2 }, already_snake: 3 })).toEqual({
      started_at: "t",
      duration_ms: 1,
      runs: [{ rows_by_table: { myTable: 1 }, http_server: 1 }],
      staleness: { myCollector: 2 },
      already_snake: 3,
    });
  });
});

describe("help", () => {
  /** Every command of vc with its path, loading the lazy subcommands. */
  async function allCommands(): Promise<{ path: string[]; cmd: CommandDef }[]> {
    const resolve = async <T>(v: unknown): Promise<T> => (typeof v === "function" ? await v() : await v) as T;
    const out: { path: string[]; cmd: CommandDef }[] = [];
    const walk = async (path: string[], cmd: CommandDef) => {
      out.push({ path, cmd });
      const subs = await resolve<Record<string, unknown> | undefined>(cmd.subCommands);
      for (const [name, sub] of Object.entries(subs ?? {})) await walk([...path, name], await resolve<CommandDef>(sub));
    };
    const names = ["init", "up", "collect", "robot", "query", "doctor", "machines", "alerts", "watch", "tui"];
    for (const name of names) {
      const file = name === "robot" ? "robot/index.ts" : `${name}.ts`;
      await walk(["vc", name], (await import(`../../cli/commands/${file}`)).default);
    }
    return out;
  }

  it("wraps every command's help at the width, never breaking a word, flags in one column", async () => {
    const commands = await allCommands();
    expect(commands.length).toBeGreaterThan(15);
    for (const { path, cmd } of commands) {
      const meta = await (typeof cmd.meta === "function" ? cmd.meta() : cmd.meta);
      const args = (await (typeof cmd.args === "function" ? cmd.args() : cmd.args)) ?? {};
      for (const width of [40, 60, 80, 120]) {
        const text = renderHelp({ path, description: meta?.description, args }, { width, color: false });
        const lines = text.trimEnd().split("\n");
        for (const l of lines) expect([path.join(" "), width, l, l.length <= width]).toEqual([path.join(" "), width, l, true]);
        expect(text).not.toContain(ESC);
        // Every word of every description is there whole (words longer than a line aside).
        const words = new Set(text.split(/\s+/));
        for (const d of [meta?.description ?? "", ...Object.values(args).map((a) => a.description ?? "")]) {
          for (const w of d.split(/\s+/).filter((x) => x && x.length <= width - 10)) expect([path.join(" "), width, w, words.has(w)]).toEqual([path.join(" "), width, w, true]);
        }
        // The flags' descriptions start in one column.
        if (width >= 80) {
          const flagLines = lines.filter((l) => /^ {2}-/.test(l) && / {2,}\S/.test(l.slice(2)));
          const starts = new Set(flagLines.map((l) => l.slice(2).search(/ {2,}\S/) + 2 + l.slice(2).match(/ {2,}/)![0].length));
          expect([path.join(" "), starts.size <= 1]).toEqual([path.join(" "), true]);
        }
      }
    }
  });

  it("wraps text at spaces, cutting only a word longer than a line", () => {
    expect(wrap("one two three four", 9)).toEqual(["one two", "three", "four"]);
    expect(wrap("abcdefghij kl", 4)).toEqual(["abcd", "efgh", "ij", "kl"]);
    expect(wrap("", 10)).toEqual([""]);
  });

  it("`vc --help | cat` and `vc collect --help | cat`: plain text, no line over 80 columns", async () => {
    const { env } = fresh({ COLUMNS: "80", TERM: "xterm-256color" });
    const top = await vc(["--help"], { env });
    expect(top.code).toBe(0);
    expect(top.stdout).not.toContain(ESC);
    for (const l of top.stdout.split("\n")) expect(l.length).toBeLessThanOrEqual(80);
    expect(top.stdout).toContain("--json means --format json");
    expect(top.stdout).toContain("Exit codes: 0 done, 1 failed, 2 usage error");
    const collect = await vc(["collect", "--help"], { env });
    expect(collect.code).toBe(0);
    expect(collect.stdout).not.toContain(ESC);
    for (const l of collect.stdout.split("\n")) expect(l.length).toBeLessThanOrEqual(80);
    expect(collect.stdout).toMatch(/^ {2}--format FORMAT +output format: table, json, jsonl, csv \(default: table\)$/m);
    // Narrower when COLUMNS says so; help under robot is help too, not an envelope.
    const narrow = await vc(["robot", "health", "--help"], { env: { ...env, COLUMNS: "50" } });
    expect(narrow.code).toBe(0);
    expect(narrow.stdout).toContain("--format");
    for (const l of narrow.stdout.split("\n")) expect(l.length).toBeLessThanOrEqual(50);
    const version = await vc(["--version"], { env });
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});

const hasScript = Bun.spawnSync(["sh", "-c", "command -v script"]).exitCode === 0;
describe.skipIf(!hasScript)("help on a terminal", () => {
  /** `vc <args>` with stdout on a pseudo-terminal of `cols` columns (util-linux script). */
  async function onTerminal(args: string, cols: number, env: Record<string, string>): Promise<string> {
    const p = Bun.spawn(["script", "-qec", `stty cols ${cols}; bun ${cliEntry} ${args}`, "/dev/null"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    return out.replaceAll("\r\n", "\n");
  }
  const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

  it("wraps at the terminal's width and colours headings and flags, unless NO_COLOR is set", async () => {
    const { env } = fresh({ TERM: "xterm-256color" });
    const out = await onTerminal("collect --help", 60, env);
    // consola's colours (consola/utils): bold and cyan, each closed by its own reset.
    expect(out).toContain("\x1b[1mUsage:\x1b[22m vc collect");
    expect(out).toContain("\x1b[36m--machine ID\x1b[39m");
    const lines = plain(out).trimEnd().split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(60);
    expect(Math.max(...lines.map((l) => l.length))).toBeGreaterThan(50);
    const mono = await onTerminal("collect --help", 60, { ...env, NO_COLOR: "1" });
    expect(mono).toContain("Usage: vc collect");
    expect(mono).not.toContain("\x1b[");
  });

  it("colours an error red on a terminal, and not with NO_COLOR or when piped", async () => {
    const { env } = fresh({ TERM: "xterm-256color" });
    const out = await onTerminal("collect --once --machin x", 80, env);
    expect(out).toContain("\x1b[31mvc collect:\x1b[39m unknown flag --machin (did you mean --machine?)");
    const mono = await onTerminal("collect --once --machin x", 80, { ...env, NO_COLOR: "1" });
    expect(mono).toContain("vc collect: unknown flag --machin");
    expect(mono).not.toContain("\x1b[");
    const piped = await vc(["collect", "--once", "--machin", "x"], { env });
    expect(piped.stderr).toBe("vc collect: unknown flag --machin (did you mean --machine?)\n");
  });
});

describe("the forms a user types", () => {
  it("vc collect --once --machin x: exit 2, one line naming --machine, nothing polled", async () => {
    const { env, store } = fresh();
    const r = await vc(["collect", "--once", "--machin", "x"], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("vc collect: unknown flag --machin (did you mean --machine?)\n");
    expect(existsSync(store)).toBe(false);
    const cmd = await vc(["colect", "--once"], { env });
    expect([cmd.code, cmd.stderr]).toEqual([2, 'vc: unknown command "colect" (did you mean collect?)\n']);
    expect(existsSync(store)).toBe(false);
  });

  it("vc robot helth: a usage envelope on stdout, did you mean health?, exit 2", async () => {
    const { env } = fresh();
    const r = await vc(["robot", "helth"], { env });
    expect(r.code).toBe(2);
    const e = JSON.parse(r.stdout);
    expect(e.schema_version).toBe("vc.robot.error.v1");
    expect(e.error).toEqual({ code: "usage", message: 'unknown command "helth" (did you mean health?)' });
    expect(r.stderr).not.toContain(ESC);
    // Every usage failure under robot is an envelope: an unknown flag, no command at all.
    for (const args of [["robot", "health", "--bogus"], ["robot"], ["robot", "--format", "json"]]) {
      const u = await vc(args, { env });
      expect([args.join(" "), u.code, JSON.parse(u.stdout).error.code]).toEqual([args.join(" "), 2, "usage"]);
    }
  });

  it("vc robot health --format yaml: invalid_argument naming the flag and the accepted values", async () => {
    const { env } = fresh();
    const r = await vc(["robot", "health", "--format", "yaml"], { env });
    expect(r.code).toBe(2);
    const e = JSON.parse(r.stdout);
    expect(e.schema_version).toBe("vc.robot.error.v1");
    expect(e.error.code).toBe("invalid_argument");
    expect(e.error.message).toMatch(/^--format: expected one of json, toon.*; got "yaml"$/);
  });

  it("vc up --interval abc and vc tui --interval abc: exit 2 naming the flag, before a store or a terminal is needed", async () => {
    const { env, store } = fresh();
    const up = await vc(["up", "--interval", "abc"], { env, timeoutMs: 20_000 });
    expect(up.code).toBe(2);
    expect(up.stderr).toBe('vc up: --interval: expected a whole number of seconds ≥ 1, got "abc"\n');
    expect(existsSync(store)).toBe(false);
    const tui = await vc(["tui", "--interval", "abc"], { env }); // stdin and stdout are not a terminal here
    expect(tui.code).toBe(2);
    expect(tui.stderr).toBe('vc tui: --interval: expected a number of seconds > 0, got "abc"\n');
    const watch = await vc(["watch", "--interval", "-3"], { env });
    expect([watch.code, watch.stderr]).toEqual([2, 'vc watch: --interval: expected a number of seconds > 0, got "-3"\n']);
  });

  it("never answers a mistake with an internal error", async () => {
    const { env } = fresh();
    const cases: [string[], number, string][] = [
      [["alerts", "ack"], 2, "vc alerts ack: missing argument <ID>"],
      [["alerts"], 2, "vc alerts: missing command (one of: list, ack, silence, explain)"],
      [["alerts", "silence", "--rule", "disk_low", "--for", "soon"], 2, '--for: expected a duration such as 30s, 10m, 2h or 1d, got "soon"'],
      [["alerts", "silence", "--match", "nolabel"], 2, '--match: expected label=value[,label=value], got "nolabel"'],
      [["query", "--format", "yaml", "select 1"], 2, '--format: expected one of table, json, csv, jsonl; got "yaml"'],
      [["query", "select", "1"], 2, 'unexpected argument "1"'],
      [["collect", "--machine"], 2, "--machine needs a value (ID)"],
      [["collect", "--json=maybe"], 2, '--json: expected true or false, got "maybe"'],
      [["machines", "shwo"], 2, "did you mean show?"],
    ];
    for (const [args, code, text] of cases) {
      const r = await vc(args, { env });
      expect([args.join(" "), r.code, r.stderr.includes(text), r.stderr.includes("internal error")]).toEqual([args.join(" "), code, true, false]);
      expect(r.stdout).toBe("");
    }
  });
});

describe("one output convention", () => {
  it("vc collect --json is snake_case throughout; --format jsonl and csv give one run a line", async () => {
    const { env } = fresh({ VC_NOW: "2026-01-25T03:00:00Z" });
    const r = await vc(["collect", "--json", "--collector", "sysprobe"], { env });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const keys: string[] = [];
    const walk = (v: unknown, dataMap = false) => {
      if (Array.isArray(v)) return v.forEach((x) => walk(x));
      if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) dataMap || keys.push(k), walk(x, k === "rows_by_table" || k === "staleness");
    };
    walk(report);
    expect(keys).toContain("duration_ms");
    expect(keys).toContain("rows_by_table");
    expect(keys.filter((k) => !/^[a-z0-9_]+$/.test(k))).toEqual([]);
    expect(report.machines[0].runs[0]).toMatchObject({ collector: "sysprobe", result: "ok", started_at: "2026-01-25T03:00:00.000Z" });
    const same = await vc(["collect", "--format", "json", "--collector", "sysprobe"], { env });
    expect(Object.keys(JSON.parse(same.stdout))).toEqual(Object.keys(report));
    const jsonl = await vc(["collect", "--format", "jsonl", "--collector", "sysprobe"], { env });
    const lines = jsonl.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.collector, l.result, typeof l.duration_ms])).toEqual([["sysprobe", "ok", "number"]]);
    const csv = await vc(["collect", "--format", "csv", "--collector", "sysprobe"], { env });
    expect(csv.stdout).toMatch(/^machine,collector,result,rows,ms,note\n[^,\n]+,sysprobe,ok,\d+,\d+,\n$/);
    // The same flags on the other lists.
    const machines = await vc(["machines", "list", "--format", "csv"], { env });
    expect(machines.stdout).toMatch(/^id,ssh,mode,tags,last_seen_at,last_ok_at,tools_found,tools_missing\n[^\n]+,local,polled,/);
    const alerts = await vc(["alerts", "list", "--all", "--format", "jsonl"], { env });
    expect([alerts.code, alerts.stderr]).toEqual([0, ""]);
    const rows = await vc(["query", "select machine_id, source from sys_samples limit 1", "--json"], { env });
    expect(rows.code).toBe(0);
    expect(Array.isArray(JSON.parse(rows.stdout))).toBe(true);
  });
});
