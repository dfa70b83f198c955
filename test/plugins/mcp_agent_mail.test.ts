import { afterAll, describe, expect, it } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import { createFakeMachine, createTestStore, runOnce, testCollector, type FakeMachine, type FakeMachineOptions } from "../../lib/testkit.ts";
import type { Store } from "../../lib/store/store.ts";
import { DEFAULT_MAILBOX, mcpAgentMail } from "../../plugins/mcp_agent_mail/index.ts";
import { mailTimeMs, mailTimeParam, recipientState } from "../../plugins/mcp_agent_mail/parse.ts";

// Real mailbox schemas (test/fixtures/mcp_agent_mail): the Rust server's storage.sqlite3 (µs
// integer times, recipients_json, file_reservation_releases) and the legacy Python server's
// (naive UTC DATETIME text, topic), each with the same sample conversation.
const fx = (name: string) => readFileSync(join(import.meta.dir, "../fixtures/mcp_agent_mail", name), "utf8");
const rust = fx("storage.sqlite3.sql");
const python = fx("storage.sqlite3.python-legacy.sql");
const MAILBOX = ".mcp_agent_mail_git_mailbox_repo/storage.sqlite3";
const mailbox = (sqlText: string): FakeMachineOptions => ({ home: { [MAILBOX]: { sqlite: sqlText } } });

testCollector({
  collector: mcpAgentMail(),
  fixtures: mailbox(rust),
  rows: { mail_messages: 10, mail_recipients: 18, mail_file_reservations: 6 },
  junk: { home: { [MAILBOX]: "\u0000\u00ffthis is no SQLite file at all\n" } },
  async check(store) {
    expect(
      await store.query("SELECT * EXCLUDE (raw_json, collected_at, source, source_version, schema_version) FROM mail_messages WHERE message_id IN (6, 8) ORDER BY message_id"),
    ).toEqual([
      {
        machine_id: "fake",
        project_id: "data-projects-vibe-cockpit",
        project_key: "/data/projects/vibe_cockpit",
        message_id: 6,
        created_ts: "2026-08-20T15:08:55.389Z",
        thread_id: "vc-7ab",
        topic: null,
        sender: "BlueLake",
        sender_id: 2,
        importance: "urgent",
        ack_required: true,
        subject: "[vc-7ab] Blocked on ntm v2 status shape",
        to_recipients_json: '["GreenCastle"]',
        recipients_json: '{"to":["GreenCastle"],"cc":["RedStone"],"bcc":[]}',
        attachments_count: 0,
        db_schema: "rust",
      },
      {
        machine_id: "fake",
        project_id: "data-projects-ntm",
        project_key: "/data/projects/ntm",
        message_id: 8,
        created_ts: "2026-08-20T15:05:00.399Z",
        thread_id: "ntm-2dd",
        topic: null,
        sender: "SilverFox",
        sender_id: 5,
        importance: "high",
        ack_required: false,
        subject: "[ntm-2dd] schema_version bump to ntm.robot.status.v2",
        to_recipients_json: '["CopperHill"]',
        recipients_json: '{"to":["CopperHill"],"cc":[],"bcc":[]}',
        attachments_count: 0,
        db_schema: "rust",
      },
    ]);
    expect(
      await store.query("SELECT message_id, recipient, agent_id, kind, state, read_ts, ack_ts FROM mail_recipients WHERE message_id IN (3, 6) ORDER BY message_id, agent_id"),
    ).toEqual([
      { message_id: 3, recipient: "GreenCastle", agent_id: 1, kind: "to", state: "read+acked", read_ts: "2026-08-20T15:07:31.054Z", ack_ts: "2026-08-20T15:07:32.944Z" },
      { message_id: 3, recipient: "BlueLake", agent_id: 2, kind: "cc", state: "unread", read_ts: null, ack_ts: null },
      { message_id: 6, recipient: "GreenCastle", agent_id: 1, kind: "to", state: "read", read_ts: "2026-08-20T15:09:00.491Z", ack_ts: null },
      { message_id: 6, recipient: "RedStone", agent_id: 3, kind: "cc", state: "read", read_ts: "2026-08-20T15:09:10.910Z", ack_ts: null },
    ]);
    expect(
      await store.query(
        "SELECT reservation_id, project_id, holder, path_pattern, exclusive, reason, created_ts, expires_ts, released_ts, state_key FROM mail_file_reservations WHERE reservation_id IN (3, 4, 5) ORDER BY reservation_id",
      ),
    ).toEqual([
      {
        reservation_id: 3,
        project_id: "data-projects-vibe-cockpit",
        holder: "RedStone",
        path_pattern: "crates/vc_collect/src/collectors/mcp_mail.rs",
        exclusive: true,
        reason: "vc-9xr",
        created_ts: "2026-08-20T15:07:32.227Z",
        expires_ts: "2026-08-20T17:05:04.227Z",
        released_ts: "2026-08-20T15:09:20.427Z",
        state_key: "1787245504227|1787238560427",
      },
      {
        reservation_id: 4,
        project_id: "data-projects-vibe-cockpit",
        holder: "AmberRiver",
        path_pattern: "README.md",
        exclusive: false,
        reason: "docs",
        created_ts: "2026-08-20T15:07:55.293Z",
        expires_ts: "2026-08-20T15:35:50.293Z",
        released_ts: "2026-08-20T15:08:02.190Z",
        state_key: "1787240150293|1787238482190",
      },
      {
        reservation_id: 5,
        project_id: "data-projects-ntm",
        holder: "SilverFox",
        path_pattern: "internal/robot/robot.go",
        exclusive: true,
        reason: "ntm-2dd",
        created_ts: "2026-08-20T15:04:50.960Z",
        expires_ts: "2026-08-20T15:59:40.960Z",
        released_ts: null,
        state_key: "1787241580960|",
      },
    ]);
    const [raw] = await store.query<{ raw_json: string }>("SELECT raw_json FROM mail_messages WHERE message_id = 1");
    expect(JSON.parse(raw!.raw_json)).toEqual({
      id: 1,
      project_id: 1,
      sender_id: 1,
      thread_id: "vc-4kq",
      subject: "[vc-4kq] Starting upstream collector fixtures",
      body_md: "Claiming vc-4kq. I'll reserve crates/vc_collect/src/collectors/** for ~2h.",
      importance: "normal",
      ack_required: 0,
      created_ts: 1787238418488240,
      recipients_json: '{"to":["BlueLake","RedStone"],"cc":["AmberRiver"],"bcc":[]}',
      attachments: "[]",
    });
  },
});

// The same contract on the legacy Python mailbox.
testCollector({
  collector: mcpAgentMail(),
  fixtures: mailbox(python),
  rows: { mail_messages: 10, mail_recipients: 18, mail_file_reservations: 6 },
  junk: mailbox("CREATE TABLE unrelated(x INTEGER); INSERT INTO unrelated VALUES (1);"),
  async check(store) {
    expect(
      await store.query(
        "SELECT message_id, created_ts, topic, sender, importance, ack_required, to_recipients_json, recipients_json, db_schema FROM mail_messages WHERE message_id IN (1, 6) ORDER BY message_id",
      ),
    ).toEqual([
      {
        message_id: 1,
        created_ts: "2026-08-20T15:06:57.229Z",
        topic: null,
        sender: "GreenCastle",
        importance: "normal",
        ack_required: false,
        to_recipients_json: '["BlueLake","RedStone"]',
        recipients_json: '{"to":["BlueLake","RedStone"],"cc":["AmberRiver"],"bcc":[]}',
        db_schema: "python",
      },
      {
        message_id: 6,
        created_ts: "2026-08-20T15:08:54.234Z",
        topic: "incident",
        sender: "BlueLake",
        importance: "urgent",
        ack_required: true,
        to_recipients_json: '["GreenCastle"]',
        recipients_json: '{"to":["GreenCastle"],"cc":["RedStone"],"bcc":[]}',
        db_schema: "python",
      },
    ]);
    expect(await store.query("SELECT recipient, state, read_ts, ack_ts FROM mail_recipients WHERE message_id = 3 ORDER BY agent_id")).toEqual([
      { recipient: "GreenCastle", state: "read+acked", read_ts: "2026-08-20T15:07:30.714Z", ack_ts: "2026-08-20T15:07:31.487Z" },
      { recipient: "BlueLake", state: "unread", read_ts: null, ack_ts: null },
    ]);
    expect(await store.query("SELECT reservation_id, expires_ts, released_ts FROM mail_file_reservations WHERE reservation_id IN (3, 6) ORDER BY reservation_id")).toEqual([
      { reservation_id: 3, expires_ts: "2026-08-20T17:05:03.721Z", released_ts: "2026-08-20T15:09:19.304Z" },
      { reservation_id: 6, expires_ts: "2026-08-20T17:09:29.648Z", released_ts: null },
    ]);
  },
});

describe("mcp_agent_mail timestamps", () => {
  it("reads Rust µs integers and Python naive UTC text to the same milliseconds", () => {
    expect(mailTimeMs(1787238418488240)).toBe(Date.parse("2026-08-20T15:06:58.488Z"));
    expect(mailTimeMs("2026-08-20 15:06:58.488240")).toBe(Date.parse("2026-08-20T15:06:58.488Z"));
    expect(mailTimeMs("2026-08-20 15:06:58")).toBe(Date.parse("2026-08-20T15:06:58Z"));
    expect(mailTimeMs("2026-08-20T15:06:58.488+00:00")).toBe(Date.parse("2026-08-20T15:06:58.488Z"));
    expect(mailTimeMs(null)).toBeNull();
    expect(mailTimeMs("yesterday")).toBeUndefined();
    expect(mailTimeParam(Date.parse("2026-08-20T15:06:58.488Z"), "rust")).toBe(1787238418488000);
    expect(mailTimeParam(Date.parse("2026-08-20T15:06:58.488Z"), "python")).toBe("2026-08-20 15:06:58.488000");
    expect([recipientState(null, null), recipientState(1, null), recipientState(null, 2), recipientState(1, 2)]).toEqual(["unread", "read", "unread+acked", "read+acked"]);
  });
});

describe("mcp_agent_mail collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });
  const setup = async (m: FakeMachineOptions, collector = mcpAgentMail()) => {
    const machine = createFakeMachine(m);
    const store = await createTestStore([collector]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    return { machine, store, collector };
  };
  /** Rows each table gained (tables that gained none left out). */
  const added = (r: { rowsByTable: Record<string, number> }) => Object.fromEntries(Object.entries(r.rowsByTable).filter(([, n]) => n > 0));
  const count = async (store: Store, table: string) => (await store.query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${table}`))[0]!.n;
  const counts = async (store: Store) => ({
    mail_messages: await count(store, "mail_messages"),
    mail_recipients: await count(store, "mail_recipients"),
    mail_file_reservations: await count(store, "mail_file_reservations"),
  });
  /** Writes to the mailbox the way the server would (the collector itself only ever reads). */
  const write = (machine: FakeMachine, text: string, path = MAILBOX) => {
    const db = new Database(join(machine.home, path));
    db.exec(text);
    db.close();
  };

  it("reads a variant mailbox: another machine, more mail, optional parts absent, unknown columns present", async () => {
    // Derived from the real Rust DDL: no release ledger (older server), extra columns and a table
    // vc does not know, a message from an agent whose row is gone, a project with no projects row.
    const variant =
      rust
        .replace(/CREATE TABLE IF NOT EXISTS file_reservation_releases[\s\S]*?\);\nCREATE INDEX IF NOT EXISTS idx_file_reservation_releases_ts[^\n]*\n/, "")
        .replace(/^INSERT INTO file_reservation_releases[^\n]*\n/gm, "") +
      `
ALTER TABLE messages ADD COLUMN priority_score REAL;
ALTER TABLE message_recipients ADD COLUMN delivered_ts INTEGER;
CREATE TABLE inbox_stats(agent_id INTEGER PRIMARY KEY, unread INTEGER);
INSERT INTO messages (id, project_id, sender_id, thread_id, subject, body_md, importance, ack_required, created_ts, recipients_json, attachments, priority_score)
  VALUES (11, 3, 99, NULL, 'orphan', 'from a deleted agent', 'urgent', 1, 1787239000000000, '{"to":["GreenCastle"]}', '[{"name":"a.png"},{"name":"b.png"}]', 0.9);
INSERT INTO message_recipients (message_id, agent_id, kind, read_ts, ack_ts, delivered_ts) VALUES (11, 1, 'to', NULL, NULL, 1787239000000001);
INSERT INTO message_recipients (message_id, agent_id, kind, read_ts, ack_ts, delivered_ts) VALUES (11, 77, 'bcc', NULL, NULL, NULL);
`;
    const { machine, store, collector } = await setup({ id: "sparrow", ...mailbox(variant) });
    const run = await runOnce({ store, collector, machine });
    expect(run.result).toBe("ok");
    expect(run.warnings).toEqual([]);
    expect(run.rowsByTable).toEqual({ mail_messages: 11, mail_recipients: 20, mail_file_reservations: 6 });
    expect(
      await store.query(
        "SELECT machine_id, project_id, project_key, sender, sender_id, thread_id, importance, ack_required, to_recipients_json, recipients_json, attachments_count FROM mail_messages WHERE message_id = 11",
      ),
    ).toEqual([
      {
        machine_id: "sparrow",
        project_id: "project#3",
        project_key: null,
        sender: "agent#99",
        sender_id: 99,
        thread_id: null,
        importance: "urgent",
        ack_required: true,
        to_recipients_json: '["GreenCastle"]',
        recipients_json: '{"to":["GreenCastle"],"cc":[],"bcc":[]}',
        attachments_count: 2,
      },
    ]);
    expect(await store.query("SELECT recipient, kind, state FROM mail_recipients WHERE message_id = 11 ORDER BY agent_id")).toEqual([
      { recipient: "GreenCastle", kind: "to", state: "unread" },
      { recipient: "agent#77", kind: "bcc", state: "unread" },
    ]);
    // Without the ledger, a reservation released only there reads as unreleased; released_ts on the row still counts.
    expect(await store.query("SELECT reservation_id, released_ts FROM mail_file_reservations WHERE reservation_id IN (3, 4) ORDER BY 1")).toEqual([
      { reservation_id: 3, released_ts: "2026-08-20T15:09:20.427Z" },
      { reservation_id: 4, released_ts: "2026-08-20T15:08:02.190Z" },
    ]);
    const [raw] = await store.query<{ raw_json: string }>("SELECT raw_json FROM mail_recipients WHERE message_id = 11 AND agent_id = 1");
    expect(JSON.parse(raw!.raw_json)).toEqual({ message_id: 11, agent_id: 1, kind: "to", read_ts: null, ack_ts: null, delivered_ts: 1787239000000001 });
  });

  it("adds exactly the new messages, reads, acks, releases and renewals, and nothing when nothing changed", async () => {
    const { machine, store, collector } = await setup(mailbox(rust));
    const clock = createFixedClock("2026-08-20T15:10:00Z");
    await runOnce({ store, collector, machine, clock });
    clock.advance(60_000);
    const idle = await runOnce({ store, collector, machine, clock });
    expect(idle.rows).toBe(0);

    write(
      machine,
      `
INSERT INTO messages (id, project_id, sender_id, thread_id, subject, body_md, importance, ack_required, created_ts, recipients_json, attachments)
  VALUES (11, 2, 6, 'ntm-3aa', 'new', 'body', 'urgent', 1, 1787238700000000, '{"to":["SilverFox"],"cc":["GreenCastle"],"bcc":[]}', '[]');
INSERT INTO message_recipients (message_id, agent_id, kind) VALUES (11, 5, 'to');
INSERT INTO message_recipients (message_id, agent_id, kind) VALUES (11, 1, 'cc');`,
    );
    clock.advance(60_000);
    expect(added(await runOnce({ store, collector, machine, clock }))).toEqual({ mail_messages: 1, mail_recipients: 2 });

    // An old delivery is read, a new one read and acked, a reservation released in the ledger, another renewed.
    write(
      machine,
      `
UPDATE message_recipients SET read_ts = 1787238760000000 WHERE message_id = 1 AND agent_id = 4;
UPDATE message_recipients SET read_ts = 1787238761000000, ack_ts = 1787238762000000 WHERE message_id = 11 AND agent_id = 5;
INSERT INTO file_reservation_releases (reservation_id, released_ts) VALUES (2, 1787238763000000);
UPDATE file_reservations SET expires_ts = 1787249370909596 WHERE id = 6;`,
    );
    clock.advance(60_000);
    const changed = await runOnce({ store, collector, machine, clock });
    expect(changed.warnings).toEqual([]);
    expect(added(changed)).toEqual({ mail_recipients: 2, mail_file_reservations: 2 });
    expect(
      await store.query(
        "SELECT message_id, recipient, state, read_ts, ack_ts FROM mail_recipients WHERE (message_id = 1 AND agent_id = 4) OR message_id = 11 ORDER BY message_id, agent_id, collected_at",
      ),
    ).toEqual([
      { message_id: 1, recipient: "AmberRiver", state: "unread", read_ts: null, ack_ts: null },
      { message_id: 1, recipient: "AmberRiver", state: "read", read_ts: "2026-08-20T15:12:40.000Z", ack_ts: null },
      { message_id: 11, recipient: "GreenCastle", state: "unread", read_ts: null, ack_ts: null },
      { message_id: 11, recipient: "SilverFox", state: "unread", read_ts: null, ack_ts: null },
      { message_id: 11, recipient: "SilverFox", state: "read+acked", read_ts: "2026-08-20T15:12:41.000Z", ack_ts: "2026-08-20T15:12:42.000Z" },
    ]);
    expect(
      await store.query("SELECT reservation_id, expires_ts, released_ts FROM mail_file_reservations WHERE reservation_id IN (2, 6) ORDER BY reservation_id, collected_at"),
    ).toEqual([
      { reservation_id: 2, expires_ts: "2026-08-20T16:07:40.766Z", released_ts: null },
      { reservation_id: 2, expires_ts: "2026-08-20T16:07:40.766Z", released_ts: "2026-08-20T15:12:43.000Z" },
      { reservation_id: 6, expires_ts: "2026-08-20T17:09:30.909Z", released_ts: null },
      { reservation_id: 6, expires_ts: "2026-08-20T18:09:30.909Z", released_ts: null },
    ]);
    clock.advance(60_000);
    expect((await runOnce({ store, collector, machine, clock })).rows).toBe(0);
  });

  it("catches a read committed late, within the overlap before its time cursor", async () => {
    const { machine, store, collector } = await setup(mailbox(rust));
    await runOnce({ store, collector, machine });
    // The newest change read was 15:09:50.261 (message 10, BlueLake): these land after that run.
    write(
      machine,
      `
UPDATE message_recipients SET read_ts = 1787238560000000 WHERE message_id = 10 AND agent_id = 3;
UPDATE message_recipients SET read_ts = 1787238000000000 WHERE message_id = 10 AND agent_id = 4;`,
    );
    const late = await runOnce({ store, collector, machine });
    expect(added(late)).toEqual({ mail_recipients: 1 });
    expect(await store.query("SELECT recipient, state, read_ts FROM mail_recipients WHERE message_id = 10 AND state = 'read' ORDER BY agent_id")).toEqual([
      { recipient: "BlueLake", state: "read", read_ts: "2026-08-20T15:09:50.261Z" },
      { recipient: "RedStone", state: "read", read_ts: "2026-08-20T15:09:20.000Z" },
    ]);
  });

  it("reads at most max_rows a run and resumes from its cursors, losing and repeating nothing", async () => {
    const { machine, store, collector } = await setup(mailbox(rust));
    const runs: number[] = [];
    for (let i = 0; i < 12; i++) {
      // A run returning more than max_rows would fail: every run here is ok.
      const r = await runOnce({ store, collector, machine, limits: { maxRows: 5 } });
      expect({ result: r.result, error: r.error }).toEqual({ result: "ok", error: undefined });
      runs.push(r.rows);
    }
    expect(runs.slice(0, 3).every((n) => n > 0)).toBe(true);
    expect(runs.slice(-3)).toEqual([0, 0, 0]);
    expect(await counts(store)).toEqual({ mail_messages: 10, mail_recipients: 18, mail_file_reservations: 6 });
    const cursors = await store.query("SELECT cursor_key, cursor_value FROM ingestion_cursors WHERE source = 'mcp_agent_mail' ORDER BY cursor_key");
    expect(cursors.map((c) => [c.cursor_key, JSON.parse(c.cursor_value as string)])).toEqual([
      ["messages", { kind: "pk", id: 10 }],
      ["recipient_changes", { kind: "timestamp", at: "2026-08-20T15:09:50.261Z" }],
      ["reservations", { kind: "pk", id: 6 }],
    ]);
  });

  it("reads a re-created mailbox from the start, keeping old and new message 1 apart", async () => {
    const { machine, store, collector } = await setup(mailbox(rust));
    await runOnce({ store, collector, machine });
    const fresh =
      rust.split("-- sample data")[0]! +
      `
INSERT INTO projects (id, slug, human_key, created_at) VALUES (1, 'data-projects-vibe-cockpit', '/data/projects/vibe_cockpit', 1790000000000000);
INSERT INTO agents (id, project_id, name, program, model, inception_ts, last_active_ts) VALUES (1, 1, 'GreenCastle', 'claude-code', 'opus-4.1', 1790000000000000, 1790000000000000);
INSERT INTO messages (id, project_id, sender_id, subject, body_md, created_ts) VALUES (1, 1, 1, 'hello again', 'new mailbox', 1790000001000000);`;
    machine.writeFile(MAILBOX, { sqlite: fresh });
    const again = await runOnce({ store, collector, machine });
    expect(again.result).toBe("ok");
    expect(again.warnings.some((w) => /re-created/.test(w))).toBe(true);
    expect(added(again)).toEqual({ mail_messages: 1 });
    expect(await store.query("SELECT message_id, subject FROM mail_messages WHERE message_id = 1 ORDER BY created_ts")).toEqual([
      { message_id: 1, subject: "[vc-4kq] Starting upstream collector fixtures" },
      { message_id: 1, subject: "hello again" },
    ]);
  });

  it("reads a new database generation from the start even when its ids have grown past the cursor", async () => {
    const { machine, store, collector } = await setup(mailbox(`${rust}\nINSERT INTO db_identity (singleton, generation_id) VALUES (0, 'a1b2');`));
    await runOnce({ store, collector, machine });
    const regrown =
      rust.split("-- sample data")[0]! +
      `
INSERT INTO db_identity (singleton, generation_id) VALUES (0, 'c3d4');
INSERT INTO projects (id, slug, human_key, created_at) VALUES (1, 'data-projects-vibe-cockpit', '/data/projects/vibe_cockpit', 1790000000000000);
INSERT INTO agents (id, project_id, name, program, model, inception_ts, last_active_ts) VALUES (1, 1, 'GreenCastle', 'claude-code', 'opus-4.1', 1790000000000000, 1790000000000000);
${Array.from({ length: 12 }, (_, i) => `INSERT INTO messages (id, project_id, sender_id, subject, body_md, created_ts) VALUES (${i + 1}, 1, 1, 'gen 2 #${i + 1}', 'b', ${1790000001000000 + i});`).join("\n")}`;
    machine.writeFile(MAILBOX, { sqlite: regrown });
    const again = await runOnce({ store, collector, machine });
    expect(again.warnings).toEqual([expect.stringContaining("generation a1b2 → c3d4")]);
    expect(added(again)).toEqual({ mail_messages: 12 });
  });

  it("finds the mailbox where vc.config.ts says, and is skipped with the reason where there is none", async () => {
    const moved = await setup({ home: { "srv/mail/storage.sqlite3": { sqlite: python } }, paths: { "mcp_agent_mail.db": "~/srv/mail/storage.sqlite3" } });
    const run = await runOnce({ store: moved.store, collector: moved.collector, machine: moved.machine });
    expect(run.rowsByTable).toEqual({ mail_messages: 10, mail_recipients: 18, mail_file_reservations: 6 });
    const none = await setup({});
    const skipped = await runOnce({ store: none.store, collector: none.collector, machine: none.machine });
    expect(skipped.result).toBe("skipped");
    expect(skipped.reason).toBe(`${DEFAULT_MAILBOX} not found on fake`);
  });

  it("reads a time no Date holds (an i64 of µs, 1e300) as no time, instead of throwing while saving its cursor (D11)", async () => {
    const { machine, store, collector } = await setup(mailbox(rust));
    write(machine, "UPDATE message_recipients SET read_ts = 9223372036854775807 WHERE message_id = 3 AND agent_id = 1; UPDATE messages SET created_ts = 1e300 WHERE id = 2;");
    const r = await runOnce({ machine, store, collector });
    expect({ result: r.result, error: r.error }).toEqual({ result: "ok", error: undefined });
    expect(r.warnings).toEqual([
      "~/.mcp_agent_mail_git_mailbox_repo/storage.sqlite3: message 2: created_ts 1e+300 is not a timestamp; skipped",
      "~/.mcp_agent_mail_git_mailbox_repo/storage.sqlite3: recipient 1 of message 2: a timestamp cannot be read; skipped",
      "~/.mcp_agent_mail_git_mailbox_repo/storage.sqlite3: recipient 1 of message 3: a timestamp cannot be read; skipped",
    ]);
    expect(r.rowsByTable).toEqual({ mail_messages: 9, mail_recipients: 16, mail_file_reservations: 6 });
    expect((await runOnce({ machine, store, collector })).result).toBe("ok");
  });

  it("is skipped, never ok, on an empty database where the server has not created its tables yet", async () => {
    const { machine, store, collector } = await setup(mailbox("PRAGMA user_version = 0;"));
    const run = await runOnce({ store, collector, machine });
    expect({ result: run.result, reason: run.reason, rows: run.rowsByTable }).toEqual({
      result: "skipped",
      reason: `${DEFAULT_MAILBOX} on fake is an empty database: mcp_agent_mail has not created its tables there yet`,
      rows: {},
    });
    // Once the server has written it (the real schema and rows), the same mailbox reads.
    machine.writeFile(MAILBOX, { sqlite: rust });
    expect((await runOnce({ store, collector, machine })).result).toBe("ok");
  });

  it("fails readably on a file that is not a mailbox", async () => {
    const { machine, store, collector } = await setup(mailbox("CREATE TABLE messages(id INTEGER);"));
    const run = await runOnce({ store, collector, machine });
    expect(run.result).toBe("failed");
    expect(run.error).toContain("is not an mcp_agent_mail mailbox");
  });
});
