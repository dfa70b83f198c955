import { afterAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeMachine, createTestStore, runOnce, testCollector } from "../../lib/testkit.ts";
import { createFixedClock } from "../../lib/index.ts";
import { pt } from "../../plugins/pt/index.ts";
import { mapPlan, readPlan } from "../../plugins/pt/parse.ts";

// Real-format `pt robot plan --format json` (process_triage @2b43619, run_agent_plan): 4 candidates.
const real = readFileSync(join(import.meta.dir, "../fixtures/pt/robot-plan.format-json.json"), "utf8");
const realObj = JSON.parse(real) as Record<string, any>;
const variant = (patch: (p: Record<string, any>) => void) => {
  const p = structuredClone(realObj);
  patch(p);
  return JSON.stringify(p);
};
const planTool = (stdout: string, exit = 1) => ({ pt: { "robot plan --format json": { stdout, exit } } });

testCollector({
  collector: pt(),
  fixtures: { tools: planTool(real) },
  rows: { process_triage_snapshot: 1, process_triage_findings: 4 },
  junk: { tools: planTool("<html>not a plan</html>", 1) },
  async check(store) {
    expect(await store.query("SELECT * EXCLUDE (raw_json, findings_json, recommendations_json, summary_json, source_version) FROM process_triage_snapshot")).toEqual([
      {
        machine_id: "fake",
        collected_at: "2026-01-25T03:00:00.000Z",
        generated_at: "2026-08-20T15:10:30.411Z",
        session_id: "pt-20260820-151030-k3mq",
        pt_version: "2.1.0",
        pt_schema_version: "1.0.0",
        host_id: "host-5a1e09c4",
        hostname: "orko",
        exit_code: 1,
        total_processes: 1412,
        candidates_found: 4,
        candidates_returned: 4,
        kill_count: 2,
        review_count: 2,
        spare_count: 0,
        policy_blocked_count: 1,
        expected_memory_freed_gb: 1.56,
        threshold: 0.7,
        source: "pt",
        schema_version: 1,
      },
    ]);
    const [f] = await store.query<{ f: string }>("SELECT findings_json AS f FROM process_triage_snapshot");
    expect(JSON.parse(f!.f)).toEqual([
      { pid: 418822, comm: "node", classification: "abandoned", recommendation: "KILL", score: 96 },
      { pid: 402117, comm: "vc_collect-3f9a", classification: "abandoned", recommendation: "KILL", score: 87 },
      { pid: 391002, comm: "node", classification: "useful_bad", recommendation: "THROTTLE", score: 71 },
      { pid: 1774, comm: "postgres", classification: "abandoned", recommendation: "REVIEW", score: 64 },
    ]);
    const [rec] = await store.query<{ k: string }>("SELECT recommendations_json->>'$.kill_set' AS k FROM process_triage_snapshot");
    expect(JSON.parse(rec!.k)).toEqual([418822, 402117]);
    expect(
      await store.query(
        "SELECT * EXCLUDE (machine_id, collected_at, raw_json, evidence_json, source, source_version, schema_version) FROM process_triage_findings WHERE pid IN (418822, 1774) ORDER BY pid",
      ),
    ).toEqual([
      {
        pid: 1774,
        start_id: "1774:1786547702",
        started_at: "2026-08-12T15:15:02.000Z",
        ppid: 1,
        uid: 112,
        user_name: "postgres",
        state: "S",
        comm: "postgres",
        command: "postgres: 16/main: checkpointer",
        classification: "abandoned",
        confidence: "low",
        score: 64,
        posterior_useful: 0.33,
        posterior_useful_bad: 0.02,
        posterior_abandoned: 0.64,
        posterior_zombie: 0.01,
        age_s: 690928,
        memory_mb: 96,
        cpu_pct: 0,
        recommendation: "REVIEW",
        recommended_action: "review",
        recommendation_set: "review",
        reversibility: "irreversible",
        policy_blocked: true,
        policy_violation: "protected_pattern",
        supervisor_unit: "postgresql@16-main.service",
        signature_name: null,
      },
      {
        pid: 418822,
        start_id: "418822:1787151001",
        started_at: "2026-08-19T14:50:01.000Z",
        ppid: 1,
        uid: 1000,
        user_name: "ubuntu",
        state: "S",
        comm: "node",
        command: "node /data/projects/frankentui/node_modules/jest-worker/build/workers/processChild.js",
        classification: "abandoned",
        confidence: "high",
        score: 96,
        posterior_useful: 0.021,
        posterior_useful_bad: 0.012,
        posterior_abandoned: 0.958,
        posterior_zombie: 0.009,
        age_s: 87429,
        memory_mb: 1184,
        cpu_pct: 0,
        recommendation: "KILL",
        recommended_action: "kill",
        recommendation_set: "kill",
        reversibility: "irreversible",
        policy_blocked: false,
        policy_violation: null,
        supervisor_unit: null,
        signature_name: "jest-worker",
      },
    ]);
    expect(
      await store.query(
        "SELECT pid, recommendation, recommendation_set, reversibility, json_array_length(evidence_json)::INTEGER AS ev FROM process_triage_findings WHERE pid IN (402117, 391002) ORDER BY pid",
      ),
    ).toEqual([
      { pid: 391002, recommendation: "THROTTLE", recommendation_set: "review", reversibility: "reversible", ev: 3 },
      { pid: 402117, recommendation: "KILL", recommendation_set: "kill", reversibility: "irreversible", ev: 4 },
    ]);
  },
});

describe("pt plan parser", () => {
  it("maps a plan with nothing to do (exit 0)", () => {
    const out = variant((p) => {
      p.candidates = [];
      p.recommendations = { kill_set: [], review_set: [], spare_set: [], expected_memory_freed_gb: 0, fleet_fdr: 0.03 };
      p.scan.candidates_found = 0;
      Object.assign(p.summary, { above_threshold: 0, candidates_returned: 0, kill_recommendations: 0, review_recommendations: 0, policy_blocked: 0 });
    });
    const { raw, plan } = readPlan(out);
    const { snapshot, findings } = mapPlan(raw, plan, 0, () => {});
    expect(findings).toEqual([]);
    expect(snapshot).toMatchObject({ exit_code: 0, candidates_found: 0, candidates_returned: 0, kill_count: 0, review_count: 0, spare_count: 0, findings_json: [] });
  });

  it("reads the documented older key names, optional parts absent and unknown fields", () => {
    const out = variant((p) => {
      const c = p.candidates[0];
      c.cmd_full = c.command;
      c.cmd_short = c.command_short;
      delete c.command;
      delete c.command_short;
      delete c.recommendation;
      delete c.posterior;
      delete c.supervisor;
      c.reversibility = { kind: "irreversible" };
      c.predictions = { next_hour: "idle" };
      delete p.recommendations;
      delete p.summary;
      delete p.host;
      p.stub_flags = { warning: "feature_not_implemented" };
    });
    const warnings: string[] = [];
    const { raw, plan } = readPlan(out);
    const { snapshot, findings } = mapPlan(raw, plan, 1, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    expect(findings[0]).toMatchObject({
      pid: 418822,
      comm: "node",
      command: "node /data/projects/frankentui/node_modules/jest-worker/build/workers/processChild.js",
      recommendation: "KILL",
      recommendation_set: null,
      posterior_abandoned: null,
      supervisor_unit: null,
      reversibility: null,
    });
    expect((findings[0]!.raw_json as Record<string, unknown>).predictions).toEqual({ next_hour: "idle" });
    expect(snapshot).toMatchObject({ hostname: null, kill_count: null, total_processes: 1412, candidates_returned: 4, policy_blocked_count: null });
  });

  it("skips a malformed candidate with a warning and keeps the others", () => {
    const out = variant((p) => {
      p.candidates[1].pid = "402117";
      p.candidates[2].pid = p.candidates[3].pid;
    });
    const warnings: string[] = [];
    const { raw, plan } = readPlan(out);
    const { findings } = mapPlan(raw, plan, 1, (w) => warnings.push(w));
    expect(findings.map((f) => f.pid)).toEqual([418822, 1774]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("candidates[1]");
    expect(warnings[1]).toContain("pid 1774 listed twice");
  });

  it("cross-checks a start with the age: a start after the plan is a warning and the age wins", async () => {
    // The plan of 15:10:30: pid 391002 has run 30 min by its age, but its start_id says 4 days
    // after the plan (as on a held-out machine); pid 1774 has no start_id at all.
    const out = variant((p) => {
      p.candidates[2].age_seconds = 1800;
      p.candidates[2].start_id = "391002:1787584230"; // 2026-08-24T15:10:30Z
      delete p.candidates[3].start_id;
    });
    const collector = pt();
    const store = await createTestStore([collector]);
    const m = createFakeMachine({ tools: planTool(out) });
    try {
      const run = await runOnce({ store, collector, machine: m });
      expect(run.result).toBe("ok");
      expect(run.warnings).toEqual([
        "pt plan: pid 391002 starts at 2026-08-24T15:10:30.000Z by its start_id 391002:1787584230, after the plan's 2026-08-20T15:10:30.411Z; taken from its age instead (1800 s): 2026-08-20T14:40:30.411Z",
      ]);
      expect(await store.query("SELECT pid, start_id, started_at, age_s FROM process_triage_findings ORDER BY pid")).toEqual([
        { pid: 1774, start_id: null, started_at: "2026-08-12T15:15:02.411Z", age_s: 690928 }, // from the age
        { pid: 391002, start_id: "391002:1787584230", started_at: "2026-08-20T14:40:30.411Z", age_s: 1800 }, // the age wins
        { pid: 402117, start_id: "402117:1787165521", started_at: "2026-08-19T18:52:01.000Z", age_s: 72909 }, // start_id before the plan: kept
        { pid: 418822, start_id: "418822:1787151001", started_at: "2026-08-19T14:50:01.000Z", age_s: 87429 },
      ]);
      // No start after its plan is stored.
      expect(
        await store.query(
          "SELECT count(*)::INTEGER AS n FROM process_triage_findings f JOIN process_triage_snapshot s USING (machine_id, collected_at) WHERE f.started_at > s.generated_at",
        ),
      ).toEqual([{ n: 0 }]);
    } finally {
      await m.close();
      await store.close();
    }
    // Neither an age nor a plan time to check against: the start is unknown, and said so.
    const warnings: string[] = [];
    const bare = variant((p) => {
      p.candidates = [{ ...p.candidates[2], start_id: "391002:1787584230" }];
      delete p.candidates[0].age_seconds;
    });
    const { raw, plan } = readPlan(bare);
    expect(mapPlan(raw, plan, 1, (w) => warnings.push(w)).findings[0]!.started_at).toBeNull();
    expect(warnings).toEqual([
      "pt plan: pid 391002 starts at 2026-08-24T15:10:30.000Z by its start_id 391002:1787584230, after the plan's 2026-08-20T15:10:30.411Z; left unknown (no age to take it from)",
    ]);
  });

  it("refuses output that is not a plan, saying what it got", () => {
    expect(() => readPlan("[pt-20260820] agent plan: 4 candidates (2 kill, 2 review)")).toThrow(/not JSON/);
    expect(() => readPlan('{"v": "2.1.0", "sid": "x", "c": []}')).toThrow(/not a plan: candidates/);
  });
});

describe("pt collector", () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });

  it("takes exit 1 as a plan, and fails readably on pt's errors", async () => {
    const collector = pt();
    const store = await createTestStore([collector]);
    const locked = createFakeMachine({ tools: { pt: { "robot plan --format json": { stderr: "agent plan: another pt instance holds the lock", exit: 14 } } } });
    const crashed = createFakeMachine({ tools: { pt: { "robot plan --format json": { stderr: "thread 'main' panicked", exit: 101 } } } });
    cleanup.push(
      () => locked.close(),
      () => crashed.close(),
      () => store.close(),
    );
    const a = await runOnce({ store, collector, machine: locked });
    expect(a.result).toBe("failed");
    expect(a.error).toBe("pt robot plan exited with 14: agent plan: another pt instance holds the lock");
    expect((await runOnce({ store, collector, machine: crashed })).error).toBe("pt robot plan exited with 101: thread 'main' panicked");
  });

  it("adds a snapshot and its findings per run, per machine", async () => {
    const collector = pt();
    const store = await createTestStore([collector]);
    const a = createFakeMachine({ id: "orko", tools: planTool(real) });
    const b = createFakeMachine({
      id: "trj",
      tools: planTool(
        variant((p) => (p.candidates = p.candidates.slice(3))),
        1,
      ),
    });
    cleanup.push(
      () => a.close(),
      () => b.close(),
      () => store.close(),
    );
    const clock = createFixedClock("2026-01-25T03:00:00Z");
    await runOnce({ store, collector, machine: a, clock });
    await runOnce({ store, collector, machine: b, clock });
    clock.advance(600_000);
    expect((await runOnce({ store, collector, machine: a, clock })).rowsByTable).toEqual({ process_triage_snapshot: 1, process_triage_findings: 4 });
    expect(await store.query("SELECT machine_id, count(*)::INTEGER AS n FROM process_triage_findings GROUP BY 1 ORDER BY 1")).toEqual([
      { machine_id: "orko", n: 8 },
      { machine_id: "trj", n: 1 },
    ]);
  });
});
