// The oracle's forecasting core and `vc oracle backtest`: causality on the real dev traces, every
// bad input of issue 14 (each a test), and the CLI's errors.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccountOracle, actionFor, backtest, forecastAccount, type UsageSnapshot } from "../../plugins/oracle/model.ts";
import { isolatedEnv, vc } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "vc-oracle-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tracesPath = join(import.meta.dir, "..", "fixtures", "oracle", "dev-traces.jsonl");
const traceLines = readFileSync(tracesPath, "utf8").split("\n").filter(Boolean);

/** A steady account: `agents` agents burning `perAgent` points a minute each, a snapshot every 2 min, capped at 100 %. */
function steady(n: number, o: { start?: number; perAgent?: number; agents?: number; used0?: number; window?: number | null } = {}): UsageSnapshot[] {
  const t0 = Date.parse("2026-11-02T00:00:00Z");
  const per = o.perAgent ?? 0.1;
  const agents = o.agents ?? 4;
  return Array.from({ length: n }, (_, i) => ({
    account: "a@x",
    ts: new Date(t0 + ((o.start ?? 0) + 2 * i) * 60_000).toISOString(),
    used_percent: Math.min(100, Math.round(((o.used0 ?? 10) + per * agents * 2 * i) * 10) / 10),
    window_minutes: o.window === undefined ? 300 : o.window,
    resets_at: new Date(t0 + 300 * 60_000).toISOString(),
    working_agents: agents,
  }));
}

describe("forecastAccount", () => {
  test("a steady burn: time to the limit, an interval around it, the fleet signal used", () => {
    const f = forecastAccount(steady(30))!;
    // 10 % + 0.4 points/min × 58 min = 33.2 %; 66.8 points left at 0.4 points/min.
    expect(f.used_percent).toBeCloseTo(33.2, 1);
    expect(f.burn_per_min).toBeCloseTo(0.4, 2);
    expect(f.time_to_limit_min!).toBeCloseTo(167, 0);
    expect(f.low_min!).toBeLessThan(f.time_to_limit_min!);
    expect(f.uses_fleet_signal).toBe(true);
    expect(f.action).toBe("slow_down");
    expect(f.warnings).toEqual([]);
  });

  test("the fleet signal: agents stopping now lower the burn at once; without it the burn lags", () => {
    const s = steady(30);
    // 4 agents, then 1 over the last interval (its two snapshots): a quarter of the burn.
    s[28]!.working_agents = 1;
    s[29]!.working_agents = 1;
    const withFleet = forecastAccount(s)!;
    const without = forecastAccount(s, undefined, { fleet: false })!;
    expect(withFleet.burn_per_min).toBeGreaterThan(0.09);
    expect(withFleet.burn_per_min).toBeLessThan(0.16);
    expect(without.burn_per_min).toBeCloseTo(0.4, 1);
    expect(without.uses_fleet_signal).toBe(false);
  });

  test("unsorted lines and duplicates: the same forecast as sorted, the duplicate dropped with a warning", () => {
    const s = steady(30);
    const shuffled = [...s].reverse();
    shuffled.push({ ...s[10]!, used_percent: 99 });
    const a = forecastAccount(s)!;
    const b = forecastAccount(shuffled)!;
    expect(b.time_to_limit_min).toBe(a.time_to_limit_min);
    expect(b.warnings.join("\n")).toContain("not after the previous one dropped");
  });

  test("a reset mid-trace: the drop is not a negative burn, and the new window's forecast uses the burn before it", () => {
    const before = steady(20, { used0: 60 });
    const after = steady(10, { start: 40, used0: 0 }).map((x) => ({ ...x, resets_at: "2026-11-02T10:00:00Z" }));
    const f = forecastAccount([...before, ...after])!;
    expect(f.burn_per_min).toBeCloseTo(0.4, 2);
    expect(f.used_percent).toBeCloseTo(7.2, 1);
    expect(f.time_to_limit_min!).toBeCloseTo((100 - 7.2) / 0.4, 0);
  });

  test("usage at the limit: the burn while capped does not count, and the account pauses", () => {
    const s = steady(20, { used0: 90 });
    const f = forecastAccount(s)!;
    expect(f.warnings.join("\n")).not.toContain("above 100");
    expect(f.time_to_limit_min).toBe(0);
    expect(f.action).toBe("emergency_pause");
    // After the reset, the burn is the one before the cap, not diluted by the minutes at 100 %.
    const after = steady(5, { start: 50, used0: 0 }).map((x) => ({ ...x, resets_at: "2026-11-02T10:00:00Z" }));
    expect(forecastAccount([...s, ...after])!.burn_per_min).toBeCloseTo(0.4, 1);
  });

  test("usage above 100 %: clamped with a warning", () => {
    const s = steady(10);
    s[9]!.used_percent = 104;
    const f = forecastAccount(s)!;
    expect(f.used_percent).toBe(100);
    expect(f.time_to_limit_min).toBe(0);
    expect(f.warnings.join("\n")).toContain("used_percent above 100 (104");
  });

  test("gaps of an hour: a warning, a forecast from the usage gained over the gap", () => {
    const s = steady(60).filter((_, i) => i < 10 || i >= 40);
    const f = forecastAccount(s)!;
    expect(f.warnings.join("\n")).toMatch(/a gap of \d+ min/);
    expect(f.burn_per_min).toBeCloseTo(0.4, 1);
    expect(f.time_to_limit_min).not.toBeNull();
  });

  test("no window length: a warning, the reset time still bounds the forecast", () => {
    const f = forecastAccount(steady(10, { window: null, perAgent: 0.01 }))!;
    expect(f.warnings.join("\n")).toContain("no window length");
    // 0.04 points/min from 10.7 %: the limit is long after the reset (about 4.7 h away).
    expect(f.time_to_limit_min).toBeNull();
    expect(f.action).toBe("continue");
  });

  test("unknown fields are ignored", () => {
    const s = steady(30);
    const odd = s.map((x) => ({ ...x, provider: "claude", extra: { nested: [1, 2] } }));
    expect(forecastAccount(odd)!.time_to_limit_min).toBe(forecastAccount(s)!.time_to_limit_min);
  });

  test("no working_agents: falls back to the burn over time and says it lacks the fleet signal", () => {
    const s = steady(30).map(({ working_agents: _, ...x }) => x);
    const f = forecastAccount(s)!;
    expect(f.uses_fleet_signal).toBe(false);
    expect(f.burn_per_min).toBeCloseTo(0.4, 2);
    expect(f.warnings.join("\n")).toContain("no fleet signal");
  });

  test("forecast at a time: only snapshots at or before it count", () => {
    const s = steady(30);
    const at = s[14]!.ts;
    expect(forecastAccount(s, at)).toEqual(forecastAccount(s.slice(0, 15))!);
  });

  test("actions by time to the limit", () => {
    expect(actionFor(50, null)).toBe("continue");
    expect(actionFor(50, 90)).toBe("slow_down");
    expect(actionFor(50, 25)).toBe("prepare_swap");
    expect(actionFor(50, 5)).toBe("swap_now");
    expect(actionFor(100, 0)).toBe("emergency_pause");
  });

  test("the incremental oracle and the backtest agree with forecastAccount at every snapshot", () => {
    const s = steady(40);
    const o = new AccountOracle("a@x");
    const bt = [...backtest(s)];
    s.forEach((x, i) => {
      const inc = o.push(x)!;
      expect(inc).toEqual(forecastAccount(s.slice(0, i + 1))!);
      expect(bt[i]).toEqual(inc);
    });
  });
});

describe("vc oracle backtest", () => {
  const env = isolatedEnv(dir);

  test("causal: forecasts before a cut of the file do not change when the file is cut short", async () => {
    // Unsorted on purpose: the real traces are grouped by account; the cut is by time.
    const cutTs = "2026-11-03T12:00:00Z";
    const full = join(dir, "full.jsonl");
    const cut = join(dir, "cut.jsonl");
    writeFileSync(full, traceLines.join("\n") + "\n");
    writeFileSync(cut, traceLines.filter((l) => Date.parse(JSON.parse(l).ts) <= Date.parse(cutTs)).join("\n") + "\n");
    const [a, b] = await Promise.all([vc(["oracle", "backtest", "--usage", full], { env }), vc(["oracle", "backtest", "--usage", cut], { env })]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const linesA = a.stdout.split("\n").filter(Boolean);
    const linesB = b.stdout.split("\n").filter(Boolean);
    expect(linesA.length).toBe(traceLines.length);
    const before = linesA.filter((l) => Date.parse(JSON.parse(l).ts) <= Date.parse(cutTs));
    expect(linesB.length).toBeGreaterThan(10_000);
    expect(linesB).toEqual(before);
    // In time order, one line per snapshot, with the fields issue 14 names.
    const first = JSON.parse(linesA[0]!);
    expect(Object.keys(first)).toEqual(["account", "ts", "time_to_limit_min", "low_min", "high_min", "action"]);
    const ts = linesA.map((l) => Date.parse(JSON.parse(l).ts));
    expect(ts.every((t, i) => i === 0 || t >= ts[i - 1]!)).toBe(true);
  }, 60_000);

  test("--no-fleet gives the forecast without the fleet signal", async () => {
    const f = join(dir, "nofleet.jsonl");
    const s = steady(30, { perAgent: 0.2 });
    s[29]!.working_agents = 1;
    writeFileSync(f, s.map((x) => JSON.stringify(x)).join("\n"));
    const [a, b] = await Promise.all([vc(["oracle", "backtest", "--usage", f], { env }), vc(["oracle", "backtest", "--usage", f, "--no-fleet"], { env })]);
    const last = (out: string) => JSON.parse(out.trim().split("\n").at(-1)!);
    expect(last(a.stdout).time_to_limit_min).toBeGreaterThan(last(b.stdout).time_to_limit_min * 1.5);
  });

  test("a missing file: a clear error, exit 1", async () => {
    const r = await vc(["oracle", "backtest", "--usage", join(dir, "nope.jsonl")], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nope.jsonl: no such file");
    expect(r.stderr).not.toContain("internal error");
  });

  test("bad lines: not JSON and missing fields named by line number, the rest forecast", async () => {
    const f = join(dir, "bad.jsonl");
    const good = steady(3).map((x) => JSON.stringify(x));
    writeFileSync(f, [good[0], "{not json", good[1], JSON.stringify({ ts: "2026-11-02T00:10:00Z", used_percent: 3 }), JSON.stringify({ account: "b" }), good[2]].join("\n"));
    const r = await vc(["oracle", "backtest", "--usage", f], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("bad.jsonl:2: not JSON");
    expect(r.stderr).toContain("bad.jsonl:4: no usable account");
    expect(r.stderr).toMatch(/bad\.jsonl:5: no usable ts, used_percent/);
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
  });

  test("a snapshot without working_agents: the CLI warns that the fleet signal is missing", async () => {
    const f = join(dir, "nowa.jsonl");
    writeFileSync(
      f,
      steady(5)
        .map(({ working_agents: _, ...x }) => JSON.stringify(x))
        .join("\n"),
    );
    const r = await vc(["oracle", "backtest", "--usage", f], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("no fleet signal");
    expect(r.stdout.trim().split("\n")).toHaveLength(5);
  });
});
