// A protocol on a machine reached over SSH (a real sshd on 127.0.0.1) that goes away mid-run: the
// steps that ran are recorded, the step that could not reach the machine is recorded as failed,
// the run ends as failed and frees its target — no half-state hidden.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { openCockpit, resolveConfig, sql, type Cockpit } from "../../lib/index.ts";
import { startSshd, type Sshd } from "../helpers/sshd.ts";
import { tempDir } from "../helpers/tmp.ts";
import { makeTank, tankLog, tankPlugin } from "./_tank.ts";

setDefaultTimeout(120_000);

const root = tempDir("vc-guardian-ssh-");
let sshd: Sshd;
let vc: Cockpit;
let tool: string;

beforeAll(async () => {
  sshd = await startSshd();
  // The SSH user (another account when tests run as root) runs the tool and writes beside it.
  chmodSync(root, 0o755);
  tool = join(root, "tool");
  mkdirSync(tool, { recursive: true, mode: 0o777 });
  chmodSync(tool, 0o777);
  const bin = makeTank(tool, 97);
  chmodSync(join(tool, "level"), 0o666);
  const config = await resolveConfig(
    {
      db: join(root, "vc.duckdb"),
      data_dir: root,
      machines: [
        {
          id: "far",
          ssh: `${sshd.user}@127.0.0.1:${sshd.port}`,
          identity_file: sshd.userKey,
          known_hosts: [sshd.knownHosts],
          allow_autopilot: true,
          allow_write_commands: true,
        },
      ],
      plugins: [tankPlugin(bin, { wait: 3 })],
      autopilot: { mode: "execute-safe", safe_commands: { allow: [`${bin} **`] } },
    },
    { source: "guardian-ssh-test", env: {} },
  );
  vc = await openCockpit({ config, env: { HOME: join(root, "home") } });
  const report = await vc.collect();
  const tank = report.machines.flatMap((m) => m.runs).find((r) => r.collector === "tank");
  if (tank?.result !== "ok") throw new Error(`the first collection over SSH failed: ${JSON.stringify(tank)}`);
});
afterAll(async () => {
  await vc?.close();
  await sshd?.stop();
});

describe("a machine unreachable mid-protocol", () => {
  test("the run ends failed at the step that could not reach it; what ran before is on record; the target is free", async () => {
    const level = await vc.store.query<{ level: number }>("SELECT level FROM tank_levels");
    expect(level.map((r) => r.level)).toEqual([97]);
    const running = vc.guardianCheck();
    // The diagnosis ran over SSH; during the treatment's pause the machine goes away. The step on
    // record (not the tool's log, written before its command has returned over SSH) says it is done.
    const inspected = async () => (await vc.store.query(sql`SELECT 1 FROM guardian_steps WHERE step = 'inspect' AND status = 'ok'`)).length > 0;
    for (const end = Date.now() + 20_000; !(await inspected()) && Date.now() < end; ) await Bun.sleep(50);
    expect(tankLog(tool)).toEqual(["inspect"]);
    await sshd.stop();
    const r = await running;
    expect(r.items[0]).toMatchObject({ action: "ran", status: "failed" });
    const run = (await vc.robotGuardian({ id: r.items[0]!.run_id! })).data.runs[0]!;
    expect(run.reason).toContain("drain on far failed: far could not be reached");
    expect(run.steps.map((s) => [s.step, s.status])).toEqual([
      ["history", "ok"],
      ["inspect", "ok"],
      ["settle", "ok"],
      ["drain", "failed"],
      // It may have half-run: the rollback is tried, and fails the same way — on record too.
      ["refill", "failed"],
    ]);
    expect(run.reason).toContain("the rollback did not complete: refill on far failed: far could not be reached");
    expect(tankLog(tool)).toEqual(["inspect"]);
    expect(await vc.store.query("SELECT * FROM guardian_active")).toEqual([]);
    const audit = await vc.store.query<{ action: string; result: string }>(
      sql`SELECT action, result FROM audit_events WHERE event_type = 'autopilot_action' ORDER BY ts, event_id`,
    );
    expect(audit.map((a) => a.result)).toEqual(["ok", "failed", "failed"]);
  });
});
