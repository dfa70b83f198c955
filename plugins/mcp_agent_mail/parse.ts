/**
 * Schemas and pure mappers for mcp_agent_mail's storage.sqlite3 rows, in both shapes the real
 * servers write (test/fixtures/mcp_agent_mail):
 * - the Rust server (current): every timestamp an INTEGER of **microseconds** since the epoch,
 *   `messages.recipients_json`, releases also in `file_reservation_releases`;
 * - the Python server (legacy): DATETIME **text** `YYYY-MM-DD HH:MM:SS.ffffff`, naive UTC,
 *   `messages.topic`, no recipients_json.
 * Columns the queries add (project slug, agent names) start with `vc_` and are left out of raw_json.
 */
import * as v from "valibot";
import { isoFromMs } from "vibe-cockpit";

/** Which server wrote the mailbox. */
export type MailSchema = "rust" | "python";

const id = v.pipe(v.number(), v.integer());
const optStr = v.nullish(v.string());
const optId = v.nullish(id);
/** A timestamp as either server stores it: µs integer (Rust) or text (Python). */
const stamp = v.union([v.number(), v.string()]);
/** SQLite booleans: 0/1, rarely text. */
const flag = v.nullish(v.union([v.number(), v.boolean(), v.string()]));

export const MessageRowSchema = v.looseObject({
  id,
  project_id: id,
  sender_id: optId,
  thread_id: optStr,
  topic: optStr,
  subject: optStr,
  importance: optStr,
  ack_required: flag,
  created_ts: stamp,
  recipients_json: optStr,
  attachments: v.nullish(v.unknown()),
  vc_project_slug: optStr,
  vc_project_key: optStr,
  vc_sender_name: optStr,
});
export type MessageRow = v.InferOutput<typeof MessageRowSchema>;

export const RecipientRowSchema = v.looseObject({
  message_id: id,
  agent_id: id,
  kind: optStr,
  read_ts: v.nullish(stamp),
  ack_ts: v.nullish(stamp),
  vc_message_created_ts: stamp,
  vc_project_id: id,
  vc_project_slug: optStr,
  vc_agent_name: optStr,
});
export type RecipientRow = v.InferOutput<typeof RecipientRowSchema>;

export const ReservationRowSchema = v.looseObject({
  id,
  project_id: id,
  agent_id: optId,
  path_pattern: optStr,
  exclusive: flag,
  reason: optStr,
  created_ts: stamp,
  expires_ts: v.nullish(stamp),
  released_ts: v.nullish(stamp),
  vc_ledger_released_ts: v.nullish(stamp),
  vc_project_slug: optStr,
  vc_agent_name: optStr,
});
export type ReservationRow = v.InferOutput<typeof ReservationRowSchema>;

const NAIVE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * Epoch milliseconds (whole, truncated) from a mailbox timestamp, or null when absent.
 * Numbers are µs since the epoch (the Rust server); text is the Python server's naive UTC
 * `YYYY-MM-DD HH:MM:SS.ffffff` (an ISO string with an offset is read as such). Both servers'
 * values for one instant give the same number, so keys survive the Rust server's in-place
 * migration of a Python mailbox. Returns undefined for a value that is no timestamp.
 */
export function mailTimeMs(value: unknown): number | null | undefined {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return undefined;
    // The Rust server writes µs; tolerate ms and s from other writers by magnitude.
    const ms = Math.abs(value) >= 1e14 ? Math.floor(value / 1000) : Math.abs(value) >= 1e11 ? Math.floor(value) : Math.floor(value * 1000);
    // An instant no Date holds (a u64 of µs, 1e300) is no timestamp: it would throw in toISOString.
    return isoFromMs(ms) === null ? undefined : ms;
  }
  if (typeof value !== "string") return undefined;
  const s = value.trim();
  if (/^-?\d+$/.test(s)) return mailTimeMs(Number(s));
  const m = NAIVE.exec(s);
  if (m) {
    const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  }
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

/** A value for a SQL comparison against the mailbox's timestamp columns: µs (Rust) or naive text (Python). */
export function mailTimeParam(ms: number, schema: MailSchema): number | string {
  if (schema === "rust") return Math.floor(ms) * 1000;
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "000");
}

function bool(value: unknown): boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  return /^(1|true|t|yes)$/i.test(String(value).trim());
}

/** The record as the mailbox holds it: the helper `vc_` columns left out. */
function upstream(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(row)) if (!k.startsWith("vc_")) out[k] = val;
  return out;
}

/** A project's id in vc: its slug, stable across machines and re-created mailboxes. */
export function projectId(slug: string | null | undefined, numericId: number): string {
  return slug && slug.length > 0 ? slug : `project#${numericId}`;
}

const agentName = (name: string | null | undefined, agentId: number | null | undefined) => (name && name.length > 0 ? name : `agent#${agentId ?? "?"}`);

export interface RecipientsByKind {
  to: string[];
  cc: string[];
  bcc: string[];
  [kind: string]: string[];
}

/** `messages.recipients_json` (Rust server); null when it is absent or not JSON. */
export function parseRecipientsJson(text: string | null | undefined): RecipientsByKind | null {
  if (!text) return null;
  try {
    const o = JSON.parse(text) as unknown;
    if (typeof o !== "object" || o === null || Array.isArray(o)) return null;
    const out: RecipientsByKind = { to: [], cc: [], bcc: [] };
    for (const [k, list] of Object.entries(o)) if (Array.isArray(list)) out[k] = list.filter((x): x is string => typeof x === "string");
    return out;
  } catch {
    return null;
  }
}

/** Recipient names by kind, built from message_recipients rows (the Python server has no recipients_json). */
export function recipientsFromRows(rows: readonly RecipientRow[]): RecipientsByKind {
  const out: RecipientsByKind = { to: [], cc: [], bcc: [] };
  for (const r of rows) (out[r.kind ?? "to"] ??= []).push(agentName(r.vc_agent_name, r.agent_id));
  return out;
}

function attachmentsCount(value: unknown): number | null {
  if (Array.isArray(value)) return value.length;
  if (typeof value !== "string" || value === "") return null;
  try {
    const a = JSON.parse(value) as unknown;
    return Array.isArray(a) ? a.length : null;
  } catch {
    return null;
  }
}

/** One mail_messages row; null (with the reason) when created_ts cannot be read. */
export function toMessage(row: MessageRow, schema: MailSchema, recipients: readonly RecipientRow[]): { row?: Record<string, unknown>; error?: string } {
  const created = mailTimeMs(row.created_ts);
  if (created === null || created === undefined) return { error: `message ${row.id}: created_ts ${JSON.stringify(row.created_ts)} is not a timestamp` };
  const all = parseRecipientsJson(row.recipients_json) ?? recipientsFromRows(recipients);
  return {
    row: {
      project_id: projectId(row.vc_project_slug, row.project_id),
      project_key: row.vc_project_key ?? null,
      message_id: row.id,
      created_ts: created,
      thread_id: row.thread_id ?? null,
      topic: row.topic ?? null,
      sender: row.sender_id === null || row.sender_id === undefined ? null : agentName(row.vc_sender_name, row.sender_id),
      sender_id: row.sender_id ?? null,
      importance: row.importance ?? null,
      ack_required: bool(row.ack_required),
      subject: row.subject ?? null,
      to_recipients_json: all.to,
      recipients_json: all,
      attachments_count: attachmentsCount(row.attachments),
      db_schema: schema,
      raw_json: upstream(row),
    },
  };
}

/** The read/ack state of a delivery, as it goes into the key: each change is a new row. */
export function recipientState(readMs: number | null, ackMs: number | null): string {
  return `${readMs === null ? "unread" : "read"}${ackMs === null ? "" : "+acked"}`;
}

/** One mail_recipients row; an error when a timestamp cannot be read. */
export function toRecipient(row: RecipientRow): { row?: Record<string, unknown>; error?: string; changeMs?: number } {
  const created = mailTimeMs(row.vc_message_created_ts);
  const read = mailTimeMs(row.read_ts);
  const ack = mailTimeMs(row.ack_ts);
  if (created === null || created === undefined || read === undefined || ack === undefined) {
    return { error: `recipient ${row.agent_id} of message ${row.message_id}: a timestamp cannot be read` };
  }
  const change = Math.max(read ?? -Infinity, ack ?? -Infinity);
  return {
    row: {
      project_id: projectId(row.vc_project_slug, row.vc_project_id),
      message_id: row.message_id,
      message_created_ts: created,
      recipient: agentName(row.vc_agent_name, row.agent_id),
      agent_id: row.agent_id,
      kind: row.kind ?? null,
      state: recipientState(read, ack),
      read_ts: read,
      ack_ts: ack,
      raw_json: upstream(row),
    },
    changeMs: Number.isFinite(change) ? change : undefined,
  };
}

/** One mail_file_reservations row; an error when a timestamp cannot be read. */
export function toReservation(row: ReservationRow): { row?: Record<string, unknown>; error?: string } {
  const created = mailTimeMs(row.created_ts);
  const expires = mailTimeMs(row.expires_ts);
  const released = mailTimeMs(row.released_ts ?? row.vc_ledger_released_ts);
  if (created === null || created === undefined || expires === undefined || released === undefined) {
    return { error: `file reservation ${row.id}: a timestamp cannot be read` };
  }
  return {
    row: {
      project_id: projectId(row.vc_project_slug, row.project_id),
      reservation_id: row.id,
      created_ts: created,
      state_key: `${expires ?? ""}|${released ?? ""}`,
      path_pattern: row.path_pattern ?? null,
      holder: row.agent_id === null || row.agent_id === undefined ? null : agentName(row.vc_agent_name, row.agent_id),
      agent_id: row.agent_id ?? null,
      exclusive: bool(row.exclusive),
      reason: row.reason ?? null,
      expires_ts: expires,
      released_ts: released,
      raw_json: upstream(row),
    },
  };
}
