// Push ingest as the library exports it. The NATS client (~65 modules, a few MB of a process's
// memory) loads when a node, the hub or a caller first connects, not with every import of the
// library: the daemon of a pull-only fleet never holds it.

/** `vc node`'s loop: collect here, publish each run's batches to NATS (spooled while it is away). */
export const runNode: typeof import("./node.ts").runNode = async (o) => (await import("./node.ts")).runNode(o);
/** The hub's push ingest: consume the stream's batches and commit them to the store. */
export const startIngest: typeof import("./hub.ts").startIngest = async (vc, o) => (await import("./hub.ts")).startIngest(vc, o);
/** Connects to NATS with the config's credentials (a clear error for wrong ones). */
export const connectNats: typeof import("./nats.ts").connectNats = async (cfg, o) => (await import("./nats.ts")).connectNats(cfg, o);
/** Makes (or checks) the stream of batches with the config's limits. */
export const ensureStream: typeof import("./nats.ts").ensureStream = async (jsm, cfg) => (await import("./nats.ts")).ensureStream(jsm, cfg);
