// `cass search <query> --json`: the hits of cass's session index (src/search/query.rs SearchHit),
// mapped to vc's SearchHit. Before the first index cass exits 3 with a JSON error on stderr
// ({"error":{"kind":"missing-index",…}}): that becomes a readable error naming the fix.
import * as v from "valibot";
import { checkOutput, isoFromMs, parseJsonOutput, type SearchContext, type SearchHit } from "vibe-cockpit";

const opt = <T extends v.GenericSchema>(schema: T) => v.fallback(v.nullish(schema), null);

const HitSchema = v.looseObject({
  title: opt(v.string()),
  snippet: opt(v.string()),
  content: opt(v.string()),
  score: opt(v.number()),
  source_path: opt(v.string()),
  agent: opt(v.string()),
  workspace: opt(v.string()),
  created_at: opt(v.number()),
  line_number: opt(v.number()),
  match_type: opt(v.string()),
  source_id: opt(v.string()),
  origin_host: opt(v.string()),
});

export const SearchSchema = v.looseObject({
  query: opt(v.string()),
  total_matches: opt(v.number()),
  hits: v.array(v.unknown()),
});

const ErrorSchema = v.looseObject({ error: v.looseObject({ kind: opt(v.string()), message: opt(v.string()), hint: opt(v.string()) }) });

// cass marks the match in snippets with ** … **.
const unmark = (s: string) => s.replaceAll("**", "");

/** The hits of one `cass search --json` output; hits of an unexpected shape are dropped, not fatal. */
export function searchHits(raw: unknown): SearchHit[] {
  const out = checkOutput(SearchSchema, raw, "cass search --json");
  const hits: SearchHit[] = [];
  for (const item of out.hits) {
    const r = v.safeParse(HitSchema, item);
    if (!r.success) continue;
    const h = r.output;
    const at = isoFromMs(h.created_at); // an epoch no Date holds (1e300) is no time, not a RangeError
    hits.push({
      title: h.title || h.source_path || "(untitled session)",
      snippet: unmark(h.snippet ?? ""),
      ...(h.content ? { content: h.content } : {}),
      at,
      ...(h.source_path ? { location: h.line_number ? `${h.source_path}:${h.line_number}` : h.source_path } : {}),
      ...(h.source_path ? { command: `cass view ${h.source_path}${h.line_number ? ` -n ${h.line_number}` : ""}` } : {}),
      ...(h.agent ? { agent: h.agent } : {}),
      ...(h.workspace ? { workspace: h.workspace } : {}),
      ...(typeof h.score === "number" ? { score: h.score } : {}),
      extra: { match_type: h.match_type, source_id: h.source_id, ...(h.origin_host ? { origin_host: h.origin_host } : {}) },
    });
  }
  return hits;
}

/** Runs `cass search` on the machine and reads its hits, or throws what went wrong in words. */
export async function cassSearch(ctx: SearchContext, query: string): Promise<SearchHit[]> {
  // Flags first and the query after "--": a query such as "-rf" is words to find, not an option.
  const argv = ["cass", "search", "--json", "--limit", String(ctx.limit), "--", query];
  // A local spawn throws when the command is missing; a remote shell exits 127.
  const r = await ctx.exec.run(argv, { timeoutMs: ctx.timeoutMs, signal: ctx.signal, maxBytes: 8 * 1024 * 1024 }).catch((err: unknown) => {
    if (/not found/i.test(String(err))) return { exitCode: 127 } as const;
    throw err;
  });
  if (r.exitCode === 127 || !("stdout" in r)) throw new Error(`cass is not installed on ${ctx.machine.id}`);
  if (r.exitCode !== 0) {
    let e: v.InferOutput<typeof ErrorSchema>["error"] | null = null;
    for (const text of [r.stderr, r.stdout]) {
      try {
        const p = v.safeParse(ErrorSchema, parseJsonOutput(text));
        if (p.success) e ??= p.output.error;
      } catch {
        // not JSON: the text is the error
      }
    }
    if (e?.kind === "missing-index") throw new Error(`cass has no index on ${ctx.machine.id} yet: run \`cass index --full\` there`);
    if (e) throw new Error(`cass search failed on ${ctx.machine.id} (${e.kind ?? `exit ${r.exitCode}`}): ${e.message ?? ""}${e.hint ? ` — ${e.hint}` : ""}`);
    if (r.timedOut) throw new Error(`cass search gave no answer on ${ctx.machine.id} within ${ctx.timeoutMs / 1000} s`);
    throw new Error(`cass search exited ${r.exitCode} on ${ctx.machine.id}: ${(r.stderr.trim() || r.stdout.trim()).slice(0, 200)}`);
  }
  let raw: unknown;
  try {
    raw = parseJsonOutput(r.stdout);
  } catch {
    throw new Error(`cass search printed no JSON on ${ctx.machine.id}: ${JSON.stringify(r.stdout.slice(0, 120))}`);
  }
  return searchHits(raw);
}
