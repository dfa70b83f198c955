import { afterAll, describe, expect, it } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import { dcgSection } from "../../plugins/dcg/plugin.ts";
import { mailSection, reservationsSection } from "../../plugins/mcp_agent_mail/plugin.ts";

const mailSections = [dcgSection, mailSection, reservationsSection];
import { loadMachineSections } from "../../lib/robot/machine.ts";
import { createFakeMachine, createTestStore, runOnce } from "../../lib/testkit.ts";
import { dcg } from "../../plugins/dcg/index.ts";
import { mcpAgentMail } from "../../plugins/mcp_agent_mail/index.ts";

// The machine view's dcg, mail and reservation sections, over a store the real collectors filled
// from the real fixtures (test/fixtures/dcg, test/fixtures/mcp_agent_mail).
const fx = (p: string) => readFileSync(join(import.meta.dir, "../fixtures", p), "utf8");
const MAILBOX = ".mcp_agent_mail_git_mailbox_repo/storage.sqlite3";

describe("robot machine: dcg, mail and file reservation sections", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });

  const fill = async () => {
    const mail = mcpAgentMail();
    const guard = dcg();
    const machine = createFakeMachine({
      id: "orko",
      home: {
        [MAILBOX]: { sqlite: fx("mcp_agent_mail/storage.sqlite3.sql") },
        ".config/dcg/history.db": { sqlite: fx("dcg/history-db.sql") },
        ".config/dcg/config.toml": '[logging]\nenabled = true\nformat = "json"\nfile = "~/.local/share/dcg/decisions.jsonl"\n',
        ".local/share/dcg/decisions.jsonl": fx("dcg/decision-log.jsonl"),
      },
    });
    const store = await createTestStore([mail, guard]);
    cleanup.push(
      () => machine.close(),
      () => store.close(),
    );
    const clock = createFixedClock("2026-08-20T15:10:00Z");
    for (const c of [mail, guard]) expect((await runOnce({ store, collector: c, machine, clock })).result).toBe("ok");
    return { store, machine, mail, clock };
  };

  it("reports the last 24 h of dcg denies with the top rules, the mail backlog and the active reservations", async () => {
    const { store } = await fill();
    const at = "2026-08-20T16:00:00.000Z";
    const view = await loadMachineSections(mailSections, { store, machineId: "orko", at });
    expect(Object.keys(view)).toEqual(["dcg", "mail", "file_reservations"]);
    expect(view.dcg).toEqual({
      window_hours: 24,
      denies: 14,
      warns: 3,
      last_deny_at: "2026-08-20T15:05:48.460Z",
      top_rules: [
        { rule_id: "core.git:reset-hard", pack_id: "core.git", denies: 3, last_at: "2026-08-20T15:05:48.460Z" },
        { rule_id: "core.filesystem:rm-rf-general", pack_id: "core.filesystem", denies: 2, last_at: "2026-08-20T14:56:57.855Z" },
        { rule_id: "containers.docker:system-prune", pack_id: "containers.docker", denies: 1, last_at: "2026-08-20T13:39:31.000Z" },
        { rule_id: "core.filesystem:rm-rf-root-home", pack_id: "core.filesystem", denies: 1, last_at: "2026-08-20T11:56:59.000Z" },
        { rule_id: "core.git:branch-force-delete", pack_id: "core.git", denies: 1, last_at: "2026-08-20T13:20:14.000Z" },
      ],
    });
    const mail = view.mail as { urgent_unread: { count: number; items: unknown[] }; ack_required_unacked: { count: number; items: Record<string, unknown>[] } };
    // Message 6 (urgent) was read by both recipients; 3, 6 and 10 ask for an ack: 1 + 2 + 3 deliveries still owe one.
    expect(mail.urgent_unread).toEqual({ count: 0, items: [] });
    expect(mail.ack_required_unacked.count).toBe(6);
    expect(mail.ack_required_unacked.items.map((i) => [i.message_id, i.recipient, i.kind])).toEqual([
      [3, "BlueLake", "cc"],
      [6, "GreenCastle", "to"],
      [6, "RedStone", "cc"],
      [10, "AmberRiver", "to"],
      [10, "BlueLake", "to"],
      [10, "RedStone", "to"],
    ]);
    expect(mail.ack_required_unacked.items[0]).toEqual({
      project_id: "data-projects-vibe-cockpit",
      message_id: 3,
      subject: "[vc-9xr] mcp_mail schema differs between Python and Rust",
      sender: "RedStone",
      recipient: "BlueLake",
      kind: "cc",
      importance: "high",
      ack_required: true,
      thread_id: "vc-9xr",
      created_ts: "2026-08-20T15:07:30.680Z",
      age_s: 3149,
      read_ts: null,
      ack_ts: null,
    });
    expect(view.file_reservations).toEqual({
      active_count: 2,
      exclusive_count: 2,
      expired_unreleased_count: 2,
      active: [
        {
          project_id: "data-projects-vibe-cockpit",
          reservation_id: 2,
          path_pattern: "crates/vc_tui/src/panes/accounts.rs",
          holder: "BlueLake",
          exclusive: true,
          reason: "vc-7ab",
          created_ts: "2026-08-20T15:08:50.766Z",
          expires_ts: "2026-08-20T16:07:40.766Z",
          expires_in_s: 460,
        },
        {
          project_id: "data-projects-vibe-cockpit",
          reservation_id: 6,
          path_pattern: "docs/fixtures/**",
          holder: "GreenCastle",
          exclusive: true,
          reason: "vc-4kq",
          created_ts: "2026-08-20T15:09:45.909Z",
          expires_ts: "2026-08-20T17:09:30.909Z",
          expires_in_s: 4170,
        },
      ],
    });
  });

  it("follows a delivery's state over time, and reads as of the instant asked", async () => {
    const { store, machine, mail, clock } = await fill();
    // A new urgent message, unread; then read and acknowledged, and the reservation released.
    const write = (text: string) => {
      const db = new Database(join(machine.home, MAILBOX));
      db.exec(text);
      db.close();
    };
    write(`INSERT INTO messages (id, project_id, sender_id, subject, body_md, importance, ack_required, created_ts, recipients_json)
             VALUES (11, 1, 2, 'prod is down', 'help', 'urgent', 1, 1787238660000000, '{"to":["GreenCastle"],"cc":[],"bcc":[]}');
           INSERT INTO message_recipients (message_id, agent_id, kind) VALUES (11, 1, 'to');`);
    clock.set(new Date("2026-08-20T15:12:00Z"));
    await runOnce({ store, collector: mail, machine, clock });
    write(`UPDATE message_recipients SET read_ts = 1787238780000000, ack_ts = 1787238790000000 WHERE message_id = 11;
           INSERT INTO file_reservation_releases (reservation_id, released_ts) VALUES (2, 1787238795000000);`);
    clock.set(new Date("2026-08-20T15:14:00Z"));
    await runOnce({ store, collector: mail, machine, clock });

    const before = await loadMachineSections(mailSections, { store, machineId: "orko", at: "2026-08-20T15:12:30.000Z" });
    const m1 = before.mail as { urgent_unread: { count: number; items: Record<string, unknown>[] }; ack_required_unacked: { count: number } };
    expect(m1.urgent_unread.count).toBe(1);
    expect(m1.urgent_unread.items[0]).toMatchObject({ message_id: 11, subject: "prod is down", sender: "BlueLake", recipient: "GreenCastle", age_s: 90 });
    expect(m1.ack_required_unacked.count).toBe(7);
    expect((before.file_reservations as { active_count: number }).active_count).toBe(3);

    const after = await loadMachineSections(mailSections, { store, machineId: "orko", at: "2026-08-20T15:14:00.000Z" });
    const m2 = after.mail as { urgent_unread: { count: number }; ack_required_unacked: { count: number } };
    expect([m2.urgent_unread.count, m2.ack_required_unacked.count]).toEqual([0, 6]);
    expect((after.file_reservations as { active: { reservation_id: number }[] }).active.map((r) => r.reservation_id)).toEqual([5, 6]);
  });

  it("reads null for a machine without such data, and zero denies outside the window", async () => {
    const { store } = await fill();
    expect(await loadMachineSections(mailSections, { store, machineId: "elsewhere", at: "2026-08-20T16:00:00.000Z" })).toEqual({ dcg: null, mail: null, file_reservations: null });
    const later = await loadMachineSections(mailSections, { store, machineId: "orko", at: "2026-08-23T00:00:00.000Z" });
    expect(later.dcg).toEqual({ window_hours: 24, denies: 0, warns: 0, last_deny_at: null, top_rules: [] });
  });
});
