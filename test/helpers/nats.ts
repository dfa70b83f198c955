// A real nats-server with JetStream on 127.0.0.1 for tests: a random port, its own store folder,
// users with publish permissions as a deployment would give them (the hub may read everything; a
// node may publish only under its own machine's subject), a message limit; stopped and started again
// on the same port and store (a server restart mid-run).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { requireSystem } from "../_system.ts";
import { connectNats, ensureStream } from "../../lib/index.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { freePort } from "./sshd.ts";

export interface NatsUser {
  user: string;
  password: string;
  /** The machine a node's user may publish as (vc.batch.<machine>.>); absent: the hub (everything). */
  machine?: string;
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** The hub's user and the nodes' (one per machine). */
export const HUB = { user: "hub", password: "hub-secret" };
export const nodeUser = (machine: string): NatsUser => ({ user: `node-${machine}`, password: `${machine}-secret`, machine });

export async function startNats(o: { users: readonly NatsUser[]; maxPayload?: number; tls?: boolean }): Promise<NatsServer & { ca?: string }> {
  const bin = requireSystem("nats-server");
  const dir = mkdtempSync(join(tmpdir(), "vc-nats-"));
  const port = await freePort();
  const tls = o.tls ? makeCerts(dir) : null;
  const users = o.users.map((u) => {
    const perms = u.machine
      ? `, permissions: { publish: { allow: ["vc.batch.${u.machine}.>", "$JS.API.INFO", "$JS.API.STREAM.INFO.>", "_INBOX.>"] }, subscribe: { allow: ["_INBOX.>"] } }`
      : "";
    return `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)}${perms} }`;
  });
  const conf = join(dir, "nats.conf");
  writeFileSync(
    conf,
    `listen: 127.0.0.1:${port}
max_payload: ${o.maxPayload ?? 1048576}
${tls ? `tls { cert_file: ${JSON.stringify(tls.cert)}, key_file: ${JSON.stringify(tls.key)} }\n` : ""}jetstream { store_dir: ${JSON.stringify(join(dir, "js"))} }
authorization {
  users = [
${users.join("\n")}
  ]
}
`,
  );
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  const start = async () => {
    proc = Bun.spawn([bin, "-c", conf], { stdout: "ignore", stderr: Bun.file(join(dir, "server.log")) as never });
    await waitForPort(port);
  };
  const stop = async () => {
    proc?.kill("SIGTERM");
    await proc?.exited;
    proc = null;
  };
  await start();
  return { url: `${tls ? "tls" : "nats"}://127.0.0.1:${port}`, port, dir, start, stop, ...(tls ? { ca: tls.ca } : {}) };
}

/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl. */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  requireSystem("openssl");
  const f = (n: string) => join(dir, n);
  const run = (args: string[]) => {
    const r = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
  };
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=vc-test-ca"]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=127.0.0.1"]);
  writeFileSync(f("ext"), "subjectAltName=IP:127.0.0.1\n");
  run(["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.pem"), "-days", "2", "-extfile", f("ext")]);
  return { ca: f("ca.pem"), cert: f("server.pem"), key: f("server.key") };
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`nats-server did not listen on 127.0.0.1:${port} within ${ms} ms`);
}

/** Creates vc's stream as an operator (or a first hub) would, before any node publishes. */
export async function createStream(nats: NatsServer): Promise<void> {
  const nc = await connectNats({ servers: [nats.url], user: HUB.user, password: HUB.password }, { name: "test operator" });
  try {
    await ensureStream(await jetstreamManager(nc), { servers: [nats.url] });
  } finally {
    await nc.close();
  }
}
