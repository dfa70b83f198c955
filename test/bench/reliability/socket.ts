// The reliability sweep's socket and query part, against a real `vc up` process: the query guard
// corpus directly (the store opened read-only by `vc query`) and through the daemon (which holds
// it read-write) with the store's bytes compared before and after; then socket abuse — raw junk,
// oversized bodies, half-open connections, a flood — with the daemon's RSS and its answers after.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isolatedEnv, vc, vcSpawn } from "../../helpers/cli.ts";
import { printFigures, type Figure } from "./_figure.ts";

export type { Figure };

/** Statements `vc query` must refuse or answer without changing anything or touching a file. */
export const QUERY_CORPUS = [
  "DELETE FROM sys_samples",
  "UPDATE sys_samples SET load1 = 0",
  "INSERT INTO machines (machine_id) VALUES ('x')",
  "DROP TABLE sys_samples",
  "CREATE TABLE t AS SELECT 1",
  "ALTER TABLE sys_samples ADD COLUMN x INT",
  "TRUNCATE sys_samples",
  "CHECKPOINT",
  "FORCE CHECKPOINT",
  "VACUUM",
  "ATTACH '/tmp/vc-evil.duckdb' AS e",
  "DETACH DATABASE memory",
  "COPY sys_samples TO '/tmp/vc-evil.csv'",
  "EXPORT DATABASE '/tmp/vc-evil-dir'",
  "INSTALL httpfs",
  "LOAD httpfs",
  "SET enable_external_access = true",
  "PRAGMA enable_profiling",
  "CALL checkpoint()",
  "SELECT * FROM checkpoint()",
  "SELECT * FROM force_checkpoint()",
  "SELECT 1 WHERE 1 IN (SELECT count(*) FROM checkpoint())",
  "SELECT * FROM query('SELECT * FROM checkpoint()')",
  "SELECT * FROM read_text('/etc/passwd')",
  "SELECT * FROM read_csv('/etc/passwd')",
  "SELECT * FROM read_json_auto('/etc/hostname')",
  "SELECT * FROM glob('/etc/*')",
  "SELECT * FROM 'sys_samples.parquet'",
  "EXPLAIN ANALYZE DELETE FROM sys_samples",
  "explain analyse UPDATE sys_samples SET load1 = 0",
  "EXPLAIN /* x */ ANALYZE DROP TABLE sys_samples",
  "EXPLAIN (FORMAT json) CREATE TABLE t2 AS SELECT 1",
  "EXPLAIN ANALYZE SELECT * FROM checkpoint()",
  "SELECT 1; DELETE FROM sys_samples",
  "BEGIN; DELETE FROM sys_samples; COMMIT",
  "/* */ DELETE FROM sys_samples",
  "WITH x AS (DELETE FROM sys_samples RETURNING *) SELECT * FROM x",
  "CREATE MACRO m() AS 1",
  "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
  "SELECT setseed(0.5)",
];

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

export async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), "vc-rel-socket-"));
  mkdirSync(join(dir, "home"));
  const env = isolatedEnv(dir);
  const db = join(dir, "vc.duckdb");
  const config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
import { sysprobe } from "vibe-cockpit/plugins";
export default defineConfig({ db: ${JSON.stringify(db)}, polling: { interval_seconds: 3600 }, machines: [{ id: "here", ssh: "local" }], collectors: [sysprobe({ cpuSampleMs: 20 })] });
`,
  );
  const figures: Figure[] = [];
  try {
    if ((await vc(["collect", "--once", "--config", config], { env })).code !== 0) throw new Error("the first cycle failed");
    const count = async () =>
      JSON.parse((await vc(["query", "select count(*)::INT as n from sys_samples", "--format", "json", "--config", config], { env })).stdout)[0].n as number;
    const rows = await count();

    // Directly: no daemon, `vc query` opens the store read-only.
    const before = sha(db);
    let directAnswered = 0;
    let directFiles = 0;
    for (const q of QUERY_CORPUS) {
      const r = await vc(["query", q, "--format", "json", "--config", config], { env });
      if (r.code === 0) directAnswered += /^SELECT setseed/.test(q) ? 0 : 1;
      if (r.stdout.includes("root:")) directFiles++;
    }
    figures.push({ name: "query corpus directly: statements answered that should not be", value: directAnswered, target: "0", ok: directAnswered === 0 });
    figures.push({ name: "query corpus directly: file contents returned", value: directFiles, target: "0", ok: directFiles === 0 });
    figures.push({ name: "query corpus directly: store bytes changed (0/1)", value: sha(db) === before ? 0 : 1, target: "0", ok: sha(db) === before });
    const rowsAfter = await count();
    figures.push({ name: "query corpus directly: rows changed", value: Math.abs(rowsAfter - rows), target: "0", ok: rowsAfter === rows });

    // Through the daemon, which holds the store read-write.
    const up = vcSpawn(["up", "--config", config], { env });
    const sock = join(dir, "vc.sock");
    try {
      for (
        let i = 0;
        i < 200 &&
        !(await fetch("http://vc/v1/info", { unix: sock } as RequestInit).then(
          (r) => r.ok,
          () => false,
        ));
        i++
      )
        await Bun.sleep(100);
      // A cycle run by the daemon now and waited for: nothing else writes for the next hour.
      await (await fetch("http://vc/v1/collect", { unix: sock, method: "POST", body: JSON.stringify({ force: true }) } as RequestInit)).text();
      const rowsHeld = await count();
      const held = sha(db);
      let answered = 0;
      let files = 0;
      for (const q of QUERY_CORPUS) {
        const res = await fetch("http://vc/v1/query", { unix: sock, method: "POST", body: JSON.stringify({ sql: q }) } as RequestInit);
        const text = await res.text();
        if (res.ok && !/^SELECT setseed/.test(q)) answered++;
        if (text.includes("root:")) files++;
      }
      const after = await count();
      figures.push({ name: "query corpus through the daemon: statements answered that should not be", value: answered, target: "0", ok: answered === 0 });
      figures.push({ name: "query corpus through the daemon: file contents returned", value: files, target: "0", ok: files === 0 });
      figures.push({ name: "query corpus through the daemon: rows changed", value: Math.abs(after - rowsHeld), target: "0", ok: after === rowsHeld });
      figures.push({ name: "query corpus through the daemon: store bytes changed (0/1)", value: sha(db) === held ? 0 : 1, target: "0", ok: sha(db) === held });

      // Socket abuse.
      const rss0 = rssMb(up.pid);
      // 200 connections at once, each sending junk bytes instead of HTTP; each closed by us after 2 s at most.
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const junk = Buffer.from(Array.from({ length: 1 + ((i * 7919) % 2000) }, (_, j) => (i * 31 + j * 17) % 256));
          return new Promise<void>((resolve) => {
            const s = connect(sock);
            const done = () => (s.destroy(), resolve());
            s.on("error", done);
            s.on("close", done);
            s.on("connect", () => s.end(junk));
            setTimeout(done, 2000);
          });
        }),
      );
      const aliveAfterJunk = await fetch("http://vc/v1/info", { unix: sock } as RequestInit).then(
        (r) => r.ok,
        () => false,
      );
      const big = "x".repeat(20 * 1024 * 1024);
      const oversized = await Promise.all(
        Array.from({ length: 8 }, () =>
          fetch("http://vc/v1/query", { unix: sock, method: "POST", body: JSON.stringify({ sql: big }) } as RequestInit).then(
            (r) => r.status,
            () => 0,
          ),
        ),
      );
      const halfOpen = Array.from({ length: 100 }, () => {
        const s = connect(sock);
        s.on("error", () => {});
        s.on("connect", () => s.write("POST /v1/query HTTP/1.1\r\nHost: vc\r\nContent-Length: 1000\r\n\r\n{"));
        return s;
      });
      await Bun.sleep(500);
      const aliveWithHalfOpen = await fetch("http://vc/v1/info", { unix: sock } as RequestInit).then(
        (r) => r.ok,
        () => false,
      );
      for (const s of halfOpen) s.destroy();
      const flood = await Promise.all(
        Array.from({ length: 5000 }, () =>
          fetch("http://vc/v1/views/alerts", { unix: sock } as RequestInit).then(
            (r) => r.status,
            () => 0,
          ),
        ),
      );
      const rss1 = rssMb(up.pid);
      const alive = await fetch("http://vc/v1/views/health", { unix: sock } as RequestInit).then(
        (r) => r.ok,
        () => false,
      );
      figures.push({ name: "socket: answers after 200 junk connections (0/1)", value: aliveAfterJunk ? 1 : 0, target: "1", ok: aliveAfterJunk });
      figures.push({
        name: "socket: 8 concurrent 20 MB bodies answered 413",
        value: oversized.filter((s) => s === 413).length,
        target: "8",
        ok: oversized.every((s) => s === 413),
      });
      figures.push({ name: "socket: answers with 100 half-open connections held (0/1)", value: aliveWithHalfOpen ? 1 : 0, target: "1", ok: aliveWithHalfOpen });
      figures.push({
        name: "socket: flood of 5000 requests answered 200 or 503",
        value: flood.filter((s) => s === 200 || s === 503).length,
        target: "5000",
        ok: flood.every((s) => s === 200 || s === 503),
      });
      figures.push({ name: "socket: RSS growth over the abuse, MB", value: Math.round(rss1 - rss0), target: "<= 100", ok: rss1 - rss0 <= 100 });
      figures.push({ name: "socket: daemon answers after the abuse (0/1)", value: alive ? 1 : 0, target: "1", ok: alive });
    } finally {
      up.kill("SIGTERM");
      await up.exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync("/tmp/vc-evil.csv", { force: true });
  }
  return figures;
}

if (import.meta.main) printFigures(await run());
