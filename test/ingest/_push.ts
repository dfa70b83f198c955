// A pushed fleet for the ingest tests: machines whose HOME has a dcg decision log (a file cursor) and
// whose PATH has a fake caam answering from caam's fixtures; `vc node` on each (in this process,
// the real local executor), hubs consuming from a real nats-server, and a direct local collection of
// the same machines to compare with.
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createFixedClock,
  createLocalExecutor,
  openCockpit,
  resolveConfig,
  runNode,
  sql,
  startIngest,
  type Cockpit,
  type Ingest,
  type IngestOutcome,
  type NodeCycleReport,
  type Store,
  type VcConfigInput,
} from "../../lib/index.ts";
import { caam } from "../../plugins/caam/index.ts";
import { dcg } from "../../plugins/dcg/index.ts";
import { HUB, nodeUser, type NatsServer } from "../helpers/nats.ts";

const fixture = (p: string) => readFileSync(join(import.meta.dir, "../fixtures", p), "utf8");
export const T0 = new Date("2026-12-07T08:00:00Z");
export const VC_VERSION = "0.1.0";

/** One machine of the fleet: its HOME (dcg's log) and bin (caam). */
export function makeMachine(dir: string, id: string) {
  const home = join(dir, id, "home");
  const bin = join(dir, id, "bin");
  const log = join(home, ".local/share/dcg/decisions.jsonl");
  mkdirSync(join(home, ".config/dcg"), { recursive: true });
  mkdirSync(join(home, ".local/share/dcg"), { recursive: true });
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(home, ".config/dcg/config.toml"), `[logging]\nenabled = true\nformat = "json"\nfile = "${log}"\n`);
  writeFileSync(log, "");
  const limits = join(bin, "limits.json");
  writeFileSync(limits, fixture("caam/limits.format-json.json"));
  writeFileSync(join(bin, "status.json"), fixture("caam/status.json"));
  writeFileSync(
    join(bin, "caam"),
    `#!/bin/sh\ncase "$*" in\n  --version) echo "caam 0.9.0" ;;\n  "limits --format json") cat ${JSON.stringify(limits)} ;;\n  "status --json") cat ${JSON.stringify(join(bin, "status.json"))} ;;\n  *) exit 2 ;;\nesac\n`,
  );
  chmodSync(join(bin, "caam"), 0o755);
  let n = 0;
  return {
    id,
    home,
    env: { ...process.env, HOME: home, PATH: `${bin}:/usr/bin:/bin` } as Record<string, string>,
    /** dcg denies `count` commands (lines appended to its log, stamped `at`). */
    denies(count: number, at: Date) {
      const ts = at.toISOString().replace(/\.\d+Z$/, "Z");
      appendFileSync(
        log,
        Array.from(
          { length: count },
          () =>
            `${JSON.stringify({ timestamp: ts, decision: "deny", mode: "deny", command: `rm -rf /tmp/${id}-${n++}`, pack_id: "core.filesystem", pattern_name: "rm-rf-general", rule_id: "core.filesystem:rm-rf-general" })}\n`,
        ).join(""),
      );
    },
  };
}
export type Machine = ReturnType<typeof makeMachine>;

const executorsOf = (machines: readonly Machine[]) => (m: { id: string }) => {
  const mine = machines.find((x) => x.id === m.id)!;
  return createLocalExecutor({ machineId: m.id, env: mine.env, home: mine.home });
};

/** One cycle of `vc node` on `m` (publishing as the machine its NATS user names, or as `as`). */
export async function nodeOnce(
  dir: string,
  nats: NatsServer,
  m: Machine,
  clock: ReturnType<typeof createFixedClock>,
  o: { as?: string; password?: string; tls?: { ca_file: string }; extra?: Partial<VcConfigInput> } = {},
): Promise<NodeCycleReport> {
  const user = nodeUser(m.id);
  const config = await resolveConfig(
    {
      data_dir: join(dir, m.id, "node"),
      machines: [{ id: o.as ?? m.id, ssh: "local" }],
      collectors: [dcg(), caam()],
      node: { machine: o.as ?? m.id, nats: { servers: [nats.url], user: user.user, password: o.password ?? user.password, ...(o.tls ? { tls: o.tls } : {}) } },
      ...o.extra,
    },
    { source: `node ${m.id}`, env: {} },
  );
  const [report] = await runNode({ config, clock, once: true, vcVersion: VC_VERSION, executorFor: executorsOf([m]) });
  return report!;
}

/** A hub over a store of its own, consuming with `durable`. */
export async function startHub(
  dir: string,
  name: string,
  nats: NatsServer,
  machines: readonly string[],
  o: { durable?: string; tls?: { ca_file: string }; windowMs?: number } = {},
) {
  const config = await resolveConfig(
    {
      db: join(dir, name, "vc.duckdb"),
      data_dir: join(dir, name),
      machines: machines.map((id) => ({ id, ssh: "push" })),
      collectors: [dcg(), caam()],
      ingest: {
        nats: { servers: [nats.url], user: HUB.user, password: HUB.password, ...(o.tls ? { tls: o.tls } : {}) },
        durable: o.durable ?? name,
        ...(o.windowMs === undefined ? {} : { window_ms: o.windowMs }),
      },
    },
    { source: `hub ${name}`, env: {} },
  );
  const vc = await openCockpit({ config, clock: createFixedClock(T0) });
  const outcomes: IngestOutcome[] = [];
  const ingest: Ingest = await startIngest(vc, { onOutcome: (x) => outcomes.push(x), ackWaitSeconds: 2 });
  return { vc, ingest, outcomes };
}

/** A direct local collection of the same machines at the same instants, for comparison. */
export async function direct(dir: string, machines: readonly Machine[]): Promise<Cockpit> {
  const config = await resolveConfig(
    { db: join(dir, "direct", "vc.duckdb"), data_dir: join(dir, "direct"), machines: machines.map((m) => ({ id: m.id, ssh: "local" })), collectors: [dcg(), caam()] },
    { source: "direct", env: {} },
  );
  return openCockpit({ config, clock: createFixedClock(T0), executorFor: executorsOf(machines) });
}

/** The rows that matter of the pushed tables, in one order (what a hub and a direct collection must agree on). */
export async function tableRows(store: Store): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of ["dcg_events", "account_limits_snapshot", "caam_profile_limits_snapshot", "account_profile_snapshots"])
    out[t] = (await store.query(`SELECT * FROM ${t}`)).map((r) => JSON.stringify(r, (_k, x) => (typeof x === "bigint" ? x.toString() : x))).sort();
  return out;
}

/** Waits until the hub has committed `n` batch parts (or throws with what it did). */
export async function committed(hub: { vc: Cockpit; outcomes: IngestOutcome[] }, n: number, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const [{ c }] = (await hub.vc.store.query<{ c: number }>(sql`SELECT count(*)::INTEGER AS c FROM ingest_batches`)) as [{ c: number }];
    if (c >= n) return;
    if (Date.now() > until) throw new Error(`the hub committed ${c} of ${n} batch parts: ${JSON.stringify(hub.outcomes)}`);
    await Bun.sleep(50);
  }
}
