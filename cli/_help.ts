// Help text: wrapped at the terminal's width (80 when stdout is not a terminal), words never
// broken, flags in one aligned column, colour only on a terminal without NO_COLOR.
import type { ArgDef, ArgsDef } from "citty";
import { colors } from "consola/utils";

export interface HelpInput {
  /** The command as typed: ["vc", "robot", "health"]. */
  path: readonly string[];
  description?: string;
  version?: string;
  args: ArgsDef;
  /** Subcommands, for a command that has them. */
  commands?: readonly { name: string; aliases: readonly string[]; description: string }[];
  /** Paragraphs after everything else. */
  footer?: readonly string[];
}

/** The width help is wrapped at: the terminal's, else $COLUMNS, else 80; never under 40. */
export function helpWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: Record<string, string | undefined> = process.env): number {
  const fromEnv = Number(env.COLUMNS);
  const w = stream.isTTY && stream.columns ? stream.columns : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
  return Math.max(40, w);
}

/**
 * Splits text into lines of at most `width` characters at spaces. A word is only cut when it is
 * longer than a whole line by itself.
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = "";
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.length ? lines : [""];
}

const isBoolean = (d: ArgDef) => d.type === "boolean";
const hasValue = (d: ArgDef) => d.type === "string" || d.type === "enum" || d.type === undefined;

/** The left column for one flag: `-m, --machine ID`, `--[no-]poll`, `--format json|toon`. */
function flagLabel(name: string, d: ArgDef): string {
  const alias = "alias" in d ? d.alias : undefined;
  const aliases = (Array.isArray(alias) ? alias : alias ? [alias] : []).map((a) => (a.length === 1 ? `-${a}` : `--${a}`));
  const long = isBoolean(d) && d.default === true && !name.startsWith("no-") ? `--[no-]${name}` : `--${name}`;
  const value = d.type === "enum" && d.options?.length && !d.valueHint ? ` ${d.options.join("|")}` : hasValue(d) ? ` ${d.valueHint ?? name.toUpperCase()}` : "";
  return [...aliases, `${long}${value}`].join(", ");
}

function flagText(d: ArgDef): string {
  const parts = [d.description ?? ""];
  if (d.required && d.default === undefined) parts.push("(required)");
  if (isBoolean(d)) {
    if (d.default === true) parts.push("(on by default)");
    if ("negativeDescription" in d && d.negativeDescription) parts.push(`(--no-…: ${d.negativeDescription})`);
  } else if (d.default !== undefined && d.default !== "") parts.push(`(default: ${d.default})`);
  return parts.filter(Boolean).join(" ");
}

/** Two aligned columns: labels on the left, wrapped text on the right. */
function columns(rows: readonly [string, string][], width: number, paint: (s: string) => string): string[] {
  const indent = 2;
  const gap = 2;
  // The column fits the labels up to a cap; a longer label gets a line of its own.
  const cap = Math.max(14, Math.floor(width * 0.36));
  const labelW = Math.max(0, ...rows.map(([l]) => l.length).filter((w) => w <= cap));
  const textW = width - indent - labelW - gap;
  const out: string[] = [];
  for (const [label, text] of rows) {
    // Too narrow for two columns: the text goes under the label.
    if (textW < 24) {
      out.push(`${" ".repeat(indent)}${paint(label)}`);
      for (const l of text ? wrap(text, width - indent - 4) : []) out.push(`${" ".repeat(indent + 4)}${l}`);
      continue;
    }
    const lines = text ? wrap(text, textW) : [];
    const pad = " ".repeat(indent + labelW + gap);
    if (label.length > labelW) {
      for (const l of wrap(label, width - indent)) out.push(`${" ".repeat(indent)}${paint(l)}`);
      for (const l of lines) out.push(`${pad}${l}`);
    } else {
      out.push(`${" ".repeat(indent)}${paint(label)}${lines.length ? `${" ".repeat(labelW - label.length + gap)}${lines[0]}` : ""}`);
      for (const l of lines.slice(1)) out.push(`${pad}${l}`);
    }
  }
  return out;
}

/**
 * A command's help: what it does, how to call it, its arguments, flags and subcommands.
 * @example renderHelp({ path: ["vc", "collect"], args }, { width: 80, color: false })
 */
export function renderHelp(h: HelpInput, o: { width: number; color: boolean }): string {
  const heading = (s: string) => (o.color ? colors.bold(s) : s);
  const flag = (s: string) => (o.color ? colors.cyan(s) : s);
  const name = h.path.join(" ");
  const entries = Object.entries(h.args);
  const positionals = entries.filter(([, d]) => d.type === "positional");
  const flags = entries.filter(([, d]) => d.type !== "positional");
  const out: string[] = [];

  const title = `${name}${h.version ? ` ${h.version}` : ""}${h.description ? ` — ${h.description}` : ""}`;
  out.push(...wrap(title, o.width), "");

  const usage = [name, ...(h.commands?.length ? ["<command>"] : []), "[options]"];
  for (const [n, d] of positionals) usage.push(d.required === false || d.default !== undefined ? `[${n.toUpperCase()}]` : `<${n.toUpperCase()}>`);
  const usageLines = wrap(usage.join(" "), o.width - 7);
  out.push(`${heading("Usage:")} ${usageLines[0]}`, ...usageLines.slice(1).map((l) => `       ${l}`), "");

  if (positionals.length) {
    out.push(heading("Arguments:"));
    out.push(
      ...columns(
        positionals.map(([n, d]) => [n.toUpperCase(), flagText(d)]),
        o.width,
        flag,
      ),
      "",
    );
  }
  out.push(heading("Options:"));
  out.push(...columns([...flags.map(([n, d]) => [flagLabel(n, d), flagText(d)] as [string, string]), ["-h, --help", "show this help"]], o.width, flag), "");

  if (h.commands?.length) {
    out.push(heading("Commands:"));
    out.push(
      ...columns(
        h.commands.map((c) => [[c.name, ...c.aliases].join(", "), c.description]),
        o.width,
        flag,
      ),
      "",
    );
    out.push(...wrap(`Run "${name} <command> --help" for a command's options.`, o.width), "");
  }
  for (const p of h.footer ?? []) out.push(...wrap(p, o.width), "");
  while (out.at(-1) === "") out.pop();
  return `${out.join("\n")}\n`;
}
