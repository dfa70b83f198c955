import { cursor, defineCollector, parseJsonLines, validate } from "vibe-cockpit";
import { RanoEventSchema, ranoTime, toRow } from "./parse.ts";
import { ranoPlugin } from "./plugin.ts";

export interface RanoOptions {
  /** The first window, before any cursor: anything rano's `--since` takes (default "10m"). */
  initialWindow?: string;
  /**
   * Each window starts this many seconds before the newest event already read (default 60): rano
   * writes events in batches, and several rano processes may share one database, so an event can
   * land a little after a newer one. Events read twice add nothing (keys).
   */
  overlapSeconds?: number;
}

/**
 * rano (plan §3.11): network connect/close events per AI CLI process into rano_events, by CLI
 * incremental window (plan §3.17 pattern 2): `rano export --format jsonl --since <cursor>`, the
 * cursor being the newest event time read (rano's own clock, so machines' clock skew does not
 * matter). The per-run, per-provider summary is the view net_session_summary over these rows;
 * net_events is the plan's name for them.
 * rano's database defaults to `observer.sqlite` in the directory rano runs in: vc runs it in HOME;
 * set `rano.db` in vc.config.ts paths to pass `--sqlite <path>` instead.
 * @example collectors: [rano()]   // paths: { "rano.db": "~/rano/observer.sqlite" }
 */
export function rano(options: RanoOptions = {}) {
  const initial = options.initialWindow ?? "10m";
  const overlapMs = (options.overlapSeconds ?? 60) * 1000;
  return defineCollector({
    name: "rano",
    version: "1.0.0",
    schemaVersion: 1,
    description: "rano export --format jsonl: outbound connections of AI CLIs by provider",
    requires: { commands: ["rano"] },
    plugin: ranoPlugin,
    async collect(ctx) {
      const prev = ctx.cursor?.kind === "timestamp" ? Date.parse(ctx.cursor.at) : undefined;
      const since = prev === undefined ? initial : ranoTime(prev - overlapMs);
      const argv = ["rano", "export", "--format", "jsonl", "--since", since];
      const db = ctx.path("db", "");
      if (db) argv.push("--sqlite", await ctx.exec.expand(db)); // rano does not expand `~`
      // In HOME, where rano's relative default `observer.sqlite` is taken from (and SSH sessions start).
      const r = await ctx.exec.run({ script: 'cd "$HOME" 2>/dev/null; exec "$@"', args: argv });
      if (r.exitCode !== 0) {
        const err = (r.stderr.trim() || r.stdout.trim()).slice(0, 300);
        if (/SQLite file not found/i.test(err)) {
          return { rows: {}, skipped: `rano has no database on ${ctx.machine.id} (${err}); set paths "rano.db" to its --sqlite file` };
        }
        throw new Error(`rano export exited with ${r.exitCode ?? "a signal"}: ${err || "(no output)"}`);
      }

      const { values, bad } = parseJsonLines(r.stdout);
      if (values.length === 0 && bad.length > 0) {
        throw new Error(`rano export printed no JSON lines: ${JSON.stringify(r.stdout.slice(0, 120))}`);
      }
      for (const b of bad) ctx.warn(`rano export: line at byte ${b.offset} is not JSON (${b.error}); skipped`);
      const events: { row: Record<string, unknown>; tsMs: number }[] = [];
      for (const value of values) {
        const { value: e, error } = validate(RanoEventSchema, value);
        const mapped = e ? toRow(e) : { error };
        if (mapped.row && mapped.tsMs !== undefined) events.push({ row: mapped.row, tsMs: mapped.tsMs });
        else ctx.warn(`rano export: a line is not a rano event (${mapped.error}); skipped`);
      }
      events.sort((a, b) => a.tsMs - b.tsMs); // stable: rano's order within a second is kept

      // At most maxRows: events at or after the cursor first (the overlap was most likely read before).
      const max = ctx.limits.maxRows;
      let take = events;
      if (events.length > max) {
        const fresh = prev === undefined ? events : events.filter((e) => e.tsMs >= prev);
        const seen = prev === undefined ? [] : events.filter((e) => e.tsMs < prev);
        take = fresh.length <= max ? [...seen.slice(seen.length - (max - fresh.length)), ...fresh] : fresh.slice(0, max);
      }
      let newest = prev;
      for (const e of take) if (newest === undefined || e.tsMs > newest) newest = e.tsMs;
      if (events.length > take.length && prev !== undefined && newest === prev && take.length === max) {
        // More than max_rows events in one second: move past it rather than read it for ever.
        ctx.warn(`more than max_rows (${max}) rano events at ${ranoTime(prev)}; the rest of that second is skipped`);
        newest = prev + 1000;
      }
      // Nothing yet: remember where the first window began, so a long pause loses nothing.
      if (newest === undefined) newest = ctx.now.getTime() - 10 * 60_000;
      return { rows: { rano_events: take.map((e) => e.row) }, cursor: cursor.timestamp(new Date(newest)) };
    },
  });
}

export default rano;
