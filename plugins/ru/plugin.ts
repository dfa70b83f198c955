// What ru adds beyond its collector: the repos view.
import { definePlugin } from "vibe-cockpit";
import { reposDiff } from "./diff.ts";
import { ruEvents } from "./events.ts";
import { reposScreen } from "./screen.ts";
import { reposViewDef } from "./view.ts";
import { ruIntents } from "./intents.ts";

export { reposView, type MachineRepos, type RepoLine, type ReposData } from "./view.ts";
export const ruPlugin = definePlugin({ name: "ru", views: [reposViewDef], events: [ruEvents], screens: [reposScreen], diffs: [reposDiff], intents: ruIntents });
