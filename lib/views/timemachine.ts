// The time machine (plan §5.4): every registered view answers `--at T` — the library, the socket and
// the CLI alike — by running as of T: its clock reads T, health is computed from the rows at or
// before T, alerts are as their history says they were at T. Views read only rows collected at or
// before their clock, so nothing collected after T reaches the answer. A view that asks the machines
// live (content search, doctor's probes) has no past and says so instead of answering the present.
import type { Cockpit } from "../cockpit.ts";
import { listAlerts } from "../alerts/ops.ts";
import { createFixedClock } from "../clock.ts";
import { VcError } from "../errors.ts";
import { computeHealth } from "../health/index.ts";
import { listMachines } from "../machines.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";

/** How far past the clock an `--at` may be (clocks of two hosts disagree a little). */
const SKEW_MS = 60_000;

/** The store's first recorded instant: its oldest sample, health, alert change or snapshot; null when empty. */
export async function firstDataAt(store: Store): Promise<string | null> {
  const [r] = await store.query<{ first: string | null }>(
    sql`SELECT least((SELECT min(collected_at) FROM sys_samples), (SELECT min(collected_at) FROM health_summary),
                     (SELECT min(ts) FROM alert_history), (SELECT min(collected_at) FROM fleet_state_snapshots)) AS first`,
  );
  return r?.first ?? null;
}

/**
 * Checks that `at` is a moment the store can answer for: not in the future, not before its first
 * row. Each is a clear error (never an empty success).
 */
export async function checkAt(vc: Pick<Cockpit, "store" | "clock">, at: Date, view: string): Promise<void> {
  const now = vc.clock.now();
  if (at.getTime() > now.getTime() + SKEW_MS)
    throw new VcError("invalid_argument", `--at ${at.toISOString()} is in the future (now is ${now.toISOString()}): the time machine only goes back`, {
      hint: "for what comes next, ask vc robot oracle",
      details: { view, field: "at" },
    });
  const first = await firstDataAt(vc.store);
  if (first === null)
    throw new VcError("not_found", `--at ${at.toISOString()}: the store has no data yet`, { hint: "vc collect --once collects a first cycle", details: { view } });
  if (at.getTime() < Date.parse(first))
    throw new VcError("not_found", `--at ${at.toISOString()} is before the store's first row (${first}): nothing was recorded then`, {
      hint: `ask for a time from ${first} on`,
      details: { view, first },
    });
}

/** The cockpit as it was at `at`: its clock, health and alerts answer as of then; it cannot write. */
export function cockpitAt(vc: Cockpit, at: Date): Cockpit {
  const iso = at.toISOString();
  const refuse = async () => {
    throw new VcError("invalid_input", `a view answering as of ${iso} cannot change the store`);
  };
  return {
    ...vc,
    clock: createFixedClock(at),
    health: () => computeHealth(vc.store, vc.config, at),
    alerts: (o = {}) => listAlerts(vc.store, { all: o.all, at: iso }),
    machines: () => listMachines(vc.store, vc.config, at),
    collect: refuse,
    ack: refuse,
    silence: refuse,
  };
}
