import { Database } from "bun:sqlite";
import { closeSync, copyFileSync, openSync, readSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { VcError, errorMessage } from "../errors.ts";
import { renderSql } from "../store/sql.ts";
import { decodeUtf8, readCapped } from "./_output.ts";
import { killRun, newRunToken, RUN_TOKEN_VAR } from "./_reap.ts";
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_TIMEOUT_MS,
  STDERR_KEPT,
  stderrLimit,
  stderrNote,
  type Command,
  type Executor,
  type FileStat,
  type RunOptions,
  type RunResult,
} from "./types.ts";

export interface LocalExecutorOptions {
  machineId: string;
  /** HOME for `~` (defaults to $HOME). */
  home?: string;
  /** Environment every command starts from (defaults to this process's). */
  env?: Record<string, string | undefined>;
}

/**
 * Runs commands on this machine. Each command gets its own process group, so a timeout or a
 * flood kills it and everything it started.
 * @example const exec = createLocalExecutor({ machineId: "orko" }); await exec.run(["uptime"])
 */
export function createLocalExecutor(options: LocalExecutorOptions): Executor {
  const baseEnv = options.env ?? process.env;
  const home = options.home ?? baseEnv.HOME ?? homedir();
  const expand = (path: string) => expandHome(path, home);

  return {
    machineId: options.machineId,
    kind: "local",
    run: (command, opts) => runLocal(command, baseEnv, opts),
    home: async () => home,
    expand: async (path) => expand(path),
    async stat(path): Promise<FileStat | null> {
      try {
        const st = statSync(expand(path));
        return { inode: st.ino, size: st.size, mtime: st.mtime };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new VcError("exec_failed", `cannot stat ${path}: ${errorMessage(err)}`, { cause: err });
      }
    },
    async readRange(path, from, to) {
      const len = Math.max(0, to - from);
      const buf = Buffer.alloc(len);
      const fd = openSync(expand(path), "r");
      try {
        let got = 0;
        while (got < len) {
          const n = readSync(fd, buf, got, len - got, from + got);
          if (n === 0) break;
          got += n;
        }
        return new Uint8Array(buf.buffer, buf.byteOffset, got);
      } finally {
        closeSync(fd);
      }
    },
    async sqlite(path, query) {
      const file = expand(path);
      let db: Database;
      try {
        db = new Database(file, { readonly: true });
      } catch (err) {
        throw new VcError("exec_failed", `cannot open SQLite file ${file}: ${errorMessage(err)}`, { cause: err });
      }
      try {
        const { text, params } = renderSql(query, "sqlite");
        return db.query(text).all(...(params as never[])) as Record<string, unknown>[];
      } catch (err) {
        throw new VcError("exec_failed", `SQLite query on ${file} failed: ${errorMessage(err)}`, { cause: err });
      } finally {
        db.close();
      }
    },
    async httpGet(url, opts = {}) {
      const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
      let res: Response;
      try {
        res = await fetch(url, { signal, redirect: "error" });
      } catch (err) {
        throw new VcError("exec_failed", `GET ${url} failed: ${errorMessage(err)}`, { cause: err });
      }
      const { bytes, truncated } = await readCapped(res.body, opts.maxBytes ?? DEFAULT_MAX_BYTES, () => {});
      return { status: res.status, body: decodeUtf8(bytes, truncated).text, truncated };
    },
    async fetchFile(remotePath, localPath) {
      copyFileSync(expand(remotePath), localPath);
    },
    async close() {},
  };
}

/** `~` and `~/x` against `home`; other paths as they are. */
export function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return `${home}/${path.slice(2)}`;
  return path;
}

/** How long the pipes may stay open after the command exited before vc stops reading them. */
export const EXIT_GRACE_MS = 200;

async function runLocal(command: Command, baseEnv: Record<string, string | undefined>, opts: RunOptions = {}): Promise<RunResult> {
  const argv = "script" in command ? ["/bin/sh", "-c", command.script, "sh", ...(command.args ?? [])] : [...command];
  if (argv.length === 0) throw new VcError("invalid_input", "empty command");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const started = performance.now();
  // Every process the command starts inherits the token, setsid'd daemons included.
  const token = newRunToken();
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(argv, {
      env: { ...baseEnv, ...opts.env, [RUN_TOKEN_VAR]: token } as Record<string, string>,
      cwd: opts.cwd,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: true, // own process group: a kill reaches everything it started
    });
  } catch (err) {
    throw new VcError("exec_failed", `cannot run ${argv[0]}: ${errorMessage(err)}`, { cause: err });
  }

  let timedOut = false;
  const kill = () => killRun(proc.pid, token);
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  const onAbort = () => kill();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  // Once the command has exited, its pipes get a short grace to drain; past it, whatever still
  // holds them (a daemonized grandchild) is killed, which ends the pipes after what they hold is
  // read. A holder vc cannot find (it cleared its environment) gets the pipes closed on our side.
  const stopReading = new AbortController();
  let grace: ReturnType<typeof setTimeout> | undefined;
  void proc.exited.then(() => {
    grace = setTimeout(() => {
      kill();
      grace = setTimeout(() => stopReading.abort(), 5 * EXIT_GRACE_MS);
    }, EXIT_GRACE_MS);
  });

  try {
    const [out, err] = await Promise.all([
      readCapped(proc.stdout as ReadableStream<Uint8Array>, maxBytes, kill, stopReading.signal),
      // stderr: the first 64 KiB kept, the rest read and dropped, up to its flood limit.
      readCapped(proc.stderr as ReadableStream<Uint8Array>, STDERR_KEPT, kill, stopReading.signal, stderrLimit(maxBytes)),
    ]);
    // A flood was cut and its reader stopped: make sure the group is gone before waiting on it.
    if (out.truncated) kill();
    const exitCode = await proc.exited;
    const stdout = decodeUtf8(out.bytes, out.truncated);
    return {
      stdout: stdout.text,
      stderr: decodeUtf8(err.bytes, err.truncated).text + stderrNote(err.total, maxBytes),
      exitCode: timedOut || out.truncated || proc.signalCode ? null : exitCode,
      durationMs: performance.now() - started,
      truncated: out.truncated,
      timedOut,
      invalidUtf8: stdout.invalid,
      bytes: out.total,
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    opts.signal?.removeEventListener("abort", onAbort);
    // Whatever the command left running (background jobs, daemons) ends with it.
    kill();
  }
}
