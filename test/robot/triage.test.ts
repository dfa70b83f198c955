// `vc robot triage` on a fleet whose samples are the real sysprobe probe output (test/fixtures/
// sysprobe), read by the real parser, with the held-out machine's figures put in: every unhealthy
// machine is listed with its worst factor, and an alert and the factor it is about are one item.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, finishCycle, openCockpit, resolveConfig, triage, type Cockpit, type FleetHealth, type Triage } from "../../lib/index.ts";
import { defaultRules, toolPlugins } from "../../plugins/index.ts";
import { parseProbe } from "../../plugins/sysprobe/index.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const probe = readFileSync(join(import.meta.dir, "../fixtures/sysprobe/probe-output.txt"), "utf8");
const T = new Date("2026-03-10T12:00:00.000Z");
const ago = (min: number) => new Date(T.getTime() - min * 60_000);

/** The real probe output with some lines of it changed. */
function probeWith(edits: [RegExp, string][]): string {
  let text = probe;
  for (const [from, to] of edits) {
    if (!from.test(text)) throw new Error(`no ${from} in the probe fixture`);
    text = text.replace(from, to);
  }
  return text;
}
// The held-out machine: memory 95.8 % used (MemAvailable 4.2 % of MemTotal), 8 GiB of swap full
// (and 90 % full ten minutes before: swap_rising fires).
const swapped = (freeKb: number) =>
  [
    [/MemAvailable: +\d+ kB/, "MemAvailable:    1036713 kB"],
    [/SwapTotal: +0 kB/, "SwapTotal:       8388604 kB"],
    [/SwapFree: +0 kB/, `SwapFree:        ${freeKb} kB`],
  ] as [RegExp, string][];
// A machine whose root filesystem is 97 % full: disk_low fires, and its disk factor is critical.
const full: [RegExp, string][] = [[/\/dev\/vda +264212084 +23134212 +83256700 +22% \//, "/dev/vda                  264212084 256285722   7926362      97% /"]];

const dir = tempDir("vc-triage-");
let vc: Cockpit;
afterAll(async () => vc?.close());

async function fleet(): Promise<Cockpit> {
  const config = await resolveConfig(
    {
      db: join(dir, "vc.duckdb"),
      data_dir: dir,
      machines: ["gpu", "orko", "trj"].map((id) => ({ id, ssh: "local" })),
      collectors: [],
      plugins: [...toolPlugins],
      rules: defaultRules(),
    },
    { source: "triage-test", env: {} },
  );
  const clock = createFixedClock(ago(10));
  vc = await openCockpit({ config, clock });
  for (const [min, outputs] of [
    [10, { gpu: probeWith(swapped(838_860)), orko: probe, trj: probeWith(full) }],
    [0, { gpu: probeWith(swapped(0)), orko: probe, trj: probeWith(full) }],
  ] as const) {
    clock.set(ago(min));
    for (const [machine_id, text] of Object.entries(outputs)) {
      const warnings: string[] = [];
      const { sample, filesystems } = parseProbe(text, (w) => warnings.push(w));
      expect(warnings).toEqual([]);
      const stamp = { machine_id, collected_at: ago(min), source: "sysprobe" };
      await vc.store.insert("sys_samples", [{ ...stamp, ...sample }]);
      await vc.store.insert(
        "filesystems",
        filesystems.map((f) => ({ ...stamp, ...f })),
      );
    }
    const outcome = await finishCycle({ store: vc.store, config, clock, rules: config.rules, channels: [] });
    expect(outcome.ruleErrors).toEqual([]);
  }
  return vc;
}

describe("vc robot triage", () => {
  it("lists every unhealthy machine with its worst factor, an alert and its factor as one item", async () => {
    const vc = await fleet();
    const health = await vc.health();
    expect(health.machines.map((m) => [m.id, m.score, m.severity, m.top_issue])).toEqual([
      ["gpu", 0.21, "critical", "memory"],
      ["orko", 1, "ok", null],
      ["trj", 0.1, "critical", "disk"],
    ]);
    expect((await vc.alerts()).map((a) => [a.rule, a.machine_id, a.state]).sort()).toEqual([
      ["disk_low", "trj", "firing"],
      ["swap_rising", "gpu", "firing"],
    ]);

    const { data } = (await vc.view("triage", {})) as { data: Triage };
    expect(data.items.map((i) => [i.rank, i.kind, i.machine_id, i.title, i.severity, i.factor, i.factor_severity, i.factor_detail, i.machine_score])).toEqual([
      // trj's alert and its disk factor: one item, both as evidence
      [1, "alert", "trj", "Disk nearly full", "critical", "disk", "critical", "/ 97 % full", 0.1],
      // gpu already alerts (swap): its worst factor is listed all the same
      [2, "health", "gpu", "memory", "critical", "memory", "critical", "memory 95.8 % used", 0.21],
      // gpu's swap alert, with the swap factor it is about (high, so the item is high)
      [3, "alert", "gpu", "Swap in use and rising", "high", "swap", "high", "swap 100 % used", 0.21],
    ]);
    expect(data.items[0]!.message).toBe("/ on trj has 3 % free (7.56 GiB of 251.97 GiB)");
    // the merged item's suggestions: the alert's, then the factor's that add something
    expect(data.suggestions[data.items[2]!.id]!.map((s) => s.command)).toEqual(["vc robot machine gpu", "pt robot plan --format json"]);
    // every unhealthy machine appears, with its worst factor
    for (const m of health.machines.filter((x) => x.severity !== "ok" && x.severity !== "low")) {
      expect(data.items.some((i) => i.machine_id === m.id && i.factor === m.top_issue)).toBe(true);
    }
  });

  it("keeps the items ranked, and an acked alert sinks with the factor it carries", () => {
    const health: FleetHealth = {
      overall: { score: 0.2, severity: "critical" },
      staleness: {},
      warnings: [],
      machines: [
        {
          id: "gpu",
          score: 0.21,
          severity: "critical",
          top_issue: "memory",
          last_sample_at: T.toISOString(),
          factors: [
            { id: "memory", score: 0.21, severity: "critical", detail: "memory 95.8 % used", value: 95.8 },
            { id: "swap", score: 0.3, severity: "high", detail: "swap 100 % used", value: 100 },
          ],
        },
      ],
    };
    const alert = (rule: string, severity: string, acked: boolean) => ({
      alert_id: `${rule}:1`,
      rule,
      severity,
      title: rule,
      state: "firing",
      machine_id: "gpu",
      labels: { machine_id: "gpu" },
      value: 1,
      message: rule,
      expected: null,
      received: null,
      first_seen_at: ago(30).toISOString(),
      last_seen_at: T.toISOString(),
      fired_at: ago(30).toISOString(),
      resolved_at: null,
      acked: acked ? { by: "me", at: T.toISOString(), note: null } : null,
      flapping: false,
      silenced_by: null,
      actions: [],
    });
    const rules = [
      { id: "oom_kill", factors: ["memory"] },
      { id: "swap_rising", factors: ["swap"] },
    ];
    const open = triage([alert("oom_kill", "high", false), alert("swap_rising", "medium", false)], health, T, { rules });
    expect(open.items.map((i) => [i.id, i.severity, i.factor, i.score])).toEqual([
      ["oom_kill:1", "critical", "memory", 95],
      ["swap_rising:1", "high", "swap", 55],
    ]);
    // acked: the person knows; the item (alert and factor) sinks below the unacked one
    const acked = triage([alert("oom_kill", "high", true), alert("swap_rising", "medium", false)], health, T, { rules });
    expect(acked.items.map((i) => [i.id, i.acked, i.score])).toEqual([
      ["swap_rising:1", false, 55],
      ["oom_kill:1", true, 45],
    ]);
    // without the rules' factors, the alerts and the factors are all listed, none hiding another
    const unlinked = triage([alert("oom_kill", "high", false)], health, T);
    expect(unlinked.items.map((i) => i.id)).toEqual(["gpu:memory", "oom_kill:1", "gpu:swap"]);
    expect(unlinked.items.map((i) => i.rank)).toEqual([1, 2, 3]);
  });
});
