// A tool vc does not know, as a user's plugin would bring it: `tank` keeps a level in a file
// beside it; its collector reads the level, and a healing protocol drains a tank that is nearly
// full. Every call but the collector's `level` is appended to argv.log: what reached the machine.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandStep, defineCollector, definePlugin, defineProtocol, readStep, sql, suggestStep, waitStep, type Store } from "../../lib/index.ts";

/** Writes the fake `tank` into `dir` at `level`; returns its path. */
export function makeTank(dir: string, level: number): string {
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, "tank");
  writeFileSync(
    bin,
    `#!/bin/sh
d="$(dirname "$0")"
[ "$1" = level ] || printf '%s\\n' "$*" >> "$d/argv.log"
case "$1" in
  level) cat "$d/level" ;;
  inspect) printf '{"level": %s, "valve": "%s"}\\n' "$(cat "$d/level")" "$([ -e "$d/stuck" ] && echo stuck || echo ok)" ;;
  drain) [ -e "$d/stuck" ] && { echo "valve stuck" >&2; exit 0; }; echo "$2" > "$d/level" ;;
  refill) echo "$2" > "$d/level" ;;
  *) echo "tank: unknown command $1" >&2; exit 2 ;;
esac
`,
  );
  chmodSync(bin, 0o755);
  writeFileSync(join(dir, "level"), `${level}\n`);
  return bin;
}

/** What reached the machine (the collector's reads aside), one argv string per line. */
export const tankLog = (dir: string): string[] => (existsSync(join(dir, "argv.log")) ? readFileSync(join(dir, "argv.log"), "utf8").trim().split("\n").filter(Boolean) : []);
export const setLevel = (dir: string, level: number) => writeFileSync(join(dir, "level"), `${level}\n`);
export const jamValve = (dir: string) => writeFileSync(join(dir, "stuck"), "");

const latest = (at: string) => sql`SELECT machine_id, arg_max(level, collected_at) AS level FROM tank_levels WHERE collected_at <= ${at}::TIMESTAMP GROUP BY machine_id`;

/** The tank plugin: a collector, its table, and the tank_drain protocol (commands by `bin`'s absolute path). */
export function tankPlugin(bin: string, o: { withinSeconds?: number; wait?: number; extraCommand?: string[] } = {}) {
  const tank = defineCollector({
    name: "tank",
    version: "1.0.0",
    schemaVersion: 1,
    migrations: [{ name: "001_tank.sql", sql: "CREATE TABLE tank_levels(machine_id VARCHAR, collected_at TIMESTAMP, level DOUBLE, PRIMARY KEY (machine_id, collected_at));" }],
    async collect(ctx) {
      const r = await ctx.exec.run([bin, "level"]);
      if (r.exitCode !== 0) throw new Error(`tank level exited ${r.exitCode}`);
      return { rows: { tank_levels: [{ level: Number(r.stdout.trim()) }] } };
    },
  });
  const levelOf = async (store: Store, at: Date, machine: string) =>
    (await store.query<{ machine_id: string; level: number }>(latest(at.toISOString()))).find((r) => r.machine_id === machine)?.level ?? null;
  const protocol = defineProtocol({
    name: "tank_drain",
    summary: "Drain a tank that is nearly full",
    trigger: {
      describe: "a tank above 90 %",
      async find({ store, at }) {
        const rows = await store.query<{ machine_id: string; level: number }>(latest(at.toISOString()));
        return rows
          .filter((r) => r.level > 90)
          .map((r) => ({ key: r.machine_id, machine: r.machine_id, title: `the tank on ${r.machine_id} at ${r.level} %`, facts: { level: r.level } }));
      },
    },
    diagnosis: [
      readStep("history", async ({ store, target }) => ({
        readings: (await store.query<{ n: number }>(sql`SELECT count(*)::INTEGER AS n FROM tank_levels WHERE machine_id = ${target.machine}`))[0]!.n,
      })),
      commandStep("inspect", { writes: false, command: () => ({ argv: [bin, "inspect"] }), parse: (out) => JSON.parse(out) }),
    ],
    treatment: [
      ...(o.wait ? [waitStep("settle", o.wait)] : []),
      ...(o.extraCommand ? [commandStep("extra", { writes: false, command: () => ({ argv: o.extraCommand! }) })] : []),
      commandStep("drain", { writes: true, command: () => ({ argv: [bin, "drain", "50"] }), when: (ctx) => (ctx.facts.valve === "broken" ? "the valve is broken" : null) }),
      suggestStep("review", (ctx) => `find out why the tank on ${ctx.target.machine} filled`),
    ],
    verification: {
      describe: "the tank below 80 %",
      withinSeconds: o.withinSeconds ?? 3,
      everySeconds: 1,
      async check({ store, at, target }) {
        const level = await levelOf(store, at, target.machine);
        return { ok: level !== null && level < 80, detail: `level ${level} %` };
      },
    },
    rollback: [commandStep("refill", { writes: true, command: (ctx) => ({ argv: [bin, "refill", String(ctx.target.facts.level)] }) })],
    escalation: { describe: "after 2 failed runs", afterFailures: 2 },
  });
  return definePlugin({ name: "tank", collectors: [tank], protocols: [protocol] });
}

/**
 * Writes `dir/vc.config.ts` as a user would: local machines that allow the autopilot and writes,
 * sharing the tank at `bin`, with this autopilot (TypeScript source) and anything `extra` adds.
 */
export function writeTankConfig(dir: string, o: { bin: string; machines: readonly string[]; autopilot: string; db: string; dataDir: string; extra?: string }): string {
  const file = join(dir, "vc.config.ts");
  writeFileSync(
    file,
    `import { defineConfig } from "vibe-cockpit";
import { tankPlugin } from ${JSON.stringify(join(import.meta.dir, "_tank.ts"))};
export default defineConfig({
  db: ${JSON.stringify(o.db)},
  data_dir: ${JSON.stringify(o.dataDir)},
  machines: ${JSON.stringify(o.machines.map((id) => ({ id, ssh: "local", allow_autopilot: true, allow_write_commands: true })))},
  plugins: [tankPlugin(${JSON.stringify(o.bin)})],
  autopilot: ${o.autopilot},${o.extra ?? ""}
});
`,
  );
  return file;
}
