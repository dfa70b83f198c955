// `vc ask`'s bad input at the command line, with the store opened by the command itself (no
// daemon): an empty question, a machine the config does not have (named with the nearest one it
// does), and the same in JSON as an error envelope. And a machine with no data yet, answered.
import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openCockpit } from "../../lib/index.ts";
import { sysprobe } from "../../plugins/index.ts";
import { isolatedEnv, repoRoot, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const dir = tempDir("vc-ask-cli-");
const config = join(dir, "vc.config.ts");
const env = isolatedEnv(dir, { VC_NOW: "2026-08-20T15:15:00Z", PATH: `${join(repoRoot, "node_modules/.bin")}:/usr/bin:/bin` });
const askVc = (...args: string[]) => vc(["ask", ...args, "--config", config], { env });

beforeAll(async () => {
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
export default defineConfig({
  db: ${JSON.stringify(join(dir, "vc.duckdb"))},
  machines: [{ id: "orko", ssh: "local" }, { id: "gpu-box", ssh: "jeff@gpu-box.lan" }],
  collectors: [],
});
`,
  );
  // The store, made as any command makes it.
  const c = await openCockpit({ file: config, env, alwaysOn: [sysprobe()] });
  await c.close();
});

describe("vc ask at the command line", () => {
  it("names the machine meant when the question names one the config does not have", async () => {
    const r = await askVc("why is orka slow?");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("vc ask: no machine named 'orka' — did you mean orko?\n");
    expect(r.stderr).toContain("hint: machines: orko, gpu-box");
    const j = await askVc("why is orka slow?", "--format", "json");
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ schema_version: "vc.robot.error.v1", error: { code: "not_found", message: "no machine named 'orka' — did you mean orko?" } });
  });

  it("refuses an empty question as a usage error", async () => {
    for (const args of [[""], ["   "], []]) {
      const r = await askVc(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain("vc ask: the question is empty");
      expect(r.stderr).toContain('hint: ask one, quoted, like: vc ask "what needs me now?"');
    }
  });

  it("answers about a machine with no data yet, saying so, and reaches one by its host's name", async () => {
    const r = await askVc("why is orko slow?");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain("orko is unhealthy (health 0, critical) because of 1 factor:");
    expect(r.stdout).toContain("  1. no data (critical): no system sample yet: run `vc collect --once` or start `vc up`");
    expect(r.stdout).toContain("     → vc collect --once --machine orko");
    const j = JSON.parse((await askVc("is gpu-box.lan healthy?", "--json")).stdout);
    expect(j.entities.machine).toEqual({ kind: "machine", value: "gpu-box", typed: "gpu-box.lan", how: "alias" });
  });
});
