import { afterAll, describe, expect, it } from "bun:test";
import { existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appendPrivateFile, createFixedClock, deliverEvents, type AlertEvent, type Store } from "../../lib/index.ts";
import { createTestStore } from "../../lib/testkit.ts";
import { alertsJsonl } from "../../plugins/channels/index.ts";
import { UNSAFE } from "../helpers/escapes.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir("vc-channel-");
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});
const mode = (p: string) => statSync(p).mode & 0o777;
const event = (message: string) =>
  ({ event_id: `e-${Math.random()}`, alert_id: "a1", event: "firing", rule: "r", machine_id: "m", severity: "high", message, suppressed_by: null }) as unknown as AlertEvent;

/** Runs `fn` with the most permissive umask, as a careless environment would have it. */
function withUmask<T>(mask: number, fn: () => T): T {
  const old = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

describe("alerts.jsonl", () => {
  it("is created owner-only in an owner-only folder whatever the umask", () => {
    const file = join(dir, "fresh", "data", "vc.alerts.jsonl");
    withUmask(0, () => appendPrivateFile(file, "one\n"));
    appendPrivateFile(file, "two\n");
    expect(readFileSync(file, "utf8")).toBe("one\ntwo\n");
    expect(mode(file)).toBe(0o600);
    expect(mode(join(dir, "fresh", "data"))).toBe(0o700);
  });

  it("refuses to write through a symlink planted where it should be, and says so", async () => {
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "precious\n");
    const file = join(dir, "planted.alerts.jsonl");
    symlinkSync(victim, file);
    expect(() => appendPrivateFile(file, "x\n")).toThrow(/symbolic link/);
    // through the channel and the delivery loop: a failed, recorded delivery, nothing written
    const store = await createTestStore();
    stores.push(store);
    const e = event("disk full");
    const reports = await deliverEvents({
      store,
      clock: createFixedClock("2026-01-25T03:00:00Z"),
      channels: [alertsJsonl()],
      events: [e],
      ctx: { dataDir: dir, storeFile: () => file },
    });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ channel: "alerts.jsonl", ok: false });
    expect(reports[0]!.error).toContain(`${file} is a symbolic link`);
    const rows = await store.query<{ status: string; error: string }>("SELECT status, error FROM alert_deliveries");
    expect(rows).toEqual([{ status: "failed", error: reports[0]!.error! }]);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
  });

  it("refuses a FIFO planted in its place without blocking", () => {
    const fifo = join(dir, "fifo.alerts.jsonl");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    expect(() => appendPrivateFile(fifo, "x\n")).toThrow(/not a regular file/);
  });

  it("writes controls in messages as JSON escapes, never raw", async () => {
    const file = join(dir, "escaped.alerts.jsonl");
    const message = "load \u202e9 on\u009b31m \x1b]0;t\x07a";
    await alertsJsonl().deliver(event(message), { dataDir: dir, storeFile: () => file });
    const text = readFileSync(file, "utf8");
    expect(text).not.toMatch(UNSAFE);
    expect(JSON.parse(text).message).toBe(message);
    expect(existsSync(file)).toBe(true);
  });
});
