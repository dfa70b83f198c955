import * as v from "valibot";
import { DEFAULT_STORE_LIMITS, MIN_MEMORY_LIMIT_BYTES, memorySizeBytes } from "../store/store.ts";
import { isHttpAddress } from "../web/address.ts";
import { allowPatternProblem } from "../guardian/gate.ts";

const machineId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "a machine id: a letter or digit, then letters, digits, '.', '_' or '-' (63 at most)"));
const positiveInt = (fallback: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), fallback);

/** One machine of the inventory (plan §4.1, §9.3). */
export const MachineSchema = v.strictObject({
  id: machineId,
  /** "local", `user@host:port`, a Host alias from ~/.ssh/config, or "push": its own `vc node` publishes through NATS and the hub never polls it. */
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
  safe_commands: v.optional(
    v.strictObject({
      allow: v.optional(
        v.array(
          v.pipe(
            v.string(),
            v.rawCheck(({ dataset, addIssue }) => {
              const problem = dataset.typed ? allowPatternProblem(dataset.value) : null;
              if (problem) addIssue({ message: problem });
            }),
          ),
        ),
        [],
      ),
    }),
    { allow: [] },
  ),
  /** Autopilot commands per machine per hour, at most (protocol steps; a person's commands do not count). */
  max_actions_per_hour: positiveInt(10),
  /** Minutes after a failed or blocked run before the same protocol acts on the same target again. */
  cooldown_minutes: positiveInt(30),
  /** Minutes a pending approval waits before it expires. */
  approval_minutes: positiveInt(60),
  /** Overrides every protocol's verification window (seconds). */
  verify_within_seconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(86_400))),
  /** Overrides every protocol's seconds between verification checks. */
  verify_every_seconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(3_600))),
  /** Caps every wait step of a protocol (seconds). */
  max_wait_seconds: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(3_600))),
  /** Per protocol (by name): turn it off, or escalate at another failed run than its own default. */
  protocols: v.optional(
    v.record(
      v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_]*$/, "a protocol name")),
      v.strictObject({ enabled: v.optional(v.boolean(), true), escalate_after_failures: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))) }),
    ),
    {},
  ),
});

/** When alerts open an incident, and when a later one joins it instead (plan §5.4). */
export const IncidentsSchema = v.strictObject({
  /** A critical alert firing opens an incident. */
  critical_opens: v.optional(v.boolean(), true),
  /** This many high-or-worse alerts firing on one machine or one account within the window open one. */
  high_count: positiveInt(3),
  /** The window of high_count, and how long after an incident's last alert a related one still joins it. */
  window_minutes: positiveInt(15),
});

const days = v.pipe(v.number(), v.integer("a whole number of days"), v.minValue(1, "a span of at least 1 day"));

/**
 * Retention (plan §5.3), opt-in: how long raw rows and rollups are kept, and whether `vc vacuum`
 * deletes what is older (after writing it out as Parquet, when asked). Nothing is deleted until `delete: true`.
 */
export const RetentionSchema = v.strictObject({
  /** Days of raw rows kept, per table; `default` covers every table of samples or snapshots (keyed by collected_at) not named. */
  raw_days: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z_][a-z0-9_]*$/, "a table name or default")), days), {}),
  /** Days each rollup tier (min, max, avg, count and last per minute and per hour) is kept; null: for ever. */
  rollup_days: v.optional(v.strictObject({ "1m": v.optional(v.nullable(days), 30), "1h": v.optional(v.nullable(days), null) }), {}),
  /** Delete raw rows past their span (and rollups past theirs). */
  delete: v.optional(v.boolean(), false),
  /** A folder: rows go there as Parquet before they are deleted (with delete off: once past their span). */
  export_before_delete: v.optional(v.nullable(v.pipe(v.string(), v.nonEmpty("a folder"))), null),
  /** The local hour (0-23) at which `vc up` vacuums, once a day; null: only `vc vacuum` does. */
  quiet_hour: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(23))), null),
});

/** HTTP from `vc up` (lib/web/server.ts): where, and the token anything but loopback needs. */
export const ServeSchema = v.strictObject({
  /** `127.0.0.1:8787`; another address than loopback needs a token. Unset: no HTTP (`vc up --http` sets it too). */
  http: v.optional(v.pipe(v.string(), v.check(isHttpAddress, 'an address such as "127.0.0.1:8787"'))),
  /** The bearer token every HTTP request must carry ($VC_WEB_TOKEN wins). */
  token: v.optional(v.pipe(v.string(), v.minLength(16, "a token of at least 16 characters"), v.maxLength(1024, "a token of at most 1024 characters"))),
});

const positive = (what: string) => v.pipe(v.number(), v.minValue(1, what));

/** A NATS server (with JetStream) and how to log in: for `vc node` (publishing) and the hub's ingest (consuming). */
export const NatsSchema = v.strictObject({
  /** nats://host:port (or host:port), one or more (a cluster). */
  servers: v.pipe(v.array(v.pipe(v.string(), v.nonEmpty("a server such as nats://127.0.0.1:4222"))), v.minLength(1, "at least one server")),
  user: v.optional(v.string()),
  password: v.optional(v.string()),
  token: v.optional(v.string()),
  /** A .creds file (a JWT and its nkey seed), as `nsc` writes them. */
  creds_file: v.optional(v.string()),
  /** A file holding an nkey seed (SU…). */
  nkey_seed_file: v.optional(v.string()),
  tls: v.optional(v.strictObject({ ca_file: v.optional(v.string()), cert_file: v.optional(v.string()), key_file: v.optional(v.string()) })),
  /** The stream vc's batches go to, and its limits (what a new hub can still catch up from). */
  stream: v.optional(
    v.strictObject({
      name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/, "letters, digits, - and _")), "VC_BATCHES"),
      max_age_hours: v.optional(positive("at least 1 hour"), 72),
      max_bytes: v.optional(positive("a number of bytes"), 1024 ** 3),
      /** Batches published twice within this window (the same id) are kept once. */
      duplicate_window_minutes: v.optional(positive("at least 1 minute"), 120),
    }),
    {},
  ),
});

/** `vc node`: this machine's collectors run here, and their batches go to NATS. */
export const NodeSchema = v.strictObject({
  /** This machine's id in the fleet (default: the host name); its NATS user may publish only as it. */
  machine: v.optional(machineId),
  nats: NatsSchema,
  /** Batches kept on disk while the server cannot be reached, sent in order when it is back; the oldest go past this. */
  spool_max_bytes: v.optional(positive("a number of bytes"), 64 * 1024 ** 2),
});

/** The hub's push ingest: `vc up` consumes what nodes publish. */
export const IngestSchema = v.strictObject({
  nats: NatsSchema,
  /** This hub's durable consumer: a second hub with another name builds its own store from the same stream. */
  durable: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/, "letters, digits, - and _")), "vc-hub"),
  /** A pushed machine silent this long is unreachable (default: 3 poll intervals). */
  silent_after_seconds: v.optional(positive("a number of seconds")),
  /** Seconds JetStream waits for the hub's acknowledgement before it delivers a batch again (after a crash). */
  ack_wait_seconds: v.optional(positive("a number of seconds"), 30),
  /**
   * Milliseconds the hub gathers batches that arrive one by one before it commits them together: a
   * commit costs about the same for 1 batch as for 50, so a longer window saves CPU and adds latency.
   * A backlog commits as fast as it arrives, whatever this says.
   */
  window_ms: v.optional(v.pipe(v.number(), v.integer("a whole number of milliseconds"), v.minValue(0, "0 or more milliseconds"), v.maxValue(60_000, "at most 60000 ms")), 1000),
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
  /** When alerts open an incident (lib/incidents/open.ts). */
  incidents: v.optional(IncidentsSchema, {}),
  /** How long raw rows and rollups are kept (`vc vacuum`); opt-in. */
  retention: v.optional(RetentionSchema, {}),
  autopilot: v.optional(AutopilotSchema, {}),
  /** HTTP from `vc up`: the JSON API, the event stream, /metrics (lib/web); off unless `http` is set. */
  serve: v.optional(ServeSchema, {}),
  /** `vc node` on this machine: where its batches go. */
  node: v.optional(NodeSchema),
  /** The hub's push ingest from NATS JetStream (lib/ingest). */
  ingest: v.optional(IngestSchema),
});

export type ConfigInput = v.InferInput<typeof ConfigSchema>;
export type MachineConfig = v.InferOutput<typeof MachineSchema>;
export type PollingConfig = v.InferOutput<typeof PollingSchema>;
export type StoreConfig = v.InferOutput<typeof StoreSchema>;
export type IncidentsConfig = v.InferOutput<typeof IncidentsSchema>;
export type AutopilotConfig = v.InferOutput<typeof AutopilotSchema>;
export type NatsConfig = v.InferOutput<typeof NatsSchema>;
export type NodeConfig = v.InferOutput<typeof NodeSchema>;
export type IngestConfig = v.InferOutput<typeof IngestSchema>;
export type RetentionConfig = v.InferOutput<typeof RetentionSchema>;
export type ServeConfig = v.InferOutput<typeof ServeSchema>;
