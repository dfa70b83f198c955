// ntm's attention feed on each machine: the agents' states from --robot-snapshot, the event
// journal from --robot-events after vc's saved cursor, and what needs an operator from
// --robot-attention. A cursor that expired or belongs to another ntm instance is resynced from
// the snapshot; an ntm older than the feed skips the run and says so (vc doctor shows it).
import { cursor, defineCollector, isoTime, runJson, type CollectContext } from "vibe-cockpit";
import * as v from "valibot";
import { AttentionSchema, EventsSchema, SnapshotSchema, agentStateRows, attentionRows, eventRows, type EventsOutput } from "./attention-parse.ts";
import { ntmPlugin } from "./plugin.ts";

export interface NtmAttentionOptions {
  /** The ntm command (default `ntm`): an absolute path where ntm is not on the PATH of a non-login SSH shell. */
  bin?: string;
  /** Events read per --robot-events call (default 500; ntm caps it at 1000). */
  pageSize?: number;
}

/** The cursor key of the event journal in vc's cursor table. */
export const EVENTS_CURSOR = "events";

/** What old ntm prints for a flag it does not know (cobra), or a robot error saying the feed is not there. */
const UNKNOWN_FLAG = /unknown (flag|shorthand flag|command)|flag provided but not defined|FEED_UNAVAILABLE|NOT_IMPLEMENTED/i;

/** A robot failure envelope's text: `error (ERROR_CODE)`. */
const failure = (o: { error?: string | null; error_code?: string | null }) => `${o.error ?? "no reason given"}${o.error_code ? ` (${o.error_code})` : ""}`;

/** The collector's saved event cursor, if it is one vc wrote (an opaque decimal int64). */
function savedCursor(ctx: CollectContext): number | null {
  const c = ctx.cursors[EVENTS_CURSOR];
  if (c?.kind !== "opaque" || !/^\d{1,18}$/.test(c.value)) return null;
  return Number(c.value);
}

/**
 * ntm's attention feed (issue 20): per machine the agents' states (ntm_agent_states), the feed's
 * events (ntm_agent_events, keyed by ntm's cursor and the event's time), the items that need an
 * operator (ntm_attention_items) and one row per run (ntm_attention_runs).
 * @example collectors: [ntm(), ntmAttention()]
 */
export function ntmAttention(options: NtmAttentionOptions = {}) {
  const bin = options.bin ?? "ntm";
  const pageSize = Math.max(1, Math.min(1000, options.pageSize ?? 500));
  // Per machine, the attention cursor the next wait starts from (the newest ntm has told us of).
  const followed = new Map<string, number>();
  return defineCollector({
    name: "ntm_attention",
    plugin: ntmPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "ntm --robot-snapshot, --robot-events and --robot-attention: agents' states, the event feed and what needs a person",
    // A path (ntm outside a non-login shell's PATH) is required as a file; a name, on the PATH.
    requires: bin.includes("/") ? { files: [bin] } : { commands: [bin] },
    /**
     * ntm's blocking attention wait from the newest cursor: it returns when something needs an
     * operator (or at the timeout), so a waiting agent is collected within seconds.
     */
    async follow(ctx) {
      const run = (args: string[], timeoutMs?: number) => runJson(ctx.exec, [bin, ...args], { signal: ctx.signal, timeoutMs });
      let from = followed.get(ctx.machine.id);
      if (from === undefined) {
        const snap = await run(["--robot-snapshot"]);
        if (!snap.ok) throw new Error(snap.error);
        const latest = (snap.raw as { latest_cursor?: unknown }).latest_cursor;
        from = typeof latest === "number" ? Math.trunc(latest) : 0;
        followed.set(ctx.machine.id, from);
      }
      const seconds = Math.max(1, Math.round(ctx.timeoutMs / 1000));
      const r = await run(["--robot-attention", `--attention-cursor=${from}`, `--attention-timeout=${seconds}s`, "--attention-poll=250ms"], ctx.timeoutMs + 10_000);
      if (!r.ok) throw new Error(r.error);
      const out = r.raw as { wake_reason?: unknown; cursor_info?: { end_cursor?: unknown } };
      const end = out.cursor_info?.end_cursor;
      if (typeof end === "number" && end > from) followed.set(ctx.machine.id, Math.trunc(end));
      // A wake that moved no cursor: read the snapshot's again next time (ntm restarted, say).
      else if (out.wake_reason !== "timeout") followed.delete(ctx.machine.id);
      return out.wake_reason === "timeout" ? "timeout" : "changed";
    },
    async collect(ctx) {
      const run = (args: string[]) => runJson(ctx.exec, [bin, ...args], { signal: ctx.signal });
      const [snapRun, attRun] = await Promise.all([
        run(["--robot-snapshot"]),
        // Non-blocking: wake at once on what the retained feed holds, else time out almost at once.
        run(["--robot-attention", "--attention-cursor=0", "--attention-timeout=1ms", "--attention-poll=10ms"]),
      ]);
      if (!snapRun.ok) {
        if (UNKNOWN_FLAG.test(snapRun.error)) {
          const why = `ntm on ${ctx.machine.id} predates the attention feed (${snapRun.error.slice(0, 160)}): agents' states and attention are not collected; vc reads ntm --robot-status (the ntm collector) instead`;
          ctx.warn(why);
          return { rows: {}, skipped: why };
        }
        throw new Error(snapRun.error);
      }
      const snap = v.safeParse(SnapshotSchema, snapRun.raw);
      if (!snap.success) throw new Error(`ntm --robot-snapshot printed no snapshot: ${snap.issues[0]?.message}`);
      if (snap.output.success === false) throw new Error(`ntm --robot-snapshot failed: ${failure(snap.output)}`);
      const states = agentStateRows(snap.output, ctx.warn);
      const latest = typeof snap.output.latest_cursor === "number" ? Math.trunc(snap.output.latest_cursor) : null;

      // Events: from vc's cursor; from the snapshot's latest cursor on the first run.
      const saved = savedCursor(ctx);
      let since = saved ?? latest ?? 0;
      let resync: string | null = null;
      let resyncFrom = 0;
      if (saved !== null && latest !== null && latest < saved) {
        resync = `ntm's event feed on ${ctx.machine.id} restarted (vc's cursor ${saved} is past its newest, ${latest})`;
        since = 0;
      }
      const events: Record<string, unknown>[] = [];
      let feedOk = true;
      for (let page = 0; page < 20 && events.length < ctx.limits.maxRows; page++) {
        const r = await run(["--robot-events", `--since-cursor=${since}`, `--events-limit=${pageSize}`]);
        if (!r.ok) {
          feedOk = false;
          ctx.warn(UNKNOWN_FLAG.test(r.error) ? `ntm on ${ctx.machine.id} has no --robot-events (${r.error.slice(0, 160)}); events not collected` : r.error);
          break;
        }
        const parsed = v.safeParse(EventsSchema, r.raw);
        if (!parsed.success) {
          feedOk = false;
          ctx.warn(`ntm --robot-events printed no events page: ${parsed.issues[0]?.message}; events not collected this run`);
          break;
        }
        const out: EventsOutput = parsed.output;
        if (out.success === false) {
          if (out.error_code === "CURSOR_EXPIRED" && !resync) {
            // Events after the cursor are gone: resync from the snapshot (states above) and read all ntm still holds.
            const oldest = out.replay_window?.oldest_cursor;
            resync = `ntm's cursor ${since} expired on ${ctx.machine.id} (${failure(out)})`;
            since = typeof oldest === "number" && oldest > 0 ? Math.trunc(oldest) - 1 : (latest ?? 0);
            resyncFrom = since;
            continue;
          }
          feedOk = false;
          ctx.warn(`ntm --robot-events failed: ${failure(out)}; events not collected this run`);
          break;
        }
        const list = out.events ?? [];
        const next = typeof out.next_cursor === "number" ? Math.trunc(out.next_cursor) : since;
        if (next < since && !resync) {
          // Another ntm instance: its cursors restarted below ours. Read everything it holds.
          resync = `ntm's event feed on ${ctx.machine.id} restarted (vc's cursor ${since} is past its newest, ${next})`;
          since = 0;
          continue;
        }
        events.push(...eventRows(list, ctx.warn));
        const top = Math.max(next, ...list.map((e) => (typeof (e as { cursor?: unknown })?.cursor === "number" ? Math.trunc((e as { cursor: number }).cursor) : 0)));
        const moved = top > since;
        since = Math.max(since, top);
        if (!out.has_more || !moved) break;
      }
      if (resync) ctx.warn(`${resync}: resynced from its snapshot; events read from cursor ${resyncFrom}`);

      let items: Record<string, unknown>[] = [];
      let attentionOk = false;
      if (!attRun.ok) ctx.warn(UNKNOWN_FLAG.test(attRun.error) ? `ntm on ${ctx.machine.id} has no --robot-attention; attention items not collected` : attRun.error);
      else {
        const att = v.safeParse(AttentionSchema, attRun.raw);
        if (!att.success) ctx.warn(`ntm --robot-attention printed no digest: ${att.issues[0]?.message}`);
        // A timeout is no failure here: nothing woke it, and its digest says what the feed holds.
        else if (att.output.success === false && att.output.wake_reason !== "timeout") ctx.warn(`ntm --robot-attention failed: ${failure(att.output)}`);
        else {
          attentionOk = true;
          items = attentionRows(att.output, ctx.warn);
        }
      }
      return {
        rows: {
          ntm_agent_states: states,
          ntm_agent_events: events,
          ntm_attention_items: items,
          ntm_attention_runs: [
            {
              ntm_ts: isoTime(snap.output.ts ?? snap.output.timestamp),
              latest_cursor: latest,
              agents: states.length,
              items: attentionOk ? items.length : null,
              events_ok: feedOk,
              attention_ok: attentionOk,
              resynced: resync,
            },
          ],
        },
        ...(feedOk ? { cursors: { [EVENTS_CURSOR]: cursor.opaque(String(since)) } } : {}),
      };
    },
  });
}

export default ntmAttention;
