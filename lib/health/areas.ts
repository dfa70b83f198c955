import { sql, type SqlQuery } from "../store/sql.ts";
import type { Store } from "../store/store.ts";

/** One area factor of one machine, before scoring. */
export interface AreaReading {
  value: number;
  detail: string;
}

/**
 * Health factors beyond the system sample: account headroom, dcg denies, mail backlog and the rch
 * queue, read from the store's tables as of `at` (only recent data). A store without a table (an
 * older vc) or a machine without the tool simply has no such factor.
 */
export interface AreaFactor {
  id: string;
  read(store: Store, at: string): Promise<Map<string, AreaReading>>;
  /** Score from 1 (fine) down. */
  score(value: number): number;
}

const minus = (at: string, ms: number) => new Date(Date.parse(at) - ms).toISOString();

async function readings(store: Store, q: SqlQuery, detail: (r: Record<string, unknown>) => string): Promise<Map<string, AreaReading>> {
  const rows = await store.query(q).catch(() => []);
  return new Map(rows.filter((r) => r.value !== null).map((r) => [String(r.machine_id), { value: Number(r.value), detail: detail(r) }]));
}

/** Linear from 1 at `good` to `floor` at `bad`. */
const ramp = (good: number, bad: number, floor: number) => (v: number) => (v <= good ? 1 : v >= bad ? floor : 1 - ((v - good) / (bad - good)) * (1 - floor));

export const areaFactors: AreaFactor[] = [
  {
    id: "account_headroom",
    read: (store, at) =>
      readings(
        store,
        sql`SELECT machine_id, max(used_percent) AS value, arg_max(provider || ' ' || account || ' ' || window_name, used_percent) AS worst
            FROM (SELECT *, row_number() OVER (PARTITION BY machine_id, provider, account, window_name ORDER BY collected_at DESC) AS rn
                  FROM account_usage_snapshots WHERE collected_at <= ${at}::TIMESTAMP AND collected_at > ${minus(at, 30 * 60_000)}::TIMESTAMP
                    AND (resets_at IS NULL OR resets_at > ${at}::TIMESTAMP))
            WHERE rn = 1 GROUP BY machine_id`,
        (r) => `busiest account window ${String(r.worst)} at ${Math.round(Number(r.value))} %`,
      ),
    score: ramp(70, 100, 0.3),
  },
  {
    id: "dcg_denies",
    read: (store, at) =>
      readings(
        store,
        sql`SELECT machine_id, count(*) AS value FROM dcg_events
            WHERE decision = 'deny' AND ts <= ${at}::TIMESTAMP AND ts > ${minus(at, 3_600_000)}::TIMESTAMP GROUP BY machine_id`,
        (r) => `${r.value} dcg denies in the last hour`,
      ),
    score: ramp(3, 30, 0.4),
  },
  {
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
  },
  {
    id: "rch_queue",
    read: (store, at) =>
      readings(
        store,
        sql`SELECT machine_id, CASE WHEN coalesce(workers_available, 0) = 0 THEN queue_depth ELSE 0 END AS value, queue_depth, workers_available
            FROM rch_status_snapshots WHERE collected_at <= ${at}::TIMESTAMP AND collected_at > ${minus(at, 30 * 60_000)}::TIMESTAMP
            QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1`,
        (r) => `rch queue ${r.queue_depth} with ${r.workers_available ?? 0} workers available`,
      ),
    score: ramp(0, 20, 0.3),
  },
];
