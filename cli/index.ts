#!/usr/bin/env bun
// vc: the command line of vibe cockpit. Each command is one file in cli/commands/.
import { defineCommand, runMain } from "citty";
import pkg from "../package.json" with { type: "json" };

const main = defineCommand({
  meta: {
    name: "vc",
    version: pkg.version,
    description: "vibe cockpit: what your fleet of coding agents needs next, and why",
  },
  subCommands: {
    init: () => import("./commands/init.ts").then((m) => m.default),
    up: () => import("./commands/up.ts").then((m) => m.default),
    collect: () => import("./commands/collect.ts").then((m) => m.default),
    robot: () => import("./commands/robot/index.ts").then((m) => m.default),
    query: () => import("./commands/query.ts").then((m) => m.default),
    doctor: () => import("./commands/doctor.ts").then((m) => m.default),
    machines: () => import("./commands/machines.ts").then((m) => m.default),
    alerts: () => import("./commands/alerts.ts").then((m) => m.default),
    watch: () => import("./commands/watch.ts").then((m) => m.default),
    tui: () => import("./commands/tui.ts").then((m) => m.default),
  },
});

await runMain(main);
