// A real OpenSSH sshd on 127.0.0.1 for tests: random port, throwaway host and user keys in a temp
// dir, its own config (no PAM, keys only), stopped by pid. Needs openssh-server (test/_system.ts installs it).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { afterAll, beforeAll } from "bun:test";
import { createSshExecutor, type SshExecutorOptions } from "../../lib/index.ts";
import { createFakeMachine, type FakeMachine } from "../../lib/testkit.ts";
import { requireSystem } from "../_system.ts";

export interface Sshd {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly dir: string;
  /** The user sessions log in as (SSH_TEST_USER when tests run as root, else the current user). */
  readonly user: string;
  /** Private key sshd accepts (authorized_keys holds its public half). */
  readonly userKey: string;
  /** A known_hosts file that trusts this sshd's host key, and the line in it. */
  readonly knownHosts: string;
  readonly knownHostsLine: string;
  /** The host key's SHA256 fingerprint, as OpenSSH prints it. */
  readonly fingerprint: string;
  readonly pid: number;
  /** Stops sshd and kills every session process it forked: to a client, the machine went away. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same keys. */
  restart(): Promise<void>;
  /** Replaces the host key (a "changed host key") and restarts. */
  rotateHostKey(): Promise<void>;
}

/** The account sessions log in as when tests run as root: /bin/sh as its shell, so no rc files slow each command. */
export const SSH_TEST_USER = "vcssh";
export const SSH_TEST_HOME = "/tmp/vc-ssh-home";

function ensureTestUser(): string {
  if (process.getuid?.() !== 0) return run(["id", "-un"]).trim();
  mkdirSync(SSH_TEST_HOME, { recursive: true });
  if (Bun.spawnSync(["id", SSH_TEST_USER]).exitCode !== 0) {
    // "*" rather than the default "!": sshd without PAM refuses a locked account even for keys.
    run(["useradd", "--system", "--shell", "/bin/sh", "--home-dir", SSH_TEST_HOME, "--no-create-home", "--password", "*", SSH_TEST_USER]);
  }
  run(["chown", `${SSH_TEST_USER}:`, SSH_TEST_HOME]);
  return SSH_TEST_USER;
}

function run(argv: string[]) {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** Every process below `pid` (children, grandchildren …). */
export function descendants(pid: number): number[] {
  const r = Bun.spawnSync(["ps", "-e", "-o", "pid=,ppid="], { stdout: "pipe" });
  const pairs = r.stdout
    .toString()
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of pairs)
      if (parent === p) {
        out.push(child);
        walk(child);
      }
  };
  walk(pid);
  return out;
}

export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function waitForBanner(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ host: "127.0.0.1", port }, () => {});
      sock.once("data", (d) => {
        sock.destroy();
        resolve(d.toString().startsWith("SSH-"));
      });
      sock.once("error", () => resolve(false));
      setTimeout(() => {
        sock.destroy();
        resolve(false);
      }, 500);
    });
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`sshd on 127.0.0.1:${port} did not answer within ${ms} ms`);
}

/** Starts an sshd for one test file. */
export async function startSshd(options: { maxSessions?: number } = {}): Promise<Sshd> {
  // Missing: the error names openssh-server and the command that installs it (test/_system.ts).
  const sshdBin = requireSystem("sshd");
  requireSystem("ssh-keygen");
  mkdirSync("/run/sshd", { recursive: true }); // privilege separation directory
  const dir = mkdtempSync(join(tmpdir(), "vc-sshd-"));
  const hostKey = join(dir, "host_ed25519");
  const userKey = join(dir, "user_ed25519");
  run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vc-test-host", "-f", hostKey]);
  run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vc-test-user", "-f", userKey]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${userKey}.pub`));
  // sshd reads authorized_keys as the logging-in user.
  chmodSync(dir, 0o755);
  chmodSync(join(dir, "authorized_keys"), 0o644);
  const user = ensureTestUser();
  const port = await freePort();
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "UsePAM no",
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      `MaxSessions ${options.maxSessions ?? 64}`,
      "MaxStartups 200:30:400",
      "Subsystem sftp internal-sftp",
      "PrintMotd no",
      "PrintLastLog no",
      "UseDNS no",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const knownHosts = join(dir, "known_hosts");
  const state = { knownHostsLine: "", fingerprint: "" };
  const refreshKeys = () => {
    const pub = readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ");
    state.knownHostsLine = `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}`;
    writeFileSync(knownHosts, `${state.knownHostsLine}\n`);
    state.fingerprint = run(["ssh-keygen", "-l", "-E", "sha256", "-f", `${hostKey}.pub`]).split(" ")[1]!;
  };
  refreshKeys();
  const start = async () => {
    proc = Bun.spawn([sshdBin, "-D", "-e", "-f", config], { stdout: "ignore", stderr: "pipe" });
    await waitForBanner(port);
  };
  const stop = async () => {
    if (!proc) return;
    // sshd forks one process per connection, and they outlive the listener: end them all.
    for (const pid of descendants(proc.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc?.kill("SIGKILL"), 2000);
    await proc.exited;
    clearTimeout(t);
    proc = undefined;
  };
  await start();
  const sshd: Sshd = {
    host: "127.0.0.1",
    port,
    dir,
    user,
    userKey,
    knownHosts,
    get knownHostsLine() {
      return state.knownHostsLine;
    },
    get fingerprint() {
      return state.fingerprint;
    },
    get pid() {
      return proc?.pid ?? -1;
    },
    async stop() {
      await stop();
    },
    restart: async () => {
      await stop();
      await start();
    },
    rotateHostKey: async () => {
      rmSync(hostKey);
      rmSync(`${hostKey}.pub`);
      run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vc-test-host-2", "-f", hostKey]);
      await stop();
      await start();
      // known_hosts keeps the OLD key on purpose: callers refresh it if they want the new one.
      const pub = readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ");
      state.fingerprint = run(["ssh-keygen", "-l", "-E", "sha256", "-f", `${hostKey}.pub`]).split(" ")[1]!;
      void pub;
    },
  };
  return sshd;
}

/** An SSH executor for a test sshd: its user key and known_hosts only (no agent, no ~/.ssh). */
export function sshdExecutor(sshd: Sshd, extra: Partial<SshExecutorOptions> = {}) {
  return createSshExecutor({
    machineId: "remote",
    target: { spec: "test", host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.userKey], jumps: [] },
    localHome: join(sshd.dir, "nohome"),
    knownHosts: [sshd.knownHosts],
    agentSocket: "/nonexistent",
    connectTimeoutMs: 5000,
    ...extra,
  });
}

/**
 * For a test file running collectors over SSH: a real sshd, its executor, and a remote folder
 * (readable by the SSH user) for the files the collectors read, all set up before and removed
 * after the file's tests. `overSsh(paths)` is a fake machine whose executor is the SSH one.
 */
export function useSshMachine(remoteDir: string) {
  let sshd: Sshd;
  let exec: ReturnType<typeof sshdExecutor>;
  let local: FakeMachine;
  beforeAll(async () => {
    sshd = await startSshd();
    exec = sshdExecutor(sshd);
    local = createFakeMachine({ id: "remote" });
    mkdirSync(remoteDir, { recursive: true });
    chmodSync(remoteDir, 0o755);
  });
  afterAll(async () => {
    await exec?.close();
    local?.close();
    await sshd?.stop();
    rmSync(remoteDir, { recursive: true, force: true });
  });
  return {
    overSsh: (paths: Record<string, string>): FakeMachine => ({ ...local, exec, info: { ...local.info, ssh: `${sshd.user}@127.0.0.1:${sshd.port}`, paths } }),
  };
}
