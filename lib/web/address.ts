// Where `vc up` serves HTTP: `host:port`, `[v6]:port` or a bare port (loopback). Kept apart from the
// server so the config can check an address without loading the server's dependencies.
import { VcError } from "../errors.ts";

/** A parsed HTTP address: what Bun.serve binds, and whether only this machine can reach it. */
export interface HttpAddress {
  hostname: string;
  port: number;
  loopback: boolean;
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * `127.0.0.1:8787`, `[::1]:8787`, `0.0.0.0:8787`, `localhost:8787`, or `8787` (127.0.0.1); port 0
 * lets the system choose. Throws `invalid_argument` naming `what` (the flag or config key).
 * @example parseHttpAddress("127.0.0.1:8787") // { hostname: "127.0.0.1", port: 8787, loopback: true }
 */
export function parseHttpAddress(text: string, what = "serve.http"): HttpAddress {
  const m = /^\s*(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})\s*$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65_535) {
    throw new VcError("invalid_argument", `${what}: "${text}" is not an address to serve HTTP on`, {
      hint: 'write host:port, such as "127.0.0.1:8787" (or a port alone for 127.0.0.1)',
      details: { field: what },
    });
  }
  const hostname = (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  return { hostname, port, loopback: isLoopbackHost(hostname) };
}

/** Whether `text` parses as an HTTP address (the config's check). */
export function isHttpAddress(text: string): boolean {
  try {
    parseHttpAddress(text);
    return true;
  } catch {
    return false;
  }
}
