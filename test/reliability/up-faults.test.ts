// `vc up` against a tool that misbehaves the way real ones do: it leaves a daemonized grandchild
// holding its pipes, and prints terminal escapes on stderr. The daemon must keep cycling without
// leaking processes or descriptors, print nothing raw, and stop on SIGTERM.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, vc, vcSpawn } from "../helpers/cli.ts";
import { UNSAFE } from "../helpers/escapes.ts";
import { lineWaiter } from "../helpers/dcg-watch.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(90_000); // a real daemon over several cycles

/** Pids of running processes whose command line is exactly `argv`. */
function running(argv: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ").trim() === argv) out.push(Number(name));
    } catch {}
  }
  return out;
}

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe("vc up with a tool that daemonizes a grandchild and prints escapes", () => {
  it("keeps cycling without leaking processes or descriptors, prints the tool's stderr stripped, and stops on SIGTERM", async () => {
    const dir = tempDir("vc-upfault-");
    const env = isolatedEnv(dir);
    const marker = `sleep ${100_000 + Math.floor(Math.random() * 90_000)}`;
    const config = join(dir, "vc.config.ts");
    const script = `setsid ${marker} & printf 'bad\\033]0;pwned\\007\\033]52;c;cHduZWQ=\\007\\033[2J\\302\\233H\\342\\200\\256 end\\n' >&2; exit 1`;
    writeFileSync(
      config,
      `import { defineCollector, defineConfig } from "vibe-cockpit";
const leaky = defineCollector({
  name: "leaky", version: "1.0.0", schemaVersion: 1,
  async collect(ctx) {
    const r = await ctx.exec.run({ script: ${JSON.stringify(script)} }, { timeoutMs: 20_000 });
    throw new Error("leaky failed: " + r.stderr);
  },
});
export default defineConfig({ db: ${JSON.stringify(join(dir, "vc.duckdb"))}, machines: [{ id: "here", ssh: "local" }], collectors: [leaky] });
`,
    );
    const up = vcSpawn(["up", "--config", config, "--interval", "1"], { env });
    const err = lineWaiter(up.stderr as ReadableStream<Uint8Array>);
    try {
      await err.next((l) => l.includes("cycle 2 "));
      const early = fds(up.pid);
      await err.next((l) => l.includes("cycle 6 "));
      expect(running(marker)).toEqual([]);
      expect(fds(up.pid)).toBe(early);
      up.kill("SIGTERM");
      const killer = setTimeout(() => up.kill("SIGKILL"), 20_000);
      await up.exited;
      clearTimeout(killer);
      expect(up.signalCode).toBeNull();
      expect(up.exitCode).toBe(0);
      expect(running(marker)).toEqual([]);
      const text = err.lines.join("\n");
      expect(text).toContain("here/leaky: leaky failed: bad end");
      expect(text).not.toContain("pwned");
      expect(text).not.toMatch(UNSAFE);
    } finally {
      up.kill("SIGKILL");
      for (const pid of running(marker)) process.kill(pid, "SIGKILL");
    }
  });
});

describe("vc collect --once with a tool that daemonizes a grandchild", () => {
  it("prints its table and exits, leaving nothing running", async () => {
    const dir = tempDir("vc-collectfault-");
    const env = isolatedEnv(dir);
    const marker = `sleep ${100_000 + Math.floor(Math.random() * 90_000)}`;
    const config = join(dir, "vc.config.ts");
    writeFileSync(
      config,
      `import { defineCollector, defineConfig } from "vibe-cockpit";
const leaky = defineCollector({
  name: "leaky", version: "1.0.0", schemaVersion: 1,
  async collect(ctx) {
    await ctx.exec.run({ script: ${JSON.stringify(`setsid ${marker} & echo '{}'; exit 0`)} }, { timeoutMs: 60_000 });
    return { rows: {} };
  },
});
export default defineConfig({ db: ${JSON.stringify(join(dir, "vc.duckdb"))}, machines: [{ id: "here", ssh: "local" }], collectors: [leaky] });
`,
    );
    try {
      // Before the fix the command printed its table and then waited on the grandchild (for ever).
      const r = await vc(["collect", "--once", "--config", config, "--collector", "leaky"], { env, timeoutMs: 45_000 });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("leaky");
      expect(running(marker)).toEqual([]);
    } finally {
      for (const pid of running(marker)) process.kill(pid, "SIGKILL");
    }
  });
});

describe("vc up with alerts.jsonl planted as a symlink", () => {
  it("refuses to write through it, says so in its log, and leaves the target untouched", async () => {
    const dir = tempDir("vc-upsymlink-");
    const env = isolatedEnv(dir);
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(dir, "vc.alerts.jsonl"));
    const config = join(dir, "vc.config.ts");
    writeFileSync(
      config,
      `import { defineConfig, defineRule, defineSource, gt, sql, threshold } from "vibe-cockpit";
import { alertsJsonl } from "vibe-cockpit/plugins";
const always = defineSource({ name: "always", description: "one row", sql: () => sql\`SELECT 'here' AS machine_id, 1 AS n\` });
export default defineConfig({
  db: ${JSON.stringify(join(dir, "vc.duckdb"))},
  machines: [{ id: "here", ssh: "local" }],
  collectors: [],
  rules: [defineRule({ id: "always_on", severity: "high", title: "Always", source: always, when: gt("n", threshold("min", 0)), labels: ["machine_id"], value: "n", message: "{machine_id} is on" })],
  channels: [alertsJsonl()],
});
`,
    );
    const up = vcSpawn(["up", "--config", config, "--interval", "3600"], { env });
    const err = lineWaiter(up.stderr as ReadableStream<Uint8Array>);
    try {
      const line = await err.next((l) => l.includes("alert channel alerts.jsonl failed"));
      expect(line).toContain("is a symbolic link: vc refuses to write through it");
    } finally {
      up.kill("SIGTERM");
      await up.exited;
    }
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
  });
});
