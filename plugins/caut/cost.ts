import * as v from "valibot";
import { cursor, defineCollector, issueText, parseJson, runJson, type Cursor } from "vibe-cockpit";
import { changedDays, costRows, type DayMemory } from "./cost-parse.ts";
import { UsageOutputSchema } from "./parse.ts";
import { accountsPlugin } from "../accounts/index.ts";

export interface CautCostOptions {
  /** Run at most this often (default 900 s: caut rescans the agents' logs each time). */
  intervalSeconds?: number;
}

const COST_TABLES_SQL = `-- caut cost (\`caut cost --json\`): spend per provider per day as one machine's own agent logs
-- show it (caut scans ~/.claude, ~/.codex locally), so the fleet's spend is the sum over machines.
-- A day is written when its numbers change (the collector's cursor remembers what it wrote): the
-- latest row per (machine_id, provider, date) at or before an instant is that day as known then;
-- re-collecting an unchanged day adds nothing. caut gives no project dimension.
CREATE TABLE caut_cost_daily(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    provider VARCHAR NOT NULL,
    -- YYYY-MM-DD as caut prints it; VARCHAR because vc's batch insert takes no DATE values (read as date::DATE)
    date VARCHAR NOT NULL CHECK (TRY_CAST(date AS DATE) IS NOT NULL),
    fetch_source VARCHAR,           -- caut \`source\` (local)
    input_tokens BIGINT,
    output_tokens BIGINT,
    cache_read_tokens BIGINT,
    cache_creation_tokens BIGINT,
    total_tokens BIGINT,            -- caut's own scan at d6dc03d puts message/event counts here
    total_cost DOUBLE,              -- USD; NULL when caut has no price for the day
    models_json JSON,               -- modelsUsed
    caut_updated_at TIMESTAMP,      -- the payload's updatedAt
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,                  -- the daily entry as printed
    PRIMARY KEY (machine_id, provider, date, collected_at)
);

-- One row per provider per collection: caut's own sums beside the days.
CREATE TABLE caut_cost_snapshots(
    machine_id VARCHAR NOT NULL,
    collected_at TIMESTAMP NOT NULL,
    provider VARCHAR NOT NULL,
    fetch_source VARCHAR,
    updated_at TIMESTAMP,
    session_tokens BIGINT,          -- today's, as caut counts them
    session_cost_usd DOUBLE,
    last_30_days_tokens BIGINT,
    last_30_days_cost_usd DOUBLE,
    day_count INTEGER,              -- daily[] entries read
    caut_generated_at TIMESTAMP,
    source VARCHAR,
    source_version VARCHAR,
    schema_version INTEGER,
    raw_json JSON,                  -- the payload as printed, without daily[]
    PRIMARY KEY (machine_id, collected_at, provider)
);
`;

const DayMemorySchema = v.record(v.string(), v.string());

/** The days written before, as the cursor saved them; an unreadable cursor starts afresh (readers keep the latest row). */
function daysWritten(c: Cursor | undefined, warn: (m: string) => void): DayMemory {
  if (c?.kind !== "opaque") return {};
  const m = v.safeParse(DayMemorySchema, parseJson(c.value));
  if (m.success) return m.output;
  warn("caut cost memory was unreadable; every printed day is written again");
  return {};
}

/**
 * caut cost (plan §6.2, the cost oracle's input): spend and tokens per provider per day on each
 * machine from `caut cost --json`, and caut's session / last-30-days sums per provider. A partial
 * failure (a provider's scan failed, or a non-zero exit with its JSON) is data plus warnings.
 * @example collectors: [caut(), cautCost()]
 */
export function cautCost(options: CautCostOptions = {}) {
  const what = "caut cost --json";
  return defineCollector({
    name: "caut_cost",
    plugin: accountsPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "caut cost --json: spend and tokens per provider per day from each machine's agent logs",
    requires: { commands: ["caut"] },
    intervalSeconds: options.intervalSeconds ?? 900,
    migrations: [{ name: "001_caut_cost.sql", sql: COST_TABLES_SQL }],
    async collect(ctx) {
      const r = await runJson(ctx.exec, ["caut", "cost", "--json"]);
      if (!r.ok) throw new Error(r.error);
      const env = v.safeParse(UsageOutputSchema, r.raw);
      if (!env.success) throw new Error(`${what} printed a different shape than the caut.v1 envelope (${issueText(env)})`);
      const out = env.output;
      if (!out.schemaVersion.startsWith("caut.v1")) ctx.warn(`${what}: schemaVersion ${out.schemaVersion}, read as caut.v1`);
      if (out.command && out.command !== "cost") ctx.warn(`${what}: command "${out.command}", read as cost`);
      const errors = (out.errors ?? []).filter((e): e is string => typeof e === "string");
      if (r.exitCode !== 0) {
        ctx.warn(`${what} exited ${r.exitCode} (partial failure${errors.length ? `: ${errors.join("; ").slice(0, 300)}` : ""}); its JSON was read`);
      } else if (errors.length) ctx.warn(`caut cost provider errors: ${errors.join("; ").slice(0, 300)}`);

      const { snapshots, daily, read } = costRows(out.data, out.generatedAt, ctx.warn);
      const { rows, after } = changedDays(daily, read, daysWritten(ctx.cursor, ctx.warn));
      return {
        rows: { caut_cost_snapshots: snapshots, caut_cost_daily: rows },
        cursor: cursor.opaque(JSON.stringify(after)),
      };
    },
  });
}

export default cautCost;
