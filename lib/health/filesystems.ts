// Which mounts are disks. df lists memory, kernel and image filesystems beside the real ones
// (tmpfs on /dev/shm, cgroup under /sys/fs/cgroup, squashfs snaps); their fullness says nothing
// about whether a machine runs out of disk, so disk views, factors and the fleet table leave them
// out. One definition, in TypeScript and as a SQL predicate, so every reader agrees.
import { quoteIdentifier, sql, type SqlQuery } from "../store/sql.ts";

/** Filesystem types that live in memory or the kernel, or are read-only images: never a disk. */
export const PSEUDO_FS_TYPES: ReadonlySet<string> = new Set([
  "tmpfs",
  "devtmpfs",
  "devfs",
  "cgroup",
  "cgroup2",
  "proc",
  "sysfs",
  "overlay",
  "squashfs",
  "ramfs",
  "nsfs",
  "devpts",
  "securityfs",
  "pstore",
  "bpf",
  "tracefs",
  "debugfs",
  "mqueue",
  "hugetlbfs",
  "fusectl",
  "configfs",
  "autofs",
  "efivarfs",
  "binfmt_misc",
  "rpc_pipefs",
]);

/** Mount trees of the kernel and the runtime: a mount at or under one is not a disk (but see below). */
export const PSEUDO_MOUNT_ROOTS: readonly string[] = ["/proc", "/sys", "/dev", "/run", "/snap"];

/** Under /run a block device can be a real disk (udisks mounts USB drives at /run/media/<user>/…). */
const DISKS_ALLOWED_UNDER = "/run";

/** A filesystem row as df and /proc/mounts describe it (fs_type is null where /proc/mounts said nothing). */
export interface FilesystemRow {
  mount: string;
  fs_type?: string | null;
  /** df's first column: a device (/dev/vda1), a pool (tank/home), a share (host:/export) or a name (tmpfs). */
  filesystem?: string | null;
}

const under = (mount: string, root: string) => mount === root || mount.startsWith(`${root}/`);

/**
 * True for a mount that is not a disk: a pseudo type (by fs_type, else by df's filesystem name)
 * or a mount under /proc, /sys, /dev, /run or /snap — except a block device under /run. The root
 * is always a disk, even an overlay inside a container: it is all the disk the machine has.
 * @example isPseudoFilesystem({ mount: "/dev/shm", fs_type: "tmpfs" }) // true
 */
export function isPseudoFilesystem(fs: FilesystemRow): boolean {
  if (fs.mount === "/") return false;
  const kind = (fs.fs_type ?? fs.filesystem ?? "").toLowerCase();
  if (PSEUDO_FS_TYPES.has(kind)) return true;
  if (under(fs.mount, DISKS_ALLOWED_UNDER)) return !(fs.filesystem ?? "").startsWith("/dev/");
  return PSEUDO_MOUNT_ROOTS.some((root) => under(fs.mount, root));
}

/**
 * The SQL predicate for a real disk (the negation of `isPseudoFilesystem`) over a filesystems
 * table, its columns qualified by `alias` when given.
 * @example sql`SELECT mount, used_pct FROM filesystems f WHERE f.machine_id = ${id} AND ${realFilesystemSql("f")}`
 */
export function realFilesystemSql(alias?: string): SqlQuery {
  const col = (name: string) => sql.raw(alias ? `${quoteIdentifier(alias)}.${name}` : name);
  const [mount, fsType, filesystem] = [col("mount"), col("fs_type"), col("filesystem")];
  const underSql = (root: string) => sql`(${mount} = ${root} OR starts_with(${mount}, ${`${root}/`}))`;
  const types = sql.join([...PSEUDO_FS_TYPES].map((t) => sql`${t}`));
  const roots = PSEUDO_MOUNT_ROOTS.filter((r) => r !== DISKS_ALLOWED_UNDER).map(underSql);
  return sql`(${mount} = '/' OR (
    lower(coalesce(${fsType}, ${filesystem}, '')) NOT IN (${types})
    AND NOT (${sql.join(roots, " OR ")})
    AND NOT (${underSql(DISKS_ALLOWED_UNDER)} AND NOT starts_with(coalesce(${filesystem}, ''), '/dev/'))))`;
}
