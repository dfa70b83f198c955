// Issue 11 point 10: an unknown or changed host key prints the exact command that fixes it, in
// `vc machines probe|show`, `vc doctor` and `vc collect`, whole even when piped.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, vc } from "../helpers/cli.ts";
import { startSshd, type Sshd } from "../helpers/sshd.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000); // a real sshd and several CLI processes

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd.stop();
});

function setup() {
  const dir = tempDir("vc-hostkeys-");
  const env = isolatedEnv(dir);
  const config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
export default defineConfig({
  db: ${JSON.stringify(join(dir, "vc.duckdb"))},
  polling: { connect_timeout_seconds: 5 },
  machines: [{ id: "remote", ssh: ${JSON.stringify(`${sshd.user}@127.0.0.1:${sshd.port}`)}, identity_file: ${JSON.stringify(sshd.userKey)} }],
  collectors: [],
});
`,
  );
  mkdirSync(join(env.HOME!, ".ssh"), { recursive: true, mode: 0o700 });
  return { env, config, run: (...args: string[]) => vc([...args, "--config", config], { env }) };
}

describe("host key fixes in the CLI", () => {
  it("an unknown key: probe, show, doctor and collect print the ssh-keyscan command, and running it fixes the machine", async () => {
    const { env, run } = setup();
    const fix = `ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts`;
    const probe = await run("machines", "probe", "remote");
    expect(probe.code).toBe(1);
    expect(probe.stdout).toContain("not in known_hosts");
    expect(probe.stdout).toContain(`  to fix: ${fix}\n`);
    const show = await run("machines", "show", "remote");
    expect(show.stdout).toContain(`  to fix: ${fix}\n`);
    const doctor = await run("doctor");
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain(`to fix: ${fix}\n`);
    const collect = await run("collect", "--once", "--machine", "remote");
    expect(collect.code).toBe(1);
    expect(collect.stdout).toContain(`then run: ${fix};`);
    expect(collect.stdout).not.toContain("…");
    // the command as printed, in the user's shell, is the fix
    expect(Bun.spawnSync(["sh", "-c", fix], { env, stdout: "ignore", stderr: "ignore" }).exitCode).toBe(0);
    const again = await run("machines", "probe", "remote");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("host key match");
  });

  it("a changed key: the ssh-keygen -R command for the [host]:port entry, then the keyscan", async () => {
    const { env, run } = setup();
    writeFileSync(join(env.HOME!, ".ssh", "known_hosts"), `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBGzh0Gi2kU7mD3YqkPa1t0BHqzH2bVYJ2xQyrB0cJDh\n`);
    const fix = `ssh-keygen -R "[127.0.0.1]:${sshd.port}" && ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts`;
    const probe = await run("machines", "probe", "remote");
    expect(probe.stdout).toContain("CHANGED");
    expect(probe.stdout).toContain(`  to fix: ${fix}\n`);
    const doctor = await run("doctor");
    expect(doctor.stdout).toContain(`to fix: ${fix}\n`);
    const collect = await run("collect", "--once", "--machine", "remote");
    expect(collect.stdout).toContain(fix);
  });
});
