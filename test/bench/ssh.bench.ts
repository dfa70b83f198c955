// SSH executor benchmarks, against a real sshd on 127.0.0.1 (started here, like the tests do):
// 1) one poll of 20 machines × 5 commands (8 machines in flight): vc's pooled ssh2 executor vs
//    OpenSSH's `ssh` spawned per command with BatchMode (the plan's MVP way). Target ≥ 5× faster.
// 2) per-command latency on a warm connection: vc's executor vs a bare ssh2 exec. Target ≤ 1.5×.
import { readFileSync } from "node:fs";
import { Client } from "ssh2";
import { createSshExecutor } from "../../lib/index.ts";
import { mapPool } from "../../lib/_pool.ts";
import { startSshd } from "../helpers/sshd.ts";

const MACHINES = 20;
const COMMANDS = 5;
const IN_FLIGHT = 8;
const sshd = await startSshd();
const target = { spec: "bench", host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.userKey], jumps: [] };
const commands = [["uptime"], ["cat", "/proc/loadavg"], ["df", "-P"], ["free", "-b"], ["cat", "/proc/meminfo"]];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  // 1) a poll
  const executors = Array.from({ length: MACHINES }, (_, i) =>
    createSshExecutor({ machineId: `m${i}`, target, localHome: "/nonexistent", knownHosts: [sshd.knownHosts], agentSocket: "/none" }),
  );
  const pooledPoll = async () => {
    const t = performance.now();
    await mapPool(executors, IN_FLIGHT, async (e) => {
      for (const c of commands.slice(0, COMMANDS)) {
        const r = await e.run(c);
        if (r.exitCode !== 0) throw new Error(`${c.join(" ")} failed: ${r.stderr}`);
      }
    });
    return performance.now() - t;
  };
  const sshPoll = async () => {
    const t = performance.now();
    await mapPool(executors, IN_FLIGHT, async () => {
      for (const c of commands.slice(0, COMMANDS)) {
        const p = Bun.spawn(
          [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            `UserKnownHostsFile=${sshd.knownHosts}`,
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-i",
            sshd.userKey,
            "-p",
            String(sshd.port),
            `${sshd.user}@127.0.0.1`,
            c.join(" "),
          ],
          { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
        );
        const [, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
        if (code !== 0) throw new Error(`ssh ${c.join(" ")} exited ${code}: ${await new Response(p.stderr).text()}`);
      }
    });
    return performance.now() - t;
  };
  const cold = await pooledPoll(); // first poll opens the 20 connections
  const warm: number[] = [];
  const spawned: number[] = [];
  for (let i = 0; i < 3; i++) {
    spawned.push(await sshPoll());
    warm.push(await pooledPoll());
  }
  console.log(`one poll, ${MACHINES} machines x ${COMMANDS} commands, ${IN_FLIGHT} machines in flight (median of 3)`);
  console.log(`  ssh spawned per command (BatchMode): ${median(spawned).toFixed(0)} ms`);
  console.log(`  vc pooled ssh2, warm connections:   ${median(warm).toFixed(0)} ms   (first poll, connecting: ${cold.toFixed(0)} ms)`);
  console.log(`  ratio ssh / vc: ${(median(spawned) / median(warm)).toFixed(1)}x (target >= 5x); counting the connecting poll: ${(median(spawned) / cold).toFixed(1)}x`);
  await Promise.all(executors.map((e) => e.close()));

  // 2) per-command latency, warm
  const e = createSshExecutor({ machineId: "lat", target, localHome: "/nonexistent", knownHosts: [sshd.knownHosts], agentSocket: "/none" });
  await e.run(["true"]);
  const bare = new Client();
  await new Promise<void>((res, rej) =>
    bare
      .on("ready", () => res())
      .on("error", rej)
      .connect({ host: sshd.host, port: sshd.port, username: sshd.user, privateKey: readFileSync(sshd.userKey) }),
  );
  const bareExec = () =>
    new Promise<void>((res, rej) =>
      bare.exec("true", (err, ch) => {
        if (err) return rej(err);
        ch.on("close", () => res());
        ch.resume();
        ch.stderr.resume();
      }),
    );
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < 40; i++) {
    let t = performance.now();
    await bareExec();
    raw.push(performance.now() - t);
    t = performance.now();
    await e.run(["true"]);
    ours.push(performance.now() - t);
  }
  bare.end();
  await e.close();
  console.log(`per-command latency on a warm connection (median of 40): bare ssh2 exec ${median(raw).toFixed(2)} ms, vc executor ${median(ours).toFixed(2)} ms`);
  console.log(`  ratio vc / bare: ${(median(ours) / median(raw)).toFixed(2)}x (target <= 1.5x)`);
} finally {
  await sshd.stop();
}
