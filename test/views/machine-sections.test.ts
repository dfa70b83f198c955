// A machine section that fails is said, not hidden: `vc robot machine` keeps its data null, names
// it in `section_errors` and in the warnings; a section whose table is not there (an older store)
// stays a quiet null.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { createFixedClock, definePlugin, loadMachineSections, openCockpit, resolveConfig, sql, type Cockpit, type MachineSection } from "../../lib/index.ts";
import { tempDir } from "../helpers/tmp.ts";

const T = new Date("2026-03-10T12:00:00.000Z");
const dir = tempDir("vc-sections-");
let vc: Cockpit;

const sections: MachineSection[] = [
  {
    name: "kaput",
    load: async () => {
      throw new Error("the kaput section broke");
    },
  },
  // A table the store does not have: no data yet, not a failure.
  { name: "missing", load: (q) => q.store.query(sql`SELECT * FROM no_such_table WHERE machine_id = ${q.machineId}`) },
  // A table it has, asked for a column it has not: a bug in the section, said.
  { name: "misread", load: (q) => q.store.query(sql`SELECT no_such_column FROM sys_samples WHERE machine_id = ${q.machineId}`) },
  { name: "fine", load: async (q) => ({ machine: q.machineId }) },
];

beforeAll(async () => {
  const config = await resolveConfig(
    { db: join(dir, "vc.duckdb"), data_dir: dir, machines: [{ id: "m1", ssh: "local" }], collectors: [], plugins: [definePlugin({ name: "sections", machineSections: sections })] },
    { source: "sections-test", env: {} },
  );
  vc = await openCockpit({ config, clock: createFixedClock(T) });
  await vc.store.insert("sys_samples", [{ machine_id: "m1", collected_at: T.toISOString(), source: "sysprobe", load5: 0.5, cpu_cores: 2 }]);
});
afterAll(async () => vc?.close());

describe("machine sections that fail", () => {
  it("are null in the machine view, named in section_errors and in the warnings", async () => {
    const r = await vc.robotMachine("m1");
    const data = r.data as Record<string, unknown>;
    expect([data.kaput, data.missing, data.misread, data.fine]).toEqual([null, null, null, { machine: "m1" }]);
    const errors = data.section_errors as { section: string; error: string }[];
    expect(errors.map((e) => e.section)).toEqual(["kaput", "misread"]);
    expect(errors[0]!.error).toBe("the kaput section broke");
    expect(errors[1]!.error).toContain("no_such_column");
    expect(r.warnings).toContain("section kaput failed: the kaput section broke");
    expect(r.warnings.filter((w) => w.includes("missing"))).toEqual([]);
    // vc's own sections still answer.
    expect(data.system).toMatchObject({ load5: 0.5, cpu_cores: 2 });
  });

  it("make loadMachineSections throw, naming the section", async () => {
    const q = { store: vc.store, machineId: "m1", at: T.toISOString() };
    expect(await loadMachineSections([sections[1]!, sections[3]!], q)).toEqual({ missing: null, fine: { machine: "m1" } });
    const err = await loadMachineSections(sections, q).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err).toMatchObject({ code: "query_failed", message: "machine section kaput failed: the kaput section broke" });
  });
});
