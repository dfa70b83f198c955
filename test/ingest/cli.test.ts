// vc node and the hub from the command line, as a person runs them: `vc node --once` (for cron)
// publishing this machine's runs, `vc up` consuming them, `vc machines list` saying which machines
// are pushed, `vc doctor` showing the connection, the stream's limits, the consumer's lag and each
// node's last batch; and `vc node --once` with the server down (spooled, exit 1).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, repoRoot, startUp, vc as cli } from "../helpers/cli.ts";
import { HUB, createStream, nodeUser, startNats, type NatsServer } from "../helpers/nats.ts";
import { tempDir } from "../helpers/tmp.ts";
import { makeMachine, type Machine } from "./_push.ts";

setDefaultTimeout(120_000);
const dir = tempDir("vc-push-cli-");
let nats: NatsServer;
let orko: Machine;

const imports = `import { defineConfig } from "vibe-cockpit";
import { caam } from ${JSON.stringify(join(repoRoot, "plugins/caam/index.ts"))};
import { dcg } from ${JSON.stringify(join(repoRoot, "plugins/dcg/index.ts"))};`;

beforeAll(async () => {
  nats = await startNats({ users: [HUB, nodeUser("orko")] });
  await createStream(nats);
  orko = makeMachine(dir, "orko");
});
afterAll(async () => {
  await nats?.stop();
});

describe("vc node and the hub on the command line", () => {
  test("node --once publishes; the hub commits; machines list and doctor say how it stands", async () => {
    const nodeCfg = join(dir, "node.config.ts");
    writeFileSync(
      nodeCfg,
      `${imports}
export default defineConfig({
  data_dir: ${JSON.stringify(join(dir, "node-data"))},
  machines: [{ id: "orko", ssh: "local" }],
  collectors: [dcg(), caam()],
  node: { machine: "orko", nats: { servers: [${JSON.stringify(nats.url)}], user: "node-orko", password: "orko-secret" } },
});
`,
    );
    const hubDir = join(dir, "hub");
    mkdirSync(hubDir, { recursive: true });
    const hubCfg = join(hubDir, "vc.config.ts");
    writeFileSync(
      hubCfg,
      `${imports}
export default defineConfig({
  db: ${JSON.stringify(join(hubDir, "vc.duckdb"))},
  data_dir: ${JSON.stringify(hubDir)},
  polling: { interval_seconds: 3600 },
  machines: [{ id: "orko", ssh: "push" }],
  collectors: [dcg(), caam()],
  ingest: { nats: { servers: [${JSON.stringify(nats.url)}], user: "hub", password: "hub-secret", stream: { max_age_hours: 24 } }, durable: "hub-cli" },
});
`,
    );
    const nodeEnv = { ...isolatedEnv(join(dir, "node-env")), HOME: orko.home, PATH: `${orko.env.PATH}:${process.env.PATH}` };
    orko.denies(5, new Date());
    const once = await cli(["node", "--once", "--config", nodeCfg, "--json"], { env: nodeEnv });
    expect({ code: once.code, stderr: once.stderr }).toEqual({ code: 0, stderr: "" });
    const report = JSON.parse(once.stdout);
    // The fallback probe runs on a node as on a hub: three collectors, every run acknowledged.
    expect(report.runs.map((r: { collector: string; sent: string }) => [r.collector, r.sent])).toEqual([
      ["sysprobe", "acked"],
      ["dcg", "acked"],
      ["caam", "acked"],
    ]);

    // On the node, doctor says whether its server takes it.
    const nodeDoctor = JSON.parse((await cli(["doctor", "--json", "--config", nodeCfg], { env: nodeEnv })).stdout);
    expect(nodeDoctor.checks.find((c: { check: string }) => c.check === "node: nats")).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^connected to 127\.0\.0\.1:\d+ \(max message 1048576 bytes\); stream VC_BATCHES holds 3 message\(s\)$/),
    });

    const env = isolatedEnv(hubDir);
    const up = await startUp(["--config", hubCfg], { env, socket: join(hubDir, "vc.sock") });
    try {
      let rows = 0;
      for (const until = Date.now() + 30_000; rows < 5 && Date.now() < until; await Bun.sleep(200)) {
        const q = await cli(["query", "SELECT count(*) AS n FROM dcg_events", "--config", hubCfg, "--json"], { env });
        rows = q.code === 0 ? Number(JSON.parse(q.stdout)[0].n) : 0;
      }
      expect(rows).toBe(5);
      const list = JSON.parse((await cli(["machines", "list", "--config", hubCfg, "--json"], { env })).stdout);
      expect(list.map((m: { id: string; ssh: string; mode: string }) => [m.id, m.ssh, m.mode])).toEqual([["orko", "push", "pushed"]]);
      const doctor = JSON.parse((await cli(["doctor", "--json", "--config", hubCfg], { env })).stdout);
      const check = (name: string) => doctor.checks.find((c: { check: string }) => c.check === name)?.detail as string;
      expect(check("nats")).toMatch(/^connected to 127\.0\.0\.1:\d+/);
      expect(check("nats stream")).toMatch(/^VC_BATCHES: 3 message\(s\), \d+ bytes; keeps 24 h, at most 1073741824 bytes$/);
      expect(check("nats consumer")).toBe("hub-cli: 0 batch(es) behind, 0 being committed, 0 redelivered");
      expect(check("machine orko")).toMatch(/^pushed: last batch committed \S+Z \(3 so far\)$/);
    } finally {
      up.kill("SIGTERM");
      await up.exited;
    }

    // The server down: the runs wait in the spool, and cron hears of it (exit 1).
    await nats.stop();
    try {
      orko.denies(1, new Date());
      const down = await cli(["node", "--once", "--config", nodeCfg], { env: nodeEnv });
      if (down.code !== 1) throw new Error(`exit ${down.code}: ${down.stderr}`);
      expect(down.stderr).toContain("NATS at");
      expect(down.stderr).toMatch(/node orko · 3 runs, \d+ rows \(0 acked, 3 spooled, 0 failed\) · drained 0 · spool 3 · not sent: /);
    } finally {
      await nats.start();
    }
    const back = await cli(["node", "--once", "--config", nodeCfg, "--json"], { env: nodeEnv });
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ drained: 3, spooled: 0 });
  });
});
