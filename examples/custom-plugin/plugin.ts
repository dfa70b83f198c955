// The uptime tool as a whole plugin: its collector (./uptime.ts) and table, a rule, a view
// (`vc robot uptime` through cockpit.view / the socket), a section of `vc robot machine <id>` and a
// health factor — all from this folder, with no edit anywhere else.
import { defineRule, defineSource, definePlugin, defineView, gt, ramp, readings, sql, threshold } from "vibe-cockpit";
import { uptime } from "./uptime.ts";

const latest = (at: string) =>
  sql`SELECT machine_id, load1, load5, load15, collected_at FROM uptime_samples WHERE collected_at <= ${at}::TIMESTAMP
      QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1`;

export function uptimePlugin(o: { maxLoad5?: number } = {}) {
  return definePlugin({
    name: "uptime",
    collectors: [uptime()],
    rules: [
      defineRule({
        id: "uptime_load_high",
        severity: "medium",
        title: "Load high (uptime)",
        source: defineSource({ name: "uptime_now", description: "each machine's latest uptime sample", sql: latest }),
        when: gt("load5", threshold("max_load5", o.maxLoad5 ?? 8)),
        labels: ["machine_id"],
        value: "load5",
        message: "{machine_id} load5 {load5} by uptime",
        actions: [{ title: "See the machine", command: "vc robot machine {machine_id}" }],
      }),
    ],
    views: [
      defineView({
        name: "uptime",
        summary: "Each machine's latest load averages as uptime printed them",
        args: {},
        async run(vc) {
          return { data: { machines: await vc.store.query(latest(vc.clock.now().toISOString())) } };
        },
      }),
    ],
    machineSections: [
      {
        name: "uptime",
        load: async (q) =>
          (
            await q.store.query(
              sql`SELECT load1, load5, load15, collected_at FROM uptime_samples WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP ORDER BY collected_at DESC LIMIT 1`,
            )
          )[0] ?? null,
      },
    ],
    healthFactors: [
      {
        id: "uptime_load",
        read: (store, at) => readings(store, sql`SELECT machine_id, load5 AS value FROM (${latest(at)})`, (r) => `load5 ${r.value} (uptime)`),
        score: ramp(4, 16, 0.3),
      },
    ],
  });
}
