// The dashboard's only way to the cockpit: the daemon's JSON API on the page's own origin (views
// as robot envelopes, ack and silence, explain, a guardian run approved or denied) and its Server-Sent Events stream of `vc watch`
// lines. Nothing is fetched from anywhere else.

/** The robot envelope every view answers in. */
export interface Envelope<T> {
  schema_version: string;
  generated_at: string;
  data: T;
  staleness?: Record<string, number | null>;
  warnings?: string[];
}

/** One line of the watch stream (`vc watch`): an alert change, an event, a cycle, a heartbeat … */
export interface WatchLine {
  type: string;
  at?: string;
  [k: string]: unknown;
}

/** A failed request: the API's error body, or what went wrong on the way. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const enc = encodeURIComponent;

/** The routes the dashboard calls (lib/web/server.ts serves them). */
export const routes = {
  views: "/api",
  view: (name: string) => `/api/${enc(name)}`,
  /** A machine's series for charts (`?metric=cpu,load&window=6h&points=120`). */
  series: (machine: string) => `/api/machines/${enc(machine)}/series`,
  stream: "/api/events",
  ack: (id: string) => `/api/alerts/${enc(id)}/ack`,
  silence: (id: string) => `/api/alerts/${enc(id)}/silence`,
  explain: (id: string) => `/api/alerts/${enc(id)}/explain`,
  approveRun: (id: string) => `/api/guardian/runs/${enc(id)}/approve`,
  denyRun: (id: string) => `/api/guardian/runs/${enc(id)}/deny`,
};

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(`the daemon answered ${res.status} with something that is not JSON`, res.status, "bad_answer");
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; hint?: string } } | null)?.error;
    throw new ApiError(e?.message ?? `HTTP ${res.status}`, res.status, e?.code ?? "http_error", e?.hint);
  }
  return body as T;
}

/** GET a path of the API as JSON. */
export async function get<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin", signal });
  return answer<T>(res);
}

/** A view's answer, its arguments as query parameters (undefined ones left out). */
export function view<T>(name: string, args: Record<string, string | number | boolean | undefined> = {}, signal?: AbortSignal): Promise<Envelope<T>> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(args)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return get<Envelope<T>>(`${routes.view(name)}${s ? `?${s}` : ""}`, signal);
}

/** The answer, or the error it failed with (for a part of a page that may fail alone). */
export const orError = <T>(p: Promise<T>): Promise<T | Error> => p.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));

/** POST a JSON body (same origin, so the daemon's Origin check lets it through). */
export async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  return answer<T>(res);
}

export type StreamState = "connecting" | "live" | "down";

/**
 * Follows the watch stream: `onLine` gets each line, `onState` the connection's state. The
 * browser reconnects by itself after a drop; this only reports it. Returns a function that stops.
 */
export function follow(onLine: (line: WatchLine) => void, onState: (s: StreamState) => void): () => void {
  const es = new EventSource(routes.stream);
  onState("connecting");
  const take = (m: MessageEvent) => {
    try {
      const line = JSON.parse(String(m.data)) as WatchLine;
      if (line && typeof line === "object" && typeof line.type === "string") onLine(line);
    } catch {
      // a comment or a line that is not JSON: nothing to show
    }
  };
  es.onopen = () => onState("live");
  es.onerror = () => onState(es.readyState === EventSource.CLOSED ? "down" : "connecting");
  es.onmessage = take;
  // A server that names its events after the line's type: the same handler for each.
  for (const t of ["alert", "event", "event_end", "cycle", "heartbeat", "prediction", "opportunity"]) es.addEventListener(t, take as EventListener);
  return () => es.close();
}
