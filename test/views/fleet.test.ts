// `vc robot fleet` on the demo fleet with the tools' data: each row checked against the store's own
// rows (read here one machine at a time, by other queries than the view's), the pseudo filesystem
// left out of the fullest disk, open alerts counted, a stale poll marked, ntm's agents column, and
// a plugin column that throws reported without failing the view.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createFixedClock, definePlugin, openCockpit, resolveConfig, sql, type Cockpit, type MachineColumn } from "../../lib/index.ts";
import { isPseudoFilesystem } from "../../lib/health/filesystems.ts";
import { statementTrace } from "../../lib/store/store.ts";
import { sysprobe, toolPlugins } from "../../plugins/index.ts";
import { tempDir } from "../helpers/tmp.ts";
import { END, TOOLS_MACHINE, createTuiFleet } from "../tui/_fixture.ts";

setDefaultTimeout(120_000);

const dir = tempDir("vc-fleet-");
const at = END.toISOString();
const minus = (s: number) => new Date(END.getTime() - s * 1000).toISOString();
let vc: Cockpit;
let ids: string[];

const boom: MachineColumn = {
  name: "boom",
  title: "BOOM",
  unit: "text",
  load: async () => {
    throw new Error("the boom column broke");
  },
};
// A column over a table this store does not have (its plugin's migration never ran): empty, not an error.
const gone: MachineColumn = { name: "gone", title: "GONE", unit: "count", load: async (q) => (await q.store.query("SELECT machine_id FROM no_such_table"), {}) };

beforeAll(async () => {
  const fleet = await createTuiFleet(dir, { machines: 6 });
  ids = fleet.machines;
  const config = await resolveConfig(
    {
      db: fleet.db,
      data_dir: dir,
      polling: { interval_seconds: 120 },
      machines: ids.map((id) => ({ id, ssh: `demo@${id}.invalid` })),
      collectors: [sysprobe()],
      plugins: [...toolPlugins, definePlugin({ name: "flaky", machineColumns: [boom, gone] })],
    },
    { source: "fleet-test", env: {} },
  );
  vc = await openCockpit({ config, clock: createFixedClock(END) });
  await vc.store.transaction(async (tx) => {
    // node-02's newest df also lists a full /dev/shm: not a disk.
    await tx.run(sql`INSERT INTO filesystems (machine_id, collected_at, mount, filesystem, fs_type, size_bytes, used_bytes, avail_bytes, used_pct, source)
      VALUES ('node-02', ${at}::TIMESTAMP, '/dev/shm', 'tmpfs', 'tmpfs', 1000, 1000, 0, 100, 'sysprobe')`);
    // node-05: one alert pending, one resolved (the fixture put a firing one on node-01 … node-04).
    for (const [id, state] of [
      ["pending-1", "pending"],
      ["resolved-1", "resolved"],
    ]) {
      await tx.run(sql`INSERT INTO alerts (alert_id, rule_id, alert_type, machine_id, labels_json, severity, state, first_seen_at, last_seen_at, updated_at)
        VALUES (${id}, 'r', 'r', 'node-05', '{}', 'high', ${state}, ${minus(600)}::TIMESTAMP, ${minus(60)}::TIMESTAMP, ${minus(60)}::TIMESTAMP)`);
    }
    // node-06 last polled an hour ago (stale after 3 × 120 s); a later failed run does not count as a poll.
    await tx.run(sql`UPDATE collector_state SET last_ok_at = ${minus(3600)}::TIMESTAMP WHERE machine_id = 'node-06'`);
    await tx.run(sql`INSERT INTO collector_state VALUES ('node-06', 'ntm', ${minus(30)}::TIMESTAMP, 'failed', NULL, 'ntm: not found', 3)`);
  });
});
afterAll(async () => vc?.close());

const near = (a: number | null, b: number | null) => (a === null || b === null ? a === b : Math.abs(a - b) <= 0.006);
const pct = (used: number | null, total: number | null) => (used === null || !total ? null : (100 * used) / total);

describe("vc robot fleet", () => {
  it("answers one row per configured machine, each figure as the store's own rows say", async () => {
    const { data } = await vc.robotFleet();
    expect(data.machines.map((m) => m.id)).toEqual(ids);
    const health = await vc.health();
    const alerts = await vc.store.query<{ machine_id: string; state: string }>("SELECT machine_id, state FROM alerts");
    for (const row of data.machines) {
      const id = row.id;
      const h = health.machines.find((m) => m.id === id)!;
      expect([row.score, row.severity, row.top_issue]).toEqual([h.score, h.severity, h.top_issue]);
      const [s] = await vc.store.query<Record<string, number | null>>(
        sql`SELECT load5, cpu_cores, mem_used_bytes, mem_total_bytes, swap_used_bytes, swap_total_bytes FROM sys_samples
            WHERE machine_id = ${id} AND collected_at <= ${at}::TIMESTAMP ORDER BY collected_at DESC LIMIT 1`,
      );
      expect(row.load5).toBe(s!.load5!);
      expect(row.cpu_cores).toBe(s!.cpu_cores!);
      const expected = {
        load_per_core: s!.load5! / s!.cpu_cores!,
        mem_pct: pct(s!.mem_used_bytes!, s!.mem_total_bytes!),
        swap_pct: pct(s!.swap_used_bytes!, s!.swap_total_bytes!),
      };
      for (const k of ["load_per_core", "mem_pct", "swap_pct"] as const) expect({ id, k, ok: near(row[k], expected[k]) }).toEqual({ id, k, ok: true });
      const [{ newest }] = (await vc.store.query(sql`SELECT max(collected_at) AS newest FROM filesystems WHERE machine_id = ${id}`)) as [{ newest: string }];
      const disks = (
        await vc.store.query<{ mount: string; fs_type: string; filesystem: string; used_pct: number }>(
          sql`SELECT mount, fs_type, filesystem, used_pct FROM filesystems WHERE machine_id = ${id} AND collected_at = ${newest}::TIMESTAMP`,
        )
      ).filter((f) => !isPseudoFilesystem(f));
      const fullest = disks.reduce((a, b) => (b.used_pct > a.used_pct ? b : a));
      expect([row.disk_mount, row.disk_pct]).toEqual([fullest.mount, fullest.used_pct]);
      expect(row.alerts).toBe(alerts.filter((a) => a.machine_id === id && a.state !== "resolved").length);
    }
    // The full /dev/shm is not node-02's fullest disk; node-05 counts its pending alert, not the resolved one.
    expect(data.machines.find((m) => m.id === "node-02")!.disk_mount).not.toBe("/dev/shm");
    expect(data.machines.map((m) => m.alerts)).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it("gives the newest successful poll and marks a machine stale past the config's limit", async () => {
    const { data } = await vc.robotFleet();
    expect(data.stale_after_s).toBe(360);
    const states = await vc.store.query<{ machine_id: string; last_ok_at: string | null }>("SELECT machine_id, last_ok_at FROM collector_state");
    for (const row of data.machines) {
      const oks = states.filter((s) => s.machine_id === row.id && s.last_ok_at !== null).map((s) => Date.parse(s.last_ok_at!));
      const newest = Math.max(...oks);
      expect(row.last_poll_at).toBe(new Date(newest).toISOString());
      expect(row.poll_age_s).toBe((END.getTime() - newest) / 1000);
      expect(row.stale).toBe(row.poll_age_s! > 360);
    }
    expect(data.machines.filter((m) => m.stale).map((m) => [m.id, m.poll_age_s])).toEqual([["node-06", 3600]]);
  });

  it("fills each plugin column: ntm's agents from the newest ntm status", async () => {
    const { data } = await vc.robotFleet();
    expect(data.columns).toEqual([
      { name: "agents", title: "AGENTS", unit: "count" },
      { name: "boom", title: "BOOM", unit: "text" },
      { name: "gone", title: "GONE", unit: "count" },
    ]);
    const [ntm] = await vc.store.query<{ total_agents: number }>(
      sql`SELECT total_agents FROM ntm_activity_snapshot WHERE machine_id = ${TOOLS_MACHINE} ORDER BY collected_at DESC LIMIT 1`,
    );
    expect(ntm!.total_agents).toBeGreaterThan(0);
    expect(data.machines.map((m) => [m.id, m.columns.agents])).toEqual(ids.map((id) => [id, id === TOOLS_MACHINE ? ntm!.total_agents : null]));
  });

  it("reports a column that throws, with null cells, and still answers the rest", async () => {
    const r = await vc.robotFleet();
    expect(r.data.column_errors).toEqual([{ column: "boom", error: "the boom column broke" }]);
    expect(r.warnings).toContain("column boom failed: the boom column broke");
    // A column whose table is not there is empty, not an error.
    expect(r.warnings.filter((w) => w.includes("gone"))).toEqual([]);
    for (const m of r.data.machines) expect([m.columns.boom, m.columns.gone]).toEqual([null, null]);
    expect(r.data.machines.find((m) => m.id === TOOLS_MACHINE)!.columns.agents).toBeNumber();
  });

  it("filters machines by a piece of their id", async () => {
    expect((await vc.robotFleet({ machine: "03" })).data.machines.map((m) => m.id)).toEqual(["node-03"]);
    expect((await vc.robotFleet({ machine: "NODE-0" })).data.machines.map((m) => m.id)).toEqual(ids);
    const none = await vc.robotFleet({ machine: "gpu" });
    expect(none.data.machines).toEqual([]);
    expect(none.warnings[0]).toContain('no machine id contains "gpu"');
  });

  it("reads all machines in the same number of queries as one", async () => {
    const count = async (machine?: string) => {
      statementTrace.counts.clear();
      statementTrace.on = true;
      try {
        await vc.view("fleet", { machine });
      } finally {
        statementTrace.on = false;
      }
      return [...statementTrace.counts.values()].reduce((a, c) => a + c.n, 0);
    };
    const one = await count("node-01");
    expect(one).toBeGreaterThan(0);
    expect(await count()).toBe(one);
  });
});
