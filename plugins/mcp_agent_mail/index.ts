import { cursor, defineCollector, sql, validate, type CollectContext, type Cursor } from "vibe-cockpit";
import { MessageRowSchema, RecipientRowSchema, ReservationRowSchema, mailTimeParam, toMessage, toRecipient, toReservation, type MailSchema, type RecipientRow } from "./parse.ts";
import { mailPlugin } from "./plugin.ts";

export interface McpAgentMailOptions {
  /**
   * Read/ack changes are found by their own timestamps: each poll asks for deliveries read or
   * acknowledged since the newest change it has seen, minus this many seconds (default 60), so a
   * change committed a little late is not missed. Re-read rows add nothing.
   */
  changeOverlapSeconds?: number;
  /** Unreleased reservations are re-read (renewals, releases) until this many days after they expire (default 7). */
  reservationGraceDays?: number;
}

/** The Rust server's default: `<storage_root>/storage.sqlite3`, storage_root `~/.mcp_agent_mail_git_mailbox_repo`. */
export const DEFAULT_MAILBOX = "~/.mcp_agent_mail_git_mailbox_repo/storage.sqlite3";

interface Shape {
  schema: MailSchema;
  tables: Set<string>;
}

async function shapeOf(ctx: CollectContext, db: string): Promise<Shape | null> {
  const tables = new Set((await ctx.exec.sqlite(db, sql`SELECT name FROM sqlite_master WHERE type IN ('table', 'view')`)).map((r) => String(r.name)));
  if (tables.size === 0) return null; // an empty database: the server has not created its tables yet
  if (!tables.has("messages") || !tables.has("message_recipients")) {
    throw new Error(`${db} is not an mcp_agent_mail mailbox: it has no messages/message_recipients tables`);
  }
  // The Rust server keeps recipients_json on messages (and µs integers); the Python one has topic (and text times).
  const columns = new Set((await ctx.exec.sqlite(db, sql`SELECT name FROM pragma_table_info('messages')`)).map((r) => String(r.name)));
  const schema: MailSchema = columns.has("recipients_json") || !columns.has("topic") ? "rust" : "python";
  return { schema, tables };
}

const pkOf = (c: Cursor | undefined) => (c?.kind === "pk" ? c.id : 0);

/**
 * mcp_agent_mail (plan §3.7): messages, their deliveries' read/ack state and file reservations
 * from the mailbox SQLite file, incrementally (plan §3.17 pattern 4).
 *
 * - Messages never change: read once, `id > cursor` (pk cursor `messages`), with the recipients
 *   they have at that moment.
 * - A delivery's read_ts/ack_ts is set later. Those changes carry their own time, so each poll
 *   also reads the deliveries (of messages already read) whose read_ts or ack_ts is at or after the
 *   newest change seen so far (timestamp cursor `recipient_changes`), and, with the rows left, the
 *   minute before it (a change committed late). Each distinct state is one row (the state is in the
 *   key): the same state read again adds nothing, a new read or ack adds exactly one row. Chosen
 *   over a snapshot keyed by collected_at, which would copy every delivery every poll, and over a
 *   re-read window of recent messages, which would miss reads of older mail.
 * - Reservations change in place (renewed expiry, release): new ones `id > cursor` (pk cursor
 *   `reservations`), then the known ones still active or released within the grace period, each
 *   distinct (expiry, release) state one row.
 * At most ctx.limits.maxRows rows a run, new messages first, then read/ack changes, new
 * reservations, re-reads; each cursor resumes where its part stopped.
 * @example collectors: [mcpAgentMail()]   // paths: { "mcp_agent_mail.db": "/srv/mail/storage.sqlite3" }
 */
export function mcpAgentMail(options: McpAgentMailOptions = {}) {
  const overlapMs = (options.changeOverlapSeconds ?? 60) * 1000;
  const graceMs = (options.reservationGraceDays ?? 7) * 86_400_000;
  return defineCollector({
    name: "mcp_agent_mail",
    plugin: mailPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "mcp_agent_mail storage.sqlite3: messages, read/ack state, file reservations (Rust and Python mailboxes)",
    requires: { files: [{ key: "db", path: DEFAULT_MAILBOX }] },
    // `vc watch` collects mail as soon as the mailbox database (or its WAL) changes.
    watchPaths: async (ctx) => [ctx.path("db", DEFAULT_MAILBOX)],
    async collect(ctx) {
      const db = ctx.path("db", DEFAULT_MAILBOX);
      const shape = await shapeOf(ctx, db);
      if (!shape) return { rows: {}, skipped: `${db} on ${ctx.machine.id} is an empty database: mcp_agent_mail has not created its tables there yet` };
      const { schema, tables } = shape;
      const zero = schema === "rust" ? 0 : "''";
      const t = (ms: number) => mailTimeParam(ms, schema);

      let msgAfter = pkOf(ctx.cursors.messages);
      let resAfter = pkOf(ctx.cursors.reservations);
      const prevChange = ctx.cursors.recipient_changes;
      let changeMs: number | undefined = prevChange?.kind === "timestamp" ? Date.parse(prevChange.at) : undefined;

      // A mailbox re-created from scratch restarts its ids: read it from the start. The Rust server
      // names each database generation (db_identity); elsewhere ids going backwards tell.
      const generation = tables.has("db_identity")
        ? (await ctx.exec.sqlite(db, sql`SELECT generation_id FROM db_identity LIMIT 1`)).map((r) => String(r.generation_id))[0]
        : undefined;
      const prevGeneration = ctx.cursors.generation?.kind === "opaque" ? ctx.cursors.generation.value : undefined;
      if (generation !== undefined && prevGeneration !== undefined && generation !== prevGeneration && (msgAfter > 0 || resAfter > 0)) {
        ctx.warn(`${db}: the mailbox is a new database (generation ${prevGeneration} → ${generation}); reading it from the start`);
        msgAfter = 0;
        resAfter = 0;
        changeMs = undefined;
      }
      const hasRes = tables.has("file_reservations");
      const [max] = await ctx.exec.sqlite(
        db,
        sql`SELECT (SELECT coalesce(max(id), 0) FROM messages) AS messages${sql.raw(hasRes ? ", (SELECT coalesce(max(id), 0) FROM file_reservations) AS reservations" : "")}`,
      );
      if (msgAfter > Number(max?.messages ?? 0)) {
        ctx.warn(`${db}: messages end at id ${max?.messages} but vc had read up to ${msgAfter}: the mailbox was re-created, reading it from the start`);
        msgAfter = 0;
        changeMs = undefined;
      }
      if (hasRes && resAfter > Number(max?.reservations ?? 0)) {
        ctx.warn(`${db}: file reservations end at id ${max?.reservations} but vc had read up to ${resAfter}: reading them from the start`);
        resAfter = 0;
      }

      let budget = ctx.limits.maxRows;
      const reservations: Record<string, unknown>[] = [];
      const recipients: Record<string, unknown>[] = [];
      const messages: Record<string, unknown>[] = [];
      const knownMessages = msgAfter;
      const knownReservations = resAfter;
      const prevChangeMs = changeMs;
      let newestNewChange: number | undefined;
      const later = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));

      // Budget order: new messages first (the backlog always moves), then read/ack changes (they
      // wait behind their own time cursor, never lost), new reservations, and last the re-read of
      // reservations whose state can still change.

      // 1. New messages, each with its recipients as they are now, as many as the rows allow.
      {
        const rows = await ctx.exec.sqlite(
          db,
          sql`SELECT m.*, p.slug AS vc_project_slug, p.human_key AS vc_project_key, a.name AS vc_sender_name
              FROM messages m
              LEFT JOIN projects p ON p.id = m.project_id
              LEFT JOIN agents a ON a.id = m.sender_id
              WHERE m.id > ${msgAfter} ORDER BY m.id LIMIT ${budget}`,
        );
        const last = rows.length > 0 ? Number(rows[rows.length - 1]!.id) : msgAfter;
        const byMessage = new Map<number, RecipientRow[]>();
        if (rows.length > 0) {
          const recRows = await ctx.exec.sqlite(
            db,
            sql`SELECT r.*, m.created_ts AS vc_message_created_ts, m.project_id AS vc_project_id, p.slug AS vc_project_slug, a.name AS vc_agent_name
                FROM message_recipients r
                JOIN messages m ON m.id = r.message_id
                LEFT JOIN projects p ON p.id = m.project_id
                LEFT JOIN agents a ON a.id = r.agent_id
                WHERE r.message_id > ${msgAfter} AND r.message_id <= ${last}
                ORDER BY r.message_id, r.agent_id`,
          );
          for (const raw of recRows) {
            const { value, error } = validate(RecipientRowSchema, raw, "message_recipients row");
            if (!value) {
              ctx.warn(`${db}: ${error}`);
              continue;
            }
            const list = byMessage.get(value.message_id) ?? [];
            list.push(value);
            byMessage.set(value.message_id, list);
          }
        }
        for (const raw of rows) {
          const { value, error } = validate(MessageRowSchema, raw, "messages row");
          if (!value) {
            ctx.warn(`${db}: ${error}; skipped`);
            const bad = Number((raw as { id?: unknown }).id);
            if (Number.isInteger(bad) && bad > msgAfter) msgAfter = bad;
            continue;
          }
          const recs = byMessage.get(value.id) ?? [];
          let cost = 1 + recs.length;
          if (cost > ctx.limits.maxRows) {
            // More recipients than any run may return: take what fits rather than stall for ever.
            ctx.warn(`${db}: message ${value.id} has ${recs.length} recipients, more than max_rows allows; some are left out`);
            recs.length = Math.max(0, budget - 1);
            cost = 1 + recs.length;
          }
          if (cost > budget) break;
          const mapped = toMessage(value, schema, recs);
          if (mapped.row) messages.push(mapped.row);
          else ctx.warn(`${db}: ${mapped.error}; skipped`);
          for (const r of recs) {
            const rm = toRecipient(r);
            if (rm.row) recipients.push(rm.row);
            else ctx.warn(`${db}: ${rm.error}; skipped`);
            newestNewChange = later(newestNewChange, rm.changeMs);
          }
          budget -= cost;
          msgAfter = value.id;
        }
      }

      // 2. Read/ack changes to deliveries of messages read in earlier runs, at or after the newest
      // change seen so far, oldest first (a run cut short resumes at the last change it read).
      const changes = (where: ReturnType<typeof sql>, limit: number) =>
        ctx.exec.sqlite(
          db,
          sql`SELECT r.*, m.created_ts AS vc_message_created_ts, m.project_id AS vc_project_id, p.slug AS vc_project_slug, a.name AS vc_agent_name,
                     max(coalesce(r.read_ts, ${sql.raw(String(zero))}), coalesce(r.ack_ts, ${sql.raw(String(zero))})) AS vc_change_ts
              FROM message_recipients r
              JOIN messages m ON m.id = r.message_id
              LEFT JOIN projects p ON p.id = m.project_id
              LEFT JOIN agents a ON a.id = r.agent_id
              WHERE r.message_id <= ${knownMessages} AND ${where}
              ORDER BY vc_change_ts, r.message_id, r.agent_id LIMIT ${limit}`,
        );
      const takeChanges = (rows: Record<string, unknown>[]) => {
        let newest: number | undefined;
        for (const raw of rows) {
          const { value, error } = validate(RecipientRowSchema, raw, "message_recipients row");
          const mapped = value ? toRecipient(value) : { error };
          if (mapped.row) recipients.push(mapped.row);
          else ctx.warn(`${db}: ${mapped.error}; skipped`);
          newest = later(newest, mapped.changeMs);
        }
        budget -= rows.length;
        return newest;
      };
      if (knownMessages === 0) {
        changeMs = later(prevChangeMs, newestNewChange);
      } else if (budget > 0) {
        const from = prevChangeMs === undefined ? undefined : t(prevChangeMs);
        const limit = budget;
        const rows = await changes(from === undefined ? sql`(r.read_ts IS NOT NULL OR r.ack_ts IS NOT NULL)` : sql`(r.read_ts >= ${from} OR r.ack_ts >= ${from})`, limit);
        const newest = later(prevChangeMs, takeChanges(rows));
        // Cut short: the cursor stops at the last change read, or the rest would be skipped.
        changeMs = rows.length >= limit ? newest : later(newest, newestNewChange);
      }

      if (hasRes) {
        const ledger = tables.has("file_reservation_releases");
        const released = sql.raw(ledger ? "coalesce(fr.released_ts, rel.released_ts)" : "fr.released_ts");
        const select = sql`SELECT fr.*, ${sql.raw(ledger ? "rel.released_ts" : "NULL")} AS vc_ledger_released_ts, p.slug AS vc_project_slug, a.name AS vc_agent_name
              FROM file_reservations fr
              LEFT JOIN projects p ON p.id = fr.project_id
              LEFT JOIN agents a ON a.id = fr.agent_id
              ${sql.raw(ledger ? "LEFT JOIN file_reservation_releases rel ON rel.reservation_id = fr.id" : "")}`;
        const take = (rows: Record<string, unknown>[]) => {
          for (const raw of rows) {
            const { value, error } = validate(ReservationRowSchema, raw, "file_reservations row");
            const mapped = value ? toReservation(value) : { error };
            if (mapped.row) reservations.push(mapped.row);
            else ctx.warn(`${db}: ${mapped.error}; skipped`);
            const rid = Number((raw as { id?: unknown }).id);
            if (Number.isInteger(rid) && rid > resAfter) resAfter = rid;
          }
          budget -= rows.length;
        };
        // 3. New reservations.
        if (budget > 0) take(await ctx.exec.sqlite(db, sql`${select} WHERE fr.id > ${resAfter} ORDER BY fr.id LIMIT ${budget}`));
        // 4. Known ones still active, or released within the grace period: a renewal or a release is a new state.
        if (budget > 0 && knownReservations > 0) {
          const graceStart = t(ctx.now.getTime() - graceMs);
          take(
            await ctx.exec.sqlite(db, sql`${select} WHERE fr.id <= ${knownReservations} AND coalesce(${released}, fr.expires_ts) >= ${graceStart} ORDER BY fr.id LIMIT ${budget}`),
          );
        }
      }

      // 5. Last, with what is left: the overlap before that cursor, for a change committed late.
      if (knownMessages > 0 && prevChangeMs !== undefined && budget > 0) {
        const from = t(prevChangeMs - overlapMs);
        const to = t(prevChangeMs);
        takeChanges(await changes(sql`((r.read_ts >= ${from} AND r.read_ts < ${to}) OR (r.ack_ts >= ${from} AND r.ack_ts < ${to}))`, budget));
      }

      const cursors: Record<string, Cursor> = { messages: cursor.pk(msgAfter), reservations: cursor.pk(resAfter) };
      if (generation !== undefined) cursors.generation = cursor.opaque(generation);
      // Always saved, so a start-over replaces an old cursor: the epoch means "no change seen yet".
      cursors.recipient_changes = cursor.timestamp(new Date(changeMs ?? 0));
      return { rows: { mail_messages: messages, mail_recipients: recipients, mail_file_reservations: reservations }, cursors };
    },
  });
}

export default mcpAgentMail;
