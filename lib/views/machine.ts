import { selectTargets } from "../collect/scheduler.ts";
import type { MachineHealth } from "../health/index.ts";
import { coreSections, loadMachineSectionsReport, type MachineSection, type SectionError } from "../robot/machine.ts";
import { sql } from "../store/sql.ts";
import { arg, defineView } from "./define.ts";

/** `vc robot machine <id>`: the machine, its health, and one key per section (system, filesystems, …). */
export interface MachineView {
  machine: Record<string, unknown>;
  health: MachineHealth;
  /** Sections that failed (not a missing table): their data is null, the reason is here and in the warnings. */
  section_errors: SectionError[];
  [section: string]: unknown;
}

/** The sections of the machine view, in order: vc's own, then each plugin's. */
export function machineSections(plugins: readonly { machineSections?: readonly MachineSection[] }[]): MachineSection[] {
  return [...coreSections, ...plugins.flatMap((p) => p.machineSections ?? [])];
}

export default defineView({
  name: "machine",
  summary: "One machine: health factors, latest sample, disks, collectors, tools, and a section from each plugin that has data there",
  args: { id: arg.string("machine id", { positional: true, required: true, max: 200 }) },
  async run(vc, { id }) {
    selectTargets(vc.config, { machine: id });
    const h = await vc.health();
    const at = vc.clock.now().toISOString();
    const [machine] = await vc.store.query(sql`SELECT * FROM machines WHERE machine_id = ${id}`);
    const { sections, errors } = await loadMachineSectionsReport(machineSections(vc.config.plugins ?? []), { store: vc.store, machineId: id, at });
    const collectors = (sections.collectors ?? []) as Record<string, unknown>[];
    const staleness = Object.fromEntries(collectors.map((c) => [c.collector as string, (c.staleness_s as number | null) ?? null]));
    const warnings = collectors.filter((c) => c.last_result === "failed").map((c) => `${c.collector} failed: ${c.last_error}`);
    for (const e of errors) warnings.push(`section ${e.section} failed: ${e.error}`);
    const { machine_id: _id, ...rest } = (machine ?? {}) as Record<string, unknown>;
    const data: MachineView = { machine: { id, ...rest }, health: h.machines.find((m) => m.id === id)!, ...sections, section_errors: errors };
    return { data, staleness, warnings };
  },
});
