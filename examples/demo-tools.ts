// What the fleet's own tools would have told vc about one demo machine: the real collectors (caut,
// caam, pt, dcg, ntm, mcp_agent_mail) run once on a fake machine whose tools and files print the
// upstream fixture outputs in test/fixtures, writing into a demo store. Plus the repo those agents
// were busy in (ru's fixture has no row for it) with two beads, so every TUI level has data.
//
//   bun examples/demo-fleet.ts --out /tmp/demo --tools
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { collectPlugins, createFixedClock, openStore, pluginMigrations } from "../lib/index.ts";
import { createFakeMachine, runOnce } from "../lib/testkit.ts";
import { caam, caut, dcg, mcpAgentMail, ntm, pt } from "../plugins/index.ts";

/** Just after the fixtures' newest records (2026-08-20 15:10 UTC): a demo with tools ends here. */
export const DEMO_TOOLS_END = new Date("2026-08-20T15:15:00Z");
/** The repo dcg, ntm and mail recorded work in. */
export const DEMO_TOOLS_REPO = "/data/projects/vibe_cockpit";

const fx = (path: string) => readFileSync(join(import.meta.dir, "../test/fixtures", path), "utf8");
const at = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");

/** Adds the tools' data for `machine` at `end` (default DEMO_TOOLS_END) to the store at `db`. */
export async function addDemoToolData(db: string, o: { machine: string; end?: Date }): Promise<void> {
  const end = o.end ?? DEMO_TOOLS_END;
  const machine = createFakeMachine({
    id: o.machine,
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
  const collectors = [caut(), caam(), pt(), dcg(), ntm(), mcpAgentMail()];
  // The tools' plugins bring columns of their own (ntm's degraded sources).
  const store = await openStore({ path: db, pluginMigrations: pluginMigrations(collectors, collectPlugins([], collectors)) });
  try {
    for (const collector of collectors) {
      const run = await runOnce({ store, collector, machine, clock: createFixedClock(end) });
      if (run.result !== "ok") throw new Error(`demo tools: ${collector.name} on ${o.machine}: ${run.result} ${run.error ?? run.reason ?? ""}`);
    }
    const now = at(end);
    const before = at(new Date(end.getTime() - 30 * 60_000));
    const m = o.machine.replace(/'/g, "''");
    await store.transaction(async (tx) => {
      await tx.run(`INSERT INTO repo_status_snapshots (machine_id, collected_at, repo_id, repo, path, status, branch, dirty, ahead, behind, mismatch, last_commit_at, source, source_version, schema_version)
        VALUES ('${m}', TIMESTAMP '${now}', 'demo-vc', 'vibe_cockpit', '${DEMO_TOOLS_REPO}', 'behind', 'main', true, 0, 3, false, TIMESTAMP '${before}', 'ru', '1', 1),
               ('${m}', TIMESTAMP '${before}', 'demo-vc', 'vibe_cockpit', '${DEMO_TOOLS_REPO}', 'current', 'main', false, 0, 0, false, TIMESTAMP '${before}', 'ru', '1', 1)`);
      await tx.run(`INSERT INTO beads_issues (repo_id, issue_id, content_hash, machine_id, collected_at, repo_path, title, status, priority, type, created_at, updated_at)
        VALUES ('demo-vc', 'vc-41', 'h1', '${m}', TIMESTAMP '${now}', '${DEMO_TOOLS_REPO}', 'TUI: event detail level', 'in_progress', 1, 'feature', TIMESTAMP '${before}', TIMESTAMP '${before}'),
               ('demo-vc', 'vc-40', 'h2', '${m}', TIMESTAMP '${now}', '${DEMO_TOOLS_REPO}', 'Done already', 'closed', 2, 'task', TIMESTAMP '${before}', TIMESTAMP '${before}')`);
    });
  } finally {
    await store.close();
    machine.close();
  }
}
