// A plugin owns one tool: its collectors, tables, rules, health factors, views and machine
// sections. The core iterates over plugins and names none of them (vite's plugins, unstorage's
// drivers). A bundled collector names the plugin it belongs to, so listing the collector in a
// config brings its views and factors along; `plugins: [...]` in a config takes whole plugins.
import type { Collector } from "../collect/define.ts";
import { VcError } from "../errors.ts";
import type { AreaFactor } from "../health/areas.ts";
import type { EventSource } from "../events.ts";
import type { MachineColumn, MachineSection } from "../robot/machine.ts";
import type { Rule } from "../rules/define.ts";
import type { FactorSuggestions } from "../triage.ts";
import { toMigrations, type MigrationsInput } from "../store/migrate.ts";
import type { AnyView } from "../views/define.ts";
import type { AnyScreen } from "../tui/screen.ts";
import type { DiffSource } from "../diff.ts";
import type { Store } from "../store/store.ts";
import type { VcConfig } from "../config/define.ts";
import type { Intent } from "../ask/define.ts";
import type { MetricSource } from "../web/metrics.ts";
import type { ApiRoute } from "../web/api.ts";
import type { Protocol } from "../guardian/define.ts";

export interface Plugin {
  /** The tool's name (unique among a config's plugins). */
  readonly name: string;
  /** What it collects. A collector's own `migrations` create its tables. */
  readonly collectors?: readonly Collector[];
  /** Tables of the plugin's own beyond its collectors' (numbered SQL, checksummed like the core's). */
  readonly migrations?: MigrationsInput;
  /** Rules it suggests (added after the config's own; a rule id the config already has wins). */
  readonly rules?: readonly Rule[];
  /** Health factors read from its tables (scored with the system ones). */
  readonly healthFactors?: readonly AreaFactor[];
  /** Views it answers: `vc robot <name>`, the socket, `cockpit.view()`. */
  readonly views?: readonly AnyView[];
  /** Sections it adds to `vc robot machine <id>`. */
  readonly machineSections?: readonly MachineSection[];
  /** Columns it adds to the fleet table (`vc robot fleet`, the TUI's machine lists). */
  readonly machineColumns?: readonly MachineColumn[];
  /** Its rows as the common event shape (`vc robot events`, the TUI's Events and a repo's history). */
  readonly events?: readonly EventSource[];
  /** Its panes in the terminal cockpit (`defineScreen` from "vibe-cockpit/tui"): read through views only. */
  readonly screens?: readonly AnyScreen[];
  /** Its tool's commands for a health factor in triage (`{ load: (m) => [{ title, command }] }`), before vc's own. */
  readonly suggestions?: FactorSuggestions;
  /** Work on the store after each cycle's collection, before health and rules (forecasts a rule then reads). */
  readonly derive?: readonly Derivation[];
  /** What changed in its tool's data between two moments (`vc robot diff`): repos, accounts, rules … */
  readonly diffs?: readonly DiffSource[];
  /** Its gauges on `GET /metrics` (`vc_<name>`), read from its tables on each scrape. */
  readonly metrics?: readonly MetricSource[];
  /** Named HTTP paths onto its views beyond `GET /api/<view>` (`{ path: "/api/x/:arg", view: "x" }`). */
  readonly apiRoutes?: readonly ApiRoute[];
  /** Questions it answers for `vc ask` (an intent named like one of vc's adds its part to that answer), read through views only. */
  readonly intents?: readonly Intent[];
  /** Its healing protocols (`defineProtocol`): what the guardian may do about its tool's troubles, gated by the autopilot. */
  readonly protocols?: readonly Protocol[];
}

/**
 * A plugin's step in every poll cycle: it reads what was collected and writes its own tables
 * (through `store.transaction`), as of `at`. A failure is reported in the cycle's outcome and the
 * cycle goes on; warnings are reported the same way.
 * @example derive: [{ name: "forecasts", run: async ({ store, at }) => ({ warnings: await writeForecasts(store, at) }) }]
 */
export interface Derivation {
  readonly name: string;
  run(ctx: { store: Store; at: string; config: VcConfig }): Promise<{ warnings?: string[] } | undefined>;
}

/**
 * Declares a plugin. An identity function: it exists so TypeScript checks the shape.
 * @example export const uptimePlugin = definePlugin({ name: "uptime", collectors: [uptime], views: [uptimeView] })
 */
export function definePlugin<const P extends Plugin>(plugin: P): P {
  return plugin;
}

/** A config's plugins: its own `plugins`, then each collector's, each once by name. */
export function collectPlugins(plugins: readonly Plugin[], collectors: readonly Collector[]): Plugin[] {
  const out = new Map<string, Plugin>();
  for (const p of [...plugins, ...collectors.flatMap((c) => (c.plugin ? [c.plugin] : []))]) {
    const seen = out.get(p.name);
    // The same plugin reached twice (its collector and the plugin itself, or two copies of one
    // module) is one plugin; two different ones under one name are refused.
    if (seen && seen !== p && shape(seen) !== shape(p))
      throw new VcError("config_invalid", `two different plugins are named "${p.name}"`, { hint: "a plugin's name must be unique in a config" });
    if (!seen) out.set(p.name, p);
  }
  return [...out.values()];
}

/** What a plugin contributes, by name: two objects with the same shape are the same plugin. */
const shape = (p: Plugin) =>
  JSON.stringify([
    (p.collectors ?? []).map((c) => c.name),
    (p.views ?? []).map((v) => v.name),
    (p.machineSections ?? []).map((s) => s.name),
    (p.machineColumns ?? []).map((c) => c.name),
    (p.events ?? []).map((e) => e.name),
    (p.screens ?? []).map((x) => x.id),
    (p.healthFactors ?? []).map((f) => f.id),
    (p.rules ?? []).map((r) => r.id),
    (p.derive ?? []).map((d) => d.name),
    (p.diffs ?? []).map((d) => d.name),
    (p.intents ?? []).map((i) => i.name),
    (p.protocols ?? []).map((x) => x.name),
  ]);

/**
 * Refuses two plugins that claim one view name, machine section or table, naming both: the
 * second would shadow the first without a word.
 */
export function checkPlugins(plugins: readonly Plugin[], collectors: readonly Collector[], core: { views: readonly string[]; sections: readonly string[] }): void {
  const owners = new Map<string, string>();
  const claim = (kind: string, name: string, owner: string) => {
    const k = `${kind}\u0000${name}`;
    const prev = owners.get(k);
    if (prev && prev !== owner) throw new VcError("config_invalid", `${kind} "${name}" is claimed by both ${prev} and ${owner}`, { hint: `rename one ${kind}` });
    owners.set(k, owner);
  };
  for (const v of core.views) claim("view", v, "vc");
  for (const s of core.sections) claim("machine section", s, "vc");
  for (const p of plugins) {
    for (const v of p.views ?? []) claim("view", v.name, `plugin ${p.name}`);
    for (const s of p.machineSections ?? []) claim("machine section", s.name, `plugin ${p.name}`);
    for (const c of p.machineColumns ?? []) claim("machine column", c.name, `plugin ${p.name}`);
    for (const e of p.events ?? []) claim("event source", e.name, `plugin ${p.name}`);
    for (const x of p.protocols ?? []) claim("protocol", x.name, `plugin ${p.name}`);
    for (const t of tablesOf(p.migrations)) claim("table", t, `plugin ${p.name}`);
  }
  for (const c of collectors) for (const t of tablesOf(c.migrations)) claim("table", t, c.plugin ? `plugin ${c.plugin.name}` : `collector ${c.name}`);
}

/** The tables a set of migrations creates (`CREATE TABLE [IF NOT EXISTS] name`). */
export function tablesOf(migrations: MigrationsInput | undefined): string[] {
  if (!migrations) return [];
  const out: string[] = [];
  for (const { sql: text } of toMigrations(migrations))
    for (const m of text.matchAll(/create\s+table\s+(?:if\s+not\s+exists\s+)?"?([A-Za-z_][A-Za-z0-9_]*)"?/gi)) out.push(m[1]!.toLowerCase());
  return out;
}
