import { defineCommand } from "citty";
import { guard, openFromArgs, printJson, storeArgs } from "../../_common.ts";

export default defineCommand({
  meta: {
    name: "accounts",
    description: "Provider accounts: used % per window, resets, status (caut); limits per profile, active profile and auth health per tool (caam); stale data flagged (vc.robot.accounts.v1)",
  },
  args: { ...storeArgs, json: { type: "boolean", description: "JSON output (the default)", default: true } },
  run: ({ args }) =>
    guard(
      async () => {
        await using vc = await openFromArgs(args, { readOnly: true });
        printJson(await vc.robotAccounts());
      },
      { robot: true },
    ),
});
