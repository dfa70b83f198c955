// GET /api/events as Server-Sent Events: the watch stream (`vc watch`'s lines, one `data:` each)
// for every open page. A client that stops reading is dropped once it leaves a bound of bytes
// unread, so one stuck tab costs a bounded amount of memory and never holds up the others.
import type { Cockpit } from "../cockpit.ts";
import { watchStream } from "../watch.ts";

/** The event streams' heartbeat, bound and headers. */
export interface SseOptions {
  /** Milliseconds between heartbeats (keep it inside the server's idle timeout). */
  heartbeatMs: number;
  /** Bytes a client may leave unread before it is dropped. */
  maxBufferedBytes: number;
  /** Headers of every stream's response (the server's security headers). */
  headers: Record<string, string>;
  onError?: (err: unknown) => void;
  /** Told when a client is dropped for falling behind. */
  onDrop?: () => void;
}

/** The open streams: a new one per request, all ended at once when the server stops. */
export interface SseHub {
  open(req: Request): Response;
  /** Streams open now. */
  readonly size: number;
  /** Ends every stream (their clients see the end of the stream). */
  closeAll(): void;
}

/**
 * Streams each cycle's watch lines to every open client, with a heartbeat between them.
 * @example const hub = createSseHub(vc, { heartbeatMs: 15_000, maxBufferedBytes: 8 << 20, headers }); return hub.open(req)
 */
export function createSseHub(cockpit: Cockpit, o: SseOptions): SseHub {
  const streams = new Set<{ end(): void }>();
  return {
    get size() {
      return streams.size;
    },
    closeAll() {
      for (const s of [...streams]) s.end();
    },
    open(req) {
      const stream = watchStream(cockpit, req, {
        frame: (e) => `data: ${JSON.stringify(e)}\n\n`,
        preamble: "retry: 5000\n\n",
        heartbeatMs: o.heartbeatMs,
        maxBufferedBytes: o.maxBufferedBytes,
        onDrop: o.onDrop,
        onError: o.onError,
        streams,
      });
      return new Response(stream, { headers: { ...o.headers, "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" } });
    },
  };
}
