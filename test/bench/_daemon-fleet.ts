// A fleet for daemon benchmarks: N machines that are all one real sshd on 127.0.0.1 (distinct ids,
// so N pooled connections), whose PATH and HOME hold fake upstream tools and files printing the
// real fixture outputs from test/fixtures, plus a loopback HTTP server for the collectors that
// scrape one (cloud_benchmarker, rch's metrics). The config lists every bundled collector, taken
// from the embedded default vc.config.ts, so the benchmark follows it when a collector is added.
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, type FakeMachine } from "../../lib/testkit.ts";
import { cliEntry, isolatedEnv, repoRoot } from "../helpers/cli.ts";
import { startSshd, type Sshd } from "../helpers/sshd.ts";

const fx = (path: string) => readFileSync(join(repoRoot, "test/fixtures", path), "utf8");

export interface DaemonFleet {
  readonly dir: string;
  readonly sshd: Sshd;
  readonly remote: FakeMachine;
  /** The vc.config.ts the daemon is started with. */
  readonly config: string;
  readonly env: Record<string, string>;
  /** Starts `vc up` (extra arguments after `up`; `bunFlags` before the CLI entry, e.g. --smol). */
  up(args?: string[], o?: { bunFlags?: string[]; env?: Record<string, string> }): ReturnType<typeof Bun.spawn>;
  stop(): Promise<void>;
}

/** Everything a bundled collector reads, as the fleet's tools would print it. */
function fakeRemote(): FakeMachine {
  const dcgConfig = `[logging]\nenabled = true\nformat = "json"\nfile = "~/.local/share/dcg/decisions.jsonl"\n`;
  return createFakeMachine({
    id: "fleet",
    tools: {
      sysmoni: { "--json": fx("sysmoni/json.json"), "--json-stream": fx("sysmoni/json-stream.ndjson") },
      ntm: {
        "--robot-status": fx("ntm/robot-status.json"),
        "list --json": fx("ntm/list.json"),
        // The attention feed: its snapshot (at cursor 117), the events after it, then none new — the
        // wait from the newest cursor blocks until its timeout, as ntm's does on a quiet fleet.
        "--robot-snapshot": fx("ntm/robot-snapshot.json"),
        "--robot-attention --attention-cursor=123 *": {
          stdout: JSON.stringify({ success: true, wake_reason: "timeout", digest: { items: [] }, cursor_info: { start_cursor: 123, end_cursor: 123 } }),
          delaySeconds: 30,
        },
        "--robot-attention*": fx("ntm/robot-attention.json"),
        "--robot-events --since-cursor=117 *": fx("ntm/robot-events.json"),
        "--robot-events --since-cursor=123 *": JSON.stringify({ success: true, timestamp: "2026-08-16T12:02:00Z", events: [], next_cursor: 123, has_more: false }),
      },
      caut: { "usage --json": fx("caut/usage.json"), "cost --json": fx("caut/cost.json") },
      caam: { "limits --format json": fx("caam/limits.format-json.json"), "status --json": fx("caam/status.json") },
      cass: { "health --json": fx("cass/health.json"), "stats --json": fx("cass/stats.json"), "timeline --json": fx("cass/timeline.json") },
      rano: { "export --format jsonl --since*": fx("rano/export.jsonl") },
      ru: { "list --json": fx("ru/list.json"), "status --no-fetch --json": fx("ru/status.no-fetch.json") },
      rch: { "status --json": fx("rch/status.json") },
      pt: { "robot plan --format json": { stdout: fx("pt/robot-plan.format-json.json"), exit: 1 } },
      bv: { "--robot-triage": fx("beads/bv-robot-triage.json") },
      br: { "ready --json": fx("beads/br-ready.json") },
      automated_flywheel_setup_checker: { "status --format json": fx("afsc/status.format-json.json") },
    },
    home: {
      ".local/share/caut/usage-history.sqlite": { sqlite: fx("caut/usage-history.sql") },
      ".mcp_agent_mail_git_mailbox_repo/storage.sqlite3": { sqlite: fx("mcp_agent_mail/storage.sqlite3.sql") },
      ".config/dcg/history.db": { sqlite: fx("dcg/history-db.sql") },
      ".config/dcg/config.toml": dcgConfig,
      ".local/share/dcg/decisions.jsonl": fx("dcg/decision-log.jsonl"),
      ".local/share/afsc/results/results_20260820_061112.jsonl": fx("afsc/results.jsonl"),
      "projects/vc/.beads/issues.jsonl": fx("beads/issues.jsonl"),
    },
  });
}

/** Makes a tree readable (and its folders enterable) by the SSH test user. */
function shareTree(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.isDirectory() ? 0o755 : st.mode & 0o111 ? 0o755 : 0o644);
  if (st.isDirectory()) for (const name of readdirSync(path)) shareTree(join(path, name));
}

/**
 * Starts the sshd, the fake tools and the HTTP server, and writes a config with `machines` SSH
 * machines × every bundled collector into `dir`.
 */
export async function startDaemonFleet(dir: string, o: { machines: number; polling?: Record<string, unknown>; store?: Record<string, unknown> }): Promise<DaemonFleet> {
  const sshd = await startSshd();
  const remote = fakeRemote();
  shareTree(remote.dir);
  chmodSync(join(remote.dir, "calls"), 0o777); // the fake tools log their calls there, as the SSH user
  // Sessions of this sshd get the fake tools first on PATH and the fake HOME (sshd's SetEnv).
  appendFileSync(join(sshd.dir, "sshd_config"), `SetEnv PATH=${remote.bin}:/usr/local/bin:/usr/bin:/bin HOME=${remote.home}\n`);
  await sshd.restart();

  const raw = fx("cloud_benchmarker/data-raw.json");
  const overall = fx("cloud_benchmarker/data-overall.json");
  const metrics = fx("rch/metrics.txt");
  const http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/data/raw/") return new Response(raw, { headers: { "content-type": "application/json" } });
      if (path === "/data/overall/") return new Response(overall, { headers: { "content-type": "application/json" } });
      if (path === "/metrics") return new Response(metrics, { headers: { "content-type": "text/plain; version=0.0.4" } });
      return new Response("not found", { status: 404 });
    },
  });
  const base = `http://127.0.0.1:${http.port}`;

  const machines = Array.from({ length: o.machines }, (_, i) => ({
    id: `node-${String(i + 1).padStart(2, "0")}`,
    ssh: `${sshd.user}@127.0.0.1:${sshd.port}`,
    identity_file: sshd.userKey,
    known_hosts: [sshd.knownHosts],
    paths: { "cloud_benchmarker.url": base, "cloud_benchmarker.utc_offset": "+02:00", "rch.metrics_url": `${base}/metrics`, "beads.repos": "~/projects/vc" },
  }));
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `// Written by test/bench/_daemon-fleet.ts: ${o.machines} SSH machines x every bundled collector.
import { defineConfig } from "vibe-cockpit";
import embedded from ${JSON.stringify(join(repoRoot, "vc.config.ts"))};

export default defineConfig({
  ...embedded,
  db: ${JSON.stringify(join(dir, "vc.duckdb"))},
  data_dir: ${JSON.stringify(join(dir, "data"))},
  polling: { ...embedded.polling, ...${JSON.stringify(o.polling ?? {})} },
  ${o.store ? `store: ${JSON.stringify(o.store)},` : ""}
  machines: ${JSON.stringify(machines, null, 2)},
});
`,
  );
  const env = isolatedEnv(dir, { VC_CONFIG: config });
  return {
    dir,
    sshd,
    remote,
    config,
    env,
    up: (args = [], opts = {}) =>
      Bun.spawn(["bun", ...(opts.bunFlags ?? []), cliEntry, "up", ...args], { cwd: env.HOME, env: { ...env, ...opts.env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" }),
    async stop() {
      http.stop(true);
      await sshd.stop();
      remote.close();
    },
  };
}
