import type { Collector } from "../collect/define.ts";
import type { Plugin } from "../plugin/define.ts";
import type { Channel } from "../alerts/channel.ts";
import type { Rule } from "../rules/define.ts";
import type { AutopilotConfig, ConfigInput, IncidentsConfig, IngestConfig, NodeConfig, MachineConfig, PollingConfig, RetentionConfig, StoreConfig } from "./schema.ts";

type Falsy = false | null | undefined | 0 | "";

/** What a user writes in vc.config.ts. */
export type VcConfigInput = Omit<ConfigInput, "collectors" | "rules" | "channels" | "plugins"> & {
  /** Whole plugins (definePlugin); falsy entries are dropped. A listed collector brings its own plugin too. */
  plugins?: readonly (Plugin | Falsy)[];
  /** Collector instances; falsy entries are dropped, so `env.NO_X ? null : x()` reads naturally. */
  collectors?: readonly (Collector | Falsy)[];
  /** Alert rules (the default pack and your own); falsy entries are dropped. */
  rules?: readonly (Rule | Falsy)[];
  /** Alert channels; falsy entries are dropped. */
  channels?: readonly (Channel | Falsy)[];
};

/** The environment a config function receives. */
export interface ConfigEnv {
  env: Record<string, string | undefined>;
}

/** vc.config.ts as an object, or a function of the environment returning one. */
export type VcConfigExport = VcConfigInput | ((ctx: ConfigEnv) => VcConfigInput | Promise<VcConfigInput>);

/** A validated config with every default filled in and paths resolved. */
export interface VcConfig {
  /** The file it came from, or "(embedded default)". */
  source: string;
  db: string;
  data_dir: string;
  polling: PollingConfig;
  /** DuckDB's memory and thread bounds for the store. */
  store: StoreConfig;
  /** The polling keys the config set itself (the rest are defaults): a value set here beats a collector's own limit, a default does not. */
  polling_given?: readonly (keyof PollingConfig)[];
  machines: MachineConfig[];
  collectors: Collector[];
  /** Every plugin in play: the config's own and each listed collector's, once each. */
  plugins: Plugin[];
  rules: Rule[];
  channels: Channel[];
  alerting: { flap_window_minutes: number; flap_transitions: number };
  /** When alerts open an incident and when a later one joins it. */
  incidents: IncidentsConfig;
  /** The guardian's gate and caps (lib/guardian). */
  autopilot: AutopilotConfig;
  /** How long raw rows and rollups are kept, export_before_delete resolved to an absolute path (absent: nothing configured). */
  retention?: RetentionConfig;
  /** HTTP from `vc up`: where (null: none) and the token ($VC_WEB_TOKEN, else serve.token; null: none). */
  serve?: { http: string | null; token: string | null };
  /** `vc node` on this machine (lib/ingest/node.ts). */
  node?: NodeConfig;
  /** The hub's push ingest (lib/ingest/hub.ts). */
  ingest?: IngestConfig;
}

/**
 * Declares vc's config. An identity function: it exists so TypeScript checks the shape.
 * @example export default defineConfig({ machines: [{ id: "orko", ssh: "local" }], collectors: [sysprobe()] })
 */
export function defineConfig<const C extends VcConfigExport>(config: C): C {
  return config;
}
