import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import SSHConfig from "ssh-config";
import { VcError } from "../errors.ts";
import { expandHome } from "./local.ts";

/** Where and as whom to connect, after ~/.ssh/config is applied. */
export interface SshTarget {
  /** What the user wrote (`user@host:port` or a Host alias). */
  spec: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Hops to go through first (ProxyJump), outermost first. */
  jumps: SshTarget[];
}

const SPEC = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/;

/**
 * Resolves `user@host:port`, `host`, or a Host alias from ~/.ssh/config (HostName, User, Port,
 * IdentityFile and ProxyJump honoured; what the spec says wins over the file).
 * @example resolveSshTarget("gpu-box", { home: "/home/me", defaultUser: "me" })
 */
export function resolveSshTarget(spec: string, o: { home: string; defaultUser: string; configFile?: string }, depth = 0): SshTarget {
  const m = SPEC.exec(spec.trim());
  if (!m) throw new VcError("invalid_input", `"${spec}" is not an SSH target: use user@host:port, host, or a Host alias from ~/.ssh/config`);
  const alias = m[2]!.replace(/^\[|\]$/g, "");
  const file = o.configFile ?? join(o.home, ".ssh", "config");
  let computed: Record<string, string | string[]> = {};
  if (existsSync(file)) {
    try {
      computed = SSHConfig.parse(readFileSync(file, "utf8")).compute(alias, { ignoreCase: true }) as Record<string, string | string[]>;
    } catch (err) {
      throw new VcError("invalid_input", `cannot read ${file}: ${(err as Error).message}`);
    }
  }
  const one = (k: string) => {
    const v = computed[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const many = (k: string) => {
    const v = computed[k];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const host = (one("hostname") ?? alias).replaceAll("%h", alias);
  const port = Number(m[3] ?? one("port") ?? 22);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new VcError("invalid_input", `"${spec}": port ${m[3] ?? one("port")} is not a TCP port`);
  const user = m[1] ?? one("user") ?? o.defaultUser;
  const identityFiles = many("identityfile").map((f) => expandHome(f.replaceAll("%d", o.home).replaceAll("%u", user).replaceAll("%h", host), o.home));
  const jump = one("proxyjump");
  if (jump && jump !== "none" && depth > 4) throw new VcError("invalid_input", `"${spec}": ProxyJump nests deeper than 4 hops`);
  const jumps = jump && jump !== "none" ? jump.split(",").map((j) => resolveSshTarget(j, o, depth + 1)) : [];
  return { spec, host, port, user, identityFiles, jumps };
}

/** Default identity files that exist, as OpenSSH tries them. */
export function defaultIdentityFiles(home: string): string[] {
  return ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => join(home, ".ssh", f)).filter((f) => existsSync(f));
}
