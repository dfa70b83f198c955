// test/_system.ts, the preload that makes `npm install && npx bun test` work on a fresh machine:
// what it decides for a given PATH, user and apt-get, and what a run of `bun test` does with it.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SYSTEM_NEEDS, findTool, planSystem } from "../_system.ts";
import { repoRoot } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(30_000); // bun test in a child process

const dir = tempDir("vc-system-");
let n = 0;

/** A folder with a stand-in executable for every tool the tests use except `without`. */
function fakePath(without: string[], extra: Record<string, string> = {}): string {
  const d = join(dir, `path${n++}`);
  mkdirSync(d);
  const put = (name: string, body: string) => {
    writeFileSync(join(d, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(d, name), 0o755);
  };
  for (const need of SYSTEM_NEEDS) if (!without.includes(need.tool)) put(need.tool, "exit 0");
  for (const [name, body] of Object.entries(extra)) put(name, body);
  return d;
}

describe("planSystem", () => {
  it("non-root without sshd: names openssh-server and the apt-get command to run", () => {
    const plan = planSystem({ path: fakePath(["sshd"]), root: false, aptGet: "/usr/bin/apt-get" });
    expect(plan.action).toBe("report");
    if (plan.action !== "report") return;
    expect(plan.packages).toEqual(["openssh-server"]);
    expect(plan.message).toContain("sshd  package openssh-server");
    expect(plan.message).toContain("sudo apt-get update && sudo apt-get install -y openssh-server");
    expect(plan.message).not.toContain("tmux");
  });

  it("root with apt-get: installs the missing packages, each once", () => {
    const plan = planSystem({ path: fakePath(["sshd", "ssh", "ssh-keygen", "ps", "free"]), root: true, aptGet: "/usr/bin/apt-get" });
    expect(plan).toEqual({
      action: "install",
      missing: SYSTEM_NEEDS.filter((x) => ["sshd", "ssh", "ssh-keygen", "ps", "free"].includes(x.tool)),
      packages: ["openssh-server", "openssh-client", "procps"],
      commands: [
        ["/usr/bin/apt-get", "update", "-qq"],
        ["/usr/bin/apt-get", "install", "-y", "-qq", "--no-install-recommends", "openssh-server", "openssh-client", "procps"],
      ],
    });
  });

  it("root without apt-get, or told not to install: says what to install, without sudo", () => {
    const path = fakePath(["tmux"]);
    const noApt = planSystem({ path, root: true, aptGet: null });
    expect(noApt.action === "report" && noApt.message).toContain("with the system's package manager (on Debian or Ubuntu: apt-get install -y tmux)");
    const told = planSystem({ path, root: true, aptGet: "/usr/bin/apt-get", install: false });
    expect(told.action === "report" && told.message).toContain("install with: apt-get update && apt-get install -y tmux");
    expect(told.action === "report" && told.message).not.toContain("sudo");
  });

  it("nothing missing: nothing to do; a file that is not executable does not count", () => {
    const path = fakePath([]);
    expect(planSystem({ path, root: true, aptGet: "/usr/bin/apt-get" })).toEqual({ action: "none" });
    chmodSync(join(path, "sqlite3"), 0o644);
    expect(findTool("sqlite3", path)).toBeNull();
    const plan = planSystem({ path, root: false, aptGet: null });
    expect(plan.action === "report" && plan.packages).toEqual(["sqlite3"]);
  });
});

describe("the preload in a real bun test run", () => {
  const probe = join(dir, "probe.test.ts");
  writeFileSync(
    probe,
    `import { expect, it } from "bun:test";
import { requireSystem } from ${JSON.stringify(join(repoRoot, "test/_system.ts"))};
it("needs tmux", () => { expect(requireSystem("tmux")).toContain("tmux"); });
`,
  );
  const bunTest = (path: string, env: Record<string, string> = {}) => {
    const r = Bun.spawnSync([process.execPath, "test", probe], { cwd: repoRoot, env: { PATH: path, HOME: dir, ...env }, stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
  };

  it("bunfig.toml preloads it", () => {
    expect(readFileSync(join(repoRoot, "bunfig.toml"), "utf8")).toMatch(/^preload = \["\.\/test\/_system\.ts"\]$/m);
  });

  it("as root with apt-get: runs apt-get update and install once, says so on stderr, and the test then finds the tool", () => {
    const log = join(dir, "apt.log");
    // A stand-in apt-get that "installs" tmux by putting it on the PATH.
    const path = fakePath(["tmux"], {
      "apt-get": `echo "$@" >> ${log}\ncase " $* " in *" install "*) printf '#!/bin/sh\\n' > "\${0%/*}/tmux"; /bin/chmod +x "\${0%/*}/tmux";; esac`,
    });
    const r = bunTest(path);
    if (process.getuid?.() !== 0) {
      expect(r.code).not.toBe(0);
      expect(r.out).toContain("sudo apt-get update && sudo apt-get install -y tmux");
      return;
    }
    expect(r.out).toContain("vc tests: installing tmux (missing: tmux) with apt-get");
    expect(r.out).toContain("vc tests: installed tmux");
    expect(readFileSync(log, "utf8")).toBe("update -qq\ninstall -y -qq --no-install-recommends tmux\n");
    expect(r.code).toBe(0);
    expect(existsSync(join(path, "tmux"))).toBe(true);
  });

  it("when it cannot install: the test that needs the tool fails with the package and the command, not a spawn error", () => {
    const r = bunTest(fakePath(["tmux"]), { VC_TEST_INSTALL: "0" });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("this test needs tmux; missing system tools the tests use:");
    expect(r.out).toContain("tmux  package tmux");
    expect(r.out).toMatch(/apt-get install -y tmux/);
    expect(r.out).toContain("(fail) needs tmux");
  });
});
