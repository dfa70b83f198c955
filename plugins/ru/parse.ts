/**
 * Parsers for ru (repo_updater): `ru list --json` and `ru status --no-fetch --json`. Both print
 * one envelope `{generated_at, version, output_format, command, data: {total, repos: [...]}}`
 * built with printf, one repo per line. `url` is the spec as written in ru's config (it may be the
 * `owner/repo` shorthand); status has no url, so repos are matched to the list by path.
 */
import * as v from "valibot";
import { normalizeRemote, parseJsonAs, repoId } from "vibe-cockpit";

const str = v.nullish(v.string());

export const EnvelopeSchema = v.looseObject({
  generated_at: str,
  version: str,
  output_format: str,
  command: str,
  data: v.looseObject({ total: v.nullish(v.number()), repos: v.array(v.unknown()) }),
});
export type Envelope = v.InferOutput<typeof EnvelopeSchema>;

export const ListRepoSchema = v.looseObject({ repo: str, url: str, path: v.string() });
export const StatusRepoSchema = v.looseObject({
  repo: str,
  path: v.string(),
  status: v.string(),
  branch: str,
  ahead: v.nullish(v.number()),
  behind: v.nullish(v.number()),
  dirty: v.nullish(v.boolean()),
  mismatch: v.nullish(v.boolean()),
});

/** One ru envelope from a command's stdout; throws a readable Error for anything else. */
export function readEnvelope(stdout: string, what: string): Envelope {
  return parseJsonAs(stdout, EnvelopeSchema, what, "ru's envelope").output;
}

export interface RepoRef {
  repo_id: string;
  repo: string | null;
  path: string;
  url: string | null;
}

/**
 * The repos rows of `ru list --json`, keyed by path, with vc's repoId (the remote when ru knows
 * one, else the path on this machine). A repeated id (two clones of one remote) keeps the first.
 */
export function mapList(env: Envelope, machine: string, warn: (m: string) => void) {
  const byPath = new Map<string, RepoRef>();
  const rows: Record<string, unknown>[] = [];
  const ids = new Set<string>();
  env.data.repos.forEach((raw, i) => {
    const r = v.safeParse(ListRepoSchema, raw);
    if (!r.success) return warn(`ru list: repos[${i}] skipped: ${r.issues[0].message}`);
    const { repo, url, path } = r.output;
    const ref: RepoRef = { repo_id: repoId({ url: url || null, path, machine }), repo: repo ?? null, path, url: url || null };
    byPath.set(path, ref);
    if (ids.has(ref.repo_id)) return warn(`ru list: ${path} has the same remote as another repo (${url}); kept the first`);
    ids.add(ref.repo_id);
    rows.push({ ...ref, remote: ref.url ? normalizeRemote(ref.url) : null, raw_json: raw });
  });
  return { rows, byPath };
}

/** Statuses with nothing to count against: ru prints 0 and 0 as placeholders for them. */
const UNCOUNTED = new Set(["missing", "not_git", "no_upstream"]);

/** A commit count as ru printed it, or null when unknown: ru prints -1 when git could not compare the histories. */
const count = (n: number | null | undefined) => (typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : null);

/**
 * repo_status_snapshots rows of `ru status --json`, matched to the list by path. Counts ru could
 * not make are null, never its -1 or 0 placeholders.
 */
export function mapStatus(env: Envelope, byPath: ReadonlyMap<string, RepoRef>, machine: string, warn: (m: string) => void) {
  const rows: Record<string, unknown>[] = [];
  const extraRepos: Record<string, unknown>[] = [];
  const ids = new Set<string>();
  env.data.repos.forEach((raw, i) => {
    const r = v.safeParse(StatusRepoSchema, raw);
    if (!r.success) return warn(`ru status: repos[${i}] skipped: ${r.issues[0].message}`);
    const s = r.output;
    let ref = byPath.get(s.path);
    if (!ref) {
      // Not in ru list (the config changed between the two commands): known by its path only.
      ref = { repo_id: repoId({ path: s.path, machine }), repo: s.repo ?? null, path: s.path, url: null };
      extraRepos.push({ ...ref, remote: null, raw_json: raw });
    }
    if (ids.has(ref.repo_id)) return;
    ids.add(ref.repo_id);
    const counted = !UNCOUNTED.has(s.status);
    rows.push({
      repo_id: ref.repo_id,
      repo: s.repo ?? ref.repo,
      path: s.path,
      status: s.status,
      branch: s.branch || null,
      // ru prints dirty=false for a repo it could not look into (missing, not a git repo).
      dirty: s.status === "missing" || s.status === "not_git" ? null : (s.dirty ?? null),
      ahead: counted ? count(s.ahead) : null,
      behind: counted ? count(s.behind) : null,
      mismatch: s.mismatch ?? null,
      last_commit_at: null as Date | null,
      raw_json: raw,
    });
  });
  return { rows, extraRepos };
}

/** Prints `<n>\t<committer date>` for each path argument (n from 1), an empty date where git cannot say. */
export const LAST_COMMIT_SCRIPT = `command -v git >/dev/null 2>&1 || exit 0
i=0
for p in "$@"; do
  i=$((i + 1))
  t=$(GIT_OPTIONAL_LOCKS=0 git -C "$p" log -1 --format=%cI 2>/dev/null) || t=""
  printf '%s\\t%s\\n' "$i" "$t"
done`;

/** The script's answer: the commit time of the n-th path (1-based), as a UTC Date. */
export function parseLastCommits(stdout: string): Map<number, Date> {
  const out = new Map<number, Date>();
  for (const line of stdout.split("\n")) {
    const m = /^(\d+)\t(.+)$/.exec(line.trim());
    if (!m) continue;
    const t = Date.parse(m[2]!); // git's %cI: strict ISO 8601 with the committer's offset
    if (Number.isFinite(t)) out.set(Number(m[1]), new Date(t));
  }
  return out;
}
