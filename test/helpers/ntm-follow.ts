// A fake ntm whose state the test changes (test/plugins/ntm-follow.test.ts, bench attention): its
// attention wait blocks until ntm's cursor passes the one it was given, as ntm's does; the rest
// prints ntm's own outputs (test/fixtures/ntm). Shared with an SSH user: files readable, the call
// log writable by all.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const FX = join(import.meta.dir, "../fixtures/ntm");
const SNAPSHOT = JSON.parse(readFileSync(join(FX, "robot-snapshot.json"), "utf8"));

/**
 * A fake ntm over state files: `cursor` (ntm's latest cursor) and `snapshot.json`. Its attention
 * wait from a cursor blocks until `cursor` passes it (or its timeout), as ntm's does; the rest
 * prints ntm's own outputs.
 */
export function writeFollowNtm(d: string): { setState(cursor: number, states: Record<string, string>): void; calls(): string[] } {
  mkdirSync(d, { recursive: true });
  const f = (n: string) => join(d, n);
  writeFileSync(
    f("ntm"),
    `#!/bin/sh
printf '%s\\n' "$*" >> '${f("calls")}'
case "$*" in
  --robot-snapshot*) cat '${f("snapshot.json")}' ;;
  "--robot-attention --attention-cursor=0 "*) cat '${join(FX, "robot-attention.json")}' ;;
  --robot-attention*)
    from=$(printf '%s' "$*" | sed -n 's/.*--attention-cursor=\\([0-9]*\\).*/\\1/p')
    secs=$(printf '%s' "$*" | sed -n 's/.*--attention-timeout=\\([0-9]*\\)s.*/\\1/p')
    n=0
    while [ "$n" -lt $(( \${secs:-30} * 20 )) ]; do
      cur=$(cat '${f("cursor")}')
      if [ "$cur" -gt "$from" ]; then
        printf '{"success":true,"wake_reason":"attention","matched_condition":"attention","digest":{"items":[]},"cursor_info":{"start_cursor":%s,"end_cursor":%s}}\\n' "$from" "$cur"
        exit 0
      fi
      sleep 0.05; n=$((n + 1))
    done
    printf '{"success":true,"wake_reason":"timeout","digest":{"items":[]},"cursor_info":{"start_cursor":%s,"end_cursor":%s}}\\n' "$from" "$from" ;;
  --robot-events*) printf '{"success":true,"timestamp":"2026-08-16T12:02:00Z","events":[],"next_cursor":%s,"has_more":false}\\n' "$(cat '${f("cursor")}')" ;;
  *) echo "Error: unknown flag: $1" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(f("ntm"), 0o755);
  chmodSync(d, 0o755);
  writeFileSync(f("calls"), "");
  chmodSync(f("calls"), 0o666);
  const setState = (cursor: number, states: Record<string, string>) => {
    const snap = structuredClone(SNAPSHOT);
    snap.latest_cursor = cursor;
    for (const s of snap.sessions) for (const a of s.agents) a.state = states[`${s.name}:${a.pane}`] ?? a.state;
    writeFileSync(f("snapshot.json"), JSON.stringify(snap), { mode: 0o644 });
    writeFileSync(f("cursor"), String(cursor), { mode: 0o644 }); // after the snapshot: a wake finds the new state
  };
  setState(117, {});
  return { setState, calls: () => readFileSync(f("calls"), "utf8").split("\n").filter(Boolean) };
}

/** Polls `f` until it answers truthy, or throws naming what it waited for. */
export async function until<T>(what: string, f: () => T | Promise<T>, ms = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/**
 * A vc.config.ts in `dir` for one machine ("here": `machine`'s ssh, local by default) running the
 * fake ntm of `ntmDir`, polled hourly so only the follow can be quick. Returns its path.
 */
export function writeFollowConfig(dir: string, ntmDir: string, machine: Record<string, unknown> = { ssh: "local" }): string {
  const cfg = join(dir, "vc.config.ts");
  writeFileSync(
    cfg,
    `import { defineConfig } from "vibe-cockpit";
import { ntmAttention } from "vibe-cockpit/plugins";
export default defineConfig({ db: ${JSON.stringify(join(dir, "vc.duckdb"))}, data_dir: ${JSON.stringify(join(dir, "data"))}, polling: { interval_seconds: 3600 }, machines: [${JSON.stringify({ id: "here", ...machine })}], collectors: [ntmAttention({ bin: ${JSON.stringify(join(ntmDir, "ntm"))} })] });
`,
  );
  return cfg;
}
