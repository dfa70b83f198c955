import { afterAll, describe, expect, it } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector, type FakeMachineOptions } from "../../lib/testkit.ts";
import type { Store } from "../../lib/store/store.ts";
import { dcg } from "../../plugins/dcg/index.ts";
import { commandHash, parseDcgConfig } from "../../plugins/dcg/parse.ts";

// Real dcg sources (test/fixtures/dcg): the history database ~/.config/dcg/history.db (schema and
// rows as dcg writes them) and the JSON decision log ([logging] format = "json"). There is no
// ~/.config/dcg/history.jsonl; the decision log lives where [logging] file says.
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/dcg", name), "utf8");
const historyDb = fx("history-db.sql");
const decisionLog = fx("decision-log.jsonl");
const historyExport = fx("history-export.jsonl");
const LOG = ".local/share/dcg/decisions.jsonl";
const config = (file = `~/${LOG}`, format = "json") => `# dcg configuration
[general]
color = "auto"

[logging]
enabled = true
format = "${format}"   # one JSON object a line
file = "${file}"

[logging.events]
deny = true
warn = true
`;
const both: FakeMachineOptions = {
  home: { ".config/dcg/history.db": { sqlite: historyDb }, ".config/dcg/config.toml": config(), [LOG]: decisionLog },
};
const lines = decisionLog.split("\n").filter(Boolean);

testCollector({
  collector: dcg(),
  fixtures: both,
  // 8 history rows + 17 log lines, 3 of them the same evaluations (14:48:44, 14:56:57, 15:05:48).
  rows: { dcg_events: 22 },
  junk: { home: { ".config/dcg/config.toml": config(), [LOG]: '{"timestamp":"x"\nnot json at all\n\u0000\u00ff\n{"no":"decision"}\n' } },
  async check(store) {
    expect(await store.query("SELECT origin, decision, count(*)::INTEGER AS n FROM dcg_events GROUP BY ALL ORDER BY ALL")).toEqual([
      { origin: "decision_log", decision: "deny", n: 12 },
      { origin: "decision_log", decision: "warn", n: 2 },
      { origin: "history_db", decision: "allow", n: 5 },
      { origin: "history_db", decision: "deny", n: 2 },
      { origin: "history_db", decision: "warn", n: 1 },
    ]);
    // The evaluation both sources hold is stored once, from the history database (cwd, exact time).
    expect(await store.query("SELECT * EXCLUDE (raw_json, event_key, collected_at) FROM dcg_events WHERE ts >= '2026-08-20 15:05:48' AND ts < '2026-08-20 15:05:49'")).toEqual([
      {
        machine_id: "fake",
        source: "dcg",
        source_version: "1.0.0",
        schema_version: 1,
        ts: "2026-08-20T15:05:48.460Z",
        decision: "deny",
        mode: null,
        rule_id: "core.git:reset-hard",
        pack_id: "core.git",
        pattern_name: "reset-hard",
        severity: null,
        cwd: "/data/projects/vibe_cockpit",
        command_hash: "44643a51036880adc7c6f63018e0a417eb8acef143459aed96231bb0c5cec78e",
        reason: null,
        agent_type: "claude_code",
        session_id: null,
        allowlist_layer: null,
        eval_duration_us: 1077,
        budget_skip: null,
        exit_code: null,
        hostname: null,
        history_id: 6,
        origin: "history_db",
      },
    ]);
    expect(
      await store.query("SELECT ts, decision, mode, rule_id, cwd, command_hash, reason, eval_duration_us, history_id FROM dcg_events WHERE ts = '2026-08-20 13:46:14'"),
    ).toEqual([
      {
        ts: "2026-08-20T13:46:14.000Z",
        decision: "deny",
        mode: "deny",
        rule_id: "core.git:reset-hard",
        cwd: null,
        command_hash: commandHash("/usr/bin/git reset --hard HEAD~3"),
        reason: "git reset --hard destroys uncommitted changes. Use 'git stash' first.",
        eval_duration_us: 1028,
        history_id: null,
      },
    ]);
    const [raw] = await store.query<{ raw_json: string }>("SELECT raw_json FROM dcg_events WHERE history_id = 3");
    expect(JSON.parse(raw!.raw_json)).toMatchObject({
      id: 3,
      command: "rm -rf target/debug/incremental",
      outcome: "deny",
      working_dir: "/data/projects/frankentui",
      allowlist_layer: null,
    });
  },
});

describe("dcg sources", () => {
  it("hashes a command as dcg does (sha256 hex of its bytes)", () => {
    expect(commandHash("git stash drop stash@{0}")).toBe("db68f758e382064e49d2b1324af7bafd018c36eb74cdaa81f7c91878308c5105");
  });

  it("reads where dcg's config puts the history database and the decision log", () => {
    expect(parseDcgConfig(config())).toEqual({ logEnabled: true, logFormat: "json", logFile: `~/${LOG}` });
    expect(
      parseDcgConfig(`[history]\nenabled = true\ndatabase_path = '/var/lib/dcg/h.db' # moved\n[logging]\nfile = "a#b.jsonl"\nformat = "JSON"\n[other]\nfile = "nope"`),
    ).toEqual({
      historyEnabled: true,
      historyDatabase: "/var/lib/dcg/h.db",
      logFile: "a#b.jsonl",
      logFormat: "json",
    });
  });

  it("reads any TOML dcg reads: inline tables, dotted keys, escapes and multi-line strings", () => {
    expect(parseDcgConfig(`logging = { enabled = true, format = "json", file = "~/logs/d\\u00e9cisions.jsonl" }\nhistory.database_path = """\n/var/lib/dcg/h.db"""\n`)).toEqual({
      logEnabled: true,
      logFormat: "json",
      logFile: "~/logs/décisions.jsonl",
      historyDatabase: "/var/lib/dcg/h.db",
    });
    // Keys of the wrong type, or in another table, are not taken.
    expect(parseDcgConfig(`[logging]\nfile = 42\nformat = ["json"]\n[logging.events]\nfile = "nope"\n`)).toEqual({});
  });

  it("refuses a config that is not TOML, and the collector warns and falls back to the default paths", async () => {
    expect(() => parseDcgConfig(`[logging]\nfile = \n`)).toThrow(/TOML/);
    expect(() => parseDcgConfig(`[logging]\nfile = "a"\nfile = "b"\n`)).toThrow();
    const machine = createFakeMachine({ home: { ".config/dcg/history.db": { sqlite: historyDb }, ".config/dcg/config.toml": `[logging\nfile = "x"\n` } });
    const collector = dcg();
    const store = await createTestStore([collector]);
    try {
      const r = await runOnce({ machine, store, collector });
      expect(r.result).toBe("ok");
      expect(r.rowsByTable).toEqual({ dcg_events: 8 });
      expect(r.warnings.join("\n")).toMatch(/cannot read dcg's config .*config\.toml: .*TOML.*; using the default paths/);
    } finally {
      await machine.close();
      await store.close();
    }
  });
});

describe("dcg collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  const setup = async (m: FakeMachineOptions) => {
    const machine = createFakeMachine(m);
    const collector = dcg();
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    return { machine, store, collector };
  };
  const count = async (store: Store) => (await store.query<{ n: number }>("SELECT count(*)::INTEGER AS n FROM dcg_events"))[0]!.n;

  it("reads the history database alone, and the decision log alone", async () => {
    const h = await setup({ home: { ".config/dcg/history.db": { sqlite: historyDb } } });
    const hr = await runOnce(h);
    expect({ result: hr.result, rows: hr.rowsByTable, warnings: hr.warnings }).toEqual({ result: "ok", rows: { dcg_events: 8 }, warnings: [] });
    const l = await setup({ home: { ".config/dcg/config.toml": config(), [LOG]: decisionLog } });
    const lr = await runOnce(l);
    expect({ result: lr.result, rows: lr.rowsByTable, warnings: lr.warnings }).toEqual({ result: "ok", rows: { dcg_events: 17 }, warnings: [] });
    expect(await l.store.query("SELECT decision, count(*)::INTEGER AS n FROM dcg_events GROUP BY 1 ORDER BY 1")).toEqual([
      { decision: "deny", n: 14 },
      { decision: "warn", n: 3 },
    ]);
  });

  it("is skipped, with the reason, where neither source exists", async () => {
    const none = await setup({});
    const r = await runOnce(none);
    expect(r.result).toBe("skipped");
    expect(r.reason).toBe("~/.config/dcg/history.db not found on fake, and no [logging] file in dcg's config");
    const text = await setup({ home: { ".config/dcg/config.toml": config(`~/${LOG}`, "text"), [LOG]: '[2026-08-20T10:19:23Z] WARN core.git:stash-drop "git stash drop"\n' } });
    const t = await runOnce(text);
    expect(t.result).toBe("skipped");
    expect(t.reason).toContain('is in text format; set [logging] format = "json"');
  });

  it("is skipped, never ok, when the history database has no commands table and no config names the decision log", async () => {
    // dcg's real decision log where dcg users keep it, but no config names it; history.db exists
    // without dcg's table (created, nothing recorded): nothing to read.
    const empty = await setup({ home: { ".config/dcg/history.db": { sqlite: "PRAGMA user_version = 0;" }, [LOG]: decisionLog } });
    const r = await runOnce(empty);
    expect({ result: r.result, reason: r.reason, rows: r.rowsByTable }).toEqual({
      result: "skipped",
      reason: "~/.config/dcg/history.db has no commands table (dcg has not written history there yet), and no [logging] file in dcg's config",
      rows: {},
    });
    expect(await count(empty.store)).toBe(0);
    // A config that names the log makes it the source: ok, with the empty history said once.
    const named = await setup({ home: { ".config/dcg/history.db": { sqlite: "PRAGMA user_version = 0;" }, ".config/dcg/config.toml": config(), [LOG]: decisionLog } });
    const n = await runOnce(named);
    expect({ result: n.result, warnings: n.warnings, rows: n.rowsByTable }).toEqual({
      result: "ok",
      warnings: ["~/.config/dcg/history.db has no commands table (dcg has not written history there yet)"],
      rows: { dcg_events: 17 },
    });
    // The config names a log that is not there: skipped, naming both.
    const gone = await setup({ home: { ".config/dcg/history.db": { sqlite: "PRAGMA user_version = 0;" }, ".config/dcg/config.toml": config() } });
    const g = await runOnce(gone);
    expect({ result: g.result, reason: g.reason }).toEqual({
      result: "skipped",
      reason: `~/.config/dcg/history.db has no commands table (dcg has not written history there yet), and no decision log at ~/${LOG}`,
    });
  });

  it("reads variants: an older history schema, unknown columns and fields, optional keys absent, another machine", async () => {
    // History schema v3 had no rule_id column; a newer dcg may add columns. The log gains keys dcg
    // may add, and keeps only the required ones on some lines.
    const v3 = historyDb
      .replace("    rule_id TEXT,\n", "")
      .replace(/CREATE INDEX IF NOT EXISTS idx_commands_rule_id[^\n]*\n/, "")
      .replaceAll(", rule_id, eval_duration_us", ", eval_duration_us")
      .replace(/, '(core\.[a-z]+:[a-z-]+)', (\d+, NULL\);)/g, ", $2")
      .replace(/, NULL, (\d+, NULL\);)/g, ", $1")
      .concat(
        "\nALTER TABLE commands ADD COLUMN risk_score REAL;\nINSERT INTO commands (timestamp, agent_type, working_dir, command, command_hash, outcome, pack_id, pattern_name, session_id, exit_code, hostname, risk_score) VALUES ('2026-08-20T15:09:00.000Z', 'codex', '/srv/app', 'git clean -fd', 'h1', 'deny', 'core.git', 'clean-force', 's-1', 1, 'sparrow', 0.7);\n",
      );
    const extraLog =
      lines
        .slice(0, 2)
        .map((l) => l.replace("{", '{"schema":2,"severity":"high",'))
        .join("\n") +
      '\n{"timestamp":"2026-08-20T16:00:00Z","decision":"allow","mode":"deny","command":"ls","budget_skip":true,"allowlist_layer":"project"}\n' +
      '{"timestamp":"2026-08-20T16:00:01Z","decision":"log","mode":"log","command":"[REDACTED]"}\n';
    const { machine, store, collector } = await setup({
      id: "sparrow",
      home: { ".config/dcg/history.db": { sqlite: v3 }, ".config/dcg/config.toml": config(), [LOG]: extraLog },
    });
    const r = await runOnce({ machine, store, collector });
    expect({ result: r.result, error: r.error, warnings: r.warnings, rows: r.rowsByTable }).toEqual({ result: "ok", error: undefined, warnings: [], rows: { dcg_events: 13 } });
    expect(
      await store.query("SELECT machine_id, decision, rule_id, cwd, session_id, exit_code, hostname, agent_type FROM dcg_events WHERE history_id IN (3, 9) ORDER BY history_id"),
    ).toEqual([
      {
        machine_id: "sparrow",
        decision: "deny",
        rule_id: "core.filesystem:rm-rf-general",
        cwd: "/data/projects/frankentui",
        session_id: null,
        exit_code: null,
        hostname: null,
        agent_type: "claude_code",
      },
      { machine_id: "sparrow", decision: "deny", rule_id: "core.git:clean-force", cwd: "/srv/app", session_id: "s-1", exit_code: 1, hostname: "sparrow", agent_type: "codex" },
    ]);
    expect(
      await store.query("SELECT decision, mode, rule_id, severity, budget_skip, allowlist_layer, command_hash FROM dcg_events WHERE origin = 'decision_log' ORDER BY ts"),
    ).toEqual([
      { decision: "warn", mode: "warn", rule_id: "core.git:stash-drop", severity: "high", budget_skip: null, allowlist_layer: null, command_hash: commandHash("git stash drop") },
      {
        decision: "deny",
        mode: "deny",
        rule_id: "core.filesystem:rm-rf-general",
        severity: "high",
        budget_skip: null,
        allowlist_layer: null,
        command_hash: commandHash("rm -rf node_modules dist"),
      },
      { decision: "allow", mode: "deny", rule_id: null, severity: null, budget_skip: true, allowlist_layer: "project", command_hash: commandHash("ls") },
      { decision: "log", mode: "log", rule_id: null, severity: null, budget_skip: null, allowlist_layer: null, command_hash: commandHash("[REDACTED]") },
    ]);
  });

  it("reads `dcg history export --format jsonl` lines too, as the same events as the database", async () => {
    const { machine, store, collector } = await setup({
      home: { ".config/dcg/history.db": { sqlite: historyDb }, "export.jsonl": historyExport },
      paths: { "dcg.log": "~/export.jsonl" },
    });
    const r = await runOnce({ machine, store, collector });
    // 34 exported commands, 8 of them the database's own rows.
    expect({ result: r.result, warnings: r.warnings, rows: r.rowsByTable }).toEqual({ result: "ok", warnings: [], rows: { dcg_events: 34 } });
    expect(await store.query("SELECT decision, allowlist_layer, cwd FROM dcg_events WHERE ts = '2026-08-20 14:30:57.325'")).toEqual([
      { decision: "allow", allowlist_layer: "project", cwd: "/data/projects/beads_rust" },
    ]);
  });

  it("adds exactly the appended lines, and waits for a line being written", async () => {
    const { machine, store, collector } = await setup({ home: { ".config/dcg/config.toml": config(), [LOG]: lines.slice(0, 10).join("\n") + "\n" } });
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ dcg_events: 10 });
    machine.appendFile(LOG, lines.slice(10, 13).join("\n") + "\n" + lines[13]!.slice(0, 40));
    const r = await runOnce({ machine, store, collector });
    expect({ rows: r.rowsByTable, warnings: r.warnings }).toEqual({ rows: { dcg_events: 3 }, warnings: [] });
    machine.appendFile(LOG, lines[13]!.slice(40) + "\n");
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ dcg_events: 1 });
    expect((await runOnce({ machine, store, collector })).rows).toBe(0);
    expect(await count(store)).toBe(14);
  });

  it("loses and duplicates nothing when the log is rotated, even with lines appended to the old file first", async () => {
    const { machine, store, collector } = await setup({ home: { ".config/dcg/config.toml": config(), [LOG]: lines.slice(0, 6).join("\n") + "\n" } });
    await runOnce({ machine, store, collector });
    machine.appendFile(LOG, lines.slice(6, 9).join("\n") + "\n"); // written before the rotation, never read
    machine.rotateFile(LOG, lines.slice(9, 12).join("\n") + "\n");
    const r = await runOnce({ machine, store, collector });
    expect(r.rowsByTable).toEqual({ dcg_events: 6 });
    expect(r.warnings).toEqual([expect.stringContaining("was rotated")]);
    machine.appendFile(LOG, lines.slice(12).join("\n") + "\n");
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ dcg_events: 5 });
    expect(await count(store)).toBe(17);
  });

  it("starts over safely when the log is truncated in place, reading a copytruncate copy from where it stopped", async () => {
    const { machine, store, collector } = await setup({ home: { ".config/dcg/config.toml": config(), [LOG]: lines.slice(0, 8).join("\n") + "\n" } });
    await runOnce({ machine, store, collector });
    machine.appendFile(LOG, lines.slice(8, 10).join("\n") + "\n");
    // copytruncate: copy aside, then empty the file in place (same inode) and go on writing.
    const file = join(machine.home, LOG);
    copyFileSync(file, `${file}.1`);
    writeFileSync(file, lines[10] + "\n");
    const r = await runOnce({ machine, store, collector });
    expect(r.rowsByTable).toEqual({ dcg_events: 3 });
    expect(r.warnings).toEqual([expect.stringContaining("truncated")]);
    writeFileSync(`${file}.1`, "");
    machine.appendFile(LOG, lines.slice(11, 13).join("\n") + "\n");
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ dcg_events: 2 });
    // A plain truncation (no copy) re-reads the file from 0: nothing is added twice.
    writeFileSync(file, lines.slice(10, 12).join("\n") + "\n");
    const again = await runOnce({ machine, store, collector });
    expect({ rows: again.rows, warnings: again.warnings }).toEqual({ rows: 0, warnings: [expect.stringContaining("truncated")] });
    expect(await count(store)).toBe(13);
  });

  it("reads the history database incrementally and at most max_rows a run", async () => {
    const { machine, store, collector } = await setup({ home: { ".config/dcg/history.db": { sqlite: historyDb } } });
    const rows: number[] = [];
    for (let i = 0; i < 4; i++) rows.push((await runOnce({ machine, store, collector, limits: { maxRows: 3 } })).rows);
    expect(rows).toEqual([3, 3, 2, 0]);
    const db = new Database(join(machine.home, ".config/dcg/history.db"));
    db.exec(
      "INSERT INTO commands (timestamp, agent_type, working_dir, command, command_hash, outcome) VALUES ('2026-08-20T15:09:09.009Z', 'claude_code', '/x', 'echo hi', 'abc', 'allow')",
    );
    db.close();
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ dcg_events: 1 });
    expect(await count(store)).toBe(9);
  });

  it("stores an evaluation once when the log is read before the database holds it", async () => {
    const { machine, store, collector } = await setup({ home: { ".config/dcg/config.toml": config(), [LOG]: decisionLog } });
    await runOnce({ machine, store, collector });
    machine.writeFile(".config/dcg/history.db", { sqlite: historyDb });
    const r = await runOnce({ machine, store, collector });
    expect(r.rowsByTable).toEqual({ dcg_events: 5 }); // the 5 allows; the 3 denies/warns were in the log
    expect(await count(store)).toBe(22);
  });

  it("keeps a command repeated in one second when the repeat arrives in a later poll, and adds nothing when the bytes are read again", async () => {
    const deny = (command: string, ts = "2026-08-20T16:00:00Z") =>
      `${JSON.stringify({ timestamp: ts, decision: "deny", mode: "deny", command, pack_id: "core.filesystem", pattern_name: "rm-rf-general" })}\n`;
    const { machine, store, collector } = await setup({ home: { ".config/dcg/config.toml": config(), [LOG]: deny("rm -rf /a") + deny("rm -rf /b") } });
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ dcg_events: 2 });
    // The same command again in the same second, written after the first poll: a second evaluation.
    machine.appendFile(LOG, deny("rm -rf /a") + deny("rm -rf /a"));
    const second = await runOnce({ machine, store, collector });
    expect({ rows: second.rowsByTable, warnings: second.warnings }).toEqual({ rows: { dcg_events: 2 }, warnings: [] });
    expect(await store.query("SELECT count(*)::INTEGER AS n FROM dcg_events WHERE command_hash = $1".replace("$1", `'${commandHash("rm -rf /a")}'`))).toEqual([{ n: 3 }]);
    expect((await runOnce({ machine, store, collector })).rows).toBe(0);
    // Read again from the start (the cursor lost, or the file truncated and rewritten with the same
    // lines): the same keys, nothing added.
    await store.run("DELETE FROM ingestion_cursors");
    expect((await runOnce({ machine, store, collector })).rows).toBe(0);
    // And one poll reading all four lines at once gives the same four keys as the two polls did.
    const once = await setup({ home: { ".config/dcg/config.toml": config(), [LOG]: deny("rm -rf /a") + deny("rm -rf /b") + deny("rm -rf /a") + deny("rm -rf /a") } });
    await runOnce(once);
    const keys = async (st: Store) => (await st.query<{ k: string }>("SELECT event_key AS k FROM dcg_events ORDER BY 1")).map((r) => r.k);
    expect(await keys(once.store)).toEqual(await keys(store));
    expect(await count(store)).toBe(4);
  });

  it("keeps a repeat in the history database that a later poll reads", async () => {
    const { machine, store, collector } = await setup({ home: { ".config/dcg/history.db": { sqlite: historyDb } } });
    expect((await runOnce({ machine, store, collector })).rows).toBe(8);
    const db = new Database(join(machine.home, ".config/dcg/history.db"));
    // Row 8 again (same command, same second, 0.2 s later), then another evaluation of it.
    db.exec(
      "INSERT INTO commands (timestamp, agent_type, working_dir, command, command_hash, outcome) SELECT substr(timestamp, 1, 20) || '999Z', agent_type, working_dir, command, command_hash, outcome FROM commands WHERE id = 8",
    );
    db.exec(
      "INSERT INTO commands (timestamp, agent_type, working_dir, command, command_hash, outcome) SELECT substr(timestamp, 1, 20) || '999Z', agent_type, working_dir, command, command_hash, outcome FROM commands WHERE id = 8",
    );
    db.close();
    const r = await runOnce({ machine, store, collector, limits: { maxRows: 1 } });
    expect({ rows: r.rows, warnings: r.warnings }).toEqual({ rows: 1, warnings: [] });
    expect((await runOnce({ machine, store, collector })).rows).toBe(1);
    expect((await runOnce({ machine, store, collector })).rows).toBe(0);
    expect(await count(store)).toBe(10);
  });

  it("stores the good lines and moves on past a line with a lone surrogate escape (as Python's json.dumps writes it)", async () => {
    const bad = '{"timestamp":"2026-08-20T16:00:00Z","decision":"deny","mode":"deny","command":"rm -rf /tmp/\\\\udc80x/\\udc80","reason":"\\udc80\\ud800"}\n';
    const { machine, store, collector } = await setup({ home: { ".config/dcg/config.toml": config(), [LOG]: bad + lines.slice(0, 3).join("\n") + "\n" } });
    const r = await runOnce({ machine, store, collector });
    expect({ result: r.result, error: r.error, rows: r.rowsByTable }).toEqual({ result: "ok", error: undefined, rows: { dcg_events: 4 } });
    expect(r.warnings).toEqual(["dcg_events.reason: lone UTF-16 surrogates replaced by U+FFFD (row 1)", "dcg_events.raw_json: lone UTF-16 surrogates replaced by U+FFFD (row 1)"]);
    const [row] = await store.query<{ reason: string; raw: string }>("SELECT reason, raw_json AS raw FROM dcg_events WHERE ts = '2026-08-20 16:00:00'");
    expect(row!.reason).toBe("\ufffd\ufffd");
    expect(JSON.parse(row!.raw).command).toBe("rm -rf /tmp/\\udc80x/\ufffd");
    machine.appendFile(LOG, lines.slice(3, 5).join("\n") + "\n");
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ dcg_events: 2 });
    expect(await count(store)).toBe(6);
  });

  it("tails the log where [logging] file points, and the database where [history] database_path points", async () => {
    const { machine, store, collector } = await setup({
      home: {
        ".config/dcg/config.toml": `[history]\nenabled = true\ndatabase_path = "dcg/h.db"\n\n[logging]\nenabled = true\nformat = "json"\nfile = "logs/dcg.jsonl"\n`,
        "dcg/h.db": { sqlite: historyDb },
        "logs/dcg.jsonl": decisionLog,
      },
    });
    expect((await runOnce({ machine, store, collector })).rowsByTable).toEqual({ dcg_events: 22 });
    const cursors = await store.query<{ cursor_key: string; cursor_value: string }>("SELECT cursor_key, cursor_value FROM ingestion_cursors WHERE source = 'dcg' ORDER BY 1");
    expect(cursors.map((c) => [c.cursor_key, JSON.parse(c.cursor_value)])).toEqual([
      ["history", { kind: "pk", id: 8 }],
      ["log", { kind: "file_offset", path: "~/logs/dcg.jsonl", inode: expect.any(Number), offset: Buffer.byteLength(decisionLog) }],
    ]);
  });
});
