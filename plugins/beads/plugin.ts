// What beads adds beyond its collector: the beads view (each repo's newest triage) and a repo's
// open beads as events.
import { definePlugin } from "vibe-cockpit";
import { beadsEvents } from "./events.ts";
import { beadsScreen } from "./screen.ts";
import { beadsView } from "./view.ts";
import { beadsIntents } from "./intents.ts";

export { beadsView, type BeadsData, type BeadsTriage } from "./view.ts";
export const beadsPlugin = definePlugin({
  name: "beads",
  views: [beadsView],
  events: [beadsEvents],
  screens: [beadsScreen],
  apiRoutes: [{ path: "/api/beads/:repo/triage", view: "beads" }],
  intents: beadsIntents,
});
