// Following the machines' tools between polls: for each collector that can `follow` (a blocking
// wait on the machine, such as ntm's attention wait) and each machine it runs on, one long-lived
// wait at a time — a bounded number of them in all — and a run of that collector on that machine
// as soon as the wait says something changed. Over SSH each wait is one channel of the machine's
// pooled connection.
import type { Collector, MachineInfo } from "./collect/define.ts";
import { machineInfo, type ExecutorFactory } from "./collect/scheduler.ts";
import type { VcConfig } from "./config/define.ts";
import { errorMessage } from "./errors.ts";

export interface FollowOptions {
  config: VcConfig;
  executorFor: ExecutorFactory;
  signal: AbortSignal;
  /** Whether the collector's last run on the machine succeeded: only then is its tool followed (a missing tool is not waited on). */
  ready: (machine: string, collector: string) => Promise<boolean>;
  /** Something changed on `machine` for `collector`: collect it now. */
  onChange: (machine: string, collector: string) => void;
  onError?: (err: unknown) => void;
  /** Waits open at once, across the fleet (default 16): past it, the rest are polled only (said once). */
  maxChannels?: number;
  /** How long one wait may block before it is renewed (default 30 s). */
  timeoutMs?: number;
}

/** A wait shorter than this did not block: it counts toward asking that tool less often. */
const QUICK_MS = 1000;
/** The longest pause between waits of a tool whose waits end at once. */
const QUICK_MAX_MS = 30_000;

/** How often a pair whose collector has not (yet) succeeded on the machine is looked at again. */
const READY_RECHECK_MS = 5000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/** The (machine, collector) pairs to follow: collectors with `follow`, on the machines they run on. */
function followPairs(config: VcConfig): { machine: MachineInfo; collector: Collector }[] {
  return config.machines.flatMap((m) =>
    config.collectors.filter((c) => c.follow && (!m.collectors || m.collectors.includes(c.name))).map((c) => ({ machine: machineInfo(m), collector: c })),
  );
}

/** Runs the follows until `signal` aborts; resolves once every wait has ended. */
export async function followSources(o: FollowOptions): Promise<void> {
  const pairs = followPairs(o.config);
  const max = o.maxChannels ?? 16;
  if (pairs.length > max)
    o.onError?.(
      new Error(
        `following ${max} of ${pairs.length} machine/collector pairs; the others (${pairs
          .slice(max)
          .map((p) => `${p.machine.id}/${p.collector.name}`)
          .join(", ")}) are polled only`,
      ),
    );
  await Promise.all(
    pairs.slice(0, max).map(async ({ machine, collector }) => {
      let backoff = 1000;
      let reported = false;
      let quick = 0;
      while (!o.signal.aborted) {
        try {
          if (!(await o.ready(machine.id, collector.name))) {
            await sleep(READY_RECHECK_MS, o.signal);
            continue;
          }
          const exec = await o.executorFor(machine);
          const started = performance.now();
          const r = await collector.follow!({
            machine,
            exec,
            path: (key, fallback) => machine.paths[`${collector.name}.${key}`] ?? fallback,
            signal: o.signal,
            timeoutMs: o.timeoutMs ?? 30_000,
          });
          backoff = 1000;
          reported = false;
          if (r === "changed" && !o.signal.aborted) o.onChange(machine.id, collector.name);
          // A wait that ends at once, again and again (a tool that does not block, or wakes on the same
          // thing each time), is asked less and less often: a quarter second, doubling to QUICK_MAX_MS.
          quick = performance.now() - started < QUICK_MS ? quick + 1 : 0;
          if (quick > 0) await sleep(Math.min(QUICK_MAX_MS, 250 * 2 ** (quick - 1)), o.signal);
        } catch (err) {
          if (o.signal.aborted) break;
          // Once per streak of failures: a machine that is down is not news every second.
          if (!reported) o.onError?.(new Error(`${collector.name} on ${machine.id}: cannot follow (${errorMessage(err)}); polled only until it answers`));
          reported = true;
          await sleep(backoff, o.signal);
          backoff = Math.min(60_000, backoff * 2);
        }
      }
    }),
  );
}
