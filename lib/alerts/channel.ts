import { closeSync, constants, fstatSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { newId } from "../_id.ts";
import type { Clock } from "../clock.ts";
import { VcError, errorMessage } from "../errors.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";
import type { AlertEvent } from "./lifecycle.ts";

/** What a channel is handed besides the event. */
export interface ChannelContext {
  /** vc's data dir. */
  dataDir: string;
  /** A file of this store's own, beside it (`storeFile("alerts.jsonl")` → `<dir>/<store>.alerts.jsonl`): two stores never share one. */
  storeFile(name: string): string;
  signal?: AbortSignal;
}

/** Where alert state changes go: a file, a webhook, stdout. One notification per state change. */
export interface Channel {
  name: string;
  /** Attempts per event before giving up (default 1). */
  attempts?: number;
  /** Wait before the first retry; doubled each time (default 1000 ms). */
  backoffMs?: number;
  /** Resolves to `{ skipped: reason }` when the channel cannot apply here (a program it needs is not installed): recorded as skipped, with the reason, not failed. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a channel that returns nothing is a plain async function (Promise<void>)
  deliver(event: AlertEvent, ctx: ChannelContext): Promise<void | { skipped: string }>;
}

/**
 * Declares an alert channel. An identity function, so TypeScript checks the shape.
 * @example defineChannel({ name: "log", deliver: async (e) => console.error(e.message) })
 */
export function defineChannel<const C extends Channel>(channel: C): C {
  return channel;
}

export interface DeliveryReport {
  channel: string;
  event_id: string;
  ok: boolean;
  attempts: number;
  error?: string;
  /** Why the channel skipped the event (ok stays true). */
  skipped?: string;
}

/**
 * Sends each notified event (not the suppressed ones) to every channel, retrying with backoff,
 * and records each attempt in `alert_deliveries`. A failing channel never stops the others.
 */
export async function deliverEvents(o: {
  store: Store;
  clock: Clock;
  channels: readonly Channel[];
  events: readonly AlertEvent[];
  ctx: ChannelContext;
}): Promise<DeliveryReport[]> {
  const out: DeliveryReport[] = [];
  const notified = o.events.filter((e) => e.suppressed_by === null);
  await Promise.all(
    o.channels.map(async (channel) => {
      for (const event of notified) {
        const attempts = Math.max(1, channel.attempts ?? 1);
        let error: string | undefined;
        let skipped: string | undefined;
        let n = 0;
        for (n = 1; n <= attempts; n++) {
          try {
            skipped = (await channel.deliver(event, o.ctx))?.skipped;
            error = undefined;
          } catch (err) {
            error = errorMessage(err);
          }
          if (!o.store.readOnly) {
            await o.store.run(sql`INSERT INTO alert_deliveries(delivery_id, event_id, alert_id, channel, ts, attempt, status, error)
              VALUES (${newId()}, ${event.event_id}, ${event.alert_id}, ${channel.name}, ${o.clock.now().toISOString()}::TIMESTAMP, ${n}, ${error ? "failed" : skipped !== undefined ? "skipped" : "ok"}, ${error ?? skipped ?? null})`);
          }
          if (!error) break;
          if (n < attempts) await Bun.sleep((channel.backoffMs ?? 1000) * 2 ** (n - 1));
        }
        const why = error ? { error } : skipped === undefined ? {} : { skipped };
        out.push({ channel: channel.name, event_id: event.event_id, ok: !error, attempts: Math.min(n, attempts), ...why });
      }
    }),
  );
  return out;
}

/**
 * Appends text to a file of vc's own (alerts.jsonl): created owner-only (0600, its folder 0700),
 * and never written through a symlink planted where it should be (O_NOFOLLOW), nor into anything
 * but a regular file (a FIFO would block the daemon): those are refused with an error naming them.
 * @example appendPrivateFile(ctx.storeFile("alerts.jsonl"), `${JSON.stringify(event)}\n`)
 */
export function appendPrivateFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "EMLINK") {
      throw new VcError("invalid_input", `${file} is a symbolic link: vc refuses to write through it`, {
        hint: `if you did not put it there, remove it (rm '${file}') and look at who did`,
        cause: err,
      });
    }
    if (code === "ENXIO") throw new VcError("invalid_input", `${file} is not a regular file (a FIFO?): vc refuses to write to it`, { cause: err });
    throw err;
  }
  try {
    if (!fstatSync(fd).isFile()) throw new VcError("invalid_input", `${file} is not a regular file: vc refuses to write to it`);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
