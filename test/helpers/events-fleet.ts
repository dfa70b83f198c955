// A store for the event sources' tests: the real collectors (dcg, pt, rano, mcp_agent_mail, ntm,
// beads, ru) run on a fake machine whose tools and files are the upstream fixture outputs. rano's
// real export attributes every host, so two of its lines lose their provider (one its domain too);
// ru runs four times, midas_edge changing between runs.
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectPlugins, createFixedClock, openStore, pluginMigrations, repoId } from "../../lib/index.ts";
import { createFakeMachine, runOnce, type FakeMachine } from "../../lib/testkit.ts";
import { beads, dcg, mcpAgentMail, ntm, pt, rano, ru } from "../../plugins/index.ts";

export const END = new Date("2026-08-20T15:15:00Z");
/** The folder dcg, ntm and mail recorded work in. */
export const WORK_PATH = "/data/projects/vibe_cockpit";
/** The ru repo that changes between runs. */
export const RU_PATH = "/data/projects/midas_edge";
export const RU_REPO = repoId({ url: "git@github.com:Dicklesworthstone/midas_edge.git" });

export const fx = (path: string) => readFileSync(join(import.meta.dir, "../fixtures", path), "utf8");

/** rano's real export with statsig.anthropic.com unattributed and the oauth2.googleapis.com connect without provider or domain. */
export function ranoExport(): string {
  return fx("rano/export.jsonl")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      if (e.domain === "statsig.anthropic.com") e.provider = "unknown";
      if (e.domain === "oauth2.googleapis.com" && e.event === "connect") {
        delete e.provider;
        delete e.domain;
      }
      return JSON.stringify(e);
    })
    .join("\n")
    .concat("\n");
}

/** ru's real status with midas_edge as `change` says. */
function ruStatus(change: Record<string, unknown>): string {
  const s = JSON.parse(fx("ru/status.no-fetch.json")) as { data: { repos: Record<string, unknown>[] } };
  for (const r of s.data.repos) if (r.path === RU_PATH) Object.assign(r, change);
  return JSON.stringify(s);
}

/** The states ru reports for midas_edge, oldest first: real, behind and dirty, the same again, no upstream. */
export const RU_RUNS: { minutesBefore: number; change: Record<string, unknown> }[] = [
  { minutesBefore: 120, change: {} },
  { minutesBefore: 60, change: { status: "behind", behind: 2, dirty: true } },
  { minutesBefore: 30, change: { status: "behind", behind: 2, dirty: true } },
  { minutesBefore: 0, change: { status: "no_upstream", ahead: 0, behind: 0, dirty: false } },
];

export interface EventsFleet {
  dir: string;
  db: string;
  /** The beads repo (in the fake HOME, keyed by machine and path). */
  beadsRepo: { machine_id: string; repo_id: string; path: string };
  /** The mail fixture's messages (bun:sqlite over the fixture's SQL). */
  mail: { id: number; importance: string; ack_required: number; subject: string }[];
  /** The dcg fixture's history rows. */
  dcg: { timestamp: string; outcome: string; command: string; rule_id: string | null; working_dir: string }[];
}

/** Builds the store under a new temp folder (closed when this returns). */
export async function createEventsFleet(): Promise<EventsFleet> {
  const dir = mkdtempSync(join(tmpdir(), "vc-events-"));
  const db = join(dir, "vc.duckdb");
  const machine = createFakeMachine({
    tools: {
      pt: { "robot plan --format json": { stdout: fx("pt/robot-plan.format-json.json"), exit: 1 } },
      ntm: { "--robot-status": fx("ntm/robot-status.json"), "list --json": fx("ntm/list.json") },
      rano: { "export --format jsonl --since*": ranoExport() },
      bv: { "--robot-triage": fx("beads/bv-robot-triage.json") },
      br: { "ready --json": fx("beads/br-ready.json") },
    },
    home: {
      ".config/dcg/history.db": { sqlite: fx("dcg/history-db.sql") },
      ".mcp_agent_mail_git_mailbox_repo/storage.sqlite3": { sqlite: fx("mcp_agent_mail/storage.sqlite3.sql") },
      "projects/vc/.beads/issues.jsonl": fx("beads/issues.jsonl"),
    },
  });
  const collectors = [dcg(), pt(), rano(), mcpAgentMail(), ntm(), beads({ repos: ["~/projects/vc"], useRu: false }), ru()];
  const store = await openStore({ path: db, pluginMigrations: pluginMigrations(collectors, collectPlugins([], collectors)) });
  const machines: FakeMachine[] = [machine];
  try {
    const check = (name: string, r: { result: string; error?: string | null; reason?: string | null }) => {
      if (r.result !== "ok") throw new Error(`${name}: ${r.result} ${r.error ?? r.reason ?? ""}`);
    };
    for (const c of collectors.filter((c) => c.name !== "ru")) check(c.name, await runOnce({ store, collector: c, machine, clock: createFixedClock(END) }));
    for (const run of RU_RUNS) {
      const m = createFakeMachine({ tools: { ru: { "list --json": fx("ru/list.json"), "status --no-fetch --json": ruStatus(run.change) } } });
      machines.push(m);
      check("ru", await runOnce({ store, collector: ru(), machine: m, clock: createFixedClock(new Date(END.getTime() - run.minutesBefore * 60_000)) }));
    }
    const [beadsRow] = await store.query<{ repo_id: string; repo_path: string }>("SELECT repo_id, repo_path FROM beads_triage_snapshots");
    const sqlite = (path: string) => {
      const d = new Database(":memory:");
      d.exec(fx(path));
      return d;
    };
    const mailDb = sqlite("mcp_agent_mail/storage.sqlite3.sql");
    const dcgDb = sqlite("dcg/history-db.sql");
    return {
      dir,
      db,
      beadsRepo: { machine_id: "fake", repo_id: beadsRow!.repo_id, path: beadsRow!.repo_path },
      mail: mailDb.query("SELECT id, importance, ack_required, subject FROM messages ORDER BY id").all() as EventsFleet["mail"],
      dcg: dcgDb.query("SELECT timestamp, outcome, command, rule_id, working_dir FROM commands ORDER BY id").all() as EventsFleet["dcg"],
    };
  } finally {
    await store.close();
    for (const m of machines) m.close();
  }
}
