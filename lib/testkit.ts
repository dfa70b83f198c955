// The collector contract suite, as a test kit for plugin authors ("vibe-cockpit/testkit").
// Runs under `bun test` only: it declares tests with bun:test.
import { afterAll, describe, expect, it } from "bun:test";
import { Database } from "bun:sqlite";
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createFixedClock, type Clock } from "./clock.ts";
import type { Collector, MachineInfo } from "./collect/define.ts";
import { ensureTools } from "./collect/probe.ts";
import { runCollector, type RunRecord } from "./collect/run.ts";
import { pluginMigrations } from "./cockpit.ts";
import { collectPlugins } from "./plugin/define.ts";
import { createLocalExecutor } from "./exec/local.ts";
import type { Executor } from "./exec/types.ts";
import { openStore, type Store } from "./store/store.ts";

/** A fake tool's answer to one argument string. */
export type FakeResponse = string | { stdout?: string; stderr?: string; exit?: number /** Sleep before answering. */; delaySeconds?: number };

/**
 * A fake tool on PATH: answers keyed by its arguments joined with spaces (`"usage --json"`);
 * a key ending in `*` matches by prefix. `--version` answers by default. Anything else exits 64.
 */
export type FakeTool = Record<string, FakeResponse>;

/** A file under the fake HOME: text or bytes, or a SQLite database built from SQL text. */
export type FakeFile = string | Uint8Array | { sqlite: string };

export interface FakeMachineOptions {
  id?: string;
  /** Files under HOME by relative path ("~/" optional). */
  home?: Record<string, FakeFile>;
  /** Tools on PATH by name. */
  tools?: Record<string, FakeTool>;
  /** Routes served over HTTP on 127.0.0.1 (`url(path)` gives the address). */
  http?: Record<string, string | { status?: number; body: string; contentType?: string }>;
  /** Per-machine path overrides, as in vc.config.ts (`<collector>.<key>`); `{http}` in a value becomes the `http` server's base URL. */
  paths?: Record<string, string>;
  /** Keep the system's PATH after the fake tools (default true); false hides every real tool. */
  systemPath?: boolean;
}

/** A machine made of a temp folder: HOME, fake tools on PATH, an optional loopback HTTP server. */
export interface FakeMachine {
  readonly dir: string;
  readonly home: string;
  readonly bin: string;
  readonly env: Record<string, string>;
  readonly info: MachineInfo;
  readonly exec: Executor;
  /** The loopback URL of an `http` route. */
  url(path: string): string;
  /** Each call of a tool, as its argument string. */
  calls(tool: string): string[];
  /** Writes (replaces) a file under HOME. */
  writeFile(path: string, content: FakeFile): void;
  appendFile(path: string, text: string): void;
  /** Moves a file aside (`path.1`) and starts a new one with `content`, as log rotation does. */
  rotateFile(path: string, content?: string): void;
  close(): void;
}

const rel = (p: string) => p.replace(/^~\//, "");
const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Builds a fake machine. Tests of a collector point its PATH and HOME here.
 * @example const m = createFakeMachine({ tools: { uptime: { "": uptimeOutput } } })
 */
export function createFakeMachine(o: FakeMachineOptions = {}): FakeMachine {
  const dir = mkdtempSync(join(tmpdir(), "vc-fake-"));
  const home = join(dir, "home");
  const bin = join(dir, "bin");
  const calls = join(dir, "calls");
  mkdirSync(home, { recursive: true });
  mkdirSync(bin);
  mkdirSync(calls);
  let n = 0;
  for (const [tool, answers] of Object.entries(o.tools ?? {})) {
    const cases: string[] = [];
    for (const [key, answer] of Object.entries(answers)) {
      const a = typeof answer === "string" ? { stdout: answer } : answer;
      const out = join(dir, `out-${n}`);
      const err = join(dir, `err-${n++}`);
      writeFileSync(out, a.stdout ?? "");
      writeFileSync(err, a.stderr ?? "");
      const pattern = key.endsWith("*") ? `${shq(key.slice(0, -1))}*` : shq(key);
      cases.push(`  ${pattern})${a.delaySeconds ? ` sleep ${a.delaySeconds};` : ""} cat ${shq(out)}; cat ${shq(err)} >&2; exit ${a.exit ?? 0} ;;`);
    }
    const script = `#!/bin/sh
printf '%s\\n' "$*" >> ${shq(join(calls, tool))}
case "$*" in
${cases.join("\n")}
  --version) echo ${shq(`${tool} 0.0.0-fake`)}; exit 0 ;;
esac
echo "fake ${tool}: no answer for: $*" >&2
exit 64
`;
    writeFileSync(join(bin, tool), script);
    chmodSync(join(bin, tool), 0o755);
  }
  let server: ReturnType<typeof Bun.serve> | undefined;
  if (o.http) {
    const routes = o.http;
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const url = new URL(req.url);
        const r = routes[url.pathname + url.search] ?? routes[url.pathname];
        if (r === undefined) return new Response("not found", { status: 404 });
        const spec = typeof r === "string" ? { body: r } : r;
        return new Response(spec.body, { status: spec.status ?? 200, headers: { "content-type": spec.contentType ?? "text/plain" } });
      },
    });
  }
  const writeFile = (path: string, content: FakeFile) => {
    const file = join(home, rel(path));
    mkdirSync(dirname(file), { recursive: true });
    if (typeof content === "object" && !(content instanceof Uint8Array)) {
      rmSync(file, { force: true });
      const db = new Database(file);
      db.exec(content.sqlite);
      db.close();
    } else writeFileSync(file, content);
  };
  for (const [path, content] of Object.entries(o.home ?? {})) writeFile(path, content);

  const systemPath = o.systemPath === false ? "/usr/bin/false-path-only" : (process.env.PATH ?? "/usr/bin:/bin");
  const env: Record<string, string> = { PATH: `${bin}:${systemPath}`, HOME: home, LANG: "C.UTF-8" };
  const base = server ? `http://127.0.0.1:${server.port}` : "";
  const paths = Object.fromEntries(Object.entries(o.paths ?? {}).map(([k, v]) => [k, v.replaceAll("{http}", base)]));
  const info: MachineInfo = { id: o.id ?? "fake", ssh: "local", tags: [], roles: [], paths };
  // /bin/sh must still run with no system PATH: the executor spawns it by absolute path.
  const exec = createLocalExecutor({ machineId: info.id, home, env });
  return {
    dir,
    home,
    bin,
    env,
    info,
    exec,
    url: (path) => {
      if (!server) throw new Error("this fake machine has no http routes");
      return `http://127.0.0.1:${server.port}${path}`;
    },
    calls: (tool) => {
      const f = join(calls, tool);
      return existsSync(f) ? readFileSync(f, "utf8").split("\n").slice(0, -1) : [];
    },
    writeFile,
    appendFile: (path, text) => appendFileSync(join(home, rel(path)), text),
    rotateFile: (path, content = "") => {
      const file = join(home, rel(path));
      renameSync(file, `${file}.1`);
      writeFileSync(file, content);
    },
    close: () => {
      server?.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunOnceOptions {
  store: Store;
  collector: Collector;
  machine: FakeMachine;
  clock?: Clock;
  limits?: Partial<{ timeoutMs: number; maxBytes: number; maxRows: number }>;
}

/** Runs a collector once on a fake machine, as the scheduler would (tool probe included). */
export async function runOnce(o: RunOnceOptions): Promise<RunRecord> {
  const clock = o.clock ?? createFixedClock("2026-01-25T03:00:00Z");
  const tools = await ensureTools(o.store, o.machine.exec, o.collector.requires?.commands ?? [], { clock, ttlHours: 24, force: true });
  return runCollector({
    store: o.store,
    clock,
    collector: o.collector,
    machine: o.machine.info,
    exec: o.machine.exec,
    tools,
    limits: { timeoutMs: 30_000, maxBytes: 16 * 1024 * 1024, maxRows: 100_000, ...o.collector.limits, ...o.limits },
  });
}

/** A fresh, migrated store in a temp folder (vc's tables, the collectors' own and their plugins'). */
export async function createTestStore(collectors: readonly Collector[] = []): Promise<Store & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "vc-store-"));
  const store = await openStore({ path: join(dir, "vc.duckdb"), pluginMigrations: pluginMigrations(collectors, collectPlugins([], collectors)) });
  const close = store.close.bind(store);
  return Object.assign(store, {
    dir,
    close: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/**
 * For a test file: a function that builds a fake machine and a fresh store for a collector, both
 * removed after the file's tests.
 * @example const setup = useFakeSetup(); const { machine, store } = await setup(uptime(), { tools: { uptime: { "": out } } })
 */
export function useFakeSetup() {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  return async (collector: Collector, m: FakeMachineOptions) => {
    const machine = createFakeMachine(m);
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    return { machine, store };
  };
}

export interface TestCollectorOptions {
  collector: Collector;
  /** The machine holding real fixture outputs. */
  fixtures: FakeMachineOptions;
  /** Rows each table gets from the fixtures (exactly). */
  rows: Record<string, number>;
  /** More checks on the store after the first run (exact values). */
  check?: (store: Store, run: RunRecord) => Promise<void> | void;
  /** The same machine with junk in place of real output: the run must warn or fail readably, never throw. */
  junk: FakeMachineOptions;
  /** Warnings expected from the real fixtures (default none). */
  warnings?: number;
}

/**
 * The collector contract suite: real fixture → parse → insert into a fresh store → the expected
 * rows; run twice → no duplicates; junk → a warning or a readable failure, never a throw; tool
 * or file missing → skipped with the reason.
 * @example testCollector({ collector: uptime(), fixtures: { tools: { uptime: { "": out } } }, rows: { uptime_samples: 1 }, junk: { tools: { uptime: { "": "garbage" } } } })
 */
/** Each contract test runs real processes and a real store: bun's 5 s default is too short on a loaded machine. */
const CONTRACT_TIMEOUT_MS = 30_000;

export function testCollector(o: TestCollectorOptions): void {
  const { collector } = o;
  describe(`collector contract: ${collector.name}`, () => {
    const fakeSetup = useFakeSetup();
    const setup = (m: FakeMachineOptions) => fakeSetup(collector, m);

    it(
      "reads the real fixtures into the expected rows",
      async () => {
        const { machine, store } = await setup(o.fixtures);
        const run = await runOnce({ store, collector, machine });
        expect({ result: run.result, error: run.error, reason: run.reason }).toEqual({ result: "ok", error: undefined, reason: undefined });
        expect(run.warnings).toHaveLength(o.warnings ?? 0);
        expect(run.rowsByTable).toEqual(o.rows);
        for (const [table, count] of Object.entries(o.rows)) {
          const [row] = await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM "${table}"`);
          expect(row!.n).toBe(count);
        }
        await o.check?.(store, run);
      },
      CONTRACT_TIMEOUT_MS,
    );

    it(
      "adds no row when it reads the same source again",
      async () => {
        const { machine, store } = await setup(o.fixtures);
        await runOnce({ store, collector, machine });
        const again = await runOnce({ store, collector, machine });
        expect(again.result).toBe("ok");
        expect(again.rows).toBe(0);
      },
      CONTRACT_TIMEOUT_MS,
    );

    it(
      "warns or fails readably on junk, and never throws",
      async () => {
        const { machine, store } = await setup(o.junk);
        const run = await runOnce({ store, collector, machine });
        if (run.result === "ok") expect(run.warnings.length).toBeGreaterThan(0);
        else {
          expect(run.result).toBe("failed");
          expect(run.error).toBeString();
          expect(run.error!.length).toBeGreaterThan(5);
          expect(run.error).not.toMatch(/^undefined|\n\s+at /);
        }
      },
      CONTRACT_TIMEOUT_MS,
    );

    const needs = [...(collector.requires?.commands ?? []), ...(collector.requires?.files ?? [])];
    // Only for collectors that declare what they need; the others test their own skips.
    if (needs.length > 0) {
      it(
        "is skipped, with the reason, where its tool or file is missing",
        async () => {
          const { machine, store } = await setup({ paths: o.fixtures.paths, systemPath: false });
          const run = await runOnce({ store, collector, machine });
          expect(run.result).toBe("skipped");
          expect(run.reason).toContain("not found");
        },
        CONTRACT_TIMEOUT_MS,
      );
    }
  });
}
