// One incident in full, as `vc incident show|replay|export` and the `incidents` view with an id read
// it: the incident, its timeline and root cause, the actions taken in its window and those its
// alerts suggest, and (asked for) the replay of its window.
import type { VcConfig } from "../config/define.ts";
import { VcError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { loadIncidents, resolveIncidentId, type Incident } from "./read.ts";
import { replaySteps, type ReplayStep } from "./replay.ts";
import { incidentTimeline, type IncidentTimeline, type RootCause } from "./timeline.ts";

/** What was done in the window: people's commands, autopilot actions, vc's own (the audit log, collector runs aside). */
export interface IncidentAction {
  at: string;
  event_type: string;
  actor: string;
  machine_id: string | null;
  action: string | null;
  result: string | null;
}

/** An incident with everything known about it. */
export interface IncidentDetail extends Omit<Incident, "root_cause"> {
  /** From a lead before its first alert to its close (or now). */
  window: { from: string; to: string; first_alert_at: string };
  timeline: IncidentTimeline["entries"];
  /** The hypothesis kept at close, else the one computed now. */
  root_cause: RootCause;
  /** Whether root_cause is the one kept at close (true) or computed now (false). */
  root_cause_kept: boolean;
  actions: IncidentAction[];
  /** What its alerts suggest doing, once each. */
  suggested: { title: string; command?: string; alert_id: string }[];
  /** With `replay`: the fleet at each snapshot of the window. */
  replay?: ReplayStep[];
  /** Event sources that failed while building the timeline. */
  errors: { source: string; error: string }[];
}

/** One incident in full, as of `now` (`not_found` for an unknown id or one opened after `now`). */
export async function loadIncidentDetail(
  o: { store: Store; config: Pick<VcConfig, "plugins" | "rules" | "incidents"> },
  id: string,
  now: Date,
  options: { replay?: boolean } = {},
): Promise<IncidentDetail> {
  const incidentId = await resolveIncidentId(o.store, id);
  const [inc] = await loadIncidents(o.store, { at: now.toISOString(), ids: [incidentId] });
  if (!inc) return notYet(id, now);
  const t = await incidentTimeline({ store: o.store, config: o.config, incident: inc, now });
  const actions = t.entries
    .filter((e) => e.source === "audit")
    .map((e): IncidentAction => {
      const r = e.details as { event_type: string; actor: string; action: string | null; result: string | null };
      return { at: e.at, event_type: r.event_type, actor: r.actor, machine_id: e.machine_id, action: r.action, result: r.result };
    });
  const seen = new Set<string>();
  const suggested = inc.alerts.flatMap((a) =>
    a.actions.flatMap((s) => {
      const k = `${s.title}\u0000${s.command ?? ""}`;
      if (seen.has(k)) return [];
      seen.add(k);
      return [{ ...s, alert_id: a.alert_id }];
    }),
  );
  const replay = options.replay ? await replaySteps(o.store, inc, { from: t.from, to: t.to }) : undefined;
  return {
    ...inc,
    window: { from: t.from, to: t.to, first_alert_at: t.first_alert_at },
    timeline: t.entries,
    root_cause: inc.root_cause ?? t.root_cause,
    root_cause_kept: inc.root_cause !== null,
    actions,
    suggested,
    ...(replay ? { replay } : {}),
    errors: t.errors,
  };
}

function notYet(id: string, now: Date): never {
  throw new VcError("not_found", `no incident "${id}" had opened by ${now.toISOString()}`, { hint: "`vc incident list` shows their ids", details: { incident: id } });
}
