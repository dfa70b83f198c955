import { clockFromEnv, type Clock } from "./clock.ts";
import type { Collector } from "./collect/define.ts";
import { searchContent, type SearchOptions, type SearchResult } from "./search.ts";
import { machineInfo, runCycle, selectTargets, syncMachines, type CycleReport, type ExecutorFactory } from "./collect/scheduler.ts";
import type { RunRecord } from "./collect/run.ts";
import type { VcConfig } from "./config/define.ts";
import { loadConfig, type LoadConfigOptions } from "./config/load.ts";
import { VcError } from "./errors.ts";
import { createLocalExecutor, expandHome } from "./exec/local.ts";
import { createSshExecutor, type SshExecutorOptions } from "./exec/ssh.ts";
import { resolveSshTarget } from "./exec/_ssh-target.ts";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { Executor } from "./exec/types.ts";
import { computeHealth, type FleetHealth, type MachineHealth } from "./health/index.ts";
import { envelope, type RobotEnvelope } from "./robot/envelope.ts";
import { recordAudit } from "./audit.ts";
import { finishCycle, healthAt, type CycleOutcome } from "./cycle.ts";
import { triage, type Triage } from "./triage.ts";
import { ackAlert, explainAlert, listAlerts, silenceAlerts, type AlertView, type SilenceInput } from "./alerts/ops.ts";
import { reposView, systemSections, type ReposData } from "./robot/repos.ts";
import { accountSections, accountsView, type AccountsData } from "./robot/accounts.ts";
import { mailSections } from "./robot/mail.ts";
import { listMachines, probeMachines, type MachineListing, type MachineProbe } from "./machines.ts";
import { coreSections, loadMachineSections, type MachineSection } from "./robot/machine.ts";
import { queryReadOnly } from "./store/readonly.ts";
import { sql } from "./store/sql.ts";
import { openStore, type QueryResult, type Store } from "./store/store.ts";
import { toMigrations, type MigrationSource } from "./store/migrate.ts";

export interface OpenCockpitOptions extends LoadConfigOptions {
  /** A config already loaded (skips discovery). */
  config?: VcConfig;
  clock?: Clock;
  /** Open the store read-only (robot views, `vc query`). */
  readOnly?: boolean;
  /** Collectors that run even when the config leaves them out (the CLI passes the fallback probe). */
  alwaysOn?: readonly Collector[];
  /** How to reach a machine; defaults to local for ssh = "local". */
  executorFor?: ExecutorFactory;
}

/** Everything a front end or a user script asks of vc, over one store. */
export interface Cockpit {
  readonly config: VcConfig;
  readonly store: Store;
  readonly clock: Clock;
  /** One poll cycle (or part of one), ending with health, rules, alerts, delivery and a snapshot. */
  collect(options?: { machine?: string; collector?: string; force?: boolean; signal?: AbortSignal; onRun?: (r: RunRecord) => void }): Promise<CycleReport & { outcome: CycleOutcome }>;
  /** Called with each cycle's outcome (the watch stream); returns an unsubscribe function. */
  subscribe(listener: (outcome: CycleOutcome) => void): () => void;
  /** Active alerts (all: resolved ones too). */
  alerts(options?: { all?: boolean }): Promise<AlertView[]>;
  ack(id: string, options: { by: string; note?: string }): Promise<AlertView>;
  silence(input: Omit<SilenceInput, "at">): Promise<{ silence_id: string; matches: number }>;
  explain(id: string): Promise<Awaited<ReturnType<typeof explainAlert>>>;
  health(): Promise<FleetHealth>;
  /** `vc robot health`: health in the robot envelope. */
  robotHealth(): Promise<RobotEnvelope<{ overall: FleetHealth["overall"]; machines: Omit<MachineHealth, "factors">[] }>>;
  /** `vc robot accounts`: caut usage per account, caam profiles and tools, provider events. */
  robotAccounts(): Promise<RobotEnvelope<AccountsData>>;
  /** `vc robot repos`: per machine, repos with dirty, ahead/behind, last commit and ready beads. */
  robotRepos(): Promise<RobotEnvelope<ReposData>>;
  /** `vc robot triage`: the top issues ranked, each with why and suggested commands. */
  robotTriage(options?: { limit?: number }): Promise<RobotEnvelope<Triage & { overall: FleetHealth["overall"] }>>;
  /** `vc robot alerts`: active alerts (all: resolved too). */
  robotAlerts(options?: { all?: boolean }): Promise<RobotEnvelope<{ alerts: AlertView[] }>>;
  /** `vc robot health --at T`: the fleet as snapshotted at or before T. */
  robotHealthAt(at: Date): Promise<RobotEnvelope<unknown>>;
  /** `vc robot machine <id>`. */
  robotMachine(id: string): Promise<RobotEnvelope<MachineView>>;
  /** Read-only SQL over the store. */
  query(text: string): Promise<QueryResult>;
  doctor(): Promise<DoctorReport>;
  /** `vc machines list`: the inventory with what the store knows, no network. */
  machines(): Promise<MachineListing[]>;
  /** `vc machines probe [id]`: connect, check, probe tools afresh. */
  probeMachines(ids?: string[]): Promise<MachineProbe[]>;
  /** Content search through the tools that index it (cass): hits per machine, and who could not answer. */
  search(query: string, options?: Omit<SearchOptions, "signal">): Promise<SearchResult>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** `vc robot machine <id>`: the machine, its health, and one key per section (system, filesystems, …). */
export interface MachineView {
  machine: Record<string, unknown>;
  health: MachineHealth;
  [section: string]: unknown;
}

/** The sections of the machine view, in order. Areas with more data add theirs here. */
export const machineSections: MachineSection[] = [...coreSections, ...systemSections, ...accountSections, ...mailSections];

export interface DoctorCheck {
  check: string;
  ok: boolean;
  detail: string;
}
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  machines: MachineProbe[];
  collectors: { machine: string; collector: string; last_run_at: string | null; last_result: string | null; last_ok_at: string | null; last_error: string | null }[];
}

/** The migrations each configured plugin brings, as sources for the store. */
export function pluginMigrations(collectors: readonly Collector[]): MigrationSource[] {
  return collectors.filter((c) => c.migrations).map((c) => ({ source: c.name, migrations: toMigrations(c.migrations!, `plugin ${c.name}`) }));
}

/**
 * How vc reaches machines by default: this one with Bun.spawn, the others over one pooled SSH
 * connection each. Keys trusted on first use go to `<data_dir>/known_hosts` and the audit log.
 */
export function createExecutorFactory(config: VcConfig, o: { env?: Record<string, string | undefined>; onTrust?: SshExecutorOptions["onTrust"] } = {}): ExecutorFactory {
  const env = o.env ?? process.env;
  const localHome = env.HOME ?? homedir();
  return (m) => {
    const machine = config.machines.find((x) => x.id === m.id);
    if (m.ssh === "local") return createLocalExecutor({ machineId: m.id });
    const target = resolveSshTarget(m.ssh, { home: localHome, defaultUser: env.USER ?? userInfo().username });
    return createSshExecutor({
      machineId: m.id,
      target,
      localHome,
      knownHosts: machine?.known_hosts?.map((f) => expandHome(f, localHome)),
      tofuKnownHosts: join(config.data_dir, "known_hosts"),
      trustOnFirstUse: machine?.trust_on_first_use ?? false,
      identityFile: machine?.identity_file,
      connectTimeoutMs: config.polling.connect_timeout_seconds * 1000,
      keepaliveMs: config.polling.keepalive_seconds * 1000,
      maxChannels: config.polling.max_channels_per_machine,
      onTrust: o.onTrust,
    });
  };
}

/**
 * Loads the config, opens the store and returns the cockpit: the one API behind the CLI,
 * the robot views and a user's own scripts.
 * @example await using vc = await openCockpit({ readOnly: true }); console.log(await vc.health())
 */
export async function openCockpit(options: OpenCockpitOptions = {}): Promise<Cockpit> {
  const clock = options.clock ?? clockFromEnv(options.env);
  const loaded = options.config ?? (await loadConfig(options));
  const names = new Set(loaded.collectors.map((c) => c.name));
  const config: VcConfig = { ...loaded, collectors: [...(options.alwaysOn ?? []).filter((c) => !names.has(c.name)), ...loaded.collectors] };
  const store = await openStore({ path: config.db, readOnly: options.readOnly, clock, pluginMigrations: pluginMigrations(config.collectors) });
  // A key trusted on first use is written to the audit log as it happens (never silently).
  const audits: Promise<unknown>[] = [];
  const listeners = new Set<(o: CycleOutcome) => void>();
  let cycles: Promise<unknown> = Promise.resolve();
  const onTrust: SshExecutorOptions["onTrust"] = (e) => {
    if (store.readOnly) return;
    audits.push(
      store.transaction((tx) =>
        recordAudit(tx, { ts: clock.now(), eventType: "host_key_trusted", actor: "vc", machineId: e.machineId, action: `trust ${e.host}:${e.port}`, result: "ok", details: e }),
      ),
    );
  };
  const executorFor = options.executorFor ?? createExecutorFactory(config, { env: options.env, onTrust });
  const executors = new Map<string, Executor>();
  const execFor: ExecutorFactory = async (m) => {
    let e = executors.get(m.id);
    if (!e) executors.set(m.id, (e = await executorFor(m)));
    return e;
  };

  async function health() {
    return computeHealth(store, config, clock.now());
  }

  const cockpit: Cockpit = {
    config,
    store,
    clock,
    collect(o = {}) {
      // One cycle at a time: a file-triggered collect waits for the poll in progress, and the other way round.
      const run = cycles.then(async () => {
        const report = await runCycle({ store, config, clock, executorFor: execFor, ...o });
        await Promise.all(audits.splice(0));
        const outcome = await finishCycle({ store, config, clock, rules: config.rules, channels: config.channels });
        for (const l of listeners) l(outcome);
        return { ...report, outcome };
      });
      cycles = run.catch(() => {});
      return run;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    alerts: (o = {}) => listAlerts(store, { all: o.all, at: clock.now().toISOString() }),
    ack: (id, o) => ackAlert(store, id, { ...o, at: clock.now() }),
    silence: (input) => silenceAlerts(store, { ...input, at: clock.now() }),
    explain: (id) => explainAlert(store, config.rules, id),
    health,
    async robotHealth() {
      const h = await health();
      return envelope(
        "health",
        { overall: h.overall, machines: h.machines.map(({ factors: _f, ...m }) => m) },
        { now: clock.now(), staleness: h.staleness, warnings: h.warnings },
      );
    },
    async robotTriage(o = {}) {
      const now = clock.now();
      const [h, alerts] = await Promise.all([health(), listAlerts(store, { at: now.toISOString() })]);
      return envelope("triage", { overall: h.overall, ...triage(alerts, h, now, o.limit) }, { now, staleness: h.staleness, warnings: h.warnings });
    },
    async robotAlerts(o = {}) {
      const now = clock.now();
      return envelope("alerts", { alerts: await listAlerts(store, { all: o.all, at: now.toISOString() }) }, { now });
    },
    async robotHealthAt(at) {
      const snap = await healthAt(store, at);
      if (!snap) throw new VcError("not_found", `no fleet snapshot at or before ${at.toISOString()}`, { hint: "snapshots are written at the end of each poll cycle" });
      const { overall, machines, firing, staleness, warnings } = snap.summary;
      return envelope("health", { overall, machines, firing, snapshot_at: snap.collected_at }, { now: clock.now(), staleness: staleness ?? {}, warnings: warnings ?? [] });
    },
    async robotAccounts() {
      const now = clock.now();
      const staleAfterSeconds = config.polling.interval_seconds * config.polling.stale_after_intervals;
      const { data, staleness, warnings } = await accountsView(store, now.toISOString(), { staleAfterSeconds });
      return envelope("accounts", data, { now, staleness, warnings });
    },
    async robotRepos() {
      const now = clock.now();
      const { data, staleness, warnings } = await reposView(store, now.toISOString());
      return envelope("repos", data, { now, staleness, warnings });
    },
    async robotMachine(id) {
      selectTargets(config, { machine: id });
      const h = await health();
      const at = clock.now().toISOString();
      const [machine] = await store.query(sql`SELECT * FROM machines WHERE machine_id = ${id}`);
      const sections = await loadMachineSections(machineSections, { store, machineId: id, at });
      const collectors = (sections.collectors ?? []) as Record<string, unknown>[];
      const staleness = Object.fromEntries(collectors.map((c) => [c.collector as string, (c.staleness_s as number | null) ?? null]));
      const warnings = collectors.filter((c) => c.last_result === "failed").map((c) => `${c.collector} failed: ${c.last_error}`);
      const { machine_id: _id, ...rest } = (machine ?? {}) as Record<string, unknown>;
      return envelope("machine", { machine: { id, ...rest }, health: h.machines.find((m) => m.id === id)!, ...sections }, { now: clock.now(), staleness, warnings });
    },
    query: (text) => queryReadOnly(store, text),
    async doctor() {
      const checks: DoctorCheck[] = [
        { check: "config", ok: true, detail: `${config.source}: ${config.machines.length} machine(s), ${config.collectors.length} collector(s)` },
        { check: "store", ok: !store.readOnly, detail: `${store.path} ${store.readOnly ? "opened read-only" : "writable, migrations current"}` },
      ];
      if (!store.readOnly) await syncMachines(store, config, clock.now());
      const machines = await probeMachines({ store, config, clock, executorFor: execFor });
      for (const m of machines) {
        const how = m.auth_method === "local" ? "local" : `${m.auth_method}, host key ${m.host_key.status}`;
        checks.push({ check: `machine ${m.id}`, ok: m.reachable, detail: m.reachable ? `reachable (${how}, ${m.latency_ms} ms)` : (m.error ?? "unreachable") });
      }
      const states = await store.query<DoctorReport["collectors"][number] & { machine_id: string }>(
        "SELECT machine_id, collector, last_run_at, last_result, last_ok_at, last_error FROM collector_state",
      );
      const collectors: DoctorReport["collectors"] = [];
      for (const m of config.machines) {
        for (const c of config.collectors.filter((c) => !m.collectors || m.collectors.includes(c.name))) {
          const s = states.find((x) => x.machine_id === m.id && x.collector === c.name);
          collectors.push({ machine: m.id, collector: c.name, last_run_at: s?.last_run_at ?? null, last_result: s?.last_result ?? null, last_ok_at: s?.last_ok_at ?? null, last_error: s?.last_error ?? null });
        }
      }
      return { ok: checks.every((c) => c.ok), checks, machines, collectors };
    },
    machines: () => listMachines(store, config),
    async probeMachines(ids) {
      for (const id of ids ?? []) selectTargets(config, { machine: id });
      if (!store.readOnly) await syncMachines(store, config, clock.now());
      return probeMachines({ store, config, clock, executorFor: execFor, ids });
    },
    search: (query, o = {}) => searchContent({ config, executorFor: execFor, query, ...o }),
    async close() {
      await Promise.all([...executors.values()].map((e) => e.close().catch(() => {})));
      await store.close();
    },
    [Symbol.asyncDispose]() {
      return cockpit.close();
    },
  };
  return cockpit;
}
