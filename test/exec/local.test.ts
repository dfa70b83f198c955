import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { writeFileSync, mkdirSync, existsSync, appendFileSync, readdirSync, readFileSync, readlinkSync, renameSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { createLocalExecutor, sql } from "../../lib/index.ts";
import { tempDir } from "../helpers/tmp.ts";
import { processRunning } from "../helpers/proc.ts";
import { daemonizeScript, gone, trackStrays } from "../helpers/strays.ts";

setDefaultTimeout(30_000); // real processes, some of them told to outlive their parent

const dir = tempDir();
const home = join(dir, "home");
mkdirSync(home);
const exec = createLocalExecutor({ machineId: "here", home });

describe("local executor", () => {
  it("returns stdout, stderr and the exit code", async () => {
    const r = await exec.run(["sh", "-c", "echo out; echo err >&2; exit 7"]);
    expect(r).toMatchObject({ stdout: "out\n", stderr: "err\n", exitCode: 7, truncated: false, timedOut: false });
    const s = await exec.run({ script: 'printf "%s|" "$@"', args: ["a b", "$(touch nope)", "'"] });
    expect(s.stdout).toBe("a b|$(touch nope)|'|");
    expect(existsSync(join(home, "nope"))).toBe(false);
  });

  it("kills the whole process group on timeout", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const r = await exec.run({ script: `sleep 60 & echo $! > ${pidFile}; wait` }, { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    const pid = Number(await Bun.file(pidFile).text());
    await Bun.sleep(100);
    expect(processRunning(pid)).toBe(false);
  });

  it("cuts a flood at maxBytes and stops the process", async () => {
    const r = await exec.run({ script: "yes 0123456789" }, { maxBytes: 10_000, timeoutMs: 10_000 });
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBe(10_000);
    expect(r.timedOut).toBe(false);
  });

  it("flags output that is not UTF-8", async () => {
    const r = await exec.run({ script: "printf 'ok \\377\\376 end'" });
    expect(r.invalidUtf8).toBe(true);
    expect(r.stdout).toBe("ok \uFFFD\uFFFD end");
    const cut = await exec.run({ script: "printf 'caf\\303\\251caf\\303\\251'" }, { maxBytes: 4 });
    expect(cut.invalidUtf8).toBe(false);
  });

  it("expands ~ to the machine's HOME and reads byte ranges and stats", async () => {
    writeFileSync(join(home, "log.jsonl"), "line1\nline2\nline3\n");
    expect(await exec.expand("~/log.jsonl")).toBe(join(home, "log.jsonl"));
    const st = await exec.stat("~/log.jsonl");
    expect(st?.size).toBe(18);
    expect(typeof st?.inode).toBe("number");
    expect(new TextDecoder().decode(await exec.readRange("~/log.jsonl", 6, 12))).toBe("line2\n");
    expect(await exec.stat("~/absent")).toBeNull();
    // rotation shows as a new inode
    renameSync(join(home, "log.jsonl"), join(home, "log.jsonl.1"));
    appendFileSync(join(home, "log.jsonl"), "new\n");
    const st2 = await exec.stat("~/log.jsonl");
    expect(st2?.inode).not.toBe(st?.inode);
  });

  it("queries SQLite read-only with parameters", async () => {
    const path = join(home, "mail.sqlite3");
    const db = new Database(path);
    db.run("create table messages(id integer primary key, subject text)");
    db.run("insert into messages(subject) values ('a'), ('b'), ('c')");
    db.close();
    const rows = await exec.sqlite("~/mail.sqlite3", sql`select id, subject from messages where id > ${1} order by id`);
    expect(rows).toEqual([
      { id: 2, subject: "b" },
      { id: 3, subject: "c" },
    ]);
    const err = await exec.sqlite("~/mail.sqlite3", "delete from messages").catch((e) => e);
    expect(err.message).toMatch(/readonly|read-only/i);
  });

  it("GETs a URL on loopback, capped", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("metric_a 1\n".repeat(1000)) });
    try {
      const r = await exec.httpGet(`http://127.0.0.1:${server.port}/metrics`, { maxBytes: 100 });
      expect(r.status).toBe(200);
      expect(r.truncated).toBe(true);
      expect(r.body.length).toBe(100);
    } finally {
      server.stop(true);
    }
  });
});

/** Pipes this process holds open now (other descriptors come and go with other test files' sockets). */
const openFds = () =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith("pipe:");
    } catch {
      return false;
    }
  }).length;

describe("local executor: what a command leaves behind", () => {
  const strays = trackStrays();
  const daemonize = (pidFile: string, inner?: string) => ({ script: daemonizeScript(inner), args: [pidFile] });

  it("returns when the tool exits although a daemonized grandchild holds stdout, and kills the grandchild", async () => {
    await exec.run(["true"]);
    const before = openFds();
    const pidFile = join(dir, "daemon.pid");
    const r = await exec.run(daemonize(pidFile), { timeoutMs: 20_000 });
    const pid = Number(readFileSync(pidFile, "utf8"));
    strays.push(pid);
    expect(r).toMatchObject({ stdout: "started\n", exitCode: 0, timedOut: false });
    expect(await gone(pid)).toBe(true);
    expect(openFds()).toBe(before);
  });

  it("stops reading pipes held by a grandchild it cannot find (environment cleared), without leaking them", async () => {
    await exec.run(["true"]);
    const before = openFds();
    const pidFile = join(dir, "hidden.pid");
    const r = await exec.run(daemonize(pidFile, "env -i sleep 100000"), { timeoutMs: 20_000 });
    strays.push(Number(readFileSync(pidFile, "utf8")));
    expect(r).toMatchObject({ stdout: "started\n", exitCode: 0, timedOut: false });
    expect(openFds()).toBe(before);
  });

  it("kills background jobs a tool left in its process group when it exits", async () => {
    const pidFile = join(dir, "bg.pid");
    const r = await exec.run({ script: `sleep 100000 >/dev/null 2>&1 & echo $! > ${pidFile}; exit 3` });
    const pid = Number(readFileSync(pidFile, "utf8"));
    strays.push(pid);
    expect(r.exitCode).toBe(3);
    expect(await gone(pid)).toBe(true);
  });

  it("kills a daemonized grandchild at the timeout too", async () => {
    const pidFile = join(dir, "hang.pid");
    const r = await exec.run({ script: daemonizeScript().replace("exit 0", "sleep 100000"), args: [pidFile] }, { timeoutMs: 1000 });
    const pid = Number(readFileSync(pidFile, "utf8"));
    strays.push(pid);
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(await gone(pid)).toBe(true);
  });
});

describe("local executor: stderr", () => {
  it("keeps the first 64 KiB of a noisy stderr and still returns the tool's answer", async () => {
    const r = await exec.run({ script: "head -c 300000 /dev/zero | tr '\\0' 'w' >&2; echo '{\"ok\":true}'" }, { maxBytes: 1_000_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('{"ok":true}\n');
    expect(r.stderr.length).toBe(64 * 1024);
  });

  it("stops an endless stderr flood past its limit, and says so", async () => {
    const r = await exec.run({ script: "yes 'warning: again' >&2" }, { maxBytes: 200_000, timeoutMs: 30_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(r.stderr).toContain("vc stopped the command: more than 16777216 bytes on stderr");
  });
});
