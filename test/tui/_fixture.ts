// A demo fleet for the cockpit's tests: examples/demo-fleet.ts plus firing alerts, a repo and an
// urgent mail message, with terminal escape sequences planted in what collectors would hand over;
// and on node-03 what the real collectors read from the upstream tools' fixture outputs (caut,
// caam, pt, dcg, ntm, mcp_agent_mail), run through a fake machine into the same store.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createDemoFleet, type DemoFleet } from "../../examples/demo-fleet.ts";
import { createFixedClock, openStore } from "../../lib/index.ts";
import { createFakeMachine, runOnce } from "../../lib/testkit.ts";
import { caam, caut, dcg, mcpAgentMail, ntm, pt } from "../../plugins/index.ts";

/** Just after the upstream fixtures' newest records (2026-08-20 15:10 UTC). */
export const END = new Date("2026-08-20T15:15:00Z");
/** The machine that carries the real tools' data, and its repo (where dcg, ntm and mail were busy). */
export const TOOLS_MACHINE = "node-03";
export const TOOLS_REPO = "/data/projects/vibe_cockpit";
const fx = (path: string) => readFileSync(join(import.meta.dir, "../fixtures", path), "utf8");

/** Runs the real collectors on a fake machine whose tools and files print the upstream fixtures. */
async function addToolData(db: string): Promise<void> {
  const machine = createFakeMachine({
    id: TOOLS_MACHINE,
    tools: {
      caut: { "usage --json": fx("caut/usage.json") },
      caam: { "limits --format json": fx("caam/limits.format-json.json"), "status --json": fx("caam/status.json") },
      pt: { "robot plan --format json": { stdout: fx("pt/robot-plan.format-json.json"), exit: 1 } },
      ntm: { "--robot-status": fx("ntm/robot-status.json"), "list --json": fx("ntm/list.json") },
    },
    home: {
      ".local/share/caut/usage-history.sqlite": { sqlite: fx("caut/usage-history.sql") },
      ".config/dcg/history.db": { sqlite: fx("dcg/history-db.sql") },
      ".mcp_agent_mail_git_mailbox_repo/storage.sqlite3": { sqlite: fx("mcp_agent_mail/storage.sqlite3.sql") },
    },
  });
  const store = await openStore({ path: db });
  try {
    for (const collector of [caut(), caam(), pt(), dcg(), ntm(), mcpAgentMail()]) {
      const run = await runOnce({ store, collector, machine, clock: createFixedClock(END) });
      if (run.result !== "ok") throw new Error(`fixture: ${collector.name} on ${TOOLS_MACHINE}: ${run.result} ${run.error ?? run.reason ?? ""}`);
    }
  } finally {
    await store.close();
    machine.close();
  }
}
/** Planted in a repo name, an alert message and a mail subject: must never reach a screen raw. */
export const PLANT = "\x1b[2J\x1b]0;pwned\x07\x1b[31mEVIL";

const at = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");
const esc = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Writes the fleet under `dir` (machines: how many) and returns it. */
export async function createTuiFleet(dir: string, o: { machines?: number; alerts?: number; days?: number } = {}): Promise<DemoFleet> {
  const fleet = await createDemoFleet({ out: join(dir, "fleet"), machines: o.machines ?? 20, days: o.days ?? 1, end: END });
  const store = await openStore({ path: fleet.db });
  const now = at(END);
  const t0 = at(new Date(END.getTime() - 30 * 60_000));
  const n = o.alerts ?? 4;
  const sev = ["critical", "high", "medium", "low"];
  await store.transaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      const m = fleet.machines[i % fleet.machines.length]!;
      const planted = i === 1;
      await tx.run(`INSERT INTO alerts(alert_id, rule_id, alert_type, machine_id, labels_json, severity, title, state, first_seen_at, last_seen_at, pending_since, fired_at,
          value_json, message, expected, received, suggested_actions_json, flapping, transitions_json, updated_at)
        VALUES ('rule${i % 7}:${i}', 'rule${i % 7}', 'rule${i % 7}', '${m}', '{"machine_id":"${m}"}', '${sev[i % 4]}', ${esc(planted ? `Title ${PLANT}` : `Alert number ${i}`)},
          'firing', TIMESTAMP '${t0}', TIMESTAMP '${now}', TIMESTAMP '${t0}', TIMESTAMP '${t0}', '${i}', ${esc(planted ? `message ${PLANT}` : `${m} has problem ${i}`)}, '>90', '${90 + (i % 10)}',
          '[{"title":"Look at it","command":"vc robot machine ${m}"}]', false, '[]', TIMESTAMP '${now}')`);
    }
    await tx.run(`INSERT INTO repo_status_snapshots VALUES ('node-01', TIMESTAMP '${now}', 'r1', ${esc(`repo${PLANT}`)}, '/src/evil', 'ahead', 'main', true, 2, 0, false, TIMESTAMP '${t0}', 'ru', '1', 1, NULL)`);
    await tx.run(`INSERT INTO repo_status_snapshots VALUES ('node-02', TIMESTAMP '${now}', 'r2', 'clean-repo', '/src/clean', 'current', 'main', false, 0, 0, false, TIMESTAMP '${t0}', 'ru', '1', 1, NULL)`);
    await tx.run(`INSERT INTO beads_triage_snapshots (machine_id, collected_at, repo_id, ready_count, recommendations_json, blockers_json)
      VALUES ('node-01', TIMESTAMP '${now}', 'r1', 2, ${esc(JSON.stringify([{ id: "vc-1", title: `Pick ${PLANT}`, score: 0.9 }, { id: "vc-2", title: "Second pick" }]))},
        ${esc(JSON.stringify([{ id: "vc-3", title: "Blocker to clear", unblocks_count: 3 }]))})`);
    await tx.run(`INSERT INTO rano_events (machine_id, collected_at, event_key, ts, event, provider, domain)
      VALUES ('node-01', TIMESTAMP '${now}', 'k1', TIMESTAMP '${t0}', 'connect', NULL, ${esc(`evil${PLANT}.example`)}),
             ('node-01', TIMESTAMP '${now}', 'k2', TIMESTAMP '${t0}', 'connect', 'anthropic', 'api.anthropic.com'),
             ('node-01', TIMESTAMP '${now}', 'k3', TIMESTAMP '${t0}' + INTERVAL 1 SECOND, 'connect', 'anthropic', 'api.anthropic.com')`);
    await tx.run(`INSERT INTO mail_messages (machine_id, collected_at, project_id, message_id, created_ts, sender, importance, ack_required, subject)
      VALUES ('node-07', TIMESTAMP '${now}', 'p1', 1, TIMESTAMP '${t0}', 'BlueFox', 'urgent', true, ${esc(`subject ${PLANT}`)})`);
    await tx.run(`INSERT INTO repo_status_snapshots VALUES ('${TOOLS_MACHINE}', TIMESTAMP '${now}', 'r3', 'vibe_cockpit', '${TOOLS_REPO}', 'behind', 'main', true, 0, 3, false, TIMESTAMP '${t0}', 'ru', '1', 1, NULL),
      ('${TOOLS_MACHINE}', TIMESTAMP '${t0}', 'r3', 'vibe_cockpit', '${TOOLS_REPO}', 'current', 'main', false, 0, 0, false, TIMESTAMP '${t0}', 'ru', '1', 1, NULL)`);
    await tx.run(`INSERT INTO beads_issues (repo_id, issue_id, content_hash, machine_id, collected_at, repo_path, title, status, priority, type, created_at, updated_at)
      VALUES ('r3', 'vc-41', 'h1', '${TOOLS_MACHINE}', TIMESTAMP '${now}', '${TOOLS_REPO}', 'TUI: event detail level', 'in_progress', 1, 'feature', TIMESTAMP '${t0}', TIMESTAMP '${t0}'),
             ('r3', 'vc-40', 'h2', '${TOOLS_MACHINE}', TIMESTAMP '${now}', '${TOOLS_REPO}', 'Done already', 'closed', 2, 'task', TIMESTAMP '${t0}', TIMESTAMP '${t0}')`);
    await tx.run(`INSERT INTO mail_recipients (machine_id, collected_at, project_id, message_id, message_created_ts, recipient, kind, state)
      VALUES ('node-07', TIMESTAMP '${now}', 'p1', 1, TIMESTAMP '${t0}', 'GreenOwl', 'to', 'unread')`);
  });
  await store.close();
  await addToolData(fleet.db);
  return fleet;
}
