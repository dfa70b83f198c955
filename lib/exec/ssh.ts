import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Duplex } from "node:stream";
import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import { VcError, errorMessage } from "../errors.ts";
import { inlineSql } from "../store/sql.ts";
import { httpGetOverStream } from "./_http.ts";
import { checkHostKey, filesHolding, fingerprint, hostKeyFix, keyType, knownHostsName, knownKeyTypes, type HostKeyStatus } from "./_known-hosts.ts";
import { createCappedBuffer, decodeUtf8 } from "./_output.ts";
import { remoteReapScript, newRunToken } from "./_reap.ts";
import { remoteCommandLine, splitMarks } from "./_shell.ts";
import { defaultIdentityFiles, type SshTarget } from "./ssh-target.ts";
import { EXIT_GRACE_MS, expandHome } from "./local.ts";
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_TIMEOUT_MS,
  STDERR_KEPT,
  stderrLimit,
  stderrNote,
  type Command,
  type Executor,
  type FileStat,
  type RunOptions,
  type RunResult,
} from "./types.ts";

export interface SshExecutorOptions {
  machineId: string;
  target: SshTarget;
  /** This side's HOME (for ~/.ssh files). */
  localHome: string;
  /** known_hosts files to trust, in order (default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts). */
  knownHosts?: string[];
  /** Where keys trusted on first use are written (and read from). */
  tofuKnownHosts?: string;
  /** Accept and record an unknown host key (never a changed one). */
  trustOnFirstUse?: boolean;
  /** Called when a key was trusted on first use (the cockpit writes the audit event). */
  onTrust?: (e: { machineId: string; host: string; port: number; type: string; fingerprint: string; file: string }) => void;
  /** An identity file to try first. */
  identityFile?: string;
  /** ssh-agent socket (default $SSH_AUTH_SOCK). */
  agentSocket?: string;
  connectTimeoutMs?: number;
  keepaliveMs?: number;
  /** Channels (commands) open at once on the one connection. */
  maxChannels?: number;
}

/** What `vc machines show` and `vc doctor` report of a connection. */
export interface SshStatus {
  connected: boolean;
  authMethod: string | null;
  hostKey: {
    status: HostKeyStatus | "trusted-on-first-use" | "not-checked";
    type?: string;
    fingerprint?: string;
    /** For an unknown or changed key: the exact command(s) that fix it. */
    fix?: string;
  };
  lastError: string | null;
  /** When a failed machine will be tried again. */
  retryAt: Date | null;
}

/** How long a channel told to close may take before its connection counts as frozen and is dropped. */
const CLOSE_GRACE_MS = 2000;

interface Raw {
  stdout: Uint8Array;
  stderr: string;
  exitCode: number | null;
  durationMs: number;
  truncated: boolean;
  timedOut: boolean;
  bytes: number;
}

/** A counting semaphore: at most `n` holders. */
function createGate(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return {
    async enter() {
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((r) => waiting.push(r));
    },
    leave() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

/**
 * Runs commands on another machine over one pooled SSH connection (ssh2): channels multiplexed up
 * to a cap, keepalives, reconnect with backoff after a drop, host keys checked against
 * known_hosts, per-command timeouts that kill the remote process group.
 * @example const exec = createSshExecutor({ machineId: "gpu-box", target: resolveSshTarget("gpu-box", …), localHome })
 */
export function createSshExecutor(o: SshExecutorOptions): Executor & { status(): SshStatus } {
  const t = o.target;
  const connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
  const gate = createGate(o.maxChannels ?? 8);
  const control = createGate(2); // reserved for kill commands, so a full pool can still stop its own
  const knownHosts = o.knownHosts ?? [join(o.localHome, ".ssh", "known_hosts"), "/etc/ssh/ssh_known_hosts"];
  const tofuFile = o.tofuKnownHosts;
  const files = tofuFile ? [...knownHosts, tofuFile] : knownHosts;
  const state: SshStatus = { connected: false, authMethod: null, hostKey: { status: "not-checked" }, lastError: null, retryAt: null };
  let client: Promise<Client> | null = null;
  let current: Client | null = null; // the connection `client` resolved to
  let failures = 0;
  let home: string | null = null;
  let hasSqlite: boolean | null = null;
  const where = `${o.machineId} (${t.user}@${t.host}:${t.port})`;

  function authMethods(username: string) {
    const methods: Record<string, unknown>[] = [];
    const agent = o.agentSocket ?? process.env.SSH_AUTH_SOCK;
    if (agent && existsSync(agent)) methods.push({ type: "agent", username, agent });
    const keys = [...new Set([...(o.identityFile ? [expandHome(o.identityFile, o.localHome)] : []), ...t.identityFiles, ...defaultIdentityFiles(o.localHome)])];
    for (const file of keys) {
      if (!existsSync(file)) continue;
      methods.push({ type: "publickey", username, key: readFileSync(file), label: file });
    }
    return methods;
  }

  async function connectOne(hop: SshTarget, sock: Duplex | undefined, isTarget: boolean): Promise<Client> {
    // ssh2 is loaded on the first connection: commands that never reach a remote machine skip it.
    const { Client } = await import("ssh2");
    return new Promise((resolve, reject) => {
      const c = new Client();
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return; // ssh2 may emit 'error' twice for one failure
        settled = true;
        clearTimeout(timer);
        c.end();
        reject(err);
      };
      const timer = setTimeout(() => fail(new VcError("exec_failed", `connecting to ${hop.host}:${hop.port} timed out after ${connectTimeoutMs / 1000} s`)), connectTimeoutMs);
      const names = [knownHostsName(hop.host, hop.port)];
      let keyError: VcError | null = null;
      const methods = authMethods(hop.user);
      if (methods.length === 0) {
        return fail(
          new VcError("exec_failed", `no way to log in to ${hop.host}: no ssh-agent ($SSH_AUTH_SOCK) and no identity file`, {
            hint: "set identity_file for this machine, or start ssh-agent",
          }),
        );
      }
      let tried = 0;
      const preferred = knownKeyTypes(files, names);
      const config: ConnectConfig = {
        host: hop.host,
        port: hop.port,
        username: hop.user,
        sock: sock as never,
        readyTimeout: connectTimeoutMs,
        keepaliveInterval: o.keepaliveMs ?? 15_000,
        keepaliveCountMax: 3,
        ...(preferred.length ? { algorithms: { serverHostKey: preferredAlgorithms(preferred) } } : {}),
        hostVerifier: (key: Buffer) => {
          const status = checkHostKey(files, names, key);
          const info = { type: keyType(key), fingerprint: fingerprint(key) };
          if (isTarget) state.hostKey = { status, ...info };
          if (status === "match") return true;
          const fix = hostKeyFix({
            status,
            host: hop.host,
            port: hop.port,
            addTo: knownHosts[0] ?? join(o.localHome, ".ssh", "known_hosts"),
            holding: filesHolding(files, names),
            home: o.localHome,
          });
          if (isTarget) state.hostKey = { status, ...info, ...(fix ? { fix } : {}) };
          if (status === "unknown" && o.trustOnFirstUse && tofuFile) {
            mkdirSync(dirname(tofuFile), { recursive: true, mode: 0o700 });
            appendFileSync(tofuFile, `${names[0]} ${info.type} ${key.toString("base64")}\n`, { mode: 0o600 });
            if (isTarget) state.hostKey = { status: "trusted-on-first-use", ...info };
            o.onTrust?.({ machineId: o.machineId, host: hop.host, port: hop.port, ...info, file: tofuFile });
            return true;
          }
          const check = `check that ${info.fingerprint} is the ${info.type} key of that machine (ssh-keygen -lf on its host key there)`;
          keyError =
            status === "unknown"
              ? new VcError("exec_failed", `host key of ${names[0]} (${info.type} ${info.fingerprint}) is not in known_hosts; refusing to connect`, {
                  hint: `${check}, then run: ${fix}; or set trust_on_first_use: true for machine ${o.machineId}`,
                  details: { fix },
                })
              : status === "changed"
                ? new VcError(
                    "exec_failed",
                    `host key of ${names[0]} CHANGED: it now presents ${info.type} ${info.fingerprint}, which known_hosts does not hold; refusing to connect`,
                    {
                      hint: `if the machine was reinstalled, ${check}, then run: ${fix}`,
                      details: { fix },
                    },
                  )
                : new VcError("exec_failed", `host key of ${names[0]} (${info.fingerprint}) is marked @revoked in known_hosts; refusing to connect`);
          return false;
        },
        authHandler: (_left: unknown, _partial: unknown, next: (m: unknown) => void) => {
          const m = methods[tried++];
          if (!m) return next(false);
          if (isTarget) state.authMethod = m.type === "agent" ? "agent" : `publickey ${String(m.label)}`;
          const { label: _l, ...method } = m;
          next(method);
        },
      } as ConnectConfig;
      c.on("ready", () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(c);
      });
      c.on("error", (err: Error & { level?: string }) => {
        if (keyError) return fail(keyError);
        if (err.level === "client-authentication") {
          return fail(
            new VcError(
              "exec_failed",
              `${hop.user}@${hop.host}:${hop.port} refused every key offered (${methods.map((m) => (m.type === "agent" ? "agent" : String(m.label))).join(", ")})`,
            ),
          );
        }
        fail(new VcError("exec_failed", `cannot reach ${hop.host}:${hop.port}: ${err.message}`, { cause: err }));
      });
      c.on("close", () => {
        if (!settled) fail(keyError ?? new VcError("exec_failed", `${hop.host}:${hop.port} closed the connection`));
      });
      c.connect(config);
    });
  }

  async function openChain(): Promise<Client> {
    let sock: Duplex | undefined;
    const hops = [...t.jumps, t];
    let last: Client | undefined;
    for (let i = 0; i < hops.length; i++) {
      const hop = hops[i]!;
      last = await connectOne(hop, sock, i === hops.length - 1);
      const next = hops[i + 1];
      if (next) sock = await new Promise<Duplex>((res, rej) => last!.forwardOut("127.0.0.1", 0, next.host, next.port, (err, s) => (err ? rej(err) : res(s))));
    }
    return last!;
  }

  async function conn(): Promise<Client> {
    if (client) return client;
    if (state.retryAt && Date.now() < state.retryAt.getTime()) {
      throw new VcError("exec_failed", `${where} unreachable: ${state.lastError}; next attempt at ${state.retryAt.toISOString()}`);
    }
    const attempt = openChain().then(
      (c) => {
        failures = 0;
        state.connected = true;
        state.lastError = null;
        state.retryAt = null;
        const drop = () => {
          // A drop is not a failed connect: the next command reconnects at once.
          if (client === attempt) client = null;
          if (current === c) current = null;
          state.connected = false;
        };
        current = c;
        c.on("close", drop);
        c.on("end", drop);
        c.on("error", (err: Error) => {
          state.lastError = err.message;
          drop();
        });
        return c;
      },
      (err) => {
        client = null;
        failures++;
        state.connected = false;
        state.lastError = errorMessage(err);
        state.retryAt = new Date(Date.now() + Math.min(60_000, 1000 * 2 ** (failures - 1)));
        throw err;
      },
    );
    client = attempt;
    return attempt;
  }

  /** Drops a connection that stopped answering: its commands end, the next one reconnects. */
  function discard(c: Client) {
    if (current === c) {
      client = null;
      current = null;
      state.connected = false;
    }
    c.destroy();
  }

  /** Opens a channel; past `ms` without an answer the connection is frozen: dropped, and this fails. */
  async function channel(c: Client, line: string, ms: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(
        () => {
          late = true;
          discard(c);
          reject(new VcError("exec_failed", `${where}: no answer to opening a channel within ${Math.round(ms)} ms; the connection was dropped`));
        },
        Math.max(1, ms),
      );
      c.exec(line, (err, ch) => {
        clearTimeout(timer);
        if (late) return void ch?.close();
        if (err) reject(new VcError("exec_failed", `${where}: cannot open a channel: ${err.message}`, { cause: err }));
        else resolve(ch);
      });
    });
  }

  /** Kills a command's remote process group and whatever still carries its run token. */
  async function killRemote(pid: number | null, token: string) {
    await control.enter();
    try {
      const c = await conn();
      // `kill -9 -PGID` is the form dash, bash and busybox all accept for a process group.
      const group = pid ? `kill -9 -${pid} 2>/dev/null || kill -9 ${pid} 2>/dev/null; ` : "";
      const ch = await channel(c, `${group}${remoteReapScript(token)}; true`, 5000);
      await new Promise<void>((r) => {
        ch.on("close", () => r());
        ch.resume();
        ch.stderr.resume();
        setTimeout(r, 5000);
      });
    } catch {
      // the connection is gone: sshd ends the session's processes with it
    } finally {
      control.leave();
    }
  }

  async function execRaw(command: Command, opts: RunOptions = {}): Promise<Raw> {
    if (opts.cwd) throw new VcError("invalid_input", "cwd is not supported over SSH: cd inside a script instead");
    // The command and everything it starts carry the token, so a daemonized grandchild is found too.
    const token = newRunToken();
    const line = remoteCommandLine(command, opts.env, token);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    await gate.enter();
    const started = performance.now();
    try {
      const c = await conn(); // connecting has its own timeout; the command's starts once connected
      const since = performance.now();
      const ch = await channel(c, line, timeoutMs);
      return await new Promise<Raw>((resolve, reject) => {
        const out = createCappedBuffer(maxBytes);
        const errBuf = createCappedBuffer(STDERR_KEPT);
        let tail = ""; // the last bytes of stderr, where the exit mark is even after a flood
        let pid: number | null = null;
        let truncated = false;
        let timedOut = false;
        let exitCode: number | null = null;
        let sawExit = false;
        let exitSignal: string | null = null;
        let finished = false;
        let exited = false;
        const timers: ReturnType<typeof setTimeout>[] = [];
        const later = (ms: number, f: () => void) => timers.push(setTimeout(f, ms));
        let closed = false;
        // At a timeout, an abort or a flood the answer is known: it is given at once, the remote
        // processes are killed meanwhile, and a channel that does not close soon after it was
        // told to belongs to a frozen connection, which is dropped.
        const stop = () => {
          void killRemote(pid, token);
          ch.signal("KILL");
          ch.close();
          setTimeout(() => closed || discard(c), CLOSE_GRACE_MS).unref();
          finish();
        };
        // Once the command has exited, the channel gets a short grace to drain and close; past it,
        // whatever holds it open is killed, and past that the channel is closed on our side.
        const onExited = () => {
          if (exited) return;
          exited = true;
          later(EXIT_GRACE_MS, () => {
            if (finished) return;
            void killRemote(pid, token);
            later(5 * EXIT_GRACE_MS, () => {
              if (finished) return;
              ch.close();
              finish();
            });
          });
        };
        later(timeoutMs - (performance.now() - since), () => {
          timedOut = true;
          stop();
        });
        const onAbort = () => stop();
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        ch.on("data", (d: Buffer) => {
          if (out.push(d)) {
            truncated = true;
            stop();
          }
        });
        ch.stderr.on("data", (d: Buffer) => {
          errBuf.push(d);
          // Noisy is fine (the rest is dropped); past its limit it is a flood, stopped like one on stdout.
          if (errBuf.total > stderrLimit(maxBytes) && !finished) return stop();
          tail = (tail + d.toString("latin1")).slice(-64);
          if (pid === null) pid = splitMarks(new TextDecoder().decode(errBuf.bytes().subarray(0, 64))).pid;
          if (/@@vc:exit:\d+\n$/.test(tail)) onExited();
        });
        ch.on("exit", (code: number | null, signal?: string) => {
          sawExit = true;
          exitCode = typeof code === "number" ? code : null;
          if (signal) exitSignal = signal.startsWith("SIG") ? signal : `SIG${signal}`;
          onExited();
        });
        function finish() {
          if (finished) return;
          finished = true;
          for (const t of timers) clearTimeout(t);
          opts.signal?.removeEventListener("abort", onAbort);
          const marks = splitMarks(decodeUtf8(errBuf.bytes(), errBuf.truncated).text);
          const tailExit = /@@vc:exit:(\d+)\n$/.exec(tail); // the mark, even past the kept 64 KiB
          const markedExit = marks.exit ?? (tailExit ? Number(tailExit[1]) : null);
          const stderr = marks.rest + (exitSignal && !timedOut && !truncated ? `(killed by ${exitSignal})\n` : "") + stderrNote(errBuf.total, maxBytes);
          const flood = errBuf.total > stderrLimit(maxBytes);
          if (!sawExit && markedExit !== null) exitCode = markedExit;
          else if (!sawExit && !timedOut && !truncated && !flood && !opts.signal?.aborted) {
            return reject(new VcError("exec_failed", `${where}: connection lost while running ${commandName(command)}`));
          }
          resolve({
            stdout: out.bytes(),
            stderr,
            exitCode: timedOut || truncated || flood ? null : exitCode,
            durationMs: performance.now() - started,
            truncated,
            timedOut,
            bytes: out.total,
          });
        }
        ch.on("close", () => {
          closed = true;
          finish();
        });
      });
    } finally {
      gate.leave();
    }
  }

  async function remoteHome(): Promise<string> {
    if (home) return home;
    const r = await execRaw({ script: 'printf %s "$HOME"' }, { timeoutMs: connectTimeoutMs + 10_000 });
    home = new TextDecoder().decode(r.stdout) || "/";
    return home;
  }
  const expand = async (path: string) => (path === "~" || path.startsWith("~/") ? expandHome(path, await remoteHome()) : path);

  const executor: Executor & { status(): SshStatus } = {
    machineId: o.machineId,
    kind: "ssh",
    status: () => ({ ...state, hostKey: { ...state.hostKey } }),
    async run(command, opts): Promise<RunResult> {
      const r = await execRaw(command, opts);
      const text = decodeUtf8(r.stdout, r.truncated);
      return {
        stdout: text.text,
        stderr: r.stderr,
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        truncated: r.truncated,
        timedOut: r.timedOut,
        invalidUtf8: text.invalid,
        bytes: r.bytes,
      };
    },
    async connect() {
      await conn();
    },
    home: remoteHome,
    expand,
    async stat(path): Promise<FileStat | null> {
      const file = await expand(path);
      const r = await execRaw({
        script: `[ -e "$1" ] || { echo missing; exit 0; }; stat -L -c '%i %s %Y' -- "$1" 2>/dev/null || stat -L -f '%i %z %m' -- "$1"`,
        args: [file],
      });
      const out = new TextDecoder().decode(r.stdout).trim();
      if (out === "missing") return null;
      const [ino, size, mtime] = out.split(/\s+/).map(Number);
      if (r.exitCode !== 0 || ![ino, size, mtime].every(Number.isFinite)) throw new VcError("exec_failed", `cannot stat ${file} on ${o.machineId}: ${r.stderr.trim() || out}`);
      return { inode: ino!, size: size!, mtime: new Date(mtime! * 1000) };
    },
    async readRange(path, from, to) {
      const file = await expand(path);
      const len = Math.max(0, to - from);
      if (len === 0) return new Uint8Array();
      const r = await execRaw({ script: 'tail -c +"$2" -- "$1" | head -c "$3"', args: [file, String(from + 1), String(len)] }, { maxBytes: len });
      if (r.exitCode !== 0 && !r.truncated) throw new VcError("exec_failed", `cannot read ${file} on ${o.machineId}: ${r.stderr.trim()}`);
      return r.stdout;
    },
    async sqlite(path, query, opts = {}) {
      const file = await expand(path);
      if (hasSqlite === null) {
        const probe = await execRaw({ script: "command -v sqlite3 >/dev/null 2>&1 && echo yes || echo no" });
        hasSqlite = new TextDecoder().decode(probe.stdout).trim() === "yes";
      }
      if (!hasSqlite) throw new VcError("collector_skipped", `sqlite3 is not installed on ${o.machineId}, so ${file} cannot be read there`);
      const r = await execRaw({ script: 'exec sqlite3 -readonly -json -batch -bail "$1" "$2"', args: [file, inlineSql(query)] }, { timeoutMs: opts.timeoutMs });
      if (r.exitCode !== 0) throw new VcError("exec_failed", `SQLite query on ${file} (${o.machineId}) failed: ${r.stderr.trim()}`);
      const text = new TextDecoder().decode(r.stdout).trim();
      return text ? (JSON.parse(text) as Record<string, unknown>[]) : []; // no rows: sqlite3 prints nothing
    },
    async httpGet(url, opts = {}) {
      const u = new URL(url);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new VcError("invalid_input", `only http(s) URLs can be fetched, not ${u.protocol}`);
      const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
      await gate.enter();
      try {
        const c = await conn();
        const stream = await new Promise<Duplex>((res, rej) =>
          c.forwardOut("127.0.0.1", 0, u.hostname, port, (err, s) =>
            err ? rej(new VcError("exec_failed", `${where}: cannot reach ${u.host} from there: ${err.message}`)) : res(s),
          ),
        );
        return await httpGetOverStream(stream, u, { maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
      } finally {
        gate.leave();
      }
    },
    async fetchFile(remotePath, localPath) {
      const file = await expand(remotePath);
      await gate.enter();
      try {
        const c = await conn();
        await new Promise<void>((resolve, reject) => {
          c.sftp((err, sftp) => {
            if (err) return reject(new VcError("exec_failed", `${where}: SFTP unavailable: ${err.message}`));
            sftp.fastGet(file, localPath, (e) => {
              sftp.end();
              if (e) reject(new VcError("exec_failed", `${where}: cannot fetch ${file}: ${e.message}`));
              else resolve();
            });
          });
        });
      } finally {
        gate.leave();
      }
    },
    async close() {
      const c = client;
      client = null;
      if (c) (await c.catch(() => null))?.end();
    },
  };
  return executor;
}

function commandName(command: Command): string {
  return "script" in command ? "a script" : (command[0] ?? "a command");
}

/** ssh2's host-key algorithms with the ones known_hosts holds first (as OpenSSH does). */
function preferredAlgorithms(knownTypes: string[]): string[] {
  const all = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  const want = new Set(knownTypes.flatMap((t) => (t === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [t])));
  return [...all.filter((a) => want.has(a)), ...all.filter((a) => !want.has(a))];
}
