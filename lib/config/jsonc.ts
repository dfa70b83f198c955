// vc.config.jsonc: the config as data, for those who want no code. JSON with comments and
// trailing commas; bundled plugins and channels by name (with options), threshold overrides of
// the default rules by rule id. Every error names the file, the line and the column.
//
//   {
//     "machines": [{ "id": "gpu-box", "ssh": "gpu-box" }],
//     "collectors": ["sysprobe", { "name": "beads", "options": { "intervalSeconds": 300 } }],
//     "rules": { "disk_low": { "min_free_pct": 15 }, "dirty_repos": false },
//     "channels": ["alerts.jsonl", { "name": "webhook", "options": { "url": "https://…" } }],
//   }
import { readFileSync } from "node:fs";
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import * as v from "valibot";
import type { Channel } from "../alerts/channel.ts";
import type { Collector } from "../collect/define.ts";
import { VcError, errorMessage } from "../errors.ts";
import type { Rule } from "../rules/define.ts";
import { loadSelfEntry } from "../self-module.ts";
import type { VcConfigInput } from "./define.ts";
import { ConfigSchema } from "./schema.ts";

/** A factory a config names: `beads(options)`. Its options come from the file, unchecked here (the factory checks them). */
export type NamedFactory<T> = (options: never) => T;

/**
 * What a vc.config.jsonc may name: the bundled collectors and channels by name, and the default
 * rule pack with threshold overrides. The CLI passes the bundled one (lib names no plugin).
 */
export interface ConfigCatalog {
  /** Collector factories by collector name (`"sysprobe"`, `"beads"` …). */
  collectors: Readonly<Record<string, NamedFactory<Collector>>>;
  /** Channel factories by name (`"alerts.jsonl"`, `"webhook"` …). */
  channels: Readonly<Record<string, NamedFactory<Channel>>>;
  /** The default rules with thresholds overridden by rule id (`{ disk_low: { min_free_pct: 15 } }`). */
  rules: (overrides: Record<string, Record<string, number>>) => Rule[];
}

/** A catalog, or how to load one (it is read only for a .jsonc config). */
export type CatalogSource = ConfigCatalog | (() => Promise<ConfigCatalog>);

/**
 * Reads a vc.config.jsonc into the value a vc.config.ts would export. Without a catalog, the
 * package's own "vibe-cockpit/plugins" entry supplies the bundled one.
 * @example const input = await loadJsoncConfig("/home/me/.config/vc/vc.config.jsonc")
 */
export async function loadJsoncConfig(file: string, catalog?: CatalogSource): Promise<VcConfigInput> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new VcError("config_load_failed", `${file}: ${errorMessage(err)}`, { cause: err });
  }
  return parseJsoncConfig(text, file, catalog);
}

/** Parses the text of a vc.config.jsonc; `source` names it in errors. */
export async function parseJsoncConfig(text: string, source: string, catalog?: CatalogSource): Promise<VcConfigInput> {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const at = (offset: number) => lineColumn(text, offset);
  const fail = (offset: number, field: string | null, message: string, hint?: string) => {
    const { line, column } = at(offset);
    return new VcError("config_invalid", `${source}:${line}:${column}: ${field ? `${field}: ` : ""}${message}`, { hint, details: { file: source, line, column, field } });
  };
  if (errors.length) {
    const e = errors[0]!;
    throw fail(
      e.offset,
      null,
      `syntax error: ${words(printParseErrorCode(e.error))}`,
      errors.length > 1 ? `${errors.length - 1} more syntax error(s) after this one` : "JSON with comments and trailing commas",
    );
  }
  if (root?.type !== "object") throw fail(root?.offset ?? 0, null, 'expected an object: { "machines": [...], "collectors": [...] }');
  checkDuplicateKeys(root, (node, field) => fail(node.offset, field, "given twice (the last one would silently win)"));

  const value = plain(getNodeValue(root)) as Record<string, unknown>;
  delete value.$schema;
  const nodeOf = (path: (string | number)[]) => findNodeAtLocation(root, path);
  const cat = await resolveCatalog(catalog, source);

  const input: Record<string, unknown> = { ...value };
  if ("collectors" in value) input.collectors = byName(nodeOf(["collectors"])!, "collectors", "plugin", cat.collectors, fail);
  if ("channels" in value) input.channels = byName(nodeOf(["channels"])!, "channels", "channel", cat.channels, fail);
  // The default rules unless "rules": false; an object overrides thresholds (or drops a rule with false).
  input.rules = value.rules === false ? [] : defaultRules(cat, nodeOf(["rules"]), fail);

  // The rest is checked as vc.config.ts is, with the position of the field at fault.
  const parsed = v.safeParse(ConfigSchema, input);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = (issue.path ?? []).map((p) => p.key as string | number);
    let node: Node | undefined;
    for (let n = path.length; n >= 0 && !node; n--) node = nodeOf(path.slice(0, n));
    const message = issue.kind === "validation" || !issue.expected ? issue.message : `expected ${issue.expected}, received ${issue.received}`;
    throw fail((node ?? root).offset, fieldName(path) || null, message, parsed.issues.length > 1 ? `${parsed.issues.length - 1} more problem(s) after this one` : undefined);
  }
  return input as VcConfigInput;
}

type Fail = (offset: number, field: string | null, message: string, hint?: string) => VcError;

/** A list of names (or `{ "name": …, "options": { … } }`), each made by its factory. */
function byName<T>(node: Node, key: string, what: string, factories: Readonly<Record<string, NamedFactory<T>>>, fail: Fail): T[] {
  const form = `a ${what} name or { "name": "…", "options": { … } }`;
  if (node.type !== "array") throw fail(node.offset, key, `expected a list, each ${form}`);
  const known = Object.keys(factories).sort();
  return (node.children ?? []).map((item, i) => {
    const field = `${key}[${i}]`;
    let name: unknown;
    let nameNode = item;
    let options: unknown;
    let optionsNode: Node | undefined;
    if (item.type === "string") name = item.value;
    else if (item.type === "object") {
      for (const prop of item.children ?? []) {
        const k = prop.children?.[0]?.value as string;
        if (k !== "name" && k !== "options") throw fail(prop.offset, field, `unknown key "${k}": expected ${form}`);
      }
      nameNode = findNodeAtLocation(item, ["name"]) ?? item;
      name = nameNode === item ? undefined : nameNode.value;
      optionsNode = findNodeAtLocation(item, ["options"]);
      options = optionsNode ? plain(getNodeValue(optionsNode)) : undefined;
      if (optionsNode && optionsNode.type !== "object") throw fail(optionsNode.offset, `${field}.options`, "expected an object of options");
    }
    if (typeof name !== "string") throw fail(nameNode.offset, field, `expected ${form}`);
    const factory = Object.hasOwn(factories, name) ? factories[name] : undefined;
    if (!factory) throw fail(nameNode.offset, field, `unknown ${what} "${name}" (known: ${known.join(", ")})`);
    try {
      return (factory as (options?: unknown) => T)(options);
    } catch (err) {
      throw fail((optionsNode ?? item).offset, field, `${name}: ${errorMessage(err)}`);
    }
  });
}

/** The catalog's default rules with the file's overrides: `{ rule_id: { threshold: n } | false }`. */
function defaultRules(cat: ConfigCatalog, node: Node | undefined, fail: Fail): Rule[] {
  if (!node) return cat.rules({});
  if (node.type !== "object") throw fail(node.offset, "rules", 'expected { "rule_id": { "threshold": number } | false, … } or false');
  const known = cat.rules({}).map((r) => r.id);
  const overrides: Record<string, Record<string, number>> = {};
  const dropped = new Set<string>();
  for (const prop of node.children ?? []) {
    const [keyNode, valueNode] = prop.children as [Node, Node];
    const id = keyNode.value as string;
    const field = `rules.${id}`;
    if (!known.includes(id)) throw fail(keyNode.offset, field, `no default rule "${id}" (known: ${known.join(", ")})`);
    if (valueNode.type === "boolean" && valueNode.value === false) {
      dropped.add(id);
      continue;
    }
    const thresholds = plain(getNodeValue(valueNode));
    if (valueNode.type !== "object" || !Object.values(thresholds as object).every((n) => typeof n === "number" && Number.isFinite(n))) {
      throw fail(valueNode.offset, field, 'expected { "threshold": number, … } or false');
    }
    try {
      cat.rules({ [id]: thresholds as Record<string, number> });
    } catch (err) {
      throw fail(valueNode.offset, field, errorMessage(err), err instanceof VcError ? err.hint : undefined);
    }
    overrides[id] = thresholds as Record<string, number>;
  }
  return cat.rules(overrides).filter((r) => !dropped.has(r.id));
}

async function resolveCatalog(catalog: CatalogSource | undefined, source: string): Promise<ConfigCatalog> {
  if (catalog) return typeof catalog === "function" ? catalog() : catalog;
  const mod = await loadSelfEntry("vibe-cockpit/plugins");
  const found = mod?.catalog as ConfigCatalog | undefined;
  if (!found)
    throw new VcError("config_invalid", `${source}: names bundled plugins, and no catalog of them is at hand`, {
      hint: 'pass `catalog` (import { catalog } from "vibe-cockpit/plugins")',
    });
  return found;
}

/** Refuses an object that holds one key twice, naming where the second stands. */
function checkDuplicateKeys(node: Node, fail: (node: Node, field: string) => VcError, path: (string | number)[] = []): void {
  if (node.type === "object") {
    const seen = new Set<string>();
    for (const prop of node.children ?? []) {
      const [keyNode, valueNode] = prop.children as [Node, Node | undefined];
      const key = keyNode.value as string;
      if (seen.has(key)) throw fail(keyNode, fieldName([...path, key]));
      seen.add(key);
      if (valueNode) checkDuplicateKeys(valueNode, fail, [...path, key]);
    }
  } else if (node.type === "array") {
    (node.children ?? []).forEach((child, i) => checkDuplicateKeys(child, fail, [...path, i]));
  }
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** `machines[0].ssh` from ["machines", 0, "ssh"]. */
function fieldName(path: readonly (string | number)[]): string {
  let out = "";
  for (const k of path) out += typeof k === "number" ? `[${k}]` : out ? `.${k}` : k;
  return out;
}

/** "CloseBraceExpected" → "close brace expected". */
const words = (code: string) => code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();

/** A JSON value with ordinary objects (jsonc-parser makes them without a prototype). */
const plain = (x: unknown): unknown => (x === undefined ? undefined : JSON.parse(JSON.stringify(x)));
