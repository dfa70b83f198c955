import { createHash, createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "./quote.ts";

/** What the known_hosts files say of a host key. */
export type HostKeyStatus = "match" | "unknown" | "changed" | "revoked";

/** The key's type name, read from its SSH wire form. */
export function keyType(blob: Buffer): string {
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString("latin1");
}

/** "SHA256:…" as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

interface Entry {
  marker: "" | "@revoked" | "@cert-authority";
  hosts: string;
  type: string;
  blob: Buffer;
}

function parse(text: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const f = line.split(/\s+/);
    const marker = f[0] === "@revoked" || f[0] === "@cert-authority" ? (f.shift() as Entry["marker"]) : "";
    const [hosts, type, key] = f;
    if (!hosts || !type || !key) continue;
    try {
      out.push({ marker, hosts, type, blob: Buffer.from(key, "base64") });
    } catch {
      // an unreadable line is skipped, as ssh does
    }
  }
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  // Only * and ? are special; brackets are literal ("[host]:port").
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return re.test(name);
}

/** True when a known_hosts host field names `name` (hashed `|1|salt|hash`, patterns, `!` negation). */
export function hostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  let matched = false;
  for (const p of field.split(",")) {
    if (p.startsWith("!")) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** Key types the files hold for a host (to offer those host-key algorithms first). */
export function knownKeyTypes(files: readonly string[], names: readonly string[]): string[] {
  const types = new Set<string>();
  for (const e of files.flatMap(readEntries)) if (!e.marker && names.some((n) => hostsFieldMatches(e.hosts, n))) types.add(e.type);
  return [...types];
}

function readEntries(file: string): Entry[] {
  return existsSync(file) ? parse(readFileSync(file, "utf8")) : [];
}

/**
 * Looks a presented host key up in known_hosts files under any of the host's names. A key that
 * is not there while the host has a key of any type there is "changed", as OpenSSH's accept-new
 * has it: a server presenting another type is never a first use.
 */
export function checkHostKey(files: readonly string[], names: readonly string[], blob: Buffer): HostKeyStatus {
  const entries = files.flatMap(readEntries).filter((e) => e.marker !== "@cert-authority" && names.some((n) => hostsFieldMatches(e.hosts, n)));
  if (entries.some((e) => e.marker === "@revoked" && e.blob.equals(blob))) return "revoked";
  const plain = entries.filter((e) => !e.marker);
  if (plain.some((e) => e.blob.equals(blob))) return "match";
  if (plain.length > 0) return "changed";
  return "unknown";
}

/** The files that hold a (plain) key for the host: where a changed key must be removed. */
export function filesHolding(files: readonly string[], names: readonly string[]): string[] {
  return files.filter((f) => readEntries(f).some((e) => !e.marker && names.some((n) => hostsFieldMatches(e.hosts, n))));
}

/**
 * The exact commands that fix an unknown key (`ssh-keyscan [-p PORT] HOST >> ~/.ssh/known_hosts`)
 * or a changed one (`ssh-keygen -R "[HOST]:PORT"` for each file holding the old key, then the
 * keyscan); the port form only when the port is not 22. Undefined for other statuses.
 */
export function hostKeyFix(o: { status: string; host: string; port: number; addTo: string; holding: readonly string[]; home: string }): string | undefined {
  const userFile = join(o.home, ".ssh", "known_hosts");
  const file = (f: string) => (f === userFile ? "~/.ssh/known_hosts" : shellQuote(f));
  const host = /^[A-Za-z0-9._:%-]+$/.test(o.host) ? o.host : shellQuote(o.host);
  const add = `ssh-keyscan ${o.port === 22 ? "" : `-p ${o.port} `}${host} >> ${file(o.addTo)}`;
  if (o.status === "unknown") return add;
  if (o.status !== "changed") return undefined;
  const name = o.port === 22 ? host : `"[${o.host}]:${o.port}"`;
  const removes = (o.holding.length ? o.holding : [o.addTo]).map((f) => `ssh-keygen -R ${name}${f === userFile ? "" : ` -f ${file(f)}`}`);
  return [...removes, add].join(" && ");
}
