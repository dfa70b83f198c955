// D6: vc's files are created owner-only whatever the umask, and `vc doctor` names looser ones.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliEntry, isolatedEnv, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000); // several CLI processes

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe("file modes through the CLI", () => {
  it("under umask 000 the data dir, the store and the daemon's files are owner-only; doctor names a loosened store and the chmod that fixes it", async () => {
    const dir = tempDir("vc-climodes-");
    const env = isolatedEnv(dir);
    const data = join(env.XDG_DATA_HOME!, "vc");
    const config = join(dir, "vc.config.ts");
    writeFileSync(config, `import { defineConfig } from "vibe-cockpit";\nexport default defineConfig({ machines: [{ id: "here", ssh: "local" }], collectors: [] });\n`);
    // the daemon under the loosest umask: while it runs, look at every file it made
    const up = Bun.spawn(["sh", "-c", `umask 000; exec bun ${cliEntry} up --config ${config} --interval 3600`], { env, stdout: "ignore", stderr: "pipe", cwd: env.HOME });
    const db = join(data, "vc.duckdb");
    try {
      const served = () => existsSync(data) && readdirSync(data, { withFileTypes: true }).some((f) => f.isSocket());
      for (let i = 0; i < 300 && !served(); i++) await Bun.sleep(50);
      expect(served()).toBe(true);
      const made = readdirSync(data);
      expect(made).toContain("vc.duckdb");
      expect(mode(data)).toBe("700");
      for (const f of made) expect([f, mode(join(data, f))]).toEqual([f, "600"]);
      expect(made.some((f) => f.includes("daemon"))).toBe(true);
    } finally {
      up.kill("SIGTERM");
      await up.exited;
    }
    expect(mode(db)).toBe("600");
    chmodSync(db, 0o644);
    const doctor = await vc(["doctor", "--config", config], { env });
    expect(doctor.stdout).toContain(`file mode: ${db} is 644: other users can reach it; chmod 600 '${db}'`);
    expect(doctor.code).toBe(0); // a warning, not a failed check
    expect(existsSync(db)).toBe(true);
  });
});
