import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dir, "../..");
export const cliEntry = join(repoRoot, "cli/index.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An isolated environment for a vc process: its own HOME, XDG dirs, no colour, no VC_* leaking in. */
export function isolatedEnv(dir: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const home = join(dir, "home");
  mkdirSync(home, { recursive: true });
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    TMPDIR: process.env.TMPDIR,
    LANG: "C.UTF-8",
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** Runs the real CLI as a separate process and waits for it. */
export async function vc(args: string[], o: { env: Record<string, string>; cwd?: string; timeoutMs?: number }): Promise<CliResult> {
  const proc = Bun.spawn(["bun", cliEntry, ...args], {
    cwd: o.cwd ?? o.env.HOME,
    env: o.env,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), o.timeoutMs ?? 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts the CLI without waiting (for `vc up`). */
export function vcSpawn(args: string[], o: { env: Record<string, string>; cwd?: string }) {
  return Bun.spawn(["bun", cliEntry, ...args], { cwd: o.cwd ?? o.env.HOME, env: o.env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
}

/** Whether the daemon with this pid answers on the socket (a socket file left by a killed one does not). */
async function answers(socket: string, pid: number): Promise<boolean> {
  if (!existsSync(socket)) return false;
  try {
    const r = await fetch("http://localhost/v1/info", { unix: socket } as RequestInit);
    return ((await r.json()) as { pid?: number }).pid === pid;
  } catch {
    return false;
  }
}

/** Starts `vc up` with these args and waits until it answers on its socket (30 s at most); kill it with SIGTERM and await `exited`. */
export async function startUp(args: string[], o: { env: Record<string, string>; socket: string }) {
  const up = vcSpawn(["up", ...args], { env: o.env });
  const end = Date.now() + 30_000;
  while (!(await answers(o.socket, up.pid))) {
    if (Date.now() > end) {
      up.kill("SIGKILL");
      throw new Error(`vc up did not open ${o.socket} within 30 s: ${await new Response(up.stderr).text()}`);
    }
    await Bun.sleep(50);
  }
  return up;
}
