// What mcp_agent_mail adds beyond its collector: the machine view's mail backlog and file
// reservations, and the urgent-mail factor.
import { definePlugin, hasRows, ramp, readings, sql, type AreaFactor, type MachineSection } from "vibe-cockpit";
import { mailEvents } from "./events.ts";
import { mailScreen } from "./screen.ts";

/** Items listed per backlog kind (the counts are exact). */
const ITEMS = 20;

interface BacklogItem {
  project_id: string;
  message_id: number;
  subject: string | null;
  sender: string | null;
  recipient: string;
  kind: string | null;
  importance: string | null;
  ack_required: boolean | null;
  thread_id: string | null;
  created_ts: string;
  age_s: number;
  read_ts: string | null;
  ack_ts: string | null;
}

/**
 * The mail backlog: deliveries of urgent messages not read yet, and of ack-required messages not
 * acknowledged yet, as of `at`. A delivery's state is the newest the collector saw by then.
 */
export const mailSection: MachineSection = {
  name: "mail",
  async load(q) {
    if (!(await hasRows(q, "mail_messages"))) return null;
    const open = await q.store.query<BacklogItem>(
      sql`WITH d AS (
            SELECT project_id, message_id, message_created_ts, recipient, any_value(kind) AS kind,
                   max(read_ts) FILTER (WHERE read_ts <= ${q.at}::TIMESTAMP) AS read_ts,
                   max(ack_ts) FILTER (WHERE ack_ts <= ${q.at}::TIMESTAMP) AS ack_ts
            FROM mail_recipients
            WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP
            GROUP BY project_id, message_id, message_created_ts, recipient)
          SELECT m.project_id, m.message_id, m.subject, m.sender, d.recipient, d.kind, m.importance, m.ack_required, m.thread_id,
                 m.created_ts, (epoch_ms(${q.at}::TIMESTAMP) - epoch_ms(m.created_ts)) // 1000 AS age_s, d.read_ts, d.ack_ts
          FROM d JOIN mail_messages m
            ON m.machine_id = ${q.machineId} AND m.project_id = d.project_id AND m.message_id = d.message_id AND m.created_ts = d.message_created_ts
          WHERE m.collected_at <= ${q.at}::TIMESTAMP AND m.created_ts <= ${q.at}::TIMESTAMP
            AND ((m.importance = 'urgent' AND d.read_ts IS NULL) OR (m.ack_required AND d.ack_ts IS NULL))
          ORDER BY m.created_ts, m.project_id, m.message_id, d.recipient`,
    );
    const urgent = open.filter((i) => i.importance === "urgent" && i.read_ts === null);
    const unacked = open.filter((i) => i.ack_required === true && i.ack_ts === null);
    return {
      urgent_unread: { count: urgent.length, items: urgent.slice(0, ITEMS) },
      ack_required_unacked: { count: unacked.length, items: unacked.slice(0, ITEMS) },
    };
  },
};

/**
 * File reservations not released as of `at`: the active ones (listed) and those whose expiry
 * passed without a release. Each reservation's newest observed state counts (a renewal moves
 * its expiry).
 */
export const reservationsSection: MachineSection = {
  name: "file_reservations",
  async load(q) {
    if (!(await hasRows(q, "mail_file_reservations"))) return null;
    const held = await q.store.query<{ expires_ts: string; exclusive: boolean | null }>(
      sql`WITH s AS (
            SELECT project_id, reservation_id, created_ts,
                   arg_max(path_pattern, collected_at) AS path_pattern, arg_max(holder, collected_at) AS holder,
                   arg_max(exclusive, collected_at) AS exclusive, arg_max(reason, collected_at) AS reason,
                   arg_max(expires_ts, collected_at) AS expires_ts,
                   max(released_ts) FILTER (WHERE released_ts <= ${q.at}::TIMESTAMP) AS released_ts
            FROM mail_file_reservations
            WHERE machine_id = ${q.machineId} AND collected_at <= ${q.at}::TIMESTAMP
            GROUP BY project_id, reservation_id, created_ts)
          SELECT project_id, reservation_id, path_pattern, holder, exclusive, reason, created_ts, expires_ts,
                 (epoch_ms(expires_ts) - epoch_ms(${q.at}::TIMESTAMP)) // 1000 AS expires_in_s
          FROM s WHERE released_ts IS NULL AND created_ts <= ${q.at}::TIMESTAMP
          ORDER BY expires_ts, project_id, reservation_id`,
    );
    const active = held.filter((r) => Date.parse(r.expires_ts) > Date.parse(q.at));
    return {
      active_count: active.length,
      exclusive_count: active.filter((r) => r.exclusive === true).length,
      expired_unreleased_count: held.length - active.length,
      active: active.slice(0, 50),
    };
  },
};

/** The machine view's sections for dcg and mcp_agent_mail, in order. */
/** Health factor mailBacklog. */
export const mailBacklogFactor: AreaFactor = {
  id: "mail_backlog",
  read: (store, at) =>
    readings(
      store,
      sql`WITH d AS (
              SELECT machine_id, project_id, message_id, message_created_ts, recipient,
                     max(read_ts) FILTER (WHERE read_ts <= ${at}::TIMESTAMP) AS read_ts
              FROM mail_recipients WHERE collected_at <= ${at}::TIMESTAMP
              GROUP BY machine_id, project_id, message_id, message_created_ts, recipient)
            SELECT d.machine_id, count(*) AS value FROM d JOIN mail_messages m
              ON m.machine_id = d.machine_id AND m.project_id = d.project_id AND m.message_id = d.message_id AND m.created_ts = d.message_created_ts
            WHERE m.importance = 'urgent' AND d.read_ts IS NULL AND m.created_ts <= ${at}::TIMESTAMP
            GROUP BY d.machine_id`,
      (r) => `${r.value} urgent mail deliveries unread`,
    ),
  score: ramp(1, 10, 0.5),
};

export const mailPlugin = definePlugin({
  name: "mcp_agent_mail",
  screens: [mailScreen],
  machineSections: [mailSection, reservationsSection],
  healthFactors: [mailBacklogFactor],
  events: [mailEvents],
});
