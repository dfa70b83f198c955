// Typed calls onto the registry's views, the same on a cockpit and on the daemon's client.
import type { RobotEnvelope } from "../robot/envelope.ts";
import type alerts from "./alerts.ts";
import type audit from "./audit.ts";
import type guardian from "./guardian.ts";
import type { View } from "./define.ts";
import type events from "./events.ts";
import type fleet from "./fleet.ts";
import type health from "./health.ts";
import type machine from "./machine.ts";
import type triage from "./triage.ts";

/** The envelope a view answers with. */
export type ViewEnvelope<V> = V extends View<infer _A, infer T> ? RobotEnvelope<T> : never;

/** Runs a registered view by name with raw arguments (validated against its spec). */
export type ViewCall = (name: string, args?: Record<string, unknown>) => Promise<RobotEnvelope<unknown>>;

/** Typed helpers over `view()`, for scripts: `vc.robotTriage({ limit: 5 })` is `vc.view("triage", { limit: 5 })`. */
export interface ViewCalls {
  view: ViewCall;
  robotHealth(): Promise<ViewEnvelope<typeof health>>;
  /** The fleet as snapshotted at or before `at`. */
  robotHealthAt(at: Date): Promise<ViewEnvelope<typeof health>>;
  robotTriage(options?: { limit?: number }): Promise<ViewEnvelope<typeof triage>>;
  robotMachine(id: string): Promise<ViewEnvelope<typeof machine>>;
  /** The fleet table: one row per machine (only those whose id contains `machine`). */
  robotFleet(options?: { machine?: string }): Promise<ViewEnvelope<typeof fleet>>;
  robotAlerts(options?: { all?: boolean }): Promise<ViewEnvelope<typeof alerts>>;
  /** What happened: every plugin's events in `window` (seconds, or `6h`, `7d`), or one repo's history (`repo`). */
  robotEvents(options?: EventsOptions): Promise<ViewEnvelope<typeof events>>;
  /** The guardian: mode, protocols, pending approvals, recent runs (`id`: one run in full). */
  robotGuardian(options?: { id?: string; status?: string[]; machine?: string; limit?: number }): Promise<ViewEnvelope<typeof guardian>>;
  /** The audit log, newest first. */
  robotAudit(options?: { since?: Date; machine?: string; type?: string[]; actor?: string; all?: boolean; limit?: number }): Promise<ViewEnvelope<typeof audit>>;
}

/** The arguments of `robotEvents`. */
export interface EventsOptions {
  window?: number | string;
  /** Only machines whose id contains this. */
  machine?: string;
  repo?: { machine_id: string; repo_id: string; path: string | null };
  /** Only these event sources. */
  source?: string[];
  /** Events per source. */
  limit?: number;
}

export function viewCalls(view: ViewCall): ViewCalls {
  const as = <T>(p: Promise<RobotEnvelope<unknown>>) => p as Promise<T>;
  return {
    view,
    robotHealth: () => as(view("health")),
    robotHealthAt: (at) => as(view("health", { at })),
    robotTriage: (o = {}) => as(view("triage", { limit: o.limit })),
    robotMachine: (id) => as(view("machine", { id })),
    robotFleet: (o = {}) => as(view("fleet", { machine: o.machine })),
    robotAlerts: (o = {}) => as(view("alerts", { all: o.all })),
    robotGuardian: (o = {}) => as(view("guardian", { ...o })),
    robotAudit: (o = {}) => as(view("audit", { ...o })),
    robotEvents: (o = {}) =>
      as(
        view("events", {
          window: o.window,
          machine: o.machine,
          repo: o.repo?.repo_id,
          repo_machine: o.repo?.machine_id,
          path: o.repo?.path ?? undefined,
          source: o.source,
          limit: o.limit,
        }),
      ),
  };
}
