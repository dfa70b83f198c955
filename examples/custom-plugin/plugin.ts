// The uptime tool as a whole plugin: its collector (./uptime.ts) and table, a rule, a view
// (`vc robot uptime` through cockpit.view / the socket), a section of `vc robot machine <id>`, a
// health factor, a column of the fleet table, its readings as events (`vc robot events`, the TUI's
// Events screen) and a pane of its own in the TUI (./screen.ts) — all from this folder, with no
// edit anywhere else.
import { defineEventSource, defineRule, defineSource, definePlugin, defineView, eventTime, gt, ramp, readings, sql, threshold } from "vibe-cockpit";
import { uptimeScreen } from "./screen.ts";
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
    machineColumns: [
      {
        name: "uptime_load5",
        title: "UPTIME",
        unit: "text",
        async load(q) {
          const rows = await q.store.query<{ machine_id: string; load5: number }>(latest(q.at));
          return Object.fromEntries(rows.filter((r) => q.machineIds.includes(r.machine_id)).map((r) => [r.machine_id, `${r.load5}`]));
        },
      },
    ],
    events: [
      defineEventSource({
        name: "uptime",
        group: "UPTIME READINGS",
        scope: ["fleet"],
        async load(q) {
          const rows = await q.store.query<{ machine_id: string; collected_at: unknown; load1: number; load5: number; load15: number }>(
            sql`SELECT machine_id, collected_at, load1, load5, load15 FROM uptime_samples
                WHERE collected_at > ${q.from}::TIMESTAMP AND collected_at <= ${q.to}::TIMESTAMP
                  AND (${q.machine ?? null}::VARCHAR IS NULL OR contains(lower(machine_id), lower(${q.machine ?? ""})))
                ORDER BY collected_at DESC LIMIT ${q.limit}`,
          );
          return rows.map((r) => ({
            key: `uptime:${r.machine_id}:${eventTime(r.collected_at)}`,
            source: "uptime",
            group: "UPTIME READINGS",
            machine_id: r.machine_id,
            at: eventTime(r.collected_at),
            severity: r.load5 > (o.maxLoad5 ?? 8) ? "medium" : "info",
            title: `load ${r.load1} / ${r.load5} / ${r.load15}`,
            fields: [
              ["load1", r.load1],
              ["load5", r.load5],
              ["load15", r.load15],
            ],
            command: `vc robot machine ${r.machine_id}`,
          }));
        },
      }),
    ],
    screens: [uptimeScreen],
    healthFactors: [
      {
        id: "uptime_load",
        read: (store, at) => readings(store, sql`SELECT machine_id, load5 AS value FROM (${latest(at)})`, (r) => `load5 ${r.value} (uptime)`),
        score: ramp(4, 16, 0.3),
      },
    ],
  });
}
