// The shapes of the views' answers the pages read. vc's own come from the library as types only
// (erased when bundled: the page carries none of the library's code); the plugins' (accounts, the
// oracle) are declared here, loosely — lib/ never imports a plugin, and a field a plugin adds or
// drops must not break the page: what it does not know it shows generically.
import type { AlertView } from "../../../alerts/ops.ts";
import type { FleetHealth, HealthFactor, MachineHealth } from "../../../health/index.ts";
import type { Triage, TriageItem } from "../../../triage.ts";
import type { EventsData } from "../../../views/events.ts";
import type { FleetData, FleetRow } from "../../../views/fleet.ts";
import type { MachineView } from "../../../views/machine.ts";
import type { SeriesData, SeriesPoint } from "../../../views/series.ts";
import type { VcEvent } from "../../../events.ts";

export type { AlertView, EventsData, FleetData, FleetRow, HealthFactor, MachineHealth, SeriesData, SeriesPoint, TriageItem, VcEvent };

/** `vc robot triage`: the fleet's overall health and the ranked items. */
export type TriageData = Triage & { overall: FleetHealth["overall"] | null };

/** `vc robot machine`: its health (with its factors) and its sections. */
export type MachineData = MachineView & { machine: Record<string, unknown> | null; health: MachineHealth };

export interface UsageWindow {
  window: string;
  used_percent: number | null;
  window_minutes?: number | null;
  resets_at: string | null;
  resets_in_s?: number | null;
  reset_description?: string | null;
}

export interface AccountLine {
  machine_id: string;
  provider: string;
  account?: string;
  profile?: string;
  active?: boolean;
  stale?: boolean;
  staleness_s?: number | null;
  max_used_percent?: number | null;
  status?: string | null;
  auth_warning?: string | null;
  error?: string | null;
  windows: UsageWindow[];
}

export interface AccountsData {
  accounts: AccountLine[];
  profiles: AccountLine[];
  tools: Record<string, unknown>[];
  [k: string]: unknown;
}

/** An account to move to: the oracle gives its command (null when there is no profile to activate). */
export interface Alternative {
  account: string;
  command: string | null;
}

/** One account window's forecast, as the Accounts page reads it. */
export interface Forecast {
  key: string;
  provider: string;
  account: string;
  window: string;
  used_percent: number | null;
  /** Minutes to the limit with their interval; null: not before the reset. */
  time_to_limit_min: number | null;
  low_min: number | null;
  high_min: number | null;
  resets_at: string | null;
  limit_at: string | null;
  confidence_level: string;
  action: { kind: string; text: string; to: Alternative | null };
  alternatives: Alternative[];
}

export interface OracleData {
  accounts: Forecast[];
  next: { key: string; action: string; text: string; command: string | null; at: string | null } | null;
  disks: Record<string, unknown>[];
  cost: { month?: Record<string, unknown>; opportunities?: { kind: string; text: string }[] } & Record<string, unknown>;
  [k: string]: unknown;
}

/** A view as `GET /api` lists it: its arguments as a JSON Schema object. */
export interface ViewInfo {
  name: string;
  summary: string;
  args: { properties?: Record<string, { type?: string; description?: string }>; required?: string[] };
}
