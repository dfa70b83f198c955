// Installable as users install things (issue 11, point 11): the tarball `npm pack` makes, installed
// with npm into an empty project on a PATH with Node and npm but no Bun, gives a working `npx vc`
// (Bun comes as the `bun` dependency, reached through cli/vc.cjs), and a consumer's
// `tsc --noEmit` on a script importing vibe-cockpit passes. Needs the npm registry (or npm's cache)
// for vibe-cockpit's runtime dependencies.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, repoRoot } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000); // npm and vc processes; the install alone is given 5 minutes below

const dir = tempDir("vc-pack-");
const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

/**
 * A PATH with node, npm and npx (linked into a folder of their own) and the system folders that
 * hold no `bun`: Bun can only come from the installed package.
 */
function pathWithoutBun(): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const tool of ["node", "npm", "npx"]) {
    const found = Bun.which(tool);
    if (!found) throw new Error(`${tool} is not on PATH: this test needs Node and npm`);
    symlinkSync(found, join(bin, tool));
  }
  const hasBun = (d: string) => ["bun", "bun.exe"].some((b) => existsSync(join(d, b)));
  const system = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].filter((d) => existsSync(d) && !hasBun(d));
  return [bin, ...system].join(":");
}
const PATH = pathWithoutBun();

/** Nothing of the npm or bun that started this test leaks in (npx sets npm_config_*, npm_*). */
const npmEnv: Record<string, string> = {
  PATH,
  HOME: process.env.HOME ?? dir,
  TMPDIR: process.env.TMPDIR ?? "/tmp",
  LANG: "C.UTF-8",
  // npm's own cache (where an earlier install left the dependencies), not a fresh one per run.
  npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? "/root", ".npm"),
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
};

async function run(argv: string[], o: { cwd: string; env: Record<string, string>; timeoutMs?: number }) {
  const proc = Bun.spawn(argv, { cwd: o.cwd, env: o.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), o.timeoutMs ?? 110_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, all: `${argv.join(" ")} → exit ${code}\n${stdout}\n${stderr}` };
}
const bin = (tool: string) => join(dir, "bin", tool);
/** A fresh HOME and XDG dirs for vc, on the PATH without Bun. */
const vcEnv = (name: string): Record<string, string> => ({
  ...isolatedEnv(join(dir, name), { PATH }),
  npm_config_cache: npmEnv.npm_config_cache!,
  npm_config_update_notifier: "false",
});

/** Packs the repo and installs the tarball into an empty project, once for the file. */
let installing: Promise<string> | undefined;
function installed(): Promise<string> {
  installing ??= (async () => {
    const packed = await run([bin("npm"), "pack", "--json", "--pack-destination", dir], { cwd: repoRoot, env: npmEnv });
    expect(packed.code, packed.all).toBe(0);
    const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    const project = join(dir, "consumer");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }, null, 2));
    const install = await run([bin("npm"), "install", "--prefer-offline", "--no-audit", "--no-fund", tarball], { cwd: project, env: npmEnv, timeoutMs: 290_000 });
    expect(install.code, install.all).toBe(0);
    return project;
  })();
  return installing;
}

describe("the packed tarball, installed with npm where there is no Bun", () => {
  it("has no bun on its PATH but node and npm", () => {
    expect(Bun.which("bun", { PATH })).toBeNull();
    expect(Bun.which("node", { PATH })).not.toBeNull();
    expect(Bun.which("npm", { PATH })).not.toBeNull();
  });

  it("installs: bin entries vc and vibe-cockpit, Bun as a dependency, the package as files (not a link)", async () => {
    const project = await installed();
    const pkg = join(project, "node_modules", "vibe-cockpit");
    expect(statSync(pkg).isDirectory()).toBe(true);
    expect(existsSync(join(pkg, "cli/vc.cjs"))).toBe(true);
    expect(existsSync(join(pkg, "test"))).toBe(false); // "files" ships no tests
    expect(existsSync(join(project, "node_modules/bun/package.json"))).toBe(true);
    const bins = readdirSync(join(project, "node_modules/.bin"));
    expect(bins).toContain("vc");
    expect(bins).toContain("vibe-cockpit");
  }, 300_000);

  it("npx vc --version and npx vibe-cockpit --version", async () => {
    const project = await installed();
    const env = vcEnv("v");
    for (const name of ["vc", "vibe-cockpit"]) {
      const r = await run([bin("npx"), "--no-install", name, "--version"], { cwd: project, env });
      expect(r.code, r.all).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  }, 300_000);

  it("npx vc collect --once, then npx vc robot health, on the embedded default in a fresh HOME", async () => {
    const project = await installed();
    const env = vcEnv("run");
    const c = await run([bin("npx"), "--no-install", "vc", "collect", "--once"], { cwd: project, env });
    expect(c.code, c.all).toBe(0);
    expect(c.stdout).toMatch(/sysprobe\s+ok/);
    expect(existsSync(join(env.XDG_DATA_HOME!, "vc", "vc.duckdb"))).toBe(true);
    const h = await run([bin("npx"), "--no-install", "vc", "robot", "health"], { cwd: project, env });
    expect(h.code, h.all).toBe(0);
    const health = JSON.parse(h.stdout);
    expect(health.schema_version).toBe("vc.robot.health.v1");
    expect(health.data.machines).toHaveLength(1);
    expect(health.data.overall.score).toBeGreaterThan(0);
  }, 300_000);

  it("a consumer's tsc --noEmit on a script importing vibe-cockpit passes (and still catches the script's own errors)", async () => {
    const project = await installed();
    // TypeScript from this repo's node_modules (no network); the consumer installs nothing else.
    const ts = join(project, "node_modules", "typescript");
    if (!existsSync(ts)) symlinkSync(join(repoRoot, "node_modules", "typescript"), ts);
    // The tsconfig `bun init` writes.
    const compilerOptions = {
      lib: ["ESNext"],
      target: "ESNext",
      module: "Preserve",
      moduleDetection: "force",
      jsx: "react-jsx",
      allowJs: true,
      moduleResolution: "bundler",
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      noEmit: true,
      strict: true,
      skipLibCheck: true,
      noFallthroughCasesInSwitch: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
    };
    writeFileSync(
      join(project, "report.ts"),
      `import { connectCockpit, defineCollector, defineConfig, type Collector } from "vibe-cockpit";
import { alertsJsonl, defaultRules, sysprobe } from "vibe-cockpit/plugins";

const uptime: Collector = defineCollector({
  name: "uptime", version: "1.0.0", schemaVersion: 1,
  async collect(ctx) {
    const r = await ctx.exec.run(["cat", "/proc/loadavg"]);
    const [load1, load5] = r.stdout.split(" ").map(Number);
    return { rows: { sys_samples: [{ load1, load5 }] } };
  },
});
export const config = defineConfig({ machines: [{ id: "a", ssh: "local" }], collectors: [sysprobe(), uptime], rules: defaultRules(), channels: [alertsJsonl()] });

await using vc = await connectCockpit();
const { data } = await vc.robotTriage();
const { rows } = await vc.query("select 1 as one");
console.log(data, rows.length);
`,
    );
    writeFileSync(join(project, "broken.ts"), `import { defineConfig } from "vibe-cockpit";\nexport default defineConfig({ machines: 5 });\n`);
    const tsc = (file: string) => {
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, include: [file] }, null, 2));
      return run([bin("node"), join(ts, "bin", "tsc"), "--noEmit", "-p", "."], { cwd: project, env: npmEnv });
    };
    const ok = await tsc("report.ts");
    expect(ok.all).toBe(`${bin("node")} ${join(ts, "bin", "tsc")} --noEmit -p . → exit 0\n\n`);
    const bad = await tsc("broken.ts");
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toContain("broken.ts(2,");
    expect(bad.stdout).not.toContain("node_modules/vibe-cockpit");
  }, 300_000);
});
