// The system tools the tests use, checked before any test runs (bunfig.toml [test] preload), so
// the README's `npm install && npx bun test` works on a fresh Debian machine with Node and npm only:
// as root with apt-get, what is missing is installed (once: afterwards nothing is missing);
// otherwise the exact packages and command are named here, and every test that needs a missing
// tool fails with that message (requireSystem), not with an obscure spawn error.
import { existsSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** A tool the tests run, and the Debian package that has it. */
export interface SystemNeed {
  tool: string;
  pkg: string;
  /** Which tests need it. */
  for: string;
}

export const SYSTEM_NEEDS: readonly SystemNeed[] = [
  { tool: "sshd", pkg: "openssh-server", for: "the SSH harness, test/helpers/sshd.ts" },
  { tool: "ssh-keygen", pkg: "openssh-client", for: "the SSH harness's keys" },
  { tool: "ssh", pkg: "openssh-client", for: "the SSH benchmark" },
  { tool: "tmux", pkg: "tmux", for: "vc tui in a real terminal, test/tui/tmux.test.ts" },
  { tool: "sqlite3", pkg: "sqlite3", for: "SQLite files read over SSH" },
  { tool: "ps", pkg: "procps", for: "process trees of sshd sessions and timeouts" },
  { tool: "pgrep", pkg: "procps", for: "the TUI's child process" },
  { tool: "free", pkg: "procps", for: "the live system probe" },
  { tool: "uptime", pkg: "procps", for: "the live system probe" },
  { tool: "git", pkg: "git", for: "ru's repositories" },
  { tool: "promtool", pkg: "prometheus", for: "checking /metrics, test/web/metrics.test.ts" },
  { tool: "prometheus", pkg: "prometheus", for: "a real Prometheus scraping vc, test/web/metrics.test.ts" },
  { tool: "chromium", pkg: "chromium", for: "the web dashboard in a real browser" },
  { tool: "openssl", pkg: "openssl", for: "a TLS certificate for the NATS tests" },
  { tool: "nats-server", pkg: "nats-server", for: "vc node and the hub's ingest through JetStream, test/ingest" },
];

/** Where sshd and friends live even when a non-root PATH leaves them out. */
const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** PATH plus the sbin folders: where a tool is looked for. */
export function searchPath(path = process.env.PATH ?? ""): string {
  const dirs = path.split(delimiter).filter(Boolean);
  return [...dirs, ...SBIN.filter((d) => !dirs.includes(d))].join(delimiter);
}

/** The executable `tool` in one of `path`'s folders, or null. */
export function findTool(tool: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, tool);
    try {
      if (existsSync(file) && statSync(file).isFile() && (statSync(file).mode & 0o111) !== 0) return file;
    } catch {
      // unreadable folder: not there
    }
  }
  return null;
}

export type SystemPlan =
  | { action: "none" }
  | { action: "install"; missing: SystemNeed[]; packages: string[]; commands: string[][] }
  | { action: "report"; missing: SystemNeed[]; packages: string[]; message: string };

/**
 * What to do about the tools missing on `path`: nothing, install them (root with apt-get), or
 * say exactly what is missing and the command that installs it.
 */
export function planSystem(o: { path: string; root: boolean; aptGet: string | null; install?: boolean }): SystemPlan {
  const missing = SYSTEM_NEEDS.filter((n) => !findTool(n.tool, o.path));
  if (missing.length === 0) return { action: "none" };
  const packages = [...new Set(missing.map((n) => n.pkg))];
  if (o.root && o.aptGet && o.install !== false) {
    return {
      action: "install",
      missing,
      packages,
      commands: [
        [o.aptGet, "update", "-qq"],
        [o.aptGet, "install", "-y", "-qq", "--no-install-recommends", ...packages],
      ],
    };
  }
  const sudo = o.root ? "" : "sudo ";
  const how = o.aptGet
    ? `install with: ${sudo}apt-get update && ${sudo}apt-get install -y ${packages.join(" ")}` + (o.root ? "" : "\n  (as root, `npx bun test` installs them itself)")
    : `install these packages with the system's package manager (on Debian or Ubuntu: apt-get install -y ${packages.join(" ")})`;
  const width = Math.max(...missing.map((n) => n.tool.length));
  const what = missing.map((n) => `  ${n.tool.padEnd(width)}  package ${n.pkg}: ${n.for}`).join("\n");
  return { action: "report", missing, packages, message: `missing system tools the tests use:\n${what}\n  ${how}` };
}

/** This machine: its PATH (with sbin), whether we are root, apt-get. VC_TEST_INSTALL=0 never installs. */
function plan(install = process.env.VC_TEST_INSTALL !== "0"): SystemPlan {
  const path = searchPath();
  return planSystem({ path, root: process.getuid?.() === 0, aptGet: findTool("apt-get", path), install });
}

/**
 * The path of `tool`; throws the message naming its package and the install command when it is
 * missing. Call it where a test needs the tool.
 */
export function requireSystem(tool: string): string {
  if (!SYSTEM_NEEDS.some((n) => n.tool === tool)) throw new Error(`requireSystem: add ${tool} to SYSTEM_NEEDS in test/_system.ts`);
  const found = findTool(tool, searchPath());
  if (found) return found;
  const p = plan(false);
  throw new Error(`this test needs ${tool}; ${p.action === "report" ? p.message : "it is missing"}`);
}

/** Runs the plan: installs what is missing (saying what on stderr), or says what is missing. */
export function prepareSystem(): void {
  const first = plan();
  if (first.action === "none") return;
  if (first.action === "install") {
    process.stderr.write(`vc tests: installing ${first.packages.join(" ")} (missing: ${first.missing.map((n) => n.tool).join(", ")}) with apt-get…\n`);
    for (const argv of first.commands) {
      const r = Bun.spawnSync(argv, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, stdout: "pipe", stderr: "pipe" });
      if (r.exitCode !== 0) {
        process.stderr.write(`vc tests: ${argv.join(" ")} failed (exit ${r.exitCode}):\n${r.stderr.toString()}${r.stdout.toString()}\n`);
        break;
      }
    }
  }
  const after = plan(false);
  if (after.action === "report") process.stderr.write(`vc tests: ${after.message}\n  the tests that need them fail with this message.\n`);
  else if (first.action === "install") process.stderr.write(`vc tests: installed ${first.packages.join(" ")}\n`);
}

// Once per `bun test` run: the preload imports this module first; test files share that instance.
prepareSystem();
