import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as v from "valibot";
import { VcError, errorMessage } from "../errors.ts";
import { expandHome } from "../exec/local.ts";
import type { Collector } from "../collect/define.ts";
import type { Channel } from "../alerts/channel.ts";
import type { Rule } from "../rules/define.ts";
import { collectPlugins, type Plugin } from "../plugin/define.ts";
import type { VcConfig, VcConfigExport } from "./define.ts";
import { ConfigSchema } from "./schema.ts";
import { registerSelfModule, type ModuleMap } from "../self-module.ts";
import { loadJsoncConfig, type CatalogSource } from "./jsonc.ts";

export interface LoadConfigOptions {
  /** `--config FILE`: tried first, and must exist. */
  file?: string;
  /** `--db PATH`: wins over $VC_DB and the config's `db`. */
  db?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** The config used when no file is found (the CLI passes the repo's vc.config.ts). */
  fallback?: { source: string; load: () => Promise<VcConfigExport> };
  /** Extra modules (e.g. "vibe-cockpit/plugins") a config outside this repo may import. */
  modules?: ModuleMap;
  /** What a vc.config.jsonc may name (the CLI passes the bundled plugins'; default: the package's own "vibe-cockpit/plugins"). */
  catalog?: CatalogSource;
}

/** Where the config was looked for, in order, and which was taken. */
export function discoverConfig(options: Pick<LoadConfigOptions, "file" | "cwd" | "env"> = {}): { file: string | null; tried: string[] } {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const tried: string[] = [];
  const explicit = options.file ?? env.VC_CONFIG;
  if (explicit) {
    const file = resolve(cwd, expandHome(explicit, env.HOME ?? homedir()));
    if (!existsSync(file)) {
      const from = options.file ? "--config" : "$VC_CONFIG";
      throw new VcError("config_not_found", `${file}: no such config file (from ${from})`, {
        hint: "`vc init` writes a starter config",
      });
    }
    return { file, tried: [file] };
  }
  // In each place, vc.config.ts (code) or vc.config.jsonc (data); both in one place is ambiguous.
  for (const dir of [cwd, join(xdgConfigHome(env), "vc")]) {
    const [ts, jsonc] = [join(dir, "vc.config.ts"), join(dir, "vc.config.jsonc")];
    tried.push(ts, jsonc);
    const found = [ts, jsonc].filter((f) => existsSync(f));
    if (found.length > 1) throw new VcError("config_invalid", `two configs in ${dir}: vc.config.ts and vc.config.jsonc`, { hint: "keep one of them (or choose with --config)" });
    if (found[0]) return { file: found[0], tried };
  }
  return { file: null, tried };
}

/** $XDG_CONFIG_HOME or ~/.config. */
export function xdgConfigHome(env: Record<string, string | undefined> = process.env): string {
  return env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), ".config");
}

/** $XDG_DATA_HOME or ~/.local/share. */
export function xdgDataHome(env: Record<string, string | undefined> = process.env): string {
  return env.XDG_DATA_HOME || join(env.HOME ?? homedir(), ".local", "share");
}

/**
 * Finds, loads and validates the config: `--config`, `$VC_CONFIG`, `./vc.config.ts` or
 * `./vc.config.jsonc`, `$XDG_CONFIG_HOME/vc/vc.config.ts` or `.jsonc`, then the fallback. Errors
 * name the file and the field (and, in a .jsonc, the line and column).
 * @example const config = await loadConfig({ db: "/tmp/vc.duckdb" })
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<VcConfig> {
  const env = options.env ?? process.env;
  const { file, tried } = discoverConfig(options);
  let source: string;
  let exported: VcConfigExport;
  if (file?.endsWith(".jsonc")) {
    source = file;
    exported = await loadJsoncConfig(file, options.catalog);
  } else if (file) {
    source = file;
    registerSelfModule(options.modules);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      throw new VcError("config_load_failed", `${file}: ${errorMessage(err)}`, {
        cause: err,
        hint: "the config must be a TypeScript module whose default export is defineConfig({...})",
      });
    }
    const value = mod.default ?? mod.config;
    if (value === undefined) {
      throw new VcError("config_invalid", `${file}: no default export`, { hint: "end it with `export default defineConfig({ ... })`" });
    }
    exported = value as VcConfigExport;
  } else if (options.fallback) {
    source = options.fallback.source;
    exported = await options.fallback.load();
  } else {
    throw new VcError("config_not_found", `no vc.config.ts found (looked at ${tried.join(", ")})`, {
      hint: "`vc init` writes a starter config",
    });
  }
  return resolveConfig(exported, { source, env, db: options.db, cwd: options.cwd });
}

/** Validates a config value and fills in defaults; `source` names it in errors. */
export async function resolveConfig(exported: VcConfigExport, options: { source: string; env?: Record<string, string | undefined>; db?: string; cwd?: string }): Promise<VcConfig> {
  const env = options.env ?? process.env;
  const input = typeof exported === "function" ? await exported({ env }) : exported;
  const parsed = v.safeParse(ConfigSchema, input);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = formatPath(issue.path);
    const expected = issue.expected ? `expected ${issue.expected}, received ${issue.received}` : issue.message;
    throw new VcError("config_invalid", `${options.source}: ${field || "(top level)"}: ${issue.kind === "validation" ? issue.message : expected}`, {
      details: { file: options.source, field, expected: issue.expected, received: issue.received },
      hint: parsed.issues.length > 1 ? `${parsed.issues.length - 1} more problem(s) after this one` : undefined,
    });
  }
  const c = parsed.output;
  // A plugin's collectors join the config's; each collector's plugin joins the plugins.
  const ownPlugins = c.plugins.filter(Boolean) as unknown as Plugin[];
  const collectors = [...(c.collectors.filter(Boolean) as unknown as Collector[]), ...ownPlugins.flatMap((p) => p.collectors ?? [])];
  const plugins = collectPlugins(ownPlugins, collectors);
  const userRules = c.rules.filter(Boolean) as unknown as Rule[];
  const ruleIds = new Set(userRules.map((r) => r.id));
  const rules = [...userRules, ...plugins.flatMap((p) => (p.rules ?? []).filter((r) => !ruleIds.has(r.id) && (ruleIds.add(r.id), true)))];
  checkUnique(
    options.source,
    "machines",
    c.machines.map((m) => m.id),
  );
  checkUnique(
    options.source,
    "collectors",
    collectors.map((x) => x.name),
  );
  checkUnique(
    options.source,
    "rules",
    (c.rules.filter(Boolean) as { id: string }[]).map((r) => r.id),
  );
  const known = new Set(collectors.map((x) => x.name));
  c.machines.forEach((m, i) => {
    for (const name of m.collectors ?? []) {
      if (!known.has(name)) {
        throw new VcError("config_invalid", `${options.source}: machines[${i}].collectors: no collector "${name}"`, {
          hint: `known collectors: ${[...known].join(", ") || "(none)"}`,
        });
      }
    }
  });

  const home = env.HOME ?? homedir();
  const cwd = options.cwd ?? process.cwd();
  const abs = (p: string) => {
    const e = expandHome(p, home);
    return isAbsolute(e) ? e : resolve(cwd, e);
  };
  const dataDir = abs(c.data_dir ?? join(xdgDataHome(env), "vc"));
  const db = abs(options.db ?? env.VC_DB ?? c.db ?? join(dataDir, "vc.duckdb"));
  return {
    source: options.source,
    db,
    data_dir: dataDir,
    polling: c.polling,
    store: c.store,
    polling_given: Object.keys((input as { polling?: object }).polling ?? {}) as (keyof VcConfig["polling"])[],
    machines: c.machines,
    collectors,
    plugins,
    rules,
    channels: c.channels.filter(Boolean) as unknown as Channel[],
    alerting: c.alerting,
    incidents: c.incidents,
    autopilot: c.autopilot as VcConfig["autopilot"],
    retention: { ...c.retention, export_before_delete: c.retention.export_before_delete === null ? null : abs(c.retention.export_before_delete) },
    serve: { http: c.serve.http ?? null, token: env.VC_WEB_TOKEN || c.serve.token || null },
    node: c.node,
    ingest: c.ingest,
  };
}

function checkUnique(source: string, what: string, names: string[]): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) throw new VcError("config_invalid", `${source}: ${what}[${i}]: "${name}" appears twice`);
    seen.add(name);
  });
}

function formatPath(path: readonly { key: unknown }[] | undefined): string {
  if (!path) return "";
  let out = "";
  for (const p of path) out += typeof p.key === "number" ? `[${p.key}]` : out ? `.${String(p.key)}` : String(p.key);
  return out;
}
