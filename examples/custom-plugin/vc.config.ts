// Declaring a custom plugin: import it like any module and list it with the bundled ones.
//   bun vc collect --once --config examples/custom-plugin/vc.config.ts
//   bun vc query --config examples/custom-plugin/vc.config.ts "select * from uptime_samples"
import { defineConfig } from "vibe-cockpit";
import { sysprobe } from "vibe-cockpit/plugins";
import { uptime } from "./uptime.ts";

export default defineConfig({
  machines: [{ id: "local", ssh: "local" }],
  collectors: [sysprobe(), uptime()],
});
