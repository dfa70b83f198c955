import { defineCommand } from "citty";
import { builtinViews } from "../../../lib/views/index.ts";
import { toolPlugins } from "../../../plugins/index.ts";
import { viewCommand } from "../../_robot.ts";

// vc's own views and the bundled plugins' (a config without the plugin answers not_found, naming the views it has).
const views = [...builtinViews, ...toolPlugins.flatMap((p) => p.views ?? [])];

/** `vc robot <view>`: one subcommand per registered view. */
export default defineCommand({
  meta: { name: "robot", description: "Answers for agents: versioned JSON envelopes on stdout, diagnostics on stderr" },
  subCommands: Object.fromEntries(views.map((v) => [v.name, () => viewCommand(v)])),
});
