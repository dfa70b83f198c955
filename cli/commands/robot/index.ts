import { defineCommand } from "citty";
import { builtinViews } from "../../../lib/views/index.ts";
import { viewCommand } from "../../_robot.ts";

/** `vc robot <view>`: one subcommand per registered view. */
export default defineCommand({
  meta: { name: "robot", description: "Answers for agents: versioned JSON envelopes on stdout, diagnostics on stderr" },
  subCommands: Object.fromEntries(builtinViews.map((v) => [v.name, () => viewCommand(v)])),
});
