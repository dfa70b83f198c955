import { cursor, defineCollector, type CollectContext } from "vibe-cockpit";
import { base, eventRows, parseResultsFile, parseStatus, runFactRow, runIdOf, type RunRecordIn } from "./parse.ts";

export interface AfscOptions {
  /** Run at most this often (default: every poll). */
  intervalSeconds?: number;
}

/** The binary's real name: there is no `afsc` command. */
export const AFSC_BINARY = "automated_flywheel_setup_checker";
/** Where afsc's ResultPersister writes (jsonl.rs dirs_default_results_dir); `afsc.results_dir` overrides it. */
export const AFSC_RESULTS_DIR = "~/.local/share/afsc/results";

// Shell builtins only, so it runs where nothing else is installed. A run is written to a .tmp file
// and renamed, so a listed results_*.jsonl is complete (and never changes afterwards).
const LIST = `cd "$1" 2>/dev/null || exit 3
for f in results_*.jsonl; do [ -f "$f" ] && printf '%s\\n' "$f"; done
exit 0`;
const HAS = `command -v "$1" >/dev/null 2>&1`;

type Rows = { facts: Record<string, unknown>[]; events: Record<string, unknown>[] };

/** Adds one run's rows (deduplicated by their keys within this batch). */
function addRun(run: RunRecordIn, out: Rows, keys: Set<string>, warn: (m: string) => void, cap = Infinity) {
  const fact = runFactRow(run);
  if (!keys.has(`run\t${fact.run_id}`)) {
    keys.add(`run\t${fact.run_id}`);
    out.facts.push(fact);
  }
  let n = 0;
  for (const e of eventRows(run)) {
    const key = `ev\t${e.run_id}\t${e.installer_name}\t${e.ts}`;
    if (keys.has(key)) {
      warn(`${base(run.file)}: ${e.installer_name} at ${e.ts} appears twice; kept once`);
      continue;
    }
    if (n >= cap) {
      warn(`${base(run.file)}: more results than max_rows; ${eventRows(run).length - n} left out`);
      break;
    }
    keys.add(key);
    out.events.push(e);
    n++;
  }
}

async function runStatus(ctx: CollectContext) {
  const r = await ctx.exec.run([AFSC_BINARY, "status", "--format", "json"]);
  if (r.exitCode !== 0) throw new Error(`${AFSC_BINARY} status --format json exited with ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  return parseStatus(r.stdout, ctx.warn);
}

/**
 * afsc (plan §3.13): the runs of automated_flywheel_setup_checker. Reads its results files
 * (`~/.local/share/afsc/results/results_YYYYMMDD_HHMMSS.jsonl`, newest after the cursor, each once:
 * they never change once written); where there are none to list, asks `status --format json` for
 * the latest run. One afsc_run_facts row per run, one afsc_event_logs row per installer result.
 * @example collectors: [afsc()]
 */
export function afsc(options: AfscOptions = {}) {
  return defineCollector({
    name: "afsc",
    version: "1.0.0",
    schemaVersion: 1,
    description: "automated_flywheel_setup_checker results files (~/.local/share/afsc/results) and status --format json: setup runs and installer results",
    ...(options.intervalSeconds ? { intervalSeconds: options.intervalSeconds } : {}),
    async collect(ctx) {
      const dir = ctx.path("results_dir", AFSC_RESULTS_DIR);
      const abs = await ctx.exec.expand(dir);
      const out: Rows = { facts: [], events: [] };
      const keys = new Set<string>();

      const listed = (await ctx.exec.stat(abs)) ? await ctx.exec.run({ script: LIST, args: [abs] }) : null;
      const files = (listed?.exitCode === 0 ? listed.stdout.split("\n").filter((f) => f.endsWith(".jsonl")) : []).sort();
      if (files.length === 0) {
        // Nothing to list here: the binary may still know the latest run (a results folder elsewhere).
        const has = await ctx.exec.run({ script: HAS, args: [AFSC_BINARY] });
        if (has.exitCode !== 0) return { rows: {}, skipped: `${AFSC_BINARY} not found on ${ctx.machine.id}'s PATH and no results files in ${dir}` };
        const run = await runStatus(ctx);
        if (run instanceof Error) throw run;
        if (run === "no_runs") return { rows: {}, skipped: `${AFSC_BINARY} has recorded no runs yet on ${ctx.machine.id}` };
        if (run.entries.length === 0 && !run.summary) ctx.warn(`status --format json named ${run.file} but no results in it`);
        addRun(run, out, keys, ctx.warn);
        return { rows: { afsc_run_facts: out.facts, afsc_event_logs: out.events } };
      }

      const after = ctx.cursor?.kind === "opaque" ? ctx.cursor.value : "";
      const fresh = files.filter((f) => f > after);
      let last = after;
      let budget = ctx.limits.maxRows;
      for (const name of fresh) {
        const path = `${abs}/${name}`;
        const st = await ctx.exec.stat(path);
        if (!st) continue; // removed since it was listed
        const text = new TextDecoder().decode(await ctx.exec.readRange(path, 0, st.size));
        const run = parseResultsFile(path, text, ctx.warn);
        if (run.entries.length === 0 && !run.summary) ctx.warn(`${name}: no results and no summary in it`);
        else {
          const need = run.entries.length + 1;
          if (need > budget && out.facts.length > 0) break; // the rest next run
          addRun(run, out, keys, ctx.warn, budget - 1);
          budget = ctx.limits.maxRows - out.facts.length - out.events.length;
          if (!run.summary) ctx.warn(`${name}: no run summary line; run identified as ${runIdOf(run)}`);
        }
        last = name;
      }
      const left = fresh.length - fresh.indexOf(last) - 1;
      if (fresh.length > 0 && left > 0) ctx.warn(`max_rows ${ctx.limits.maxRows} reached: ${left} results files left for the next run`);
      return { rows: { afsc_run_facts: out.facts, afsc_event_logs: out.events }, cursor: last ? cursor.opaque(last) : undefined };
    },
  });
}

export default afsc;
