// The guardian's web tests' daemon: `runDaemon` in this process with HTTP on 127.0.0.1 (port 0) over
// a store of local machines sharing one fake `tank` (test/guardian/_tank.ts: every argv it gets is
// in argv.log), the autopilot in execute-with-approval, and one pending run per machine made by a
// real guardianCheck.
import { join } from "node:path";
import { openCockpit, resolveConfig, runDaemon, type Cockpit, type WebServerOptions } from "../../lib/index.ts";
import { makeTank, tankPlugin } from "../guardian/_tank.ts";

export interface GuardianDaemon {
  vc: Cockpit;
  url: string;
  port: number;
  /** The tank's folder (argv.log) and the tank itself. */
  tool: string;
  bin: string;
  /** The pending run on each machine. */
  pending: Record<string, string>;
  errors: unknown[];
  stop(): Promise<void>;
}

export async function startGuardianDaemon(
  dir: string,
  machines: readonly string[],
  o: { http?: Partial<WebServerOptions>; plugin?: Parameters<typeof tankPlugin>[1] } = {},
): Promise<GuardianDaemon> {
  const tool = join(dir, "tool");
  const bin = makeTank(tool, 95);
  const config = await resolveConfig(
    {
      db: join(dir, "vc.duckdb"),
      data_dir: dir,
      machines: machines.map((id) => ({ id, ssh: "local", allow_autopilot: true, allow_write_commands: true })),
      plugins: [tankPlugin(bin, o.plugin)],
      autopilot: { mode: "execute-with-approval" },
    },
    { source: "guardian web test", env: {} },
  );
  const vc = await openCockpit({ config, env: {} });
  await vc.collect();
  const check = await vc.guardianCheck();
  const pending = Object.fromEntries(check.items.filter((i) => i.action === "pending").map((i) => [i.machine, i.run_id!]));
  if (Object.keys(pending).length !== machines.length) throw new Error(`expected a pending run per machine: ${JSON.stringify(check.items)}`);
  const stop = new AbortController();
  const errors: unknown[] = [];
  let url = "";
  const daemon = runDaemon(vc, { signal: stop.signal, poll: false, http: { address: "127.0.0.1:0", ...o.http }, onHttp: (u) => (url = u), onError: (err) => errors.push(err) });
  daemon.catch(() => {});
  for (let i = 0; i < 400 && !url; i++) await Bun.sleep(25);
  if (!url) {
    stop.abort();
    await daemon;
    await vc.close();
    throw new Error(`the daemon did not serve HTTP: ${errors.map(String).join("; ")}`);
  }
  return {
    vc,
    url,
    port: Number(new URL(url).port),
    tool,
    bin,
    pending,
    errors,
    async stop() {
      stop.abort();
      await daemon;
      await vc.close();
    },
  };
}
