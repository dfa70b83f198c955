import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { hostname } from "node:os";
import { openStore } from "../../lib/index.ts";
import { isolatedEnv, repoRoot, vc, vcSpawn } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000); // these tests start real processes

const dir = tempDir("vc-cli-");
let n = 0;
function fresh(extra: Record<string, string> = {}) {
  const d = join(dir, `case${n++}`);
  mkdirSync(d, { recursive: true });
  return { dir: d, env: isolatedEnv(d, extra) };
}
const ANSI = /\x1b\[/;
const localId =
  hostname()
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "") || "local";

describe("vc --help", () => {
  it("helps on every command", async () => {
    const { env } = fresh();
    const top = await vc(["--help"], { env });
    expect(top.code).toBe(0);
    for (const c of ["init", "up", "collect", "robot", "query", "doctor"]) expect(top.stdout).toContain(c);
    for (const [args, flag] of [
      [["collect"], "--machine"],
      [["query"], "--format"],
      [["robot", "health"], "--db"],
      [["robot", "machine"], "ID"],
      [["up"], "--interval"],
      [["init"], "--path"],
      [["doctor"], "--json"],
    ] as const) {
      const r = await vc([...args, "--help"], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(flag);
    }
  });
});

describe("the first-run path", () => {
  it("init writes a starter config and never overwrites it; the config loads with no node_modules", async () => {
    const { env } = fresh();
    const file = join(env.XDG_CONFIG_HOME!, "vc", "vc.config.ts");
    const r = await vc(["init"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(file);
    const text = readFileSync(file, "utf8");
    expect(text).toContain('from "vibe-cockpit"');
    writeFileSync(file, text.replace("interval_seconds: 120", "interval_seconds: 60"));
    const again = await vc(["init"], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
    expect(readFileSync(file, "utf8")).toContain("interval_seconds: 60");
    const doctor = await vc(["doctor", "--json"], { env });
    expect(doctor.code).toBe(0);
    const report = JSON.parse(doctor.stdout);
    expect(report.checks[0].detail).toContain(file);
  });

  it("collect --once then robot health: a valid envelope with this machine scored", async () => {
    const { env } = fresh();
    const c = await vc(["collect", "--once"], { env });
    expect(c.code).toBe(0);
    expect(c.stdout).toContain("sysprobe");
    expect(c.stdout).toContain("ok");
    const h = await vc(["robot", "health"], { env });
    expect(h.code).toBe(0);
    expect(h.stdout + h.stderr).not.toMatch(ANSI);
    const env1 = JSON.parse(h.stdout);
    expect(env1.schema_version).toBe("vc.robot.health.v1");
    expect(Date.parse(env1.generated_at)).toBeGreaterThan(0);
    expect(env1.data.overall.score).toBeGreaterThan(0);
    expect(["ok", "low", "medium", "high", "critical"]).toContain(env1.data.overall.severity);
    expect(env1.data.machines).toHaveLength(1);
    expect(env1.data.machines[0].id).toBe(localId);
    expect(typeof env1.data.machines[0].score).toBe("number");
    expect(env1.staleness.sysprobe).toBeGreaterThanOrEqual(0);
    expect(env1.warnings).toEqual([]);
    const m = await vc(["robot", "machine", localId], { env });
    expect(m.code).toBe(0);
    const mv = JSON.parse(m.stdout);
    expect(mv.schema_version).toBe("vc.robot.machine.v1");
    expect(mv.data.system.mem_total_bytes).toBeGreaterThan(0);
    expect(mv.data.filesystems.some((f: { mount: string }) => f.mount === "/")).toBe(true);
    expect(mv.data.collectors.find((c: { collector: string }) => c.collector === "sysprobe")).toMatchObject({ collector: "sysprobe", last_result: "ok" });
    expect(existsSync(join(env.XDG_DATA_HOME!, "vc", "vc.duckdb"))).toBe(true);
  });

  it("pins every timestamp to $VC_NOW", async () => {
    const { env } = fresh({ VC_NOW: "2026-01-25T03:00:00Z" });
    expect((await vc(["collect", "--once"], { env })).code).toBe(0);
    const q = await vc(["query", "select collected_at from sys_samples", "--format", "json"], { env });
    expect(JSON.parse(q.stdout)).toEqual([{ collected_at: "2026-01-25T03:00:00.000Z" }]);
    const h = JSON.parse((await vc(["robot", "health"], { env })).stdout);
    expect(h.generated_at).toBe("2026-01-25T03:00:00.000Z");
    expect(h.staleness.sysprobe).toBe(0);
    // an hour later the same data is stale, and says so
    const later = JSON.parse((await vc(["robot", "health"], { env: { ...env, VC_NOW: "2026-01-25T04:00:00Z" } })).stdout);
    expect(later.data.machines[0].top_issue).toBe("stale_data");
    expect(later.data.machines[0].severity).not.toBe("ok");
    expect(later.staleness.sysprobe).toBe(3600);
    const bad = await vc(["robot", "health"], { env: { ...env, VC_NOW: "yesterday" } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("$VC_NOW");
  });

  it("a machine with no data is not healthy", async () => {
    const { env } = fresh();
    expect((await vc(["collect", "--once", "--collector", "sysprobe"], { env })).code).toBe(0);
    const cfg = join(env.HOME!, "two.config.ts");
    writeFileSync(
      cfg,
      `import { defineConfig } from "vibe-cockpit";\nexport default defineConfig({ machines: [{ id: "${localId}", ssh: "local" }, { id: "never-polled", ssh: "local" }] });\n`,
    );
    const h = JSON.parse((await vc(["robot", "health", "--config", cfg], { env })).stdout);
    const never = h.data.machines.find((m: { id: string }) => m.id === "never-polled");
    expect(never).toMatchObject({ score: 0, severity: "critical", top_issue: "no_data" });
    expect(h.data.overall.severity).toBe("critical");
  });
});

describe("vc robot search", () => {
  it("asks cass on the local machine and answers an envelope; bad input names the flag", async () => {
    const d = join(dir, `case${n++}`);
    mkdirSync(join(d, "bin"), { recursive: true });
    const fixture = join(repoRoot, "test/fixtures/cass/search.json");
    writeFileSync(
      join(d, "bin/cass"),
      `#!/bin/sh\nif [ "$1" = search ]; then echo "$@" >> ${JSON.stringify(join(d, "calls"))}; cat ${JSON.stringify(fixture)}; exit 0; fi\nexit 64\n`,
      { mode: 0o755 },
    );
    const env = isolatedEnv(d, { PATH: `${join(d, "bin")}:${process.env.PATH}` });
    expect((await vc(["collect", "--once", "--collector", "sysprobe"], { env })).code).toBe(0);
    const r = await vc(["robot", "search", "flock", "--limit", "2"], { env });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.schema_version).toBe("vc.robot.search.v1");
    expect(out.data.machines).toEqual([localId]);
    expect(out.data.hits.map((h: { title: string; machine_id: string }) => [h.title, h.machine_id])).toEqual([
      ["Fix rch worker lock contention", localId],
      ["Add TUI pane for caut usage", localId],
    ]);
    expect(out.warnings).toEqual([]);
    expect(readFileSync(join(d, "calls"), "utf8").trim()).toBe("search --json --limit 2 -- flock");
    for (const [args, text] of [
      [["robot", "search", " "], "query: empty"],
      [["robot", "search", "x", "--limit", "abc"], '--limit: "abc" is not a whole number'],
      [["robot", "search", "x", "--limit", "500"], '--limit: "500" is not a whole number from 1 to 200'],
      [["robot", "search", "x", "--machine", "nope"], 'no machine "nope"'],
    ] as const) {
      const bad = await vc([...args], { env });
      expect(bad.code).not.toBe(0);
      expect(JSON.parse(bad.stdout).error.message).toContain(text);
    }
  });
});

describe("custom plugins", () => {
  it("runs a plugin declared in a config, with a table of its own", async () => {
    const { env } = fresh({ VC_NOW: "2026-01-25T03:00:00Z" });
    const cfg = join(repoRoot, "examples/custom-plugin/vc.config.ts");
    const c = await vc(["collect", "--once", "--config", cfg], { env });
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/uptime\s+ok\s+1/);
    const q = await vc(["query", "--config", cfg, "select machine_id, collected_at, load5 >= 0 AS ok from uptime_samples", "--format", "json"], { env });
    expect(JSON.parse(q.stdout)).toEqual([{ machine_id: "local", collected_at: "2026-01-25T03:00:00.000Z", ok: true }]);
  });
});

describe("vc query", () => {
  it("answers a SELECT as table, json and csv, and refuses writes", async () => {
    const { env } = fresh({ VC_NOW: "2026-01-25T03:00:00Z" });
    await vc(["collect", "--once"], { env });
    const t = await vc(["query", "select machine_id, source from sys_samples"], { env });
    expect(t.code).toBe(0);
    expect(t.stdout).toContain("machine_id");
    expect(t.stdout).toContain("(1 row)");
    const csv = await vc(["query", "select source, 1 as n from sys_samples", "--format", "csv"], { env });
    expect(csv.stdout).toBe("source,n\nsysprobe,1\n");
    for (const sql of [
      "DELETE FROM sys_samples",
      "DROP TABLE machines",
      "INSERT INTO machines SELECT * FROM machines",
      "ATTACH '/tmp/x.db'",
      "COPY sys_samples TO '/tmp/x.csv'",
      "INSTALL httpfs",
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT 1; DROP TABLE machines",
      "PRAGMA enable_profiling",
      "CREATE TABLE x(a INT)",
      "UPDATE machines SET ssh_target = 'x'",
    ]) {
      const r = await vc(["query", sql], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/read-only|refused|one statement/);
      expect(r.stdout).toBe("");
    }
    const after = await vc(["query", "select count(*) AS n from sys_samples", "--format", "json"], { env });
    expect(JSON.parse(after.stdout)).toEqual([{ n: 1 }]);
  });
});

describe("bad input", () => {
  it("names the missing config file", async () => {
    const { env, dir: d } = fresh();
    const r = await vc(["doctor", "--config", join(d, "nope.ts")], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(d, "nope.ts"));
    const viaEnv = await vc(["doctor"], { env: { ...env, VC_CONFIG: join(d, "gone.ts") } });
    expect(viaEnv.stderr).toContain("gone.ts");
    expect(viaEnv.stderr).toContain("$VC_CONFIG");
  });

  it("names the file and the field of an invalid config", async () => {
    const { env } = fresh();
    const cfg = join(env.HOME!, "bad.config.ts");
    writeFileSync(cfg, `import { defineConfig } from "vibe-cockpit";\nexport default defineConfig({ machines: [{ id: "a", ssh: "local", tags: "gpu" }] });\n`);
    const r = await vc(["collect", "--config", cfg], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(cfg);
    expect(r.stderr).toContain("machines[0].tags");
    expect(r.stderr).not.toContain("    at "); // one readable line, no stack
  });

  it("lists the known machines and collectors for an unknown one", async () => {
    const { env } = fresh();
    const m = await vc(["collect", "--machine", "nope"], { env });
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(`known machines: ${localId}`);
    const c = await vc(["collect", "--collector", "nope"], { env });
    expect(c.stderr).toContain("known collectors: sysprobe");
    const r = await vc(["robot", "machine", "nope"], { env });
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: "unknown_machine", hint: `known machines: ${localId}` });
  });

  it("refuses a store that is not DuckDB and leaves it untouched", async () => {
    const { env, dir: d } = fresh();
    const path = join(d, "precious.db");
    writeFileSync(path, "my precious notes\n");
    for (const args of [
      ["collect", "--db", path],
      ["robot", "health", "--db", path],
      ["query", "select 1", "--db", path],
    ]) {
      const r = await vc(args, { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${path} is not a DuckDB database`);
    }
    const viaEnv = await vc(["collect"], { env: { ...env, VC_DB: path } });
    expect(viaEnv.stderr).toContain(path);
    expect(readFileSync(path, "utf8")).toBe("my precious notes\n");
    expect(existsSync(`${path}.wal`)).toBe(false);
  });

  it("stops startup when an applied migration no longer matches its file, naming it", async () => {
    const { env, dir: d } = fresh();
    const db = join(d, "m.duckdb");
    expect((await vc(["collect", "--db", db], { env })).code).toBe(0);
    {
      await using store = await openStore({ path: db });
      await store.run("UPDATE schema_migrations SET checksum = 'edited-elsewhere' WHERE version = 1");
    }
    for (const args of [
      ["collect", "--db", db],
      ["robot", "health", "--db", db],
    ]) {
      const r = await vc(args, { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("migration 001_core.sql was changed after it was applied");
    }
  });
});

describe("one writer", () => {
  it("answers robot, alerts, query, collect and doctor through the daemon; stops cleanly", async () => {
    const { env } = fresh();
    const db = join(env.XDG_DATA_HOME!, "vc", "vc.duckdb");
    const daemon = vcSpawn(["up", "--interval", "1"], { env });
    const lock = `${db}.daemon.json`;
    const socket = join(env.XDG_DATA_HOME!, "vc", "vc.sock");
    for (let i = 0; i < 200 && !(existsSync(lock) && existsSync(socket)); i++) await Bun.sleep(50);
    expect(existsSync(socket)).toBe(true);
    for (let i = 0; i < 100; i++) {
      const r = await vc(["robot", "health"], { env });
      if (r.code === 0 && JSON.parse(r.stdout).data.machines[0].top_issue !== "no_data") break;
      await Bun.sleep(200);
    }
    const health = await vc(["robot", "health"], { env });
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout).data.machines[0].id).toBe(localId);
    const q = await vc(["query", "select count(*) > 0 AS some from sys_samples", "--format", "json"], { env });
    expect(JSON.parse(q.stdout)).toEqual([{ some: true }]);
    const refused = await vc(["query", "drop table machines"], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("read-only");
    expect((await vc(["alerts", "list"], { env })).code).toBe(0);
    // Commands that write (a cycle, doctor's probes) run in the daemon: nothing is refused.
    for (const args of [
      ["collect", "--json"],
      ["doctor", "--json"],
    ]) {
      const r = await vc(args, { env });
      expect({ args, stderr: r.stderr }).toEqual({ args, stderr: "" });
      expect(JSON.parse(r.stdout)).toBeTruthy();
    }
    daemon.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
    const err = await new Response(daemon.stderr).text();
    expect(err).toContain("stopped; store closed cleanly");
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(socket)).toBe(false);
    expect((await vc(["robot", "health"], { env })).code).toBe(0);
  });

  it("loses no committed row and duplicates none when killed with SIGKILL mid-poll", async () => {
    const { env } = fresh();
    const lines = 200;
    const start = Date.UTC(2026, 0, 25);
    writeFileSync(join(env.HOME!, "events.jsonl"), Array.from({ length: lines }, (_, i) => `${JSON.stringify({ ts: new Date(start + i * 1000).toISOString(), n: i })}\n`).join(""));
    const config = (name: string, maxRows: number, dawdleMs: number) => {
      const file = join(env.HOME!, name);
      writeFileSync(
        file,
        `import { defineConfig } from "vibe-cockpit";
import { tail } from ${JSON.stringify(join(repoRoot, "test/fixtures/plugins/tail.ts"))};

export default defineConfig({
  db: "~/tail.duckdb",
  polling: { interval_seconds: 1, max_rows: ${maxRows} },
  machines: [{ id: "here", ssh: "local", collectors: ["tail"] }],
  collectors: [tail({ dawdleMs: ${dawdleMs} })],
});
`,
      );
      return file;
    };
    const cfg = config("tail.config.ts", 7, 300);
    const db = join(env.HOME!, "tail.duckdb");
    const daemon = vcSpawn(["up", "--config", cfg], { env });
    await Bun.sleep(3300);
    daemon.kill("SIGKILL");
    expect(await daemon.exited).not.toBe(0);

    const check = async () => {
      await using store = await openStore({ path: db });
      const rows = await store.query<{ n: number; d: number }>("select count(*)::INTEGER n, count(distinct load1)::INTEGER d from sys_samples where source = 'tail'");
      const cur = await store.query<{ v: string }>("select cursor_value v from ingestion_cursors where source = 'tail'");
      const offset = cur.length ? JSON.parse(cur[0]!.v).offset : 0;
      const text = readFileSync(join(env.HOME!, "events.jsonl"), "utf8");
      const covered = text.slice(0, offset).split("\n").length - 1;
      return { rows: rows[0]!.n, distinct: rows[0]!.d, covered };
    };
    const afterKill = await check();
    expect(afterKill.rows).toBeGreaterThan(0);
    expect(afterKill.rows).toBe(afterKill.covered); // the cursor moved exactly as far as the rows committed
    expect(afterKill.distinct).toBe(afterKill.rows);
    // restart: one run of 7 more lines, then one that reads the rest
    expect((await vc(["collect", "--once", "--config", cfg], { env })).code).toBe(0);
    expect((await check()).rows).toBe(afterKill.rows + 7);
    expect((await vc(["collect", "--once", "--config", config("rest.config.ts", 1000, 0)], { env })).code).toBe(0);
    const done = await check();
    expect(done).toEqual({ rows: lines, distinct: lines, covered: lines });
  }, 120_000);
});
