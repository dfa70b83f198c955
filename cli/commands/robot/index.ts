import { defineCommand } from "citty";
import { collectPlugins, loadConfig, type AnyView } from "../../../lib/index.ts";
import { withTimeMachine } from "../../../lib/views/define.ts";
import { builtinViews } from "../../../lib/views/index.ts";
import { toolPlugins } from "../../../plugins/index.ts";
import { configArgs } from "../../_common.ts";
import { viewCommand } from "../../_robot.ts";

// vc's own views and the bundled plugins' (a config without the plugin answers not_found, naming the views it has).
const known = [...builtinViews, ...toolPlugins.flatMap((p) => p.views ?? [])];

/** The `--config` of this command line, if any (`--config F` or `--config=F`). */
function configFlag(argv: readonly string[]): string | undefined {
  const i = argv.findIndex((a) => a === "--config" || a.startsWith("--config="));
  if (i < 0) return undefined;
  return argv[i]!.includes("=") ? argv[i]!.slice(argv[i]!.indexOf("=") + 1) : argv[i + 1];
}

/** The word after `robot` on this command line (the view asked for), if any. */
function askedView(argv: readonly string[]): string | undefined {
  const i = argv.indexOf("robot");
  return i < 0 ? undefined : argv.slice(i + 1).find((a) => !a.startsWith("-"));
}

/**
 * The views of the config's own plugins (a custom plugin's `vc robot <name>`). Read only when the
 * view asked for is not one vc knows already (the command opens the config itself). A config that
 * does not load adds none here: the command run then reports what is wrong with it.
 */
async function configViews(): Promise<AnyView[]> {
  const asked = askedView(process.argv.slice(2));
  if (asked !== undefined && known.some((v) => v.name === asked)) return [];
  try {
    const config = await loadConfig(configArgs({ config: configFlag(process.argv.slice(2)) }));
    const names = new Set(known.map((v) => v.name));
    return collectPlugins(config.plugins ?? [], config.collectors)
      .flatMap((p) => p.views ?? [])
      .filter((v) => !names.has(v.name));
  } catch {
    return [];
  }
}

/** `vc robot <view>`: one subcommand per registered view — vc's, the bundled plugins', the config's. */
export default defineCommand({
  meta: { name: "robot", description: "Answers for agents: versioned JSON envelopes on stdout, diagnostics on stderr" },
  // Each with the time machine's --at, as the registry gives it.
  subCommands: async () => Object.fromEntries([...known, ...(await configViews())].map((v) => [v.name, () => viewCommand(withTimeMachine(v))])),
});
