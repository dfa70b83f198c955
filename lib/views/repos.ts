import { reposView } from "../robot/repos.ts";
import { defineView } from "./define.ts";

/** `vc robot repos`: per machine, its repos and their state. */
export default defineView({
  name: "repos",
  summary: "Per machine: repos with dirty, ahead/behind, last commit and ready beads",
  args: {},
  run: (vc) => reposView(vc.store, vc.clock.now().toISOString()),
});
