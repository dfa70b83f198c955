import { watch as fsWatch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Cockpit } from "./cockpit.ts";
import type { AlertEvent } from "./alerts/lifecycle.ts";
import { machineInfo } from "./collect/scheduler.ts";
import { createLocalExecutor } from "./exec/local.ts";
import { errorMessage } from "./errors.ts";
import type { OpportunityLine, PredictionLine, VcEvent } from "./events.ts";
import { eventFeed, type FeedNews } from "./views/events.ts";

/** A heartbeat: the watch is alive (and, from a local watch, how the fleet stands). */
export interface HeartbeatEvent {
  type: "heartbeat";
  at: string;
  cycles?: number;
  firing?: number;
  overall?: { score: number; severity: string } | null;
}
/** A forecast crossing a threshold, and an opportunity: typed lines a plugin's event source makes (`watchLine`). */
export type PredictionEvent = PredictionLine;
export type OpportunityEvent = OpportunityLine;
/** A poll cycle finished (its alert changes, if any, came just before): screens refresh on it. */
export interface CycleEvent {
  type: "cycle";
  at: string;
  /** Alert state changes in that cycle. */
  changes: number;
}
/** Something a plugin's tool saw, new since the last cycle (a dcg deny, urgent mail, a pt finding …): the common event shape. */
export interface HappenedEvent {
  type: "event";
  at: string;
  event: VcEvent;
}
/** An ongoing event that no longer holds (the agent that waited was answered): its key, and the event as it was last listed. */
export interface EndedEvent {
  type: "event_end";
  at: string;
  key: string;
  event: VcEvent;
}
/** What `vc watch` prints, one JSON object per line. */
export type WatchEvent = AlertEvent | HappenedEvent | EndedEvent | CycleEvent | HeartbeatEvent | PredictionEvent | OpportunityEvent;

/** A cycle's lines in order: its alert changes, the plugins' new events and ended ones, then the cycle itself. */
export async function cycleLines(
  outcome: { at: string; events: readonly AlertEvent[] },
  feed: { next(): Promise<FeedNews> } | null,
  onError?: (err: unknown) => void,
): Promise<WatchEvent[]> {
  const none: FeedNews = { fresh: [], ended: [] };
  const news = feed ? await feed.next().catch((err: unknown) => (onError?.(err), none)) : none;
  return [
    ...outcome.events,
    ...news.fresh.map((event): HappenedEvent | PredictionLine | OpportunityLine => news.typed?.get(event.key) ?? { type: "event", at: event.at ?? outcome.at, event }),
    ...news.ended.map((event): EndedEvent => ({ type: "event_end", at: outcome.at, key: event.key, event })),
    { type: "cycle", at: outcome.at, changes: outcome.events.length },
  ];
}

/**
 * The watch stream of a cockpit that runs the cycles (the daemon's socket and HTTP streams): each
 * cycle's lines sent in cycle order, from the next cycle on (what is there already is no news).
 * Returns the function that stops it.
 */
export function followCycles(vc: Cockpit, send: (e: WatchEvent) => void, onError?: (err: unknown) => void): () => void {
  const feed = eventFeed(vc);
  let lines: Promise<unknown> = feed.next().catch(() => null);
  return vc.subscribe((outcome) => {
    lines = lines.then(async () => {
      for (const e of await cycleLines(outcome, feed, onError)) send(e);
    });
  });
}

/** How a watch stream frames its lines on the wire (`vc watch`'s JSON lines, Server-Sent Events) and its bounds. */
export interface WatchStreamOptions {
  /** The bytes of one line. */
  frame(e: WatchEvent): string;
  /** Sent once, first (an event stream's `retry:`). */
  preamble?: string;
  /** Milliseconds between heartbeats: inside the server's idle timeout. */
  heartbeatMs: number;
  /** Bytes the client may leave unread before it is dropped (default: no bound). */
  maxBufferedBytes?: number;
  /** Told when the client is dropped for falling behind. */
  onDrop?: () => void;
  onError?: (err: unknown) => void;
  /** The server's open streams: this one is added while it lasts (so the server can end them all). */
  streams: Set<{ end(): void }>;
}

/** What a stream may hold before Bun takes it: beyond it, what is queued waits for the client. */
const STREAM_HIGH_WATER = 64 * 1024;

/**
 * The body of a watch stream for one request (the socket's `GET /v1/watch`, the web's `GET
 * /api/events`): a heartbeat once subscribed and then every `heartbeatMs`, each cycle's lines after
 * it, until the client leaves or the server ends it. A client that leaves more than
 * `maxBufferedBytes` unread is dropped: an errored stream discards what it holds and Bun closes the
 * connection.
 */
export function watchStream(vc: Cockpit, req: Request, o: WatchStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let entry: { end(): void } | undefined;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let open = true;
        const write = (text: string) => {
          if (!open) return;
          // Bytes waiting for the client: what Bun could not write because the client reads no more.
          if (o.maxBufferedBytes !== undefined && STREAM_HIGH_WATER - (controller.desiredSize ?? 0) > o.maxBufferedBytes) return drop();
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            stop();
          }
        };
        const send = (e: WatchEvent) => write(o.frame(e));
        const beat = () => send({ type: "heartbeat", at: vc.clock.now().toISOString() });
        // The plugins' new events after each cycle, in cycle order (one cycle's lines before the next's).
        const unsubscribe = followCycles(vc, send, o.onError);
        const timer = setInterval(beat, o.heartbeatMs);
        function stop() {
          if (!open) return;
          open = false;
          unsubscribe();
          clearInterval(timer);
          req.signal.removeEventListener("abort", stop);
          o.streams.delete(entry!);
        }
        function drop() {
          stop();
          o.onDrop?.();
          controller.error(new Error("the client fell behind the watch stream"));
        }
        entry = {
          end() {
            stop();
            try {
              controller.close();
            } catch {
              // already closed by the client
            }
          },
        };
        o.streams.add(entry);
        req.signal.addEventListener("abort", stop, { once: true });
        if (o.preamble) write(o.preamble);
        beat(); // subscribed: the client knows events from here on reach it
      },
      cancel() {
        entry?.end();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: STREAM_HIGH_WATER }),
  );
}

export interface WatchOptions {
  /** Poll everything this often. */
  intervalMs: number;
  signal: AbortSignal;
  emit: (e: WatchEvent) => void;
  onError?: (err: unknown) => void;
  /** Wait this long after a file change before collecting (writes come in bursts). */
  debounceMs?: number;
}

/**
 * The watch loop when no daemon runs: a full cycle every interval, and — for collectors that name
 * local files (`watchPaths`) — a cycle of just that collector as soon as one of them changes, so a
 * new dcg deny or mail message alerts within about a second. Emits alert changes, the plugins' new
 * events, a line per cycle and heartbeats.
 */
export async function runWatch(vc: Cockpit, o: WatchOptions): Promise<void> {
  let cycles = 0;
  let running: Promise<void> | null = null;
  const queued = new Set<string>(); // collector names waiting; "*" for a full cycle
  const heartbeat = async () => {
    const alerts = await vc.alerts();
    const h = await vc.health().catch(() => null);
    o.emit({ type: "heartbeat", at: vc.clock.now().toISOString(), cycles, firing: alerts.filter((a) => a.state === "firing").length, overall: h?.overall ?? null });
  };
  const feed = eventFeed(vc);
  await feed.next().catch((err) => o.onError?.(err)); // what is there already is no news
  const runQueued = async () => {
    while (queued.size > 0 && !o.signal.aborted) {
      const names = queued.has("*") ? ["*"] : [...queued];
      queued.clear();
      try {
        for (const name of names) {
          const r = await vc.collect(name === "*" ? { signal: o.signal } : { collector: name, signal: o.signal });
          cycles++;
          for (const e of await cycleLines(r.outcome, feed, o.onError)) o.emit(e);
        }
      } catch (err) {
        o.onError?.(err);
      }
    }
  };
  const request = (name: string) => {
    queued.add(name);
    if (!running) running = runQueued().finally(() => (running = null));
  };

  const stopWatching = await watchLocalSources(vc, (name) => request(name), { debounceMs: o.debounceMs, onError: o.onError });
  const following = vc.follow({ signal: o.signal, onError: o.onError });
  const tick = setInterval(() => request("*"), o.intervalMs);
  const beat = setInterval(() => void heartbeat().catch((err) => o.onError?.(err)), Math.min(o.intervalMs, 15_000));
  request("*");
  await heartbeat().catch((err) => o.onError?.(err));
  await new Promise<void>((resolve) => (o.signal.aborted ? resolve() : o.signal.addEventListener("abort", () => resolve(), { once: true })));
  clearInterval(tick);
  clearInterval(beat);
  stopWatching();
  await following;
  await running;
}

/**
 * Watches the local files that collectors name (`watchPaths`: a dcg log, a mail database) and calls
 * `onChange(collector)` shortly after one changes. Returns a function that stops watching.
 */
export async function watchLocalSources(
  vc: Pick<Cockpit, "config">,
  onChange: (collector: string) => void,
  o: { debounceMs?: number; onError?: (err: unknown) => void } = {},
): Promise<() => void> {
  const watchers: FSWatcher[] = [];
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  for (const m of vc.config.machines.filter((x) => x.ssh === "local")) {
    const exec = createLocalExecutor({ machineId: m.id });
    const info = machineInfo(m);
    for (const c of vc.config.collectors.filter((x) => x.watchPaths && (!m.collectors || m.collectors.includes(x.name)))) {
      let paths: readonly string[] = [];
      try {
        paths = await c.watchPaths!({ machine: info, exec, path: (key, fallback) => info.paths[`${c.name}.${key}`] ?? fallback, warn: () => {} });
      } catch (err) {
        o.onError?.(new Error(`${c.name}: cannot tell which files to watch: ${errorMessage(err)}`));
      }
      for (const p of paths) {
        const file = await exec.expand(p);
        try {
          // Watch the folder: files are replaced on rotation, and SQLite writes go to -wal first.
          watchers.push(
            fsWatch(dirname(file), (_event, name) => {
              if (!name || !String(name).startsWith(basename(file))) return;
              clearTimeout(timers.get(c.name));
              timers.set(
                c.name,
                setTimeout(() => onChange(c.name), o.debounceMs ?? 100),
              );
            }),
          );
        } catch {
          // the folder does not exist (yet): the interval poll covers it
        }
      }
    }
  }
  return () => {
    for (const t of timers.values()) clearTimeout(t);
    for (const w of watchers) w.close();
  };
}
