// The guardian's machine-load protocol (plan §8.4 "machine load high"): load5 over cores × 1.5, read
// as the load_high rule reads it. Diagnosis: the busiest processes from vc's data (sysmoni) and a
// fresh `pt robot plan --format json`. Treatment: advice only, built from pt's plan — pt's own
// recommendations with its commands as text; nothing is killed by vc.
import { commandStep, defineProtocol, oneLine, readStep, showArgv, sql, suggestStep, type Facts, type GuardianTarget, type ProtocolContext, type StepContext } from "vibe-cockpit";
import { loadLatest } from "../rules/system.ts";
import { mapPlan, readPlan } from "./parse.ts";

/** load5 above cores × this triggers the protocol (the load_high rule's default). */
export const LOAD_PER_CORE_LIMIT = 1.5;
/** pt's read-only triage of the machine's processes. */
export const PT_PLAN_ARGV = ["pt", "robot", "plan", "--format", "json"] as const;

const FRESH_MS = 15 * 60_000;
/** pt's collector plans every 10 min: a plan of the last 30 min is the machine's current one. */
const PLAN_FRESH_MS = 30 * 60_000;

interface LoadRow {
  machine_id: string;
  source: string;
  collected_at: string;
  load1: number | null;
  load5: number;
  load15: number | null;
  cpu_cores: number;
  load_per_core: number;
}

/** One of pt's candidates, as the run's facts carry it. */
export interface PtCandidate {
  pid: number;
  comm: string | null;
  command: string | null;
  classification: string | null;
  confidence: string | null;
  score: number | null;
  recommendation: string | null;
  /** kill | review | spare: the plan's set that holds it. */
  set: string | null;
  cpu_pct: number | null;
  memory_mb: number | null;
  policy_blocked: boolean | null;
  policy_violation: string | null;
  /** pt's command for the process's supervisor (`systemctl restart …`), when it has one. */
  supervisor_command: string | null;
}

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : typeof x === "bigint" ? Number(x) : null);
const text = (x: unknown): string | null => (typeof x === "string" && x !== "" ? oneLine(x) : null);
// pt's session ids are `pt-YYYYMMDD-HHMMSS-xxxx`: anything else is not spliced into a command line.
const SESSION = /^[A-Za-z0-9._-]{1,100}$/;

async function findLoadedMachines(ctx: ProtocolContext): Promise<GuardianTarget[]> {
  const rows = await ctx.store.query<LoadRow>(
    sql`SELECT * FROM (${loadLatest.sql(ctx.at.toISOString())}) AS l WHERE load5 > cpu_cores * ${LOAD_PER_CORE_LIMIT} ORDER BY machine_id`,
  );
  return rows.map((r) => ({
    key: r.machine_id,
    machine: r.machine_id,
    title: `${r.machine_id}: load5 ${r.load5} on ${r.cpu_cores} cores (${r.load_per_core} per core)`,
    facts: {
      load1: num(r.load1),
      load5: num(r.load5),
      load15: num(r.load15),
      cpu_cores: num(r.cpu_cores),
      load_per_core: num(r.load_per_core),
      threshold: Math.round(num(r.cpu_cores)! * LOAD_PER_CORE_LIMIT * 100) / 100,
      source: r.source,
      collected_at: r.collected_at,
    },
  }));
}

/** The machine's busiest processes in its newest sysmoni sample within 15 min (at most 10). */
async function readTopProcesses(ctx: StepContext): Promise<Facts> {
  const at = ctx.at.toISOString();
  const since = new Date(ctx.at.getTime() - FRESH_MS).toISOString();
  const rows = await ctx.store.query<Record<string, unknown>>(
    sql`SELECT collected_at, pid, comm, cpu_pct, mem_pct FROM sys_top_processes
        WHERE machine_id = ${ctx.target.machine} AND collected_at = (
          SELECT max(collected_at) FROM sys_top_processes
          WHERE machine_id = ${ctx.target.machine} AND collected_at <= ${at}::TIMESTAMP AND collected_at > ${since}::TIMESTAMP)
        ORDER BY rank, pid LIMIT 10`,
  );
  return {
    top_processes_at: (rows[0]?.collected_at as string | undefined) ?? null,
    top_processes: rows.map((r) => ({ pid: num(r.pid), comm: text(r.comm), cpu_pct: num(r.cpu_pct), mem_pct: num(r.mem_pct) })),
  };
}

/** Facts from `pt robot plan --format json`: the session, each candidate and the plan's sets. */
export function planFacts(stdout: string): Facts {
  let plan: ReturnType<typeof readPlan>;
  try {
    plan = readPlan(stdout);
  } catch (err) {
    return { pt_plan_error: oneLine((err as Error).message).slice(0, 300) };
  }
  const warnings: string[] = [];
  const { snapshot, findings } = mapPlan(plan.raw, plan.plan, null, (m) => warnings.push(m));
  const candidates: PtCandidate[] = findings.map((f) => {
    const raw = f.raw_json as { supervisor?: { supervisor_command?: unknown } };
    return {
      pid: f.pid as number,
      comm: text(f.comm),
      command: text(f.command)?.slice(0, 200) ?? null,
      classification: text(f.classification),
      confidence: text(f.confidence),
      score: num(f.score),
      recommendation: text(f.recommendation),
      set: text(f.recommendation_set),
      cpu_pct: num(f.cpu_pct),
      memory_mb: num(f.memory_mb),
      policy_blocked: typeof f.policy_blocked === "boolean" ? f.policy_blocked : null,
      policy_violation: text(f.policy_violation),
      supervisor_command: text(raw?.supervisor?.supervisor_command),
    };
  });
  const session = typeof snapshot.session_id === "string" && SESSION.test(snapshot.session_id) ? snapshot.session_id : null;
  return {
    pt_session: session,
    pt_total_processes: snapshot.total_processes,
    pt_candidates: candidates,
    pt_kill_pids: candidates.filter((c) => c.set === "kill" && c.policy_blocked !== true).map((c) => c.pid),
    pt_review_pids: candidates.filter((c) => c.set === "review" || (c.set === "kill" && c.policy_blocked === true)).map((c) => c.pid),
    pt_expected_memory_freed_gb: snapshot.expected_memory_freed_gb,
    ...(warnings.length > 0 ? { pt_warnings: warnings } : {}),
  };
}

/** pt's newest plan as vc collected it (within 30 min): the advice is written from it when the run is planned. */
async function readCollectedPlan(ctx: StepContext): Promise<Facts> {
  const [row] = await ctx.store.query<{ collected_at: string; raw_json: unknown }>(
    sql`SELECT collected_at, raw_json FROM process_triage_snapshot
        WHERE machine_id = ${ctx.target.machine} AND collected_at <= ${ctx.at.toISOString()}::TIMESTAMP
          AND collected_at > ${new Date(ctx.at.getTime() - PLAN_FRESH_MS).toISOString()}::TIMESTAMP
        ORDER BY collected_at DESC LIMIT 1`,
  );
  if (!row) return { pt_plan_note: `no pt plan of ${ctx.target.machine} collected in the last 30 min` };
  return { pt_plan_at: row.collected_at, ...planFacts(typeof row.raw_json === "string" ? row.raw_json : JSON.stringify(row.raw_json)) };
}

const candidatesOf = (facts: Facts): PtCandidate[] => (Array.isArray(facts.pt_candidates) ? (facts.pt_candidates as PtCandidate[]) : []);
const pidsOf = (facts: Facts, key: string): number[] => (Array.isArray(facts[key]) ? (facts[key] as unknown[]).filter((p): p is number => Number.isInteger(p)) : []);
const named = (c: PtCandidate | undefined, pid: number) => `${pid} ${c?.comm ?? "?"}`;

/** `pt robot <verb> --session S --pids a,b`, or null without a usable session. */
const ptCommand = (facts: Facts, verb: "apply" | "explain", pids: number[]) =>
  typeof facts.pt_session === "string" ? showArgv(["pt", "robot", verb, "--session", facts.pt_session, "--pids", pids.join(",")]) : null;

function killAdvice(ctx: StepContext): string | null {
  const pids = pidsOf(ctx.facts, "pt_kill_pids");
  if (pids.length === 0) return null;
  const all = candidatesOf(ctx.facts);
  const list = pids.map((pid) => {
    const c = all.find((x) => x.pid === pid);
    const details = [c?.classification, c?.confidence ? `${c.confidence} confidence` : null, c?.memory_mb !== null && c?.memory_mb !== undefined ? `${c.memory_mb} MB` : null];
    return `${named(c, pid)} (${details.filter(Boolean).join(", ")})`;
  });
  const freed = num(ctx.facts.pt_expected_memory_freed_gb);
  const cmd = ptCommand(ctx.facts, "apply", pids);
  return (
    `pt recommends killing ${pids.length} process(es) on ${ctx.target.machine}: ${list.join(", ")}${freed !== null ? `; about ${freed} GB freed` : ""}. ` +
    (cmd ? `After checking them, apply pt's plan: ${cmd}` : "pt's plan has no session to apply; run pt robot plan there and apply it")
  );
}

function reviewAdvice(ctx: StepContext): string | null {
  const pids = pidsOf(ctx.facts, "pt_review_pids");
  if (pids.length === 0) return null;
  const all = candidatesOf(ctx.facts);
  const list = pids.map((pid) => {
    const c = all.find((x) => x.pid === pid);
    const details = [
      c?.classification,
      c?.recommendation?.toLowerCase(),
      c?.cpu_pct ? `${c.cpu_pct} % CPU` : null,
      c?.policy_blocked ? `blocked by pt's policy${c.policy_violation ? `: ${c.policy_violation}` : ""}` : null,
      c?.supervisor_command ? `its supervisor: ${c.supervisor_command}` : null,
    ];
    return `${named(c, pid)} (${details.filter(Boolean).join(", ")})`;
  });
  const cmd = ptCommand(ctx.facts, "explain", pids);
  return `pt asks a person to review ${pids.length} process(es) on ${ctx.target.machine}: ${list.join(", ")}.${cmd ? ` Why: ${cmd}` : ""}`;
}

function busiestAdvice(ctx: StepContext): string | null {
  const top = Array.isArray(ctx.facts.top_processes) ? (ctx.facts.top_processes as { pid: number; comm: string | null; cpu_pct: number | null }[]) : [];
  const planError = typeof ctx.facts.pt_plan_error === "string" ? ctx.facts.pt_plan_error : null;
  const nothing = !planError && Array.isArray(ctx.facts.pt_candidates) && candidatesOf(ctx.facts).length === 0;
  const busiest = top.slice(0, 5).map((p) => `${p.pid} ${p.comm ?? "?"}${p.cpu_pct !== null ? ` ${Math.round(p.cpu_pct * 10) / 10} % CPU` : ""}`);
  const note = typeof ctx.facts.pt_plan_note === "string" && !Array.isArray(ctx.facts.pt_candidates) ? `${ctx.facts.pt_plan_note}.` : null;
  const head = planError
    ? `pt's plan could not be read (${planError}).`
    : nothing
      ? `pt finds nothing stuck or abandoned on ${ctx.target.machine}: the load is real work; move or pause some of its agents.`
      : note;
  if (!head && busiest.length === 0) return null;
  return [head, busiest.length > 0 ? `The busiest processes on ${ctx.target.machine} (sysmoni): ${busiest.join(", ")}` : null].filter(Boolean).join(" ");
}

/** Load high on a machine: pt's plan and the busiest processes, as advice. */
export const machineLoadHigh = defineProtocol({
  name: "machine_load_high",
  summary: "load5 over cores × 1.5: ask pt which processes are stuck or abandoned and advise; nothing is killed by vc",
  trigger: { describe: `load5 above cores × ${LOAD_PER_CORE_LIMIT} (the newest sample within 15 min)`, find: findLoadedMachines },
  diagnosis: [
    readStep("top_processes", readTopProcesses),
    readStep("pt_plan_collected", readCollectedPlan),
    // A fresh plan when the run executes (its facts replace the collected plan's for the record and later steps).
    commandStep("pt_plan", {
      // pt writes its session under its own data folder and changes no process.
      writes: false,
      timeoutMs: 120_000,
      // pt's exit codes are outcomes: 0 nothing to do, 1 a plan with candidates.
      okExitCodes: [0, 1],
      command: () => ({ argv: [...PT_PLAN_ARGV] }),
      parse: (stdout, ctx) => {
        const fresh = planFacts(stdout);
        return fresh.pt_plan_error ? fresh : { ...fresh, pt_plan_at: ctx.at.toISOString() };
      },
    }),
  ],
  treatment: [suggestStep("pt_kill_set", killAdvice), suggestStep("pt_review_set", reviewAdvice), suggestStep("busiest_processes", busiestAdvice)],
  verification: {
    describe: `load5 back under cores × ${LOAD_PER_CORE_LIMIT}`,
    withinSeconds: 900,
    everySeconds: 120,
    async check(ctx) {
      const [r] = await ctx.store.query<LoadRow>(sql`SELECT * FROM (${loadLatest.sql(ctx.at.toISOString())}) AS l WHERE machine_id = ${ctx.target.machine}`);
      if (!r) return { ok: false, detail: `no load sample of ${ctx.target.machine} within 15 min` };
      const limit = Math.round(r.cpu_cores * LOAD_PER_CORE_LIMIT * 100) / 100;
      return { ok: r.load5 <= limit, detail: `${ctx.target.machine}: load5 ${r.load5} on ${r.cpu_cores} cores (limit ${limit}; was ${num(ctx.target.facts.load5)})` };
    },
  },
  escalation: { describe: "after 3 failed runs", afterFailures: 3 },
});
