import { createHash } from "node:crypto";

/**
 * A stable id for a repository (plan §3.6): the same remote gives the same id on every machine;
 * a repo with no remote is identified by its path on its machine.
 * Remote URLs are normalised first: scheme, user, port, `.git` and case of the host are dropped,
 * `git@host:owner/repo` and `owner/repo` (GitHub shorthand) become `host/owner/repo`.
 * @example repoId({ url: "git@github.com:Acme/Tool.git" }) === repoId({ url: "https://github.com/Acme/Tool" })
 */
export function repoId(o: { url?: string | null; path?: string | null; machine?: string }): string {
  const key = o.url ? `url:${normalizeRemote(o.url)}` : `path:${o.machine ?? ""}:${(o.path ?? "").replace(/\/+$/, "")}`;
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/** `host/owner/repo` from any common form of a git remote. */
export function normalizeRemote(url: string): string {
  let u = url
    .trim()
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.+)$/.exec(u); // git@github.com:owner/repo
  if (scp && !/^[a-z]+:\/\//i.test(u)) u = `${scp[1]}/${scp[2]}`;
  u = u.replace(/^[a-z+]+:\/\//i, "").replace(/^[^@/]+@/, "");
  const [host, ...rest] = u.split("/");
  if (rest.length === 1 && host && !host.includes(".")) return `github.com/${host}/${rest[0]}`; // owner/repo shorthand
  return [host!.toLowerCase().replace(/:\d+$/, ""), ...rest].join("/");
}
