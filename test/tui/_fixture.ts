// A demo fleet for the cockpit's tests: examples/demo-fleet.ts with the tools' data (node-03: what
// the real caut, caam, pt, dcg, ntm and mcp_agent_mail collectors read from the upstream fixture
// outputs), plus firing alerts, repos and an urgent mail message with terminal escape sequences
// planted in what collectors would hand over.
import { join } from "node:path";
import { createDemoFleet, type DemoFleet } from "../../examples/demo-fleet.ts";
import { DEMO_TOOLS_END, DEMO_TOOLS_REPO } from "../../examples/demo-tools.ts";
import { openStore } from "../../lib/index.ts";

export const END = DEMO_TOOLS_END;
/** The machine that carries the tools' data, and its repo (where dcg, ntm and mail were busy). */
export const TOOLS_MACHINE = "node-03";
export const TOOLS_REPO = DEMO_TOOLS_REPO;
/** Planted in a repo name, an alert message and a mail subject: must never reach a screen raw. */
export const PLANT = "\x1b[2J\x1b]0;pwned\x07\x1b[31mEVIL";
const at = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");
const esc = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Writes the fleet under `dir` (machines: how many) and returns it. */
export async function createTuiFleet(dir: string, o: { machines?: number; alerts?: number; days?: number } = {}): Promise<DemoFleet> {
  const fleet = await createDemoFleet({ out: join(dir, "fleet"), machines: o.machines ?? 20, days: o.days ?? 1, end: END, tools: true });
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
    await tx.run(
      `INSERT INTO repo_status_snapshots VALUES ('node-01', TIMESTAMP '${now}', 'r1', ${esc(`repo${PLANT}`)}, '/src/evil', 'ahead', 'main', true, 2, 0, false, TIMESTAMP '${t0}', 'ru', '1', 1, NULL)`,
    );
    await tx.run(
      `INSERT INTO repo_status_snapshots VALUES ('node-02', TIMESTAMP '${now}', 'r2', 'clean-repo', '/src/clean', 'current', 'main', false, 0, 0, false, TIMESTAMP '${t0}', 'ru', '1', 1, NULL)`,
    );
    await tx.run(`INSERT INTO beads_triage_snapshots (machine_id, collected_at, repo_id, ready_count, recommendations_json, blockers_json)
      VALUES ('node-01', TIMESTAMP '${now}', 'r1', 2, ${esc(
        JSON.stringify([
          { id: "vc-1", title: `Pick ${PLANT}`, score: 0.9 },
          { id: "vc-2", title: "Second pick" },
        ]),
      )},
        ${esc(JSON.stringify([{ id: "vc-3", title: "Blocker to clear", unblocks_count: 3 }]))})`);
    await tx.run(`INSERT INTO rano_events (machine_id, collected_at, event_key, ts, event, provider, domain)
      VALUES ('node-01', TIMESTAMP '${now}', 'k1', TIMESTAMP '${t0}', 'connect', NULL, ${esc(`evil${PLANT}.example`)}),
             ('node-01', TIMESTAMP '${now}', 'k2', TIMESTAMP '${t0}', 'connect', 'anthropic', 'api.anthropic.com'),
             ('node-01', TIMESTAMP '${now}', 'k3', TIMESTAMP '${t0}' + INTERVAL 1 SECOND, 'connect', 'anthropic', 'api.anthropic.com')`);
    await tx.run(`INSERT INTO mail_messages (machine_id, collected_at, project_id, message_id, created_ts, sender, importance, ack_required, subject)
      VALUES ('node-07', TIMESTAMP '${now}', 'p1', 1, TIMESTAMP '${t0}', 'BlueFox', 'urgent', true, ${esc(`subject ${PLANT}`)})`);
    await tx.run(`INSERT INTO mail_recipients (machine_id, collected_at, project_id, message_id, message_created_ts, recipient, kind, state)
      VALUES ('node-07', TIMESTAMP '${now}', 'p1', 1, TIMESTAMP '${t0}', 'GreenOwl', 'to', 'unread')`);
  });
  await store.close();
  return fleet;
}
