// definePlugin: one object per tool brings its table, collector, view, machine section, health
// factor, rule and triage suggestion; two plugins claiming one name are refused naming both; a
// plugin whose migration fails leaves the others loading and says which.
import { describe, expect, it } from "bun:test";
import { join } from "node:path";
import {
  createFixedClock,
  defineCollector,
  definePlugin,
  defineRule,
  defineSource,
  defineView,
  gte,
  openCockpit,
  ramp,
  readings,
  resolveConfig,
  sql,
  threshold,
} from "../../lib/index.ts";
import { sysprobe } from "../../plugins/index.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir("vc-plugin-");
const clock = createFixedClock(new Date("2026-04-01T10:00:00Z"));
let n = 0;

function widgetPlugin(o: { name?: string; table?: string; view?: string; sql?: string } = {}) {
  const table = o.table ?? "widget_counts";
  const name = o.name ?? "widgets";
  return definePlugin({
    name,
    collectors: [
      defineCollector({
        name: `${name}_collector`,
        version: "1.0.0",
        schemaVersion: 1,
        migrations: [
          {
            name: "001_widgets.sql",
            sql:
              o.sql ??
              `CREATE TABLE ${table} (machine_id TEXT, collected_at TIMESTAMP, source TEXT, source_version TEXT, schema_version INTEGER, widgets INTEGER, PRIMARY KEY (machine_id, collected_at))`,
          },
        ],
        async collect() {
          return { rows: { [table]: [{ widgets: 42 }] } };
        },
      }),
    ],
    views: [
      defineView({
        name: o.view ?? "widgets",
        summary: "Widgets per machine",
        args: {},
        async run(vc) {
          return { data: { machines: await vc.store.query(`SELECT machine_id, widgets FROM ${table} ORDER BY machine_id`) } };
        },
      }),
    ],
    machineSections: [
      { name: `${name}_section`, load: async (q) => (await q.store.query(sql`SELECT widgets FROM ${sql.identifier(table)} WHERE machine_id = ${q.machineId}`))[0] ?? null },
    ],
    healthFactors: [
      {
        id: "widget_pile",
        read: (store, at) =>
          readings(store, sql`SELECT machine_id, widgets AS value FROM ${sql.identifier(table)} WHERE collected_at <= ${at}::TIMESTAMP`, (r) => `${r.value} widgets piled up`),
        score: ramp(10, 100, 0.2),
      },
    ],
    rules: [
      defineRule({
        id: "widgets_piling",
        severity: "medium",
        title: "Widgets piling up",
        source: defineSource({
          name: "widgets_now",
          description: "widgets per machine",
          sql: (at) => sql`SELECT machine_id, widgets FROM ${sql.identifier(table)} WHERE collected_at <= ${at}::TIMESTAMP`,
        }),
        when: gte("widgets", threshold("max_widgets", 40)),
        labels: ["machine_id"],
        value: "widgets",
        message: "{machine_id} has {widgets} widgets",
      }),
    ],
    suggestions: { widget_pile: () => [{ title: "Sweep the widgets", command: "widgets sweep" }] },
  });
}

async function open(config: Parameters<typeof resolveConfig>[0]) {
  const resolved = await resolveConfig({ db: join(dir, `p${n++}.duckdb`), machines: [{ id: "box", ssh: "local" }], ...config }, { source: "test", env: { HOME: dir } });
  return openCockpit({ config: resolved, clock, env: { HOME: dir, USER: "t" } });
}

describe("definePlugin", () => {
  it("a plugin alone reaches the store, a view, the machine view, health, a rule and triage", async () => {
    // (A machine is scored once it has a system sample: sysprobe gives one.)
    await using vc = await open({ plugins: [widgetPlugin()], collectors: [sysprobe({ cpuSampleMs: 20 })] });
    expect(vc.config.collectors.map((c) => c.name)).toEqual(["sysprobe", "widgets_collector"]);
    expect(vc.config.rules.map((r) => r.id)).toEqual(["widgets_piling"]);
    const report = await vc.collect();
    expect(report.machines[0]!.runs.map((r) => [r.collector, r.result]).sort()).toEqual([
      ["sysprobe", "ok"],
      ["widgets_collector", "ok"],
    ]);
    expect((await vc.view("widgets")).data).toEqual({ machines: [{ machine_id: "box", widgets: 42 }] });
    expect(((await vc.robotMachine("box")).data as Record<string, unknown>).widgets_section).toEqual({ widgets: 42 });
    const factor = (await vc.health()).machines[0]!.factors.find((f) => f.id === "widget_pile");
    expect(factor).toMatchObject({ value: 42, detail: "42 widgets piled up" });
    expect(report.outcome.events.map((e) => [e.rule, e.event])).toEqual([["widgets_piling", "firing"]]);
  });

  it("triage carries the plugin's own command for its health factor", async () => {
    await using vc = await open({ plugins: [{ ...widgetPlugin(), rules: [] }], collectors: [sysprobe({ cpuSampleMs: 20 })] });
    await vc.collect();
    const item = (await vc.robotTriage()).data.items.find((i) => i.id.includes("widget_pile"));
    expect(item).toBeTruthy();
    expect((await vc.robotTriage()).data.suggestions[item!.id]![0]).toEqual({ title: "Sweep the widgets", command: "widgets sweep" });
  });

  it("a rule of the config's own wins over the plugin's of the same id", async () => {
    const mine = { ...widgetPlugin().rules[0]!, title: "Mine" };
    await using vc = await open({ plugins: [widgetPlugin()], rules: [mine] });
    expect(vc.config.rules.map((r) => [r.id, r.title])).toEqual([["widgets_piling", "Mine"]]);
  });

  it("refuses two plugins claiming one view name, naming both", async () => {
    const err = await open({ plugins: [widgetPlugin(), widgetPlugin({ name: "gadgets", table: "gadget_counts" })] }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe('view "widgets" is claimed by both plugin widgets and plugin gadgets');
  });

  it("refuses two plugins claiming one table, naming both", async () => {
    const err = await open({ plugins: [widgetPlugin(), widgetPlugin({ name: "gadgets", view: "gadgets" })] }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe('table "widget_counts" is claimed by both collector widgets_collector and collector gadgets_collector');
  });

  it("refuses a plugin view named like one of vc's own", async () => {
    const err = await open({ plugins: [widgetPlugin({ view: "health" })] }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe('view "health" is claimed by both vc and plugin widgets');
  });

  it("a plugin whose migration fails: the others load and run, its collector is skipped saying why, doctor names it", async () => {
    const broken = widgetPlugin({ name: "broken", table: "broken_counts", view: "broken", sql: "CREATE TABLE oops (" });
    await using vc = await open({ plugins: [widgetPlugin(), broken] });
    expect(vc.store.migrationErrors.map((m) => m.source)).toEqual(["broken_collector"]);
    expect(vc.store.migrationErrors[0]!.error).toContain("migration 001_widgets.sql (plugin broken_collector) failed");
    const runs = (await vc.collect()).machines[0]!.runs.map((r) => [r.collector, r.result, r.reason?.slice(0, 33) ?? null]);
    expect(runs).toEqual([
      ["widgets_collector", "ok", null],
      ["broken_collector", "skipped", "its tables could not be made: mig"],
    ]);
    const doctor = await vc.doctor();
    expect(doctor.checks.find((c) => c.check === "migrations of broken_collector")).toMatchObject({ ok: false });
  });
});
