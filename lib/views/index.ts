// The views of vc's own (no tool's): a plugin's views join these in the cockpit's registry.
import alerts from "./alerts.ts";
import audit from "./audit.ts";
import type { AnyView } from "./define.ts";
import diff from "./diff.ts";
import doctor from "./doctor.ts";
import events from "./events.ts";
import fleet from "./fleet.ts";
import guardian from "./guardian.ts";
import health from "./health.ts";
import incidents from "./incidents.ts";
import machine from "./machine.ts";
import machines from "./machines.ts";
import search from "./search.ts";
import series from "./series.ts";
import triage from "./triage.ts";

export const builtinViews: readonly AnyView[] = [health, triage, machine, machines, fleet, series, alerts, incidents, events, diff, search, doctor, guardian, audit];
