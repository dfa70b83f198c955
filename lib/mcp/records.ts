// The agents' reports kept by vc: a task's completion (once per task id) and each resource
// request with the advice given. Written in the process that holds the store (the daemon's socket
// routes call these), so an MCP server in another process writes through it.
import * as v from "valibot";
import { newId } from "../_id.ts";
import { VcError } from "../errors.ts";
import { sql } from "../store/sql.ts";
import type { Store } from "../store/store.ts";

const num = v.optional(v.nullable(v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1e15))));
/** What `vc_report_completion` takes: the task id and its metrics (known keys read, the rest kept). */
export const ReportInput = v.object({
  task_id: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  metrics: v.optional(
    v.looseObject({
      agent: v.optional(v.pipe(v.string(), v.maxLength(200))),
      machine: v.optional(v.pipe(v.string(), v.maxLength(200))),
      repo: v.optional(v.pipe(v.string(), v.maxLength(500))),
      duration_s: num,
      tokens: num,
      outcome: v.optional(v.pipe(v.string(), v.maxLength(100))),
    }),
    {},
  ),
});
export type ReportInput = v.InferOutput<typeof ReportInput>;

export interface ReportResult {
  task_id: string;
  /** false when this task id was reported before: the first report stands. */
  recorded: boolean;
  reported_at: string;
}

const parse = <S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> => {
  const r = v.safeParse(schema, input);
  if (!r.success) {
    const issue = r.issues[0];
    const field = issue.path?.map((p) => String(p.key)).join(".") ?? "(input)";
    throw new VcError("invalid_argument", `${what}: ${field}: ${issue.message}`, { details: { field } });
  }
  return r.output;
};

/** Stores a task's completion report; the same task id again is acknowledged and not stored twice. */
export async function reportCompletion(store: Store, input: unknown, at: Date): Promise<ReportResult> {
  const r = parse(ReportInput, input, "vc_report_completion");
  const m = r.metrics;
  return store.transaction(async (tx) => {
    const [seen] = await tx.query<{ reported_at: string }>(sql`SELECT reported_at FROM task_reports WHERE task_id = ${r.task_id}`);
    if (seen) return { task_id: r.task_id, recorded: false, reported_at: seen.reported_at };
    await tx.insert("task_reports", [
      {
        task_id: r.task_id,
        reported_at: at.toISOString(),
        agent: m.agent ?? null,
        machine_id: m.machine ?? null,
        repo: m.repo ?? null,
        duration_s: m.duration_s ?? null,
        tokens: m.tokens ?? null,
        outcome: m.outcome ?? null,
        metrics_json: JSON.stringify(m),
      },
    ]);
    return { task_id: r.task_id, recorded: true, reported_at: at.toISOString() };
  });
}

export const RequestRecord = v.object({
  resource_type: v.picklist(["machine", "account"]),
  amount: v.optional(v.nullable(v.number())),
  agent: v.optional(v.nullable(v.string())),
  outcome: v.picklist(["advised", "none_available"]),
  advice: v.unknown(),
});

/** Records a resource request with the advice given; returns its id. */
export async function recordRequest(store: Store, input: unknown, at: Date): Promise<{ request_id: string }> {
  const r = parse(RequestRecord, input, "vc_request_resources");
  const id = newId();
  await store.transaction((tx) =>
    tx.insert("resource_requests", [
      {
        request_id: id,
        requested_at: at.toISOString(),
        resource_type: r.resource_type,
        amount: r.amount ?? null,
        agent: r.agent ?? null,
        outcome: r.outcome,
        advice_json: JSON.stringify(r.advice ?? null),
      },
    ]),
  );
  return { request_id: id };
}
