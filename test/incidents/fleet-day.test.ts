import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { incidentTimeline, loadIncidentDetail, loadIncidents, postMortem, resolveConfig, type Incident } from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { advanceIncidents } from "../../lib/incidents/open.ts";
import { END, replayDay, t, type Day } from "./_day.ts";

setDefaultTimeout(180_000);

let day: Day;
let incidents: Incident[];
beforeAll(async () => {
  day = await replayDay();
  incidents = await loadIncidents(day.store, { at: END.toISOString() });
});
afterAll(async () => day?.store.close());

const byRule = (i: Incident) => i.alerts.map((a) => [a.rule, a.role]);

describe("incidents over a replayed fleet-day", () => {
  it("opens one incident per injected trouble, and none for a lone high alert", () => {
    expect(incidents.map((i) => [i.title, i.severity, i.state, i.opened_at, i.machines, i.accounts])).toEqual([
      // open ones first, newest first
      ["3 high alerts on gpu: Load high, OOM kills, inotify near its limit", "high", "open", t(12, 20).toISOString(), ["gpu"], []],
      ["Disk nearly full on orko", "critical", "open", t(10, 10).toISOString(), ["orko"], []],
    ]);
    // The account near its limit fired alone (one high alert on one account): no incident.
    const fired = [...day.outcomes.values()].flatMap((o) => o.events.filter((e) => e.event === "firing").map((e) => e.rule));
    expect(fired).toContain("account_usage_high");
  });

  it("a critical alert opens one at once", () => {
    expect(day.outcomes.get("10:10")!.incidents).toEqual({ opened: [incidents[1]!.incident_id], joined: [] });
    expect(incidents[1]!.incident_id).toBe("inc-20260125-1");
    expect(byRule(incidents[1]!)).toEqual([
      ["disk_low", "trigger"],
      ["dcg_deny_spike", "related"],
    ]);
  });

  it("three high alerts on one machine within 15 min open one; two do not", () => {
    expect(day.outcomes.get("12:10")!.incidents).toEqual({ opened: [], joined: [] });
    expect(day.outcomes.get("12:20")!.incidents.opened).toEqual([incidents[0]!.incident_id]);
    expect(byRule(incidents[0]!).slice(0, 3).sort()).toEqual([
      ["inotify_high", "trigger"],
      ["load_high", "trigger"],
      ["oom_kill", "trigger"],
    ]);
  });

  it("a later related alert joins the open incident instead of opening another", () => {
    // orko's deny spike at 10:30 joins the disk incident; gpu's swap at 12:40 joins the gpu one.
    expect(day.outcomes.get("10:30")!.incidents).toEqual({ opened: [], joined: [incidents[1]!.incident_id] });
    expect(day.outcomes.get("12:40")!.incidents).toEqual({ opened: [], joined: [incidents[0]!.incident_id] });
    expect(byRule(incidents[0]!)[3]).toEqual(["swap_rising", "related"]);
    expect(incidents[0]!.alerts.find((a) => a.rule === "swap_rising")!.severity).toBe("medium");
  });

  it("stays open when its alerts resolve (a person closes it), and says they all did", () => {
    const gpu = incidents[0]!;
    expect(gpu.alerts.map((a) => a.state)).toEqual(["resolved", "resolved", "resolved", "resolved"]);
    expect(gpu.all_alerts_resolved).toBe(true);
    expect(gpu.state).toBe("open");
    expect(incidents[1]!.all_alerts_resolved).toBe(false); // the disk is still full
  });

  it("audits each opening", async () => {
    const rows = await day.store.query<{ ts: string; action: string; machine_id: string }>(
      "SELECT ts, action, machine_id FROM audit_events WHERE event_type = 'incident_opened' ORDER BY ts",
    );
    expect(rows).toEqual([
      { ts: t(10, 10).toISOString(), action: "incident open inc-20260125-1", machine_id: "orko" },
      { ts: t(12, 20).toISOString(), action: "incident open inc-20260125-2", machine_id: "gpu" },
    ]);
  });
});

describe("the timeline", () => {
  it("starts with the cause: the disk factor worsening before the disk alert", async () => {
    const tl = await incidentTimeline({ store: day.store, config: day.config, incident: incidents[1]!, now: END });
    expect(tl.first_alert_at).toBe(t(10, 10).toISOString());
    expect(tl.from).toBe(t(9, 40).toISOString());
    const first = tl.entries[0]!;
    expect([first.at, first.source, first.kind, first.machine_id, first.lead]).toEqual([t(9, 40).toISOString(), "health", "disk", "orko", true]);
    expect(first.summary).toBe("disk low → medium: /data 85 % full");
    expect(tl.root_cause.first?.key).toBe(first.key);
    expect(tl.root_cause.hypothesis).toBe("orko: disk low → medium: /data 85 % full (30 min before disk_low)");
    expect(tl.root_cause.reasoning).toContain("It is the factor disk_low watches (disk).");
    expect(tl.root_cause.evidence.map((e) => [e.at.slice(11, 16), e.source, e.kind])).toEqual([
      ["09:40", "health", "disk"],
      ["10:00", "health", "disk"],
      ["10:10", "alert", "firing"],
    ]);
    // Everything in the lead comes before the first alert.
    const firing = tl.entries.findIndex((e) => e.source === "alert" && e.kind === "firing");
    expect(tl.entries.slice(0, firing).every((e) => e.lead && e.source === "health")).toBe(true);
  });

  it("holds the plugins' events, the collector failure and recovery, and the alerts of its machines", async () => {
    const tl = await incidentTimeline({ store: day.store, config: day.config, incident: incidents[1]!, now: END });
    const denies = tl.entries.filter((e) => e.source === "dcg");
    expect(denies.length).toBe(15);
    expect(denies[0]).toMatchObject({ machine_id: "orko", severity: "high", kind: "DCG DENIES", lead: false });
    expect(denies[0]!.summary).toBe("deny core.git:reset-hard: git reset --hard origin/main");
    expect(tl.entries.filter((e) => e.source === "collector").map((e) => [e.at.slice(11, 16), e.kind, e.summary])).toEqual([
      ["10:40", "failed", "collector sysprobe failed: sysprobe timed out after 30 s"],
      ["10:50", "recovered", "collector sysprobe ok again"],
    ]);
    expect(tl.entries.filter((e) => e.source === "alert").map((e) => [e.at.slice(11, 16), e.kind, e.details.rule_id])).toEqual([
      ["10:10", "firing", "disk_low"],
      ["10:30", "firing", "dcg_deny_spike"],
      ["11:30", "resolved", "dcg_deny_spike"], // the spike aged out of its hour
    ]);
    expect(tl.entries.map((e) => e.at)).toEqual([...tl.entries.map((e) => e.at)].sort());
    expect(tl.errors).toEqual([]);
  });

  it("the gpu incident's cause is the load that rose before its first alert", async () => {
    const tl = await incidentTimeline({ store: day.store, config: day.config, incident: incidents[0]!, now: END });
    expect(tl.first_alert_at).toBe(t(12, 10).toISOString());
    expect(tl.root_cause.first).toMatchObject({ source: "health", kind: "load", machine_id: "gpu", at: t(12).toISOString() });
    expect(tl.root_cause.hypothesis).toBe("gpu: load ok → high: load5 14 on 8 cores (1.75×) (10 min before load_high)");
    // the alert that was pending before it fired is on the timeline, after its cause
    expect(tl.entries.find((e) => e.source === "alert")).toMatchObject({ kind: "pending", at: t(12).toISOString() });
  });
});

describe("an incident in full", () => {
  it("answers as of an instant: nothing opened later, closes later not yet", async () => {
    const at1030 = await loadIncidents(day.store, { at: t(10, 30).toISOString() });
    expect(at1030.map((i) => [i.incident_id, i.alerts.map((a) => [a.rule, a.state])])).toEqual([
      [
        "inc-20260125-1",
        [
          ["disk_low", "firing"],
          ["dcg_deny_spike", "firing"],
        ],
      ],
    ]);
    expect(await loadIncidents(day.store, { at: t(10).toISOString() })).toEqual([]);
    expect((await loadIncidents(day.store, { at: END.toISOString(), state: "closed" })).length).toBe(0);
  });

  it("gives one in full: window, timeline, root cause, suggested actions, and the replay", async () => {
    const d = await loadIncidentDetail(day, "inc-20260125-1", END, { replay: true });
    expect(d.window).toEqual({ from: t(9, 40).toISOString(), to: END.toISOString(), first_alert_at: t(10, 10).toISOString() });
    expect(d.root_cause_kept).toBe(false);
    expect(d.suggested.map((s) => s.command ?? s.title)).toContain("journalctl --vacuum-size=500M");
    expect(d.actions.map((a) => a.action)).toEqual(["incident open inc-20260125-1"]);
    // the replay: the state it opened with, then every snapshot of the window
    const steps = d.replay!;
    expect(steps[0]!.at).toBe(t(9, 40).toISOString());
    const at1010 = steps.find((s) => s.at === t(10, 10).toISOString())!;
    expect(at1010.machines).toEqual([expect.objectContaining({ id: "orko", severity: "high", top_issue: "disk" })]);
    expect(at1010.firing).toEqual([expect.objectContaining({ rule: "disk_low", machine_id: "orko", severity: "critical", in_incident: true })]);
    expect(steps.at(-1)!.at <= END.toISOString()).toBe(true);
    // an unknown id is not_found, by the library too
    expect(loadIncidentDetail(day, "inc-nope", END)).rejects.toMatchObject({ code: "not_found", message: 'no incident "inc-nope"' });
  });

  it("writes a post-mortem with every section", async () => {
    const md = postMortem(await loadIncidentDetail(day, "inc-20260125-1", END), END);
    for (const h of ["# inc-20260125-1: Disk nearly full on orko", "## Summary", "## Root cause", "## Timeline", "## Evidence", "## Notes", "## Actions taken"])
      expect(md).toContain(h);
    expect(md).toContain("**Hypothesis:** orko: disk low → medium: /data 85 % full (30 min before disk_low)");
    expect(md).toContain("| 2026-01-25 09:40 UTC | ◀ | health | orko | medium | disk low → medium: /data 85 % full |");
    expect(md).toContain("Suggested by its alerts:");
  });
});

describe("opening rules", () => {
  it("follow the config: critical_opens false and high_count 2", async () => {
    // The same day's first cycles on a fresh store: replayed up to 12:10 with two highs on gpu.
    const store = await createTestStore();
    try {
      const config = await resolveConfig(
        { machines: [{ id: "m", ssh: "local" }], incidents: { critical_opens: false, high_count: 2, window_minutes: 15 } },
        { source: "x", env: {} },
      );
      expect(config.incidents).toEqual({ critical_opens: false, high_count: 2, window_minutes: 15 });
      const alert = (id: string, severity: string, labels: Record<string, string>, machine: string | null) =>
        store.run(`INSERT INTO alerts(alert_id, rule_id, alert_type, machine_id, labels_json, severity, title, state, first_seen_at, last_seen_at, fired_at, flapping, updated_at)
          VALUES ('${id}', '${id}', '${id}', ${machine ? `'${machine}'` : "NULL"}, '${JSON.stringify(labels)}', '${severity}', 'T ${id}', 'firing', '${t(9).toISOString()}', '${t(9).toISOString()}', '${t(9).toISOString()}', false, '${t(9).toISOString()}')`);
      const event = (id: string, severity: string, labels: Record<string, string>, machine: string | null) => ({
        type: "alert" as const,
        event: "firing" as const,
        event_id: `e-${id}`,
        alert_id: id,
        rule: id,
        severity,
        title: `T ${id}`,
        machine_id: machine,
        labels,
        value: null,
        message: "",
        expected: "",
        received: "",
        actions: [],
        at: t(9).toISOString(),
        suppressed_by: null,
      });
      await alert("crit", "critical", { machine_id: "m" }, "m");
      await alert("acc1", "high", { account: "a@x" }, null);
      await alert("acc2", "high", { account: "a@x" }, "m2");
      const r = await store.transaction((tx) =>
        advanceIncidents(tx, {
          at: t(9),
          events: [event("crit", "critical", { machine_id: "m" }, "m"), event("acc1", "high", { account: "a@x" }, null), event("acc2", "high", { account: "a@x" }, "m2")],
          config,
        }),
      );
      // the critical alone opens nothing; the two highs on one account open one
      expect(r).toEqual({ opened: ["inc-20260125-1"], joined: [] });
      const [inc] = await loadIncidents(store, { at: t(9).toISOString() });
      expect([inc!.title, inc!.accounts, inc!.machines]).toEqual(["2 high alerts on a@x: T acc1, T acc2", ["a@x"], ["m2"]]);
    } finally {
      await store.close();
    }
  });
});
