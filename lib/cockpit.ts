import { clockFromEnv, type Clock } from "./clock.ts";
import type { Collector } from "./collect/define.ts";
import { searchContent, type SearchOptions, type SearchResult } from "./search.ts";
import { runCycle, selectTargets, syncMachines, type CycleReport, type ExecutorFactory } from "./collect/scheduler.ts";
import type { RunRecord } from "./collect/run.ts";
import type { VcConfig } from "./config/define.ts";
import { loadConfig, type LoadConfigOptions } from "./config/load.ts";
import { VcError } from "./errors.ts";
import { createLocalExecutor, expandHome } from "./exec/local.ts";
import { createSshExecutor, type SshExecutorOptions } from "./exec/ssh.ts";
import { followSources } from "./follow.ts";
import { sql } from "./store/sql.ts";
import { resolveSshTarget } from "./exec/ssh-target.ts";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { Executor } from "./exec/types.ts";
import { computeHealth, type FleetHealth } from "./health/index.ts";
import { recordAudit } from "./audit.ts";
import { act, type ActionRequest, type ActionResult } from "./guardian/act.ts";
import { createGuardian, type CheckReport, type GuardianRun } from "./guardian/engine.ts";
import { guardianEscalation } from "./guardian/rule.ts";
import { PUSHED } from "./collect/scheduler.ts";
import type { Ingest } from "./ingest/hub.ts";
import type { Protocol } from "./guardian/define.ts";
import { finishCycle, type CycleOutcome } from "./cycle.ts";
import { ackAlert, explainAlert, listAlerts, silenceAlerts, type AlertView, type SilenceInput } from "./alerts/ops.ts";
import { listMachines, probeMachines, type MachineListing, type MachineProbe } from "./machines.ts";
import { queryReadOnly } from "./store/readonly.ts";
import { openStore, type QueryResult, type Store } from "./store/store.ts";
import { looseModes } from "./store/_modes.ts";
import { toMigrations, type MigrationSource } from "./store/migrate.ts";
import { createViewRegistry, runView, type AnyView, type ViewRegistry } from "./views/define.ts";
import { viewCalls, type ViewCall, type ViewCalls } from "./views/calls.ts";
import { builtinViews } from "./views/index.ts";
import { checkPlugins, collectPlugins, type Plugin } from "./plugin/define.ts";
import { coreSections } from "./robot/machine.ts";

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
  /** Views beyond vc's own (a plugin's, a script's). */
  views?: readonly AnyView[];
}

/** How long the first wake of a follow waits for others to be collected in the same cycle. */
const FOLLOW_GATHER_MS = 200;

/** Everything a front end or a user script asks of vc, over one store. */
export interface Cockpit extends ViewCalls {
  readonly config: VcConfig;
  readonly store: Store;
  readonly clock: Clock;
  /** One poll cycle (or part of one), ending with health, rules, alerts, delivery and a snapshot. */
  collect(options?: {
    machine?: string;
    /** Only these machines (by id). */
    machines?: readonly string[];
    collector?: string;
    force?: boolean;
    signal?: AbortSignal;
    onRun?: (r: RunRecord) => void;
  }): Promise<CycleReport & { outcome: CycleOutcome }>;
  /** Called with each cycle's outcome (the watch stream) and its collection report (metrics); returns an unsubscribe function. */
  subscribe(listener: (outcome: CycleOutcome, report: CycleReport) => void): () => void;
  /**
   * Follows the machines' tools between polls (collectors with `follow`, bounded channels) and
   * collects a machine's collector as soon as its tool says something changed, until `signal`.
   */
  follow(options: { signal: AbortSignal; onError?: (err: unknown) => void; maxChannels?: number; timeoutMs?: number }): Promise<void>;
  /** Active alerts (all: resolved ones too). */
  alerts(options?: { all?: boolean }): Promise<AlertView[]>;
  ack(id: string, options: { by: string; note?: string }): Promise<AlertView>;
  silence(input: Omit<SilenceInput, "at">): Promise<{ silence_id: string; matches: number }>;
  explain(id: string): Promise<Awaited<ReturnType<typeof explainAlert>>>;
  health(): Promise<FleetHealth>;
  /** Every view this cockpit answers (vc's own and its plugins'): `vc robot <name>`, the socket, `view()`. */
  readonly views: ViewRegistry;
  /** Set while this process serves the store to other commands (`vc up`, an in-process `vc tui`). */
  serving?: { socket: string; since: string };
  /** Set while `vc up` consumes pushed batches (lib/ingest/hub.ts). */
  ingest?: Ingest;
  /** Read-only SQL over the store. */
  query(text: string): Promise<QueryResult>;
  doctor(): Promise<DoctorReport>;
  /** `vc machines list`: the inventory with what the store knows, no network. */
  machines(): Promise<MachineListing[]>;
  /** `vc machines probe [id]`: connect, check, probe tools afresh. */
  probeMachines(ids?: string[]): Promise<MachineProbe[]>;
  /** Content search through the tools that index it (cass): hits per machine, and who could not answer. */
  search(query: string, options?: Omit<SearchOptions, "signal">): Promise<SearchResult>;
  /**
   * A person's command on a machine (fleet commands): through the gate (the machine must allow
   * write commands when it writes), run by the machine's executor, written to the audit log.
   */
  act(request: PersonAction): Promise<ActionResult>;
  /** The guardian now: every protocol's trigger, and per target what the autopilot's mode says (`dryRun`: the plans and the gate's answers, nothing written or run). */
  guardianCheck(options?: { dryRun?: boolean; protocol?: string }): Promise<CheckReport>;
  /** Approves a pending guardian run (execute-with-approval): exactly its planned steps run; resolves with the run at its end. */
  approveRun(id: string, options: { by: string }): Promise<GuardianRun>;
  /** Denies a pending guardian run: nothing of it runs. */
  denyRun(id: string, options: { by: string; reason?: string }): Promise<GuardianRun>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The plugins' protocols as the autopilot's config shapes them: those turned off left out, an
 * escalation count overridden. A name the config gives that no plugin contributes is refused.
 */
export function configuredProtocols(config: VcConfig): Protocol[] {
  const all = config.plugins.flatMap((p) => p.protocols ?? []);
  const settings = config.autopilot.protocols ?? {};
  for (const name of Object.keys(settings))
    if (!all.some((p) => p.name === name))
      throw new VcError("config_invalid", `${config.source}: autopilot.protocols.${name}: no plugin contributes a protocol "${name}"`, {
        hint: `protocols: ${all.map((p) => p.name).join(", ") || "(none)"}`,
      });
  return all
    .filter((p) => settings[p.name]?.enabled !== false)
    .map((p) => {
      const after = settings[p.name]?.escalate_after_failures;
      return after ? { ...p, escalation: { ...p.escalation, afterFailures: after } } : p;
    });
}

/** A person's command: `by` is who ran it. */
export type PersonAction = Omit<ActionRequest, "actor"> & { by: string };

export interface DoctorCheck {
  check: string;
  ok: boolean;
  /** Not a failure, but worth fixing (a file others can read). */
  warning?: boolean;
  detail: string;
}
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  machines: MachineProbe[];
  collectors: { machine: string; collector: string; last_run_at: string | null; last_result: string | null; last_ok_at: string | null; last_error: string | null }[];
}

/** The migrations each configured plugin brings, as sources for the store. */
export function pluginMigrations(collectors: readonly Collector[], plugins: readonly Plugin[] = []): MigrationSource[] {
  return [
    ...collectors.filter((c) => c.migrations).map((c) => ({ source: c.name, migrations: toMigrations(c.migrations!, `plugin ${c.name}`) })),
    ...plugins.filter((p) => p.migrations).map((p) => ({ source: `plugin:${p.name}`, migrations: toMigrations(p.migrations!, `plugin ${p.name}`) })),
  ];
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
    if (m.ssh === PUSHED)
      throw new VcError("unknown_machine", `machine ${m.id} is pushed by its own vc node (ssh: "push"): this hub never reaches it`, {
        hint: "run the command on that machine, or give it an SSH target",
      });
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
  const collectors = [...(options.alwaysOn ?? []).filter((c) => !names.has(c.name)), ...loaded.collectors];
  const config: VcConfig = { ...loaded, collectors, plugins: collectPlugins(loaded.plugins ?? [], collectors) };
  // The guardian's escalations reach a person as an alert (vc's own rule, beside the config's) where the autopilot acts.
  if (config.autopilot.mode.startsWith("execute") && !config.rules.some((r) => r.id === guardianEscalation.id)) config.rules = [...config.rules, guardianEscalation];
  checkPlugins(config.plugins, config.collectors, { views: builtinViews.map((v) => v.name), sections: coreSections.map((s) => s.name) });
  const protocols = configuredProtocols(config);
  const store = await openStore({
    path: config.db,
    readOnly: options.readOnly,
    clock,
    pluginMigrations: pluginMigrations(config.collectors, config.plugins),
    limits: { memoryLimit: config.store.memory_limit, threads: config.store.threads },
  });
  // A plugin whose tables could not be made: its collectors are skipped, saying why; the rest run.
  for (const failed of store.migrationErrors) {
    config.collectors = config.collectors.map((c) =>
      c.name === failed.source || (c.plugin && `plugin:${c.plugin.name}` === failed.source)
        ? {
            ...c,
            collect: async () => {
              throw new VcError("collector_skipped", `its tables could not be made: ${failed.error}`);
            },
          }
        : c,
    );
  }
  // A key trusted on first use is written to the audit log as it happens (never silently).
  const audits: Promise<unknown>[] = [];
  const listeners = new Set<(o: CycleOutcome, r: CycleReport) => void>();
  let cycles: Promise<unknown> = Promise.resolve();
  const onTrust: SshExecutorOptions["onTrust"] = (e) => {
    if (store.readOnly) return;
    audits.push(
      store.transaction((tx) =>
        recordAudit(tx, {
          ts: clock.now(),
          eventType: "host_key_trusted",
          actor: "vc",
          machineId: e.machineId,
          action: `trust ${e.host}:${e.port}`,
          result: "ok",
          details: { ...e, before: "unknown host key", after: `trusted ${e.type} ${e.fingerprint} in ${e.file}` },
        }),
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

  let made: ReturnType<typeof createGuardian> | undefined;
  const guardian = () =>
    (made ??= createGuardian({
      store,
      config,
      clock,
      executorFor: execFor,
      protocols,
      // The verification reads what a fresh collection of the machine brings.
      refresh: async (machine) => void (await cockpit.collect({ machine, force: true })),
    }));

  const views = createViewRegistry([...builtinViews, ...config.plugins.flatMap((p) => p.views ?? []), ...(options.views ?? [])]);
  const view: ViewCall = async (name, args = {}) => runView(cockpit, views.require(name), args);
  const cockpit: Cockpit = {
    config,
    store,
    clock,
    views,
    ...viewCalls(view),
    follow(o) {
      // Wakes that come close together (several machines' agents, one burst of events) are collected
      // together: one cycle per collector for the machines that woke, after the cycle in progress
      // and FOLLOW_GATHER_MS, instead of one cycle (rules, health, alerts) per wake.
      const woke = new Map<string, Set<string>>();
      let scheduled = false;
      let flushing: Promise<void> = Promise.resolve();
      const flush = async () => {
        await Bun.sleep(FOLLOW_GATHER_MS);
        await cycles;
        scheduled = false;
        const batch = [...woke].map(([collector, machines]) => ({ collector, machines: [...machines] }));
        woke.clear();
        for (const b of batch) if (!o.signal.aborted) await cockpit.collect({ ...b, signal: o.signal }).catch((err) => o.onError?.(err));
      };
      const following = followSources({
        config,
        executorFor: execFor,
        ready: async (machine, collector) =>
          (await store.query<{ r: string }>(sql`SELECT last_result AS r FROM collector_state WHERE machine_id = ${machine} AND collector = ${collector}`))[0]?.r === "ok",
        ...o,
        onChange: (machine, collector) => {
          (woke.get(collector) ?? woke.set(collector, new Set()).get(collector)!).add(machine);
          if (scheduled) return;
          scheduled = true;
          // After the flush before it: wakes that came while it collected are the next batch, never a
          // second flush running beside it (the promise returned below then covers every collect).
          flushing = flushing.then(flush);
        },
      });
      // Ends when the follows have, and the collect their last wakes asked for with them (none starts once `signal` aborts).
      return following.then(() => flushing);
    },
    collect(o = {}) {
      // One cycle at a time: a file-triggered collect waits for the poll in progress, and the other way round.
      const run = cycles.then(async () => {
        const report = await runCycle({ store, config, clock, executorFor: execFor, ...o });
        await Promise.all(audits.splice(0));
        const outcome = await finishCycle({ store, config, clock, rules: config.rules, channels: config.channels });
        for (const l of listeners) l(outcome, report);
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
    query: (text) => queryReadOnly(store, text),
    async doctor() {
      const checks: DoctorCheck[] = [
        { check: "config", ok: true, detail: `${config.source}: ${config.machines.length} machine(s), ${config.collectors.length} collector(s)` },
        { check: "store", ok: true, detail: `${store.path} ${store.readOnly ? "opened read-only" : "writable, migrations current"}` },
        ...store.migrationErrors.map((m) => ({ check: `migrations of ${m.source}`, ok: false, detail: m.error })),
        {
          check: "daemon",
          ok: true,
          detail: cockpit.serving
            ? `vc (pid ${process.pid}) serves ${store.path} on ${cockpit.serving.socket} since ${cockpit.serving.since}`
            : `none serves ${store.path}; this process opened it (\`vc up\` serves it to every command)`,
        },
      ];
      if (!store.readOnly) await syncMachines(store, config, clock.now());
      const machines = await probeMachines({ store, config, clock, executorFor: execFor });
      for (const m of machines) {
        const how = m.auth_method === "local" ? "local" : `${m.auth_method}, host key ${m.host_key.status}`;
        const fix = m.host_key.fix ? `; to fix: ${m.host_key.fix}` : "";
        checks.push({ check: `machine ${m.id}`, ok: m.reachable, detail: m.reachable ? `reachable (${how}, ${m.latency_ms} ms)` : `${m.error ?? "unreachable"}${fix}` });
      }
      // The NATS client loads here, for a store that pushes or is pushed to, and not with every cockpit.
      if (config.ingest || config.node) checks.push(...(await (await import("./ingest/doctor.ts")).ingestChecks(cockpit, cockpit.ingest)));
      for (const f of looseModes({ db: store.path, dataDir: config.data_dir })) {
        checks.push({ check: "file mode", ok: true, warning: true, detail: `${f.path} is ${f.mode}: other users can reach it; ${f.fix}` });
      }
      const states = await store.query<DoctorReport["collectors"][number] & { machine_id: string }>(
        "SELECT machine_id, collector, last_run_at, last_result, last_ok_at, last_error FROM collector_state",
      );
      const collectors: DoctorReport["collectors"] = [];
      for (const m of config.machines) {
        for (const c of config.collectors.filter((c) => !m.collectors || m.collectors.includes(c.name))) {
          const s = states.find((x) => x.machine_id === m.id && x.collector === c.name);
          collectors.push({
            machine: m.id,
            collector: c.name,
            last_run_at: s?.last_run_at ?? null,
            last_result: s?.last_result ?? null,
            last_ok_at: s?.last_ok_at ?? null,
            last_error: s?.last_error ?? null,
          });
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
    act: ({ by, ...request }) => act({ store, config, clock, executorFor: execFor }, { ...request, actor: { kind: "person", name: by } }),
    guardianCheck: (o) => guardian().check(o),
    approveRun: (id, o) => guardian().approve(id, o),
    denyRun: (id, o) => guardian().deny(id, o),
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
