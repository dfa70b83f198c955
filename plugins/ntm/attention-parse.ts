/**
 * Parsers for ntm's attention feed (ntm ≥ the robot redesign of 2026-03): `--robot-snapshot`
 * (per-agent states and the feed's latest cursor), `--robot-events --since-cursor=N` (the journal
 * after a cursor) and `--robot-attention` (a digest of what needs an operator, with next_actions).
 * The code is the contract (internal/robot): cursors are int64, an event's pane is its pane
 * index (the `W.P` ref, when known, is in details.pane_ref), a next action is {action, args, reason}.
 * Schemas accept unknown fields and unknown categories and types; mappers are pure.
 */
import * as v from "valibot";
import { checkRecord, isoTime, stripControl } from "vibe-cockpit";
import { bool, num, opt, str } from "./parse.ts";

const obj = opt(v.record(v.string(), v.unknown()));

/** ntm's robot envelope fields every output carries (RobotResponse). */
const envelope = {
  success: bool,
  timestamp: str,
  version: str,
  error: str,
  error_code: str,
  hint: str,
};

export const ReplayWindowSchema = v.looseObject({
  supported: bool,
  oldest_cursor: num,
  latest_cursor: num,
  event_count: num,
  retention_period: str,
});

export const SnapshotAgentSchema = v.looseObject({
  pane: v.pipe(v.string(), v.minLength(1)),
  type: str,
  variant: str,
  type_confidence: num,
  state: str,
  last_output_age_sec: num,
  output_tail_lines: num,
  context_percent: num,
  current_bead: str,
  pending_mail: num,
});

export const SnapshotSessionSchema = v.looseObject({
  name: v.pipe(v.string(), v.minLength(1)),
  attached: bool,
  agents: opt(v.array(v.unknown())),
});

/** `ntm --robot-snapshot` (SnapshotOutput). */
export const SnapshotSchema = v.looseObject({
  ...envelope,
  schema_version: str,
  ts: str,
  latest_cursor: num,
  replay_window: opt(ReplayWindowSchema),
  sessions: opt(v.array(v.unknown())),
});

export const NextActionSchema = v.looseObject({ action: str, args: str, reason: str, label: str, command: str });

/** One attention event (AttentionEvent). */
export const EventSchema = v.looseObject({
  cursor: v.pipe(v.number(), v.integer()),
  ts: v.string(),
  session: str,
  pane: num,
  category: str,
  type: str,
  source: str,
  actionability: str,
  severity: str,
  reason_code: str,
  summary: str,
  details: obj,
  next_actions: opt(v.array(v.unknown())),
});

/** `ntm --robot-events` (EventsOutput). */
export const EventsSchema = v.looseObject({
  ...envelope,
  events: opt(v.array(v.unknown())),
  next_cursor: num,
  has_more: bool,
  replay_window: opt(ReplayWindowSchema),
});

const DigestItemSchema = v.looseObject({ event: v.unknown(), cursor_start: num, cursor_end: num, source_event_count: num });

/** `ntm --robot-attention` (AttentionResponse): a wake reason and a digest of the feed. */
export const AttentionSchema = v.looseObject({
  ...envelope,
  wake_reason: str,
  digest: opt(
    v.looseObject({
      cursor_end: num,
      buckets: opt(v.looseObject({ action_required: opt(v.array(v.unknown())), interesting: opt(v.array(v.unknown())) })),
    }),
  ),
  cursor_info: opt(v.looseObject({ end_cursor: num })),
});

export type Snapshot = v.InferOutput<typeof SnapshotSchema>;
export type EventsOutput = v.InferOutput<typeof EventsSchema>;
export type AttentionOutput = v.InferOutput<typeof AttentionSchema>;
export type NtmEvent = v.InferOutput<typeof EventSchema>;

type Row = Record<string, unknown>;
type Warn = (message: string) => void;

/** A command ntm suggests, as vc shows it: what, the command line, why. */
export interface NtmAction {
  label: string;
  command: string;
  reason: string | null;
}

/** ntm's next_actions as commands: `{action, args}` (the code) or `{label, command}` (the contract doc). */
export function nextActions(list: readonly unknown[] | null | undefined): NtmAction[] {
  const out: NtmAction[] = [];
  for (const raw of list ?? []) {
    const r = v.safeParse(NextActionSchema, raw);
    if (!r.success) continue;
    const a = r.output;
    const args = a.args?.trim();
    const command = a.command?.trim() || (args ? (args.startsWith("ntm ") || !args.startsWith("-") ? args : `ntm ${args}`) : null);
    if (!command) continue;
    out.push({ label: oneLineOf(a.label ?? a.action ?? command, 200), command: oneLineOf(command, 1000), reason: a.reason ? oneLineOf(a.reason, 500) : null });
  }
  return out;
}

const oneLineOf = (s: string, max: number) => {
  const t = stripControl(s.replace(/[\t\n\r\v\f]+/g, " ")).trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** The most of a pane's tail kept: its last lines, stripped of escapes, at most this many bytes. */
export const MAX_TAIL_CHARS = 4000;
export const MAX_TAIL_LINES = 40;

/**
 * A pane's last lines from untrusted text: escape sequences and controls stripped (before cutting,
 * so no sequence is cut in half), carriage-return overdraws resolved, the last lines kept within
 * the bounds. null for nothing.
 */
export function paneTail(text: unknown): string | null {
  let s: string;
  if (typeof text === "string") s = text;
  else if (Array.isArray(text)) s = text.filter((l) => typeof l === "string").join("\n");
  else return null;
  // Work on the end only: a megabyte of output needs its last few KB (plus room for escapes).
  if (s.length > MAX_TAIL_CHARS * 16) s = s.slice(-MAX_TAIL_CHARS * 16);
  // A carriage return redraws its line: what follows the last one is what the pane shows.
  const lines = s
    .replace(/\r+\n/g, "\n")
    .split("\n")
    .map((l) => stripControl(l.slice(l.lastIndexOf("\r") + 1)).replace(/\s+$/, ""));
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  let kept = lines.slice(-MAX_TAIL_LINES).join("\n");
  if (kept.length > MAX_TAIL_CHARS) kept = `…${kept.slice(-(MAX_TAIL_CHARS - 1))}`;
  return kept === "" ? null : kept;
}

/** The pane's last lines in an event's details, where ntm gives them (ErrorDetails.last_output, a tail's lines). */
export function tailOf(details: Record<string, unknown> | null): string | null {
  if (!details) return null;
  for (const key of ["last_output", "output_tail", "tail", "lines", "last_lines"]) {
    const t = paneTail(details[key]);
    if (t) return t;
  }
  return null;
}

/** The pane index of a `W.P` ref (ntm's attentionPaneIndex: the part after the last dot). */
export function paneIndexOf(ref: string): number | null {
  const m = /(\d+)$/.exec(ref.trim().replace(/^%/, ""));
  return m ? Number(m[1]) : null;
}

const int = (n: number | null | undefined) => (typeof n === "number" && Number.isFinite(n) ? Math.trunc(n) : null);

/** ntm_agent_states rows from a snapshot: one per (session, pane), the first kept when ntm repeats one. */
export function agentStateRows(snap: Snapshot, warn: Warn): Row[] {
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of (snap.sessions ?? []).entries()) {
    const s = checkRecord(SnapshotSessionSchema, raw, `ntm --robot-snapshot session #${i}`, warn);
    if (!s) continue;
    for (const [j, rawAgent] of (s.agents ?? []).entries()) {
      const a = checkRecord(SnapshotAgentSchema, rawAgent, `ntm --robot-snapshot agent #${j} of session ${s.name}`, warn);
      if (!a) continue;
      const key = `${s.name}\u0000${a.pane}`;
      if (seen.has(key)) {
        warn(`ntm --robot-snapshot lists pane ${a.pane} of session ${s.name} twice; kept the first`);
        continue;
      }
      seen.add(key);
      const age = int(a.last_output_age_sec);
      rows.push({
        session_name: s.name,
        pane: a.pane,
        pane_index: paneIndexOf(a.pane),
        session_attached: s.attached ?? null,
        agent_type: a.type ?? null,
        variant: a.variant ?? null,
        state: a.state ?? null,
        last_output_age_s: age !== null && age >= 0 ? age : null,
        context_percent: a.context_percent ?? null,
        current_bead: a.current_bead ?? null,
        pending_mail: int(a.pending_mail),
        latest_cursor: int(snap.latest_cursor),
        raw_json: rawAgent,
      });
    }
  }
  return rows;
}

/** One ntm_agent_events row from an event, or why it cannot be one. */
export function eventRow(raw: unknown): { row?: Row; error?: string } {
  const r = v.safeParse(EventSchema, raw);
  if (!r.success) return { error: r.issues[0]?.message ?? "not an event" };
  const e = r.output;
  const ts = isoTime(e.ts);
  if (!ts) return { error: `event ${e.cursor} has no readable ts (${JSON.stringify(e.ts).slice(0, 60)})` };
  const details = e.details ?? null;
  const ref = typeof details?.pane_ref === "string" ? details.pane_ref : null;
  return {
    row: {
      cursor: e.cursor,
      event_ts: ts,
      session_name: e.session ?? null,
      pane_index: ref ? paneIndexOf(ref) : e.pane ? int(e.pane) : null,
      pane_ref: ref,
      category: e.category ?? "unknown",
      event_type: e.type ?? "unknown",
      emitter: e.source ?? null,
      actionability: e.actionability ?? null,
      severity: e.severity ?? null,
      reason_code: e.reason_code ?? null,
      summary: e.summary ?? null,
      details_json: details,
      next_actions_json: e.next_actions ? nextActions(e.next_actions) : null,
      pane_tail: tailOf(details),
      raw_json: raw,
    },
  };
}

/** ntm_agent_events rows of an events page; the ones ntm printed twice or that are not events are left out with a warning. */
export function eventRows(list: readonly unknown[], warn: Warn): Row[] {
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of list.entries()) {
    const { row, error } = eventRow(raw);
    if (!row) {
      warn(`ntm --robot-events event #${i}: ${error}; skipped`);
      continue;
    }
    const key = `${row.cursor}\u0000${row.event_ts}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(row);
  }
  return rows;
}

/**
 * ntm_attention_items rows from an attention digest: its action_required and interesting items
 * (the representative event of each, how many feed events it stands for).
 */
export function attentionRows(out: AttentionOutput, warn: Warn): Row[] {
  const rows: Row[] = [];
  const seen = new Set<number>();
  const buckets = out.digest?.buckets;
  for (const bucket of ["action_required", "interesting"] as const) {
    for (const [i, raw] of (buckets?.[bucket] ?? []).entries()) {
      const item = v.safeParse(DigestItemSchema, raw);
      const { row, error } = item.success ? eventRow(item.output.event) : { error: "not a digest item" };
      if (!row || !item.success) {
        warn(`ntm --robot-attention ${bucket} item #${i}: ${error}; skipped`);
        continue;
      }
      if (seen.has(row.cursor as number)) continue;
      seen.add(row.cursor as number);
      rows.push({
        ...row,
        bucket,
        cursor_start: int(item.output.cursor_start),
        source_event_count: int(item.output.source_event_count),
        raw_json: raw,
      });
    }
  }
  return rows;
}
