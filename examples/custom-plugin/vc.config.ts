// Declaring a custom plugin: import it like any module and list it with the bundled ones.
//   bun vc collect --once --config examples/custom-plugin/vc.config.ts
//   bun vc query --config examples/custom-plugin/vc.config.ts "select * from uptime_samples"
//   bun vc robot machine local --config examples/custom-plugin/vc.config.ts   (its "uptime" section)
import { defineConfig } from "vibe-cockpit";
import { sysprobe } from "vibe-cockpit/plugins";
import { uptimePlugin } from "./plugin.ts";

export default defineConfig({
  machines: [{ id: "local", ssh: "local" }],
  collectors: [sysprobe()],
  plugins: [uptimePlugin()],
});
