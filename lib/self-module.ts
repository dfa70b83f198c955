// A user's config imports "vibe-cockpit" and "vibe-cockpit/plugins" by name, from wherever it
// lives (~/.config/vc/ has no node_modules). Bun.plugin serves those names from this package.
// The package's own entries are found the way a user's import finds them — through package.json
// "exports" — so the library imports no entry point of its own here (no circle through lib/index.ts).

/** Modules a config may import by name, registered before it is loaded. */
export type ModuleMap = Record<string, () => Promise<Record<string, unknown>>>;

/** The entry points a config may import without a node_modules beside it. */
const SELF_ENTRIES = ["vibe-cockpit", "vibe-cockpit/plugins"] as const;

let registered = false;

/** This package's entries, each resolved to its file through package.json "exports" (a missing one is left out). */
function selfEntries(): ModuleMap {
  const out: ModuleMap = {};
  for (const name of SELF_ENTRIES) {
    try {
      const file = Bun.resolveSync(name, import.meta.dir);
      out[name] = () => import(file);
    } catch {
      // not resolvable from here (a copy of lib/ without its package.json): the caller's `modules` may supply it
    }
  }
  return out;
}

/**
 * Makes `import … from "vibe-cockpit"` (and "vibe-cockpit/plugins", and any of `modules`) work in
 * a config that has no node_modules beside it. Bun plugins apply to the whole process, so this
 * runs once; later calls change nothing.
 * @example registerSelfModule(); const { default: config } = await import("/home/me/.config/vc/vc.config.ts")
 */
export function registerSelfModule(modules: ModuleMap = {}): void {
  if (registered) return;
  registered = true;
  const all: ModuleMap = { ...selfEntries(), ...modules };
  Bun.plugin({
    name: "vibe-cockpit-self",
    setup(build) {
      for (const [name, load] of Object.entries(all)) {
        build.module(name, async () => ({ exports: { ...(await load()) }, loader: "object" }));
      }
    },
  });
}
