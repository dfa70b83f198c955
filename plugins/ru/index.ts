import { commandFailed, defineCollector } from "vibe-cockpit";
import { LAST_COMMIT_SCRIPT, mapList, mapStatus, parseLastCommits, readEnvelope } from "./parse.ts";
import { ruPlugin } from "./plugin.ts";

export interface RuOptions {
  /** Read each repo's last commit time with `git log -1` (default true; read-only, one script for all repos). */
  lastCommit?: boolean;
  /** Run at most this often (default 300 s): ru status runs several git commands per repo. */
  intervalSeconds?: number;
}

/**
 * ru (plan §3.6): the repos a machine is configured for (`ru list --json`) and their state
 * (`ru status --no-fetch --json`: never touches the network), one snapshot row per repo.
 * @example collectors: [ru()]
 */
export function ru(options: RuOptions = {}) {
  const lastCommit = options.lastCommit ?? true;
  return defineCollector({
    name: "ru",
    plugin: ruPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "ru list --json, ru status --no-fetch --json: repos, branch, dirty, ahead/behind, last commit",
    requires: { commands: ["ru"] },
    intervalSeconds: options.intervalSeconds ?? 300,
    limits: { timeoutMs: 120_000 },
    async collect(ctx) {
      const run = async (args: string[]) => {
        const what = `ru ${args.join(" ")}`;
        const r = await ctx.exec.run(["ru", ...args], { env: { NO_COLOR: "1" } });
        if (r.exitCode !== 0) throw commandFailed(what, r);
        return { what, stdout: r.stdout, stderr: r.stderr };
      };
      const list = await run(["list", "--json"]);
      // With no config ru says so on stderr, prints nothing and exits 0.
      if (list.stdout.trim() === "")
        return { rows: {}, skipped: `ru has no repos configured on ${ctx.machine.id} (${list.stderr.trim().slice(0, 120) || "ru list printed nothing"})` };
      const { rows: repos, byPath } = mapList(readEnvelope(list.stdout, list.what), ctx.machine.id, ctx.warn);
      const status = await run(["status", "--no-fetch", "--json"]);
      if (status.stdout.trim() === "") return { rows: {}, skipped: `ru status printed nothing on ${ctx.machine.id}` };
      const { rows: snapshots, extraRepos } = mapStatus(readEnvelope(status.stdout, status.what), byPath, ctx.machine.id, ctx.warn);
      if (extraRepos.length > 0) ctx.warn(`ru status listed ${extraRepos.length} repo(s) that ru list did not (config changed between the two?)`);

      const local = snapshots.filter((s) => s.status !== "missing" && s.status !== "not_git");
      if (lastCommit && local.length > 0) {
        try {
          const r = await ctx.exec.run({ script: LAST_COMMIT_SCRIPT, args: local.map((s) => s.path as string) }, { timeoutMs: 60_000 });
          const times = parseLastCommits(r.stdout);
          local.forEach((s, i) => (s.last_commit_at = times.get(i + 1) ?? null));
        } catch (err) {
          ctx.warn(`last commit times not read: ${(err as Error).message}`);
        }
      }
      return { rows: { repos: [...repos, ...extraRepos], repo_status_snapshots: snapshots } };
    },
  });
}

export default ru;
