// Who may ask vc over HTTP (plan §9.1). With a token, every request carries it as a bearer token,
// compared in constant time; failed attempts are audited and, past a bound per client address,
// refused for a while without looking. Without a token (loopback only): reads are open, but the
// Host header must name this server (a DNS-rebinding page names its own domain) and a request that
// changes state must come from this origin (a page elsewhere cannot ack or silence).
import { createHash, timingSafeEqual } from "node:crypto";

/** Who made a request: the token's holder, or a process or page on this machine. */
export interface Who {
  kind: "token" | "loopback";
  /** The client's address as the socket saw it. */
  ip: string;
}

/** Why a request was refused: the status and the error body's code, message and hint. */
export interface Refusal {
  status: 401 | 403 | 429;
  code: "unauthorized" | "forbidden" | "too_many_requests";
  message: string;
  hint?: string;
  /** Seconds until a rate-limited client may try again. */
  retryAfter?: number;
}

/** A failed token attempt, as the audit log records it. */
export interface AuthFailure {
  ip: string;
  reason: "missing" | "malformed" | "too_long" | "wrong";
  method: string;
  path: string;
  /** This attempt used up the client's allowance: it is refused without a look until the window ends. */
  limited: boolean;
}

/** What the guard checks against: the token (or none), the bound address, the failure allowance. */
export interface GuardOptions {
  token: string | null;
  /** The bound host and port (the port the system chose, for port 0). */
  hostname: string;
  port: number;
  /** Failed attempts per client address within the window before it is refused outright (default 10 per 60 s). */
  maxFailures?: number;
  failureWindowMs?: number;
  /** Told of each failed attempt while the client is within its allowance, and of the one that exhausts it. */
  onFailure?: (f: AuthFailure) => Promise<void> | void;
  now?: () => number;
}

/** Longer bearer tokens are refused before they are hashed. */
export const MAX_TOKEN_BYTES = 1024;
/** Client addresses whose failures are remembered at once (the oldest are forgotten first). */
const MAX_TRACKED = 10_000;

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The request checks of the HTTP server, in order: the rate limit, the token (when one is set),
 * then Host and Origin (without one). Returns who asked, or why not.
 */
export function createGuard(o: GuardOptions) {
  const want = o.token === null ? null : digest(o.token);
  const maxFailures = o.maxFailures ?? 10;
  const windowMs = o.failureWindowMs ?? 60_000;
  const now = o.now ?? Date.now;
  const failures = new Map<string, { n: number; since: number }>();
  const local = ["127.0.0.1", "localhost", "[::1]", o.hostname.includes(":") ? `[${o.hostname}]` : o.hostname.toLowerCase()];
  const hosts = new Set(local.flatMap((h) => (o.port === 80 ? [h, `${h}:80`] : [`${h}:${o.port}`])));

  function limitedFor(ip: string): number {
    const f = failures.get(ip);
    if (!f) return 0;
    const left = f.since + windowMs - now();
    if (left <= 0) {
      failures.delete(ip);
      return 0;
    }
    return f.n >= maxFailures ? Math.ceil(left / 1000) : 0;
  }

  async function fail(ip: string, reason: AuthFailure["reason"], req: Request, url: URL): Promise<Refusal> {
    let f = failures.get(ip);
    if (!f) {
      if (failures.size >= MAX_TRACKED) failures.delete(failures.keys().next().value!);
      failures.set(ip, (f = { n: 0, since: now() }));
    }
    f.n++;
    await o.onFailure?.({ ip, reason, method: req.method, path: url.pathname.slice(0, 200), limited: f.n >= maxFailures });
    const how =
      reason === "missing"
        ? "no bearer token"
        : reason === "malformed"
          ? "an Authorization header that is not a bearer token"
          : reason === "too_long"
            ? "a token too long to be vc's"
            : "a wrong token";
    return {
      status: 401,
      code: "unauthorized",
      message: `this vc needs its token: the request carried ${how}`,
      hint: "send Authorization: Bearer <token> (VC_WEB_TOKEN or serve.token of the daemon's config)",
    };
  }

  return {
    /** Whether the requests must carry the token. */
    tokenRequired: want !== null,
    async check(req: Request, url: URL, ip: string): Promise<{ who: Who } | { refused: Refusal }> {
      if (want) {
        const wait = limitedFor(ip);
        if (wait > 0)
          return { refused: { status: 429, code: "too_many_requests", message: `too many failed attempts from ${ip}`, hint: `try again in ${wait} s`, retryAfter: wait } };
        const header = req.headers.get("authorization");
        if (header === null) return { refused: await fail(ip, "missing", req, url) };
        const m = /^Bearer +(\S+) *$/i.exec(header);
        if (!m) return { refused: await fail(ip, header.length > MAX_TOKEN_BYTES ? "too_long" : "malformed", req, url) };
        if (Buffer.byteLength(m[1]!) > MAX_TOKEN_BYTES) return { refused: await fail(ip, "too_long", req, url) };
        // Equal-length digests, compared in constant time: neither the token's length nor its prefix leaks.
        if (!timingSafeEqual(digest(m[1]!), want)) return { refused: await fail(ip, "wrong", req, url) };
        return { who: { kind: "token", ip } };
      }
      const host = (req.headers.get("host") ?? "").toLowerCase();
      if (!hosts.has(host)) {
        return {
          refused: {
            status: 403,
            code: "forbidden",
            message: `Host "${host.slice(0, 100)}" is not this vc`,
            hint: `ask for it by the address it serves on (${[...hosts][0]}), or set a token to serve other names`,
          },
        };
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        const origin = req.headers.get("origin");
        const site = req.headers.get("sec-fetch-site");
        const from = origin?.toLowerCase();
        const sameOrigin = from === undefined || (from.startsWith("http://") && hosts.has(from.slice("http://".length)));
        if (!sameOrigin || (site !== null && site !== "same-origin" && site !== "none")) {
          return {
            refused: {
              status: 403,
              code: "forbidden",
              message: `a ${req.method} from another origin (${(origin ?? site ?? "").slice(0, 100)}) is refused`,
              hint: "change state from vc's own page, or send the token",
            },
          };
        }
      }
      return { who: { kind: "loopback", ip } };
    },
  };
}

/** The name an action is recorded under: the person if the request gave one, and how it came in. */
export function actorOf(who: Who, by?: string): string {
  const how = `web, ${who.kind} ${who.ip}`;
  return by ? `${by} (${how})` : `(${how})`;
}
