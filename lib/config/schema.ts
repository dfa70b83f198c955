import * as v from "valibot";
import { DEFAULT_STORE_LIMITS, MIN_MEMORY_LIMIT_BYTES, memorySizeBytes } from "../store/store.ts";

const machineId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "a machine id: a letter or digit, then letters, digits, '.', '_' or '-' (63 at most)"));
const positiveInt = (fallback: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), fallback);

/** One machine of the inventory (plan §4.1, §9.3). */
export const MachineSchema = v.strictObject({
  id: machineId,
  /** "local", `user@host:port`, or a Host alias from ~/.ssh/config. */
  ssh: v.pipe(v.string(), v.nonEmpty('"local", user@host:port or a Host alias')),
  tags: v.optional(v.array(v.string()), []),
  roles: v.optional(v.array(v.string()), []),
  allow_write_commands: v.optional(v.boolean(), false),
  allow_autopilot: v.optional(v.boolean(), false),
  /** Overrides of upstream paths, keyed `<collector>.<key>` (e.g. "dcg.history_db"). */
  paths: v.optional(v.record(v.string(), v.string()), {}),
  /** Only these collectors run on this machine (default: all). */
  collectors: v.optional(v.array(v.string())),
  /** SSH: an identity file to try first (besides ssh-agent and ~/.ssh/config's IdentityFile). */
  identity_file: v.optional(v.string()),
  /** SSH: accept an unknown host key once, record it in <data_dir>/known_hosts and the audit log. Never a changed key. */
  trust_on_first_use: v.optional(v.boolean(), false),
  /** SSH: known_hosts files to check instead of ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts. */
  known_hosts: v.optional(v.array(v.string())),
});

/** Poll loop bounds (plan §2.4, §4.1). */
export const PollingSchema = v.strictObject({
  interval_seconds: positiveInt(120),
  max_machines_in_flight: positiveInt(8),
  max_collectors_in_flight_per_machine: positiveInt(4),
  collector_timeout_seconds: positiveInt(30),
  max_bytes: positiveInt(16 * 1024 * 1024),
  max_rows: positiveInt(100_000),
  tool_probe_ttl_hours: positiveInt(24),
  /** Data older than this many intervals is stale. */
  stale_after_intervals: positiveInt(3),
  /** SSH: how long connecting to a machine may take before it counts as unreachable. */
  connect_timeout_seconds: positiveInt(10),
  /** SSH: commands open at once on one machine's connection (OpenSSH's MaxSessions is 10). */
  max_channels_per_machine: positiveInt(8),
  /** SSH: keepalive interval. */
  keepalive_seconds: positiveInt(15),
});

/** DuckDB's bounds for the store (measured with `bun run bench daemon`: 10 machines x every collector). */
export const StoreSchema = v.strictObject({
  /** DuckDB's memory_limit ("128MB", "1GB"): its buffer pool, indexes and data not yet checkpointed. */
  memory_limit: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => (memorySizeBytes(s) ?? 0) >= MIN_MEMORY_LIMIT_BYTES, 'a size of at least 32MB, such as "128MB" or "1GB"'),
    ),
    DEFAULT_STORE_LIMITS.memoryLimit,
  ),
  /** DuckDB's worker threads (its own default is one per core). */
  threads: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(256)), DEFAULT_STORE_LIMITS.threads),
});

const CollectorSchema = v.looseObject({
  name: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_-]*$/, "a collector name: lower-case letters, digits, '_' or '-'")),
  version: v.string(),
  schemaVersion: v.pipe(v.number(), v.integer()),
  collect: v.function(),
});

const RuleSchema = v.looseObject({
  id: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_]*$/, "a rule id: lower-case letters, digits and '_'")),
  severity: v.picklist(["critical", "high", "medium", "low"]),
  title: v.string(),
  source: v.looseObject({ kind: v.literal("source"), name: v.string(), sql: v.function() }),
  when: v.looseObject({ kind: v.string() }),
  labels: v.array(v.string()),
  value: v.string(),
  message: v.string(),
});

const ChannelSchema = v.looseObject({ name: v.string(), deliver: v.function() });
const PluginSchema = v.looseObject({
  name: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_-]*$/, "a plugin name: lower-case letters, digits, '_' or '-'")),
  collectors: v.optional(v.array(CollectorSchema)),
  views: v.optional(v.array(v.looseObject({ name: v.string(), run: v.function() }))),
});

const falsy = v.union([v.literal(false), v.null(), v.undefined(), v.literal(0), v.literal("")]);

export const AutopilotSchema = v.strictObject({
  mode: v.optional(v.picklist(["off", "suggest", "execute-safe", "execute-with-approval"]), "suggest"),
  safe_commands: v.optional(v.strictObject({ allow: v.optional(v.array(v.string()), []) }), { allow: [] }),
});

/** The whole of vc.config.ts. */
export const ConfigSchema = v.strictObject({
  /** The DuckDB file (default $XDG_DATA_HOME/vc/vc.duckdb). */
  db: v.optional(v.string()),
  /** Where vc keeps its files (default $XDG_DATA_HOME/vc). */
  data_dir: v.optional(v.string()),
  polling: v.optional(PollingSchema, {}),
  /** DuckDB's memory and thread bounds. */
  store: v.optional(StoreSchema, {}),
  machines: v.optional(v.pipe(v.array(MachineSchema), v.minLength(1, "at least one machine")), [{ id: "local", ssh: "local" }]),
  collectors: v.optional(v.array(v.union([CollectorSchema, falsy])), []),
  /** Whole plugins (definePlugin): their collectors, rules, views, sections and factors; falsy entries are dropped. */
  plugins: v.optional(v.array(v.union([PluginSchema, falsy])), []),
  /** Alert rules (defineRule); falsy entries are dropped. */
  rules: v.optional(v.array(v.union([RuleSchema, falsy])), []),
  /** Where alert state changes go (defineChannel); falsy entries are dropped. */
  channels: v.optional(v.array(v.union([ChannelSchema, falsy])), []),
  alerting: v.optional(
    v.strictObject({
      /** Firing/resolved changes within this window count towards flapping. */
      flap_window_minutes: positiveInt(60),
      /** This many changes within the window make an alert flap (then it is not re-notified). */
      flap_transitions: positiveInt(4),
    }),
    {},
  ),
  autopilot: v.optional(AutopilotSchema, {}),
});

export type ConfigInput = v.InferInput<typeof ConfigSchema>;
export type MachineConfig = v.InferOutput<typeof MachineSchema>;
export type PollingConfig = v.InferOutput<typeof PollingSchema>;
export type StoreConfig = v.InferOutput<typeof StoreSchema>;
