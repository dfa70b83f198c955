import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveSshTarget, sql, type SshExecutorOptions } from "../../lib/index.ts";
import { hostKeyFix } from "../../lib/exec/_known-hosts.ts";
import { processRunning } from "../helpers/proc.ts";
import { daemonizeScript, gone, trackStrays } from "../helpers/strays.ts";
import { descendants, SSH_TEST_HOME, sshdExecutor, startSshd, type Sshd } from "../helpers/sshd.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000); // a real sshd

const dir = tempDir("vc-ssh-");
let sshd: Sshd;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  for (const e of opened) await e.close();
  await sshd.stop();
});

function executor(extra: Partial<SshExecutorOptions> = {}) {
  const e = sshdExecutor(sshd, extra);
  opened.push(e);
  return e;
}

/** A file in the remote user's home, readable there. */
function remoteFile(name: string, content: string | Uint8Array) {
  const path = join(SSH_TEST_HOME, name);
  writeFileSync(path, content);
  chmodSync(path, 0o644);
  return path;
}

describe("ssh executor: commands", () => {
  it("returns stdout, stderr and exit codes, with every argument quoted", async () => {
    const e = executor();
    const r = await e.run(["sh", "-c", "echo out; echo err >&2; exit 7"]);
    expect(r).toMatchObject({ stdout: "out\n", stderr: "err\n", exitCode: 7, truncated: false, timedOut: false });
    const nasty = ["a b", "$(touch /tmp/vc-pwned)", "'; rm -rf / #", "`id`", "x\ny", "--", "*"];
    const q = await e.run(["printf", "%s|", ...nasty]);
    expect(q.stdout).toBe(`${nasty.join("|")}|`);
    expect(existsSync("/tmp/vc-pwned")).toBe(false);
    const s = await e.run({ script: 'printf "%s:%s" "$1" "$2"', args: ["one two", "$HOME"] });
    expect(s.stdout).toBe("one two:$HOME");
    const env = await e.run(["sh", "-c", 'printf %s "$VC_TEST_VAR"'], { env: { VC_TEST_VAR: "it's set" } });
    expect(env.stdout).toBe("it's set");
    expect(await e.home()).toBe(SSH_TEST_HOME);
  });

  it("kills the remote process group on timeout", async () => {
    const e = executor();
    const pidFile = remoteFile(`gc-${Date.now()}.pid`, "");
    chmodSync(pidFile, 0o666);
    const r = await e.run({ script: 'sleep 60 & echo $! > "$1"; wait', args: [pidFile] }, { timeoutMs: 700 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(pid).toBeGreaterThan(0);
    for (let i = 0; i < 40 && processRunning(pid); i++) await Bun.sleep(50);
    expect(processRunning(pid)).toBe(false);
  });

  it("cuts a flood at maxBytes, closes the channel and stops the process", async () => {
    const e = executor();
    const pidFile = remoteFile(`flood-${Date.now()}.pid`, "");
    chmodSync(pidFile, 0o666);
    const r = await e.run({ script: 'echo $$ > "$1"; exec yes 0123456789', args: [pidFile] }, { maxBytes: 50_000, timeoutMs: 20_000 });
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBe(50_000);
    expect(r.timedOut).toBe(false);
    const pid = Number(readFileSync(pidFile, "utf8"));
    for (let i = 0; i < 40 && processRunning(pid); i++) await Bun.sleep(50);
    expect(processRunning(pid)).toBe(false);
    // the connection is still good for the next command
    expect((await e.run(["echo", "still here"])).stdout).toBe("still here\n");
  });

  it("keeps the first 64 KiB of a noisy stderr, returns the answer, and stops an endless stderr flood past its limit", async () => {
    const e = executor();
    const noisy = await e.run({ script: "head -c 300000 /dev/zero | tr '\\0' 'w' >&2; echo done" }, { maxBytes: 1_000_000 });
    expect(noisy).toMatchObject({ stdout: "done\n", exitCode: 0 });
    expect(noisy.stderr.length).toBeGreaterThan(64 * 1024 - 32); // the kept 64 KiB, less the wrapper's pid mark
    expect(noisy.stderr.length).toBeLessThanOrEqual(64 * 1024);
    const flood = await e.run({ script: "yes 'warning: again' >&2" }, { maxBytes: 200_000, timeoutMs: 30_000 });
    expect(flood.timedOut).toBe(false);
    expect(flood.exitCode).toBeNull();
    expect(flood.stderr).toContain("vc stopped the command: more than 16777216 bytes on stderr");
    expect((await e.run(["echo", "still here"])).stdout).toBe("still here\n");
  });

  it("multiplexes commands on one connection, never more channels at once than the cap", async () => {
    const e = executor({ maxChannels: 3 });
    const runs = await Promise.all(Array.from({ length: 9 }, () => e.run({ script: "date +%s%N; sleep 0.3; date +%s%N" })));
    const spans = runs.map((r) => r.stdout.trim().split("\n").map(Number) as [number, number]);
    let peak = 0;
    for (const [start] of spans) peak = Math.max(peak, spans.filter(([s, end]) => s <= start && start < end).length);
    expect(peak).toBe(3);
    expect(e.status()).toMatchObject({ connected: true, authMethod: `publickey ${sshd.userKey}`, hostKey: { status: "match", fingerprint: sshd.fingerprint } });
  });
});

describe("ssh executor: what a command leaves behind", () => {
  const strays = trackStrays();
  const daemonize = daemonizeScript;
  const pidFileFor = (name: string) => {
    const f = remoteFile(`${name}-${Date.now()}.pid`, "");
    chmodSync(f, 0o666);
    return f;
  };

  it("returns when the tool exits although a daemonized grandchild holds the channel, and kills the grandchild", async () => {
    const e = executor();
    const pidFile = pidFileFor("daemon");
    const r = await e.run({ script: daemonize(), args: [pidFile] }, { timeoutMs: 20_000 });
    const pid = Number(readFileSync(pidFile, "utf8"));
    strays.push(pid);
    expect(r).toMatchObject({ stdout: "started\n", stderr: "", exitCode: 0, timedOut: false });
    expect(await gone(pid)).toBe(true);
    expect((await e.run(["echo", "next"])).stdout).toBe("next\n");
  });

  it("gives up on a channel held by a grandchild it cannot find (environment cleared) soon after the tool exits", async () => {
    const e = executor();
    const pidFile = pidFileFor("hidden");
    const r = await e.run({ script: daemonize("env -i sleep 100000"), args: [pidFile] }, { timeoutMs: 20_000 });
    strays.push(Number(readFileSync(pidFile, "utf8")));
    expect(r).toMatchObject({ stdout: "started\n", exitCode: 0, timedOut: false });
    expect((await e.run(["echo", "next"])).stdout).toBe("next\n");
  });

  it("kills a daemonized grandchild at the timeout too", async () => {
    const e = executor();
    const pidFile = pidFileFor("hang");
    const r = await e.run({ script: daemonize().replace("exit 0", "sleep 100000"), args: [pidFile] }, { timeoutMs: 1500 });
    const pid = Number(readFileSync(pidFile, "utf8"));
    strays.push(pid);
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(await gone(pid)).toBe(true);
  });

  it("fails a command within its timeout on a frozen connection, drops it and reconnects after", async () => {
    const e = executor();
    expect((await e.run(["echo", "warm"])).stdout).toBe("warm\n");
    const session = descendants(sshd.pid);
    for (const pid of session) process.kill(pid, "SIGSTOP");
    try {
      const running = await e.run(["echo", "frozen"], { timeoutMs: 1500 }).catch((x) => x);
      expect(running).toBeInstanceOf(Error);
      expect(running.message).toContain("no answer to opening a channel");
      expect(e.status().connected).toBe(false);
    } finally {
      // (A process of the dropped session may be gone by now.)
      for (const pid of session) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {}
      }
    }
    expect((await e.run(["echo", "back"])).stdout).toBe("back\n");
  });

  it("answers at the timeout of a command that was running when the connection froze", async () => {
    const e = executor();
    const pending = e.run(["sleep", "100000"], { timeoutMs: 1500 });
    // Freeze only once the command runs (on a loaded machine connecting can take longer than a guess).
    const running = () =>
      descendants(sshd.pid).some((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("100000");
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 200 && !running(); i++) await Bun.sleep(25);
    const session = descendants(sshd.pid);
    for (const pid of session) process.kill(pid, "SIGSTOP");
    try {
      const r = await pending;
      expect(r.timedOut).toBe(true);
      expect(r.exitCode).toBeNull();
    } finally {
      // (A process of the dropped session may be gone by now.)
      for (const pid of session) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {}
      }
    }
    expect((await e.run(["echo", "back"])).stdout).toBe("back\n");
  });
});

describe("ssh executor: files, SQLite, HTTP", () => {
  it("stats and reads byte ranges of remote files, and says when one is missing", async () => {
    const e = executor();
    const path = remoteFile("events.jsonl", "line1\nline2\nline3\n");
    const st = await e.stat("~/events.jsonl");
    expect(st?.size).toBe(18);
    expect(st?.inode).toBeGreaterThan(0);
    expect(new TextDecoder().decode(await e.readRange(path, 6, 12))).toBe("line2\n");
    expect(new TextDecoder().decode(await e.readRange("~/events.jsonl", 12, 18))).toBe("line3\n");
    expect(await e.stat("~/no such file")).toBeNull();
    const bin = remoteFile("bytes.bin", new Uint8Array([0, 255, 10, 13, 0, 1]));
    expect([...(await e.readRange(bin, 1, 5))]).toEqual([255, 10, 13, 0]);
  });

  it("queries SQLite read-only through the remote sqlite3", async () => {
    const e = executor();
    const path = join(SSH_TEST_HOME, "mail.sqlite3");
    rmSync(path, { force: true });
    const db = new Database(path);
    db.run("create table messages(id integer primary key, subject text)");
    db.run("insert into messages(subject) values ('a'), ('it''s b'), ('c')");
    db.close();
    chmodSync(path, 0o644);
    expect(await e.sqlite("~/mail.sqlite3", sql`select id, subject from messages where id > ${1} and subject <> ${"x'); drop table messages; --"} order by id`)).toEqual([
      { id: 2, subject: "it's b" },
      { id: 3, subject: "c" },
    ]);
    expect(await e.sqlite(path, sql`select id from messages where id > ${99}`)).toEqual([]);
    const err = await e.sqlite(path, "delete from messages").catch((x) => x);
    expect(err.message).toMatch(/readonly|read-only/i);
  });

  it("GETs a URL on the machine's own loopback through the connection", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`metric_up 1\npath ${new URL(req.url).pathname}\n`) });
    try {
      const e = executor();
      const r = await e.httpGet(`http://127.0.0.1:${server.port}/metrics`);
      expect(r).toEqual({ status: 200, body: "metric_up 1\npath /metrics\n", truncated: false });
    } finally {
      server.stop(true);
    }
  });

  it("fetches a large file over SFTP", async () => {
    const e = executor();
    const big = "x".repeat(3 * 1024 * 1024);
    remoteFile("big.txt", big);
    const local = join(dir, "big-copy.txt");
    await e.fetchFile("~/big.txt", local);
    expect(readFileSync(local, "utf8")).toBe(big);
  });
});

describe("ssh executor: host keys", () => {
  it("refuses an unknown host key, with its fingerprint and the way to trust it", async () => {
    const empty = join(dir, "empty_known_hosts");
    writeFileSync(empty, "");
    const e = executor({ knownHosts: [empty] });
    const err = await e.run(["true"]).catch((x) => x);
    expect(err.message).toContain(`[127.0.0.1]:${sshd.port}`);
    expect(err.message).toContain(sshd.fingerprint);
    expect(err.message).toContain("not in known_hosts");
    const fix = `ssh-keyscan -p ${sshd.port} 127.0.0.1 >> '${empty}'`;
    expect(err.hint).toContain(`then run: ${fix};`);
    expect(err.hint).toContain("trust_on_first_use");
    expect(err.details.fix).toBe(fix);
    expect(e.status().hostKey).toMatchObject({ status: "unknown", fingerprint: sshd.fingerprint, fix });
  });

  it("refuses a changed host key", async () => {
    const other = join(dir, "other_known_hosts");
    // the same host with a different ed25519 key
    writeFileSync(other, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBGzh0Gi2kU7mD3YqkPa1t0BHqzH2bVYJ2xQyrB0cJDh\n`);
    const e = executor({ knownHosts: [other] });
    const err = await e.run(["true"]).catch((x) => x);
    expect(err.message).toContain("CHANGED");
    expect(err.message).toContain(sshd.fingerprint);
    const fix = `ssh-keygen -R "[127.0.0.1]:${sshd.port}" -f '${other}' && ssh-keyscan -p ${sshd.port} 127.0.0.1 >> '${other}'`;
    expect(err.hint).toContain(`then run: ${fix}`);
    expect(e.status().hostKey).toMatchObject({ status: "changed", fix });
  });

  it("refuses, even when trusting on first use, a key of another type than the one known_hosts holds (OpenSSH's accept-new)", async () => {
    const ecdsa = join(dir, "other_ecdsa");
    Bun.spawnSync(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", ecdsa]);
    const [type, blob] = readFileSync(`${ecdsa}.pub`, "utf8").split(" ");
    expect(type).toBe("ecdsa-sha2-nistp256");
    const known = join(dir, "ecdsa_known_hosts");
    writeFileSync(known, `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
    const before = readFileSync(known, "utf8");
    const tofu = join(dir, "tofu-type", "known_hosts");
    const trusted: unknown[] = [];
    const e = executor({ knownHosts: [known], tofuKnownHosts: tofu, trustOnFirstUse: true, onTrust: (t) => trusted.push(t) });
    const err = await e.run(["true"]).catch((x) => x);
    expect(err.message).toContain("CHANGED");
    expect(err.message).toContain(`ssh-ed25519 ${sshd.fingerprint}`);
    expect(trusted).toEqual([]);
    expect(existsSync(tofu)).toBe(false);
    expect(readFileSync(known, "utf8")).toBe(before);
    expect(e.status().hostKey.status).toBe("changed");
  });

  it("names vc's own known_hosts in the fix when the old key was trusted on first use there", async () => {
    const empty = join(dir, "empty3");
    writeFileSync(empty, "");
    const tofu = join(dir, "tofu-changed");
    writeFileSync(tofu, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBGzh0Gi2kU7mD3YqkPa1t0BHqzH2bVYJ2xQyrB0cJDh\n`);
    const e = executor({ knownHosts: [empty], tofuKnownHosts: tofu, trustOnFirstUse: true });
    const err = await e.run(["true"]).catch((x) => x);
    expect(err.message).toContain("CHANGED");
    expect(err.details.fix).toBe(`ssh-keygen -R "[127.0.0.1]:${sshd.port}" -f '${tofu}' && ssh-keyscan -p ${sshd.port} 127.0.0.1 >> '${empty}'`);
  });

  it("accepts a hashed known_hosts entry", async () => {
    const hashed = join(dir, "hashed_known_hosts");
    writeFileSync(hashed, `${sshd.knownHostsLine}\n`);
    const r = Bun.spawnSync(["ssh-keygen", "-H", "-f", hashed], { stdout: "ignore", stderr: "ignore" });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(hashed, "utf8")).toStartWith("|1|");
    const e = executor({ knownHosts: [hashed] });
    expect((await e.run(["echo", "ok"])).stdout).toBe("ok\n");
  });

  it("trusts on first use only when asked, records the key, and calls it out", async () => {
    const empty = join(dir, "empty2");
    writeFileSync(empty, "");
    const tofu = join(dir, "vc-known_hosts");
    const trusted: unknown[] = [];
    const e = executor({ knownHosts: [empty], tofuKnownHosts: tofu, trustOnFirstUse: true, onTrust: (t) => trusted.push(t) });
    expect((await e.run(["echo", "ok"])).stdout).toBe("ok\n");
    expect(trusted).toEqual([{ machineId: "remote", host: "127.0.0.1", port: sshd.port, type: "ssh-ed25519", fingerprint: sshd.fingerprint, file: tofu }]);
    expect(readFileSync(tofu, "utf8").trim()).toBe(sshd.knownHostsLine);
    expect(e.status().hostKey.status).toBe("trusted-on-first-use");
    // next time it is simply known
    const again = executor({ knownHosts: [empty], tofuKnownHosts: tofu, trustOnFirstUse: true, onTrust: (t) => trusted.push(t) });
    await again.run(["true"]);
    expect(trusted).toHaveLength(1);
    expect(again.status().hostKey.status).toBe("match");
  });
});

describe("ssh executor: failures", () => {
  it("fails fast on a port with nothing listening", async () => {
    const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = s.port;
    s.stop(true);
    const e = executor({ target: { spec: "x", host: "127.0.0.1", port, user: "nobody", identityFiles: [sshd.userKey], jumps: [] }, connectTimeoutMs: 2000 });
    const err = await e.run(["true"]).catch((x) => x);
    expect(err.message).toContain(`cannot reach 127.0.0.1:${port}`);
    expect(e.status().retryAt).not.toBeNull();
    // within the backoff it does not even try
    const again = await e.run(["true"]).catch((x) => x);
    expect(again.message).toContain("next attempt at");
  });

  it("gives up on a listener that never speaks SSH after the connect timeout", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    try {
      const e = executor({ target: { spec: "x", host: "127.0.0.1", port: silent.port, user: "nobody", identityFiles: [sshd.userKey], jumps: [] }, connectTimeoutMs: 1000 });
      const err = await e.run(["true"]).catch((x) => x);
      expect(err.message).toMatch(/timed out/i);
    } finally {
      silent.stop(true);
    }
  });

  it("reports a refused key by name", async () => {
    const stranger = join(dir, "stranger_key");
    Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger]);
    const e = executor({ target: { spec: "x", host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [stranger], jumps: [] } });
    const err = await e.run(["true"]).catch((x) => x);
    expect(err.message).toContain("refused every key offered");
    expect(err.message).toContain(stranger);
  });

  it("errors at once when sshd dies mid-command, and reconnects on the next command", async () => {
    const e = executor();
    expect((await e.run(["echo", "warm"])).stdout).toBe("warm\n");
    const pending = e.run(["sleep", "30"], { timeoutMs: 60_000 }).catch((x) => x);
    await Bun.sleep(300);
    await sshd.stop();
    const err = await pending;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("connection lost while running sleep");
    await sshd.restart();
    expect((await e.run(["echo", "back"])).stdout).toBe("back\n");
  });
});

describe("ssh targets", () => {
  it("resolves user@host:port and Host aliases from ~/.ssh/config, ProxyJump included", () => {
    const home = join(dir, "cfghome");
    mkdirSync(join(home, ".ssh"), { recursive: true });
    writeFileSync(
      join(home, ".ssh", "config"),
      `Host gpu-box
  HostName 127.0.0.9
  User ubuntu
  Port 2222
  IdentityFile ~/.ssh/gpu_key
  ProxyJump bastion

Host bastion
  HostName 127.0.0.10
  User jump

Host *
  User fallback
`,
    );
    const o = { home, defaultUser: "me" };
    expect(resolveSshTarget("alice@127.0.0.1:2200", o)).toMatchObject({ host: "127.0.0.1", port: 2200, user: "alice", jumps: [] });
    const t = resolveSshTarget("gpu-box", o);
    expect(t).toMatchObject({ host: "127.0.0.9", port: 2222, user: "ubuntu", identityFiles: [join(home, ".ssh/gpu_key")] });
    expect(t.jumps).toHaveLength(1);
    expect(t.jumps[0]).toMatchObject({ host: "127.0.0.10", user: "jump", port: 22 });
    expect(resolveSshTarget("root@gpu-box:2300", o)).toMatchObject({ user: "root", port: 2300, host: "127.0.0.9" });
    expect(resolveSshTarget("plain", o)).toMatchObject({ host: "plain", user: "fallback", port: 22 });
    expect(() => resolveSshTarget("bad host:x", o)).toThrow("is not an SSH target");
  });

  it("connects through a ProxyJump hop", async () => {
    const hop = { spec: "hop", host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.userKey], jumps: [] };
    const e = executor({ target: { ...hop, spec: "target", jumps: [hop] } });
    expect((await e.run(["echo", "via jump"])).stdout).toBe("via jump\n");
  });
});

describe("host key fixes", () => {
  it("are the exact commands a person types: the port form only off port 22, ~/.ssh/known_hosts by its short name", () => {
    const home = "/home/me";
    const user = "/home/me/.ssh/known_hosts";
    expect(hostKeyFix({ status: "unknown", host: "gpu-box.lan", port: 22, addTo: user, holding: [], home })).toBe("ssh-keyscan gpu-box.lan >> ~/.ssh/known_hosts");
    expect(hostKeyFix({ status: "unknown", host: "10.0.0.7", port: 2222, addTo: user, holding: [], home })).toBe("ssh-keyscan -p 2222 10.0.0.7 >> ~/.ssh/known_hosts");
    expect(hostKeyFix({ status: "changed", host: "gpu-box.lan", port: 22, addTo: user, holding: [user], home })).toBe(
      "ssh-keygen -R gpu-box.lan && ssh-keyscan gpu-box.lan >> ~/.ssh/known_hosts",
    );
    expect(hostKeyFix({ status: "changed", host: "10.0.0.7", port: 2222, addTo: user, holding: [user], home })).toBe(
      'ssh-keygen -R "[10.0.0.7]:2222" && ssh-keyscan -p 2222 10.0.0.7 >> ~/.ssh/known_hosts',
    );
    expect(hostKeyFix({ status: "match", host: "h", port: 22, addTo: user, holding: [], home })).toBeUndefined();
  });
});
