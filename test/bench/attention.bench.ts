// Who needs you, within seconds (issue 20.3): the time from a fake ntm's state change (an agent
// starts waiting for a person) to the `{type:"event", source:"attention"}` line on `vc watch`,
// with `vc up` following ntm's attention wait and polling only hourly — locally and over a real
// sshd on 127.0.0.1. Prints the median of several changes as a ratio of the targets
// (2 s local, 3 s over SSH) and of the default poll's expected wait (half of 120 s) as a baseline.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliEntry, isolatedEnv } from "../helpers/cli.ts";
import { lineWaiter } from "../helpers/dcg-watch.ts";
import { until, writeFollowConfig, writeFollowNtm } from "../helpers/ntm-follow.ts";
import { SSH_TEST_HOME, startSshd } from "../helpers/sshd.ts";

const CHANGES = Number(process.env.VC_BENCH_CHANGES ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const PANES = ["corpus-session-0:0.1", "corpus-session-1:0.3", "corpus-session-0:0.2", "corpus-session-1:0.1"];

async function measure(machine: Record<string, unknown>, ntmDir: string): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "vc-bench-attention-"));
  const env = isolatedEnv(dir);
  const ntm = writeFollowNtm(ntmDir);
  const cfg = writeFollowConfig(dir, ntmDir, machine);

  const spawn = (args: string[]) => Bun.spawn(["bun", cliEntry, ...args, "--config", cfg], { cwd: env.HOME, env, stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  const up = spawn(["up"]);
  try {
    await until("the daemon's socket", () => existsSync(join(dir, "vc.sock")));
    await until("the follow's wait", () => ntm.calls().some((c) => c.startsWith("--robot-attention --attention-cursor=117 ")), 60_000);
    const w = spawn(["watch"]);
    try {
      const out = lineWaiter(w.stdout as ReadableStream<Uint8Array>);
      await out.next((l) => l.includes('"heartbeat"'));
      const times: number[] = [];
      let cursor = 117;
      for (let i = 0; i < CHANGES; i++) {
        const pane = PANES[i % PANES.length]!;
        const [session, p] = pane.split(":");
        // Waiting again after being handled is a new wait: a new event.
        const t0 = performance.now();
        ntm.setState(++cursor, { [pane]: "waiting" });
        const seen = out.lines.length;
        await until(`the attention event for ${pane}`, () =>
          out.lines.slice(seen).some((l) => l.includes('"source":"attention"') && l.includes(`${session} pane ${p} is waiting`)),
        ).catch((err) => {
          throw new Error(
            `${err.message}; vc watch's attention events: ${out.lines
              .filter((l) => l.includes('"source":"attention"'))
              .map((l) => JSON.parse(l).event.key)
              .join(" | ")}`,
          );
        });
        times.push(performance.now() - t0);
        ntm.setState(++cursor, { [pane]: "active" });
        await Bun.sleep(1500); // handled: the follow collects it, and it leaves
      }
      return times;
    } finally {
      w.kill("SIGINT");
      await w.exited;
    }
  } finally {
    up.kill("SIGTERM");
    await up.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const local = await measure({ ssh: "local" }, join(mkdtempSync(join(tmpdir(), "vc-bench-ntm-")), "ntm"));
const sshd = await startSshd();
const ntmDir = join(SSH_TEST_HOME, `ntm-bench-${process.pid}`);
let remote: number[];
try {
  remote = await measure({ ssh: `${sshd.user}@127.0.0.1:${sshd.port}`, identity_file: sshd.userKey, known_hosts: [sshd.knownHosts] }, ntmDir);
} finally {
  await sshd.stop();
  rmSync(ntmDir, { recursive: true, force: true });
}
const POLL_WAIT_MS = 60_000; // the default 120 s poll: a change waits half an interval on average
console.log(`vc watch: an agent starts waiting → its attention event, median of ${CHANGES} changes (vc up follows ntm; polls hourly)`);
for (const [label, xs, target] of [
  ["local", local, 2000],
  ["over SSH", remote, 3000],
] as const) {
  const m = median(xs);
  console.log(
    `  ${label.padEnd(9)} ${m.toFixed(0)} ms  (${(m / target).toFixed(3)} of the ${target / 1000} s target; ${(m / POLL_WAIT_MS).toFixed(4)} of the default poll's 60 s average wait; all: ${xs.map((x) => x.toFixed(0)).join(" ")})`,
  );
}
