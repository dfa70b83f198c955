// The bundled plugins, imported by a config as "vibe-cockpit/plugins".
export { sysprobe } from "./sysprobe/index.ts";
export { beads, type BeadsOptions } from "./beads/index.ts";
export { afsc, type AfscOptions } from "./afsc/index.ts";
export { cloudBenchmarker, type CloudBenchmarkerOptions } from "./cloud_benchmarker/index.ts";
export { sysmoni, type SysmoniOptions } from "./sysmoni/index.ts";
export { ru, type RuOptions } from "./ru/index.ts";
export { rch, DEFAULT_METRICS_URL, TRACKED_METRICS, type RchOptions } from "./rch/index.ts";
export { pt, type PtOptions } from "./pt/index.ts";
