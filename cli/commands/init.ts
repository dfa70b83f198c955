import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { resolveConfig, writeStarterConfig, xdgConfigHome } from "../../lib/index.ts";
import { guard, logger } from "../_common.ts";

export default defineCommand({
  meta: {
    name: "init",
    description: "Write a starter vc.config.ts: this machine, every bundled collector (as in the embedded default), the default rules and alerts.jsonl. Never overwrites one.",
  },
  args: {
    path: { type: "string", description: "where to write it (default: $XDG_CONFIG_HOME/vc/vc.config.ts)", valueHint: "FILE" },
  },
  run: ({ args }) =>
    guard(async () => {
      const log = await logger();
      const path = args.path ? resolve(args.path) : join(xdgConfigHome(), "vc", "vc.config.ts");
      // The starter's collectors are the embedded default's, so the two never drift apart.
      const embedded = await resolveConfig((await import("../../vc.config.ts")).default, { source: "(embedded default)" });
      writeStarterConfig(path, { collectors: embedded.collectors });
      log.success(`wrote ${path} (${embedded.collectors.length} collectors)`);
      process.stdout.write(`${path}\n`);
    }),
});
