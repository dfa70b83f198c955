// The guardian's disk-space recovery (plan §6.3, §8.4 "disk space critical"): a real filesystem
// over 90 % used, read as the disk_low rule reads it. The tools' caches under the collecting user's
// HOME that live on that filesystem are measured with du; each large one is emptied by its own
// tool's command — never an rm of a path — and the rest is advice. Deletions cannot be undone: no
// rollback. Escalates at once over 95 %, else after two failed runs.
import {
  commandStep,
  defineProtocol,
  oneLine,
  parseJson,
  showArgv,
  sql,
  suggestStep,
  type Facts,
  type GuardianTarget,
  type Protocol,
  type ProtocolContext,
  type Step,
  type StepContext,
} from "vibe-cockpit";
import { filesystemsLatest } from "../rules/system.ts";

/** A filesystem more used than this triggers the protocol (df's capacity, in percent). */
export const DISK_TRIGGER_USED_PCT = 90;
/** The run worked when the filesystem is below this after a fresh df. */
export const DISK_TARGET_USED_PCT = 80;
/** Over this, a failed run calls a person at once. */
export const DISK_IMMEDIATE_USED_PCT = 95;

/** A tool's cache under HOME and the tool's own command that empties it (null: no stable one, advice only). */
export interface KnownCache {
  readonly tool: string;
  /** Relative to HOME (the tool's default location). */
  readonly path: string;
  readonly clean: readonly string[] | null;
  /** For a cache without a clean command: what a person may do. */
  readonly advice?: string;
}

/** The caches the protocol measures, and how each tool empties its own. */
export const KNOWN_CACHES: readonly KnownCache[] = [
  { tool: "npm", path: ".npm/_cacache", clean: ["npm", "cache", "clean", "--force"] },
  { tool: "bun", path: ".bun/install/cache", clean: ["bun", "pm", "cache", "rm"] },
  { tool: "uv", path: ".cache/uv", clean: ["uv", "cache", "clean"] },
  { tool: "pip", path: ".cache/pip", clean: ["pip", "cache", "purge"] },
  { tool: "go", path: ".cache/go-build", clean: ["go", "clean", "-cache"] },
  { tool: "yarn", path: ".cache/yarn", clean: ["yarn", "cache", "clean"] },
  { tool: "pnpm", path: ".local/share/pnpm/store", clean: ["pnpm", "store", "prune"] },
  {
    tool: "cargo",
    path: ".cargo/registry/cache",
    clean: null,
    advice: "cargo has no stable command that empties it; the cargo-cache subcommand does (cargo cache --autoclean) where it is installed",
  },
];

export interface DiskSpaceOptions {
  /** A cache is emptied only from this size on (default 256 MiB): a small one frees nothing worth a rebuild. */
  largeCacheMb?: number;
}

/** One cache of the target's filesystem, as planned (trigger) and as measured (diagnosis). */
export interface CachePath {
  tool: string;
  path: string;
}
export interface CacheSize extends CachePath {
  kb: number;
}

interface FsRow {
  machine_id: string;
  mount: string;
  filesystem: string | null;
  fs_type: string | null;
  collected_at: string;
  used_pct: number;
  avail_gb: number;
  size_gb: number;
}

// HOME as a plain absolute path: spliced into du's argv, so nothing a shell or the gate's wildcards would balk at.
const PLAIN_PATH = /^\/[A-Za-z0-9_@%+=:,./-]*$/;
const plainHome = (home: unknown): string | null => (typeof home === "string" && PLAIN_PATH.test(home) && !home.split("/").includes("..") ? home.replace(/\/+$/, "") || "/" : null);

const num = (x: unknown): number | null => (typeof x === "number" && Number.isFinite(x) ? x : typeof x === "bigint" ? Number(x) : null);

/** The mount a path lives on: the longest mount point that holds it. */
export function mountOf(path: string, mounts: readonly string[]): string | null {
  let best: string | null = null;
  for (const m of mounts) {
    const holds = m === "/" || path === m || path.startsWith(`${m}/`);
    if (holds && (best === null || m.length > best.length)) best = m;
  }
  return best;
}

/**
 * The known caches under `home` that live on `mount` (by the machine's df mounts); only those in
 * `present` (sysprobe's list of the ones that exist, relative to HOME) when it is known.
 */
export function cachesOn(home: string, mount: string, mounts: readonly string[], present: readonly string[] | null = null): CachePath[] {
  const base = home === "/" ? "" : home;
  return KNOWN_CACHES.filter((c) => present === null || present.includes(c.path))
    .map((c) => ({ tool: c.tool, path: `${base}/${c.path}` }))
    .filter((c) => mountOf(c.path, mounts) === mount);
}

/** `du -sk` lines (`<KiB>\t<path>`) for the planned caches; a cache du did not print is absent. */
export function parseDuSizes(stdout: string, planned: readonly CachePath[]): CacheSize[] {
  const byPath = new Map(planned.map((c) => [c.path, c.tool]));
  const out: CacheSize[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^(\d+)\t(.+)$/.exec(line);
    const tool = m ? byPath.get(m[2]!) : undefined;
    if (m && tool !== undefined) out.push({ tool, path: m[2]!, kb: Number(m[1]) });
  }
  return out;
}

/** KiB as a person reads it. */
export function kbText(kb: number): string {
  if (kb >= 1024 * 1024) return `${(kb / 1024 / 1024).toFixed(1)} GiB`;
  if (kb >= 1024) return `${Math.round(kb / 1024)} MiB`;
  return `${kb} KiB`;
}

const plannedCaches = (facts: Facts): CachePath[] => (Array.isArray(facts.caches) ? (facts.caches as CachePath[]) : []);
const measured = (facts: Facts): CacheSize[] | null => (Array.isArray(facts.cache_sizes) ? (facts.cache_sizes as CacheSize[]) : null);

async function findFullFilesystems(ctx: ProtocolContext): Promise<GuardianTarget[]> {
  const at = ctx.at.toISOString();
  const full = await ctx.store.query<FsRow>(
    sql`SELECT machine_id, mount, filesystem, fs_type, collected_at, used_pct, avail_gb, size_gb FROM (${filesystemsLatest.sql(at)}) AS f
        WHERE used_pct > ${DISK_TRIGGER_USED_PCT} ORDER BY machine_id, mount`,
  );
  if (full.length === 0) return [];
  const machines = [...new Set(full.map((f) => f.machine_id))];
  const inMachines = sql.join(machines.map((m) => sql`${m}`));
  // Each machine's HOME and the caches it holds as its sysprobe last printed them (within a day), and every mount of the df that triggered.
  const homes = new Map<string, { home: unknown; caches: string[] | null }>();
  for (const r of await ctx.store.query<{ machine_id: string; home: string; caches: unknown }>(
    sql`SELECT machine_id, arg_max(json_extract_string(raw_json, '$.home'), collected_at) AS home, arg_max(json_extract(raw_json, '$.caches'), collected_at) AS caches
        FROM sys_samples
        WHERE source = 'sysprobe' AND machine_id IN (${inMachines}) AND json_extract_string(raw_json, '$.home') IS NOT NULL
          AND collected_at <= ${at}::TIMESTAMP AND collected_at > ${new Date(ctx.at.getTime() - 86_400_000).toISOString()}::TIMESTAMP
        GROUP BY machine_id`,
  )) {
    const listed = parseJson(r.caches);
    homes.set(r.machine_id, { home: r.home, caches: Array.isArray(listed) ? listed.filter((x): x is string => typeof x === "string") : null });
  }
  const mounts = new Map<string, string[]>();
  for (const r of await ctx.store.query<{ machine_id: string; collected_at: string; mount: string }>(
    sql`SELECT machine_id, collected_at, mount FROM filesystems WHERE ${sql.join(
      full.map((f) => sql`(machine_id = ${f.machine_id} AND collected_at = ${f.collected_at}::TIMESTAMP)`),
      " OR ",
    )}`,
  )) {
    const k = `${r.machine_id}\u0000${r.collected_at}`;
    mounts.set(k, [...(mounts.get(k) ?? []), r.mount]);
  }
  return full.map((f) => {
    const seen = homes.get(f.machine_id);
    const home = plainHome(seen?.home);
    const caches = home ? cachesOn(home, f.mount, mounts.get(`${f.machine_id}\u0000${f.collected_at}`) ?? [f.mount], seen?.caches ?? null) : [];
    const facts: Facts = {
      mount: f.mount,
      filesystem: f.filesystem,
      fs_type: f.fs_type,
      used_pct: num(f.used_pct),
      avail_gb: num(f.avail_gb),
      size_gb: num(f.size_gb),
      collected_at: f.collected_at,
      home,
      // The known caches that exist on this filesystem (all known ones on it when sysprobe did not list them).
      caches,
      caches_listed: Array.isArray(seen?.caches),
    };
    if (!home) facts.home_note = seen ? "its HOME is not a plain absolute path: its caches are not measured" : "no HOME recorded by sysprobe: its caches are not measured";
    return { key: `${f.machine_id}:${f.mount}`, machine: f.machine_id, title: `${oneLine(f.mount)} on ${f.machine_id} is ${num(f.used_pct)} % full`, facts };
  });
}

/** Why a cache's clean step is skipped at run time, or null to run it. */
function cleanReason(ctx: StepContext, tool: string, largeKb: number): string | null {
  const sizes = measured(ctx.facts);
  if (!sizes) return "the caches were not measured";
  const size = sizes.find((s) => s.tool === tool);
  const planned = plannedCaches(ctx.target.facts).find((c) => c.tool === tool);
  if (!size) return `no ${tool} cache at ${planned?.path ?? "its default path"}`;
  if (size.kb < largeKb) return `the ${tool} cache holds only ${kbText(size.kb)} (less than ${kbText(largeKb)})`;
  return null;
}

const where = (ctx: StepContext) => `${oneLine(String(ctx.target.facts.mount ?? "the filesystem"))} on ${ctx.target.machine}`;

/**
 * The disk-space protocol, with its own size limit for "a large cache".
 * @example plugins: [definePlugin({ name: "disks", protocols: [diskSpaceRecoveryProtocol({ largeCacheMb: 1024 })] })]
 */
export function diskSpaceRecoveryProtocol(options: DiskSpaceOptions = {}): Protocol {
  const largeKb = Math.round((options.largeCacheMb ?? 256) * 1024);
  const cleanSteps = KNOWN_CACHES.flatMap((c): Step[] =>
    c.clean
      ? [
          commandStep(`clean_${c.tool}_cache`, {
            writes: true,
            timeoutMs: 300_000,
            command: (ctx) => (plannedCaches(ctx.target.facts).some((p) => p.tool === c.tool) ? { argv: [...c.clean!] } : null),
            when: (ctx) => cleanReason(ctx, c.tool, largeKb),
          }),
        ]
      : [
          // Advice is written when the run is planned: from the caches sysprobe saw (du's sizes when known).
          suggestStep(`${c.tool}_cache`, (ctx) => {
            const planned = plannedCaches(ctx.target.facts).find((p) => p.tool === c.tool);
            const size = measured(ctx.facts)?.find((s) => s.tool === c.tool);
            if (!planned || (size && size.kb < largeKb)) return null;
            return `${planned.path} on ${ctx.target.machine}${size ? ` holds ${kbText(size.kb)}` : ""}: ${c.advice}`;
          }),
        ],
  );
  return defineProtocol({
    name: "disk_space_recovery",
    summary: "A filesystem over 90 % used: empty the large tool caches on it with each tool's own command, then advise",
    trigger: { describe: `a real filesystem more than ${DISK_TRIGGER_USED_PCT} % used (the newest df within 15 min)`, find: findFullFilesystems },
    diagnosis: [
      commandStep("measure_caches", {
        writes: false,
        timeoutMs: 120_000,
        // du exits 1 when a folder went away meanwhile; what it measured still counts.
        okExitCodes: [0, 1],
        // -x: what lies on another filesystem under a cache frees nothing here.
        command: (ctx) => {
          const paths = plannedCaches(ctx.target.facts).map((c) => c.path);
          return paths.length > 0 ? { argv: ["du", "-skx", ...paths] } : null;
        },
        parse: (stdout, ctx) => {
          const sizes = parseDuSizes(stdout, plannedCaches(ctx.target.facts));
          return { cache_sizes: sizes, caches_kb: sizes.reduce((s, c) => s + c.kb, 0) };
        },
      }),
    ],
    treatment: [
      ...cleanSteps,
      suggestStep("rotate_logs", (ctx) => `On ${ctx.target.machine}: rotate and compress old logs (the systemd journal: journalctl --vacuum-size=500M; logrotate for the rest)`),
      suggestStep("compress_sessions", (ctx) => `On ${ctx.target.machine}: compress or move old agent session transcripts off ${where(ctx)}`),
      suggestStep(
        "find_large_dirs",
        (ctx) => `On ${ctx.target.machine}: see what else fills it: ${showArgv(["du", "-xh", "--max-depth=2", oneLine(String(ctx.target.facts.mount ?? "/"))])}`,
      ),
      suggestStep("pause_low_priority_agents", (ctx) => `If ${where(ctx)} keeps filling: pause its low-priority agents until it is below ${DISK_TARGET_USED_PCT} %`),
    ],
    verification: {
      describe: `disk below ${DISK_TARGET_USED_PCT} %`,
      withinSeconds: 600,
      everySeconds: 60,
      async check(ctx) {
        const at = ctx.at.toISOString();
        const [row] = await ctx.store.query<FsRow>(
          sql`SELECT used_pct FROM (${filesystemsLatest.sql(at)}) AS f WHERE machine_id = ${ctx.target.machine} AND mount = ${String(ctx.target.facts.mount)}`,
        );
        if (!row) return { ok: false, detail: `no df of ${where(ctx)} within 15 min` };
        const used = num(row.used_pct);
        const ok = used !== null && used < DISK_TARGET_USED_PCT;
        return { ok, detail: `${where(ctx)} is ${used} % full (was ${num(ctx.target.facts.used_pct)} %; the aim: below ${DISK_TARGET_USED_PCT} %)` };
      },
    },
    escalation: {
      describe: `at once over ${DISK_IMMEDIATE_USED_PCT} %, else after 2 failed runs`,
      afterFailures: 2,
      immediate: (ctx) => {
        const used = num(ctx.target.facts.used_pct);
        return used !== null && used > DISK_IMMEDIATE_USED_PCT ? `${where(ctx)} is ${used} % full (over ${DISK_IMMEDIATE_USED_PCT} %)` : null;
      },
    },
  });
}

/** Disk-space recovery with the default limits (sysprobe's plugin contributes it). */
export const diskSpaceRecovery = diskSpaceRecoveryProtocol();
