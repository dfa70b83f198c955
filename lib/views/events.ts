// `vc robot events`: what happened, from every plugin's event sources — the fleet's in a window, or
// one repo's history. A source that fails is reported, never the whole answer.
import type { Cockpit } from "../cockpit.ts";
import { VcError, errorMessage, isMissingTable } from "../errors.ts";
import type { EventQuery, EventSource, OpportunityLine, PredictionLine, VcEvent } from "../events.ts";
import type { Plugin } from "../plugin/define.ts";
import { arg, defineView } from "./define.ts";

/** The `data` of `vc robot events` (vc.robot.events.v1). */
export interface EventsData {
  /** Newest first within each source; sources in plugin order. */
  events: VcEvent[];
  /** Each source asked, with how many events it gave (0 for one that failed). */
  sources: { name: string; group: string; count: number }[];
  /** The sources that failed, and why (also in the envelope's warnings). */
  errors: { source: string; error: string }[];
}

/** Every event source of `plugins`, in plugin order. */
export const eventSources = (plugins: readonly Pick<Plugin, "events">[]): EventSource[] => plugins.flatMap((p) => p.events ?? []);

// A table no collector has created yet in this store: its source has nothing to say, which is no failure.

/** Newest first; events without a time after those with one; the source's own order otherwise. */
const byTimeDesc = (a: VcEvent, b: VcEvent) => (a.at === b.at ? 0 : a.at === null ? 1 : b.at === null ? -1 : a.at < b.at ? 1 : -1);

/**
 * Runs each source in its scope (`fleet`, or `repo` when the query names a repo), all at once. A
 * source that throws lands in `errors` with its message; one whose table is missing gives nothing.
 */
export async function loadEvents(sources: readonly EventSource[], q: EventQuery): Promise<EventsData> {
  const scope = q.repo ? "repo" : "fleet";
  const asked = sources.filter((s) => s.scope.includes(scope));
  const answers = await Promise.all(
    asked.map((s) =>
      s.load(q).then(
        (events): { events: VcEvent[]; error?: string } => ({ events: events.slice(0, q.limit).sort(byTimeDesc) }),
        (err: unknown) => (isMissingTable(err) ? { events: [] } : { events: [], error: errorMessage(err) }),
      ),
    ),
  );
  return {
    events: answers.flatMap((a) => a.events),
    sources: asked.map((s, i) => ({ name: s.name, group: s.group, count: answers[i]!.events.length })),
    errors: asked.flatMap((s, i) => (answers[i]!.error === undefined ? [] : [{ source: s.name, error: answers[i]!.error! }])),
  };
}

export default defineView({
  name: "events",
  summary: "What happened: every plugin's events (denied commands, process findings, unknown hosts, urgent mail …) in a window, or one repo's history with --repo",
  args: {
    window: arg.duration("how far back", { default: 24 * 3600, hint: "DURATION" }),
    machine: arg.string("only machines whose id contains this", { hint: "TEXT", max: 200 }),
    repo: arg.string("one repo's history: its repo_id (with --repo_machine, and --path for the sources that match by folder)", { hint: "REPO_ID", max: 500 }),
    repo_machine: arg.string("the machine the repo is on (with --repo)", { hint: "ID", max: 200 }),
    path: arg.string("the repo's folder on that machine (with --repo)", { hint: "PATH", max: 4096 }),
    source: arg.list("only these event sources (comma-separated)", { hint: "NAME[,NAME]" }),
    limit: arg.int("events per source", { min: 1, max: 10_000, default: 100, hint: "N" }),
  },
  async run(vc, args) {
    const all = eventSources(vc.config.plugins ?? []);
    const unknown = (args.source ?? []).filter((n) => !all.some((s) => s.name === n));
    if (unknown.length)
      throw new VcError("invalid_argument", `source: no event source ${unknown.map((n) => `"${n}"`).join(", ")}`, {
        hint: all.length ? `the sources are ${all.map((s) => s.name).join(", ")}` : "no plugin of this config has event sources",
        details: { view: "events", field: "source", unknown },
      });
    if (args.repo === undefined && (args.repo_machine !== undefined || args.path !== undefined))
      throw new VcError("invalid_argument", `${args.repo_machine !== undefined ? "repo_machine" : "path"}: only with repo`, {
        hint: "name the repo too (its repo_id)",
        details: { view: "events", field: args.repo_machine !== undefined ? "repo_machine" : "path" },
      });
    if (args.repo !== undefined && args.repo_machine === undefined)
      throw new VcError("invalid_argument", "repo: needs repo_machine, the machine the repo is on", { details: { view: "events", field: "repo_machine" } });
    const sources = args.source ? all.filter((s) => args.source!.includes(s.name)) : all;
    const to = vc.clock.now();
    const data = await loadEvents(sources, {
      store: vc.store,
      from: new Date(to.getTime() - args.window * 1000).toISOString(),
      to: to.toISOString(),
      limit: args.limit,
      ...(args.machine ? { machine: args.machine } : {}),
      ...(args.repo !== undefined ? { repo: { machine_id: args.repo_machine!, repo_id: args.repo, path: args.path ?? null } } : {}),
    });
    return { data, warnings: data.errors.map((e) => `event source ${e.source} failed: ${e.error}`) };
  },
});

/** What a feed call found: events new since the last call, and ongoing ones that no longer hold. */
export interface FeedNews {
  fresh: VcEvent[];
  ended: VcEvent[];
  /** The fresh events whose source prints them as typed lines (forecasts, opportunities), by key. */
  typed?: Map<string, PredictionLine | OpportunityLine>;
}

/**
 * The events that appear between one call and the next — what `vc watch` and the daemon's stream
 * add after each cycle as `{ type: "event" }` lines — and, for ongoing sources (an agent waiting),
 * the ones that stopped holding (`{ type: "event_end" }`). The first call only learns what is
 * already there (a new watcher gets no flood of history); each later call returns the events whose
 * keys it has not seen in the last day. A source that fails is skipped for that call (the events
 * view reports it), and its ongoing events are not taken for ended.
 */
export function eventFeed(vc: Pick<Cockpit, "config" | "store" | "clock">, o: { windowMs?: number; limit?: number } = {}): { next(): Promise<FeedNews> } {
  const seen = new Set<string>();
  let current = new Map<string, VcEvent>(); // the ongoing sources' events listed last time
  let primed = false;
  const sources = () => eventSources(vc.config.plugins ?? []);
  return {
    async next() {
      const to = vc.clock.now();
      const all = sources();
      const data = await loadEvents(all, {
        store: vc.store,
        from: new Date(to.getTime() - (o.windowMs ?? 86_400_000)).toISOString(),
        to: to.toISOString(),
        limit: o.limit ?? 100,
      });
      // Bounded: past 50 000 keys the feed starts over from what the window holds now.
      if (seen.size > 50_000) {
        seen.clear();
        primed = false;
      }
      const fresh = data.events.filter((e) => !seen.has(e.key));
      for (const e of fresh) seen.add(e.key);
      const ongoing = new Set(all.filter((x) => x.ongoing).map((x) => x.name));
      const failed = new Set(data.errors.map((x) => x.source));
      const now = new Map(data.events.filter((e) => ongoing.has(e.source)).map((e) => [e.key, e]));
      const ended = [...current.values()].filter((e) => !now.has(e.key) && !failed.has(e.source));
      // A source that failed keeps what it listed before: nothing of it ended for want of an answer.
      for (const e of current.values()) if (failed.has(e.source)) now.set(e.key, e);
      current = now;
      if (!primed) {
        primed = true;
        return { fresh: [], ended: [] };
      }
      const typed = new Map<string, PredictionLine | OpportunityLine>();
      const byName = new Map(all.map((x) => [x.name, x]));
      for (const e of fresh) {
        const line = byName.get(e.source)?.watchLine?.(e);
        if (line) typed.set(e.key, line);
      }
      return { fresh, ended, typed };
    },
  };
}
