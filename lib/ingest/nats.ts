// NATS with JetStream, as vc uses it: connecting with the config's credentials (a clear error for
// wrong ones, and no retry storm), the stream of batches with its limits, and the subject of a
// machine's collector (a node's NATS user may be allowed to publish under its own machine only).
import { readFileSync } from "node:fs";
import { jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import { connect, credsAuthenticator, nanos, nkeyAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { VcError, errorMessage } from "../errors.ts";
import { SUBJECT_PREFIX, streamOf, type NatsOptions } from "./names.ts";

/** Who is logging in, for messages: the user, "a token", "creds <file>"… */
function loginOf(cfg: NatsOptions): string {
  if (cfg.creds_file) return `the credentials in ${cfg.creds_file}`;
  if (cfg.nkey_seed_file) return `the nkey in ${cfg.nkey_seed_file}`;
  if (cfg.user) return `user "${cfg.user}"`;
  if (cfg.token) return "a token";
  return "no credentials";
}

/**
 * Connects to the configured servers. Wrong credentials fail at once with a VcError naming the
 * server and the login (the client does not retry them); an unreachable server fails after one
 * attempt per server unless `reconnect` (a daemon keeps trying, with the client's backoff).
 */
export async function connectNats(cfg: NatsOptions, o: { name: string; reconnect?: boolean; timeoutMs?: number }): Promise<NatsConnection> {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new VcError("config_invalid", `nats: cannot read the ${what} ${file}: ${errorMessage(err)}`);
    }
  };
  const authenticator = cfg.creds_file
    ? credsAuthenticator(read(cfg.creds_file, "credentials file"))
    : cfg.nkey_seed_file
      ? nkeyAuthenticator(new TextEncoder().encode(read(cfg.nkey_seed_file, "nkey seed file").toString("utf8").trim()))
      : undefined;
  // The files' PEM text, read here (Bun's TLS upgrade of a socket takes the text, not the client's file loading).
  const tls = cfg.tls
    ? {
        ...(cfg.tls.ca_file ? { ca: read(cfg.tls.ca_file, "TLS CA file").toString("utf8") } : {}),
        ...(cfg.tls.cert_file ? { cert: read(cfg.tls.cert_file, "TLS certificate file").toString("utf8") } : {}),
        ...(cfg.tls.key_file ? { key: read(cfg.tls.key_file, "TLS key file").toString("utf8") } : {}),
      }
    : undefined;
  try {
    return await connect({
      servers: cfg.servers,
      name: o.name,
      ...(cfg.user ? { user: cfg.user, pass: cfg.password } : {}),
      ...(cfg.token ? { token: cfg.token } : {}),
      ...(authenticator ? { authenticator } : {}),
      ...(tls ? { tls } : {}),
      timeout: o.timeoutMs ?? 5000,
      // A daemon rides out a server restart; a one-shot command says so and stops.
      reconnect: o.reconnect ?? false,
      maxReconnectAttempts: o.reconnect ? -1 : 0,
      reconnectTimeWait: 1000,
      waitOnFirstConnect: false,
    });
  } catch (err) {
    throw natsError(err, cfg);
  }
}

/** A NATS failure as a VcError that says what to do: wrong credentials, no server, no permission. */
export function natsError(err: unknown, cfg: NatsOptions): VcError {
  if (err instanceof VcError) return err;
  const name = (err as { name?: string; constructor?: { name?: string } })?.constructor?.name ?? "";
  const text = errorMessage(err);
  const where = cfg.servers.join(", ");
  if (/Authorization|Authentication|AuthorizationError/i.test(`${name} ${text}`))
    return new VcError("nats_auth", `NATS at ${where} refused ${loginOf(cfg)}: ${text}`, { hint: "check nats.user/password, token, creds_file or nkey_seed_file in the config" });
  if (/Permissions Violation/i.test(text))
    return new VcError("nats_permission", `NATS at ${where} does not let ${loginOf(cfg)} do that: ${text}`, {
      hint: "a node's NATS user may publish only under vc.batch.<its machine>.>",
    });
  if (/certificate|self.signed|TLS|SSL/i.test(text))
    return new VcError("nats_failed", `NATS at ${where}: TLS: ${text}`, {
      hint: "set nats.tls.ca_file to the CA that signed the server's certificate (and cert_file/key_file if it asks for a client certificate)",
    });
  if (/no responders|503/i.test(`${name} ${text}`))
    return new VcError("nats_unreachable", `NATS at ${where} has no stream for vc's batches yet: ${text}`, {
      hint: "start a hub once (vc up with ingest.nats creates the stream), or create it with the nats CLI",
    });
  if (/ECONNREFUSED|connection refused|CONNECTION_REFUSED|timeout|TIMEOUT|ENOTFOUND|closed/i.test(`${name} ${text}`))
    return new VcError("nats_unreachable", `NATS at ${where} cannot be reached: ${text}`, { hint: "is nats-server running (with -js)?" });
  return new VcError("nats_failed", `NATS at ${where}: ${text}`);
}

/** Creates the stream of batches (or updates its limits to the config's); returns its info. */
export async function ensureStream(jsm: JetStreamManager, cfg: NatsOptions): Promise<StreamInfo> {
  const s = streamOf(cfg);
  const config = {
    name: s.name,
    subjects: [`${SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(s.max_age_hours * 3_600_000),
    max_bytes: s.max_bytes,
    duplicate_window: nanos(s.duplicate_window_minutes * 60_000),
  };
  try {
    return await jsm.streams.info(s.name).then(async (info) => {
      const c = info.config;
      if (c.max_age !== config.max_age || c.max_bytes !== config.max_bytes || c.duplicate_window !== config.duplicate_window)
        return jsm.streams.update(s.name, { max_age: config.max_age, max_bytes: config.max_bytes, duplicate_window: config.duplicate_window });
      return info;
    });
  } catch (err) {
    if (!/stream not found/i.test(errorMessage(err))) throw natsError(err, cfg);
  }
  try {
    return await jsm.streams.add(config);
  } catch (err) {
    throw natsError(err, cfg);
  }
}

/** The stream's manager on a connection. */
export const managerOf = (nc: NatsConnection) => jetstreamManager(nc);
