import type { RuleResult } from "../rules/evaluate.ts";
import type { StoreTx } from "../store/store.ts";
import { loadAlerts, loadSilences, persistTransition } from "./persist.ts";
import { transition, type AlertEvent, type TransitionOptions, type TransitionResult } from "./transition.ts";

export type { AlertEvent, AlertRow } from "./transition.ts";

/** The evaluation instant and the transition's options (silences are read from the store). */
export interface LifecycleOptions extends Omit<TransitionOptions, "silences"> {
  at: Date;
}

/**
 * One evaluation's alert changes, read, decided and written in the caller's transaction: the stored
 * alerts and silences loaded, `transition` run on them, `persistTransition` storing its result.
 * @example const { events, warnings } = await store.transaction((tx) => advanceAlerts(tx, results, { at: clock.now() }));
 */
export async function advanceAlerts(tx: StoreTx, results: readonly RuleResult[], o: LifecycleOptions): Promise<TransitionResult> {
  const { at, ...options } = o;
  const t = transition(await loadAlerts(tx), results, at, { ...options, silences: await loadSilences(tx, at) });
  await persistTransition(tx, t);
  return t;
}

/** `advanceAlerts`, returning only the state changes (suppressed ones say why). */
export async function applyFindings(tx: StoreTx, results: readonly RuleResult[], o: LifecycleOptions): Promise<AlertEvent[]> {
  return (await advanceAlerts(tx, results, o)).events;
}
