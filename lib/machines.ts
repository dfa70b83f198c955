import type { Clock } from "./clock.ts";
import type { VcConfig } from "./config/define.ts";
import { ensureTools, probeTools } from "./collect/probe.ts";
import { mapPool } from "./_pool.ts";
import { machineInfo, PUSHED, type ExecutorFactory } from "./collect/scheduler.ts";
import { errorMessage } from "./errors.ts";
import type { SshStatus } from "./exec/ssh.ts";
import { sql } from "./store/sql.ts";
import type { Store } from "./store/store.ts";

/** A machine as `vc machines list` shows it: from the config and the store, no network. */
export interface MachineListing {
  id: string;
  ssh: string;
  /** polled: vc reaches it (locally or over SSH); pushed: its own vc node publishes its runs through NATS. */
  mode: "polled" | "pushed";
  tags: string[];
  roles: string[];
  allow_write_commands: boolean;
  allow_autopilot: boolean;
  first_seen_at: string | null;
  last_seen_at: string | null;
  /** The last poll in which a collector succeeded there. */
  last_ok_at: string | null;
  tools_found: number;
  tools_missing: number;
}

/** What `vc machines probe` and `vc doctor` find by connecting. */
export interface MachineProbe {
  id: string;
  ssh: string;
  reachable: boolean;
  error: string | null;
  /** "local", "agent" or "publickey <file>". */
  auth_method: string | null;
  /** `fix`: for an unknown or changed key, the exact command(s) that fix it. */
  host_key: { status: string; type?: string; fingerprint?: string; fix?: string };
  latency_ms: number | null;
  tools: Record<string, { available: boolean; path: string | null; version: string | null }>;
  last_ok_at: string | null;
}

/** The tools a machine's collectors need. */
export function wantedTools(config: VcConfig, machineId: string): string[] {
  const m = config.machines.find((x) => x.id === machineId);
  const mine = config.collectors.filter((c) => !m?.collectors || m.collectors.includes(c.name));
  return [...new Set(mine.flatMap((c) => c.requires?.commands ?? []))];
}

/** Every configured machine with what the store knows of it. */
export async function listMachines(store: Store, config: VcConfig, at?: Date): Promise<MachineListing[]> {
  // As of a past moment (the time machine): first seen if by then, last seen and last ok as the
  // newest system sample collected by then says (a successful poll writes one).
  const known = await store.query<{ machine_id: string; first_seen_at: string; last_seen_at: string; last_ok_at: string | null }>(
    at === undefined
      ? "SELECT machine_id, first_seen_at, last_seen_at, last_ok_at FROM machines"
      : sql`SELECT m.machine_id, m.first_seen_at, s.last AS last_seen_at, s.last AS last_ok_at FROM machines m
            LEFT JOIN (SELECT machine_id, max(collected_at) AS last FROM sys_samples WHERE collected_at <= ${at.toISOString()}::TIMESTAMP GROUP BY machine_id) s USING (machine_id)
            WHERE m.first_seen_at <= ${at.toISOString()}::TIMESTAMP`,
  );
  const tools = await store.query<{ machine_id: string; found: number; missing: number }>(
    "SELECT machine_id, count(*) FILTER (WHERE available)::INTEGER AS found, count(*) FILTER (WHERE NOT available)::INTEGER AS missing FROM machine_tool_capabilities GROUP BY machine_id",
  );
  return config.machines.map((m) => {
    const k = known.find((x) => x.machine_id === m.id);
    const t = tools.find((x) => x.machine_id === m.id);
    return {
      id: m.id,
      ssh: m.ssh,
      mode: m.ssh === PUSHED ? ("pushed" as const) : ("polled" as const),
      tags: m.tags,
      roles: m.roles,
      allow_write_commands: m.allow_write_commands,
      allow_autopilot: m.allow_autopilot,
      first_seen_at: k?.first_seen_at ?? null,
      last_seen_at: k?.last_seen_at ?? null,
      last_ok_at: k?.last_ok_at ?? null,
      tools_found: t?.found ?? 0,
      tools_missing: t?.missing ?? 0,
    };
  });
}

/**
 * Connects to each machine (bounded by max_machines_in_flight), checks it answers, and probes its
 * tools afresh (cached in machine_tool_capabilities when the store is writable).
 */
export async function probeMachines(o: { store: Store; config: VcConfig; clock: Clock; executorFor: ExecutorFactory; ids?: string[] }): Promise<MachineProbe[]> {
  const { store, config, clock } = o;
  // A pushed machine is never reached from here: its node's batches say how it is (vc doctor's ingest checks).
  const targets = (o.ids ? config.machines.filter((m) => o.ids!.includes(m.id)) : config.machines).filter((m) => m.ssh !== PUSHED);
  const lastOk = new Map(
    (await store.query<{ machine_id: string; last_ok_at: string | null }>(sql`SELECT machine_id, last_ok_at FROM machines`)).map((r) => [r.machine_id, r.last_ok_at]),
  );
  const probe = async (m: VcConfig["machines"][number]): Promise<MachineProbe> => {
    const base = { id: m.id, ssh: m.ssh, last_ok_at: lastOk.get(m.id) ?? null };
    let exec: Awaited<ReturnType<ExecutorFactory>> | undefined;
    try {
      exec = await o.executorFor(machineInfo(m));
      const t0 = performance.now();
      const r = await exec.run(["echo", "vc-ok"], { timeoutMs: config.polling.connect_timeout_seconds * 1000 + 5000 });
      const latency = performance.now() - t0;
      if (r.stdout.trim() !== "vc-ok") throw new Error(`the machine answered ${JSON.stringify(r.stdout.slice(0, 60))} to echo`);
      const wanted = wantedTools(config, m.id);
      const tools = store.readOnly ? await probeTools(exec, wanted) : await ensureTools(store, exec, wanted, { clock, ttlHours: 0, force: true });
      return { ...base, reachable: true, error: null, ...access(exec), latency_ms: Math.round(latency), tools };
    } catch (err) {
      return {
        ...base,
        reachable: false,
        error: errorMessage(err),
        ...(exec ? access(exec) : { auth_method: null, host_key: { status: "not-checked" } }),
        latency_ms: null,
        tools: {},
      };
    }
  };
  return mapPool(targets, config.polling.max_machines_in_flight, probe);
}

function access(exec: { kind: string; status?: () => SshStatus }): Pick<MachineProbe, "auth_method" | "host_key"> {
  if (exec.kind === "local" || !exec.status) return { auth_method: "local", host_key: { status: "not-applicable" } };
  const s = exec.status();
  return { auth_method: s.authMethod, host_key: s.hostKey };
}
