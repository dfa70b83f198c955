/**
 * Parsers for `pt robot plan --format json` (process_triage, pt-core run_agent_plan). The real keys
 * differ from pt's agent guide: `command`/`command_short` (not cmd_full/cmd_short), `reversibility`
 * is a string, `start_id` is `<pid>:<start epoch s>`, `recommendation` the upper-cased action, and
 * the plan is split into `recommendations.{kill_set, review_set, spare_set}` (pids). Times are
 * RFC 3339 with `+00:00`. Exit code 1 means "candidates found", not failure.
 */
import * as v from "valibot";
import { parseJsonAs } from "vibe-cockpit";

const num = v.nullish(v.number());
const str = v.nullish(v.string());
const pids = v.nullish(v.array(v.unknown()));

export const PlanSchema = v.looseObject({
  pt_version: str,
  schema_version: str,
  timestamp: str,
  generated_at: str,
  session_id: str,
  host_id: str,
  host: v.nullish(v.looseObject({ hostname: str })),
  scan: v.nullish(v.looseObject({ total_processes: num, candidates_found: num })),
  summary: v.nullish(v.looseObject({ total_processes_scanned: num, above_threshold: num, candidates_returned: num, policy_blocked: num, threshold_used: num })),
  candidates: v.array(v.unknown()),
  recommendations: v.nullish(v.looseObject({ kill_set: pids, review_set: pids, spare_set: pids, expected_memory_freed_gb: num })),
});
export type Plan = v.InferOutput<typeof PlanSchema>;

const CandidateSchema = v.looseObject({
  pid: v.pipe(v.number(), v.integer()),
  ppid: num,
  state: str,
  start_id: str,
  uid: num,
  user: str,
  command: str,
  command_short: str,
  cmd_full: str, // the names pt's docs use; older builds may print them
  cmd_short: str,
  classification: str,
  type: str,
  confidence: v.nullish(v.unknown()),
  score: num,
  posterior: v.nullish(v.looseObject({ useful: num, useful_bad: num, abandoned: num, zombie: num })),
  age_seconds: num,
  memory_mb: num,
  cpu_percent: num,
  recommendation: str,
  recommended_action: str,
  reversibility: v.nullish(v.unknown()),
  policy_blocked: v.nullish(v.boolean()),
  policy: v.nullish(v.looseObject({ violation: v.nullish(v.looseObject({ kind: str, message: str })) })),
  supervisor: v.nullish(v.looseObject({ unit: str })),
  signature: v.nullish(v.looseObject({ name: str })),
  evidence: v.nullish(v.array(v.unknown())),
});

const at = (s: string | null | undefined) => {
  const t = s ? Date.parse(s) : Number.NaN;
  return Number.isFinite(t) ? new Date(t) : null;
};
const n = (x: number | null | undefined) => (typeof x === "number" && Number.isFinite(x) ? x : null);
const text = (x: unknown) => (typeof x === "string" ? x : typeof x === "number" ? String(x) : null);

/**
 * When a candidate started: the epoch seconds of its `start_id` (`<pid>:<start>`), cross-checked
 * with its age at the plan's time. A start after the plan cannot be (the start is not epoch
 * seconds on that machine, or its clock moved): a warning, and the age wins; without a start_id,
 * the age tells.
 */
function startOf(pid: number, startId: string | null | undefined, ageS: number | null, planAt: Date | null, warn: (m: string) => void): Date | null {
  const m = /^\d+:(\d+)$/.exec(startId ?? "");
  const fromId = m ? new Date(Number(m[1]) * 1000) : null;
  const fromAge = planAt && ageS !== null && ageS >= 0 ? new Date(planAt.getTime() - Math.round(ageS * 1000)) : null;
  if (fromId && planAt && fromId > planAt) {
    warn(
      `pt plan: pid ${pid} starts at ${fromId.toISOString()} by its start_id ${startId}, after the plan's ${planAt.toISOString()}; ` +
        (fromAge ? `taken from its age instead (${ageS} s): ${fromAge.toISOString()}` : "left unknown (no age to take it from)"),
    );
    return fromAge;
  }
  return fromId ?? fromAge;
}

/** The plan from stdout, or a readable Error. */
export function readPlan(stdout: string): { raw: Record<string, unknown>; plan: Plan } {
  const { raw, output } = parseJsonAs(stdout, PlanSchema, "pt robot plan", "a plan");
  return { raw: raw as Record<string, unknown>, plan: output };
}

/** The process_triage_snapshot row and one process_triage_findings row per candidate. */
export function mapPlan(raw: Record<string, unknown>, plan: Plan, exitCode: number | null, warn: (m: string) => void) {
  const rec = plan.recommendations;
  const setOf = new Map<number, string>();
  for (const [set, list] of [
    ["spare", rec?.spare_set],
    ["review", rec?.review_set],
    ["kill", rec?.kill_set],
  ] as const) {
    for (const pid of list ?? []) if (typeof pid === "number") setOf.set(pid, set);
  }
  const findings: Record<string, unknown>[] = [];
  const seen = new Set<number>();
  const planAt = at(plan.generated_at ?? plan.timestamp);
  plan.candidates.forEach((c, i) => {
    const r = v.safeParse(CandidateSchema, c);
    if (!r.success) return warn(`pt plan: candidates[${i}] skipped: ${r.issues[0].path?.map((p) => String(p.key)).join(".") ?? ""} ${r.issues[0].message}`);
    const x = r.output;
    if (seen.has(x.pid)) return warn(`pt plan: pid ${x.pid} listed twice; kept the first`);
    seen.add(x.pid);
    findings.push({
      pid: x.pid,
      start_id: x.start_id ?? null,
      started_at: startOf(x.pid, x.start_id, n(x.age_seconds), planAt, warn),
      ppid: n(x.ppid),
      uid: n(x.uid),
      user_name: x.user ?? null,
      state: x.state ?? null,
      comm: x.command_short ?? x.cmd_short ?? null,
      command: x.command ?? x.cmd_full ?? null,
      classification: x.classification ?? x.type ?? null,
      confidence: text(x.confidence),
      score: n(x.score),
      posterior_useful: n(x.posterior?.useful),
      posterior_useful_bad: n(x.posterior?.useful_bad),
      posterior_abandoned: n(x.posterior?.abandoned),
      posterior_zombie: n(x.posterior?.zombie),
      age_s: n(x.age_seconds),
      memory_mb: n(x.memory_mb),
      cpu_pct: n(x.cpu_percent),
      recommendation: x.recommendation ?? (x.recommended_action ? x.recommended_action.toUpperCase() : null),
      recommended_action: x.recommended_action ?? null,
      recommendation_set: setOf.get(x.pid) ?? null,
      reversibility: text(x.reversibility),
      policy_blocked: x.policy_blocked ?? null,
      policy_violation: x.policy?.violation?.kind ?? null,
      supervisor_unit: x.supervisor?.unit ?? null,
      signature_name: x.signature?.name ?? null,
      evidence_json: x.evidence ?? null,
      raw_json: c,
    });
  });
  const count = (list: readonly unknown[] | null | undefined) => (list ? list.length : null);
  const snapshot = {
    generated_at: at(plan.generated_at ?? plan.timestamp),
    session_id: plan.session_id ?? null,
    pt_version: plan.pt_version ?? null,
    pt_schema_version: plan.schema_version ?? null,
    host_id: plan.host_id ?? null,
    hostname: plan.host?.hostname ?? null,
    exit_code: exitCode,
    total_processes: n(plan.scan?.total_processes) ?? n(plan.summary?.total_processes_scanned),
    candidates_found: n(plan.scan?.candidates_found) ?? n(plan.summary?.above_threshold),
    candidates_returned: n(plan.summary?.candidates_returned) ?? plan.candidates.length,
    kill_count: count(rec?.kill_set),
    review_count: count(rec?.review_set),
    spare_count: count(rec?.spare_set),
    policy_blocked_count: n(plan.summary?.policy_blocked),
    expected_memory_freed_gb: n(rec?.expected_memory_freed_gb),
    threshold: n(plan.summary?.threshold_used),
    findings_json: findings.map((f) => ({ pid: f.pid, comm: f.comm, classification: f.classification, recommendation: f.recommendation, score: f.score })),
    recommendations_json: plan.recommendations ?? null,
    summary_json: plan.summary ?? null,
    raw_json: raw,
  };
  return { snapshot, findings };
}
