import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector, type FakeMachine } from "../../lib/testkit.ts";
import { createFixedClock } from "../../lib/clock.ts";
import type { Store } from "../../lib/index.ts";
import { caut } from "../../plugins/caut/index.ts";
import { splitError } from "../../plugins/caut/parse.ts";

// Real `caut usage --json` output and caut's history database (test/fixtures/caut/README.md).
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/caut", name), "utf8");
const usage = fx("usage.json");
const historySql = fx("usage-history.sql");
const HISTORY = "~/.local/share/caut/usage-history.sqlite";
const json = () => JSON.parse(usage) as Record<string, any>;

testCollector({
  collector: caut(),
  fixtures: { tools: { caut: { "usage --json": usage } }, home: { [HISTORY]: { sqlite: historySql } } },
  rows: { account_usage_snapshots: 5, caut_usage_history: 4 },
  junk: { tools: { caut: { "usage --json": "Error: no providers configured\n" } } },
  async check(store) {
    expect(
      await store.query(
        "SELECT provider, account, window_name, used_percent, remaining_percent, window_minutes, resets_at, reset_description, credits_remaining, status, fetch_source, updated_at FROM account_usage_snapshots ORDER BY provider, window_name",
      ),
    ).toEqual([
      {
        provider: "claude",
        account: "jeff@flywheel.dev",
        window_name: "primary",
        used_percent: 87,
        remaining_percent: 13,
        window_minutes: 300,
        resets_at: "2026-08-20T16:59:59.652Z",
        reset_description: "in 1h 49m",
        credits_remaining: null,
        status: null,
        fetch_source: "oauth",
        updated_at: "2026-08-20T15:10:03.902Z",
      },
      {
        provider: "claude",
        account: "jeff@flywheel.dev",
        window_name: "secondary",
        used_percent: 64,
        remaining_percent: 36,
        window_minutes: 10080,
        resets_at: "2026-08-24T06:59:59.652Z",
        reset_description: "in 3 days",
        credits_remaining: null,
        status: null,
        fetch_source: "oauth",
        updated_at: "2026-08-20T15:10:03.902Z",
      },
      {
        provider: "claude",
        account: "jeff@flywheel.dev",
        window_name: "tertiary",
        used_percent: 91,
        remaining_percent: 9,
        window_minutes: 10080,
        resets_at: "2026-08-24T06:59:59.652Z",
        reset_description: "in 3 days",
        credits_remaining: null,
        status: null,
        fetch_source: "oauth",
        updated_at: "2026-08-20T15:10:03.902Z",
      },
      {
        provider: "codex",
        account: "ops@flywheel.dev",
        window_name: "primary",
        used_percent: 23,
        remaining_percent: 77,
        window_minutes: null,
        resets_at: "2026-08-20T18:41:07.000Z",
        reset_description: null,
        credits_remaining: null,
        status: null,
        fetch_source: "cli",
        updated_at: "2026-08-20T15:10:04.301Z",
      },
      {
        provider: "codex",
        account: "ops@flywheel.dev",
        window_name: "secondary",
        used_percent: 41,
        remaining_percent: 59,
        window_minutes: 10080,
        resets_at: "2026-08-25T13:00:00.000Z",
        reset_description: null,
        credits_remaining: null,
        status: null,
        fetch_source: "cli",
        updated_at: "2026-08-20T15:10:04.301Z",
      },
    ]);
    const [row] = await store.query<Record<string, unknown>>("SELECT * EXCLUDE (raw_json) FROM account_usage_snapshots WHERE provider = 'claude' AND window_name = 'primary'");
    expect(row).toMatchObject({
      machine_id: "fake",
      collected_at: "2026-01-25T03:00:00.000Z",
      account_email: "jeff@flywheel.dev",
      account_organization: "Flywheel Labs",
      login_method: "oauth",
      caut_generated_at: "2026-08-20T15:10:04.318Z",
      source: "caut",
      source_version: "1.0.0",
      schema_version: 1,
    });
    expect(
      await store.query(
        "SELECT history_id, provider, fetched_at, fetch_source, primary_used_pct, primary_window_minutes, primary_resets_at, tertiary_used_pct, account_email, account_org, trigger_type FROM caut_usage_history ORDER BY history_id",
      ),
    ).toEqual([
      {
        history_id: 1,
        provider: "claude",
        fetched_at: "2026-08-20T14:10:03.902Z",
        fetch_source: "unknown",
        primary_used_pct: 71,
        primary_window_minutes: 300,
        primary_resets_at: "2026-08-20T16:59:59.652Z",
        tertiary_used_pct: 88,
        account_email: "jeff@flywheel.dev",
        account_org: "Flywheel Labs",
        trigger_type: "manual",
      },
      {
        history_id: 2,
        provider: "codex",
        fetched_at: "2026-08-20T14:10:04.301Z",
        fetch_source: "unknown",
        primary_used_pct: 12,
        primary_window_minutes: null,
        primary_resets_at: "2026-08-20T18:41:07.000Z",
        tertiary_used_pct: null,
        account_email: "ops@flywheel.dev",
        account_org: null,
        trigger_type: "manual",
      },
      {
        history_id: 3,
        provider: "claude",
        fetched_at: "2026-08-20T15:10:03.902Z",
        fetch_source: "unknown",
        primary_used_pct: 87,
        primary_window_minutes: 300,
        primary_resets_at: "2026-08-20T16:59:59.652Z",
        tertiary_used_pct: 91,
        account_email: "jeff@flywheel.dev",
        account_org: "Flywheel Labs",
        trigger_type: "manual",
      },
      {
        history_id: 4,
        provider: "codex",
        fetched_at: "2026-08-20T15:10:04.301Z",
        fetch_source: "unknown",
        primary_used_pct: 23,
        primary_window_minutes: null,
        primary_resets_at: "2026-08-20T18:41:07.000Z",
        tertiary_used_pct: null,
        account_email: "ops@flywheel.dev",
        account_org: null,
        trigger_type: "manual",
      },
    ]);
  },
});

describe("caut collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  const setup = async (m: Parameters<typeof createFakeMachine>[0], collector = caut()) => {
    const machine = createFakeMachine(m);
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    return { machine, store, collector };
  };
  const at = (iso: string) => ({ clock: createFixedClock(iso) });
  const count = async (store: Store, table: string) => (await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`))[0]!.n;

  it("treats a partial failure (non-zero exit, JSON printed) as data with warnings and an event", async () => {
    const out = json();
    out.data = out.data.filter((p: any) => p.provider === "codex");
    out.errors = ["claude: OAuth token expired; run `claude login`"];
    out.errorDetails = [{ provider: "claude", finalError: "OAuth token expired", errorCode: "auth_expired", retryable: false, attempts: [] }];
    const { machine, store, collector } = await setup({
      tools: { caut: { "usage --json": { stdout: JSON.stringify(out), stderr: "Error: claude: OAuth token expired", exit: 3 } } },
    });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual(["caut usage --json exited 3 (partial failure: claude: OAuth token expired; run `claude login`); its JSON was read"]);
    expect(rec.rowsByTable).toEqual({ account_usage_snapshots: 2, account_status_events: 1 });
    expect(await store.query("SELECT ts, provider, account, event_type, message, details_json FROM account_status_events")).toEqual([
      {
        ts: "2026-08-20T15:10:04.318Z",
        provider: "claude",
        account: null,
        event_type: "fetch_error",
        message: "OAuth token expired; run `claude login`",
        details_json: JSON.stringify(out.errorDetails[0]),
      },
    ]);
  });

  it("records provider errors once, and their recovery once (status changes, not repeats)", async () => {
    const failing = json();
    failing.errors = ["gemini: request timed out after 30s"];
    const m = await setup({ tools: { caut: { "usage --json": { stdout: JSON.stringify(failing), exit: 1 } } } });
    await runOnce({ store: m.store, collector: m.collector, machine: m.machine, ...at("2026-08-20T15:10:00Z") });
    // the same failure, printed again later: no new event
    failing.generatedAt = "2026-08-20T15:12:04Z";
    const again = createFakeMachine({ tools: { caut: { "usage --json": { stdout: JSON.stringify(failing), exit: 1 } } } });
    cleanup.push(() => again.close());
    const r2 = await runOnce({ store: m.store, collector: m.collector, machine: again, ...at("2026-08-20T15:12:00Z") });
    expect(r2.rowsByTable.account_status_events).toBeUndefined();
    // gemini answers again
    const ok = json();
    ok.generatedAt = "2026-08-20T15:14:04Z";
    ok.data.push({ provider: "gemini", account: "g@flywheel.dev", source: "oauth", usage: { primary: { usedPercent: 5 }, secondary: null, updatedAt: "2026-08-20T15:14:03Z" } });
    const healed = createFakeMachine({ tools: { caut: { "usage --json": JSON.stringify(ok) } } });
    cleanup.push(() => healed.close());
    const r3 = await runOnce({ store: m.store, collector: m.collector, machine: healed, ...at("2026-08-20T15:14:00Z") });
    expect(r3.rowsByTable).toEqual({ account_usage_snapshots: 6, account_status_events: 1 });
    expect(await m.store.query("SELECT ts, provider, account, event_type, message FROM account_status_events ORDER BY ts")).toEqual([
      { ts: "2026-08-20T15:10:04.318Z", provider: "gemini", account: null, event_type: "fetch_error", message: "request timed out after 30s" },
      { ts: "2026-08-20T15:14:04.000Z", provider: "gemini", account: "g@flywheel.dev", event_type: "recovered", message: "was: request timed out after 30s" },
    ]);
  });

  it("reads variants: other accounts and counts, null and omitted windows, unknown fields", async () => {
    const out = json();
    out.meta.newThing = { x: 1 };
    out.extraTopLevel = [1];
    out.data = [
      // three claude accounts, one with only a secondary window, one with no windows at all
      {
        provider: "claude",
        account: "a@x.dev",
        source: "oauth",
        usage: { primary: { usedPercent: 100, windowMinutes: 300, resetsAt: "2026-09-01T05:00:00Z", futureField: 1 }, secondary: null, updatedAt: "2026-09-01T00:00:00Z" },
        futurePayloadField: "x",
      },
      { provider: "claude", account: "b@x.dev", source: "web", usage: { primary: null, secondary: { usedPercent: 12.5 }, updatedAt: "2026-09-01T00:00:00Z" } },
      { provider: "claude", account: "c@x.dev", source: "oauth", usage: { primary: null, secondary: null, updatedAt: "2026-09-01T00:00:00Z" } },
      // no account field: the identity's email labels it; credits from the credits snapshot
      {
        provider: "codex",
        source: "cli",
        usage: { primary: { usedPercent: 50 }, secondary: null, updatedAt: "2026-09-01T00:00:00Z", identity: { accountEmail: "ops2@x.dev" } },
        credits: { remaining: 118.4, events: [], updatedAt: "2026-09-01T00:00:00Z" },
      },
      // neither account nor identity
      { provider: "gemini", source: "api", usage: { primary: { usedPercent: 1 }, secondary: null, updatedAt: "2026-09-01T00:00:00Z" } },
    ];
    const { machine, store, collector } = await setup({ id: "mmini", tools: { caut: { "usage --json": JSON.stringify(out) } } });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ account_usage_snapshots: 4 });
    expect(
      await store.query(
        "SELECT machine_id, provider, account, window_name, used_percent, window_minutes, resets_at, credits_remaining FROM account_usage_snapshots ORDER BY provider, account",
      ),
    ).toEqual([
      {
        machine_id: "mmini",
        provider: "claude",
        account: "a@x.dev",
        window_name: "primary",
        used_percent: 100,
        window_minutes: 300,
        resets_at: "2026-09-01T05:00:00.000Z",
        credits_remaining: null,
      },
      { machine_id: "mmini", provider: "claude", account: "b@x.dev", window_name: "secondary", used_percent: 12.5, window_minutes: null, resets_at: null, credits_remaining: null },
      { machine_id: "mmini", provider: "codex", account: "ops2@x.dev", window_name: "primary", used_percent: 50, window_minutes: null, resets_at: null, credits_remaining: 118.4 },
      { machine_id: "mmini", provider: "gemini", account: "", window_name: "primary", used_percent: 1, window_minutes: null, resets_at: null, credits_remaining: null },
    ]);
  });

  it("keeps a provider whose optional fields changed type: those read as null", async () => {
    const out = json();
    out.data[0].usage.identity = "ops@flywheel.dev";
    out.data[0].credits = [118.4];
    out.data[1].status = "ok";
    const { machine, store, collector } = await setup({ tools: { caut: { "usage --json": JSON.stringify(out) } } });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.warnings).toEqual([]);
    expect(rec.rowsByTable).toEqual({ account_usage_snapshots: 5 });
    expect(await store.query("SELECT DISTINCT provider, account, account_email, credits_remaining, status FROM account_usage_snapshots ORDER BY provider")).toEqual([
      { provider: "claude", account: "jeff@flywheel.dev", account_email: "jeff@flywheel.dev", credits_remaining: null, status: null },
      { provider: "codex", account: "ops@flywheel.dev", account_email: null, credits_remaining: null, status: null },
    ]);
  });

  it("skips a malformed provider or window with a warning, keeps the rest", async () => {
    const out = json();
    out.data.push(
      { account: "no-provider@x" },
      { provider: "codex", account: "z@x", source: "cli", usage: { primary: { usedPercent: "high" }, secondary: { usedPercent: 3 }, updatedAt: "2026-09-01T00:00:00Z" } },
    );
    const { machine, store, collector } = await setup({ tools: { caut: { "usage --json": JSON.stringify(out) } } });
    const rec = await runOnce({ store, collector, machine });
    expect(rec.result).toBe("ok");
    expect(rec.warnings).toHaveLength(2);
    expect(rec.warnings[0]).toStartWith("skipped caut provider #2: provider:");
    expect(rec.warnings[1]).toStartWith("skipped caut codex/z@x primary window: usedPercent:");
    expect(rec.rowsByTable).toEqual({ account_usage_snapshots: 6 });
  });

  it("records provider status pages with --status: changes only", async () => {
    const out = json();
    out.data[0].status = { indicator: "none", description: "All Systems Operational", url: "https://status.openai.com" };
    out.data[1].status = { indicator: "minor", description: "Elevated errors on Opus", updatedAt: "2026-08-20T15:00:00Z", url: "https://status.anthropic.com" };
    const { machine, store, collector } = await setup({ tools: { caut: { "usage --json --status": JSON.stringify(out) } } }, caut({ status: true }));
    const rec = await runOnce({ store, collector, machine });
    expect(rec.rowsByTable).toEqual({ account_usage_snapshots: 5, account_status_events: 1 });
    expect(await store.query("SELECT DISTINCT provider, status, status_description FROM account_usage_snapshots ORDER BY provider")).toEqual([
      { provider: "claude", status: "minor", status_description: "Elevated errors on Opus" },
      { provider: "codex", status: "none", status_description: "All Systems Operational" },
    ]);
    expect(await store.query("SELECT provider, account, event_type, message FROM account_status_events")).toEqual([
      { provider: "claude", account: "jeff@flywheel.dev", event_type: "provider_status", message: "minor: Elevated errors on Opus" },
    ]);
  });

  it("fails readably when caut prints no JSON or another shape", async () => {
    const none = await setup({ tools: { caut: { "usage --json": { stderr: "Error: config: invalid TOML at line 3", exit: 2 } } } });
    const r1 = await runOnce({ store: none.store, collector: none.collector, machine: none.machine });
    expect(r1.result).toBe("failed");
    expect(r1.error).toBe("caut usage --json exited 2 without JSON: Error: config: invalid TOML at line 3");
    const other = await setup({ tools: { caut: { "usage --json": '{"providers": []}' } } });
    const r2 = await runOnce({ store: other.store, collector: other.collector, machine: other.machine });
    expect(r2.result).toBe("failed");
    expect(r2.error).toStartWith("caut usage --json printed a different shape than the caut.v1 envelope (schemaVersion:");
  });

  describe("history database", () => {
    const row = (id: number, provider = "claude", minute = id) =>
      `INSERT INTO usage_snapshots(id, provider, fetched_at, source, primary_used_pct) VALUES (${id}, '${provider}', '2026-08-21T10:${String(minute).padStart(2, "0")}:00.5+00:00', 'unknown', ${id});`;
    const append = (m: FakeMachine, sqlText: string) => {
      const { Database } = require("bun:sqlite") as typeof import("bun:sqlite");
      const db = new Database(join(m.home, ".local/share/caut/usage-history.sqlite"));
      db.exec(sqlText);
      db.close();
    };

    it("reads new rows only, after the cursor", async () => {
      const { machine, store, collector } = await setup({ tools: { caut: { "usage --json": usage } }, home: { [HISTORY]: { sqlite: historySql } } });
      expect((await runOnce({ store, collector, machine })).rowsByTable.caut_usage_history).toBe(4);
      append(machine, row(5) + row(6, "codex"));
      const next = await runOnce({ store, collector, machine });
      expect(next.rowsByTable.caut_usage_history).toBe(2);
      expect(await count(store, "caut_usage_history")).toBe(6);
      expect(next.rowsByTable.account_usage_snapshots).toBe(0); // same instant: nothing new there
    });

    it("caps rows per run at max_rows and resumes next run", async () => {
      const { machine, store, collector } = await setup({ tools: { caut: { "usage --json": usage } }, home: { [HISTORY]: { sqlite: historySql } } });
      const first = await runOnce({ store, collector, machine, limits: { maxRows: 7 } });
      expect(first.rowsByTable).toEqual({ account_usage_snapshots: 5, caut_usage_history: 2 });
      expect(first.warnings).toEqual(["caut history: read 2 rows (max_rows); the rest comes next run"]);
      const second = await runOnce({ store, collector, machine, limits: { maxRows: 7 } });
      expect(second.rowsByTable).toEqual({ account_usage_snapshots: 0, caut_usage_history: 2 });
      const third = await runOnce({ store, collector, machine, limits: { maxRows: 7 } });
      expect(third.rowsByTable).toEqual({ account_usage_snapshots: 0 });
      expect(await store.query("SELECT list(history_id ORDER BY history_id) AS ids FROM caut_usage_history")).toEqual([{ ids: [1, 2, 3, 4] }]);
    });

    it("starts over when the file was recreated, losing and duplicating nothing", async () => {
      const { machine, store, collector } = await setup({ tools: { caut: { "usage --json": usage } }, home: { [HISTORY]: { sqlite: historySql } } });
      await runOnce({ store, collector, machine });
      // caut's file deleted and recreated: ids start at 1 again, with new fetches
      machine.writeFile(HISTORY, { sqlite: historySql.slice(0, historySql.indexOf("INSERT INTO usage_snapshots")) + row(1, "claude", 40) + row(2, "codex", 41) });
      const rec = await runOnce({ store, collector, machine });
      expect(rec.warnings).toEqual([`caut history ${HISTORY} restarted (max id 2 < cursor 4); reading it from the start`]);
      expect(rec.rowsByTable).toEqual({ account_usage_snapshots: 0, caut_usage_history: 2 });
      expect(await count(store, "caut_usage_history")).toBe(6);
      expect((await runOnce({ store, collector, machine })).rows).toBe(0);
    });

    it("honours a per-machine path override, and warns (not fails) on an unreadable file", async () => {
      const moved = await setup({ tools: { caut: { "usage --json": usage } }, home: { "caut/h.sqlite": { sqlite: historySql } }, paths: { "caut.history": "~/caut/h.sqlite" } });
      expect((await runOnce({ store: moved.store, collector: moved.collector, machine: moved.machine })).rowsByTable.caut_usage_history).toBe(4);
      const broken = await setup({ tools: { caut: { "usage --json": usage } }, home: { [HISTORY]: "not a database" } });
      const rec = await runOnce({ store: broken.store, collector: broken.collector, machine: broken.machine });
      expect(rec.result).toBe("ok");
      expect(rec.rowsByTable).toEqual({ account_usage_snapshots: 5 });
      expect(rec.warnings).toHaveLength(1);
      expect(rec.warnings[0]).toStartWith(`caut history ${HISTORY} not read:`);
    });
  });
});

describe("splitError", () => {
  it("splits caut's '<provider>: <error>' strings", () => {
    expect(splitError("claude: OAuth token expired: re-login")).toEqual({ provider: "claude", message: "OAuth token expired: re-login" });
    expect(splitError("something odd")).toEqual({ provider: "unknown", message: "something odd" });
  });
});
