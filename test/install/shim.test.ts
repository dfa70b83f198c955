// cli/vc.cjs, the Node shim npm links as `vc`: it finds the Bun binary of the installed `bun`
// dependency (after its postinstall, or still in its platform package when the postinstall did not
// run) and runs cli/index.ts with it, passing arguments, stdin/stdout, the exit code and signals.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(30_000); // these tests start real processes

const shim = join(repoRoot, "cli/vc.cjs");
const entry = join(repoRoot, "cli/index.ts");
const realBun = join(repoRoot, "node_modules/bun/bin/bun.exe");
const dir = tempDir("vc-shim-");
const node = Bun.which("node");

/** A stand-in for Bun (VC_BUN): a shell script, so what the shim passes it is plain to see. */
function fakeBun(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function runShim(args: string[], env: Record<string, string>, o: { stdin?: string; script?: string } = {}) {
  const proc = Bun.spawn([node!, o.script ?? shim, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdin: o.stdin === undefined ? "ignore" : new Blob([o.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  return proc;
}

async function finished(proc: ReturnType<typeof runShim>) {
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code, signal: proc.signalCode };
}

/** Reads stdout until `text` appears; `rest()` reads the remainder to the end. */
async function waitFor(proc: ReturnType<typeof runShim>, text: string) {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  const more = async () => {
    const { value, done } = await reader.read();
    if (!done) out += decoder.decode(value, { stream: true });
    return !done;
  };
  while (!out.includes(text)) if (!(await more())) throw new Error(`exited before printing ${text}: ${out}`);
  return {
    rest: async () => {
      while (await more());
      return out;
    },
  };
}

describe("cli/vc.cjs", () => {
  it("passes every argument as given, after cli/index.ts, and stdin and stdout through", async () => {
    const bun = fakeBun("args", `for a in "$@"; do printf '[%s]' "$a"; done; printf '\\n'; cat`);
    const r = await finished(runShim(["robot", "health", "", "a b", "--", "-x", "ünï"], { VC_BUN: bun }, { stdin: "from stdin\n" }));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`[${entry}][robot][health][][a b][--][-x][ünï]\nfrom stdin\n`);
  });

  it("exits with vc's exit code", async () => {
    for (const code of [0, 1, 2, 7]) {
      const r = await finished(runShim([], { VC_BUN: fakeBun(`exit${code}`, `echo oops >&2; exit ${code}`) }));
      expect(r.code).toBe(code);
      expect(r.stderr).toBe("oops\n");
    }
  });

  it("forwards SIGTERM and SIGINT to vc and exits as vc does", async () => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      const name = sig.slice(3);
      const bun = fakeBun(`trap${name}`, `trap 'echo got-${name}; exit 42' ${name}\necho ready\ni=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 3`);
      const proc = runShim([], { VC_BUN: bun });
      const out = await waitFor(proc, "ready");
      proc.kill(sig);
      expect(await out.rest()).toContain(`got-${name}`);
      expect(await proc.exited).toBe(42);
    }
  });

  it("dies of the signal that killed vc", async () => {
    const r = await finished(runShim([], { VC_BUN: fakeBun("selfkill", "kill -TERM $$") }));
    expect(r.signal).toBe("SIGTERM");
  });

  it("a missing Bun is a clear message and exit 127", async () => {
    const r = await finished(runShim([], { VC_BUN: join(dir, "no-such-bun") }));
    expect(r.code).toBe(127);
    expect(r.stderr).toContain("cannot start");
    // No bun package at all: a copy of the shim with no node_modules above it.
    const lone = join(dir, "lone", "cli");
    mkdirSync(lone, { recursive: true });
    copyFileSync(shim, join(lone, "vc.cjs"));
    const r2 = await finished(runShim(["--version"], {}, { script: join(lone, "vc.cjs") }));
    expect(r2.code).toBe(127);
    expect(r2.stderr).toContain("cannot find the Bun runtime");
    expect(r2.stderr).toContain("VC_BUN");
  });

  /**
   * An installed layout: project/node_modules/{vibe-cockpit/cli, bun, @oven/<platform>}, with a
   * cli/index.ts that says which binary ran it. The real Bun binary is linked where npm puts it.
   */
  function installedLayout(name: string, postinstallRan: boolean) {
    const nm = join(dir, name, "node_modules");
    const cli = join(nm, "vibe-cockpit", "cli");
    mkdirSync(cli, { recursive: true });
    copyFileSync(shim, join(cli, "vc.cjs"));
    writeFileSync(join(cli, "index.ts"), "console.log(JSON.stringify({ argv0: process.argv0, args: process.argv.slice(2) }));\n");
    mkdirSync(join(nm, "bun", "bin"), { recursive: true });
    writeFileSync(join(nm, "bun", "package.json"), JSON.stringify({ name: "bun", version: "1.4.5" }));
    // The platform package npm chose for this machine, as in this repo's own node_modules.
    const platform = readdirSync(join(repoRoot, "node_modules/@oven")).find((p) => p.startsWith("bun-"))!;
    const pkg = join(nm, "@oven", platform);
    mkdirSync(join(pkg, "bin"), { recursive: true });
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: `@oven/${platform}`, version: "1.4.5" }));
    const own = join(nm, "bun", "bin", "bun.exe");
    const inPlatform = join(pkg, "bin", "bun");
    if (postinstallRan) symlinkSync(realBun, own);
    else {
      writeFileSync(own, "placeholder, replaced by the postinstall\n"); // what the bun package ships
      symlinkSync(realBun, inPlatform);
    }
    return { script: join(cli, "vc.cjs"), expected: postinstallRan ? own : inPlatform };
  }

  it("runs the bun package's binary after its postinstall, the platform package's when the postinstall did not run", async () => {
    for (const ran of [true, false]) {
      const { script, expected } = installedLayout(ran ? "installed" : "ignore-scripts", ran);
      const r = await finished(runShim(["collect", "--once"], {}, { script }));
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ argv0: expected, args: ["collect", "--once"] });
    }
  });
});
