// `vc tui` on its own (the same command cli/index.ts runs), for the tmux tests.
import { runMain } from "citty";
import tui from "../../cli/commands/tui.ts";

await runMain(tui);
