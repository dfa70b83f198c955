import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { writeStarterConfig, xdgConfigHome } from "../../lib/index.ts";
import { guard, logger } from "../_common.ts";

export default defineCommand({
  meta: { name: "init", description: "Write a starter vc.config.ts (never overwrites one)" },
  args: {
    path: { type: "string", description: "where to write it (default: $XDG_CONFIG_HOME/vc/vc.config.ts)", valueHint: "FILE" },
  },
  run: ({ args }) =>
    guard(async () => {
      const log = await logger();
      const path = args.path ? resolve(args.path) : join(xdgConfigHome(), "vc", "vc.config.ts");
      writeStarterConfig(path);
      log.success(`wrote ${path}`);
      process.stdout.write(`${path}\n`);
    }),
});
