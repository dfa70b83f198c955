// The cost oracle (issue 14 point 6): the caut_cost collector on caut's own `caut cost --json`
// (test/fixtures/caut/cost.json) through a fake caut on PATH, and costForecast on a real DuckDB
// store filled by the collectors (caut_cost, caut, caam) from several machines and days.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import type { Collector, Store } from "../../lib/index.ts";
import { createFakeMachine, createTestStore, runOnce, testCollector, type FakeTool } from "../../lib/testkit.ts";
import { caam } from "../../plugins/caam/index.ts";
import { cautCost } from "../../plugins/caut/cost.ts";
import { caut } from "../../plugins/caut/index.ts";
import { costForecast } from "../../plugins/oracle/cost.ts";

setDefaultTimeout(60_000);

const fx = (dir: string, name: string) => readFileSync(join(import.meta.dir, "../fixtures", dir, name), "utf8");
const COST = fx("caut", "cost.json");
const USAGE = fx("caut", "usage.json");
const LIMITS = fx("caam", "limits.format-json.json");
const STATUS = fx("caam", "status.json");
const json = () => JSON.parse(COST) as Record<string, any>;

testCollector({
  collector: cautCost(),
  fixtures: { tools: { caut: { "cost --json": COST } } },
  rows: { caut_cost_snapshots: 2, caut_cost_daily: 3 },
  junk: { tools: { caut: { "cost --json": "Error: No selected providers support local cost scanning.\n" } } },
  async check(store) {
    expect(
      await store.query(
        "SELECT provider, date, fetch_source, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, total_tokens, total_cost, models_json, caut_updated_at, source FROM caut_cost_daily ORDER BY date",
      ),
    ).toEqual([
      {
        provider: "claude",
        date: "2026-08-18",
        fetch_source: "local",
        input_tokens: 1402311,
        output_tokens: 611044,
        cache_read_tokens: 18204411,
        cache_creation_tokens: 902114,
        total_tokens: 21119880,
        total_cost: 61.37,
        models_json: '["claude-opus-4-1","claude-sonnet-4-5"]',
        caut_updated_at: "2026-08-20T15:11:39.998Z",
        source: "caut_cost",
      },
      {
        provider: "claude",
        date: "2026-08-19",
        fetch_source: "local",
        input_tokens: 1210007,
        output_tokens: 540231,
        cache_read_tokens: 15502199,
        cache_creation_tokens: 788002,
        total_tokens: 18040439,
        total_cost: 52.81,
        models_json: '["claude-opus-4-1"]',
        caut_updated_at: "2026-08-20T15:11:39.998Z",
        source: "caut_cost",
      },
      {
        provider: "claude",
        date: "2026-08-20",
        fetch_source: "local",
        input_tokens: 122040,
        output_tokens: 61873,
        cache_read_tokens: 1598301,
        cache_creation_tokens: 61007,
        total_tokens: 1843221,
        total_cost: 38.42,
        models_json: '["claude-opus-4-1"]',
        caut_updated_at: "2026-08-20T15:11:39.998Z",
        source: "caut_cost",
      },
    ]);
    expect(
      await store.query(
        "SELECT machine_id, provider, fetch_source, updated_at, session_tokens, session_cost_usd, last_30_days_tokens, last_30_days_cost_usd, day_count, caut_generated_at FROM caut_cost_snapshots ORDER BY provider",
      ),
    ).toEqual([
      {
        machine_id: "fake",
        provider: "claude",
        fetch_source: "local",
        updated_at: "2026-08-20T15:11:39.998Z",
        session_tokens: 1843221,
        session_cost_usd: 38.42,
        last_30_days_tokens: 412773019,
        last_30_days_cost_usd: 1207.55,
        day_count: 3,
        caut_generated_at: "2026-08-20T15:11:40.020Z",
      },
      {
        machine_id: "fake",
        provider: "codex",
        fetch_source: "local",
        updated_at: "2026-08-20T15:11:40.011Z",
        session_tokens: null,
        session_cost_usd: null,
        last_30_days_tokens: 88120455,
        last_30_days_cost_usd: 214.09,
        day_count: 0,
        caut_generated_at: "2026-08-20T15:11:40.020Z",
      },
    ]);
    // The payload as printed, without its days (they have their own rows).
    const [raw] = await store.query<{ raw_json: string }>("SELECT raw_json FROM caut_cost_snapshots WHERE provider = 'claude'");
    const { daily: _daily, ...payload } = json().data[0];
    expect(JSON.parse(raw!.raw_json)).toEqual(payload);
  },
});

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup) await f();
});

async function newStore(collectors: Collector[]) {
  const store = await createTestStore(collectors);
  cleanup.push(() => store.close());
  return store;
}

/** Runs `collector` once on machine `id` whose tools answer `tools`, at `iso`. */
async function collectOn(store: Store, collector: Collector, id: string, tools: Record<string, FakeTool>, iso: string) {
  const machine = createFakeMachine({ id, tools });
  cleanup.push(() => machine.close());
  return runOnce({ store, collector, machine, clock: createFixedClock(iso) });
}

type Days = Record<string, [date: string, costUsd: number | null, tokens: number][]>;
/** `caut cost --json` as caut prints it, with these days per provider. */
const costJson = (generatedAt: string, days: Days) =>
  JSON.stringify({
    ...json(),
    generatedAt,
    data: Object.entries(days).map(([provider, list]) => ({
      provider,
      source: "local",
      updatedAt: generatedAt,
      daily: list.map(([date, cost, tokens]) => ({ date, totalTokens: tokens, ...(cost === null ? {} : { totalCost: cost }) })),
    })),
  });

const count = async (store: Store, table: string) => (await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`))[0]!.n;

describe("caut_cost collector", () => {
  const collector = cautCost();
  const cost = (stdout: string, exit = 0, stderr = "") => ({ caut: { "cost --json": { stdout, exit, stderr } } });

  it("runs every 900 s by default, or as told", () => {
    expect(collector.intervalSeconds).toBe(900);
    expect(cautCost({ intervalSeconds: 3600 }).intervalSeconds).toBe(3600);
  });

  it("writes a day again only when its numbers change, so re-collecting adds nothing and a grown day counts once", async () => {
    const store = await newStore([collector]);
    const first = await collectOn(store, collector, "m1", cost(COST), "2026-08-20T15:12:00Z");
    expect(first.rowsByTable).toEqual({ caut_cost_snapshots: 2, caut_cost_daily: 3 });
    // The same output 15 minutes later: a snapshot per provider, no day again.
    const same = await collectOn(store, collector, "m1", cost(COST), "2026-08-20T15:27:00Z");
    expect(same.rowsByTable).toEqual({ caut_cost_snapshots: 2 });
    // Today grew; the other days did not.
    const grown = json();
    grown.data[0].daily[2].totalCost = 45.1;
    grown.data[0].daily[2].totalTokens = 2_000_000;
    const later = await collectOn(store, collector, "m1", cost(JSON.stringify(grown)), "2026-08-20T15:42:00Z");
    expect(later.rowsByTable).toEqual({ caut_cost_snapshots: 2, caut_cost_daily: 1 });
    expect(await count(store, "caut_cost_daily")).toBe(4);
    // Another machine's same days are its own spend.
    expect((await collectOn(store, collector, "m2", cost(COST), "2026-08-20T15:43:00Z")).rowsByTable.caut_cost_daily).toBe(3);

    const day20 = async (at: string, machineId?: string) => (await costForecast(store, at, { machineId })).by_provider_day.find((d) => d.date === "2026-08-20");
    expect(await day20("2026-08-20T15:30:00Z")).toEqual({ date: "2026-08-20", provider: "claude", cost_usd: 38.42, tokens: 1843221 });
    expect(await day20("2026-08-20T15:42:00Z", "m1")).toEqual({ date: "2026-08-20", provider: "claude", cost_usd: 45.1, tokens: 2_000_000 });
    expect(await day20("2026-08-20T15:50:00Z")).toEqual({ date: "2026-08-20", provider: "claude", cost_usd: 83.52, tokens: 3_843_221 });
  });

  it("reads caut's own key spelling (sessionCostUsd, last30DaysCostUsd) as well as the fixture's …USD", async () => {
    const out = json();
    const { sessionCostUSD, last30DaysCostUSD, ...rest } = out.data[0];
    out.data[0] = { ...rest, sessionCostUsd: sessionCostUSD, last30DaysCostUsd: last30DaysCostUSD };
    const store = await newStore([collector]);
    const rec = await collectOn(store, collector, "m1", cost(JSON.stringify(out)), "2026-08-20T15:12:00Z");
    expect(rec.warnings).toEqual([]);
    expect(await store.query("SELECT session_cost_usd, last_30_days_cost_usd FROM caut_cost_snapshots WHERE provider = 'claude'")).toEqual([
      { session_cost_usd: 38.42, last_30_days_cost_usd: 1207.55 },
    ]);
  });

  it("treats a partial failure (non-zero exit, JSON printed) as data with warnings", async () => {
    const out = json();
    out.data = out.data.slice(0, 1);
    out.errors = ["codex: Failed to read Codex sessions: permission denied"];
    const store = await newStore([collector]);
    const rec = await collectOn(store, collector, "m1", cost(JSON.stringify(out), 1, "Error: codex"), "2026-08-20T15:12:00Z");
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual(["caut cost --json exited 1 (partial failure: codex: Failed to read Codex sessions: permission denied); its JSON was read"]);
    expect(rec.rowsByTable).toEqual({ caut_cost_snapshots: 1, caut_cost_daily: 3 });
    // Exit 0 with provider errors: the same data, the errors as a warning.
    const ok = await collectOn(store, collector, "m2", cost(JSON.stringify(out)), "2026-08-20T15:12:00Z");
    expect(ok.warnings).toEqual(["caut cost provider errors: codex: Failed to read Codex sessions: permission denied"]);
  });

  it("warns on another schemaVersion or command, a missing daily[] and bad days, and keeps the rest", async () => {
    const out = json();
    out.schemaVersion = "caut.v2";
    out.command = "usage";
    delete out.data[1].daily;
    out.data[0].daily.push(
      { date: "2026-02-30", totalCost: 1 },
      { date: "yesterday", totalCost: 1 },
      { date: "2026-08-18", totalCost: 99 },
      { date: "2026-08-17", totalCost: "12.5", modelsUsed: "opus" },
    );
    out.data.push({ provider: "claude", source: "local", updatedAt: "2026-08-20T15:11:40Z", daily: [] }, { source: "local" });
    const store = await newStore([collector]);
    const rec = await collectOn(store, collector, "m1", cost(JSON.stringify(out)), "2026-08-20T15:12:00Z");
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual([
      "caut cost --json: schemaVersion caut.v2, read as caut.v1",
      'caut cost --json: command "usage", read as cost',
      "skipped caut cost claude daily #3: date: a calendar date",
      "skipped caut cost claude daily #4: date: a YYYY-MM-DD date",
      "caut cost claude: 2026-08-18 printed twice; kept the first",
      "caut cost codex: no daily[]; its days were not read",
      "caut cost printed provider claude twice; kept the first",
      'skipped caut cost provider #3: provider: Invalid key: Expected "provider" but received undefined',
    ]);
    expect(rec.rowsByTable).toEqual({ caut_cost_snapshots: 2, caut_cost_daily: 4 });
    // A field of another type reads as unknown, not as a wrong number.
    expect(await store.query("SELECT date, total_cost, models_json FROM caut_cost_daily WHERE date = '2026-08-17'")).toEqual([
      { date: "2026-08-17", total_cost: null, models_json: null },
    ]);
  });

  it("fails readably when caut prints no JSON or another shape", async () => {
    const store = await newStore([collector]);
    const none = await collectOn(store, collector, "m1", cost("", 2, "Error: Configuration error: No selected providers support local cost scanning."), "2026-08-20T15:12:00Z");
    expect(none.result).toBe("failed");
    expect(none.error).toBe("caut cost --json exited 2 without JSON: Error: Configuration error: No selected providers support local cost scanning.");
    const other = await collectOn(store, collector, "m1", cost('{"providers": []}'), "2026-08-20T15:12:00Z");
    expect(other.result).toBe("failed");
    expect(other.error).toStartWith("caut cost --json printed a different shape than the caut.v1 envelope (schemaVersion:");
  });

  it("keeps days caut prices at nothing (its own local scan counts messages): tokens, no dollars", async () => {
    const store = await newStore([collector]);
    const out = costJson("2026-08-20T15:11:40Z", {
      claude: [
        ["2026-08-20", null, 120],
        ["2026-08-19", null, 340],
      ],
    });
    expect((await collectOn(store, collector, "m1", cost(out), "2026-08-20T15:12:00Z")).rowsByTable).toEqual({ caut_cost_snapshots: 1, caut_cost_daily: 2 });
    const f = await costForecast(store, "2026-08-20T16:00:00Z");
    expect(f.by_provider_day).toEqual([
      { date: "2026-08-19", provider: "claude", cost_usd: null, tokens: 340 },
      { date: "2026-08-20", provider: "claude", cost_usd: null, tokens: 120 },
    ]);
    expect(f.by_provider).toEqual([{ provider: "claude", last_30d_usd: null, month_to_date_usd: null, projected_month_usd: null, low_usd: null, high_usd: null }]);
    expect(f.month.projected_usd).toBeNull();
    expect(f.warnings[0]).toBe("claude: caut cost listed 2 day(s) without a price (caut's local scan counts tokens or messages only): no dollars to forecast");
  });
});

describe("costForecast", () => {
  const AT = "2026-08-20T18:00:00Z";
  let store: Store;
  const cost = cautCost();
  const usage = caut();
  const limits = caam();
  const costOn = (id: string, iso: string, days: Days) => collectOn(store, cost, id, { caut: { "cost --json": costJson(iso, days) } }, iso);
  /** `caut usage --json` on alpha: the fixture's codex account and these claude accounts, [account, primary %, secondary %, tertiary %]. */
  const usageOn = (iso: string, claude: [string, number, number, number?][]) => {
    const out = JSON.parse(USAGE) as Record<string, any>;
    const window = (usedPercent: number, windowMinutes: number, resetsAt: string) => ({ usedPercent, windowMinutes, resetsAt });
    out.generatedAt = iso;
    out.data = [
      ...out.data.filter((p: any) => p.provider !== "claude"),
      ...claude.map(([account, primary, secondary, tertiary]) => ({
        provider: "claude",
        account,
        source: "oauth",
        usage: {
          primary: window(primary, 300, "2026-08-20T23:00:00Z"),
          secondary: window(secondary, 10080, "2026-08-26T06:59:59Z"),
          ...(tertiary === undefined ? {} : { tertiary: window(tertiary, 10080, "2026-08-24T06:59:59Z") }),
          updatedAt: iso,
        },
      })),
    ];
    return collectOn(store, usage, "alpha", { caut: { "usage --json": JSON.stringify(out) } }, iso);
  };
  const caamOn = (iso: string, status: string) => collectOn(store, limits, "beta", { caam: { "limits --format json": LIMITS, "status --json": status } }, iso);

  it("fills a store from two machines over two days", async () => {
    store = await newStore([cost, usage, limits]);
    // alpha's first look, late on the 19th; then again on the 20th (the 19th grew, the 20th began)
    await costOn("alpha", "2026-08-19T23:00:00Z", {
      claude: [
        ["2026-07-31", 100, 1000],
        ["2026-08-16", 10, 100],
        ["2026-08-17", 20, 200],
        ["2026-08-19", 30, 300],
      ],
    });
    const again = await costOn("alpha", "2026-08-20T16:00:00Z", {
      claude: [
        ["2026-07-31", 100, 1000],
        ["2026-08-16", 10, 100],
        ["2026-08-17", 20, 200],
        ["2026-08-19", 40, 400],
        ["2026-08-20", 5, 50],
      ],
      codex: [["2026-08-18", 8, 80]],
    });
    expect(again.rowsByTable.caut_cost_daily).toBe(3); // 08-19 changed, 08-20 and codex 08-18 are new
    await costOn("beta", "2026-08-20T15:00:00Z", {
      claude: [
        ["2026-08-17", 6, 60],
        ["2026-08-19", 4, 40],
      ],
      codex: [
        ["2026-08-19", 2, 20],
        ["2026-08-20", 1, 10],
      ],
    });
    // after AT: must not count at AT
    await costOn("alpha", "2026-08-20T18:30:00Z", { claude: [["2026-08-20", 500, 5000]] });

    // caam showed profile alt as claude's active one (logged in as alt@flywheel.dev) yesterday; today work is active again
    const status = JSON.parse(STATUS) as Record<string, any>;
    const claudeTool = status.tools.find((t: any) => t.tool === "claude");
    claudeTool.active_profile = "alt";
    claudeTool.identity.email = "alt@flywheel.dev";
    await caamOn("2026-08-19T09:00:00Z", JSON.stringify(status));
    await caamOn("2026-08-20T17:40:00Z", STATUS);
    // caut on alpha: jeff (87/64/91, as in the fixture) and alt (12/31)
    await usageOn("2026-08-20T17:30:00Z", [
      ["jeff@flywheel.dev", 87, 64, 91],
      ["alt@flywheel.dev", 12, 31],
    ]);
    expect(await count(store, "caut_cost_daily")).toBe(4 + 3 + 4 + 1);
  });

  it("sums a provider's day over machines, each machine's latest collection once, only as of `at`", async () => {
    const f = await costForecast(store, AT);
    expect(f.by_provider_day).toEqual([
      { date: "2026-07-31", provider: "claude", cost_usd: 100, tokens: 1000 },
      { date: "2026-08-16", provider: "claude", cost_usd: 10, tokens: 100 },
      { date: "2026-08-17", provider: "claude", cost_usd: 26, tokens: 260 }, // alpha 20 + beta 6
      { date: "2026-08-18", provider: "codex", cost_usd: 8, tokens: 80 },
      { date: "2026-08-19", provider: "claude", cost_usd: 44, tokens: 440 }, // alpha's later 40 (not 30) + beta 4
      { date: "2026-08-19", provider: "codex", cost_usd: 2, tokens: 20 },
      { date: "2026-08-20", provider: "claude", cost_usd: 5, tokens: 50 }, // not the 500 collected at 18:30
      { date: "2026-08-20", provider: "codex", cost_usd: 1, tokens: 10 },
    ]);
    // Before the 20th's collections: alpha's first look only.
    const early = await costForecast(store, "2026-08-20T00:30:00Z");
    expect(early.by_provider_day.map((d) => [d.date, d.provider, d.cost_usd])).toEqual([
      ["2026-07-31", "claude", 100],
      ["2026-08-16", "claude", 10],
      ["2026-08-17", "claude", 20],
      ["2026-08-19", "claude", 30],
    ]);
    expect(early.by_provider[0]!.month_to_date_usd).toBe(60);
    // After 18:30: the 20th is what alpha then said.
    const late = await costForecast(store, "2026-08-20T19:00:00Z");
    expect(late.by_provider_day.find((d) => d.date === "2026-08-20" && d.provider === "claude")?.cost_usd).toBe(500);
    // One machine only.
    const beta = await costForecast(store, AT, { machineId: "beta" });
    expect(beta.by_provider_day.map((d) => [d.date, d.provider, d.cost_usd])).toEqual([
      ["2026-08-17", "claude", 6],
      ["2026-08-19", "claude", 4],
      ["2026-08-19", "codex", 2],
      ["2026-08-20", "codex", 1],
    ]);
  });

  it("projects the month from the mean daily cost, with an 80 % interval from the days' spread", async () => {
    const f = await costForecast(store, AT);
    // AT is 19.75 days into August (31 days): R = 11.25 days left.
    // claude: complete days from its first (07-31) to 08-19 are 20: 100, fifteen $0 days (08-01…08-15),
    //   10, 26, 0 (08-18), 44 → mean m = 180 / 20 = 9; squared deviations 91² + 16·9² + 1² + 17² + 35² = 11092,
    //   s = √(11092 / 19) = 24.16174; month to date 10 + 26 + 0 + 44 + 5 = 85; last 30 days (from 07-22) 185.
    //   projected 85 + 9 · 11.25 = 186.25; half-width 1.2816 · 24.16174 · √(11.25 · (1 + 11.25 / 20)) = 129.8276;
    //   low 85 + max(0, 101.25 − 129.83) = 85; high 186.25 + 129.8276 = 316.08.
    // codex: complete days from 08-18: 8, 2 → m = 5, s = √18 = 4.24264; to date 8 + 2 + 1 = 11;
    //   projected 11 + 5 · 11.25 = 67.25; half-width 1.2816 · 4.24264 · √(11.25 · (1 + 11.25 / 2)) = 46.9416;
    //   low 11 + 56.25 − 46.9416 = 20.31; high 67.25 + 46.9416 = 114.19.
    expect(f.by_provider).toEqual([
      { provider: "claude", last_30d_usd: 185, month_to_date_usd: 85, projected_month_usd: 186.25, low_usd: 85, high_usd: 316.08 },
      { provider: "codex", last_30d_usd: 11, month_to_date_usd: 11, projected_month_usd: 67.25, low_usd: 20.31, high_usd: 114.19 },
    ]);
    // The month adds them: 85 + 20.3084 = 105.31, 316.0776 + 114.1916 = 430.27.
    expect(f.month).toEqual({ month: "2026-08", to_date_usd: 96, projected_usd: 253.5, low_usd: 105.31, high_usd: 430.27, days_elapsed: 19.75, days_in_month: 31 });
    expect(f.warnings).toEqual([]);
  });

  it("forecasts from the real fixture, and says where caut's days and its own sums disagree", async () => {
    const s = await newStore([cost]);
    await collectOn(s, cost, "m1", { caut: { "cost --json": COST } }, "2026-08-20T15:12:00Z");
    const f = await costForecast(s, "2026-08-20T15:30:00Z");
    // 19 + 15.5 / 24 = 19.6458 days into August: R = 11.3542. claude's complete days 61.37, 52.81:
    //   m = 57.09, s = 8.56 / √2 = 6.0528; to date 61.37 + 52.81 + 38.42 = 152.6; projected 152.6 + 57.09 · 11.3542 = 800.81;
    //   half-width 1.2816 · 6.0528 · √(11.3542 · (1 + 11.3542 / 2)) = 67.54 → 733.27 … 868.35.
    // codex: no days, only caut's last-30-days sum.
    expect(f.by_provider).toEqual([
      { provider: "claude", last_30d_usd: 152.6, month_to_date_usd: 152.6, projected_month_usd: 800.81, low_usd: 733.27, high_usd: 868.35 },
      { provider: "codex", last_30d_usd: 214.09, month_to_date_usd: null, projected_month_usd: null, low_usd: null, high_usd: null },
    ]);
    expect(f.month).toEqual({ month: "2026-08", to_date_usd: 152.6, projected_usd: 800.81, low_usd: 733.27, high_usd: 868.35, days_elapsed: 19.6458, days_in_month: 31 });
    expect(f.warnings.slice(0, 2)).toEqual([
      "claude: the days caut listed add up to $152.60 over 30 days, but its own last-30-days sum is $1207.55: days it did not list count $0 or are unknown here, so the projection may be low",
      "codex: caut cost listed no days, only a last-30-days cost of $214.09: no month-to-date or projection",
    ]);
  });

  it("says a provider with one complete day has no interval, and one with none has no projection", async () => {
    const s = await newStore([cost]);
    const one = (iso: string, days: Days) => collectOn(s, cost, "solo", { caut: { "cost --json": costJson(iso, days) } }, iso);
    await one("2026-09-02T06:00:00Z", {
      claude: [
        ["2026-09-01", 12, 1],
        ["2026-09-02", 3, 1],
      ],
      codex: [["2026-09-02", 4, 1]],
    });
    const f = await costForecast(s, "2026-09-02T12:00:00Z");
    // 1.5 days into September (30 days): R = 28.5; claude 15 + 12 · 28.5 = 357
    expect(f.by_provider).toEqual([
      { provider: "claude", last_30d_usd: 15, month_to_date_usd: 15, projected_month_usd: 357, low_usd: null, high_usd: null },
      { provider: "codex", last_30d_usd: 4, month_to_date_usd: 4, projected_month_usd: null, low_usd: null, high_usd: null },
    ]);
    expect(f.month).toEqual({ month: "2026-09", to_date_usd: 19, projected_usd: 361, low_usd: 361, high_usd: 361, days_elapsed: 1.5, days_in_month: 30 });
    expect(f.warnings.slice(0, 3)).toEqual([
      "claude: one complete day (2026-09-01): a projection without an interval",
      "codex: no complete day before 2026-09-02 yet: no projection",
      "the month's interval leaves out the uncertainty of claude, codex (no interval of its own)",
    ]);
    expect(f.warnings.slice(3).map((w) => w.slice(0, 21))).toEqual(["savings opportunities"]); // no caut or caam data in this store
  });

  it("names a throttled account and an idle one of the same provider, with the caam command", async () => {
    const f = await costForecast(store, AT);
    expect(f.opportunities).toEqual([
      {
        kind: "idle_account_headroom",
        text: "claude: jeff@flywheel.dev is at 91 % (tertiary window) while alt@flywheel.dev is at 31 %: move work to it with `caam activate claude alt`",
        evidence: {
          source: "caut",
          provider: "claude",
          throttled: { account: "jeff@flywheel.dev", used_percent: 91, window: "tertiary", machine_id: "alpha", collected_at: "2026-08-20T17:30:00.000Z" },
          idle: { account: "alt@flywheel.dev", profile: "alt", used_percent: 31, window: "secondary", machine_id: "alpha", collected_at: "2026-08-20T17:30:00.000Z" },
          command: "caam activate claude alt",
        },
      },
      // caam's own profiles: codex main at 96 % while team is at 41 % (claude work/alt is named above already)
      {
        kind: "idle_account_headroom",
        text: "codex: caam profile main is at 96 % (primary window) while team is at 41 %: move work to it with `caam activate codex team`",
        evidence: {
          source: "caam",
          provider: "codex",
          throttled: { profile: "main", used_percent: 96, window: "primary", machine_id: "beta", collected_at: "2026-08-20T17:40:00.000Z" },
          idle: { profile: "team", used_percent: 41, window: "secondary", machine_id: "beta", collected_at: "2026-08-20T17:40:00.000Z" },
          command: "caam activate codex team",
        },
      },
    ]);
    // Before caam's collection of today (its yesterday's is over an hour old): caut's only.
    expect((await costForecast(store, "2026-08-20T17:35:00Z")).opportunities.map((o) => o.evidence.command)).toEqual(["caam activate claude alt"]);
  });

  it("makes no opportunity when no account idles, and says so when caam does not know the idle one's profile", async () => {
    await usageOn("2026-08-20T19:00:00Z", [
      ["jeff@flywheel.dev", 95, 64],
      ["alt@flywheel.dev", 55, 31],
    ]);
    const none = await costForecast(store, "2026-08-20T19:05:00Z", { machineId: "alpha" });
    expect(none.opportunities).toEqual([]);
    expect(none.warnings).toEqual([]);
    await usageOn("2026-08-20T19:10:00Z", [
      ["jeff@flywheel.dev", 95, 64],
      ["alt@flywheel.dev", 55, 31],
      ["carol@flywheel.dev", 5, 2],
    ]);
    const f = await costForecast(store, "2026-08-20T19:15:00Z", { machineId: "alpha" });
    expect(f.opportunities.map((o) => o.text)).toEqual([
      "claude: jeff@flywheel.dev is at 95 % (primary window) while carol@flywheel.dev is at 5 %: caam has not shown which profile holds carol@flywheel.dev; find it with `caam limits claude`, then `caam activate claude <profile>`",
    ]);
    // Usage older than the bound makes none.
    const stale = await costForecast(store, "2026-08-20T19:15:00Z", { machineId: "alpha", usageMaxAgeSeconds: 60 });
    expect(stale.opportunities).toEqual([]);
    expect(stale.warnings).toEqual(["savings opportunities: no account usage (caut) or profile limits (caam) collected in the 60 s before 2026-08-20T19:15:00.000Z on alpha"]);
  });

  it("answers empty sections and says which collector to add on a store without its tables or data", async () => {
    const bare = await newStore([]);
    const f = await costForecast(bare, AT);
    expect(f).toMatchObject({
      by_provider_day: [],
      by_provider: [],
      month: { month: "2026-08", to_date_usd: null, projected_usd: null, low_usd: null, high_usd: null, days_elapsed: 19.75, days_in_month: 31 },
      opportunities: [],
    });
    expect(f.warnings).toHaveLength(2);
    expect(f.warnings[0]).toStartWith("no caut_cost data: the store has no caut_cost tables. caut_cost: add cautCost() to vc.config.ts");
    expect(f.warnings[1]).toStartWith(
      "savings opportunities: no account usage (caut) or profile limits (caam) collected in the 3600 s before 2026-08-20T18:00:00.000Z; no caut or caam data:",
    );
    // Tables there, no collection yet.
    const empty = await newStore([cost]);
    expect((await costForecast(empty, AT)).warnings[0]).toStartWith("no caut_cost data: caut_cost has not run yet (vc collect --once)");
    // A config without caut_cost.
    expect((await costForecast(store, AT, { collectors: ["caut", "caam"] })).warnings[0]).toStartWith("no fresh caut_cost data: caut_cost is not in this config's collectors.");
    // Not a time.
    expect((await costForecast(store, "yesterday")).warnings).toEqual(['at is not a time: "yesterday"']);
  });
});
