// The bundled plugins, imported by a config as "vibe-cockpit/plugins".
export { sysprobe } from "./sysprobe/index.ts";
export { beads, type BeadsOptions } from "./beads/index.ts";
export { afsc, type AfscOptions } from "./afsc/index.ts";
export { cloudBenchmarker, type CloudBenchmarkerOptions } from "./cloud_benchmarker/index.ts";
