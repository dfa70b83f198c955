// The names push ingest agrees on, with no NATS client behind them (a library user or the daemon
// may need them without loading one): the subjects of batches, the stream, a node's machine id.
import { hostname } from "node:os";
import type { NatsConfig } from "../config/schema.ts";
import type { VcConfig } from "../config/define.ts";

/** A NATS config as a caller may give it (the stream's limits default). */
export type NatsOptions = Omit<NatsConfig, "stream"> & { stream?: Partial<NatsConfig["stream"]> };

/** The subjects of vc's batches: `vc.batch.<machine>.<collector>`. */
export const SUBJECT_PREFIX = "vc.batch";
export const subjectOf = (machine: string, collector: string) => `${SUBJECT_PREFIX}.${token(machine)}.${token(collector)}`;
/** A subject token: NATS separates tokens with dots and treats `*`, `>` and spaces specially. */
const token = (s: string) => s.replace(/[.*>\s]/g, "_");
/** The machine a subject names (its second token after the prefix). */
export const machineOfSubject = (subject: string) => subject.split(".")[2] ?? "";

const DEFAULT_STREAM = { name: "VC_BATCHES", max_age_hours: 72, max_bytes: 1024 ** 3, duplicate_window_minutes: 120 };
export const streamOf = (cfg: NatsOptions) => ({ ...DEFAULT_STREAM, ...cfg.stream });

/** The machine id a node publishes as: `node.machine`, else this host's short name. */
export const nodeMachine = (config: VcConfig) => config.node?.machine ?? hostname().split(".")[0]!;
