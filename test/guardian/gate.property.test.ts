// The gate's promise, as a property (fast-check): for random autopilot modes, allowlists, machines
// and their permissions, protocols and the targets their triggers find, no command outside the
// allowlist (unless a person approved its run) or on a machine that does not allow it ever reaches
// an executor — and every command that does is in the audit log. The executor is the real local
// one, wrapped to note each argv handed to it; the tools are scripts that record their own argv.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  commandStep,
  createFixedClock,
  createGuardian,
  createLocalExecutor,
  defineProtocol,
  parseAllowPattern,
  resolveConfig,
  sql,
  type Executor,
  type VcConfig,
} from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { tempDir } from "../helpers/tmp.ts";
import { covered } from "./_allow.ts";

const dir = tempDir("vc-gate-prop-");
const LOG = join(dir, "reached.log");
for (const tool of ["fix", "probe"]) {
  writeFileSync(join(dir, tool), `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> ${JSON.stringify(LOG)}\n`);
  chmodSync(join(dir, tool), 0o755);
}
const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
afterAll(() => {});

const ARGS = ["a", "b", "x/y", "-rf", "../..", "a;b", "$(id)", "`id`", "a b", "ok=1", "~", "*", "p|q", "'", ""];
const PATTERNS = ["fix a *", "fix *", "fix b **", "probe **", "probe a", "fix * *", "probe * b", "fix"];
const MACHINES = ["m0", "m1", "m2"];

const caseArb = fc.record({
  mode: fc.constantFrom<VcConfig["autopilot"]["mode"]>("off", "suggest", "execute-safe", "execute-with-approval"),
  allow: fc.subarray(PATTERNS),
  machines: fc.tuple(...MACHINES.map(() => fc.record({ allow_autopilot: fc.boolean(), allow_write_commands: fc.boolean() }))),
  steps: fc.array(
    fc.record({
      tool: fc.constantFrom("fix", "probe"),
      args: fc.array(fc.constantFrom(...ARGS), { maxLength: 3 }),
      writes: fc.boolean(),
      machine: fc.option(fc.constantFrom(...MACHINES, "ghost"), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  targets: fc.uniqueArray(fc.constantFrom(...MACHINES, "ghost"), { minLength: 0, maxLength: 3 }),
});

describe("the gate, for random configs", () => {
  test("only allowed commands reach an executor, and each is audited", async () => {
    for (const p of PATTERNS) parseAllowPattern(p); // every pattern of the pool is a valid entry
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        writeFileSync(LOG, "");
        const reached: { machine: string; argv: string[] }[] = [];
        const config = await resolveConfig(
          {
            machines: MACHINES.map((id, i) => ({ id, ssh: "local", ...c.machines[i]! })),
            autopilot: { mode: c.mode, safe_commands: { allow: c.allow }, verify_within_seconds: 1 },
          },
          { source: "property", env: {} },
        );
        const protocol = defineProtocol({
          name: "prop",
          summary: "random steps",
          trigger: { describe: "random targets", find: async () => c.targets.map((m) => ({ key: m, machine: m, title: `target ${m}`, facts: {} })) },
          treatment: c.steps.map((s, i) => commandStep(`s${i}`, { writes: s.writes, command: () => ({ machine: s.machine, argv: [s.tool, s.writes ? "w" : "r", ...s.args] }) })),
          verification: { describe: "always", withinSeconds: 1, check: async () => ({ ok: true, detail: "ok" }) },
          escalation: { describe: "never", afterFailures: 99 },
        });
        const store = await createTestStore();
        try {
          const execs = new Map<string, Executor>();
          const guardian = createGuardian({
            store,
            config,
            clock: createFixedClock(new Date("2026-12-07T10:00:00Z")),
            protocols: [protocol],
            refresh: async () => {},
            executorFor: (m) => {
              const real = execs.get(m.id) ?? createLocalExecutor({ machineId: m.id, env });
              execs.set(m.id, real);
              return { ...real, run: (argv, o) => (reached.push({ machine: m.id, argv: [...(argv as string[])] }), real.run(argv, o)) };
            },
          });
          const r = await guardian.check();
          const approved = new Set<string>();
          for (const item of r.items.filter((i) => i.action === "pending")) {
            approved.add(item.run_id!);
            await guardian.approve(item.run_id!, { by: "person" });
          }
          // 1. Nothing reaches a machine in off or suggest; elsewhere only what the machine and the mode allow.
          if (c.mode === "off" || c.mode === "suggest") expect(reached).toEqual([]);
          for (const x of reached) {
            const m = config.machines.find((y) => y.id === x.machine);
            expect(m).toBeDefined();
            expect(m!.allow_autopilot).toBe(true);
            if (x.argv[1] === "w") expect(m!.allow_write_commands).toBe(true);
            if (c.mode === "execute-safe") expect(covered(c.allow, x.argv)).toBe(true);
            if (c.mode === "execute-with-approval") expect(approved.size).toBeGreaterThan(0);
          }
          // 2. Every command that reached a machine is audited, with its argv and where.
          const audited = await store.query<{ machine_id: string; argv: string; result: string }>(
            sql`SELECT machine_id, json_extract(details_json, '$.argv')::VARCHAR AS argv, result FROM audit_events WHERE event_type = 'autopilot_action' AND result IN ('ok', 'failed')`,
          );
          expect(audited.map((a) => `${a.machine_id} ${a.argv}`).sort()).toEqual(reached.map((x) => `${x.machine} ${JSON.stringify(x.argv)}`).sort());
          // 3. What the tools themselves saw is what reached the executor (no shell re-split an argument).
          const seen = existsSync(LOG) ? readFileSync(LOG, "utf8").split("\n").filter(Boolean) : [];
          expect(seen.length).toBe(reached.length);
          await Promise.all([...execs.values()].map((e) => e.close()));
        } finally {
          await store.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
