#!/usr/bin/env bun
// vc: the command line of vibe cockpit. Each command is one file in cli/commands/.
import { defineCommand } from "citty";
import { runCli } from "./_main.ts";
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
    node: () => import("./commands/node.ts").then((m) => m.default),
    collect: () => import("./commands/collect.ts").then((m) => m.default),
    robot: () => import("./commands/robot/index.ts").then((m) => m.default),
    query: () => import("./commands/query.ts").then((m) => m.default),
    doctor: () => import("./commands/doctor.ts").then((m) => m.default),
    machines: () => import("./commands/machines.ts").then((m) => m.default),
    alerts: () => import("./commands/alerts.ts").then((m) => m.default),
    watch: () => import("./commands/watch.ts").then((m) => m.default),
    tui: () => import("./commands/tui.ts").then((m) => m.default),
    oracle: () => import("./commands/oracle.ts").then((m) => m.default),
    vacuum: () => import("./commands/vacuum.ts").then((m) => m.default),
    export: () => import("./commands/export.ts").then((m) => m.default),
    incident: () => import("./commands/incident.ts").then((m) => m.default),
    guardian: () => import("./commands/guardian.ts").then((m) => m.default),
    audit: () => import("./commands/audit.ts").then((m) => m.default),
    fleet: () => import("./commands/fleet.ts").then((m) => m.default),
    diff: () => import("./commands/diff.ts").then((m) => m.default),
    ask: () => import("./commands/ask.ts").then((m) => m.default),
    mcp: () => import("./commands/mcp.ts").then((m) => m.default),
  },
});

await runCli(main, {
  envelope: ["robot"],
  footer: [
    "Output: stdout carries the answer, stderr the diagnostics. Commands that print data take --format with the forms that apply to them (json, toon, table, csv, jsonl); --json means --format json. Machine-readable output has snake_case keys. No colour unless the output is a terminal and NO_COLOR is unset.",
    "Robot commands (vc robot …) print only JSON or TOON envelopes; every failure, a usage error included, is a vc.robot.error.v1 envelope on stdout.",
    "Exit codes: 0 done, 1 failed, 2 usage error or a bad flag value.",
  ],
});
