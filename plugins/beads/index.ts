import { cursor, defineCollector, repoId, type CollectContext, type Cursor } from "vibe-cockpit";
import { excerpt, graphMetricsRow, issueRow, parseJson, parseReady, parseRuList, parseTriage, splitLines, triageRow, type RepoRef, type Triage } from "./parse.ts";
import { beadsPlugin } from "./plugin.ts";

export interface BeadsOptions {
  /**
   * Repositories to read besides those `ru list --json` names (paths on the machine, `~` allowed).
   * A machine's own list replaces both: `paths: { "beads.repos": "~/a:/data/b" }` (separated by `:` or `,`).
   */
  repos?: readonly string[];
  /** Ask `ru list --json` for the machine's repositories when ru is on PATH (default true). */
  useRu?: boolean;
  /** Repositories read at once (default 4). */
  concurrency?: number;
  /** Deadline of one run, all repositories together (default 120 s). */
  timeoutSeconds?: number;
  /** Run at most this often (default: every poll). */
  intervalSeconds?: number;
}

// br's `ready` prints at most 20 issues unless told `--limit 0` (beads_rust src/cli/mod.rs ReadyArgs).
const BR_READY_DEFAULT_LIMIT = 20;

// Which of the tools are on PATH: `command -v` is a shell builtin, so this works with nothing installed.
const PROBE = `for t in "$@"; do command -v "$t" >/dev/null 2>&1 && printf '%s\\n' "$t"; done; exit 0`;
// Run in the repository (bv and br find .beads from the working directory). The path is $1, never
// part of the script text; BV_OUTPUT_FORMAT=json overrides a user's toon default.
const TRIAGE = `cd "$1" || exit 97
BV_OUTPUT_FORMAT=json; export BV_OUTPUT_FORMAT
exec bv --robot-triage`;
const READY = `cd "$1" || exit 97
shift
exec br ready --json "$@"`;

/** Where issues.jsonl was read up to, per repository: the file's identity and the next byte. */
interface IssuesCursor {
  file: string;
  inode: number;
  size: number;
  mtime: number;
  offset: number;
}

interface RepoData {
  repo: RepoRef;
  triage: Triage | null;
  ready: unknown[] | null;
  issues: { file: string; stat: Omit<IssuesCursor, "file" | "offset">; lines: { text: string; start: number; end: number }[]; from: number } | null;
  /** Something was read from this repository. */
  ok: boolean;
  failures: string[];
}

const label = (r: RepoRef) => r.repo_name ?? r.repo_path;

function readIssuesCursor(c: Cursor | undefined): IssuesCursor | null {
  if (c?.kind !== "opaque") return null;
  const o = parseJson(c.value, "cursor");
  if (!o || typeof o !== "object" || o instanceof Error) return null;
  const x = o as Partial<IssuesCursor>;
  return typeof x.file === "string" && [x.inode, x.size, x.mtime, x.offset].every((n) => typeof n === "number") ? (x as IssuesCursor) : null;
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping their order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** The repositories to read on this machine: a per-machine list, else ru's list and the configured ones. */
async function listRepos(ctx: CollectContext, have: ReadonlySet<string>, options: BeadsOptions): Promise<{ repos: RepoRef[]; none: string }> {
  const wanted: { path: string; url: string | null; name: string | null }[] = [];
  const override = ctx.path("repos", "");
  let none: string;
  if (override.trim() !== "") {
    for (const p of override.split(/[:,\n]/)) if (p.trim()) wanted.push({ path: p.trim(), url: null, name: null });
    none = `the machine's beads.repos list is empty`;
  } else {
    const useRu = options.useRu !== false;
    if (useRu && have.has("ru")) {
      const r = await ctx.exec.run(["ru", "list", "--json"]);
      const json = parseJson(r.stdout, "ru list --json output");
      const listed = json instanceof Error ? json : parseRuList(json, ctx.warn);
      if (listed instanceof Error) ctx.warn(`ru list --json (exit ${r.exitCode}) gave no repositories: ${listed.message} ${r.stderr.trim().slice(0, 200)}`.trim());
      else {
        if (r.exitCode !== 0) ctx.warn(`ru list --json exited with ${r.exitCode}; its list was used: ${r.stderr.trim().slice(0, 200)}`);
        wanted.push(...listed);
      }
    }
    for (const p of options.repos ?? []) wanted.push({ path: p, url: null, name: null });
    none =
      useRu && !have.has("ru")
        ? `no repositories to read: ru not found on ${ctx.machine.id}'s PATH and no repos configured`
        : `no repositories to read: ru listed none and no repos are configured`;
  }
  const repos: RepoRef[] = [];
  const byPath = new Set<string>();
  const byId = new Map<string, string>();
  for (const w of wanted) {
    const path = (await ctx.exec.expand(w.path)).replace(/(.)\/+$/, "$1");
    if (byPath.has(path)) continue;
    byPath.add(path);
    const id = repoId({ url: w.url, path, machine: ctx.machine.id });
    const seen = byId.get(id);
    if (seen !== undefined) {
      ctx.warn(`${path} is the same repository as ${seen} (remote ${w.url}): read once`);
      continue;
    }
    byId.set(id, path);
    repos.push({ repo_id: id, repo_path: path, repo_name: w.name ?? path.split("/").pop() ?? path, repo_url: w.url });
  }
  return { repos, none };
}

/** Reads one repository: bv's triage, br's ready list and the new part of .beads/issues.jsonl. */
async function readRepo(ctx: CollectContext, repo: RepoRef, have: ReadonlySet<string>): Promise<RepoData | null> {
  const data: RepoData = { repo, triage: null, ready: null, issues: null, ok: false, failures: [] };
  const fail = (m: string) => {
    data.failures.push(m);
    ctx.warn(m);
  };
  const beadsDir = `${repo.repo_path}/.beads`;
  if (!(await ctx.exec.stat(beadsDir))) {
    ctx.warn(`${label(repo)}: no .beads directory at ${beadsDir}, repository skipped`);
    return null;
  }

  if (have.has("bv")) {
    const r = await ctx.exec.run({ script: TRIAGE, args: [repo.repo_path] });
    const t = r.exitCode === 0 ? parseTriage(r.stdout) : new Error(`bv --robot-triage exited with ${r.exitCode}: ${excerpt(r.stderr || r.stdout, 200)}`);
    if (t instanceof Error) fail(`${label(repo)}: ${t.message}`);
    else data.triage = t;
  }

  if (have.has("br")) {
    const ask = async (extra: string[]) => {
      const r = await ctx.exec.run({ script: READY, args: [repo.repo_path, ...extra] });
      if (r.exitCode !== 0) return new Error(`br ready --json ${extra.join(" ")}`.trim() + ` exited with ${r.exitCode}: ${excerpt(r.stderr || r.stdout, 200)}`);
      return parseReady(r.stdout, (m) => ctx.warn(`${label(repo)}: ${m}`));
    };
    let ready = await ask([]);
    // Exactly br's default limit: there may be more, so ask for all of them.
    if (Array.isArray(ready) && ready.length === BR_READY_DEFAULT_LIMIT) {
      const all = await ask(["--limit", "0"]);
      if (Array.isArray(all)) ready = all;
      else ctx.warn(`${label(repo)}: br ready lists ${BR_READY_DEFAULT_LIMIT} issues, maybe more (--limit 0 failed: ${all.message})`);
    }
    if (ready instanceof Error) fail(`${label(repo)}: ${ready.message}`);
    else data.ready = ready;
  }
  data.ok = data.triage !== null || data.ready !== null;

  // br exports issues.jsonl (older beads called it beads.jsonl). It is rewritten whole, never appended.
  for (const name of ["issues.jsonl", "beads.jsonl"]) {
    const file = `${beadsDir}/${name}`;
    const st = await ctx.exec.stat(file);
    if (!st) continue;
    const stat = { inode: st.inode, size: st.size, mtime: st.mtime.getTime() };
    const prev = readIssuesCursor(ctx.cursors[`issues:${repo.repo_id}`]);
    const same = prev !== null && prev.file === file && prev.inode === stat.inode && prev.size === stat.size && prev.mtime === stat.mtime;
    const from = same ? prev.offset : 0;
    data.ok = true;
    if (from >= stat.size) data.issues = { file, stat, lines: [], from };
    else {
      const bytes = await ctx.exec.readRange(file, from, stat.size);
      data.issues = { file, stat, lines: splitLines(bytes, from, from + bytes.length === stat.size), from };
    }
    return data;
  }
  ctx.warn(`${label(repo)}: no .beads/issues.jsonl to read`);
  return data;
}

/**
 * beads (plan §3.12): per repository, bv's triage (`bv --robot-triage`), br's ready work
 * (`br ready --json`) and the issues of `.beads/issues.jsonl`. Repositories come from `ru list
 * --json` when ru is on PATH, plus the configured ones; each is keyed by repoId() (its remote when
 * known, else machine and path), as the ru collector keys them.
 * @example collectors: [beads({ repos: ["~/notes"] })]
 */
export function beads(options: BeadsOptions = {}) {
  return defineCollector({
    name: "beads",
    plugin: beadsPlugin,
    version: "1.0.0",
    schemaVersion: 1,
    description: "bv --robot-triage, br ready --json and .beads/issues.jsonl per repository: ready work, triage, graph health",
    limits: { timeoutMs: (options.timeoutSeconds ?? 120) * 1000 },
    ...(options.intervalSeconds ? { intervalSeconds: options.intervalSeconds } : {}),
    async collect(ctx) {
      const probe = await ctx.exec.run({ script: PROBE, args: ["bv", "br", "ru"] });
      const have = new Set(
        probe.stdout
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean),
      );
      if (!have.has("bv") && !have.has("br")) return { rows: {}, skipped: `bv and br not found on ${ctx.machine.id}'s PATH` };

      const { repos, none } = await listRepos(ctx, have, options);
      if (repos.length === 0) return { rows: {}, skipped: none };

      const read = (await mapLimit(repos, options.concurrency ?? 4, (r) => readRepo(ctx, r, have))).filter((d): d is RepoData => d !== null);
      if (read.length === 0) {
        const names = repos.slice(0, 3).map(label).join(", ") + (repos.length > 3 ? ", …" : "");
        return { rows: {}, skipped: `none of the ${repos.length} repositories has a .beads directory (${names})` };
      }
      const failed = read.filter((d) => !d.ok && d.failures.length > 0);
      if (read.length > 0 && failed.length === read.length) {
        throw new Error(`no repository could be read (${read.length} with .beads): ${failed[0]!.failures[0]}`);
      }

      // Within max_rows: snapshots first, then issues; a repository's issues resume from its cursor.
      let budget = ctx.limits.maxRows;
      const snapshots: Record<string, unknown>[] = [];
      const metrics: Record<string, unknown>[] = [];
      const issues: Record<string, unknown>[] = [];
      const cursors: Record<string, Cursor> = {};
      let left = 0;
      for (const d of read) {
        const snap = d.triage || d.ready ? triageRow(d.repo, d.triage, d.ready) : null;
        const graph = d.triage ? graphMetricsRow(d.repo, d.triage) : null;
        const need = (snap ? 1 : 0) + (graph ? 1 : 0);
        if (need > budget) {
          left++;
          continue;
        }
        budget -= need;
        if (snap) snapshots.push(snap);
        if (graph) metrics.push(graph);
        if (!d.issues) continue;
        let offset = d.issues.from;
        const seen = new Set<string>();
        for (const line of d.issues.lines) {
          if (line.text.trim() === "") {
            offset = line.end;
            continue;
          }
          if (budget === 0) break;
          const value = parseJson(line.text, "line");
          const mapped = value instanceof Error ? { error: value.message } : issueRow(d.repo, line.text, value);
          if ("error" in mapped) ctx.warn(`${label(d.repo)}: .beads/issues.jsonl byte ${line.start}: bad issue skipped (${mapped.error})`);
          else if (!seen.has(`${mapped.row.issue_id}\t${mapped.row.content_hash}`)) {
            seen.add(`${mapped.row.issue_id}\t${mapped.row.content_hash}`);
            issues.push(mapped.row);
            budget--;
          }
          offset = line.end;
        }
        if (offset < d.issues.stat.size && budget === 0) left++;
        const c: IssuesCursor = { file: d.issues.file, ...d.issues.stat, offset };
        cursors[`issues:${d.repo.repo_id}`] = cursor.opaque(JSON.stringify(c));
      }
      if (left > 0) ctx.warn(`max_rows ${ctx.limits.maxRows} reached: ${left} repositories continue next run`);
      return { rows: { beads_triage_snapshots: snapshots, beads_graph_metrics: metrics, beads_issues: issues }, cursors };
    },
  });
}

export default beads;
