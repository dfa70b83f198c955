// Who needs you (issue 20.4): ntm's waiting agents as alerts that triage lists first, as events,
// and in the TUI (the Overview's strip and the Needs you pane) — a real vc on a real store, the
// feed from a fake ntm on PATH printing ntm's own outputs (test/fixtures/ntm).
import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock } from "../../lib/clock.ts";
import { openCockpit } from "../../lib/index.ts";
import { initialState, loadCore, loadScreen, reduce } from "../../lib/tui/app.ts";
import { emptyData, frame, frameText, listItems } from "../../lib/tui/frame.ts";
import { screensFor } from "../../lib/tui/screens/index.ts";
import { isolatedEnv, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000); // real processes

const FX = join(import.meta.dir, "../fixtures/ntm");
const dir = tempDir("vc-needs-you-");
const env = isolatedEnv(dir);
const cfg = join(dir, "vc.config.ts");

/** A fake ntm answering from `snapshot` (ntm's fixture, or a changed copy) and the fixtures' events and attention. */
function writeNtm(snapshot: string) {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "snapshot.json"), snapshot);
  writeFileSync(
    join(bin, "ntm"),
    `#!/bin/sh
case "$*" in
  --robot-snapshot*) cat '${join(bin, "snapshot.json")}' ;;
  --robot-attention*) cat '${join(FX, "robot-attention.json")}' ;;
  "--robot-events --since-cursor=117 "*) cat '${join(FX, "robot-events.json")}' ;;
  --robot-events*) echo '{"success":true,"timestamp":"2026-08-16T12:02:00Z","events":[],"next_cursor":123,"has_more":false}' ;;
  *) echo "Error: unknown flag: $1" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(join(bin, "ntm"), 0o755);
}
const SNAPSHOT = readFileSync(join(FX, "robot-snapshot.json"), "utf8");
const at = (iso: string) => ({ ...env, VC_NOW: iso });
const robot = async (view: string, iso: string, ...args: string[]) => {
  const r = await vc(["robot", view, ...args, "--config", cfg], { env: at(iso) });
  expect({ view, code: r.code, stderr: r.stderr }).toEqual({ view, code: 0, stderr: "" });
  return JSON.parse(r.stdout).data;
};

beforeAll(() => {
  writeNtm(SNAPSHOT);
  writeFileSync(
    cfg,
    `import { defineConfig } from "vibe-cockpit";
import { defaultRules, ntmAttention } from "vibe-cockpit/plugins";
export default defineConfig({ db: ${JSON.stringify(join(dir, "vc.duckdb"))}, machines: [{ id: "here", ssh: "local" }], collectors: [ntmAttention({ bin: ${JSON.stringify(join(dir, "bin", "ntm"))} })], rules: defaultRules() });
`,
  );
});

describe("who needs you", () => {
  it("raises agent_waiting for an agent waiting 5 minutes, agent_waiting_long past 30, lists them first in triage, and resolves when handled", async () => {
    // 12:20: the waiting agents have waited about 20 minutes (ntm's items are from 12:00).
    const c1 = await vc(["collect", "--once", "--config", cfg], { env: at("2026-08-16T12:20:00Z") });
    expect({ code: c1.code, stderr: c1.stderr }).toEqual({ code: 0, stderr: "" });
    let alerts = (await robot("alerts", "2026-08-16T12:20:00Z")).alerts as { rule: string; severity: string; labels: Record<string, string>; state: string }[];
    const waiting = alerts.filter((a) => a.rule === "agent_waiting");
    expect(waiting.map((a) => `${a.labels.session_name}:${a.labels.pane}`).sort()).toEqual(["corpus-session-1:0.2", "corpus-session-1:0.4"]);
    expect(waiting.every((a) => a.severity === "medium" && a.state === "firing")).toBe(true);
    // Triage: the waiting agents before anything else.
    const triage = await robot("triage", "2026-08-16T12:20:00Z");
    expect(triage.items.slice(0, 2).map((i: { title: string }) => i.title)).toEqual(["An agent waits for you", "An agent waits for you"]);
    // The attention view lists them with the same machine, session and pane.
    const att = await robot("attention", "2026-08-16T12:20:00Z");
    for (const w of waiting) expect(att.agents.some((a: { session: string; pane: string }) => a.session === w.labels.session_name && a.pane === w.labels.pane)).toBe(true);

    // 12:40: past 30 minutes → high.
    await vc(["collect", "--once", "--config", cfg], { env: at("2026-08-16T12:40:00Z") });
    alerts = (await robot("alerts", "2026-08-16T12:40:00Z")).alerts;
    expect(
      alerts
        .filter((a) => a.rule === "agent_waiting_long" && a.state === "firing")
        .map((a) => a.labels.pane)
        .sort(),
    ).toEqual(["0.2", "0.4"]);
    expect(alerts.filter((a) => a.rule === "agent_waiting_long").every((a) => a.severity === "high")).toBe(true);

    // 12:45: the erring claude (pane 0.4) was answered: ntm says it is active again. Its alert resolves; the other stays.
    const handled = JSON.parse(SNAPSHOT);
    for (const sess of handled.sessions ?? []) for (const a of sess.agents ?? []) if (a.state === "error") a.state = "active";
    writeNtm(JSON.stringify(handled));
    await vc(["collect", "--once", "--config", cfg], { env: at("2026-08-16T12:45:00Z") });
    const all = (await robot("alerts", "2026-08-16T12:45:00Z", "--all")).alerts as typeof alerts;
    const long = all.filter((a) => a.rule === "agent_waiting_long");
    expect(long.find((a) => a.labels.pane === "0.4")?.state).toBe("resolved");
    expect(long.find((a) => a.labels.pane === "0.2")?.state).toBe("firing");
    writeNtm(SNAPSHOT);
  });

  it("gives each wait as one event, and draws the Overview strip and the Needs you pane", async () => {
    const ev = await robot("events", "2026-08-16T12:45:00Z", "--source", "attention");
    expect(ev.sources).toEqual([{ name: "attention", group: "NEEDS YOU", count: ev.events.length }]);
    expect(ev.events.map((e: { title: string }) => e.title)).toContain("gemini in corpus-session-1 pane 0.2 is waiting");
    expect(new Set(ev.events.map((e: { key: string }) => e.key)).size).toBe(ev.events.length);

    await using c = await openCockpit({ file: cfg, env: at("2026-08-16T12:45:00Z"), readOnly: true, clock: createFixedClock("2026-08-16T12:45:00Z") });
    const now = new Date("2026-08-16T12:45:00Z");
    let s = initialState({ width: 120, height: 30, now, staleAfterSeconds: 3600, data: emptyData(), screens: screensFor(c.config.plugins ?? []) });
    s = { ...s, data: await loadCore(c, s.data, s.screens) };
    const overview = frameText(frame(s));
    expect(overview[2]).toMatch(/NEEDS YOU \d+ +\d+ agents wait; the oldest for \d+ min: here corpus-session-1:0\.[24]/);
    s = { ...s, screen: "attention" };
    s = { ...s, data: await loadScreen(c, s) };
    const pane = frameText(frame(s)).join("\n");
    expect(pane).toContain("WAITING FOR YOU");
    expect(listItems(s).length).toBe(((await c.view("attention")).data as { agents: unknown[] }).agents.length);
    expect(pane).toMatch(/→ open the pane +\$ tmux attach -t corpus-session-1/);
    // x on a waiting agent acks its alert (in vc, audited: ntm's code has no attention ack).
    const withAlert = listItems(s).findIndex((i) => i.alert?.rule === "agent_waiting_long");
    expect(withAlert).toBeGreaterThanOrEqual(0);
    const r = reduce({ ...s, selected: { attention: withAlert } }, "x");
    expect(r.action).toMatchObject({ type: "ack", alert: { rule: "agent_waiting_long" } });
    // Enter: the whole of it on the event level, with the command that opens the pane.
    const level = reduce({ ...s, selected: { attention: withAlert } }, "ENTER").state;
    expect(level.screen).toBe("event");
    const whole = frameText(frame(level)).join("\n");
    expect(whole).toMatch(/● HIGH \w+ in corpus-session-1 pane 0\.[24] is (waiting|error)/);
    expect(whole).toMatch(/\$ tmux attach -t corpus-session-1/);
    expect(reduce(level, "x").action).toMatchObject({ type: "ack", alert: { rule: "agent_waiting_long" } });
  });
});
