import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { isolatedEnv, vc, vcSpawn } from "../helpers/cli.ts";
import { dcgWatchSetup, lineWaiter } from "../helpers/dcg-watch.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000); // real processes

describe("vc watch", () => {
  it("streams JSON lines: a heartbeat, then an alert as soon as a watched dcg log grows", async () => {
    const dir = tempDir("vc-watch-");
    mkdirSync(join(dir, "home"), { recursive: true });
    const env = isolatedEnv(dir);
    const { config, denies } = dcgWatchSetup(env.HOME!);
    const p = vcSpawn(["watch", "--config", config, "--interval", "3600"], { env });
    try {
      const out = lineWaiter(p.stdout as ReadableStream<Uint8Array>);
      const beat = JSON.parse(await out.next((l) => l.includes('"heartbeat"')));
      expect(beat).toMatchObject({ type: "heartbeat", firing: 0 });
      denies(15);
      const alert = JSON.parse(await out.next((l) => l.includes('"type":"alert"')));
      expect(alert).toMatchObject({ type: "alert", event: "firing", rule: "dcg_deny_spike", machine_id: "here", value: 15, suppressed_by: null });
      expect(alert.message).toContain("dcg denied 15 commands in the last hour");
      // the denies themselves, as the common event shape, each once
      const event = JSON.parse(await out.next((l) => l.includes('"type":"event"')));
      expect(event).toMatchObject({ type: "event", event: { source: "dcg", group: "DCG DENIES", machine_id: "here", severity: "high" } });
      expect(event.event.title).toMatch(/^deny /);
      // and the cycle that produced it says it finished, with its number of changes
      const cycle = JSON.parse(await out.next((l) => l.includes('"type":"cycle"') && l.includes('"changes":1')));
      expect(cycle).toMatchObject({ type: "cycle", changes: 1 });
      const events = out.lines.filter((l) => l.includes('"type":"event"')).map((l) => JSON.parse(l).event.key);
      expect(events.length).toBe(15);
      expect(new Set(events).size).toBe(15);
      // nothing that was there before the watch began (the feed starts from what is already stored)
      expect(out.lines.findIndex((l) => l.includes('"type":"event"'))).toBeGreaterThan(out.lines.findIndex((l) => l.includes('"heartbeat"')));
      // every line is one JSON object
      for (const l of out.lines) expect(() => JSON.parse(l)).not.toThrow();
      // Meanwhile this watch holds the store and serves it: an agent's commands still answer.
      const robot = await vc(["robot", "alerts", "--config", config], { env });
      expect({ code: robot.code, stderr: robot.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(robot.stdout).data.alerts.map((a: { rule: string }) => a.rule)).toEqual(["dcg_deny_spike"]);
    } finally {
      p.kill("SIGINT");
      await p.exited;
    }
  });
});

describe("vc watch through the daemon", () => {
  it("relays the daemon's stream, and the daemon collects a watched dcg log within about a second", async () => {
    const dir = tempDir("vc-watchd-");
    mkdirSync(join(dir, "home"), { recursive: true });
    const env = isolatedEnv(dir);
    const { config, denies } = dcgWatchSetup(env.HOME!);
    const daemon = vcSpawn(["up", "--config", config], { env });
    const socket = join(env.HOME!, "watch.sock"); // beside the store, named after it
    try {
      for (let i = 0; i < 200 && !existsSync(socket); i++) await Bun.sleep(50);
      expect(existsSync(socket)).toBe(true);
      const w = vcSpawn(["watch", "--config", config], { env });
      try {
        const out = lineWaiter(w.stdout as ReadableStream<Uint8Array>);
        expect(JSON.parse(await out.next((l) => l.includes('"heartbeat"')))).toMatchObject({ type: "heartbeat" });
        denies(12);
        const alert = JSON.parse(await out.next((l) => l.includes('"type":"alert"')));
        expect(alert).toMatchObject({ event: "firing", rule: "dcg_deny_spike", value: 12 });
        // the daemon's stream carries the denies as events too
        const event = JSON.parse(await out.next((l) => l.includes('"type":"event"')));
        expect(event).toMatchObject({ type: "event", event: { source: "dcg", machine_id: "here" } });
      } finally {
        w.kill("SIGINT");
        await w.exited;
      }
    } finally {
      daemon.kill("SIGTERM");
      await daemon.exited;
    }
  });
});
