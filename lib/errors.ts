/** Error codes vc raises on purpose; anything else reaching the CLI is a bug. */
export type VcErrorCode =
  | "config_not_found"
  | "config_invalid"
  | "config_load_failed"
  | "store_not_duckdb"
  | "store_locked"
  | "store_open_failed"
  | "migration_changed"
  | "migration_failed"
  | "migration_newer"
  | "query_refused"
  | "query_failed"
  | "unknown_machine"
  | "unknown_collector"
  | "exec_failed"
  | "exec_timeout"
  | "collector_failed"
  /** Thrown inside a collector (e.g. by an executor) when it cannot run on this machine: the run is skipped, not failed. */
  | "collector_skipped"
  | "invalid_input"
  /** A flag or argument of a command has a bad value (the message names the flag and the accepted form). */
  | "invalid_argument"
  /** A command line that does not parse: an unknown flag or subcommand, a missing argument (exit 2). */
  | "usage"
  /** A request too large to take (the socket answers 413). */
  | "payload_too_large"
  /** Too many requests at once (the socket answers 503). */
  | "busy"
  /** A request's body did not arrive in time (408). */
  | "request_timeout"
  | "not_found"
  /** The upstream tool has no such operation: the message says what it would need (never a pretend success). */
  | "not_implemented"
  /** NATS refused the login, the permission, or could not be reached (vc node, the hub's ingest). */
  | "nats_auth"
  | "nats_permission"
  | "nats_unreachable"
  | "nats_failed";

export interface VcErrorOptions {
  /** One line telling the user what to do about it. */
  hint?: string;
  cause?: unknown;
  /** Where it happened: the scheduler stamps collector and machine here. */
  collector?: string;
  machine?: string;
  /** Anything else worth showing (file, field, sql). */
  details?: Record<string, unknown>;
}

/**
 * The one error type vc throws on purpose: a code, a readable message, an optional hint.
 * @example throw new VcError("unknown_machine", `no machine "x"`, { hint: "known: a, b" })
 */
export class VcError extends Error {
  readonly code: VcErrorCode;
  readonly hint?: string;
  collector?: string;
  machine?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: VcErrorCode, message: string, options: VcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "VcError";
    this.code = code;
    this.hint = options.hint;
    this.collector = options.collector;
    this.machine = options.machine;
    this.details = options.details;
  }
}

/** True for errors vc raised on purpose (shown as one line), false for bugs (shown with a stack). */
export function isVcError(err: unknown): err is VcError {
  return err instanceof VcError;
}

/** The message of any thrown value, without a stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** True when a query failed because its table is not there (an older store, a plugin whose migration has not run). */
export const isMissingTable = (err: unknown) => /Catalog Error: Table with name .+ does not exist/i.test(errorMessage(err));
