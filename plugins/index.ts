// The bundled plugins, imported by a config as "vibe-cockpit/plugins".
export { sysprobe } from "./sysprobe/index.ts";
