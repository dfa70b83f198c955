import { defineCommand } from "citty";
import { guard, openFromArgs, printJson, storeArgs } from "../../_common.ts";

export default defineCommand({
  meta: { name: "health", description: "Fleet and per-machine health as a vc.robot.health.v1 envelope (JSON on stdout)" },
  args: { ...storeArgs, json: { type: "boolean", description: "JSON output (the default; accepted for compatibility)", default: true } },
  run: ({ args }) =>
    guard(
      async () => {
        await using vc = await openFromArgs(args, { readOnly: true });
        printJson(await vc.robotHealth());
      },
      { robot: true },
    ),
});
