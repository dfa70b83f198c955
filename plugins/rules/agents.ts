// Agents and tooling rules of plan §8.2: dcg denies, rano's unknown destinations, the mail
// backlog, a saturated rch queue, a stale cass index, and account windows near their limit.
import { and, defineRule, defineSource, eq, gt, gte, sql, threshold } from "vibe-cockpit";
import { EVENT_WINDOW_MS, HOUR_MS, SAMPLE_FRESH_MS, SNAPSHOT_FRESH_MS, before } from "./_window.ts";

/** Denies per machine over the hour before `at`, with the rule that denied most. */
export const dcgDeniesLastHour = defineSource({
  name: "dcg_denies_last_hour",
  description: "per machine: dcg denies in the hour before the instant, and the rule id that denied most",
  sql: (at) => sql`
    WITH d AS (
      SELECT machine_id, coalesce(rule_id, pack_id, '(unknown)') AS rule_id, ts
      FROM dcg_events
      WHERE decision = 'deny' AND ts > ${before(at, EVENT_WINDOW_MS)}::TIMESTAMP AND ts <= ${at}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP),
    top AS (
      SELECT machine_id, rule_id AS top_rule_id, count(*) AS top_rule_denies FROM d GROUP BY machine_id, rule_id
      QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY count(*) DESC, rule_id) = 1)
    SELECT d.machine_id, count(*) AS denies_1h, count(DISTINCT d.rule_id) AS rule_ids, max(d.ts) AS last_deny_at,
           any_value(t.top_rule_id) AS top_rule_id, any_value(t.top_rule_denies) AS top_rule_denies
    FROM d JOIN top t ON t.machine_id = d.machine_id
    GROUP BY d.machine_id`,
});

/** More than 10 denies an hour on one machine: agents keep trying something dcg refuses. */
export const dcgDenySpike = defineRule({
  id: "dcg_deny_spike",
  severity: "high",
  title: "dcg denies spike",
  source: dcgDeniesLastHour,
  when: gt("denies_1h", threshold("max_per_hour", 10)),
  factors: ["dcg_denies"],
  labels: ["machine_id"],
  value: "denies_1h",
  message: "{machine_id}: dcg denied {denies_1h} commands in the last hour ({rule_ids} rules; most: {top_rule_id}, {top_rule_denies}×)",
  actions: [
    { title: "See the rules that denied and where (dcg section)", command: "vc robot machine {machine_id}" },
    { title: "See which agents run on {machine_id}, to review what they attempt", command: "ntm --robot-status" },
  ],
});

/**
 * Rule ids that denied in the hour before `at` and appear nowhere earlier in that machine's
 * dcg_events (under any decision). dcg records no severity (dcg_events.severity stays null), so
 * the plan's "new critical rule id" is read as "a rule id denying for the first time": an agent
 * started doing something it never did here before. "First time" needs a baseline: only machines
 * whose dcg history reaches back a day before the instant count, so a fresh install (or a first
 * day of data) does not alert on every rule it sees.
 */
export const dcgNewRules = defineSource({
  name: "dcg_new_rules",
  description: "per machine and dcg rule id: rule ids that denied in the last hour and were never seen on that machine before it",
  sql: (at) => {
    const since = before(at, EVENT_WINDOW_MS);
    return sql`
      WITH recent AS (
        SELECT machine_id, rule_id, any_value(pack_id) AS pack_id, count(*) AS denies_1h, min(ts) AS first_deny_at,
               max(ts) AS last_deny_at, arg_max(reason, ts) AS reason
        FROM dcg_events
        WHERE decision = 'deny' AND rule_id IS NOT NULL
          AND ts > ${since}::TIMESTAMP AND ts <= ${at}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
        GROUP BY machine_id, rule_id)
      SELECT r.* FROM recent r
      WHERE EXISTS (
        SELECT 1 FROM dcg_events b
        WHERE b.machine_id = r.machine_id AND b.ts <= ${before(at, 24 * HOUR_MS)}::TIMESTAMP AND b.collected_at <= ${at}::TIMESTAMP)
      AND NOT EXISTS (
        SELECT 1 FROM dcg_events e
        WHERE e.machine_id = r.machine_id AND e.rule_id = r.rule_id AND e.ts <= ${since}::TIMESTAMP AND e.collected_at <= ${at}::TIMESTAMP)`;
  },
});

/** A dcg rule id denying on a machine for the first time. */
export const dcgNewRule = defineRule({
  id: "dcg_new_rule",
  severity: "medium",
  title: "dcg rule denying for the first time",
  source: dcgNewRules,
  when: gt("denies_1h", threshold("min_denies", 0)),
  factors: ["dcg_denies"],
  labels: ["machine_id", "rule_id"],
  value: "denies_1h",
  message: "{machine_id}: dcg rule {rule_id} denied for the first time ({denies_1h}× since {first_deny_at}): {reason}",
  actions: [{ title: "See the denies and their working directories (dcg section)", command: "vc robot machine {machine_id}" }],
});

/** Connections to domains rano could not attribute to a known AI provider, per machine and domain. */
export const ranoUnknownDomains = defineSource({
  name: "rano_unknown_domains",
  description: "per machine and domain: rano connects in the last hour whose provider is unknown (or missing) while the domain is known",
  sql: (at) => sql`
    SELECT machine_id, domain, count(*) AS connections, min(ts) AS first_at, max(ts) AS last_at,
           string_agg(DISTINCT coalesce(comm, '?'), ', ' ORDER BY coalesce(comm, '?')) AS processes,
           count(DISTINCT remote_ip) AS remote_ips
    FROM rano_events
    WHERE event = 'connect' AND (provider IS NULL OR lower(provider) IN ('', 'unknown'))
      AND domain IS NOT NULL AND trim(domain) <> ''
      AND ts > ${before(at, EVENT_WINDOW_MS)}::TIMESTAMP AND ts <= ${at}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
    GROUP BY machine_id, domain`,
});

/** An agent process talked to a domain that is not a known provider's. */
export const ranoUnknownDomain = defineRule({
  id: "rano_unknown_domain",
  severity: "medium",
  title: "Connections to an unknown domain",
  source: ranoUnknownDomains,
  when: gt("connections", threshold("min_connections", 0)),
  labels: ["machine_id", "domain"],
  value: "connections",
  message: "{machine_id}: {connections} connection(s) to {domain} (no known provider) by {processes} in the last hour, last at {last_at}",
  actions: [
    { title: "See the machine's agents and processes", command: "vc robot machine {machine_id}" },
    { title: "On {machine_id}: rano's connections of the last hour", command: "rano export --format jsonl --since 1h" },
  ],
});

/**
 * The mailbox of a machine whose mcp_agent_mail collector succeeded in the 30 min before `at`
 * (stale mail state must not keep an alert up): each delivery as of `at`, its message joined.
 */
const mailDeliveries = (at: string) => sql`
  WITH fresh AS (
    SELECT machine_id FROM collector_state
    WHERE collector = 'mcp_agent_mail' AND last_ok_at > ${before(at, SNAPSHOT_FRESH_MS)}::TIMESTAMP),
  d AS (
    SELECT machine_id, project_id, message_id, message_created_ts, recipient,
           max(read_ts) FILTER (WHERE read_ts <= ${at}::TIMESTAMP) AS read_ts,
           max(ack_ts) FILTER (WHERE ack_ts <= ${at}::TIMESTAMP) AS ack_ts
    FROM mail_recipients
    WHERE collected_at <= ${at}::TIMESTAMP AND machine_id IN (SELECT machine_id FROM fresh)
    GROUP BY machine_id, project_id, message_id, message_created_ts, recipient)
  SELECT m.machine_id, m.project_id, m.project_key, m.message_id, m.importance, m.ack_required, m.created_ts,
         d.recipient, d.read_ts, d.ack_ts
  FROM d JOIN mail_messages m
    ON m.machine_id = d.machine_id AND m.project_id = d.project_id AND m.message_id = d.message_id AND m.created_ts = d.message_created_ts
  WHERE m.collected_at <= ${at}::TIMESTAMP AND m.created_ts <= ${at}::TIMESTAMP`;

/** Urgent deliveries not read yet, per machine and project. */
export const mailUrgentUnread = defineSource({
  name: "mail_urgent_unread",
  description: "per machine and mail project: deliveries of urgent messages not read as of the instant",
  sql: (at) => sql`
    SELECT machine_id, project_id, any_value(project_key) AS project_key, count(*) AS urgent_unread,
           count(DISTINCT recipient) AS recipients, min(created_ts) AS oldest_at
    FROM (${mailDeliveries(at)}) AS x
    WHERE importance = 'urgent' AND read_ts IS NULL
    GROUP BY machine_id, project_id`,
});

/** More than 5 urgent messages wait unread. */
export const mailUrgentBacklog = defineRule({
  id: "mail_urgent_backlog",
  severity: "medium",
  title: "Urgent mail unread",
  source: mailUrgentUnread,
  when: gt("urgent_unread", threshold("max_unread", 5)),
  factors: ["mail_backlog"],
  labels: ["machine_id", "project_id"],
  value: "urgent_unread",
  message: "{machine_id}: {urgent_unread} urgent deliveries unread in {project_key} ({recipients} agents; oldest from {oldest_at})",
  actions: [
    { title: "See the backlog: who has not read what (mail section)", command: "vc robot machine {machine_id}" },
    { title: "See whether the recipients' sessions still run", command: "ntm --robot-status" },
  ],
});

/** How long an ack-required message may wait before it counts as overdue. */
const ACK_OVERDUE_MS = HOUR_MS;

/** Deliveries of ack-required messages unacknowledged for over an hour, per machine and project. */
export const mailAckOverdueCount = defineSource({
  name: "mail_ack_overdue",
  description: "per machine and mail project: deliveries of ack-required messages not acknowledged within 1 h",
  sql: (at) => sql`
    SELECT machine_id, project_id, any_value(project_key) AS project_key, count(*) AS overdue,
           count(DISTINCT recipient) AS recipients, min(created_ts) AS oldest_at,
           round(date_diff('second', min(created_ts), ${at}::TIMESTAMP) / 3600.0, 1) AS oldest_age_hours
    FROM (${mailDeliveries(at)}) AS x
    WHERE ack_required AND ack_ts IS NULL AND created_ts <= ${before(at, ACK_OVERDUE_MS)}::TIMESTAMP
    GROUP BY machine_id, project_id`,
});

/** More than 3 ack-required messages unacknowledged for over an hour. */
export const mailAckOverdue = defineRule({
  id: "mail_ack_overdue",
  severity: "medium",
  title: "Mail acknowledgements overdue",
  source: mailAckOverdueCount,
  when: gt("overdue", threshold("max_overdue", 3)),
  labels: ["machine_id", "project_id"],
  value: "overdue",
  message: "{machine_id}: {overdue} ack-required deliveries in {project_key} unacknowledged for over 1 h ({recipients} agents; oldest {oldest_age_hours} h)",
  actions: [
    { title: "See who owes which acknowledgement (mail section)", command: "vc robot machine {machine_id}" },
    { title: "See whether the recipients' sessions still run", command: "ntm --robot-status" },
  ],
});

/** Each machine's newest `rch status` within 15 min. */
export const rchStatusLatest = defineSource({
  name: "rch_status_latest",
  description: "per machine: the newest rch status within 15 min (queue depth, workers available)",
  sql: (at) => sql`
    SELECT machine_id, collected_at, daemon_state, posture, queue_depth, builds_active, workers_total, workers_healthy, workers_available, slots_available
    FROM rch_status_snapshots
    WHERE collected_at > ${before(at, SAMPLE_FRESH_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
    QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1`,
});

/** Builds queue up and no worker can take them. */
export const rchQueueSaturated = defineRule({
  id: "rch_queue_saturated",
  severity: "high",
  title: "rch queue saturated",
  source: rchStatusLatest,
  when: and(gt("queue_depth", threshold("max_queue", 10)), eq("workers_available", 0)),
  factors: ["rch_queue"],
  labels: ["machine_id"],
  value: "queue_depth",
  message: "{machine_id}: {queue_depth} builds queued and no rch worker available ({workers_healthy} of {workers_total} healthy, posture {posture})",
  actions: [
    { title: "See the workers, their circuits and last errors (rch section)", command: "vc robot machine {machine_id}" },
    { title: "On {machine_id}: rch's own view of workers and remediation hints", command: "rch status --json" },
  ],
});

/** Each machine's newest `cass health` within 30 min, with the index's age as of the instant. */
export const cassIndexLatest = defineSource({
  name: "cass_index_latest",
  description: "per machine: the newest cass health within 30 min and the age of its index at the instant",
  sql: (at) => sql`
    SELECT machine_id, collected_at, state, index_status, last_index_at, freshness_seconds, recommended_action,
           round(coalesce(date_diff('second', last_index_at, ${at}::TIMESTAMP),
                          freshness_seconds + date_diff('second', collected_at, ${at}::TIMESTAMP)) / 3600.0, 2) AS index_age_hours
    FROM cass_index_status
    WHERE collected_at > ${before(at, SNAPSHOT_FRESH_MS)}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP
    QUALIFY row_number() OVER (PARTITION BY machine_id ORDER BY collected_at DESC) = 1`,
});

/** The session index has not been refreshed for over a day: search misses recent work. */
export const cassIndexStale = defineRule({
  id: "cass_index_stale",
  severity: "low",
  title: "cass index stale",
  source: cassIndexLatest,
  when: gt("index_age_hours", threshold("max_age_hours", 24)),
  labels: ["machine_id"],
  value: "index_age_hours",
  message: "{machine_id}: cass index last refreshed {index_age_hours} h ago (index {index_status}, cass {state})",
  actions: [
    { title: "On {machine_id}: rebuild the index", command: "cass index --full" },
    { title: "On {machine_id}: see what cass says is wrong", command: "cass health --json" },
  ],
});

/**
 * One row per provider account and window kind (primary, secondary, tertiary, model:…) across the
 * fleet, from its newest readings in the 30 min before `at`: caut names the account by its email,
 * caam by its profile, and caam's status says which email each tool's active profile is logged in
 * as (the newest mapping on that machine, else anywhere in the fleet) — so one account read by both
 * tools, on any number of machines, is one row with both as evidence. The value is the newest
 * reading (caut's on a tie: it names the account itself); each tool's own reading and where it came
 * from are columns beside it. A profile whose
 * email caam never showed stays under its profile's name. A window that has reset since is left out.
 */
export const accountWindowsLatest = defineSource({
  name: "account_windows_latest",
  description:
    "per provider account (caut's email, caam's profile mapped to its email) and window: the newest reading within 30 min, caut's and caam's side by side, unless the window reset since",
  sql: (at) => {
    const since = before(at, SNAPSHOT_FRESH_MS);
    return sql`
      WITH ids AS (
        SELECT machine_id, tool AS provider, active_profile AS profile, identity_email AS email, collected_at
        FROM account_profile_snapshots
        WHERE collected_at <= ${at}::TIMESTAMP AND active_profile IS NOT NULL AND coalesce(identity_email, '') <> ''
        QUALIFY row_number() OVER (PARTITION BY machine_id, tool, active_profile ORDER BY collected_at DESC) = 1),
      fleet_ids AS (SELECT provider, profile, arg_max(email, collected_at) AS email FROM ids GROUP BY provider, profile),
      r AS (
        SELECT machine_id, collected_at, 'caut' AS tool, provider, account, NULL::VARCHAR AS profile, window_name, used_percent AS used_pct, window_minutes, resets_at
        FROM account_usage_snapshots
        WHERE collected_at > ${since}::TIMESTAMP AND collected_at <= ${at}::TIMESTAMP AND used_percent IS NOT NULL
        UNION ALL
        SELECT l.machine_id, l.collected_at, 'caam' AS tool, l.provider, coalesce(m.email, f.email, l.profile) AS account, l.profile, l.window_name,
               l.utilization_pct AS used_pct, l.window_minutes, l.resets_at
        FROM account_limits_snapshot l
        LEFT JOIN ids m ON m.machine_id = l.machine_id AND m.provider = l.provider AND m.profile = l.profile
        LEFT JOIN fleet_ids f ON f.provider = l.provider AND f.profile = l.profile
        WHERE l.collected_at > ${since}::TIMESTAMP AND l.collected_at <= ${at}::TIMESTAMP AND l.utilization_pct IS NOT NULL),
      latest AS (
        SELECT * FROM r WHERE resets_at IS NULL OR resets_at > ${at}::TIMESTAMP
        QUALIFY row_number() OVER (PARTITION BY provider, account, window_name, tool ORDER BY collected_at DESC, machine_id) = 1)
      SELECT provider, account, window_name,
        first(machine_id ORDER BY collected_at DESC, tool DESC) AS machine_id,
        max(collected_at) AS collected_at,
        first(tool ORDER BY collected_at DESC, tool DESC) AS tool,
        round(first(used_pct ORDER BY collected_at DESC, tool DESC), 2) AS used_pct,
        max(window_minutes) AS window_minutes,
        coalesce(' (' || max(window_minutes) || ' min)', '') AS window_length,
        coalesce(first(resets_at ORDER BY collected_at DESC, tool DESC), max(resets_at)) AS resets_at,
        string_agg(tool, '+' ORDER BY tool DESC) AS tools,
        round(max(used_pct) FILTER (WHERE tool = 'caut'), 2) AS caut_used_pct,
        any_value(machine_id) FILTER (WHERE tool = 'caut') AS caut_machine_id,
        any_value(profile) FILTER (WHERE tool = 'caam') AS caam_profile,
        round(max(used_pct) FILTER (WHERE tool = 'caam'), 2) AS caam_used_pct,
        any_value(machine_id) FILTER (WHERE tool = 'caam') AS caam_machine_id,
        string_agg(CASE WHEN tool = 'caut' THEN 'caut on ' || machine_id ELSE 'caam profile ' || profile || ' on ' || machine_id END
                   || ' ' || printf('%g', round(used_pct, 2)) || ' %', ', ' ORDER BY tool DESC) AS evidence
      FROM latest
      GROUP BY provider, account, window_name`;
  },
});

/** An account has used 85 % of a usage window. */
export const accountUsageHigh = defineRule({
  id: "account_usage_high",
  severity: "high",
  title: "Account near its limit",
  source: accountWindowsLatest,
  when: gte("used_pct", threshold("max_used_pct", 85)),
  factors: ["account_headroom"],
  labels: ["provider", "account", "window_name"],
  value: "used_pct",
  message: "{provider} account {account}: {used_pct} % of its {window_name} window{window_length} used, resets {resets_at} (from {evidence})",
  actions: [
    { title: "See every account's windows and burn rate", command: "vc robot accounts" },
    { title: "Ask caam for the limits and the best profile to switch to", command: "caam limits --format json" },
    { title: "Ask caam which profile to use next", command: "caam recommend" },
  ],
});
