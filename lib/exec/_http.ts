import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import { VcError } from "../errors.ts";
import { concat } from "./_output.ts";
import type { HttpResult } from "./types.ts";

/**
 * A plain HTTP/1.1 GET over an already-open byte stream (an SSH direct-tcpip channel): for a
 * machine's own loopback services (Prometheus /metrics, a local API) with nothing installed there.
 */
export async function httpGetOverStream(stream: Duplex, url: URL, o: { maxBytes: number; timeoutMs: number }): Promise<HttpResult> {
  const socket: Duplex = url.protocol === "https:" ? tlsConnect({ socket: stream as never, servername: url.hostname }) : stream;
  const path = `${url.pathname || "/"}${url.search}`;
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: vibe-cockpit\r\nAccept: */*\r\nConnection: close\r\n\r\n`);
  const parts: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new VcError("exec_timeout", `GET ${url.href} timed out after ${o.timeoutMs / 1000} s`));
    }, o.timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    socket.on("data", (d: Buffer) => {
      parts.push(d);
      size += d.byteLength;
      if (size > o.maxBytes + 64 * 1024) {
        truncated = true;
        socket.destroy();
        done();
      }
    });
    socket.on("end", done);
    socket.on("close", done);
    socket.on("error", (err: Error) => {
      clearTimeout(timer);
      reject(new VcError("exec_failed", `GET ${url.href} failed: ${err.message}`));
    });
  });
  const raw = Buffer.from(concat(parts));
  const headEnd = raw.indexOf("\r\n\r\n");
  if (headEnd < 0) throw new VcError("exec_failed", `GET ${url.href}: no HTTP response`);
  const head = raw.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head[0] ?? "")?.[1]);
  if (!status) throw new VcError("exec_failed", `GET ${url.href}: not an HTTP response (${JSON.stringify(head[0]?.slice(0, 40))})`);
  const headers = new Map(head.slice(1).map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  let body: Buffer = raw.subarray(headEnd + 4);
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) body = dechunk(body);
  else if (headers.has("content-length")) body = body.subarray(0, Number(headers.get("content-length")));
  if (body.byteLength > o.maxBytes) {
    body = body.subarray(0, o.maxBytes);
    truncated = true;
  }
  return { status, body: new TextDecoder().decode(body), truncated };
}

function dechunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const eol = buf.indexOf("\r\n", at);
    if (eol < 0) break;
    const n = Number.parseInt(buf.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(n) || n === 0) break;
    out.push(buf.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
  return Buffer.concat(out);
}
