import { defineCommand } from "citty";
import { guard, openFromArgs, printJson, storeArgs } from "../../_common.ts";

export default defineCommand({
  meta: { name: "machine", description: "One machine: health factors, latest system sample, filesystems, collectors, tools (vc.robot.machine.v1)" },
  args: {
    ...storeArgs,
    id: { type: "positional", description: "machine id", required: true },
    json: { type: "boolean", description: "JSON output (the default)", default: true },
  },
  run: ({ args }) =>
    guard(
      async () => {
        await using vc = await openFromArgs(args, { readOnly: true });
        printJson(await vc.robotMachine(args.id));
      },
      { robot: true },
    ),
});
