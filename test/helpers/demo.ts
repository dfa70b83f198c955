// A demo store's config and cockpit as the tests open them: the bundled tools' plugins (views,
// sections, events) without collectors, the default rules, each machine reached locally; a fixed
// clock; the fallback system probe, as the CLI has it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, openCockpit, type Cockpit } from "../../lib/index.ts";
import { sysprobe } from "../../plugins/index.ts";
import { isolatedEnv, repoRoot } from "./cli.ts";

/** Writes `dir/vc.config.ts` for the store at `db` with these machines; returns its path. */
export function writeDemoConfig(dir: string, db: string, machines: readonly string[], o: { extra?: string; plugins?: string; prelude?: string } = {}): string {
  const config = join(dir, "vc.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
import { defaultRules, toolPlugins } from "vibe-cockpit/plugins";
${o.prelude ?? ""}
export default defineConfig({
  db: ${JSON.stringify(db)},
  machines: ${JSON.stringify(machines.map((id) => ({ id, ssh: "local" })))},
  collectors: [],
  plugins: [...toolPlugins, ${o.plugins ?? ""}],
  rules: defaultRules(),${o.extra ?? ""}
});
`,
  );
  return config;
}

/** The environment a CLI run of the demo sees: its own HOME and XDG folders, the clock at `now`. */
export const demoEnv = (dir: string, now: Date) => isolatedEnv(dir, { VC_NOW: now.toISOString(), PATH: `${join(repoRoot, "node_modules/.bin")}:/usr/bin:/bin` });

/** Opens the cockpit on the config, on a clock fixed at `now`. */
export function openDemoCockpit(config: string, env: Record<string, string>, now: Date): Promise<Cockpit> {
  return openCockpit({ file: config, env, clock: createFixedClock(now), alwaysOn: [sysprobe()], modules: { "vibe-cockpit/plugins": () => import("../../plugins/index.ts") } });
}
