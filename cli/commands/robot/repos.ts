import { defineCommand } from "citty";
import { guard, openFromArgs, printJson, storeArgs } from "../../_common.ts";

export default defineCommand({
  meta: { name: "repos", description: "Repos per machine: branch, dirty, ahead/behind, last commit, ready beads (vc.robot.repos.v1)" },
  args: { ...storeArgs, json: { type: "boolean", description: "JSON output (the default)", default: true } },
  run: ({ args }) =>
    guard(
      async () => {
        await using vc = await openFromArgs(args, { readOnly: true });
        printJson(await vc.robotRepos());
      },
      { robot: true },
    ),
});
