// What sysmoni adds beyond its collector: the machine view's busiest processes.
import { definePlugin, latestAt, sql, type MachineSection } from "vibe-cockpit";

export const topProcessesSection: MachineSection = {
  name: "top_processes",
  async load(q) {
    const rows = await q.store.query<
      Record<string, unknown>
    >(sql`SELECT collected_at, pid, comm, cpu_pct, mem_pct, mem_bytes, nice, fd_count, fd_diff, io_read_kib_s, io_write_kib_s
        FROM sys_top_processes WHERE machine_id = ${q.machineId} AND collected_at = ${latestAt("sys_top_processes", q)} ORDER BY rank, pid LIMIT 15`);
    if (rows.length === 0) return null;
    return { collected_at: rows[0]!.collected_at, processes: rows.map(({ collected_at: _c, ...p }) => p) };
  },
};

export const sysmoniPlugin = definePlugin({ name: "sysmoni", machineSections: [topProcessesSection] });
