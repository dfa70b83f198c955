import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, defineCollector, openCockpit, resolveConfig, type VcConfigInput } from "../../lib/index.ts";
import { sysprobe } from "../../plugins/sysprobe/index.ts";
import { isolatedEnv, vc } from "../helpers/cli.ts";
import { startSshd, type Sshd } from "../helpers/sshd.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000); // real sshds, real processes

const dir = tempDir("vc-remote-");
let a: Sshd;
let b: Sshd;
let n = 0;

beforeAll(async () => {
  [a, b] = await Promise.all([startSshd(), startSshd()]);
});
afterAll(async () => {
  await Promise.all([a.stop(), b.stop()]);
});

const remote = (s: Sshd, id: string, extra: Record<string, unknown> = {}) => ({
  id,
  ssh: `${s.user}@127.0.0.1:${s.port}`,
  known_hosts: [s.knownHosts],
  identity_file: s.userKey,
  ...extra,
});

async function cockpit(input: VcConfigInput) {
  const d = join(dir, `c${n++}`);
  mkdirSync(d, { recursive: true });
  const env = { HOME: d, USER: "tester" }; // no ~/.ssh, no agent: only what the config says
  const config = await resolveConfig({ db: join(d, "vc.duckdb"), data_dir: d, ...input }, { source: "test", env });
  return openCockpit({ config, env, clock: createFixedClock("2026-01-25T03:00:00Z") });
}

describe("collection over SSH", () => {
  it("polls 20 machines with at most 8 in flight, one pooled connection each", async () => {
    let now = 0;
    let peak = 0;
    const active = new Map<string, number>();
    const probe = defineCollector({
      name: "busy",
      version: "1",
      schemaVersion: 1,
      async collect(ctx) {
        const id = ctx.machine.id;
        active.set(id, (active.get(id) ?? 0) + 1);
        if (active.get(id) === 1) peak = Math.max(peak, ++now);
        for (let i = 0; i < 3; i++) await ctx.exec.run(["sleep", "0.1"]);
        active.set(id, active.get(id)! - 1);
        if (active.get(id) === 0) now--;
        return { rows: {} };
      },
    });
    const machines = Array.from({ length: 20 }, (_, i) => remote(i % 2 ? a : b, `node-${i}`));
    await using vc = await cockpit({ polling: { max_machines_in_flight: 8 }, machines, collectors: [probe] });
    const report = await vc.collect();
    const runs = report.machines.flatMap((m) => m.runs);
    expect(runs.filter((r) => r.result === "ok")).toHaveLength(20);
    expect(peak).toBe(8);
  });

  it("collects the fallback probe remotely into the same rows as locally", async () => {
    await using vc = await cockpit({ machines: [{ id: "here", ssh: "local" }, remote(a, "there")], collectors: [sysprobe({ cpuSampleMs: 100 })] });
    const report = await vc.collect();
    expect(report.machines.map((m) => m.runs[0]!.result)).toEqual(["ok", "ok"]);
    const samples = await vc.store.query<Record<string, unknown>>(
      "select * exclude (collected_at, raw_json, load1, load5, load15, cpu_total, mem_used_bytes, mem_available_bytes, uptime_seconds, procs_running, procs_total) from sys_samples order by machine_id",
    );
    const [here, there] = [samples.find((s) => s.machine_id === "here")!, samples.find((s) => s.machine_id === "there")!];
    expect({ ...there, machine_id: "here" } as Record<string, unknown>).toEqual(here); // same box: same cores, memory, swap, versions
    const fs = async (id: string) => vc.store.query(`select mount, filesystem, fs_type, size_bytes from filesystems where machine_id = '${id}' order by mount`);
    expect(await fs("there")).toEqual(await fs("here"));
    const [loads] = await vc.store.query<{ n: number }>("select count(*)::INTEGER n from sys_samples where load5 is not null and mem_used_bytes > 0");
    expect(loads!.n).toBe(2);
  });

  it("marks only an unreachable machine's data stale; the others finish", async () => {
    const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const deadPort = s.port;
    s.stop(true);
    await using vc = await cockpit({
      polling: { connect_timeout_seconds: 2 },
      machines: [remote(a, "up-1"), remote(a, "down", { ssh: `nobody@127.0.0.1:${deadPort}` }), remote(b, "up-2")],
      collectors: [sysprobe({ cpuSampleMs: 50 })],
    });
    const report = await vc.collect();
    const by = Object.fromEntries(report.machines.map((m) => [m.machine, m]));
    expect(by["up-1"]!.runs[0]!.result).toBe("ok");
    expect(by["up-2"]!.runs[0]!.result).toBe("ok");
    expect(by.down!.reachable).toBe(false);
    expect(by.down!.runs[0]!.error).toContain(`cannot reach 127.0.0.1:${deadPort}`);
    const health = await vc.health();
    const h = Object.fromEntries(health.machines.map((m) => [m.id, m]));
    expect(h.down).toMatchObject({ top_issue: "no_data", severity: "critical" });
    expect(h["up-1"]!.top_issue).not.toBe("no_data");
  });

  it("trusts a new host key on first use only when the machine allows it, and audits it", async () => {
    const empty = join(dir, "empty_known_hosts");
    writeFileSync(empty, "");
    await using vc = await cockpit({
      machines: [remote(a, "tofu", { known_hosts: [empty], trust_on_first_use: true }), remote(b, "strict", { known_hosts: [empty] })],
      collectors: [sysprobe({ cpuSampleMs: 50 })],
    });
    const report = await vc.collect();
    const by = Object.fromEntries(report.machines.map((m) => [m.machine, m]));
    expect(by.tofu!.runs[0]!.result).toBe("ok");
    expect(by.strict!.reachable).toBe(false);
    expect(by.strict!.error).toContain(b.fingerprint);
    const audit = await vc.store.query<{ machine_id: string; details_json: string }>("select machine_id, details_json from audit_events where event_type = 'host_key_trusted'");
    expect(audit).toHaveLength(1);
    expect(audit[0]!.machine_id).toBe("tofu");
    expect(JSON.parse(audit[0]!.details_json)).toMatchObject({ fingerprint: a.fingerprint, port: a.port });
  });

  it("probes tools on a remote machine and skips a collector whose tool is missing there", async () => {
    const needs = defineCollector({ name: "needs-ghost", version: "1", schemaVersion: 1, requires: { commands: ["ghost-tool-xyz"] }, collect: async () => ({ rows: {} }) });
    const hasSh = defineCollector({
      name: "needs-sh",
      version: "1",
      schemaVersion: 1,
      requires: { commands: ["sh"] },
      collect: async (ctx) => ({ rows: { sys_samples: [{ load1: ctx.tools.sh?.available ? 1 : 0 }] } }),
    });
    await using vc = await cockpit({ machines: [remote(a, "r1")], collectors: [needs, hasSh] });
    const report = await vc.collect();
    const runs = Object.fromEntries(report.machines[0]!.runs.map((r) => [r.collector, r]));
    expect(runs["needs-ghost"]).toMatchObject({ result: "skipped", reason: "ghost-tool-xyz not found on r1's PATH" });
    expect(runs["needs-sh"]).toMatchObject({ result: "ok", rows: 1 });
    const caps = await vc.store.query("select tool_name, available from machine_tool_capabilities where machine_id = 'r1' order by tool_name");
    expect(caps).toEqual([
      { tool_name: "ghost-tool-xyz", available: false },
      { tool_name: "sh", available: true },
    ]);
  });
});

describe("vc machines and vc doctor over SSH", () => {
  it("list, probe and show report reachability, auth, host key, tools and last poll", async () => {
    const d = join(dir, "cli");
    mkdirSync(d, { recursive: true });
    const env = isolatedEnv(d, { VC_NOW: "2026-01-25T03:00:00Z", SSH_AUTH_SOCK: undefined });
    const empty = join(d, "empty_known_hosts");
    writeFileSync(empty, "");
    const cfg = join(d, "fleet.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig } from "vibe-cockpit";
import { sysprobe } from "vibe-cockpit/plugins";
export default defineConfig({
  db: ${JSON.stringify(join(d, "vc.duckdb"))},
  machines: [
    ${JSON.stringify(remote(a, "alpha", { tags: ["gpu"] }))},
    ${JSON.stringify(remote(b, "beta", { known_hosts: [empty] }))},
  ],
  collectors: [sysprobe({ cpuSampleMs: 50 })],
});
`,
    );
    const collect = await vc(["collect", "--config", cfg], { env });
    expect(collect.code).toBe(1); // beta refuses its unknown host key
    expect(collect.stdout).toMatch(/alpha\s+sysprobe\s+ok/);

    const probe = await vc(["machines", "probe", "--config", cfg, "--json"], { env });
    expect(probe.code).toBe(1);
    const probes = JSON.parse(probe.stdout);
    expect(probes[0]).toMatchObject({ id: "alpha", reachable: true, auth_method: `publickey ${a.userKey}`, host_key: { status: "match", fingerprint: a.fingerprint } });
    expect(probes[1]).toMatchObject({ id: "beta", reachable: false, host_key: { status: "unknown", fingerprint: b.fingerprint } });
    expect(probes[1].error).toContain("not in known_hosts");

    const text = await vc(["machines", "probe", "alpha", "--config", cfg], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`host key match ${a.fingerprint}`);

    const list = JSON.parse((await vc(["machines", "list", "--config", cfg, "--json"], { env })).stdout);
    expect(list.map((m: { id: string; last_ok_at: string | null }) => [m.id, m.last_ok_at])).toEqual([
      ["alpha", "2026-01-25T03:00:00.000Z"],
      ["beta", null],
    ]);

    const show = await vc(["machines", "show", "alpha", "--config", cfg], { env });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("last successful poll: 2026-01-25T03:00:00.000Z");
    expect(show.stdout).toContain("sysprobe");

    const unknown = await vc(["machines", "show", "gamma", "--config", cfg], { env });
    expect(unknown.stderr).toContain("known machines: alpha, beta");

    const doctor = await vc(["doctor", "--config", cfg], { env });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`machine alpha: reachable (publickey ${a.userKey}, host key match`);
    expect(doctor.stdout).toContain("machine beta: host key of");
  });
});
