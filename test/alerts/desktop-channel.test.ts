import { afterAll, describe, expect, it } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, deliverEvents, type AlertEvent, type ChannelContext, type Store } from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { desktop } from "../../plugins/channels/index.ts";
import { UNSAFE } from "../helpers/escapes.ts";
import { tempDir } from "../helpers/tmp.ts";

// notify-send stand-ins first on the PATH the channel is given (never this process's PATH): one
// that records its argv (NUL-separated), one that fails as notify-send does without a session bus.
const dir = tempDir("vc-desktop-");
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

function fakeNotifySend(name: string, script: string): string {
  const bin = join(dir, name);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "notify-send"), `#!/bin/sh\n${script}\n`);
  chmodSync(join(bin, "notify-send"), 0o755);
  return bin;
}
const argvFile = join(dir, "argv");
const recording = fakeNotifySend("recording", `for a in "$@"; do printf '%s\\0' "$a"; done > '${argvFile}'`);
const failing = fakeNotifySend("failing", `echo "Failed to connect to the session bus" >&2; exit 1`);
const empty = join(dir, "empty");
mkdirSync(empty);
const recorded = () => readFileSync(argvFile, "utf8").split("\0").slice(0, -1);
const envWith = (bin: string) => ({ ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` });

const clock = createFixedClock("2026-01-25T03:00:00Z");
const ctx: ChannelContext = { dataDir: dir, storeFile: (name) => join(dir, `vc.${name}`) };
const alert = (over: Partial<AlertEvent> = {}): AlertEvent => ({
  type: "alert",
  event: "firing",
  event_id: `e-${crypto.randomUUID()}`,
  alert_id: "a1",
  rule: "disk_low",
  severity: "critical",
  title: "Disk almost full",
  machine_id: "orko",
  labels: {},
  value: 97,
  message: "/data is 97% full",
  expected: "< 90%",
  received: "97%",
  actions: [],
  at: "2026-01-25T03:00:00.000Z",
  suppressed_by: null,
  ...over,
});

async function store() {
  const s = await createTestStore();
  stores.push(s);
  return s;
}

describe("desktop channel", () => {
  it("runs notify-send with an argv: app name vc, urgency from severity, title and body after --", async () => {
    const s = await store();
    const e = alert();
    const [report] = await deliverEvents({ store: s, clock, channels: [desktop({ env: envWith(recording) })], events: [e], ctx });
    expect(report).toEqual({ channel: "desktop", event_id: e.event_id, ok: true, attempts: 1 });
    expect(recorded()).toEqual(["--app-name=vc", "--urgency=critical", "--", "FIRING critical: Disk almost full on orko", "/data is 97% full\nexpected &lt; 90%, received 97%"]);

    await desktop({ env: envWith(recording), expireMs: 5000 }).deliver(alert({ event: "resolved", severity: "low", machine_id: null }), ctx);
    expect(recorded()).toEqual(["--app-name=vc", "--urgency=low", "--expire-time=5000", "--", "RESOLVED: Disk almost full", "/data is 97% full\nexpected &lt; 90%, received 97%"]);

    await desktop({ env: envWith(recording), urgency: { high: "critical" } }).deliver(alert({ severity: "high" }), ctx);
    expect(recorded()[1]).toBe("--urgency=critical");
    await desktop({ env: envWith(recording) }).deliver(alert({ severity: "high" }), ctx);
    expect(recorded()[1]).toBe("--urgency=normal");
  });

  it("strips escape sequences and controls; the body's markup and backslashes arrive inert", async () => {
    const title = "-disk \x1b]0;pwned\x07full\u202e \x1b[31mnow\x1b[0m";
    const message = "at \\033[31m <b>97%</b> & \u009b2Jrising\x07";
    await desktop({ env: envWith(recording) }).deliver(alert({ title, message, machine_id: "or\x1b[2Jko" }), ctx);
    const argv = recorded();
    expect(argv.slice(0, 3)).toEqual(["--app-name=vc", "--urgency=critical", "--"]);
    expect(argv[3]).toBe("FIRING critical: -disk full now on orko");
    // notify-send expands backslash escapes in the body (\033 would be ESC again): they are doubled
    expect(argv[4]).toBe("at \\\\033[31m &lt;b&gt;97%&lt;/b&gt; &amp; rising\nexpected &lt; 90%, received 97%");
    for (const a of argv) expect(a).not.toMatch(UNSAFE);
  });

  it("is skipped with a reason, not failed, where notify-send is not on PATH", async () => {
    const s = await store();
    const e = alert();
    const [report] = await deliverEvents({ store: s, clock, channels: [desktop({ env: { ...process.env, PATH: empty } })], events: [e], ctx });
    expect(report).toEqual({ channel: "desktop", event_id: e.event_id, ok: true, attempts: 1, skipped: "notify-send not found on PATH" });
    const rows = await s.query<{ status: string; error: string }>("SELECT status, error FROM alert_deliveries");
    expect(rows).toEqual([{ status: "skipped", error: "notify-send not found on PATH" }]);
  });

  it("a notify-send that fails is a failed delivery with its message", async () => {
    const s = await store();
    const [report] = await deliverEvents({ store: s, clock, channels: [desktop({ env: envWith(failing) })], events: [alert()], ctx });
    expect(report).toMatchObject({ ok: false, error: "notify-send exited 1: Failed to connect to the session bus" });
    const rows = await s.query<{ status: string }>("SELECT status FROM alert_deliveries");
    expect(rows).toEqual([{ status: "failed" }]);
  });
});
