// `vc robot incidents`: the incidents (plan §5.4) — alerts that belong together, with the machines,
// accounts and repos involved — or one in full with --id: its timeline across every source, the
// root-cause hypothesis, notes, the actions taken, and with --replay its window cycle by cycle.
import { VcError } from "../errors.ts";
import { loadIncidentDetail, type IncidentDetail } from "../incidents/detail.ts";
import { loadIncidents, type Incident } from "../incidents/read.ts";
import { arg, defineView } from "./define.ts";

/** The `data` of `vc robot incidents` (vc.robot.incidents.v1). */
export interface IncidentsData {
  /** Open ones first, then newest first; with --id, that one in full. */
  incidents: (Incident | IncidentDetail)[];
}

const STATES = ["open", "closed", "all"] as const;

export default defineView({
  name: "incidents",
  summary:
    "Incidents: alerts that belong together, with the machines, accounts and repositories involved; --id ID for one in full (timeline, root cause, notes, actions), --replay for its window cycle by cycle",
  args: {
    id: arg.string("one incident in full (its id or a unique prefix)", { hint: "ID", max: 200 }),
    state: arg.string("open, closed or all", { hint: "STATE", max: 20 }),
    replay: arg.flag("with --id: the fleet's health and firing alerts at each snapshot of its window"),
    limit: arg.int("at most this many incidents, open ones first, then newest", { min: 1, max: 1000, default: 50, hint: "N" }),
  },
  async run(vc, args) {
    const state = (args.state ?? "all") as (typeof STATES)[number];
    if (!STATES.includes(state))
      throw new VcError("invalid_argument", `state: "${args.state}" is not one of ${STATES.join(", ")}`, {
        details: { view: "incidents", field: "state", expected: STATES.join(", ") },
      });
    if (args.replay && args.id === undefined)
      throw new VcError("invalid_argument", "replay: only with id (the incident to replay)", { details: { view: "incidents", field: "replay" } });
    const now = vc.clock.now();
    if (args.id !== undefined) {
      const detail = await loadIncidentDetail(vc, args.id, now, { replay: args.replay });
      return { data: { incidents: [detail] } satisfies IncidentsData, warnings: detail.errors.map((e) => `event source ${e.source} failed: ${e.error}`) };
    }
    return { data: { incidents: await loadIncidents(vc.store, { at: now.toISOString(), state, limit: args.limit }) } satisfies IncidentsData };
  },
});
