// Faults at the edges (issue 13, "the suite, kept"): the collector fault matrix on both executors,
// SSH faults against a real sshd, and the escape corpus through every human output.
//
// - Collector faults (hang, stdout flood, junk, invalid UTF-8, stderr flood, daemonized
//   grandchild), each run by the local and the SSH executor: time to return as a share of the
//   timeout (target ≤ 1.2), processes left running after it returned (target 0), descriptors
//   this process holds more than before (target 0).
// - SSH faults (changed key, key type change, unknown host, closed port, silent listener, frozen
//   connection): each fails cleanly — the expected error, nothing trusted (target 1) — within its
//   timeout (time as a share of it: target ≤ 1.1).
// - Escapes: a tool's --version and stderr carry every escape, C1 and bidi control; they reach
//   `vc up`'s log, `vc collect`, `vc query` (table, csv), `vc alerts list|explain`, `vc doctor`
//   and `vc machines show` through the store, and `vc robot machine` / `vc query --format json`
//   as JSON. Raw unsafe characters in each output: target 0 (and a visible marker proves the
//   text got there).
//
// `run()` returns the figures; `bun test/bench/reliability/faults.ts` prints them.
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLocalExecutor } from "../../../lib/exec/local.ts";
import type { Executor } from "../../../lib/exec/types.ts";
import { isolatedEnv, vc, vcSpawn } from "../../helpers/cli.ts";
import { lineWaiter } from "../../helpers/dcg-watch.ts";
import { ALL_ESCAPES, countUnsafe } from "../../helpers/escapes.ts";
import { descendants, sshdExecutor, startSshd, type Sshd } from "../../helpers/sshd.ts";
import { processRunning } from "../../helpers/proc.ts";
import type { Figure } from "./_figure.ts";

export type { Figure };

const TIMEOUT_MS = 3000;
const MAX_BYTES = 1024 * 1024;
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** Pids of running processes (zombies excluded) whose command line holds `marker`. */
function withMarker(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker) && processRunning(Number(name))) out.push(Number(name));
    } catch {}
  }
  return out;
}

const openFds = () => readdirSync("/proc/self/fd").length;

/** The faults, as scripts; `M` is a number unique to the run, so what they leave behind can be found. */
const FAULTS: Record<string, (m: string) => string> = {
  hang: (m) => `sleep ${m} & sleep ${m}`,
  stdout_flood: (m) => `sleep ${m} & yes 'flood flood flood'`,
  junk: () => "head -c 2000000 /dev/urandom",
  invalid_utf8: () => "printf '\\377\\376\\375 not utf-8 \\300\\200'; head -c 100000 /dev/urandom",
  stderr_flood: (m) => `sleep ${m} & yes 'warning: again' >&2`,
  daemonized_grandchild: (m) => `setsid sleep ${m} & echo '{}'; exit 0`,
};

async function settle(check: () => number): Promise<number> {
  let n = check();
  for (let i = 0; i < 20 && n > 0; i++) {
    await Bun.sleep(50);
    n = check();
  }
  return n;
}

/** The collector fault matrix on one executor. */
async function faultMatrix(label: string, exec: Executor): Promise<Figure[]> {
  const figures: Figure[] = [];
  await exec.run(["true"]); // warm: a pooled connection is not a leak
  let n = 0;
  for (const [fault, script] of Object.entries(FAULTS)) {
    const marker = String(4_200_000 + process.pid * 10 + n++);
    const fds = openFds();
    const t0 = performance.now();
    let failed = false;
    try {
      await exec.run({ script: script(marker) }, { timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES });
    } catch {
      failed = true; // an error is a bounded answer too; the figures below say whether it cost anything
    }
    const ratio = (performance.now() - t0) / TIMEOUT_MS;
    const leaked = await settle(() => withMarker(`sleep ${marker}`).length);
    const fdLeak = await settle(() => Math.max(0, openFds() - fds));
    for (const pid of withMarker(`sleep ${marker}`)) process.kill(pid, "SIGKILL");
    figures.push(
      { name: `faults.${label}.${fault}.return_ratio${failed ? "_threw" : ""}`, value: round(ratio), target: "≤ 1.2 × timeout", ok: ratio <= 1.2 },
      { name: `faults.${label}.${fault}.leaked_processes`, value: leaked, target: "0", ok: leaked === 0 },
      { name: `faults.${label}.${fault}.leaked_fds`, value: fdLeak, target: "0", ok: fdLeak === 0 },
    );
  }
  return figures;
}

/** One SSH fault: the error it must end in, and how long it may take. */
async function sshFault(name: string, timeoutMs: number, attempt: () => Promise<unknown>, clean: (err: unknown) => boolean): Promise<Figure[]> {
  const t0 = performance.now();
  let err: unknown = null;
  try {
    await attempt();
  } catch (e) {
    err = e;
  }
  const ratio = (performance.now() - t0) / timeoutMs;
  const ok = clean(err);
  return [
    { name: `ssh.${name}.failed_cleanly`, value: ok ? 1 : 0, target: "1", ok },
    { name: `ssh.${name}.time_ratio`, value: round(ratio), target: "≤ 1.1 × timeout", ok: ratio <= 1.1 },
  ];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function sshFaults(sshd: Sshd, dir: string): Promise<Figure[]> {
  const connectMs = 2000;
  const figures: Figure[] = [];
  const opened: Executor[] = [];
  const exec = (extra: Parameters<typeof sshdExecutor>[1]) => {
    const e = sshdExecutor(sshd, { connectTimeoutMs: connectMs, ...extra });
    opened.push(e);
    return e;
  };
  try {
    const otherEd25519 = join(dir, "changed_known_hosts");
    writeFileSync(otherEd25519, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBGzh0Gi2kU7mD3YqkPa1t0BHqzH2bVYJ2xQyrB0cJDh\n`);
    figures.push(
      ...(await sshFault(
        "changed_key",
        connectMs,
        () => exec({ knownHosts: [otherEd25519] }).run(["true"]),
        (e) => /CHANGED/.test(message(e)) && /ssh-keygen -R/.test((e as { hint?: string }).hint ?? ""),
      )),
    );

    const ecdsa = join(dir, "ecdsa");
    Bun.spawnSync(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", ecdsa]);
    const [type, blob] = readFileSync(`${ecdsa}.pub`, "utf8").split(" ");
    const typeKnown = join(dir, "type_known_hosts");
    writeFileSync(typeKnown, `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
    const tofu = join(dir, "tofu_known_hosts");
    let trusted = 0;
    figures.push(
      ...(await sshFault(
        "key_type_change",
        connectMs,
        () => exec({ knownHosts: [typeKnown], tofuKnownHosts: tofu, trustOnFirstUse: true, onTrust: () => trusted++ }).run(["true"]),
        (e) => /CHANGED/.test(message(e)) && trusted === 0,
      )),
    );

    const empty = join(dir, "empty_known_hosts");
    writeFileSync(empty, "");
    figures.push(
      ...(await sshFault(
        "unknown_host",
        connectMs,
        () => exec({ knownHosts: [empty] }).run(["true"]),
        (e) => /not in known_hosts/.test(message(e)) && /ssh-keyscan -p/.test((e as { hint?: string }).hint ?? ""),
      )),
    );

    const gone = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const closedPort = gone.port;
    gone.stop(true);
    const target = (port: number) => ({ spec: "x", host: "127.0.0.1", port, user: sshd.user, identityFiles: [sshd.userKey], jumps: [] });
    figures.push(
      ...(await sshFault(
        "closed_port",
        connectMs,
        () => exec({ target: target(closedPort) }).run(["true"]),
        (e) => /cannot reach/.test(message(e)),
      )),
    );

    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    try {
      figures.push(
        ...(await sshFault(
          "silent_listener",
          connectMs,
          () => exec({ target: target(silent.port) }).run(["true"]),
          (e) => /timed out/.test(message(e)),
        )),
      );
    } finally {
      silent.stop(true);
    }

    // A frozen connection: the sshd session stopped (SIGSTOP) under a running command, then under a new one.
    const frozen = exec({});
    await frozen.run(["true"]);
    const running = frozen.run(["sleep", "100000"], { timeoutMs: TIMEOUT_MS });
    await Bun.sleep(300);
    let session = descendants(sshd.pid);
    for (const pid of session) process.kill(pid, "SIGSTOP");
    try {
      figures.push(
        ...(await sshFault(
          "frozen_connection",
          TIMEOUT_MS,
          async () => {
            const r = await running;
            if (r.timedOut) throw new Error("timed out");
          },
          (e) => /timed out/.test(message(e)),
        )),
      );
    } finally {
      for (const pid of session) process.kill(pid, "SIGCONT");
    }
    const again = exec({});
    await again.run(["true"]);
    session = descendants(sshd.pid);
    for (const pid of session) process.kill(pid, "SIGSTOP");
    try {
      figures.push(
        ...(await sshFault(
          "frozen_connection_new_command",
          TIMEOUT_MS,
          () => again.run(["echo", "x"], { timeoutMs: TIMEOUT_MS }),
          (e) => /no answer to opening a channel/.test(message(e)),
        )),
      );
    } finally {
      for (const pid of session) process.kill(pid, "SIGCONT");
    }
  } finally {
    for (const e of opened) await e.close().catch(() => {});
  }
  return figures;
}

const MARK = "EVILMARK";

/** A machine whose tool answers --version and fails with every escape; a rule whose message quotes the failure. */
function escapeSetup(dir: string) {
  const env = isolatedEnv(dir);
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const payload = `${MARK} ${ALL_ESCAPES.replaceAll("\n", " ")}`;
  writeFileSync(join(dir, "payload"), payload);
  writeFileSync(join(bin, "eviltool"), `#!/bin/sh\nif [ "$1" = --version ]; then cat ${join(dir, "payload")}; echo; exit 0; fi\ncat ${join(dir, "payload")} >&2\nexit 3\n`);
  chmodSync(join(bin, "eviltool"), 0o755);
  env.PATH = `${bin}:${env.PATH}`;
  const config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `import { defineCollector, defineConfig, defineRule, defineSource, gt, sql, threshold } from "vibe-cockpit";
const evil = defineCollector({
  name: "evil", version: "1.0.0", schemaVersion: 1, requires: { commands: ["eviltool"] },
  async collect(ctx) {
    const r = await ctx.exec.run(["eviltool", "run"]);
    throw new Error("eviltool said: " + r.stderr);
  },
});
const failures = defineSource({ name: "evil_failures", description: "the evil collector's last error",
  sql: (at) => sql\`SELECT machine_id, last_error AS note, 1 AS n FROM collector_state WHERE collector = 'evil' AND last_error IS NOT NULL\` });
export default defineConfig({
  db: ${JSON.stringify(join(dir, "vc.duckdb"))},
  polling: { interval_seconds: 3600 },
  machines: [{ id: "here", ssh: "local" }],
  collectors: [evil],
  rules: [defineRule({ id: "evil_failing", severity: "high", title: "evil fails", source: failures,
    when: gt("n", threshold("min", 0)), labels: ["machine_id"], value: "note", message: "evil on {machine_id}: {note}",
    actions: [{ title: "Look at {note}", command: "vc machines show {machine_id}" }] })],
});
`,
  );
  return { env, config };
}

async function escapeCorpus(dir: string): Promise<Figure[]> {
  const { env, config } = escapeSetup(dir);
  const cli = (...args: string[]) => vc([...args, "--config", config], { env });
  const outputs: Record<string, string> = {};
  // `vc up`: one cycle, its log, then SIGTERM.
  const up = vcSpawn(["up", "--config", config], { env });
  const log = lineWaiter(up.stderr as ReadableStream<Uint8Array>);
  await Promise.race([log.next((l) => l.includes("cycle 1 ")), Bun.sleep(60_000)]);
  await Bun.sleep(200);
  up.kill("SIGTERM");
  await up.exited;
  outputs.vc_up_log = log.lines.join("\n");
  outputs.collect_table = (await cli("collect", "--once")).stdout;
  outputs.query_table = (await cli("query", "select collector, last_error from collector_state where collector = 'evil'")).stdout;
  outputs.query_csv = (await cli("query", "select last_error from collector_state where collector = 'evil'", "--format", "csv")).stdout;
  outputs.alerts_list = (await cli("alerts", "list")).stdout;
  const alerts = JSON.parse((await cli("alerts", "list", "--json")).stdout || "[]") as { alert_id: string }[];
  outputs.alerts_explain = alerts[0] ? (await cli("alerts", "explain", alerts[0].alert_id)).stdout : "";
  outputs.doctor = (await cli("doctor")).stdout;
  outputs.machines_show = (await cli("machines", "show", "here")).stdout;
  // Machine-readable output carries the same text with every control as a JSON escape.
  outputs.robot_machine_json = (await cli("robot", "machine", "here")).stdout;
  outputs.query_json = (await cli("query", "select last_error from collector_state where collector = 'evil'", "--format", "json")).stdout;
  const figures: Figure[] = [];
  for (const [name, text] of Object.entries(outputs)) {
    const unsafe = countUnsafe(text);
    const reached = text.includes(MARK);
    figures.push({ name: `escapes.${name}.unsafe_chars${reached ? "" : "_NO_PAYLOAD"}`, value: unsafe, target: "0 (payload present)", ok: unsafe === 0 && reached });
  }
  return figures;
}

export async function run(): Promise<Figure[]> {
  const local = join(process.env.TMPDIR ?? "/tmp", `vc-faults-${process.pid}`);
  mkdirSync(local, { recursive: true });
  const figures: Figure[] = [];
  const sshd = await startSshd();
  try {
    figures.push(...(await faultMatrix("local", createLocalExecutor({ machineId: "here" }))));
    const ssh = sshdExecutor(sshd, { connectTimeoutMs: 5000 });
    try {
      figures.push(...(await faultMatrix("ssh", ssh)));
    } finally {
      await ssh.close();
    }
    figures.push(...(await sshFaults(sshd, local)));
  } finally {
    await sshd.stop();
  }
  figures.push(...(await escapeCorpus(join(local, "escapes"))));
  rmSync(local, { recursive: true, force: true });
  return figures;
}

if (import.meta.main) {
  const figures = await run();
  for (const f of figures) console.log(`${f.ok ? "ok  " : "FAIL"} ${f.name}: ${f.value} (target ${f.target})`);
  process.exit(figures.every((f) => f.ok) ? 0 : 1);
}
