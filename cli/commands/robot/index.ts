import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "robot", description: "Answers for agents: versioned JSON envelopes on stdout, diagnostics on stderr" },
  subCommands: {
    health: () => import("./health.ts").then((m) => m.default),
    machine: () => import("./machine.ts").then((m) => m.default),
    repos: () => import("./repos.ts").then((m) => m.default),
    accounts: () => import("./accounts.ts").then((m) => m.default),
    triage: () => import("./triage.ts").then((m) => m.default),
    alerts: () => import("./alerts.ts").then((m) => m.default),
    search: () => import("./search.ts").then((m) => m.default),
  },
});
