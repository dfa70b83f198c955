#!/usr/bin/env bun
// A demo fleet: fills a store with machines and their history, as vc would have collected it,
// and writes a config naming those machines. For demos, screenshots and benchmarks.
//
//   bun examples/demo-fleet.ts --out /tmp/demo --machines 20 --days 30 [--tools] [--no-alerts]
//   bun vc robot health --config /tmp/demo/vc.config.ts
//   bun vc tui --config /tmp/demo/vc.config.ts --no-poll
//
// Every value is derived from (machine, sample) by a hash, so the same arguments give the same
// store. A few machines are made unhealthy on purpose: one disk nearly full, one overloaded, one
// gone quiet (stale), one swapping.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createFixedClock, finishCycle, openStore, resolveConfig } from "../lib/index.ts";
import { defaultRules, sysprobe, toolPlugins } from "../plugins/index.ts";
import { addDemoToolData, DEMO_TOOLS_END } from "./demo-tools.ts";

export interface DemoFleetOptions {
  /** Folder for vc.duckdb and vc.config.ts (replaced). */
  out: string;
  machines?: number;
  days?: number;
  /** Seconds between samples (default 120). */
  intervalSeconds?: number;
  /** The last sample's time (default: now, to the minute; with `tools`, just after the tools' records). */
  end?: Date;
  /** Also what the tools (caut, caam, pt, dcg, ntm, mcp_agent_mail) say about node-03, from their real outputs (examples/demo-tools.ts). */
  tools?: boolean;
  /** Evaluate the default rules every interval over the last 30 minutes, so alerts have fired as `vc up` would have fired them. */
  alerts?: boolean;
}

export interface DemoFleet {
  db: string;
  config: string;
  end: Date;
  machines: string[];
  samples: number;
}

/** Writes the demo store and config; returns where they are. */
export async function createDemoFleet(o: DemoFleetOptions): Promise<DemoFleet> {
  const machines = o.machines ?? 20;
  const days = o.days ?? 30;
  const every = o.intervalSeconds ?? 120;
  const end = o.end ?? (o.tools ? DEMO_TOOLS_END : new Date(Math.floor(Date.now() / 60_000) * 60_000));
  const steps = Math.floor((days * 86_400) / every);
  const start = new Date(end.getTime() - (steps - 1) * every * 1000);
  const out = resolve(o.out);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const db = join(out, "vc.duckdb");
  const ids = Array.from({ length: machines }, (_, i) => `node-${String(i + 1).padStart(2, "0")}`);
  const [diskFull, overloaded, quiet, swapping] = [ids[6], ids[12], ids[18], ids[3]];

  // Generating a month of 20 machines' samples in a few statements needs more than vc's 128 MB default.
  const store = await openStore({ path: db, limits: { memoryLimit: "2GB" } });
  const t0 = `TIMESTAMP '${start.toISOString().replace("T", " ").replace("Z", "")}'`;
  // r(k) is a repeatable number in [0,1) for this machine and sample.
  const r = (k: number) => `((hash(m, i, ${k}) % 1000000) / 1000000.0)`;
  const day = `sin(2 * pi() * ((i * ${every}) % 86400) / 86400.0)`;
  const last = steps - 1;
  const samples = `SELECT m, i, 'node-' || lpad((m + 1)::VARCHAR, 2, '0') AS machine_id, ${t0} + to_seconds(i * ${every}) AS collected_at
    FROM range(0, ${steps}) s(i), range(0, ${machines}) n(m)
    WHERE NOT ('node-' || lpad((m + 1)::VARCHAR, 2, '0') = '${quiet}' AND i > ${last} - ${Math.ceil(7200 / every)})`;
  await store.transaction(async (tx) => {
    await tx.run(`INSERT INTO sys_samples (machine_id, collected_at, source, source_version, schema_version, cpu_total, cpu_cores, load1, load5, load15,
        mem_used_bytes, mem_total_bytes, mem_available_bytes, swap_used_bytes, swap_total_bytes, uptime_seconds, procs_running, procs_total)
      SELECT machine_id, collected_at, 'sysprobe', '1.0.0', 1,
        least(100, 35 + 25 * ${day} + 30 * ${r(1)}) AS cpu_total,
        16 AS cpu_cores,
        CASE WHEN machine_id = '${overloaded}' AND i > ${last} - 30 THEN 38 + 4 * ${r(2)} ELSE 4 + 6 * ${r(2)} + 3 * ${day} END AS load1,
        CASE WHEN machine_id = '${overloaded}' AND i > ${last} - 30 THEN 36 + 2 * ${r(3)} ELSE 4 + 5 * ${r(3)} + 3 * ${day} END AS load5,
        4 + 4 * ${r(4)} AS load15,
        CAST((0.45 + 0.3 * ${r(5)}) * 68719476736 AS BIGINT) AS mem_used_bytes,
        68719476736 AS mem_total_bytes,
        CAST((0.55 - 0.3 * ${r(5)}) * 68719476736 AS BIGINT) AS mem_available_bytes,
        CASE WHEN machine_id = '${swapping}' THEN CAST(least(1, i / ${steps}.0 * 1.5) * 6442450944 AS BIGINT) ELSE 0 END AS swap_used_bytes,
        8589934592 AS swap_total_bytes,
        i * ${every} AS uptime_seconds,
        CAST(1 + 8 * ${r(6)} AS INTEGER), CAST(400 + 200 * ${r(7)} AS INTEGER)
      FROM (${samples}) ORDER BY collected_at, machine_id
      ON CONFLICT DO NOTHING`);
    await tx.run(`INSERT INTO filesystems (machine_id, collected_at, mount, filesystem, fs_type, size_bytes, used_bytes, avail_bytes, used_pct, source, source_version, schema_version)
      SELECT machine_id, collected_at, mnt, dev, 'ext4', size, used, size - used, round(used * 100.0 / size, 2), 'sysprobe', '1.0.0', 1
      FROM (
        SELECT machine_id, collected_at, '/' AS mnt, '/dev/nvme0n1p2' AS dev, 512000000000 AS size,
          CAST(512000000000 * (0.35 + 0.2 * i / ${steps}.0) AS BIGINT) AS used, i, m FROM (${samples})
        UNION ALL
        SELECT machine_id, collected_at, '/data', '/dev/nvme1n1', 2000000000000,
          CAST(2000000000000 * CASE WHEN machine_id = '${diskFull}' THEN least(0.97, 0.6 + 0.4 * i / ${steps}.0) ELSE 0.4 + 0.25 * ${r(8)} END AS BIGINT), i, m
        FROM (${samples})
      ) ORDER BY collected_at, machine_id
      ON CONFLICT DO NOTHING`);
    for (const id of ids) {
      await tx.run(`INSERT INTO machines VALUES ('${id}', 'demo@${id}.invalid', '["demo"]', '[]', false, false, ${t0}, ${t0}, NULL) ON CONFLICT DO NOTHING`);
    }
    await tx.run(`INSERT INTO collector_state (machine_id, collector, last_run_at, last_result, last_ok_at, last_error, consecutive_failures)
      SELECT machine_id, 'sysprobe', max(collected_at), 'ok', max(collected_at), NULL, 0 FROM sys_samples GROUP BY machine_id
      ON CONFLICT DO NOTHING`);
    await tx.run(
      `UPDATE machines SET last_seen_at = s.at, last_ok_at = s.at FROM (SELECT machine_id AS id, max(collected_at) AS at FROM sys_samples GROUP BY 1) s WHERE machines.machine_id = s.id`,
    );
  });
  const { n } = (await store.query<{ n: number }>("SELECT count(*)::BIGINT AS n FROM sys_samples"))[0]!;
  await store.close();

  const config = join(out, "vc.config.ts");
  writeFileSync(
    config,
    `// A demo fleet written by examples/demo-fleet.ts: ${machines} machines, ${days} days every ${every} s.
import { defineConfig } from "vibe-cockpit";
import { sysprobe, toolPlugins } from "vibe-cockpit/plugins";

export default defineConfig({
  db: ${JSON.stringify(db)},
  polling: { interval_seconds: ${every} },
  machines: ${JSON.stringify(ids.map((id) => ({ id, ssh: `demo@${id}.invalid` })))},
  collectors: [sysprobe()],
  // The tools' views and sections read the demo's tool data (no collectors: the hosts are made up).
  plugins: toolPlugins,
});
`,
  );
  if (o.tools && ids.length >= 3) await addDemoToolData(db, { machine: ids[2]!, end });
  if (o.alerts) await replayCycles(db, ids, every, end);
  return { db, config, end, machines: ids, samples: n };
}

/** The end of each poll cycle over the last 30 minutes: health, rules, alerts and snapshots, as `vc up` writes them. */
async function replayCycles(db: string, ids: string[], every: number, end: Date): Promise<void> {
  const config = await resolveConfig(
    {
      db,
      polling: { interval_seconds: every },
      machines: ids.map((id) => ({ id, ssh: `demo@${id}.invalid` })),
      collectors: [sysprobe()],
      plugins: toolPlugins,
      rules: defaultRules(),
    },
    { source: "examples/demo-fleet.ts" },
  );
  const store = await openStore({ path: db });
  try {
    for (let t = end.getTime() - 30 * 60_000; t <= end.getTime(); t += every * 1000) {
      await finishCycle({ store, config, clock: createFixedClock(new Date(t)), rules: config.rules, channels: [] });
    }
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: "./demo-fleet" },
      machines: { type: "string", default: "20" },
      days: { type: "string", default: "30" },
      interval: { type: "string", default: "120" },
      end: { type: "string" },
      tools: { type: "boolean", default: false },
      "no-alerts": { type: "boolean", default: false },
    },
  });
  const t = performance.now();
  const fleet = await createDemoFleet({
    out: values.out!,
    machines: Number(values.machines),
    days: Number(values.days),
    intervalSeconds: Number(values.interval),
    end: values.end ? new Date(values.end) : undefined,
    tools: values.tools,
    alerts: !values["no-alerts"],
  });
  console.error(`${fleet.samples.toLocaleString("en")} samples for ${fleet.machines.length} machines in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  console.log(`store:  ${fleet.db}\nconfig: ${fleet.config}\nnow:    ${fleet.end.toISOString()}`);
  console.log(`try:    VC_NOW=${fleet.end.toISOString()} bun vc robot health --config ${fleet.config}`);
  console.log(`        VC_NOW=${fleet.end.toISOString()} bun vc tui --config ${fleet.config} --no-poll`);
}
