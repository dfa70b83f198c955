// The retention config: opt-in, read easily, and refused by name when it is wrong — a negative or
// fractional span, a table the store does not have or one without history, a tier named as a raw
// table, and a deletion that would remove rows a collector's cursor still needs.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { checkRetention, createFixedClock, cursor, planVacuum, resolveConfig, runVacuum, saveCursors, sql, type Store, type VcConfig } from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";

const NOW = new Date("2026-01-25T03:00:00Z");
const clock = createFixedClock(NOW);
let store: Store;

const config = (retention: Record<string, unknown>) =>
  resolveConfig({ machines: [{ id: "m1", ssh: "local" }], retention } as never, { source: "test.config.ts", env: {}, cwd: "/srv/vc" });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: { code: string; message: string; hint?: string }) => ({ code: e.code, message: e.message, hint: e.hint }),
  );

beforeAll(async () => {
  store = await createTestStore();
  // rano's events (its collector keeps a timestamp cursor): one an hour for ten days on m1.
  await store.run(sql`INSERT INTO rano_events (machine_id, collected_at, source, event_key, ts, event)
    SELECT 'm1', ts, 'rano', 'k' || i, ts, 'connect' FROM (SELECT i, TIMESTAMP '2026-01-15 03:00:00' + to_hours(i) AS ts FROM range(240) r(i))`);
});
afterAll(async () => store?.close());

describe("retention in vc.config.ts", () => {
  it("is off unless configured: nothing deleted, the tiers kept 30 days (1 minute) and for ever (1 hour)", async () => {
    const c = await config({});
    expect(c.retention).toEqual({ raw_days: {}, rollup_days: { "1m": 30, "1h": null }, delete: false, export_before_delete: null, quiet_hour: null });
  });

  it("takes spans per table with a default, and resolves the export folder", async () => {
    const c = await config({ raw_days: { sys_samples: 7, default: 30 }, rollup_days: { "1m": 14, "1h": 400 }, delete: true, export_before_delete: "archive", quiet_hour: 3 });
    expect(c.retention).toEqual({
      raw_days: { sys_samples: 7, default: 30 },
      rollup_days: { "1m": 14, "1h": 400 },
      delete: true,
      export_before_delete: join("/srv/vc", "archive"),
      quiet_hour: 3,
    });
  });

  it("refuses a negative, zero or fractional span, an hour that is not one and an unknown key, naming the field", async () => {
    expect(await refusal(config({ raw_days: { sys_samples: -7 } }))).toMatchObject({
      code: "config_invalid",
      message: "test.config.ts: retention.raw_days.sys_samples: a span of at least 1 day",
    });
    expect(await refusal(config({ raw_days: { default: 0 } }))).toMatchObject({ message: "test.config.ts: retention.raw_days.default: a span of at least 1 day" });
    expect(await refusal(config({ rollup_days: { "1m": 1.5 } }))).toMatchObject({ message: "test.config.ts: retention.rollup_days.1m: a whole number of days" });
    expect((await refusal(config({ quiet_hour: 24 })))?.message).toStartWith("test.config.ts: retention.quiet_hour:");
    expect((await refusal(config({ keep_days: 3 })))?.message).toStartWith("test.config.ts: retention.keep_days:");
  });
});

describe("retention against the store", () => {
  const plan = async (retention: Record<string, unknown>) => planVacuum(store.query.bind(store), { config: await config(retention), now: NOW });

  it("refuses a table the store does not have, suggesting the closest", async () => {
    expect(await refusal(plan({ raw_days: { sys_sample: 7 } }))).toEqual({
      code: "config_invalid",
      message: 'test.config.ts: retention.raw_days.sys_sample: no table "sys_sample" in the store',
      hint: "did you mean sys_samples?",
    });
    // vc up checks as it starts, not at the quiet hour.
    expect((await refusal(checkRetention({ store, config: await config({ raw_days: { sys_sample: 7 } }) })))?.code).toBe("config_invalid");
  });

  it("refuses a table of current state, and a tier named as a raw table", async () => {
    expect((await refusal(plan({ raw_days: { alerts: 7 } })))?.message).toBe(
      "test.config.ts: retention.raw_days.alerts: alerts holds current state, not history (it has no time column)",
    );
    expect((await refusal(plan({ raw_days: { rollups_1m: 7 } })))?.message).toBe(
      'test.config.ts: retention.raw_days.rollups_1m: rollups_1m is a rollup tier; its span is rollup_days."1m"',
    );
  });

  it("refuses a deletion that would remove rows a timestamp cursor still needs, naming the table, and says nothing when deletion is off", async () => {
    // rano on m1 stopped 8 days ago: it will read again from then.
    await store.transaction((tx) => saveCursors(tx, "m1", "rano", { default: cursor.timestamp("2026-01-17T03:00:00Z") }, NOW));
    const retention = { raw_days: { rano_events: 5 }, delete: true };
    const refused = await refusal(plan(retention));
    expect(refused).toMatchObject({
      code: "config_invalid",
      message:
        'test.config.ts: retention.raw_days.rano_events: deleting rano_events rows before 2026-01-20T00:00:00.000Z would remove 69 row(s) the rano cursor "default" on m1 still needs (it reads again from 2026-01-17T03:00:00Z)',
    });
    expect(refused!.hint).toContain("keep rano_events longer");
    // The vacuum itself refuses before it deletes anything, and the refusal is in the audit log.
    expect((await refusal(runVacuum({ store, config: await config(retention), now: NOW })))?.code).toBe("config_invalid");
    expect(await store.query(sql`SELECT count(*)::INTEGER AS n FROM rano_events`)).toEqual([{ n: 240 }]);
    const [audit] = await store.query<{ result: string; error: string }>(sql`SELECT result, error FROM audit_events WHERE event_type = 'retention_vacuum'`);
    expect(audit).toMatchObject({ result: "failed", error: expect.stringContaining("rano_events") });
    // With deletion off nothing is removed, so nothing is refused.
    const off = await plan({ raw_days: { rano_events: 5 } });
    expect(off.tables.find((t) => t.table === "rano_events")).toMatchObject({ mode: "none", past_span: 117, delete_rows: 0 });
    // Once rano has read on, its cursor needs nothing before the cutoff.
    await store.transaction((tx) => saveCursors(tx, "m1", "rano", { default: cursor.timestamp("2026-01-25T02:00:00Z") }, NOW));
    expect((await plan(retention)).tables.find((t) => t.table === "rano_events")).toMatchObject({ mode: "delete", delete_rows: 117 });
  });

  it("keeps what an open incident's window uses", async () => {
    const has = (await store.query(sql`SELECT 1 FROM duckdb_tables() WHERE table_name = 'incidents'`)).length > 0;
    if (!has) {
      // Another part of vc makes this table; retention only reads these columns of it.
      await store.run(sql`CREATE TABLE incidents(incident_id VARCHAR PRIMARY KEY, title VARCHAR NOT NULL, severity VARCHAR NOT NULL, state VARCHAR NOT NULL,
        opened_at TIMESTAMP NOT NULL, closed_at TIMESTAMP, machines_json JSON NOT NULL, accounts_json JSON NOT NULL, repos_json JSON NOT NULL, updated_at TIMESTAMP NOT NULL)`);
    }
    await store.run(sql`INSERT INTO incidents (incident_id, title, severity, state, opened_at, machines_json, accounts_json, repos_json, updated_at)
      VALUES ('inc-20260118-1', 'disk full', 'critical', 'open', TIMESTAMP '2026-01-18 10:00:00', '["m1"]', '[]', '[]', TIMESTAMP '2026-01-18 10:00:00'),
             ('inc-20260116-1', 'old', 'high', 'closed', TIMESTAMP '2026-01-16 10:00:00', '["m1"]', '[]', '[]', TIMESTAMP '2026-01-16 12:00:00')`);
    const p = await plan({ raw_days: { rano_events: 5 }, delete: true });
    const t = p.tables.find((x) => x.table === "rano_events")!;
    // The open one opened on the 18th: its timeline reaches a day back, so the 17th on stays; the closed one holds nothing.
    expect(t.cutoff).toBe("2026-01-17T00:00:00.000Z");
    expect(t.kept_by).toEqual(["open incident inc-20260118-1 (opened 2026-01-18T10:00:00.000Z): its window"]);
    expect(t.delete_rows).toBe(45);
    await store.run(sql`DELETE FROM incidents`);
  });

  it("keeps the newest rows of a machine gone quiet (what latest-by-key views show)", async () => {
    await store.run(sql`INSERT INTO sys_samples (machine_id, collected_at, source, cpu_total) VALUES
      ('quiet', TIMESTAMP '2026-01-10 00:00:00', 'sysprobe', 10), ('quiet', TIMESTAMP '2026-01-11 00:00:00', 'sysprobe', 20),
      ('busy', TIMESTAMP '2026-01-11 00:00:00', 'sysprobe', 30), ('busy', TIMESTAMP '2026-01-25 02:00:00', 'sysprobe', 40)`);
    const c = await config({ raw_days: { sys_samples: 7 }, delete: true });
    const t = (await planVacuum(store.query.bind(store), { config: c, now: NOW })).tables.find((x) => x.table === "sys_samples")!;
    expect(t.keep).toEqual([{ machine_id: "quiet", from: "2026-01-11T00:00:00.000Z" }]);
    expect([t.past_span, t.delete_rows]).toEqual([2, 2]);
    await runVacuum({ store, config: c as VcConfig, now: clock.now() });
    expect(await store.query(sql`SELECT machine_id, cpu_total FROM sys_samples ORDER BY collected_at`)).toEqual([
      { machine_id: "quiet", cpu_total: 20 },
      { machine_id: "busy", cpu_total: 40 },
    ]);
  });
});
