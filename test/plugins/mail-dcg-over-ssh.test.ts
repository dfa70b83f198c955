// The mcp_agent_mail and dcg collectors, unchanged, on a machine reached over SSH (a real sshd on
// 127.0.0.1): SQLite files queried with the remote sqlite3, the decision log tailed through the
// connection, the same rows as locally.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { Database } from "bun:sqlite";
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestStore, runOnce } from "../../lib/testkit.ts";
import { dcg } from "../../plugins/dcg/index.ts";
import { mcpAgentMail } from "../../plugins/mcp_agent_mail/index.ts";
import { SSH_TEST_HOME, useSshMachine } from "../helpers/sshd.ts";

setDefaultTimeout(60_000); // a real sshd

const fx = (path: string) => readFileSync(join(import.meta.dir, "../fixtures", path), "utf8");
const remoteDir = join(SSH_TEST_HOME, `mail-dcg-${process.pid}`);
const { overSsh } = useSshMachine(remoteDir);

const sqliteFile = (name: string, sqlText: string) => {
  const file = join(remoteDir, name);
  const db = new Database(file);
  db.exec(sqlText);
  db.close();
  chmodSync(file, 0o644);
  return file;
};

describe("over SSH", () => {
  it("mcp_agent_mail reads Rust and Python mailboxes with the remote sqlite3", async () => {
    for (const [name, fixture] of [
      ["rust.sqlite3", "mcp_agent_mail/storage.sqlite3.sql"],
      ["python.sqlite3", "mcp_agent_mail/storage.sqlite3.python-legacy.sql"],
    ] as const) {
      const file = sqliteFile(name, fx(fixture));
      const c = mcpAgentMail();
      await using store = await createTestStore([c]);
      const machine = overSsh({ "mcp_agent_mail.db": file });
      const run = await runOnce({ store, collector: c, machine });
      expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { mail_messages: 10, mail_recipients: 18, mail_file_reservations: 6 } });
      expect(await store.query("SELECT message_id, created_ts, importance, ack_required FROM mail_messages WHERE message_id = 6")).toEqual([
        { message_id: 6, created_ts: name === "rust.sqlite3" ? "2026-08-20T15:08:55.389Z" : "2026-08-20T15:08:54.234Z", importance: "urgent", ack_required: true },
      ]);
      expect((await runOnce({ store, collector: c, machine })).rows).toBe(0);
    }
  });

  it("dcg reads the history database and tails the decision log on the remote machine", async () => {
    const history = sqliteFile("history.db", fx("dcg/history-db.sql"));
    const log = join(remoteDir, "decisions.jsonl");
    const lines = fx("dcg/decision-log.jsonl").split("\n").filter(Boolean);
    writeFileSync(log, lines.slice(0, 12).join("\n") + "\n");
    chmodSync(log, 0o644);
    const c = dcg();
    await using store = await createTestStore([c]);
    const machine = overSsh({ "dcg.history_db": history, "dcg.log": log, "dcg.config": join(remoteDir, "no-config.toml") });
    const run = await runOnce({ store, collector: c, machine });
    expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { dcg_events: 20 } });
    appendFileSync(log, lines.slice(12).join("\n") + "\n");
    const more = await runOnce({ store, collector: c, machine });
    expect(more).toMatchObject({ result: "ok", warnings: [], rowsByTable: { dcg_events: 2 } }); // 3 of the 5 are the database's
    expect((await store.query<{ n: number }>("SELECT count(*)::INTEGER AS n FROM dcg_events"))[0]!.n).toBe(22);
  });
});
