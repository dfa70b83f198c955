/**
 * Schema and mapper for `rano export --format jsonl` lines (test/fixtures/rano): keys in
 * alphabetical order, NULL columns omitted (duration_ms only on close, ancestry_path only when
 * rano recorded it, domain when resolved), `ts` RFC 3339 to the second with `Z`,
 * run_id `<pid>-<epoch ms>`.
 */
import { createHash } from "node:crypto";
import * as v from "valibot";

const optStr = v.optional(v.nullable(v.string()));
const optInt = v.optional(v.nullable(v.pipe(v.number(), v.integer())));

export const RanoEventSchema = v.looseObject({
  ts: v.string(),
  event: v.string(),
  provider: optStr,
  run_id: optStr,
  pid: optInt,
  comm: optStr,
  cmdline: optStr,
  proto: optStr,
  local_ip: optStr,
  local_port: optInt,
  remote_ip: optStr,
  remote_port: optInt,
  domain: optStr,
  ancestry_path: optStr,
  duration_ms: optInt,
});
export type RanoEvent = v.InferOutput<typeof RanoEventSchema>;

/**
 * The key of one event: sha256 of what identifies it — time, run, kind, process and both ends of
 * the socket. Fields rano may add later, or fill in later (domain), do not change it, so the
 * events at the cursor's second that the next window returns again are recognised.
 */
export function eventKey(e: RanoEvent): string {
  const parts = [e.ts, e.run_id, e.event, e.pid, e.proto, e.local_ip, e.local_port, e.remote_ip, e.remote_port].map((x) => (x === null || x === undefined ? "" : String(x)));
  return createHash("sha256").update(parts.join("|")).digest("hex").slice(0, 32);
}

/** One rano_events row (null, with the reason, when its time cannot be read). */
export function toRow(e: RanoEvent): { row?: Record<string, unknown>; tsMs?: number; error?: string } {
  const ts = Date.parse(e.ts);
  if (!Number.isFinite(ts)) return { error: `ts ${JSON.stringify(e.ts)} is not a time` };
  return {
    tsMs: ts,
    row: {
      event_key: eventKey(e),
      ts,
      run_id: e.run_id ?? null,
      event: e.event,
      provider: e.provider ?? null,
      pid: e.pid ?? null,
      comm: e.comm ?? null,
      cmdline: e.cmdline ?? null,
      proto: e.proto ?? null,
      local_ip: e.local_ip ?? null,
      local_port: e.local_port ?? null,
      remote_ip: e.remote_ip ?? null,
      remote_port: e.remote_port ?? null,
      domain: e.domain ?? null,
      ancestry_path: e.ancestry_path ?? null,
      duration_ms: e.duration_ms ?? null,
      raw_json: e,
    },
  };
}

/** An instant as rano compares it (text, to the second, `Z`): `2026-08-20T15:00:04Z`. */
export function ranoTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
