// The kill -9 loop (issue 13, "the suite, kept"): `vc up` polls a dcg decision log and an
// mcp_agent_mail database every second while both grow — dcg lines with commands repeated in the
// same second, mail messages with their recipients — and is killed with SIGKILL at random moments
// N times, restarted each time. At the end one clean `vc collect --once` catches up, and the store
// is compared with what was written: rows expected / stored / duplicated / lost, and whether the
// store opened every time. Targets: stored = expected, duplicated = 0, lost = 0, opened every time.
//
// `run({ runs })` returns the figures (runs = kills, default 20); `bun test/bench/reliability/crash.ts [N]` prints them.
import { Database } from "bun:sqlite";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../../lib/store/store.ts";
import { pluginMigrations } from "../../../lib/cockpit.ts";
import { dcg } from "../../../plugins/dcg/index.ts";
import { commandHash } from "../../../plugins/dcg/parse.ts";
import { mcpAgentMail } from "../../../plugins/mcp_agent_mail/index.ts";
import { isolatedEnv, repoRoot, vc, vcSpawn } from "../../helpers/cli.ts";
import { lineWaiter } from "../../helpers/dcg-watch.ts";
import type { Figure } from "./_figure.ts";

export type { Figure };

const MAILBOX = ".mcp_agent_mail_git_mailbox_repo/storage.sqlite3";
const LOG = ".local/share/dcg/decisions.jsonl";

/** A fake HOME whose dcg writes a JSON decision log and whose agents share a mailbox; a config polling both every second. */
function setup(home: string) {
  mkdirSync(join(home, ".config/dcg"), { recursive: true });
  mkdirSync(join(home, ".local/share/dcg"), { recursive: true });
  writeFileSync(join(home, ".config/dcg/config.toml"), `[logging]\nenabled = true\nformat = "json"\nfile = "~/${LOG}"\n`);
  writeFileSync(join(home, LOG), "");
  mkdirSync(join(home, ".mcp_agent_mail_git_mailbox_repo"), { recursive: true });
  const db = new Database(join(home, MAILBOX));
  db.exec(readFileSync(join(repoRoot, "test/fixtures/mcp_agent_mail/storage.sqlite3.sql"), "utf8"));
  db.close();
  const config = join(home, "crash.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
import { dcg } from ${JSON.stringify(join(repoRoot, "plugins/dcg/index.ts"))};
import { mcpAgentMail } from ${JSON.stringify(join(repoRoot, "plugins/mcp_agent_mail/index.ts"))};
export default defineConfig({
  db: "~/crash.duckdb",
  polling: { interval_seconds: 1 },
  machines: [{ id: "here", ssh: "local" }],
  collectors: [dcg(), mcpAgentMail()],
  rules: [],
});
`,
  );
  return { config, log: join(home, LOG), mailbox: join(home, MAILBOX), db: join(home, "crash.duckdb") };
}

/** Writes what the fleet would while vc runs: dcg lines (a share of them the same command again in the same second) and mail. */
function startWriter(paths: { log: string; mailbox: string }) {
  const lines = new Map<string, number>(); // `${second}|${command}` → lines written
  let seq = 0;
  let last: { ts: string; command: string } | null = null;
  const mail = new Database(paths.mailbox);
  mail.exec("PRAGMA busy_timeout = 2000");
  const addMessage = mail.prepare(
    "INSERT INTO messages (project_id, sender_id, thread_id, subject, body_md, importance, ack_required, created_ts, recipients_json, attachments) VALUES (1, 1, 'crash', ?1, 'body', 'normal', 0, ?2, '{\"to\":[\"BlueLake\",\"RedStone\"],\"cc\":[],\"bcc\":[]}', '[]')",
  );
  const addRecipient = mail.prepare("INSERT INTO message_recipients (message_id, agent_id, kind) VALUES (?1, ?2, 'to')");
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const ts = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const out: string[] = [];
      for (let i = 0, n = 1 + Math.floor(Math.random() * 4); i < n; i++) {
        // A third of the lines repeat the last command in the same second: two evaluations, two events.
        const command: string = last && last.ts === ts && Math.random() < 0.35 ? last.command : `rm -rf /tmp/crash-${seq++}`;
        last = { ts, command };
        out.push(`${JSON.stringify({ timestamp: ts, decision: "deny", mode: "deny", command, pack_id: "core.filesystem", pattern_name: "rm-rf-general" })}\n`);
        lines.set(`${ts}|${command}`, (lines.get(`${ts}|${command}`) ?? 0) + 1);
      }
      appendFileSync(paths.log, out.join(""));
      if (Math.random() < 0.4) {
        try {
          mail.transaction(() => {
            const id = Number(addMessage.run(`crash ${seq}`, Date.now() * 1000).lastInsertRowid);
            addRecipient.run(id, 2);
            addRecipient.run(id, 3);
          })();
        } catch {
          // the mailbox was busy for 2 s: the next one
        }
      }
      await Bun.sleep(40 + Math.random() * 120);
    }
  })();
  return {
    lines,
    async stop() {
      stopped = true;
      await done;
      mail.close();
    },
  };
}

/** What the store holds against what was written. */
async function tally(paths: { db: string; mailbox: string }, lines: Map<string, number>) {
  const collectors = [dcg(), mcpAgentMail()];
  await using store = await openStore({ path: paths.db, readOnly: true, pluginMigrations: pluginMigrations(collectors) });
  const stored = new Map<string, number>();
  for (const r of await store.query<{ ts: string; h: string; n: number }>(
    "SELECT strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS ts, command_hash AS h, count(*)::INTEGER AS n FROM dcg_events WHERE origin = 'decision_log' GROUP BY ALL",
  )) {
    stored.set(`${r.ts}|${r.h}`, r.n);
  }
  let expected = 0;
  let lost = 0;
  let duplicated = 0;
  let kept = 0;
  const seen = new Set<string>();
  for (const [key, n] of lines) {
    const [ts, command] = [key.slice(0, key.indexOf("|")), key.slice(key.indexOf("|") + 1)];
    const k = `${ts}|${commandHash(command)}`;
    seen.add(k);
    const s = stored.get(k) ?? 0;
    expected += n;
    kept += Math.min(s, n);
    lost += Math.max(0, n - s);
    duplicated += Math.max(0, s - n);
  }
  for (const [k, s] of stored) if (!seen.has(k)) duplicated += s; // rows for lines never written
  const mail = new Database(paths.mailbox, { readonly: true });
  const [m] = mail
    .query<{ messages: number; recipients: number }, []>("SELECT (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM message_recipients) AS recipients")
    .all();
  mail.close();
  const [sm] = await store.query<{ rows: number; distinct: number }>(
    "SELECT count(*)::INTEGER AS rows, count(DISTINCT (project_id, message_id))::INTEGER AS distinct FROM mail_messages",
  );
  const [sr] = await store.query<{ rows: number; distinct: number }>(
    "SELECT count(DISTINCT (project_id, message_id, recipient, state))::INTEGER AS rows, count(DISTINCT (project_id, message_id, recipient))::INTEGER AS distinct FROM mail_recipients",
  );
  return {
    dcg: { expected, stored: kept, lost, duplicated },
    messages: { expected: m!.messages, stored: sm!.distinct, duplicated: sm!.rows - sm!.distinct },
    recipients: { expected: m!.recipients, stored: sr!.distinct },
  };
}

/**
 * The kill -9 loop: `runs` SIGKILLs of `vc up` at random moments while a dcg log and a mailbox grow.
 * @example const figures = await run({ runs: 20 })
 */
export async function run(opts: { runs?: number } = {}): Promise<Figure[]> {
  const kills = opts.runs ?? 20;
  const dir = mkdtempSync(join(tmpdir(), "vc-crash-"));
  try {
    const env = isolatedEnv(dir);
    const paths = setup(env.HOME!);
    const writer = startWriter(paths);
    let opened = 0;
    let killed = 0;
    const failures: string[] = [];
    for (let i = 0; i < kills; i++) {
      const daemon = vcSpawn(["up", "--config", paths.config], { env });
      const err = lineWaiter(daemon.stderr);
      void new Response(daemon.stdout).text();
      // Running once it says so (the store is open and migrated), or gone with a reason.
      const started = await Promise.race([err.next((l) => l.includes("vc up:")).then(() => true), daemon.exited.then(() => false), Bun.sleep(30_000).then(() => false)]);
      if (started) opened++;
      else failures.push(`start ${i + 1}: ${err.lines.join(" | ").slice(0, 300)}`);
      await Bun.sleep(100 + Math.random() * 2900); // mid-cycle, mid-transaction, or idle: wherever it is
      daemon.kill("SIGKILL");
      await daemon.exited;
      killed++;
    }
    await writer.stop();
    // One clean catch-up after the last kill: everything written is there to be read.
    let clean = 0;
    for (let i = 0; i < 5; i++) {
      const r = await vc(["collect", "--once", "--config", paths.config], { env, timeoutMs: 120_000 });
      if (r.code === 0) clean++;
      else failures.push(`collect --once: ${r.stderr.slice(0, 300)}`);
      const t = await tally(paths, writer.lines);
      if (t.dcg.stored + t.dcg.duplicated >= t.dcg.expected && t.messages.stored >= t.messages.expected && t.recipients.stored >= t.recipients.expected) break;
    }
    const t = await tally(paths, writer.lines);
    if (failures.length) console.error(failures.slice(0, 5).join("\n"));
    const eq = (name: string, value: number, want: number): Figure => ({ name, value, target: `= ${want}`, ok: value === want });
    const zero = (name: string, value: number): Figure => ({ name, value, target: "0", ok: value === 0 });
    return [
      eq("crash: SIGKILLs of vc up", killed, kills),
      eq("crash: starts where the store opened", opened + (clean > 0 ? 1 : 0), kills + 1),
      eq("crash: dcg events stored (of expected)", t.dcg.stored, t.dcg.expected),
      zero("crash: dcg events lost", t.dcg.lost),
      zero("crash: dcg events duplicated", t.dcg.duplicated),
      eq("crash: mail messages stored (of expected)", t.messages.stored, t.messages.expected),
      zero("crash: mail messages duplicated", t.messages.duplicated),
      eq("crash: mail recipients stored (of expected)", t.recipients.stored, t.recipients.expected),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const figures = await run({ runs: process.argv[2] ? Number(process.argv[2]) : undefined });
  for (const f of figures) console.log(`${f.ok ? "ok  " : "FAIL"} ${f.name}: ${f.value} (target ${f.target})`);
  process.exit(figures.every((f) => f.ok) ? 0 : 1);
}
