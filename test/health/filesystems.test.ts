// Pseudo filesystems (tmpfs, cgroup, proc, overlay …) are not disks: the TypeScript test and the
// SQL predicate agree on every kind of mount collectors store, and the real sysprobe collector's
// rows from the captured probe output reach the machine view, the disk factor, the fleet table
// and the sparklines without /dev/shm and /sys/fs/cgroup, with / kept.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createFixedClock, openCockpit, resolveConfig, sql, type Cockpit, type Executor, type RunResult } from "../../lib/index.ts";
import { isPseudoFilesystem, realFilesystemSql, type FilesystemRow } from "../../lib/health/filesystems.ts";
import { createFakeMachine, runOnce } from "../../lib/testkit.ts";
import type { FleetData } from "../../lib/views/fleet.ts";
import type { SeriesData } from "../../lib/views/series.ts";
import { sysprobe } from "../../plugins/index.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

// [mount, fs_type, filesystem, is a disk]: what df -P and /proc/mounts give on Linux and macOS.
const CASES: [string, string | null, string | null, boolean][] = [
  ["/", "ext4", "/dev/vda", true],
  ["/", "overlay", "overlay", true], // a container's root: all the disk it has
  ["/", null, "/dev/nvme0n1p2", true],
  ["/data", "xfs", "/dev/nvme1n1", true],
  ["/home", "btrfs", "/dev/sda2", true],
  ["/tank/home", "zfs", "tank/home", true],
  ["/mnt/nas", "nfs4", "nas:/export", true],
  ["/System/Volumes/Data", "apfs", "/dev/disk3s5", true],
  ["/boot/efi", "vfat", "/dev/sda1", true],
  ["/home/me/tmp", null, "/dev/sdb1", true], // /proc/mounts said nothing: df's device decides
  ["/run/media/me/USB", "exfat", "/dev/sdc1", true], // udisks mounts removable disks under /run
  ["/dev/shm", "tmpfs", "tmpfs", false],
  ["/sys/fs/cgroup", "tmpfs", "tmpfs", false],
  ["/sys/fs/cgroup/unified", "cgroup2", "cgroup2", false],
  ["/dev", "devtmpfs", "devtmpfs", false],
  ["/dev", "devfs", "devfs", false],
  ["/proc", "proc", "proc", false],
  ["/run", "tmpfs", "tmpfs", false],
  ["/run/user/1000", "tmpfs", "tmpfs", false],
  ["/run/lock", null, "none", false],
  ["/snap/core22/1380", "squashfs", "/dev/loop0", false],
  ["/snap/firefox/1", null, "/dev/loop1", false],
  ["/var/lib/docker/overlay2/abc/merged", "overlay", "overlay", false],
  ["/mnt/sandboxing/model_tools_env/v1/python", "tmpfs", "model_tools_unavailable", false],
  ["/mnt/scratch", null, "tmpfs", false], // no type known: df's name says tmpfs
  ["/proc/sys/fs/binfmt_misc", "binfmt_misc", "binfmt_misc", false],
  ["/sys/firmware/efi/efivars", "efivarfs", "efivarfs", false],
  ["/var/lib/nfs/rpc_pipefs", "rpc_pipefs", "sunrpc", false],
];

const probe = readFileSync(join(import.meta.dir, "../fixtures/sysprobe/probe-output.txt"), "utf8");
const T1 = new Date("2026-03-10T12:00:00.000Z");
const T2 = new Date("2026-03-10T12:02:00.000Z");
const dir = tempDir("vc-fs-");
let vc: Cockpit;

/** An executor that answers the probe script with a captured output (the collector itself is real). */
function replaying(exec: Executor, stdout: string): Executor {
  const result: RunResult = { stdout, stderr: "", exitCode: 0, durationMs: 1, truncated: false, timedOut: false, invalidUtf8: false, bytes: stdout.length };
  return { ...exec, run: async () => result };
}

beforeAll(async () => {
  const config = await resolveConfig(
    { db: join(dir, "vc.duckdb"), data_dir: dir, machines: [{ id: "probe", ssh: "local" }], collectors: [sysprobe()] },
    { source: "filesystems-test", env: {} },
  );
  vc = await openCockpit({ config, clock: createFixedClock(T2) });
  const machine = createFakeMachine({ id: "probe" });
  // Two polls: the captured output as it is, then the same machine with /dev/shm filled up (99 %).
  const filled = probe.replace(/tmpfs +24683652 +0 +24683652 +0% \/dev\/shm/, "tmpfs 24683652 24436815 246837 99% /dev/shm");
  expect(filled).not.toBe(probe);
  for (const [at, output] of [
    [T1, probe],
    [T2, filled],
  ] as const) {
    const run = await runOnce({ store: vc.store, collector: sysprobe(), machine: { ...machine, exec: replaying(machine.exec, output) }, clock: createFixedClock(at) });
    expect([run.result, run.warnings]).toEqual(["ok", []]);
  }
  machine.close();
});
afterAll(async () => vc?.close());

describe("pseudo filesystems", () => {
  it("tells disks from pseudo mounts by type, by df's name where the type is unknown, and by mount tree", () => {
    const wrong = CASES.filter(([mount, fs_type, filesystem, disk]) => isPseudoFilesystem({ mount, fs_type, filesystem }) === disk);
    expect(wrong).toEqual([]);
  });

  it("the SQL predicate keeps exactly the mounts the TypeScript test calls disks", async () => {
    const values = sql.join(CASES.map(([mount, fs_type, filesystem], i) => sql`(${i}, ${mount}, ${fs_type}::VARCHAR, ${filesystem}::VARCHAR)`));
    const kept = await vc.store.query<{ i: number }>(sql`SELECT i FROM (VALUES ${values}) f(i, mount, fs_type, filesystem) WHERE ${realFilesystemSql("f")} ORDER BY i`);
    expect(kept.map((r) => Number(r.i))).toEqual(CASES.flatMap(([, , , disk], i) => (disk ? [i] : [])));
  });

  it("the collector stored the pseudo mounts (so leaving them out is the readers' job)", async () => {
    const stored = await vc.store.query<FilesystemRow>(sql`SELECT mount, fs_type, filesystem FROM filesystems WHERE collected_at = ${T2.toISOString()}::TIMESTAMP ORDER BY mount`);
    expect(stored.map((f) => f.mount)).toEqual(["/", "/dev/shm", "/mnt/sandboxing/model_tools_env/v1/python", "/sys/fs/cgroup"]);
    expect(stored.filter((f) => !isPseudoFilesystem(f)).map((f) => f.mount)).toEqual(["/"]);
  });

  it("the machine view lists / and not /dev/shm or /sys/fs/cgroup", async () => {
    const view = await vc.view("machine", { id: "probe" });
    const data = view.data as { filesystems: { mount: string; fs_type: string; used_pct: number }[]; section_errors: unknown[] };
    expect(data.filesystems.map((f) => [f.mount, f.fs_type, f.used_pct])).toEqual([["/", "ext4", 21.74]]);
    expect(data.section_errors).toEqual([]);
  });

  it("the disk factor reads /, not the full /dev/shm", async () => {
    const health = await vc.health();
    const disk = health.machines[0]!.factors.find((f) => f.id === "disk");
    expect(disk).toMatchObject({ detail: "/ 21.7 % full", value: 21.74, severity: "ok" });
  });

  it("the fleet table and the sparklines take the fullest real disk", async () => {
    const fleet = (await vc.view("fleet")).data as FleetData;
    expect(fleet.machines.map((m) => [m.id, m.disk_mount, m.disk_pct])).toEqual([["probe", "/", 21.74]]);
    const series = (await vc.view("series", { machine: "probe", window: "10m", points: 10 })).data as SeriesData;
    expect(series.disk.filter(([, v]) => v !== null)).toEqual([
      [T1.getTime() / 1000, 21.74],
      [T2.getTime() / 1000, 21.74],
    ]);
    expect(series.latest.disk_pct).toBe(21.74);
  });
});
