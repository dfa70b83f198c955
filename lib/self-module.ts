// A user's config imports "vibe-cockpit" and "vibe-cockpit/plugins" by name, from wherever it
// lives (~/.config/vc/ has no node_modules). Bun.plugin serves those names from this package.
// The package's own entries are found the way a user's import finds them — through package.json
// "exports" — so the library imports no entry point of its own here (no circle through lib/index.ts).

/** Modules a config may import by name, registered before it is loaded. */
export type ModuleMap = Record<string, () => Promise<Record<string, unknown>>>;

/** The entry points a config may import without a node_modules beside it. */
const SELF_ENTRIES = ["vibe-cockpit", "vibe-cockpit/plugins", "vibe-cockpit/tui"] as const;

let registered = false;
/** Names already served (Bun's module registry is per process). */
const names = new Set<string>();

/** The file of one of this package's entries, through package.json "exports"; null when it cannot be resolved (a copy of lib/ without its package.json). */
function selfEntryFile(name: string): string | null {
  try {
    return Bun.resolveSync(name, import.meta.dir);
  } catch {
    return null;
  }
}

/** This package's entries, each resolved to its file (a missing one is left out: the caller's `modules` may supply it). */
function selfEntries(): ModuleMap {
  const out: ModuleMap = {};
  for (const name of SELF_ENTRIES) {
    const file = selfEntryFile(name);
    if (file) out[name] = () => import(file);
  }
  return out;
}

/**
 * One of this package's own entries (e.g. "vibe-cockpit/plugins"), loaded by its public name as a
 * user's import would; null when it cannot be resolved.
 */
export async function loadSelfEntry(name: (typeof SELF_ENTRIES)[number]): Promise<Record<string, unknown> | null> {
  const file = selfEntryFile(name);
  return file ? ((await import(file)) as Record<string, unknown>) : null;
}

/**
 * Makes `import … from "vibe-cockpit"` (and "vibe-cockpit/plugins", and any of `modules`) work in
 * a config that has no node_modules beside it. Bun plugins apply to the whole process: the first
 * call registers the package's entries, a later one only names not served yet.
 * @example registerSelfModule(); const { default: config } = await import("/home/me/.config/vc/vc.config.ts")
 */
export function registerSelfModule(modules: ModuleMap = {}): void {
  // The package's own entries once; a later call may add names of its own (never replace one).
  const all: ModuleMap = Object.fromEntries(Object.entries({ ...(registered ? {} : selfEntries()), ...modules }).filter(([name]) => !names.has(name)));
  registered = true;
  if (Object.keys(all).length === 0) return;
  for (const name of Object.keys(all)) names.add(name);
  Bun.plugin({
    name: "vibe-cockpit-self",
    setup(build) {
      for (const [name, load] of Object.entries(all)) {
        build.module(name, async () => ({ exports: { ...(await load()) }, loader: "object" }));
      }
    },
  });
}
