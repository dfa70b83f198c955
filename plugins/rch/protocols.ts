// The guardian's rch protocol (plan §8.4 "rch bottleneck"): builds queue up while no worker can
// take them, read as the rch_queue_saturated rule reads rch's status. Diagnosis: the workers from
// vc's data (status, circuit, failures, last error) and rch's own remediation hints. Treatment:
// advice with rch's real commands as text — probe a flaky worker, take it out of rotation, bring
// it back; nothing runs.
import { defineProtocol, oneLine, parseJson, readStep, showArgv, sql, suggestStep, type Facts, type GuardianTarget, type ProtocolContext, type StepContext } from "vibe-cockpit";
import { rchStatusLatest } from "../rules/agents.ts";

/** More builds queued than this, with no worker available, triggers the protocol (the rule's default). */
export const RCH_MAX_QUEUE = 10;

interface StatusRow {
  machine_id: string;
  collected_at: string;
  daemon_state: string | null;
  posture: string | null;
  queue_depth: number;
  builds_active: number | null;
  workers_total: number | null;
  workers_healthy: number | null;
  workers_available: number | null;
  slots_available: number | null;
}

/** One rch worker as the run's facts carry it. */
export interface RchWorker {
  worker_id: string;
  host: string | null;
  status: string | null;
  circuit_state: string | null;
  consecutive_failures: number | null;
  recovery_in_s: number | null;
  used_slots: number | null;
  total_slots: number | null;
  last_error: string | null;
  pressure_state: string | null;
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : typeof x === "bigint" ? Number(x) : null);
const text = (x: unknown): string | null => (typeof x === "string" && x !== "" ? oneLine(x) : null);

async function findSaturatedQueues(ctx: ProtocolContext): Promise<GuardianTarget[]> {
  const rows = await ctx.store.query<StatusRow>(
    sql`SELECT * FROM (${rchStatusLatest.sql(ctx.at.toISOString())}) AS s WHERE queue_depth > ${RCH_MAX_QUEUE} AND workers_available = 0 ORDER BY machine_id`,
  );
  return rows.map((r) => ({
    key: r.machine_id,
    machine: r.machine_id,
    title: `${r.machine_id}: ${r.queue_depth} rch builds queued and no worker available (${r.workers_healthy ?? "?"} of ${r.workers_total ?? "?"} healthy)`,
    facts: {
      queue_depth: num(r.queue_depth),
      builds_active: num(r.builds_active),
      workers_total: num(r.workers_total),
      workers_healthy: num(r.workers_healthy),
      workers_available: num(r.workers_available),
      slots_available: num(r.slots_available),
      posture: r.posture,
      daemon_state: r.daemon_state,
      collected_at: r.collected_at,
    },
  }));
}

/** A worker rch cannot use: not healthy, its circuit not closed, or failing. */
export const isFlaky = (w: RchWorker): boolean => w.status !== "healthy" || (w.circuit_state !== null && w.circuit_state !== "closed") || (w.consecutive_failures ?? 0) > 0;

/** The workers and rch's hints from the newest status of the machine (within 15 min). */
async function readWorkers(ctx: StepContext): Promise<Facts> {
  const [status] = await ctx.store.query<{ collected_at: string; remediation_hints_json: unknown }>(
    sql`SELECT s.collected_at, r.remediation_hints_json FROM (${rchStatusLatest.sql(ctx.at.toISOString())}) AS s
        JOIN rch_status_snapshots r ON r.machine_id = s.machine_id AND r.collected_at = s.collected_at
        WHERE s.machine_id = ${ctx.target.machine}`,
  );
  if (!status) return { workers: [], flaky_workers: [], rch_hints: [], workers_note: `no rch status of ${ctx.target.machine} within 15 min` };
  const rows = await ctx.store.query<Record<string, unknown>>(
    sql`SELECT worker_id, host, status, circuit_state, consecutive_failures, recovery_in_s, used_slots, total_slots, last_error, pressure_state
        FROM rch_worker_snapshots WHERE machine_id = ${ctx.target.machine} AND collected_at = ${status.collected_at}::TIMESTAMP ORDER BY worker_id`,
  );
  const workers: RchWorker[] = rows.map((r) => ({
    worker_id: String(r.worker_id),
    host: text(r.host),
    status: text(r.status),
    circuit_state: text(r.circuit_state),
    consecutive_failures: num(r.consecutive_failures),
    recovery_in_s: num(r.recovery_in_s),
    used_slots: num(r.used_slots),
    total_slots: num(r.total_slots),
    last_error: text(r.last_error)?.slice(0, 300) ?? null,
    pressure_state: text(r.pressure_state),
  }));
  const hints = parseJson(status.remediation_hints_json);
  return {
    workers_at: status.collected_at,
    workers,
    flaky_workers: workers.filter(isFlaky).map((w) => w.worker_id),
    // rch's own words about its workers (the messages; its commands are built here from rch's CLI).
    rch_hints: (Array.isArray(hints) ? hints : [])
      .flatMap((h) => (h && typeof h === "object" ? [h as Record<string, unknown>] : []))
      .map((h) => ({ worker_id: text(h.worker_id), severity: text(h.severity), message: text(h.message) }))
      .filter((h) => h.message !== null),
  };
}

const workersOf = (facts: Facts): RchWorker[] => (Array.isArray(facts.workers) ? (facts.workers as RchWorker[]) : []);
const flakyOf = (facts: Facts): RchWorker[] => workersOf(facts).filter(isFlaky);

function why(w: RchWorker): string {
  const parts = [
    w.status && w.status !== "healthy" ? w.status : null,
    w.circuit_state && w.circuit_state !== "closed" ? `circuit ${w.circuit_state}` : null,
    w.consecutive_failures ? `${w.consecutive_failures} failures in a row` : null,
    w.last_error,
  ];
  return parts.filter(Boolean).join(", ");
}

function probeAdvice(ctx: StepContext): string | null {
  const flaky = flakyOf(ctx.facts);
  if (flaky.length === 0) return null;
  return `On ${ctx.target.machine}, check the workers rch cannot use: ${flaky.map((w) => `${w.worker_id} (${why(w)}): ${showArgv(["rch", "workers", "probe", w.worker_id])}`).join("; ")}`;
}

function disableAdvice(ctx: StepContext): string | null {
  const flaky = flakyOf(ctx.facts);
  if (flaky.length === 0) return null;
  const each = flaky.map(
    (w) =>
      `${showArgv(["rch", "workers", "disable", w.worker_id, "--reason", `flaky: ${why(w)}`.slice(0, 120)])} (back later: ${showArgv(["rch", "workers", "enable", w.worker_id])})`,
  );
  return `If a worker stays unreachable, take it out of rotation so the queue goes to the others: ${each.join("; ")}`;
}

function capacityAdvice(ctx: StepContext): string | null {
  const workers = workersOf(ctx.facts);
  const busy = workers.filter((w) => !isFlaky(w));
  const hints = Array.isArray(ctx.facts.rch_hints) ? (ctx.facts.rch_hints as { message: string }[]) : [];
  const parts: string[] = [];
  if (workers.length === 0) parts.push(`rch on ${ctx.target.machine} reports no workers: add one (rch workers init) or check ${showArgv(["rch", "workers", "list"])}`);
  else if (busy.length > 0 && flakyOf(ctx.facts).length === 0)
    parts.push(
      `Every worker of ${ctx.target.machine} is healthy and busy (${busy.map((w) => `${w.worker_id} ${w.used_slots ?? "?"}/${w.total_slots ?? "?"} slots`).join(", ")}): the queue needs more capacity, or fewer builds at once`,
    );
  if (hints.length > 0) parts.push(`rch says: ${hints.map((h) => h.message).join("; ")}`);
  return parts.length > 0 ? parts.join(". ") : null;
}

/** rch's queue saturated on a machine: which workers fail and rch's commands to deal with them, as advice. */
export const rchBottleneck = defineProtocol({
  name: "rch_bottleneck",
  summary: "More than 10 rch builds queued with no worker available: find the flaky workers and advise probing, disabling or re-enabling them",
  trigger: { describe: `rch queue deeper than ${RCH_MAX_QUEUE} while no worker is available (the newest status within 15 min)`, find: findSaturatedQueues },
  diagnosis: [readStep("workers", readWorkers)],
  treatment: [suggestStep("probe_flaky_workers", probeAdvice), suggestStep("disable_flaky_workers", disableAdvice), suggestStep("capacity", capacityAdvice)],
  verification: {
    describe: `the queue draining: at most ${RCH_MAX_QUEUE} builds queued, or a worker available and the queue shorter than at the trigger`,
    withinSeconds: 900,
    everySeconds: 60,
    async check(ctx) {
      const [r] = await ctx.store.query<StatusRow>(sql`SELECT * FROM (${rchStatusLatest.sql(ctx.at.toISOString())}) AS s WHERE machine_id = ${ctx.target.machine}`);
      if (!r) return { ok: false, detail: `no rch status of ${ctx.target.machine} within 15 min` };
      const was = num(ctx.target.facts.queue_depth);
      const available = num(r.workers_available) ?? 0;
      const ok = r.queue_depth <= RCH_MAX_QUEUE || (available > 0 && was !== null && r.queue_depth < was);
      return { ok, detail: `${ctx.target.machine}: ${r.queue_depth} builds queued (was ${was}), ${available} worker(s) available` };
    },
  },
  escalation: { describe: "after 3 failed runs", afterFailures: 3 },
});
