// The common event shape: what happened, one row each, whichever tool saw it. A plugin turns its
// rows into these (`events` in definePlugin); the `events` view gathers every plugin's, and the
// TUI's Events screen, a repo's history and incidents read that view. The core names no tool.
import type { Store } from "./store/store.ts";

/** One event, as every client shows it. JSON-safe: no bigint, no Date. */
export interface VcEvent {
  /** Stable across reads: `<source>:<natural key>` (the same deny read twice has one key). */
  key: string;
  /** The event source that produced it (its `name`). */
  source: string;
  /** The heading it is listed under ("DCG DENIES"): the source's `group`. */
  group: string;
  machine_id: string | null;
  /** ISO 8601 UTC, when it happened; null when the tool does not say. */
  at: string | null;
  /** critical, high, medium, low, info or ok. */
  severity: string;
  /** One line: what happened. */
  title: string;
  /** Field/value pairs in reading order (values as collected: strings, numbers, booleans, null). */
  fields: [string, unknown][];
  /** Long text (a message body, a session's content), shown wrapped in a detail. */
  text?: string;
  /** A command a person may run next about it. */
  command?: string;
}

/** What an event source is asked: a window, and optionally one machine or one repo. */
export interface EventQuery {
  store: Store;
  /** ISO 8601: events after `from`, at or before `to`. */
  from: string;
  to: string;
  /** A substring of the machine id (the filter bar matches machines this way). */
  machine?: string;
  /** One repo's history: sources that can tie an event to a repo answer only those. */
  repo?: { machine_id: string; repo_id: string; path: string | null };
  /** At most this many events from this source. */
  limit: number;
}

/** One kind of event a plugin reads from its tables. */
export interface EventSource {
  /** Unique among sources ("dcg", "pt", …); the `source` of each event it makes. */
  name: string;
  /** The list heading ("DCG DENIES"). */
  group: string;
  /**
   * What it answers: `fleet` events in the Events screen's window, `repo` events when asked for one
   * repo's history, or both.
   */
  scope: readonly ("fleet" | "repo")[];
  /**
   * Its events are conditions that hold while they are listed (an agent waiting for a person):
   * when one is no longer listed, `vc watch` says it ended.
   */
  ongoing?: boolean;
  /**
   * Its new events are forecasts or opportunities: `vc watch` prints each as that typed line
   * (`{type:"prediction"}`, `{type:"opportunity"}`) instead of a plain `{type:"event"}` line.
   */
  watchLine?(event: VcEvent): PredictionLine | OpportunityLine;
  load(q: EventQuery): Promise<VcEvent[]>;
}

/** A forecast crossing a threshold or changing its advice, as `vc watch` prints it. */
export interface PredictionLine {
  type: "prediction";
  at: string;
  /** What is forecast (account_limit, disk_full …). */
  kind: string;
  machine_id: string | null;
  /** Minutes until it happens; null when it no longer comes before its horizon. */
  horizon_minutes: number | null;
  /** 0..1, when the forecaster says. */
  confidence: number | null;
  message: string;
  /** The event it was made from. */
  event: VcEvent;
}

/** Something worth doing now that frees capacity or saves money, with its commands. */
export interface OpportunityLine {
  type: "opportunity";
  at: string;
  kind: string;
  machine_id: string | null;
  message: string;
  suggested: { title: string; command?: string }[];
  event: VcEvent;
}

/** Declares an event source (an identity function, for the types). */
export function defineEventSource(source: EventSource): EventSource {
  return source;
}

/** An ISO 8601 UTC string from what DuckDB returns for a TIMESTAMP (a Date, `2026-01-25 03:00:00`, …). */
export function isoTime(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  const s = String(v);
  if (/[zZ]$|[+-]\d\d:?\d\d$/.test(s)) return s.replace(" ", "T");
  return `${s.replace(" ", "T")}Z`;
}
