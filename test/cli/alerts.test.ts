import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, repoRoot, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000); // real processes

describe("vc alerts, triage and health --at from the command line", () => {
  it("fires on a real cycle, then lists, acks, silences, explains, triages and time-travels", async () => {
    const dir = tempDir("vc-alerts-");
    mkdirSync(join(dir, "home"), { recursive: true });
    const env = isolatedEnv(dir, { VC_NOW: "2026-01-25T03:00:00Z" });
    const cfg = join(env.HOME!, "alerts.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig, defineRule, defineSource, gte, sql, threshold } from "vibe-cockpit";
import { alertsJsonl, sysprobe } from "vibe-cockpit/plugins";
const latest = defineSource({ name: "latest_sample", description: "each machine's sample at the instant",
  sql: (at) => sql\`SELECT machine_id, mem_total_bytes / 1e9 AS mem_gb FROM sys_samples WHERE collected_at = \${at}::TIMESTAMP\` });
export default defineConfig({
  db: "~/a.duckdb",
  machines: [{ id: "box", ssh: "local" }],
  collectors: [sysprobe({ cpuSampleMs: 50 })],
  rules: [defineRule({ id: "has_memory", severity: "medium", title: "Memory present", source: latest,
    when: gte("mem_gb", threshold("min_gb", 0)), labels: ["machine_id"], value: "mem_gb",
    message: "{machine_id} has {mem_gb} GB", actions: [{ title: "Look", command: "vc robot machine {machine_id}" }] })],
  channels: [alertsJsonl()],
});
`,
    );
    const c = await vc(["collect", "--config", cfg], { env });
    expect(c.code).toBe(0);
    const lines = readFileSync(join(env.HOME!, "a.alerts.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.event, l.rule, l.machine_id])).toEqual([["firing", "has_memory", "box"]]);
    const id = lines[0].alert_id as string;

    const list = JSON.parse((await vc(["alerts", "list", "--config", cfg, "--json"], { env })).stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ alert_id: id, state: "firing", severity: "medium", acked: null });
    const text = await vc(["alerts", "list", "--config", cfg], { env });
    expect(text.stdout).toContain(id);

    const ack = await vc(["alerts", "ack", id.slice(0, 16), "--config", cfg, "--note", "looking", "--by", "jeff"], { env });
    expect(ack.code).toBe(0);
    expect(ack.stdout).toContain(`acked ${id}`);
    const sil = await vc(["alerts", "silence", "--config", cfg, "--rule", "has_memory", "--for", "2h", "--comment", "known"], { env });
    expect(sil.stdout).toContain("matches 1 active alert(s)");
    const after = JSON.parse((await vc(["alerts", "list", "--config", cfg, "--json"], { env })).stdout);
    expect(after[0].acked).toMatchObject({ by: "jeff", note: "looking" });
    expect(after[0].silenced_by).toMatch(/^silence-/);

    const explain = await vc(["alerts", "explain", id, "--config", cfg], { env });
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain("fires when  mem_gb >= 0");
    expect(explain.stdout).toContain("thresholds  min_gb=0");
    expect(explain.stdout).toContain("received    mem_gb = ");
    const x = JSON.parse((await vc(["alerts", "explain", id, "--config", cfg, "--json"], { env })).stdout);
    expect(x.history.map((h: { event: string }) => h.event).sort()).toEqual(["acked", "firing"]); // one pinned instant: same ts
    expect((await vc(["alerts", "explain", "nope", "--config", cfg], { env })).stderr).toContain('no alert "nope"');
    expect((await vc(["alerts", "silence", "--config", cfg, "--rule", "x"], { env })).stderr).toContain("needs an end");

    const triage = JSON.parse((await vc(["robot", "triage", "--config", cfg], { env })).stdout);
    expect(triage.schema_version).toBe("vc.robot.triage.v1");
    // (The machine's own health factors may rank beside it: this is the real machine, under load.)
    expect(triage.data.items.find((i: { id: string }) => i.id === id)).toMatchObject({ kind: "alert", id, acked: true, silenced: true });
    expect(triage.data.suggestions[id]).toEqual([{ title: "Look", command: "vc robot machine box" }]);
    const toon = await vc(["robot", "triage", "--config", cfg, "--format", "toon"], { env });
    expect(toon.stdout).toStartWith("schema_version: vc.robot.triage.v1");

    // a second cycle later: the snapshot at the first instant still answers for then
    const later = { ...env, VC_NOW: "2026-01-25T04:00:00Z" };
    expect((await vc(["collect", "--config", cfg], { env: later })).code).toBe(0);
    const then = JSON.parse((await vc(["robot", "health", "--config", cfg, "--at", "2026-01-25T03:30:00Z"], { env: later })).stdout);
    expect(then.data.snapshot_at).toBe("2026-01-25T03:00:00.000Z");
    expect(then.data.firing).toEqual([{ alert_id: id, rule: "has_memory", machine_id: "box", severity: "medium" }]);
    const before = await vc(["robot", "health", "--config", cfg, "--at", "2026-01-24T00:00:00Z"], { env: later });
    expect(JSON.parse(before.stdout).error.code).toBe("not_found");
  });

  it("the example script answers the same questions through the library", async () => {
    const dir = tempDir("vc-example-");
    mkdirSync(join(dir, "home"), { recursive: true });
    const env = isolatedEnv(dir, { VC_NOW: "2026-01-25T03:00:00Z" });
    expect((await vc(["init"], { env })).code).toBe(0); // a user's config in ~/.config/vc, as a script finds it
    expect((await vc(["collect"], { env })).code).toBe(0);
    const p = Bun.spawn(["bun", join(repoRoot, "examples/fleet-report.ts")], { env, cwd: env.HOME, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(/^fleet (ok|low|medium|high|critical) \(score [\d.]+\)/);
    expect(out).toContain("active alert(s)");
  });
});
