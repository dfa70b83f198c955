// What `vc doctor` says of push ingest: on a hub, the NATS connection, the stream and its limits,
// the consumer's lag and each pushed machine's last batch; on a node, whether its server takes it.
import type { Cockpit, DoctorCheck } from "../cockpit.ts";
import { PUSHED } from "../collect/scheduler.ts";
import { errorMessage } from "../errors.ts";
import { sql } from "../store/sql.ts";
import type { Ingest } from "./hub.ts";
import { streamOf } from "./names.ts";
import { connectNats, managerOf } from "./nats.ts";

export async function ingestChecks(vc: Pick<Cockpit, "config" | "store" | "clock">, running: Ingest | undefined): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const { config } = vc;
  if (config.ingest) {
    const s = running ? await running.status() : null;
    if (!s) checks.push({ check: "ingest", ok: true, warning: true, detail: "push ingest is configured; `vc up` consumes it (no daemon holds this store now)" });
    else {
      checks.push({ check: "nats", ok: s.connected, detail: s.connected ? `connected to ${s.server}` : `not connected${s.error ? `: ${s.error}` : ""}` });
      if (s.stream)
        checks.push({
          check: "nats stream",
          ok: true,
          detail: `${s.stream.name}: ${s.stream.messages} message(s), ${s.stream.bytes} bytes; keeps ${s.stream.max_age_hours} h, at most ${s.stream.max_bytes} bytes`,
        });
      if (s.consumer)
        checks.push({
          check: "nats consumer",
          ok: true,
          warning: s.consumer.pending > 1000,
          detail: `${s.consumer.durable}: ${s.consumer.pending} batch(es) behind, ${s.consumer.ack_pending} being committed, ${s.consumer.redelivered} redelivered`,
        });
    }
    const last = new Map(
      (
        await vc.store.query<{ machine_id: string; at: string; n: number }>(
          sql`SELECT machine_id, max(committed_at)::VARCHAR AS at, count(*)::INTEGER AS n FROM ingest_batches GROUP BY machine_id`,
        )
      ).map((r) => [r.machine_id, r]),
    );
    for (const m of config.machines.filter((x) => x.ssh === PUSHED)) {
      const l = last.get(m.id);
      checks.push({
        check: `machine ${m.id}`,
        ok: l !== undefined,
        detail: l ? `pushed: last batch committed ${l.at.replace(" ", "T")}Z (${l.n} so far)` : "pushed: no batch from its vc node yet",
      });
    }
    const [parked] = await vc.store.query<{ n: number }>("SELECT count(*)::INTEGER AS n FROM ingest_parked");
    if (parked && parked.n > 0)
      checks.push({
        check: "parked batches",
        ok: true,
        warning: true,
        detail: `${parked.n} batch(es) parked (vc query "SELECT parked_at, machine_id, collector, reason FROM ingest_parked")`,
      });
  }
  if (config.node) {
    try {
      const nc = await connectNats(config.node.nats, { name: "vc doctor" });
      try {
        const info = await (await managerOf(nc)).streams.info(streamOf(config.node.nats).name).catch(() => null);
        checks.push({
          check: "node: nats",
          ok: true,
          detail: `connected to ${nc.getServer()} (max message ${nc.info?.max_payload} bytes); stream ${info ? `${info.config.name} holds ${info.state.messages} message(s)` : "not created yet (a hub creates it)"}`,
        });
      } finally {
        await nc.close();
      }
    } catch (err) {
      checks.push({ check: "node: nats", ok: false, detail: errorMessage(err) });
    }
  }
  return checks;
}
