// The strict runner of `vc`, in place of citty's runMain. It resolves the subcommand (loading only
// the command modules on the way), checks the whole command line against that command's ArgsDef
// before anything runs, and only then runs it. An unknown flag or command, a missing argument or
// value is a usage error naming the closest valid name (exit 2); an enum value outside its options
// is `invalid_argument` (exit 2). Under the envelope commands (`vc robot …`) every failure is a
// `vc.robot.error.v1` envelope on stdout. Parents' own args, setup and cleanup are not used by vc
// and not run.
import type { ArgDef, ArgsDef, CommandContext, CommandDef, CommandMeta } from "citty";
import { VcError } from "../lib/errors.ts";
import { reportError, setCommandName, useColor } from "./_common.ts";
import { helpWidth, renderHelp } from "./_help.ts";
import { closest } from "../lib/spell.ts";

// biome-ignore lint/suspicious/noExplicitAny: any citty command, whatever its args
type Command = CommandDef<any>;
type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);
const resolve = async <T>(v: Resolvable<T>): Promise<T> => (typeof v === "function" ? (v as () => T | Promise<T>)() : v);
const toArray = (v: string | string[] | undefined): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

export interface RunCliOptions {
  /** The command line without the program (default: process.argv.slice(2)). */
  rawArgs?: readonly string[];
  /** First-level commands under which every failure is a robot error envelope on stdout. */
  envelope?: readonly string[];
  /** Paragraphs at the end of the top-level help. */
  footer?: readonly string[];
}

const kebab = (s: string) =>
  s
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
const camel = (s: string) => s.replace(/[-_]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
const takesValue = (d: ArgDef) => d.type !== "boolean" && d.type !== "positional";
// A word after a flag that takes a value is its value unless it looks like another flag (-5 is a value).
const looksLikeFlag = (t: string) => t === "--" || (t.startsWith("-") && t.length > 1 && !/^-\d/.test(t));

// One line, hint included: "vc collect: unknown flag --machin (did you mean --machine?)".
const usage = (command: string, message: string) => new VcError("usage", message, { details: { command } });

function names(name: string, d: ArgDef): Set<string> {
  return new Set([name, kebab(name), camel(name), ...("alias" in d ? toArray(d.alias) : [])]);
}

/** What a command line said, in citty's shape: each arg under its name, its kebab and camel forms and aliases; `_` the words. */
export type ParsedLine = Record<string, unknown> & { _: string[] };

/**
 * Checks `tokens` against `argsDef` and returns the parsed args (defaults applied). Throws a
 * `usage` VcError for an unknown flag, a flag without its value, a missing or extra argument, and
 * `invalid_argument` for a boolean or enum value it cannot take. With `stopAtWord`, stops at the
 * first word (a subcommand's name) and returns its index; `lenient` skips unknown flags (while
 * resolving the command whose help was asked for).
 */
export function parseLine(tokens: readonly string[], argsDef: ArgsDef, command: string, o: { stopAtWord?: boolean; lenient?: boolean } = {}): { args: ParsedLine; stop: number } {
  const entries = Object.entries(argsDef);
  const flags = entries.filter(([, d]) => d.type !== "positional");
  const find = (typed: string) => flags.find(([n, d]) => names(n, d).has(typed));
  const values = new Map<string, unknown>();
  const words: string[] = [];
  const unknown = (flag: string) => {
    const candidates = [
      ...flags.flatMap(([n, d]) => [
        `--${n}`,
        ...(d.type === "boolean" ? [`--no-${n}`] : []),
        ...("alias" in d ? toArray(d.alias).map((a) => (a.length === 1 ? `-${a}` : `--${a}`)) : []),
      ]),
      "--help",
    ];
    const near = closest(flag, candidates);
    return usage(command, `unknown flag ${flag} (${near ? `did you mean ${near}?` : `see ${command} --help`})`);
  };
  let stop = tokens.length;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "--") {
      if (o.stopAtWord) break;
      words.push(...tokens.slice(i + 1));
      break;
    }
    if (!looksLikeFlag(t)) {
      if (o.stopAtWord) {
        stop = i;
        break;
      }
      words.push(t);
      continue;
    }
    const eq = t.indexOf("=");
    const typed = eq === -1 ? t : t.slice(0, eq);
    const inline = eq === -1 ? undefined : t.slice(eq + 1);
    const bare = typed.replace(/^--?/, "");
    if (typed === "--help" || typed === "-h" || typed === "--version") {
      if (!find(bare)) continue; // built in (the runner answers them before parsing)
    }
    let hit = typed.startsWith("--") || bare.length === 1 ? find(bare) : undefined;
    let value: unknown;
    if (!hit && typed.startsWith("--no-")) {
      const positive = find(bare.slice(3));
      if (positive && positive[1].type === "boolean") {
        if (inline !== undefined) throw usage(command, `${typed} takes no value (got "${t}")`);
        hit = positive;
        value = false;
      }
    }
    if (!hit) {
      if (o.lenient) continue;
      throw unknown(typed);
    }
    const [name, d] = hit;
    if (value === undefined) {
      if (!takesValue(d)) {
        if (inline === undefined || inline === "true" || inline === "1") value = true;
        else if (inline === "false" || inline === "0") value = false;
        else throw new VcError("invalid_argument", `${typed}: expected true or false, got "${inline}"`, { details: { command } });
      } else if (inline !== undefined) value = inline;
      else if (i + 1 < tokens.length && !looksLikeFlag(tokens[i + 1]!)) value = tokens[++i];
      else throw usage(command, `${typed} needs a value${d.valueHint ? ` (${d.valueHint})` : ""}`);
    }
    values.set(name, value);
  }

  const args: ParsedLine = { _: [...words] };
  const set = (name: string, d: ArgDef, v: unknown) => {
    for (const k of names(name, d)) args[k] = v;
  };
  const rest = [...words];
  for (const [name, d] of entries) {
    if (d.type === "positional") {
      const word = rest.shift();
      if (word !== undefined) set(name, d, word);
      else if (d.default !== undefined) set(name, d, d.default);
      else if (d.required !== false && !o.stopAtWord && !o.lenient) throw usage(command, `missing argument <${name.toUpperCase()}>${d.description ? ` (${d.description})` : ""}`);
      continue;
    }
    const v = values.has(name) ? values.get(name) : d.default;
    if (v === undefined) {
      if (d.required && !o.lenient) throw usage(command, `missing --${name}${d.valueHint ? ` ${d.valueHint}` : ""}`);
      continue;
    }
    if (d.type === "enum" && d.options?.length && values.has(name) && !d.options.includes(String(v))) {
      throw new VcError("invalid_argument", `--${name}: expected one of ${d.options.join(", ")}; got "${String(v)}"`, { details: { command } });
    }
    set(name, d, v);
  }
  if (rest.length && !o.stopAtWord && !o.lenient) throw usage(command, `unexpected argument "${rest[0]}" (see ${command} --help)`);
  return { args, stop };
}

async function findSubCommand(subs: Record<string, Resolvable<Command>>, name: string): Promise<Command | undefined> {
  if (Object.hasOwn(subs, name)) return resolve(subs[name]!);
  for (const sub of Object.values(subs)) {
    const c = await resolve(sub);
    if (toArray((await resolve(c.meta ?? {})).alias).includes(name)) return c;
  }
  return undefined;
}

async function listCommands(subs: Record<string, Resolvable<Command>>) {
  const out: { name: string; aliases: string[]; description: string }[] = [];
  for (const [name, sub] of Object.entries(subs)) {
    const meta: CommandMeta = await resolve((await resolve(sub)).meta ?? {});
    if (!meta.hidden) out.push({ name, aliases: toArray(meta.alias), description: meta.description ?? "" });
  }
  return out;
}

/**
 * Runs `main` on the command line: help and version, the subcommand, the strict check of its
 * flags, then its `run`. Sets process.exitCode (2 for usage errors) and never calls process.exit.
 * @example await runCli(main, { envelope: ["robot"] })
 */
export async function runCli(main: Command, o: RunCliOptions = {}): Promise<void> {
  const argv = [...(o.rawArgs ?? process.argv.slice(2))];
  const head = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
  const askedHelp = head.includes("--help") || head.includes("-h");
  const askedVersion = head.includes("--version") || (argv.length === 1 && argv[0] === "-v");
  const rootMeta: CommandMeta = await resolve(main.meta ?? {});
  const path = [rootMeta.name ?? "vc"];
  let robot = false;
  try {
    let cmd = main;
    let tokens: readonly string[] = argv;
    let subs: Record<string, Resolvable<Command>> | undefined;
    let argsDef: ArgsDef;
    for (;;) {
      argsDef = await resolve(cmd.args ?? {});
      subs = await resolve(cmd.subCommands ?? {});
      if (!subs || Object.keys(subs).length === 0) break;
      const { stop } = parseLine(tokens, argsDef, path.join(" "), { stopAtWord: true, lenient: askedHelp || askedVersion });
      const word = tokens[stop];
      if (word === undefined) break;
      const sub = await findSubCommand(subs, word);
      if (!sub) {
        const known = Object.keys(subs);
        const near = closest(word, known);
        throw usage(path.join(" "), `unknown command "${word}" (${near ? `did you mean ${near}?` : `one of: ${known.join(", ")}`})`);
      }
      path.push(word);
      if (path.length === 2) robot = (o.envelope ?? []).includes(word);
      cmd = sub;
      tokens = tokens.slice(stop + 1);
    }
    const defines = (flag: string) => Object.entries(argsDef).some(([n, d]) => names(n, d).has(flag));
    if ((head.includes("--help") && !defines("help")) || (head.includes("-h") && !defines("h")) || (argv.length === 0 && subs && Object.keys(subs).length && path.length === 1)) {
      const hasSubs = Boolean(subs && Object.keys(subs).length);
      const meta: CommandMeta = await resolve(cmd.meta ?? {});
      process.stdout.write(
        renderHelp(
          {
            path,
            description: meta.description,
            version: path.length === 1 ? rootMeta.version : undefined,
            args: argsDef,
            commands: hasSubs ? await listCommands(subs!) : undefined,
            footer: path.length === 1 ? o.footer : undefined,
          },
          { width: helpWidth(), color: useColor(process.stdout) },
        ),
      );
      return;
    }
    if (askedVersion && !defines("version")) {
      process.stdout.write(`${rootMeta.version ?? "unknown"}\n`);
      return;
    }
    if (subs && Object.keys(subs).length && !cmd.run) {
      throw usage(path.join(" "), `missing command (one of: ${Object.keys(subs).join(", ")})`);
    }
    const { args } = parseLine(tokens, argsDef, path.join(" "));
    setCommandName(path.join(" "));
    const context: CommandContext = { rawArgs: [...tokens], args: args as CommandContext["args"], cmd };
    try {
      await cmd.setup?.(context);
      await cmd.run?.(context);
    } finally {
      await cmd.cleanup?.(context);
    }
  } catch (err) {
    process.exitCode = reportError(err, { robot });
  }
}
